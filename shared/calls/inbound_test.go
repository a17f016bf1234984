package calls

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/spoken"
)

func inboundBody(t testing.TB, now time.Time, from, to string) []byte {
	t.Helper()
	return encode(t, map[string]any{
		"event": "call_inbound", "event_timestamp": now.UnixMilli(),
		"call_inbound": map[string]any{"agent_id": "agent_demo", "agent_version": 1, "from_number": from, "to_number": to},
	})
}

type inboundAnswer struct {
	CallInbound struct {
		DynamicVariables map[string]string `json:"dynamic_variables"`
		Metadata         map[string]string `json:"metadata"`
		OverrideAgentID  string            `json:"override_agent_id"`
	} `json:"call_inbound"`
}

func (e *env) ring(from, to string) (inboundAnswer, string) {
	e.t.Helper()
	resp := e.deliver(e.inboundHandler(), "/webhooks/retell/inbound", inboundBody(e.t, e.clock.Now(), from, to))
	wantStatus(e.t, resp, http.StatusOK, "inbound")
	var a inboundAnswer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		e.t.Fatalf("answer %s: %v", resp.Body, err)
	}
	return a, resp.Body
}

// countingFinder counts customer lookups.
type countingFinder struct {
	CustomerFinder
	n atomic.Int32
}

func (c *countingFinder) FindCustomerByPhone(ctx context.Context, tenantID, e164 string) (*booking.Customer, error) {
	c.n.Add(1)
	return c.CustomerFinder.FindCustomerByPhone(ctx, tenantID, e164)
}

func TestInboundKnownCallerWithUpcomingAppointment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cust, err := e.store.UpsertCustomerByPhone(ctx, demoTenant, callerPhone, "Erika Mustermann", "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 3, 2, 14, 30, 0, 0, berlin)
	// A past and a cancelled appointment must not be the "next" one.
	for _, a := range []booking.Appointment{
		{Start: t0.Add(-48 * time.Hour), Status: booking.StatusConfirmed, IdempotencyKey: "past"},
		{Start: start.Add(-time.Hour), Status: booking.StatusCancelled, IdempotencyKey: "cancelled"},
		{Start: start, Status: booking.StatusConfirmed, IdempotencyKey: "next"},
		{Start: start.AddDate(0, 0, 7), Status: booking.StatusConfirmed, IdempotencyKey: "later"},
	} {
		a.TenantID, a.BranchID, a.ServiceID, a.CustomerID, a.Source = demoTenant, demoBranch, "herrenhaarschnitt", &cust.ID, "phone"
		a.End = a.Start.Add(30 * time.Minute)
		if _, err := e.store.CreateAppointment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	ans, _ := e.ring(callerPhone, demoNumber)
	v := ans.CallInbound.DynamicVariables
	want := map[string]string{
		"business_name":           "Salon Sonnenschein",
		"branch_name":             "Berlin Mitte",
		"tenant_id":               demoTenant,
		"branch_id":               demoBranch,
		"time_zone":               "Europe/Berlin",
		"current_date_iso":        "2027-03-01",
		"current_date_spoken":     "Montag, 1. März 2027",
		"caller_known":            "true",
		"caller_first_name":       "Erika",
		"next_appointment_spoken": "Herrenhaarschnitt am " + spoken.SpokenDateTime(start, berlin, "de"),
		"next_appointment_iso":    "2027-03-02T14:30:00+01:00",
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %q, want %q", k, v[k], w)
		}
	}
	if !strings.Contains(v["next_appointment_spoken"], "2. März") {
		t.Errorf("next appointment not spoken as a date: %q", v["next_appointment_spoken"])
	}
	if v["current_time_spoken"] != spoken.SpokenTime(t0, berlin, "de") || !strings.Contains(v["current_time_spoken"], "neun") {
		t.Errorf("current_time_spoken = %q", v["current_time_spoken"])
	}
	if !strings.HasPrefix(v["opening_hours_spoken"], "Montag bis Freitag") || !strings.Contains(v["opening_hours_spoken"], "Sonntag geschlossen") {
		t.Errorf("opening_hours_spoken = %q", v["opening_hours_spoken"])
	}
	if md := ans.CallInbound.Metadata; md["tenant_id"] != demoTenant || md["branch_id"] != demoBranch {
		t.Errorf("metadata = %v", md)
	}
	if strings.Contains(e.logs.String(), callerPhone) || strings.Contains(e.logs.String(), "Erika") {
		t.Errorf("personal data logged:\n%s", e.logs.String())
	}
}

