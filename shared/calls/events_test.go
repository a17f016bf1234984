package calls

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/retell"
)

const sampleCallID = "call_0b8f4c2a6d9e41f7a3c5e2d1b7f9a604"

// comparable strips what legitimately differs between runs.
func comparable(c booking.Call) booking.Call {
	c.CustomerID = nil
	return c
}

// checkUnion asserts the row holds the union of the three sample events.
func checkUnion(t *testing.T, c booking.Call) {
	t.Helper()
	start := time.UnixMilli(1772460312345).UTC()
	end := time.UnixMilli(1772460401845).UTC()
	switch {
	case c.TenantID != demoTenant || c.BranchID != demoBranch:
		t.Errorf("tenant/branch = %s/%s", c.TenantID, c.BranchID)
	case c.Status != booking.CallAnalyzed:
		t.Errorf("status = %s, want analyzed", c.Status)
	case c.AgentID != "agent_5f2c9d1e7a3b48c6b0e4d2f1a9c8e7b3" || c.Direction != "inbound":
		t.Errorf("agent/direction = %s/%s", c.AgentID, c.Direction)
	case c.FromNumber != callerPhone || c.ToNumber != demoNumber:
		t.Errorf("numbers not stored as sent")
	case c.StartedAt == nil || !c.StartedAt.Equal(start) || c.EndedAt == nil || !c.EndedAt.Equal(end):
		t.Errorf("start/end = %v/%v", c.StartedAt, c.EndedAt)
	case c.DurationMS != 89500 || c.DisconnectionReason != "user_hangup":
		t.Errorf("duration/reason = %d/%s", c.DurationMS, c.DisconnectionReason)
	case !strings.Contains(c.Transcript, "Thursday the fifth") || !strings.HasPrefix(c.RecordingURL, "https://"):
		t.Errorf("transcript or recording missing")
	case !strings.Contains(c.Summary, "check-up") || c.Sentiment != "Positive":
		t.Errorf("summary/sentiment missing")
	case c.CallSuccessful == nil || !*c.CallSuccessful:
		t.Errorf("call_successful = %v", c.CallSuccessful)
	case !strings.Contains(string(c.CustomAnalysis), "appointment_booked"):
		t.Errorf("custom analysis = %s", c.CustomAnalysis)
	case c.DataStorageSetting != "everything":
		t.Errorf("data storage setting = %q", c.DataStorageSetting)
	case c.CustomerID == nil:
		t.Errorf("customer not linked")
	}
	// 89.5 s = 2 started minutes, inside the demo's 300 included minutes;
	// Retell: 21.62 USD cents → 22 USD cents, × 0.92 = 19.89 → 20 EUR cents.
	want := booking.CallCost{RetellUSDCents: 22, PlatformEURCents: 20, CustomerEURCents: 0, ExchangeRate: 0.92, BilledMinutes: 2}
	if c.Cost != want {
		t.Errorf("cost = %+v, want %+v", c.Cost, want)
	}
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestReplaysInEveryOrderGiveOneRowWithTheUnion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bodies := samples(t, sampleCallID, nil)
	var reference *booking.Call
	for _, perm := range permutations(3) {
		for _, pattern := range []string{"interleaved", "grouped"} {
			t.Run(fmt.Sprint(perm, pattern), func(t *testing.T) {
				if _, err := e.db.Exec("DELETE FROM calls"); err != nil {
					t.Fatal(err)
				}
				if _, err := e.db.Exec("DELETE FROM customers"); err != nil {
					t.Fatal(err)
				}
				var order []int
				for r := 0; r < 3; r++ {
					for _, i := range perm {
						order = append(order, i)
					}
				}
				if pattern == "grouped" {
					order = order[:0]
					for _, i := range perm {
						order = append(order, i, i, i)
					}
				}
				for _, i := range order {
					wantStatus(t, e.event(bodies[i]), http.StatusNoContent, "delivery")
				}
				if n := e.countRows("calls"); n != 1 {
					t.Fatalf("%d call rows, want 1", n)
				}
				if n := e.countRows("customers"); n != 1 {
					t.Fatalf("%d customers, want 1", n)
				}
				got, err := e.store.GetCall(ctx, demoTenant, sampleCallID)
				if err != nil {
					t.Fatal(err)
				}
				checkUnion(t, got)
				if reference == nil {
					reference = &got
				} else if !reflect.DeepEqual(comparable(got), comparable(*reference)) {
					t.Errorf("row differs from the first order's:\n got %+v\nwant %+v", comparable(got), comparable(*reference))
				}

				// A repeat changes nothing, not even updated_at.
				var before time.Time
				e.db.QueryRow("SELECT updated_at FROM calls").Scan(&before)
				e.clock.Advance(time.Second)
				for _, b := range bodies {
					wantStatus(t, e.event(b), http.StatusNoContent, "repeat")
				}
				var after time.Time
				e.db.QueryRow("SELECT updated_at FROM calls").Scan(&after)
				if !after.Equal(before) {
					t.Errorf("a repeat rewrote the row: updated_at %v → %v", before, after)
				}
			})
		}
	}
	if got := e.metrics.get(platform.MetricWebhookEvents + "|" + platform.DimEventType + "|call_analyzed"); got == 0 {
		t.Errorf("no WebhookEvents metric counted")
	}
}

