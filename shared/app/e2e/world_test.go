// Package e2e_test drives the whole gateway from the outside: every
// request goes over HTTP through the catalogued routes (apigw's API Gateway
// bridge, the same one the dev gateway serves), against the real MariaDB and
// Redis of apptest, a Cal.com sandbox that posts its signed webhooks back to
// the gateway, the local retry queue with the SQS semantics and the real
// worker handlers. Faults are injected only at the edges: Cal.com (sandbox
// faults, an outage switch), Redis (a dedicated server process that is
// killed), MySQL (a TCP proxy that severs connections).
package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/retell"
)

const (
	tenantID = "salon-sonnenschein"
	etHerren = 1001 // Herrenhaarschnitt, 30 minutes, in the demo tenant
)

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall time in Berlin in March 2027 (the apptest clock starts on
// Monday 1 March, 09:00).
func at(day, hh, mm int) time.Time { return time.Date(2027, 3, day, hh, mm, 0, 0, berlin) }

// globalLog receives whatever is logged through slog's default logger or
// the standard log package (code that forgot its injected logger): the
// privacy suite scans it too.
var globalLog = &apptest.SyncBuffer{}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(globalLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.SetOutput(globalLog)
	// The MySQL driver and go-redis print connection errors of the severed
	// proxy and the killed Redis; they are expected here.
	_ = mysqldriver.SetLogger(log.New(io.Discard, "", 0))
	goredis.SetLogger(quietRedis{})
	os.Exit(m.Run())
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// --- metrics ---

// recMetrics is a platform.Metrics that remembers every count, by name and
// by name plus each dimension pair, the dimension name lower-cased
// ("BookingOutcome|outcome=pending").
type recMetrics struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *recMetrics) Count(name string, n int, dims ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[name] += n
	for i := 0; i+1 < len(dims); i += 2 {
		m.counts[name+"|"+strings.ToLower(dims[i])+"="+dims[i+1]] += n
	}
}

func (m *recMetrics) Duration(string, time.Duration, ...string) {}
func (m *recMetrics) Gauge(string, float64, ...string)          {}
func (m *recMetrics) Flush() error                              { return nil }

func (m *recMetrics) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

// --- job recorder ---

// --- Cal.com outage switch ---

// calSwitch sits between the gateway and the sandbox. While down it answers
// every request 503 the way a load balancer in front of a dead Cal.com does,
// after holding it for hang (an upstream that does not answer), or until
// the client gives up.
type calSwitch struct {
	sb      *calcomtest.Sandbox
	down    atomic.Bool
	hang    atomic.Int64 // time.Duration
	refused atomic.Int64 // requests that arrived while down
}

func (c *calSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.down.Load() {
		c.refused.Add(1)
		if d := time.Duration(c.hang.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"error","error":{"code":"ServiceUnavailableException","message":"Service Unavailable"}}`)
		return
	}
	c.sb.ServeHTTP(w, r)
}

// --- webhook relay ---

// heldHook is a Cal.com webhook the relay kept back.
type heldHook struct {
	Trigger string
	Body    []byte
	Sig     string
}

// --- the world ---

type worldOptions struct {
	// breakerOpenFor > 0 wires Cal.com with a circuit breaker that stays
	// open that long (real time; gobreaker reads the system clock) instead
	// of the production 30 s, so a test can outlive an outage quickly.
	breakerOpenFor time.Duration
	// mutate changes the deps before the gateway is built (another Redis,
	// a Store behind a proxy).
	mutate func(d *app.Deps)
}

// world is one running gateway.
type world struct {
	t       *testing.T
	e       *apptest.Env
	d       *app.Deps
	sb      *calcomtest.Sandbox
	cal     *calSwitch
	metrics *recMetrics
	jobs    *apptest.JobRecorder
	url     string // the gateway's base URL

	gateway atomic.Pointer[http.Handler]

	hookMu sync.Mutex
	hold   bool
	held   []heldHook
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	e := apptest.New(t, apptest.Options{DBName: dbName(t)})
	w := &world{t: t, e: e, metrics: &recMetrics{}}
	w.d = e.Deps
	w.d.Metrics = w.metrics
	w.jobs = &apptest.JobRecorder{Next: w.d.Publisher}
	w.d.Publisher = w.jobs

	mux := http.NewServeMux()
	mux.HandleFunc("/sandbox-hooks", w.relay)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) { (*w.gateway.Load()).ServeHTTP(rw, r) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w.url = srv.URL

	// A sandbox of our own, because apptest's posts no webhooks: this one
	// sends Cal.com's signed webhooks for every change to the gateway.
	w.sb = calcomtest.New(calcomtest.Options{APIKeys: []string{apptest.CalcomAPIKey}, Clock: e.Clock,
		WebhookURL: srv.URL + "/sandbox-hooks", WebhookSecret: apptest.WebhookSecret})
	t.Cleanup(w.sb.Close)
	if err := w.sb.SeedTenant(e.Tenant); err != nil {
		t.Fatal(err)
	}
	w.cal = &calSwitch{sb: w.sb}
	calSrv := httptest.NewServer(w.cal)
	t.Cleanup(calSrv.Close)
	keyFor := func(context.Context, booking.Tenant) (string, error) { return apptest.CalcomAPIKey, nil }
	if o.breakerOpenFor > 0 {
		useCalcomWithBreaker(w.d, calSrv.URL, apptest.CalcomAPIKey, calcom.BreakerSettings{OpenFor: o.breakerOpenFor, Registry: calcom.NewBreakerRegistry()})
	} else {
		w.d.UseCalcom(calSrv.URL, keyFor, nil, app.CalcomObserver(w.metrics))
	}
	if o.mutate != nil {
		o.mutate(w.d)
	}
	w.rebuild()
	return w
}

// useCalcomWithBreaker is Deps.UseCalcom with breaker settings of its own.
func useCalcomWithBreaker(d *app.Deps, baseURL, key string, b calcom.BreakerSettings) {
	c, err := calcom.New(calcom.Config{BaseURL: baseURL, APIKey: key, Clock: d.Clock, Breaker: b, Observe: app.CalcomObserver(d.Metrics)})
	if err != nil {
		panic(err)
	}
	d.CalcomClient = func(context.Context, booking.Tenant) (*calcom.Client, error) { return c, nil }
	d.Calendar = calcom.Calendar{ClientFor: d.CalcomClient}
}

// rebuild mounts the gateway and the worker on the current deps.
func (w *world) rebuild() {
	var h http.Handler = apigw.NewHTTPHandler(app.Routes(w.d))
	w.gateway.Store(&h)
	w.e.Processor = app.NewProcessor(w.d, queue.ProcessorOptions{Visibility: w.e.Queue, DeadLetter: w.e.Queue})
}

// relay forwards the sandbox's webhooks to the gateway, or keeps them back
// while holding (to deliver them later, reordered and duplicated).
func (w *world) relay(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sig := r.Header.Get(calcom.SignatureHeader)
	w.hookMu.Lock()
	hold := w.hold
	if hold {
		var env struct {
			TriggerEvent string `json:"triggerEvent"`
		}
		_ = json.Unmarshal(body, &env)
		w.held = append(w.held, heldHook{Trigger: env.TriggerEvent, Body: body, Sig: sig})
	}
	w.hookMu.Unlock()
	if hold {
		rw.WriteHeader(http.StatusOK)
		return
	}
	status, resp := w.post("/webhooks/calcom", body, map[string]string{calcom.SignatureHeader: sig})
	rw.WriteHeader(status)
	_, _ = rw.Write(resp)
}

func (w *world) holdHooks(on bool) {
	w.hookMu.Lock()
	w.hold = on
	w.hookMu.Unlock()
}

func (w *world) heldHooks() []heldHook {
	w.hookMu.Lock()
	defer w.hookMu.Unlock()
	return append([]heldHook(nil), w.held...)
}

// flushHooks waits until the sandbox delivered every webhook so far.
func (w *world) flushHooks() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.sb.FlushWebhooks(ctx); err != nil {
		w.t.Fatalf("webhooks not delivered: %v", err)
	}
}

// drain lets the worker empty the queue, then waits for the webhooks its
// Cal.com writes caused.
func (w *world) drain() {
	w.t.Helper()
	w.e.Drain()
	w.flushHooks()
}

// --- HTTP ---

var client = &http.Client{Timeout: 15 * time.Second}

func (w *world) post(path string, body []byte, headers map[string]string) (int, []byte) {
	req, err := http.NewRequest(http.MethodPost, w.url+path, bytes.NewReader(body))
	if err != nil {
		w.t.Errorf("request: %v", err)
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		w.t.Errorf("POST %s: %v", path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// retell posts a body signed like Retell does.
func (w *world) retell(path string, body []byte) (int, []byte) {
	return w.post(path, body, map[string]string{retell.SignatureHeader: w.e.Sign(body)})
}

// calHook posts a body signed like Cal.com does.
func (w *world) calHook(body []byte) int {
	s, _ := w.post("/webhooks/calcom", body, map[string]string{calcom.SignatureHeader: calcom.Sign(body, apptest.WebhookSecret)})
	return s
}

// caller is one person on the phone.
type caller struct {
	CallID string
	From   string
}

func (w *world) envelope(fn string, c caller, args map[string]any) []byte {
	call := map[string]any{
		"call_id": c.CallID, "agent_id": "agent_demo", "call_type": "phone_call", "direction": "inbound",
		"call_status": "ongoing", "to_number": apptest.DemoNumber, "from_number": c.From,
		"start_timestamp": w.e.Clock.Now().Add(-time.Minute).UnixMilli(),
	}
	b, err := json.Marshal(map[string]any{"name": retell.ToolName(fn), "call": call, "args": args})
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// answer is an in-call answer and how long it took.
type answer struct {
	incall.Answer
	Took time.Duration
	Raw  string
}

// fn calls an in-call function like Retell does.
func (w *world) fn(name string, c caller, args map[string]any) answer {
	w.t.Helper()
	return w.fnBody(name, w.envelope(name, c, args))
}

func (w *world) fnBody(name string, body []byte) answer {
	w.t.Helper()
	started := time.Now()
	status, resp := w.retell("/functions/"+name, body)
	took := time.Since(started)
	if status != http.StatusOK {
		w.t.Errorf("%s: status %d: %s", name, status, resp)
		return answer{Took: took}
	}
	var a incall.Answer
	if err := json.Unmarshal(resp, &a); err != nil {
		w.t.Errorf("%s: not an answer: %v", name, err)
	}
	return answer{Answer: a, Took: took, Raw: string(resp)}
}

func slotArgs(when time.Time) map[string]any {
	return map[string]any{"service": "Herrenhaarschnitt", "date": when.In(berlin).Format("2006-01-02"), "time": when.In(berlin).Format("15:04")}
}

func bookArgs(when time.Time, name string) map[string]any {
	a := slotArgs(when)
	a["customer_name"] = name
	return a
}

// --- state ---

type apptRow struct {
	ID             int64
	Status         string
	UID            string
	Start          time.Time
	CallID         string
	NeedsAttention string
}

func (w *world) rows() []apptRow {
	w.t.Helper()
	rs, err := w.e.Store.DB().Query(`SELECT id, status, COALESCE(calcom_uid, ''), starts_at, COALESCE(call_id, ''), COALESCE(needs_attention, '')
		FROM appointments WHERE tenant_id = ? ORDER BY id`, tenantID)
	if err != nil {
		w.t.Fatalf("appointments: %v", err)
	}
	defer rs.Close()
	var out []apptRow
	for rs.Next() {
		var r apptRow
		if err := rs.Scan(&r.ID, &r.Status, &r.UID, &r.Start, &r.CallID, &r.NeedsAttention); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.e.Store.DB().QueryRow(query, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (w *world) callbacks(callID string) int {
	return w.count(`SELECT COUNT(*) FROM callback_requests WHERE tenant_id = ? AND call_id = ?`, tenantID, callID)
}

func (w *world) activeBookingsOf(callID string) []calcomtest.Booking {
	var out []calcomtest.Booking
	for _, b := range w.sb.Bookings() {
		if b.Active() && b.Metadata["retell_call_id"] == callID {
			out = append(out, b)
		}
	}
	return out
}

// --- the ledger: what callers were told, checked against the end state ---

type promise struct {
	CallID string
	Start  time.Time
	Want   string // "confirmed", or "cancelled" when Cal.com's side cancelled it later
}

// checkLedger asserts, after the worker drained: every caller told
// "booked" (or "pending", which must end booked) has exactly one Cal.com
// booking and one confirmed row linked to it; every caller told
// "calendar_unavailable" has no booking and a callback request; no
// Cal.com booking exists without its row and no row without its booking;
// nothing is left pending or queued.
func (w *world) checkLedger(promises []promise, unavailable []string) {
	t := w.t
	t.Helper()
	rows := w.rows()
	for _, p := range promises {
		var mine []apptRow
		for _, r := range rows {
			if r.CallID == p.CallID && r.Status != "failed" {
				mine = append(mine, r)
			}
		}
		if len(mine) != 1 {
			t.Errorf("call %s: %d live rows, want exactly 1: %+v", p.CallID, len(mine), mine)
			continue
		}
		r := mine[0]
		if r.Status != p.Want || !r.Start.Equal(p.Start.UTC()) {
			t.Errorf("call %s: row %+v, want %s at %s", p.CallID, r, p.Want, p.Start.UTC())
		}
		bs := w.activeBookingsOf(p.CallID)
		switch p.Want {
		case "confirmed":
			if len(bs) != 1 {
				t.Errorf("call %s: %d active Cal.com bookings, want exactly 1", p.CallID, len(bs))
			} else if bs[0].UID != r.UID || !bs[0].Start.Equal(p.Start.UTC()) {
				t.Errorf("call %s: row uid %q at %s, Cal.com booking %q at %s", p.CallID, r.UID, r.Start, bs[0].UID, bs[0].Start)
			}
		case "cancelled":
			if len(bs) != 0 {
				t.Errorf("call %s: cancelled, but %d active Cal.com bookings", p.CallID, len(bs))
			}
		}
	}
	for _, id := range unavailable {
		if n := len(w.activeBookingsOf(id)); n != 0 {
			t.Errorf("call %s was told the calendar is unavailable but has %d bookings", id, n)
		}
		if w.callbacks(id) == 0 {
			t.Errorf("call %s was told the calendar is unavailable but no callback request was recorded", id)
		}
	}
	// No orphans either way, nothing doubled.
	confirmedByUID := map[string]int{}
	for _, r := range rows {
		switch r.Status {
		case "confirmed":
			confirmedByUID[r.UID]++
		case "pending":
			t.Errorf("row %+v still pending after the worker drained", r)
		}
	}
	active := map[string]bool{}
	for _, b := range w.sb.Bookings() {
		if !b.Active() {
			continue
		}
		active[b.UID] = true
		if confirmedByUID[b.UID] != 1 {
			t.Errorf("Cal.com booking %s (call %s) has %d confirmed rows, want 1", b.UID, b.Metadata["retell_call_id"], confirmedByUID[b.UID])
		}
	}
	for uid, n := range confirmedByUID {
		if !active[uid] {
			t.Errorf("%d confirmed rows for %q, which is no active Cal.com booking", n, uid)
		}
	}
	if d := w.e.Queue.Depth(); d != 0 {
		t.Errorf("%d jobs still queued", d)
	}
}

// --- logs ---

type logLine map[string]any

func (w *world) logLines() []logLine {
	var out []logLine
	for _, l := range strings.Split(w.e.Logs.String(), "\n") {
		if l == "" {
			continue
		}
		var m logLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			w.t.Errorf("log line is not JSON: %q", l)
			continue
		}
		out = append(out, m)
	}
	return out
}

// logsWith returns the lines at level or above whose attribute key equals value.
func (w *world) logsWith(minLevel slog.Level, key, value string) []logLine {
	var out []logLine
	for _, l := range w.logLines() {
		var lv slog.Level
		if s, _ := l["level"].(string); lv.UnmarshalText([]byte(s)) != nil || lv < minLevel {
			continue
		}
		if fmt.Sprint(l[key]) == value {
			out = append(out, l)
		}
	}
	return out
}

// msgs lists the messages of lines.
func msgs(ls []logLine) string {
	var s []string
	for _, l := range ls {
		s = append(s, fmt.Sprint(l["msg"]))
	}
	return strings.Join(s, "; ")
}

// --- misc ---

func dbName(t *testing.T) string {
	n := strings.ToLower(t.Name())
	var b strings.Builder
	for _, r := range n {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		sum := sha256.Sum256([]byte(s))
		s = s[:30] + "_" + hex.EncodeToString(sum[:])[:8]
	}
	return "e2e_" + s
}

func databaseName(t *testing.T, db *sql.DB) string {
	var n string
	if err := db.QueryRow(`SELECT DATABASE()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
