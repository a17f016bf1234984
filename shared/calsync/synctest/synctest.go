// Package synctest builds the test environment of the Cal.com sync and the
// retry worker: a migrated MariaDB database with two tenants, a real Redis
// availability cache, the Cal.com sandbox posting signed webhooks to the
// calcom-webhook handler (mounted the way API Gateway invokes it), and a
// local retry queue. Only tests import it.
package synctest

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calsync"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/testenv"
)

// Secret is the webhook secret of the environment (the NOTES.md §B3 one,
// so the known-answer vectors verify).
const Secret = "whsec_test_calcom_123"

// Tenants and their event type bases: tenant A owns 101–104, B 201–204.
const (
	TenantA = "salon-a"
	TenantB = "salon-b"
	BaseA   = 100
	BaseB   = 200
)

// Berlin is the branches' time zone.
var Berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Clock is a settable clock shared by store, sandbox, syncer and queue.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Metrics counts what was emitted, by name.
type Metrics struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *Metrics) Count(name string, n int, _ ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	m.n[name] += n
}

// Get returns a counter.
func (m *Metrics) Get(name string) int { m.mu.Lock(); defer m.mu.Unlock(); return m.n[name] }

// Env is one test's world.
type Env struct {
	T       testing.TB
	Ctx     context.Context
	DB      *sql.DB
	Store   *mysql.Store
	Clock   *Clock
	Sandbox *calcomtest.Sandbox
	Client  *calcom.Client
	Cache   *redis.AvailabilityCache
	Queue   *queue.LocalQueue
	Metrics *Metrics
	Syncer  *calsync.Syncer
	URL     string // POST target of the webhook handler

	mu      sync.Mutex
	handler http.Handler
}

// Start is the environment's initial time: Monday 2027-03-01 08:00 Berlin.
var Start = time.Date(2027, 3, 1, 8, 0, 0, 0, Berlin)

// At is a wall-clock time in Berlin on 2027-03-dd.
func At(day, hour, min int) time.Time { return time.Date(2027, 3, day, hour, min, 0, 0, Berlin) }