func TestInboundNewAndAnonymousCallers(t *testing.T) {
	e := newEnv(t)
	finder := &countingFinder{CustomerFinder: e.store}
	e.in.Customers = finder

	ans, _ := e.ring("+491701234567", demoNumber)
	v := ans.CallInbound.DynamicVariables
	if v["caller_known"] != "false" || v["caller_first_name"] != "" || v["next_appointment_spoken"] != "" || v["business_name"] != "Salon Sonnenschein" {
		t.Errorf("new caller: %v", v)
	}
	if finder.n.Load() != 1 {
		t.Errorf("new caller: %d lookups, want 1", finder.n.Load())
	}
	for _, anon := range []string{"anonymous", ""} {
		ans, _ = e.ring(anon, demoNumber)
		if v := ans.CallInbound.DynamicVariables; v["caller_known"] != "false" || v["branch_name"] != "Berlin Mitte" {
			t.Errorf("anonymous %q: %v", anon, v)
		}
	}
	if finder.n.Load() != 1 {
		t.Errorf("anonymous callers were looked up (%d lookups)", finder.n.Load())
	}
	if n := e.countRows("customers"); n != 0 {
		t.Errorf("inbound created %d customers", n)
	}
	// Prefetch: one job per branch per minute however many calls ring.
	jobs := e.queue.list(booking.JobPrefetch)
	if len(jobs) != 1 {
		t.Fatalf("%d prefetch jobs, want 1", len(jobs))
	}
	var p PrefetchJob
	if err := json.Unmarshal(jobs[0].Payload, &p); err != nil || p != (PrefetchJob{TenantID: demoTenant, BranchID: demoBranch}) {
		t.Errorf("prefetch payload %s", jobs[0].Payload)
	}
}

func TestInboundUnknownNumberAnswersTheFallback(t *testing.T) {
	e := newEnv(t)
	_, body := e.ring(callerPhone, "+4930999999")
	if body != `{"call_inbound":{}}` {
		t.Errorf("default fallback = %s", body)
	}
	e.in.Fallback = json.RawMessage(`{"call_inbound":{"override_agent_id":"agent_fallback"}}`)
	ans, _ := e.ring(callerPhone, "+4930999999")
	if ans.CallInbound.OverrideAgentID != "agent_fallback" {
		t.Errorf("configured fallback not answered")
	}
	e.in.Fallback = json.RawMessage(`not json`)
	if _, body := e.ring(callerPhone, "+4930999999"); body != `{"call_inbound":{}}` {
		t.Errorf("invalid fallback config: answered %s", body)
	}
	if n := e.metrics.get(MetricInboundFallback + "|" + platform.DimOutcome + "|" + OutcomeUnknownNumber); n != 3 {
		t.Errorf("fallback metric = %d, want 3", n)
	}
	if !strings.Contains(e.logs.String(), `"level":"WARN"`) {
		t.Errorf("no warning logged")
	}
	if len(e.queue.list(booking.JobPrefetch)) != 0 {
		t.Errorf("prefetch for an unknown number")
	}
}

func TestInboundDatabaseDownAnswersTheFallback(t *testing.T) {
	e := newEnv(t)
	dead := deadStore(t, e.clock)
	e.in.Directory, e.in.Customers, e.in.Appointments = dead, dead, dead
	_, body := e.ring(callerPhone, demoNumber)
	if body != `{"call_inbound":{}}` {
		t.Errorf("answer with the database down = %s", body)
	}
	if n := e.metrics.get(MetricInboundFallback + "|" + platform.DimOutcome + "|" + OutcomeDirectoryUnavailable); n != 1 {
		t.Errorf("fallback metric = %d", n)
	}
	if !strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("no error logged")
	}

	// Routing cached in Redis but customers unreachable: still routed, the
	// caller counts as unknown.
	e.in.Directory = e.dir
	if _, _, _, err := e.dir.ResolveNumber(context.Background(), demoNumber); err != nil {
		t.Fatal(err)
	}
	ans, _ := e.ring(callerPhone, demoNumber)
	if v := ans.CallInbound.DynamicVariables; v["business_name"] != "Salon Sonnenschein" || v["caller_known"] != "false" {
		t.Errorf("cached routing with the database down: %v", v)
	}
}

func TestInboundRedisDownFallsBackToMySQL(t *testing.T) {
	e := newEnv(t)
	dead := redis.NewClient(redis.Options{Addr: strings.TrimSuffix(strings.TrimPrefix(deadDSN(t), "root@tcp("), ")/gone")})
	defer dead.Close()
	e.in.Directory = cachedDirectory{store: e.store, cache: &redis.TenantCache{Client: dead, Keys: e.keys}}
	e.in.AllowPrefetch = PrefetchGate(&redis.Gate{Client: dead}, e.keys, PrefetchPeriod)
	ans, _ := e.ring(callerPhone, demoNumber)
	if v := ans.CallInbound.DynamicVariables; v["business_name"] != "Salon Sonnenschein" {
		t.Errorf("Redis down: %v", v)
	}
	if len(e.queue.list(booking.JobPrefetch)) != 0 {
		t.Errorf("prefetch despite a closed gate (Redis down)")
	}
}

