package privacy_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/privacy"
	"github.com/telefonagent/gateway/shared/tenantfile"
	"github.com/telefonagent/gateway/shared/testenv"
)

// testClock is a settable clock shared by the Store and the sandbox.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// t0 is "now" in the tests: Monday 2027-03-01 09:00 UTC.
var t0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

const otherTenant = "zweiter-salon"

type env struct {
	store *mysql.Store
	db    *sql.DB
	clk   *testClock
	keys  *pii.Keyring
	sb    *calcomtest.Sandbox
	svc   *privacy.Service
	demo  *booking.TenantConfig
	other *booking.TenantConfig
}

// newEnv gives a fresh migrated database with the demo tenant and a second
// tenant (a copy of the demo under another id, number and event types), a
// Cal.com sandbox and a Service wired to it through calcom.Calendar.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := mysql.Open(ctx, testenv.MySQLDSN(t, "privacy"), mysql.Options{MaxOpenConns: 4, MaxIdleConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := mysql.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: t0}
	keys := pii.DevKeyring()
	store := mysql.NewStore(db, keys, clk)

	demo, err := tenantfile.Parse(tenantfile.Demo())
	if err != nil {
		t.Fatal(err)
	}
	other, err := tenantfile.Parse(tenantfile.Demo())
	if err != nil {
		t.Fatal(err)
	}
	retarget(other, otherTenant)
	for _, cfg := range []*booking.TenantConfig{demo, other} {
		if err := store.ApplyTenantConfig(ctx, *cfg); err != nil {
			t.Fatalf("apply %s: %v", cfg.Tenant.ID, err)
		}
	}

	sb := calcomtest.New(calcomtest.Options{Clock: clk})
	t.Cleanup(sb.Close)
	week := booking.OpeningHours{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		week[d] = []booking.TimeRange{{Start: 0, End: 24 * 60}}
	}
	for _, id := range []int64{1001, 1002, 1003, 1004} {
		if err := sb.AddEventType(calcomtest.EventType{ID: id, LengthMinutes: 30, TimeZone: "Europe/Berlin", Schedule: week}); err != nil {
			t.Fatal(err)
		}
	}
	client, err := calcom.New(calcom.Config{BaseURL: sb.URL(), APIKey: calcomtest.DefaultAPIKey,
		Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		t.Fatal(err)
	}
	cal := calcom.Calendar{ClientFor: func(context.Context, booking.Tenant) (*calcom.Client, error) { return client, nil }}
	return &env{store: store, db: db, clk: clk, keys: keys, sb: sb, demo: demo, other: other,
		svc: &privacy.Service{Store: store, Calendar: cal}}
}

// retarget moves a parsed tenant file to another tenant id, number and
// event types.
func retarget(c *booking.TenantConfig, id string) {
	c.Tenant.ID, c.Tenant.Name = id, "Zweiter Salon"
	c.Tenant.Retention = booking.Retention{}
	for i := range c.Branches {
		c.Branches[i].TenantID = id
	}
	for i := range c.PhoneNumbers {
		c.PhoneNumbers[i].TenantID = id
		c.PhoneNumbers[i].E164 = "+4940" + c.PhoneNumbers[i].E164[len(c.PhoneNumbers[i].E164)-6:]
	}
	for i := range c.Services {
		c.Services[i].TenantID = id
		if c.Services[i].EventTypeID != 0 {
			c.Services[i].EventTypeID += 90000
		}
		for j := range c.Services[i].Segments {
			c.Services[i].Segments[j].EventTypeID += 90000
		}
	}
	for i := range c.Staff {
		c.Staff[i].TenantID = id
	}
}

func (e *env) branch(c *booking.TenantConfig) string { return c.Branches[0].ID }

func ptr[T any](v T) *T { return &v }

// person is what the tests store about one person; secrets are the
// plaintexts that must vanish on erasure.
type person struct {
	tenant     string
	customerID int64 // 0: never became a customer
	phone      string
	secrets    []string
	callIDs    []string
	apptIDs    []int64
	futureIDs  []int64
	futureUIDs []string
	pastUID    string
}