func TestConcurrentDeliveriesGiveOneRow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bodies := samples(t, sampleCallID, nil)
	h := e.eventsHandler()
	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := bodies[i%3]
			statuses[i] = post(t, h, "/webhooks/retell/events", b, retell.Sign(b, apiKey, e.clock.Now().UnixMilli())).StatusCode
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusNoContent {
			t.Errorf("delivery %d: status %d", i, s)
		}
	}
	if n := e.countRows("calls"); n != 1 {
		t.Fatalf("%d call rows, want 1", n)
	}
	if n := e.countRows("customers"); n != 1 {
		t.Fatalf("%d customers, want 1", n)
	}
	if len(e.queue.list(booking.JobRetellEvent)) != 0 {
		t.Errorf("events were deferred although the database was up")
	}
	got, err := e.store.GetCall(ctx, demoTenant, sampleCallID)
	if err != nil {
		t.Fatal(err)
	}
	checkUnion(t, got)
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors were logged:\n%s", e.logs.String())
	}
}

func TestSignatureFailuresWriteNothing(t *testing.T) {
	e := newEnv(t)
	body := samples(t, sampleCallID, nil)[1]
	now := e.clock.Now().UnixMilli()
	tampered := []byte(strings.Replace(string(body), "user_hangup", "agent_hangup", 1))
	cases := []struct {
		name, sig string
		body      []byte
	}{
		{"missing", "", body},
		{"malformed", "v=123", body},
		{"stale", retell.Sign(body, apiKey, now-6*60*1000), body},
		{"future", retell.Sign(body, apiKey, now+6*60*1000), body},
		{"wrong key", retell.Sign(body, "another key", now), body},
		{"tampered", retell.Sign(body, apiKey, now), tampered},
	}
	for _, h := range []struct{ name, path string }{{"events", "/webhooks/retell/events"}, {"inbound", "/webhooks/retell/inbound"}} {
		handler := e.eventsHandler()
		if h.name == "inbound" {
			handler = e.inboundHandler()
		}
		for _, c := range cases {
			resp := post(t, handler, h.path, c.body, c.sig)
			wantStatus(t, resp, http.StatusUnauthorized, h.name+" "+c.name)
			if !strings.Contains(resp.Body, `"unauthorized"`) || len(resp.Body) > 200 {
				t.Errorf("%s %s: body %s", h.name, c.name, resp.Body)
			}
		}
	}
	if n := e.countRows("calls") + e.countRows("customers"); n != 0 {
		t.Errorf("%d rows written by unsigned requests", n)
	}
	if got := e.metrics.get(platform.MetricWebhookSignatureFailures); got != 2*len(cases) {
		t.Errorf("signature failures counted %d, want %d", got, 2*len(cases))
	}
	if len(e.queue.jobs) != 0 {
		t.Errorf("unsigned requests enqueued jobs")
	}

	// Enforcement off (dev only): unsigned bodies are processed.
	e.sig.Enforce = false
	wantStatus(t, post(t, e.eventsHandler(), "/webhooks/retell/events", body, ""), http.StatusNoContent, "enforcement off")
	if n := e.countRows("calls"); n != 1 {
		t.Errorf("%d rows with enforcement off, want 1", n)
	}
}

