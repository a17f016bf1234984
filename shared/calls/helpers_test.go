package calls

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/tenantfile"
	"github.com/telefonagent/gateway/shared/testenv"
)

const (
	apiKey      = "key_test_retell_0123456789"
	demoNumber  = "+4930123456"
	demoTenant  = "salon-sonnenschein"
	demoBranch  = "berlin-mitte"
	callerPhone = "+4915112345678"
)

// t0 is Monday, 1 March 2027, 09:00 in Berlin.
var (
	berlin = mustLoc("Europe/Berlin")
	t0     = time.Date(2027, 3, 1, 9, 0, 0, 0, berlin)
)

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingMetrics records counts by name and dimensions.
type countingMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *countingMetrics) Count(name string, n int, dims ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	key := name
	for _, d := range dims {
		key += "|" + d
	}
	m.n[key] += n
}
func (m *countingMetrics) Duration(string, time.Duration, ...string) {}
func (m *countingMetrics) Gauge(string, float64, ...string)          {}
func (m *countingMetrics) Flush() error                              { return nil }

func (m *countingMetrics) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[key]
}

// cachedDirectory is the composition root's Redis-over-MySQL directory,
// rebuilt here because this package must not import shared/app.
type cachedDirectory struct {
	store *mysql.Store
	cache *redis.TenantCache
}

func (d cachedDirectory) ResolveNumber(ctx context.Context, e164 string) (booking.PhoneNumber, booking.Tenant, booking.Branch, error) {
	if e, ok, err := d.cache.Get(ctx, e164); err == nil && ok {
		return e.Number, e.Tenant, e.Branch, nil
	}
	n, t, b, err := d.store.ResolveNumber(ctx, e164)
	if err == nil {
		_ = d.cache.Put(ctx, redis.TenantEntry{Number: n, Tenant: t, Branch: b})
	}
	return n, t, b, err
}

func (d cachedDirectory) Services(ctx context.Context, tenantID, branchID string) ([]booking.Service, error) {
	return d.store.Services(ctx, tenantID, branchID)
}

// localEnqueuer publishes real queue jobs (validated and size-checked like
// on SQS) to a LocalQueue, or fails when told to.
type localEnqueuer struct {
	q     *queue.LocalQueue
	clock booking.Clock
	mu    sync.Mutex
	fail  error
	jobs  []queue.Job
}

func (e *localEnqueuer) Enqueue(ctx context.Context, jobType, tenantID, key string, payload any) error {
	e.mu.Lock()
	fail := e.fail
	e.mu.Unlock()
	if fail != nil {
		return fail
	}
	j, err := queue.NewJob(jobType, tenantID, key, payload, e.clock.Now())
	if err != nil {
		return err
	}
	if err := e.q.Publish(ctx, j); err != nil {
		return err
	}
	e.mu.Lock()
	e.jobs = append(e.jobs, j)
	e.mu.Unlock()
	return nil
}

func (e *localEnqueuer) list(jobType string) []queue.Job {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []queue.Job
	for _, j := range e.jobs {
		if j.Type == jobType {
			out = append(out, j)
		}
	}
	return out
}