func TestInboundBadInputAndOtherEvents(t *testing.T) {
	e := newEnv(t)
	h := e.inboundHandler()
	for name, body := range map[string][]byte{
		"not JSON":            []byte("ring ring"),
		"to_number not E.164": inboundBody(t, t0, callerPhone, "030123456"),
		"from_number garbage": inboundBody(t, t0, "call me maybe", demoNumber),
		"timestamp in s":      inboundBody(t, time.Unix(t0.Unix()/1000, 0), callerPhone, demoNumber),
		"missing call":        []byte(`{"event":"call_inbound","event_timestamp":1}`),
	} {
		wantStatus(t, e.deliver(h, "/webhooks/retell/inbound", body), http.StatusBadRequest, name)
	}
	resp := e.deliver(h, "/webhooks/retell/inbound", []byte(`{"event":"chat_inbound","chat_inbound":{}}`))
	wantStatus(t, resp, http.StatusOK, "chat_inbound")
	if resp.Body != `{}` {
		t.Errorf("chat_inbound answer %s", resp.Body)
	}
	e.in.Prefetch = false
	e.ring(callerPhone, demoNumber)
	if len(e.queue.list(booking.JobPrefetch)) != 0 {
		t.Errorf("prefetch with the flag off")
	}
}

// TestFullCallLeavesNoPlaintext runs a whole call (inbound, the three
// events, a transfer) and reads every raw table for the personal data.
func TestFullCallLeavesNoPlaintext(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.UpsertCustomerByPhone(ctx, demoTenant, callerPhone, "Erika Mustermann", "erika@example.org"); err != nil {
		t.Fatal(err)
	}
	e.ring(callerPhone, demoNumber)
	for _, b := range samples(t, sampleCallID, nil) {
		wantStatus(t, e.event(b), http.StatusNoContent, "event")
	}
	got, err := e.store.GetCall(ctx, demoTenant, sampleCallID)
	if err != nil || got.Transcript == "" || got.Summary == "" || got.FromNumber != callerPhone {
		t.Fatalf("call not stored completely: %v", err)
	}
	dump := dumpTables(t, e.db)
	for _, secret := range []string{
		callerPhone, strings.TrimPrefix(callerPhone, "+"), "15112345678", "Erika", "Mustermann", "erika@example.org",
		"Thursday the fifth", "maria.rossi@example.com", "Maria Rossi", "annual check-up",
	} {
		if strings.Contains(dump, secret) {
			t.Errorf("raw tables contain %q in plain text", secret)
		}
	}
	if !strings.Contains(dump, sampleCallID) || !strings.Contains(dump, demoNumber) {
		t.Fatalf("dump does not hold the call: the check would prove nothing")
	}
	logs := e.logs.String()
	for _, secret := range []string{callerPhone, "Erika", "Maria", "Thursday"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// flagDirectory overrides the tenant's flags.
type flagDirectory struct {
	booking.Directory
	flags map[string]bool
}

func (d flagDirectory) ResolveNumber(ctx context.Context, e164 string) (booking.PhoneNumber, booking.Tenant, booking.Branch, error) {
	n, t, b, err := d.Directory.ResolveNumber(ctx, e164)
	t.Flags = d.flags
	return n, t, b, err
}

func TestInboundTenantFlagOverridesPrefetch(t *testing.T) {
	e := newEnv(t)
	e.in.Directory = flagDirectory{Directory: e.dir, flags: map[string]bool{platform.FlagAvailabilityPrefetch: false}}
	e.ring(callerPhone, demoNumber)
	if n := len(e.queue.list(booking.JobPrefetch)); n != 0 {
		t.Errorf("tenant switched prefetch off, got %d jobs", n)
	}
	e.in.Prefetch = false
	e.in.Directory = flagDirectory{Directory: e.dir, flags: map[string]bool{platform.FlagAvailabilityPrefetch: true}}
	e.ring(callerPhone, demoNumber)
	if n := len(e.queue.list(booking.JobPrefetch)); n != 1 {
		t.Errorf("tenant switched prefetch on, got %d jobs", n)
	}
	if n := e.metrics.get(platform.MetricWebhookEvents + "|" + platform.DimEventType + "|call_inbound"); n != 2 {
		t.Errorf("inbound events counted %d, want 2", n)
	}
}