func TestBadInputIs4xxAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	good := sample(t, "call_ended")
	edit := func(f func(call map[string]any)) []byte {
		m := sample(t, "call_ended")
		f(callOf(m))
		return encode(t, m)
	}
	huge := make([]byte, retell.MaxBodyBytes+1)
	for i := range huge {
		huge[i] = ' '
	}
	copy(huge, encode(t, good))
	cases := []struct {
		name   string
		body   []byte
		status int
	}{
		{"not JSON", []byte("event=call_ended"), 400},
		{"empty", []byte(""), 400},
		{"array", []byte(`[1,2]`), 400},
		{"truncated", encode(t, good)[:200], 400},
		{"too large", huge, 413},
		{"missing call", []byte(`{"event":"call_ended"}`), 400},
		{"missing call_id", edit(func(c map[string]any) { delete(c, "call_id") }), 400},
		{"call_id wrong type", edit(func(c map[string]any) { c["call_id"] = 42 }), 400},
		{"duration wrong type", edit(func(c map[string]any) { c["duration_ms"] = "long" }), 400},
		{"seconds not ms", edit(func(c map[string]any) { c["start_timestamp"] = 1772460312 }), 400},
		{"far future", edit(func(c map[string]any) { c["end_timestamp"] = t0.AddDate(1, 0, 0).UnixMilli() }), 400},
		{"to_number not E.164", edit(func(c map[string]any) { c["to_number"] = "030 123456" }), 400},
		{"from_number not E.164", edit(func(c map[string]any) { c["from_number"] = "0151-12345678" }), 400},
		{"negative duration", edit(func(c map[string]any) { c["duration_ms"] = -5 }), 400},
	}
	for _, c := range cases {
		resp := e.event(c.body)
		wantStatus(t, resp, c.status, c.name)
		var eb struct {
			Error struct{ Kind, Message string }
		}
		if json.Unmarshal([]byte(resp.Body), &eb) != nil || eb.Error.Message == "" {
			t.Errorf("%s: no clear message: %s", c.name, resp.Body)
		}
		if strings.Contains(resp.Body, callerPhone) || strings.Contains(resp.Body, "030 123456") {
			t.Errorf("%s: the answer echoes input: %s", c.name, resp.Body)
		}
	}
	if n := e.countRows("calls") + e.countRows("customers"); n != 0 {
		t.Errorf("%d rows written by bad input", n)
	}
	if len(e.queue.jobs) != 0 {
		t.Errorf("bad input was enqueued")
	}
}

func TestIgnoredAndAcknowledgedEvents(t *testing.T) {
	e := newEnv(t)
	tu := sample(t, "call_ended")
	tu["event"] = "transcript_updated"
	wantStatus(t, e.event(encode(t, tu)), http.StatusNoContent, "transcript_updated")
	wantStatus(t, e.event([]byte(`{"event":"chat_started","chat":{"chat_id":"x"}}`)), http.StatusNoContent, "unknown event")
	wantStatus(t, e.event([]byte(`{"event":"some_future_event","call":{"call_id":12}}`)), http.StatusNoContent, "unknown event, odd call")
	// A number no tenant serves: acknowledged, nothing stored.
	foreign := sample(t, "call_ended")
	callOf(foreign)["to_number"] = "+14155550199"
	wantStatus(t, e.event(encode(t, foreign)), http.StatusNoContent, "foreign number")
	// A web call has no numbers.
	web := sample(t, "call_ended")
	c := callOf(web)
	c["call_type"] = "web_call"
	delete(c, "to_number")
	delete(c, "from_number")
	delete(c, "direction")
	wantStatus(t, e.event(encode(t, web)), http.StatusNoContent, "web call")
	if n := e.countRows("calls") + e.countRows("customers"); n != 0 {
		t.Errorf("%d rows written", n)
	}
}