// env is a wired system on the real MariaDB and Redis.
type env struct {
	t       testing.TB
	db      *sql.DB
	store   *mysql.Store
	rc      *goredis.Client
	keys    redis.Keys
	dir     cachedDirectory
	clock   *testClock
	metrics *countingMetrics
	queue   *localEnqueuer
	logs    *bytes.Buffer
	rec     *Recorder
	in      *Inbound
	sig     retell.Guard
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := mysql.Open(ctx, testenv.MySQLDSN(t, "calls"), mysql.Options{MaxOpenConns: 10, MaxIdleConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := mysql.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: t0}
	store := mysql.NewStore(db, pii.DevKeyring(), clk)
	cfg, err := tenantfile.Parse(tenantfile.Demo())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyTenantConfig(ctx, *cfg); err != nil {
		t.Fatal(err)
	}
	rc, ns := testenv.Redis(t)
	keys := redis.Keys{Prefix: ns}
	e := &env{
		t: t, db: db, store: store, rc: rc, keys: keys, clock: clk, metrics: &countingMetrics{},
		dir:  cachedDirectory{store: store, cache: &redis.TenantCache{Client: rc, Keys: keys}},
		logs: &bytes.Buffer{},
	}
	e.queue = &localEnqueuer{q: queue.NewLocalQueue(queue.LocalOptions{Clock: clk}), clock: clk}
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.rec = &Recorder{Directory: e.dir, Calls: store, Customers: store, Queue: e.queue, Clock: clk, Logger: logger, Metrics: e.metrics}
	e.in = &Inbound{Directory: e.dir, Customers: store, Appointments: store, Queue: e.queue, Prefetch: true,
		AllowPrefetch: PrefetchGate(&redis.Gate{Client: rc}, keys, PrefetchPeriod),
		Clock:         clk, Logger: logger, Metrics: e.metrics}
	e.sig = retell.Guard{Keys: retell.StaticKeys(apiKey), Clock: clk, Enforce: true,
		Rejected: func() { e.metrics.Count(platform.MetricWebhookSignatureFailures, 1) }}
	return e
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// deadDSN points at a port nobody listens on.
func deadDSN(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "root@tcp(" + addr + ")/gone"
}

// deadStore is a Store whose database is unreachable.
func deadStore(t testing.TB, clk booking.Clock) *mysql.Store {
	t.Helper()
	dsn, err := mysql.ConfigureDSN(deadDSN(t), mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return mysql.NewStore(db, pii.DevKeyring(), clk)
}

// lambda wraps a handler like the deployed function (Retell bodies may be
// large: the body limit is the decoder's).
func (e *env) lambda(name string, h apigw.Handler) apigw.LambdaHandler {
	return apigw.Wrap(name, h, apigw.Options{Metrics: e.metrics, Clock: e.clock, MaxBody: retell.MaxBodyBytes})
}

func (e *env) eventsHandler() apigw.LambdaHandler {
	return e.lambda("retell-events", EventsHandler(e.rec, e.sig))
}

func (e *env) inboundHandler() apigw.LambdaHandler {
	return e.lambda("retell-inbound", InboundHandler(e.in, e.sig))
}

// post delivers a body with the given signature header ("" = none).
func post(t testing.TB, h apigw.LambdaHandler, path string, body []byte, signature string) events.APIGatewayProxyResponse {
	t.Helper()
	ev := events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: path, Resource: path, Body: string(body),
		Headers: map[string]string{"Content-Type": "application/json"}}
	if signature != "" {
		ev.Headers["x-retell-signature"] = signature
	}
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatalf("handler returned an error: %v", err)
	}
	return resp
}

// deliver posts a body signed now.
func (e *env) deliver(h apigw.LambdaHandler, path string, body []byte) events.APIGatewayProxyResponse {
	e.t.Helper()
	return post(e.t, h, path, body, retell.Sign(body, apiKey, e.clock.Now().UnixMilli()))
}

func (e *env) event(body []byte) events.APIGatewayProxyResponse {
	e.t.Helper()
	return e.deliver(e.eventsHandler(), "/webhooks/retell/events", body)
}

// sample reads a shared Retell sample and points it at the demo number,
// with a German mobile caller.
func sample(t testing.TB, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.ContractsDir(t), "retell", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	call := m["call"].(map[string]any)
	call["to_number"] = demoNumber
	call["from_number"] = callerPhone
	return m
}

func callOf(m map[string]any) map[string]any { return m["call"].(map[string]any) }

func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// samples returns the three lifecycle bodies for one call id.
func samples(t testing.TB, callID string, edit func(call map[string]any)) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"call_started", "call_ended", "call_analyzed"} {
		m := sample(t, name)
		callOf(m)["call_id"] = callID
		if edit != nil {
			edit(callOf(m))
		}
		out = append(out, encode(t, m))
	}
	return out
}

func (e *env) countRows(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// dumpTables returns every column of every row of every table as text.
func dumpTables(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query("SHOW TABLES")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rs, err := db.Query("SELECT * FROM `" + table + "`")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				b.Write(v)
				b.WriteByte('\t')
			}
			b.WriteByte('\n')
		}
		rs.Close()
	}
	return b.String()
}

func wantStatus(t testing.TB, resp events.APIGatewayProxyResponse, want int, what string) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d (body %s), want %d", what, resp.StatusCode, resp.Body, want)
	}
}
