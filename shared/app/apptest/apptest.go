// Package apptest assembles the real system for integration tests: the
// real MariaDB and Redis of the test machine (via testenv), the Cal.com
// sandbox seeded from the tenant file, a local queue with the SQS
// semantics, and a settable clock. Nothing of our own is mocked.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/tenantfile"
	"github.com/telefonagent/gateway/shared/testenv"
)

// Test keys.
const (
	RetellAPIKey  = "key_test_apptest"
	WebhookSecret = "whsec_test_apptest"
	CalcomAPIKey  = "cal_test_apptest"
	DemoNumber    = "+4930123456"
)

// Clock is a settable clock shared by the system and the sandbox.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

func NewClock(t time.Time) *Clock { return &Clock{t: t} }

func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Env is a running system under test.
type Env struct {
	T         testing.TB
	Deps      *app.Deps
	Store     *mysql.Store
	Sandbox   *calcomtest.Sandbox
	Queue     *queue.LocalQueue
	Processor *queue.Processor
	Clock     *Clock
	Tenant    *booking.TenantConfig
	Logs      *SyncBuffer // everything the system logged
}

// Options tune New.
type Options struct {
	DBName     string    // the test package's database name (required)
	Now        time.Time // default: Monday 2027-03-01 09:00 Europe/Berlin
	TenantFile []byte    // default: the demo tenant
	NoRedis    bool      // run without Redis (degraded mode)
	Flags      *platform.Flags
}

// DefaultNow is a Monday morning in Berlin, well inside opening hours.
func DefaultNow() time.Time {
	loc, _ := time.LoadLocation("Europe/Berlin")
	return time.Date(2027, 3, 1, 9, 0, 0, 0, loc)
}

// New builds the system against the real services.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = DefaultNow()
	}
	clock := NewClock(o.Now)
	db := testenv.MySQL(t, o.DBName)
	ctx := context.Background()
	if _, err := mysql.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	db.SetMaxOpenConns(40)
	store := mysql.NewStore(db, pii.DevKeyring(), clock)
	tf := o.TenantFile
	if len(tf) == 0 {
		tf = tenantfile.Demo()
	}
	cfg, err := tenantfile.Parse(tf)
	if err != nil {
		t.Fatalf("tenant file: %v", err)
	}
	if err := store.ApplyTenantConfig(ctx, *cfg); err != nil {
		t.Fatalf("apply tenant: %v", err)
	}
	logs := &SyncBuffer{}
	logger := platform.NewLogger(logs, slog.LevelDebug)
	flags := platform.DefaultFlags(platform.StageDev)
	if o.Flags != nil {
		flags = *o.Flags
	}
	sb := calcomtest.New(calcomtest.Options{APIKeys: []string{CalcomAPIKey}, Clock: clock})
	t.Cleanup(sb.Close)
	if err := sb.SeedTenant(cfg); err != nil {
		t.Fatalf("seed sandbox: %v", err)
	}
	lq := queue.NewLocalQueue(queue.LocalOptions{Clock: clock})
	d := &app.Deps{
		Config:  platform.Config{Stage: platform.StageDev, Version: "test", QueueDegradedDepth: 100},
		Flags:   flags,
		Logger:  logger,
		Metrics: platform.NopMetrics{},
		Tracer:  platform.NopTracer{},
		Clock:   clock,
		Store:   store, Publisher: lq, QueueDepth: lq,
		RetellAPIKey:        RetellAPIKey,
		CalcomWebhookSecret: WebhookSecret,
		InboundFallback:     []byte(platform.DefaultInboundFallback),
		AdminToken:          "admin_test",
	}
	d.UseCalcom(sb.URL(), func(context.Context, booking.Tenant) (string, error) { return CalcomAPIKey, nil }, nil, nil)
	if !o.NoRedis {
		rc, ns := testenv.Redis(t)
		d.Redis, d.Keys = rc, redis.Keys{Prefix: ns}
	}
	e := &Env{T: t, Deps: d, Store: store, Sandbox: sb, Queue: lq, Clock: clock, Tenant: cfg, Logs: logs}
	e.Processor = app.NewProcessor(d, queue.ProcessorOptions{Visibility: lq, DeadLetter: lq})
	return e
}

// Drain runs the retry worker until the queue is empty.
func (e *Env) Drain() {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Queue.Drain(ctx, e.Processor); err != nil {
		e.T.Fatalf("drain: %v", err)
	}
}

// Sign signs a body like Retell does, at the env's clock.
func (e *Env) Sign(body []byte) string {
	return retell.Sign(body, RetellAPIKey, e.Clock.Now().UnixMilli())
}

// SyncBuffer is an io.Writer safe for concurrent loggers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// String returns everything written so far.
func (b *SyncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return string(b.buf) }

var _ io.Writer = (*SyncBuffer)(nil)

// JobRecorder sees every job the system publishes before the queue does,
// so tests can assert what was handed to the worker.
type JobRecorder struct {
	mu   sync.Mutex
	jobs []queue.Job
	Next queue.Publisher
}

// Publish records j and passes it on.
func (r *JobRecorder) Publish(ctx context.Context, j queue.Job) error {
	r.mu.Lock()
	r.jobs = append(r.jobs, j)
	r.mu.Unlock()
	return r.Next.Publish(ctx, j)
}

// OfType returns the recorded jobs of one type, in publishing order.
func (r *JobRecorder) OfType(typ string) []queue.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []queue.Job
	for _, j := range r.jobs {
		if j.Type == typ {
			out = append(out, j)
		}
	}
	return out
}