func TestCustomersAnonymousAndOutbound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// Anonymous caller: a row, no customer, no from-number.
	for _, b := range samples(t, "call_anon", func(c map[string]any) { c["from_number"] = "anonymous" }) {
		wantStatus(t, e.event(b), http.StatusNoContent, "anonymous")
	}
	got, err := e.store.GetCall(ctx, demoTenant, "call_anon")
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerID != nil || got.FromNumber != "" {
		t.Errorf("anonymous call linked to a customer or stored a number")
	}
	if n := e.countRows("customers"); n != 0 {
		t.Errorf("%d customers created for an anonymous caller", n)
	}

	// A known customer is linked, not duplicated, and keeps the name.
	known, err := e.store.UpsertCustomerByPhone(ctx, demoTenant, callerPhone, "Erika Mustermann", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range samples(t, "call_known", nil) {
		wantStatus(t, e.event(b), http.StatusNoContent, "known")
	}
	got, _ = e.store.GetCall(ctx, demoTenant, "call_known")
	if got.CustomerID == nil || *got.CustomerID != known.ID {
		t.Errorf("known caller not linked: %v", got.CustomerID)
	}
	if c, _ := e.store.GetCustomer(ctx, demoTenant, known.ID); c == nil || c.Name != "Erika Mustermann" {
		t.Errorf("customer name lost")
	}

	// Outbound: the tenant comes from from_number; the customer is the
	// dialled party, whose number is not stored in plain text.
	out := samples(t, "call_out", func(c map[string]any) {
		c["direction"] = "outbound"
		c["from_number"] = demoNumber
		c["to_number"] = "+491701234567"
	})
	for _, b := range out {
		wantStatus(t, e.event(b), http.StatusNoContent, "outbound")
	}
	got, err = e.store.GetCall(ctx, demoTenant, "call_out")
	if err != nil {
		t.Fatal(err)
	}
	if got.Direction != "outbound" || got.CustomerID == nil || got.ToNumber != "" {
		t.Errorf("outbound call: direction %q, customer %v, to_number stored %v", got.Direction, got.CustomerID, got.ToNumber != "")
	}
	if c, _ := e.store.FindCustomerByPhone(ctx, demoTenant, "+491701234567"); c == nil || c.ID != *got.CustomerID {
		t.Errorf("outbound customer not created/linked")
	}
	if n := e.countRows("customers"); n != 2 {
		t.Errorf("%d customers, want 2", n)
	}
}

func TestDataStorageSettingHonoured(t *testing.T) {
	for _, setting := range []string{"everything_except_pii", "basic_attributes_only"} {
		t.Run(setting, func(t *testing.T) {
			e := newEnv(t)
			for _, b := range samples(t, "call_private", func(c map[string]any) { c["data_storage_setting"] = setting }) {
				wantStatus(t, e.event(b), http.StatusNoContent, "delivery")
			}
			got, err := e.store.GetCall(context.Background(), demoTenant, "call_private")
			if err != nil {
				t.Fatal(err)
			}
			if got.Transcript != "" || got.Summary != "" || got.RecordingURL != "" {
				t.Errorf("content stored despite %s", setting)
			}
			if got.Status != booking.CallAnalyzed || got.DurationMS != 89500 || got.DataStorageSetting != setting || got.Sentiment != "Positive" {
				t.Errorf("basic attributes missing: %+v", got)
			}
			var transcript, summary []byte
			e.db.QueryRow("SELECT transcript_enc, summary_enc FROM calls").Scan(&transcript, &summary)
			if transcript != nil || summary != nil {
				t.Errorf("ciphertexts stored despite %s", setting)
			}
		})
	}
}