// New builds an environment; dbName names the test database.
func New(t testing.TB, dbName string) *Env {
	t.Helper()
	ctx := context.Background()
	e := &Env{T: t, Ctx: ctx, Clock: &Clock{t: Start}, Metrics: &Metrics{}}
	db, err := mysql.Open(ctx, testenv.MySQLDSN(t, dbName), mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := mysql.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e.DB = db
	e.Store = mysql.NewStore(db, pii.DevKeyring(), e.Clock)
	for _, cfg := range []booking.TenantConfig{Config(TenantA, "+4930111111", BaseA), Config(TenantB, "+4930222222", BaseB)} {
		if err := e.Store.ApplyTenantConfig(ctx, cfg); err != nil {
			t.Fatalf("apply %s: %v", cfg.Tenant.ID, err)
		}
	}
	rc, ns := testenv.Redis(t)
	e.Cache = &redis.AvailabilityCache{Client: rc, Keys: redis.Keys{Prefix: ns}, TTL: time.Hour}
	e.Queue = queue.NewLocalQueue(queue.LocalOptions{Clock: e.Clock})
	e.Syncer = &calsync.Syncer{Store: e.Store, Cache: e.Cache, Queue: e.Queue, Clock: e.Clock, Metrics: e.Metrics}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		h := e.handler
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/webhooks/calcom"
	e.SetSyncer(e.Syncer)

	e.Sandbox = calcomtest.New(calcomtest.Options{Clock: e.Clock, WebhookURL: e.URL, WebhookSecret: Secret})
	t.Cleanup(e.Sandbox.Close)
	for _, base := range []int64{BaseA, BaseB} {
		for i, length := range []int{30, 60, 45, 30} {
			et := calcomtest.EventType{ID: base + int64(i) + 1, LengthMinutes: length, TimeZone: "Europe/Berlin", Schedule: EveryDay, HostID: base + 11 + int64(i)}
			if err := e.Sandbox.AddEventType(et); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.Client = e.NewClient(0)
	return e
}

// NewClient returns a sandbox client; writeTimeout 0 = default.
func (e *Env) NewClient(writeTimeout time.Duration) *calcom.Client {
	c, err := calcom.New(calcom.Config{BaseURL: e.Sandbox.URL(), APIKey: calcomtest.DefaultAPIKey, Clock: e.Clock,
		WriteTimeout: writeTimeout, ReadTimeout: 3 * time.Second})
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// ClientFor is the per-tenant client function (one sandbox account serves both tenants).
func (e *Env) ClientFor(context.Context, booking.Tenant) (*calcom.Client, error) {
	return e.Client, nil
}

// SetSyncer mounts s's webhook handler at URL, as API Gateway invokes it.
func (e *Env) SetSyncer(s *calsync.Syncer) {
	h := s.WebhookHandler(calsync.WebhookOptions{
		Secrets: func(context.Context) ([]string, error) { return []string{Secret}, nil },
		Metrics: e.Metrics,
	})
	routes := []apigw.Route{{Method: http.MethodPost, Path: "/webhooks/calcom", Func: apigw.Wrap("calcom-webhook", h, apigw.Options{})}}
	e.mu.Lock()
	e.handler = apigw.NewHTTPHandler(routes)
	e.mu.Unlock()
}

// Post sends a body with a signature header ("" = none) and returns the status.
func (e *Env) Post(body []byte, signature string) int {
	e.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(calcom.SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// PostSigned sends a correctly signed body.
func (e *Env) PostSigned(body []byte) int { return e.Post(body, calcom.Sign(body, Secret)) }

// Flush waits for the sandbox's webhooks to be delivered.
func (e *Env) Flush() {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(e.Ctx, 10*time.Second)
	defer cancel()
	if err := e.Sandbox.FlushWebhooks(ctx); err != nil {
		e.T.Fatal(err)
	}
	for _, d := range e.Sandbox.Webhooks() {
		if d.Status != 0 && d.Status != http.StatusOK && !d.Skipped {
			e.T.Fatalf("webhook %s answered %d", d.Trigger, d.Status)
		}
	}
}

// Count runs a COUNT(*) query.
func (e *Env) Count(query string, args ...any) int {
	e.T.Helper()
	var n int
	if err := e.DB.QueryRowContext(e.Ctx, query, args...).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

// Appointments lists a tenant's appointments (all statuses), by id.
func (e *Env) Appointments(tenant string) []booking.Appointment {
	e.T.Helper()
	rows, err := e.DB.QueryContext(e.Ctx, `SELECT id FROM appointments WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		e.T.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var out []booking.Appointment
	for _, id := range ids {
		a, err := e.Store.GetAppointment(e.Ctx, tenant, id)
		if err != nil {
			e.T.Fatal(err)
		}
		out = append(out, *a)
	}
	return out
}

// EveryDay opens 08:00–20:00 every day.
var EveryDay = booking.OpeningHours{}

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		EveryDay[d] = []booking.TimeRange{{Start: 8 * 60, End: 20 * 60}}
	}
}

// Config is a tenant with one Berlin branch, two simple services and one
// composite one: herren (base+1), damen (base+2), faerben (base+3, base+4).
func Config(tid, number string, base int64) booking.TenantConfig {
	return booking.TenantConfig{
		Tenant:       booking.Tenant{ID: tid, Name: "Salon " + tid, Locale: "de", CalcomAPIKeyRef: "env:CALCOM_KEY"},
		Branches:     []booking.Branch{{TenantID: tid, ID: "mitte", Name: "Mitte", TimeZone: "Europe/Berlin", OpeningHours: EveryDay}},
		PhoneNumbers: []booking.PhoneNumber{{E164: number, TenantID: tid, BranchID: "mitte", AgentID: "agent_" + tid}},
		Services: []booking.Service{
			{TenantID: tid, ID: "herren", Name: "Herrenhaarschnitt", Synonyms: []string{}, DurationMinutes: 30, EventTypeID: base + 1, Priority: 1, IsDefault: true},
			{TenantID: tid, ID: "damen", Name: "Damenhaarschnitt", Synonyms: []string{}, DurationMinutes: 60, EventTypeID: base + 2, Priority: 2},
			{TenantID: tid, ID: "faerben", Name: "Färben", Synonyms: []string{}, DurationMinutes: 120, Priority: 3,
				Segments: []booking.Segment{
					{Name: "Farbe", DurationMinutes: 45, EventTypeID: base + 3, GapAfterMinutes: 45},
					{Name: "Waschen", DurationMinutes: 30, EventTypeID: base + 4},
				}},
		},
	}
}

// Pending stores an appointment the way the in-call booking does before
// calling Cal.com: pending, with its idempotency key, one segment per
// event type (offsets as given).
func (e *Env) Pending(tenant, service, key string, start time.Time, segs ...booking.AppointmentSegment) *booking.Appointment {
	e.T.Helper()
	c, err := e.Store.UpsertCustomerByPhone(e.Ctx, tenant, "+491701234567", "Max Muster", "")
	if err != nil {
		e.T.Fatal(err)
	}
	a := booking.Appointment{TenantID: tenant, BranchID: "mitte", ServiceID: service, CustomerID: &c.ID, CallID: "call_" + key,
		Status: booking.StatusPending, Source: "phone", Start: start.UTC(), End: start.UTC(), IdempotencyKey: key}
	for _, g := range segs {
		g.Status = booking.StatusPending
		a.Segments = append(a.Segments, g)
		if g.End.After(a.End) {
			a.End = g.End
		}
	}
	row, err := e.Store.CreateAppointment(e.Ctx, a)
	if err != nil {
		e.T.Fatal(err)
	}
	return row
}

// Request is the create request the in-call booking sends for a segment.
func Request(tenant, key string, eventTypeID int64, start time.Time, segment int) booking.CreateBookingRequest {
	return booking.CreateBookingRequest{EventTypeID: eventTypeID, Start: start.UTC(), Name: "Max Muster", Phone: "+491701234567",
		TimeZone: "Europe/Berlin", Language: "de",
		Metadata: map[string]string{"retell_call_id": "call_" + key, "tenant": tenant, "idempotency_key": key, "segment": itoaSeg(segment)}}
}

func itoaSeg(i int) string { return string(rune('0' + i)) }