func mustNil(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// seedCustomer stores a customer with two calls (one linked, one from the
// number before it was linked), a past, a future and a future composite
// appointment (booked in the sandbox), an appointment change, two callback
// requests and the idempotent answer of the future booking.
func (e *env) seedCustomer(t *testing.T, tenant *booking.TenantConfig, tag, phone, name, email string) *person {
	t.Helper()
	ctx := context.Background()
	tid, br := tenant.Tenant.ID, e.branch(tenant)
	p := &person{tenant: tid, phone: phone}
	c, err := e.store.UpsertCustomerByPhone(ctx, tid, phone, name, email)
	mustNil(t, err, "upsert customer")
	p.customerID = c.ID
	transcript := "Agent: Guten Tag. User: Hier ist " + name + ", Geheimsatz " + tag + "."
	summary := "Zusammenfassung " + tag + " fuer " + name
	notes := "Notiz " + tag + ": Allergie"
	rec := "https://recordings.example/" + tag + ".wav"
	p.secrets = []string{name, email, phone, strings.TrimPrefix(phone, "+"), transcript, "Geheimsatz " + tag, summary, notes, rec,
		"Analyse " + tag, "Antwort " + tag}
	start, end := t0.Add(-48*time.Hour), t0.Add(-48*time.Hour+2*time.Minute)
	for i, linked := range []bool{true, false} {
		call := booking.Call{TenantID: tid, CallID: "call_" + tag + "_" + string(rune('a'+i)), BranchID: br, Direction: "inbound",
			FromNumber: phone, ToNumber: tenant.PhoneNumbers[0].E164, Status: booking.CallAnalyzed, StartedAt: &start, EndedAt: &end,
			DurationMS: 120000 + int64(i)*1000, Transcript: transcript, Summary: summary, RecordingURL: rec, Sentiment: "Positive",
			CustomAnalysis: json.RawMessage(`{"note":"Analyse ` + tag + `"}`),
			Cost:           booking.CallCost{RetellUSDCents: 21, PlatformEURCents: 20, CustomerEURCents: 58 + int64(i), BilledMinutes: 2}}
		if linked {
			call.CustomerID = &c.ID
		}
		_, err := e.store.UpsertCall(ctx, call)
		mustNil(t, err, "upsert call")
		p.callIDs = append(p.callIDs, call.CallID)
	}
	mustNil(t, e.store.RecordCallback(ctx, tid, br, p.callIDs[0], &c.ID, phone, "human_requested"), "callback linked")
	mustNil(t, e.store.RecordCallback(ctx, tid, br, p.callIDs[1], nil, phone, "no_slot"), "callback unlinked")

	svc := tenant.Services[0]
	book := func(start time.Time, et int64) string {
		b, err := e.sb.AddBooking(calcomtest.Booking{EventTypeID: et, Start: start,
			Attendee: calcom.Attendee{Name: name, Email: email, PhoneNumber: phone}}, false)
		mustNil(t, err, "sandbox booking")
		return b.UID
	}
	past := t0.Add(-24 * time.Hour)
	p.pastUID = book(past, 1001)
	future := t0.Add(72 * time.Hour)
	futureUID := book(future, 1001)
	seg1, seg2 := book(future.Add(2*time.Hour), 1003), book(future.Add(3*time.Hour), 1004)
	p.futureUIDs = []string{futureUID, seg1, seg2}

	// The stored answer of the booking operation quotes the name.
	_, started, err := e.store.BeginIdempotent(ctx, tid, "idem-"+tag, "book", time.Hour)
	if err != nil || !started {
		t.Fatalf("begin idempotent: %v %v", started, err)
	}
	mustNil(t, e.store.CompleteIdempotent(ctx, tid, "idem-"+tag, []byte(`{"say":"Antwort `+tag+` fuer `+name+`"}`)), "complete idempotent")

	for _, a := range []booking.Appointment{
		{TenantID: tid, BranchID: br, ServiceID: svc.ID, CustomerID: &c.ID, CallID: p.callIDs[0], CalcomUID: p.pastUID,
			Status: booking.StatusConfirmed, Start: past, End: past.Add(30 * time.Minute), Notes: notes},
		{TenantID: tid, BranchID: br, ServiceID: svc.ID, CustomerID: &c.ID, CallID: p.callIDs[0], CalcomUID: futureUID,
			Status: booking.StatusConfirmed, Start: future, End: future.Add(30 * time.Minute), Notes: notes, IdempotencyKey: "idem-" + tag},
		{TenantID: tid, BranchID: br, ServiceID: svc.ID, CustomerID: &c.ID, Status: booking.StatusPending,
			Start: future.Add(2 * time.Hour), End: future.Add(210 * time.Minute), Notes: notes,
			Segments: []booking.AppointmentSegment{{Index: 0, EventTypeID: 1003, CalcomUID: seg1, Start: future.Add(2 * time.Hour), End: future.Add(150 * time.Minute)},
				{Index: 1, EventTypeID: 1004, CalcomUID: seg2, Start: future.Add(3 * time.Hour), End: future.Add(210 * time.Minute)}}},
	} {
		created, err := e.store.CreateAppointment(ctx, a)
		mustNil(t, err, "create appointment")
		p.apptIDs = append(p.apptIDs, created.ID)
		if a.Start.After(t0) {
			p.futureIDs = append(p.futureIDs, created.ID)
		}
	}
	mustNil(t, e.store.RecordChange(ctx, booking.AppointmentChange{TenantID: tid, AppointmentID: p.apptIDs[0], Action: "booked",
		Actor: "call:" + p.callIDs[0], After: booking.Appointment{Status: booking.StatusConfirmed, Start: past, End: past.Add(30 * time.Minute)}}), "record change")
	return p
}

// seedCaller stores one call (and a callback request) from a number that
// never became a customer.
func (e *env) seedCaller(t *testing.T, tenant *booking.TenantConfig, tag, phone string) *person {
	t.Helper()
	ctx := context.Background()
	tid := tenant.Tenant.ID
	transcript := "User: anonymer Geheimsatz " + tag
	start := t0.Add(-5 * time.Hour)
	call := booking.Call{TenantID: tid, CallID: "call_" + tag, BranchID: e.branch(tenant), FromNumber: phone, ToNumber: tenant.PhoneNumbers[0].E164,
		Status: booking.CallEnded, StartedAt: &start, DurationMS: 30000, Transcript: transcript, Cost: booking.CallCost{CustomerEURCents: 29, BilledMinutes: 1}}
	_, err := e.store.UpsertCall(ctx, call)
	mustNil(t, err, "caller call")
	mustNil(t, e.store.RecordCallback(ctx, tid, e.branch(tenant), call.CallID, nil, phone, "no_slot"), "caller callback")
	return &person{tenant: tid, phone: phone, callIDs: []string{call.CallID},
		secrets: []string{phone, strings.TrimPrefix(phone, "+"), transcript, "anonymer Geheimsatz " + tag}}
}