func TestCallCostComputedAndRecomputedIdempotently(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bodies := samples(t, "call_priced", nil)
	start := time.UnixMilli(1772460312345)

	// call_started alone brings neither duration nor cost.
	wantStatus(t, e.event(bodies[0]), http.StatusNoContent, "started")
	got, _ := e.store.GetCall(ctx, demoTenant, "call_priced")
	if got.Cost != (booking.CallCost{}) {
		t.Errorf("cost before the call ended: %+v", got.Cost)
	}

	// Earlier calls this month used 299 of the 300 included minutes (one
	// last month does not count): of this call's 2 minutes one is charged.
	month := time.Date(2026, 3, 1, 0, 0, 0, 0, berlin)
	for i, c := range []struct {
		start time.Time
		ms    int64
	}{
		{month.Add(-time.Hour), 500 * 60_000},
		{month.Add(time.Hour), 200 * 60_000},
		{start.Add(-time.Hour), 99*60_000 - 30_000},
	} {
		st := c.start
		if _, err := e.store.UpsertCall(ctx, booking.Call{TenantID: demoTenant, CallID: fmt.Sprintf("call_earlier_%d", i),
			Status: booking.CallEnded, StartedAt: &st, DurationMS: c.ms}); err != nil {
			t.Fatal(err)
		}
	}
	wantStatus(t, e.event(bodies[1]), http.StatusNoContent, "ended")
	got, _ = e.store.GetCall(ctx, demoTenant, "call_priced")
	want := booking.CallCost{RetellUSDCents: 22, PlatformEURCents: 20, CustomerEURCents: 29, ExchangeRate: 0.92, BilledMinutes: 2}
	if got.Cost != want {
		t.Errorf("cost = %+v, want %+v", got.Cost, want)
	}

	// A later call of the same month does not change this call's price
	// when call_analyzed (and repeats) recompute it.
	later := start.Add(time.Hour)
	if _, err := e.store.UpsertCall(ctx, booking.Call{TenantID: demoTenant, CallID: "call_later",
		Status: booking.CallEnded, StartedAt: &later, DurationMS: 600_000}); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{bodies[2], bodies[1], bodies[2]} {
		wantStatus(t, e.event(b), http.StatusNoContent, "recompute")
	}
	got, _ = e.store.GetCall(ctx, demoTenant, "call_priced")
	if got.Cost != want {
		t.Errorf("recomputed cost = %+v, want %+v", got.Cost, want)
	}

	// A configured exchange rate is used.
	e.rec.USDToEUR = 0.9
	for _, b := range samples(t, "call_rate", nil) {
		wantStatus(t, e.event(b), http.StatusNoContent, "rate")
	}
	got, _ = e.store.GetCall(ctx, demoTenant, "call_rate")
	if got.Cost.PlatformEURCents != 19 || got.Cost.ExchangeRate != 0.9 {
		t.Errorf("cost with rate 0.9 = %+v, want 19 EUR cents", got.Cost)
	}
}

func TestTransfersRecorded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	transfer := func(event string, status string) []byte {
		m := sample(t, "call_started")
		m["event"] = event
		callOf(m)["call_id"] = "call_tr"
		callOf(m)["call_status"] = status
		m["transfer_destination"] = map[string]any{"type": "predefined", "number": "+4930555555"}
		return encode(t, m)
	}
	bodies := samples(t, "call_tr", nil)
	wantStatus(t, e.event(bodies[0]), http.StatusNoContent, "started")
	wantStatus(t, e.event(transfer("transfer_started", "ongoing")), http.StatusNoContent, "transfer_started")
	wantStatus(t, e.event(transfer("transfer_started", "ongoing")), http.StatusNoContent, "transfer_started again")
	wantStatus(t, e.event(transfer("transfer_bridged", "ongoing")), http.StatusNoContent, "transfer_bridged")
	wantStatus(t, e.event(bodies[1]), http.StatusNoContent, "ended")
	wantStatus(t, e.event(bodies[2]), http.StatusNoContent, "analyzed")
	// A transfer event arriving after the call was analyzed only adds itself.
	wantStatus(t, e.event(transfer("transfer_ended", "ongoing")), http.StatusNoContent, "late transfer_ended")

	got, err := e.store.GetCall(ctx, demoTenant, "call_tr")
	if err != nil {
		t.Fatal(err)
	}
	var list []Transfer
	if err := json.Unmarshal(got.Transfers, &list); err != nil {
		t.Fatalf("transfers %s: %v", got.Transfers, err)
	}
	var names []string
	for _, tr := range list {
		names = append(names, tr.Event)
		if !strings.Contains(string(tr.Destination), "+4930555555") || tr.Timestamp == 0 {
			t.Errorf("transfer entry incomplete: %+v", tr)
		}
	}
	if strings.Join(names, ",") != "transfer_started,transfer_bridged,transfer_ended" {
		t.Errorf("transfers = %v", names)
	}
	checkUnion(t, got)
}

func TestDatabaseDownDefersToTheQueue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dead := deadStore(t, e.clock)
	live := e.rec
	down := *e.rec
	down.Calls, down.Customers = dead, dead
	e.rec = &down
	bodies := samples(t, sampleCallID, nil)

	// The directory still answers from Redis (warmed by a first lookup).
	if _, _, _, err := e.dir.ResolveNumber(ctx, demoNumber); err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		wantStatus(t, e.event(b), http.StatusNoContent, "database down")
	}
	jobs := e.queue.list(booking.JobRetellEvent)
	if len(jobs) != 3 {
		t.Fatalf("%d retell.event jobs, want 3", len(jobs))
	}
	if jobs[0].TenantID != demoTenant || jobs[1].IdempotencyKey != "call_ended:"+sampleCallID {
		t.Errorf("job envelope: tenant %q key %q", jobs[0].TenantID, jobs[1].IdempotencyKey)
	}
	var p RetellEventJob
	if err := json.Unmarshal(jobs[1].Payload, &p); err != nil || string(p.Body) != string(bodies[1]) {
		t.Fatalf("payload is not the raw body (err %v)", err)
	}
	if !strings.Contains(string(jobs[1].Payload), `"body":"`) {
		t.Errorf("payload body is not base64 in JSON")
	}
	if n := e.metrics.get(MetricEventsDeferred + "|" + platform.DimEventType + "|call_ended"); n != 1 {
		t.Errorf("deferred metric = %d", n)
	}

	// Directory down as well (no cache): deferred without a tenant.
	down.Directory = dead
	wantStatus(t, e.event(bodies[0]), http.StatusNoContent, "directory down")
	if jobs := e.queue.list(booking.JobRetellEvent); len(jobs) != 4 || jobs[3].TenantID != "" {
		t.Errorf("directory-down deferral: %d jobs", len(jobs))
	}

	// Queue down too: 503 so Retell retries.
	e.queue.fail = booking.Errorf(booking.KindTransient, "queue.Publish", "queue unreachable")
	resp := e.event(bodies[2])
	wantStatus(t, resp, http.StatusServiceUnavailable, "database and queue down")

	// The worker replays the jobs once the database is back, in any order.
	e.queue.fail = nil
	jobs = e.queue.list(booking.JobRetellEvent)
	for i := len(jobs) - 1; i >= 0; i-- {
		if err := live.JobHandler()(ctx, jobs[i]); err != nil {
			t.Fatalf("replay %d: %v", i, err)
		}
	}
	got, err := e.store.GetCall(ctx, demoTenant, sampleCallID)
	if err != nil {
		t.Fatal(err)
	}
	checkUnion(t, got)
	if n := e.countRows("calls"); n != 1 {
		t.Errorf("%d rows after replay", n)
	}
	if err := live.HandleJob(ctx, json.RawMessage(`{"body":"bm90IGpzb24="}`)); booking.KindOf(err) != booking.KindInvalid {
		t.Errorf("replaying garbage: %v, want invalid", err)
	}
	if strings.Contains(e.logs.String(), callerPhone) {
		t.Errorf("a phone number was logged")
	}
}

func TestOversizedEventIsSlimmedForTheQueue(t *testing.T) {
	e := newEnv(t)
	dead := deadStore(t, e.clock)
	e.rec.Calls, e.rec.Customers = dead, dead
	m := sample(t, "call_ended")
	callOf(m)["call_id"] = "call_big"
	words := make([]any, 0, 8000)
	for i := range 8000 {
		words = append(words, map[string]any{"word": "wort", "start": float64(i) / 10, "end": float64(i)/10 + 0.05})
	}
	callOf(m)["transcript_object"] = []any{map[string]any{"role": "user", "content": "lang", "words": words}}
	body := encode(t, m)
	if len(body) < queue.MaxBodyBytes {
		t.Fatalf("test body only %d bytes", len(body))
	}
	wantStatus(t, e.event(body), http.StatusNoContent, "big event, database down")
	jobs := e.queue.list(booking.JobRetellEvent)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	var p RetellEventJob
	json.Unmarshal(jobs[0].Payload, &p)
	ev, err := retell.Decoder{Clock: e.clock}.ParseWebhook(p.Body)
	if err != nil {
		t.Fatalf("slimmed body does not parse: %v", err)
	}
	if ev.Call.CallID != "call_big" || ev.Call.Transcript == "" || ev.Call.DurationMS != 89500 || ev.Call.TranscriptObject != nil {
		t.Errorf("slimmed body lost stored fields or kept word timings")
	}
}
