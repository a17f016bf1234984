package e2e_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/testenv"
)

// outcome is one row of the fault-injection table.
type outcome struct {
	Heard string // what the caller (or Cal.com) was answered
	End   string // the end state after the worker drained
	Trace string // how the failure is visible
}

type scenario struct {
	name  string
	fault string
	run   func(t *testing.T) outcome
}

// TestFaultMatrix is issue 5's fault-injection table: each scenario runs
// the real system, injects one fault at an edge, lets the worker drain and
// asserts the end state (nothing lost, nothing doubled, every failure
// visible). The table is logged and, with E2E_TABLE_OUT set, written there
// as Markdown.
func TestFaultMatrix(t *testing.T) {
	scenarios := []scenario{
		{"Cal.com 500 on booking", "POST /v2/bookings answers 500 once (nothing stored)", scenarioCreate500},
		{"Cal.com 500 after the booking was stored", "POST /v2/bookings stores, then answers 500", scenarioCreate500AfterCommit},
		{"Timeout after create", "booking stored, answer held 5 s (client gives up); its webhook lost", scenarioTimeoutAfterCreate},
		{"429 on booking", "POST /v2/bookings answers 429 ThrottlerException once", scenarioCreate429},
		{"Cal.com down for 10 minutes, then back", "every Cal.com request hangs 3 s, then 503, for 10 min (test clock); breaker opens after 5 failures", scenarioCalcomOutage},
		{"Redis stopped mid-run", "dedicated redis-server SIGKILLed between two calls", scenarioRedisKilled},
		{"MySQL connection killed during a webhook", "TCP proxy severs all DB connections mid-transaction of BOOKING_CANCELLED, refuses new ones", scenarioMySQLKilledDuringWebhook},
		{"Same SQS message delivered 3×", "one calcom.create_booking message to 3 workers at once, then the queued copy", scenarioTripleDelivery},
		{"Poison message", "unknown job type + undecodable body + job for a missing appointment", scenarioPoison},
		{"Retries exhausted", "cancel answered 500 five times (the call's + 4 receives), the 5th receive meets the open breaker; redrive after recovery", scenarioExhausted},
		{"Webhook PING", "Cal.com's PING sample, signed; once unsigned", scenarioPing},
		{"Webhooks out of order and duplicated", "CREATED, RESCHEDULED, CANCELLED delivered as C,R,Cr,C,Cr,R", scenarioOutOfOrder},
		{"Webhook for an unknown event type", "BOOKING_CREATED for an event type no tenant has; unknown trigger", scenarioUnknownEventType},
	}
	var mu sync.Mutex
	results := map[string]outcome{}
	passed := map[string]bool{}
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				var o outcome
				defer func() {
					mu.Lock()
					results[sc.name], passed[sc.name] = o, !t.Failed()
					mu.Unlock()
				}()
				o = sc.run(t)
			})
		}
	})
	var b strings.Builder
	b.WriteString("| Scenario | Fault injected | Caller / Cal.com heard | End state after the worker drained | Failure visible as | Result |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, sc := range scenarios {
		o, res := results[sc.name], "FAIL"
		if passed[sc.name] {
			res = "pass"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", sc.name, sc.fault, cell(o.Heard), cell(o.End), cell(o.Trace), res)
	}
	t.Log("\n" + b.String())
	if path := os.Getenv("E2E_TABLE_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Errorf("E2E_TABLE_OUT: %v", err)
		}
	}
}

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return strings.ReplaceAll(s, "|", "/")
}

// --- shared checks ---

// wantReason fails unless a is the given reason ("" = ok; a booking
// must then name the appointment).
func wantReason(t *testing.T, what string, a answer, reason string) {
	t.Helper()
	if reason == "" && !a.OK || reason != "" && a.Reason != reason {
		t.Fatalf("%s: got ok=%v reason=%q (%s), want %q", what, a.OK, a.Reason, a.Message, or(reason, "ok"))
	}
	if reason == "" && strings.Contains(what, "book") && a.Appointment == nil {
		t.Fatalf("%s: ok without appointment: %s", what, a.Raw)
	}
}

func or(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// onlyJob returns the one job of typ published so far.
func onlyJob(t *testing.T, w *world, typ string) queue.Job {
	t.Helper()
	js := w.jobs.OfType(typ)
	if len(js) != 1 {
		t.Fatalf("%d %s jobs published, want 1", len(js), typ)
	}
	return js[0]
}

// jobTrace requires a log line naming the job and returns its messages.
func jobTrace(t *testing.T, w *world, minLevel slog.Level, j queue.Job) string {
	t.Helper()
	ls := w.logsWith(minLevel, "job_id", j.ID)
	if len(ls) == 0 {
		t.Errorf("no log line at %s or above names job %s", minLevel, j.ID)
	}
	return msgs(ls)
}

func metric(t *testing.T, w *world, key string, min int) string {
	t.Helper()
	n := w.metrics.get(key)
	if n < min {
		t.Errorf("metric %s = %d, want ≥ %d", key, n, min)
	}
	return fmt.Sprintf("%s=%d", key, n)
}

// --- scenarios ---

func scenarioCreate500(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	c := caller{"call_f500", "+4915110000001"}
	when := at(2, 10, 0)
	w.sb.FailNext(calcomtest.RouteCreate, 1, 500)
	a := w.fn("book-appointment", c, bookArgs(when, "Anna Fuenfhundert"))
	wantReason(t, "book", a, incall.ReasonPendingConfirmation)
	j := onlyJob(t, w, queue.TypeCreateBooking)
	if rs := w.rows(); len(rs) != 1 || rs[0].Status != "pending" {
		t.Fatalf("before the worker: %+v", rs)
	}
	w.drain()
	w.checkLedger([]promise{{c.CallID, when, "confirmed"}}, nil)
	if n := w.sb.Requests()[calcomtest.RouteCreate]; n != 2 {
		t.Errorf("%d creates, want 2 (the refused one and the worker's)", n)
	}
	trace := jobTrace(t, w, slog.LevelDebug, j)
	return outcome{
		Heard: "pending_confirmation (never \"booked\" nor \"failed\")",
		End:   "worker found nothing under the key, created it: 1 booking, row confirmed",
		Trace: fmt.Sprintf("job log (%s); %s; %s", trace, metric(t, w, "BookingOutcome|outcome=pending", 1),
			metric(t, w, platform.MetricJobsProcessed+"|jobtype="+queue.TypeCreateBooking, 1)),
	}
}

func scenarioCreate500AfterCommit(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	c := caller{"call_f500ac", "+4915110000002"}
	when := at(2, 10, 30)
	w.sb.InjectFault(calcomtest.RouteCreate, calcomtest.Fault{AfterCommit: true, Status: 500})
	a := w.fn("book-appointment", c, bookArgs(when, "Anna Nachher"))
	wantReason(t, "book", a, incall.ReasonPendingConfirmation)
	onlyJob(t, w, queue.TypeCreateBooking)
	w.flushHooks() // Cal.com's BOOKING_CREATED reaches the gateway first
	w.drain()
	w.checkLedger([]promise{{c.CallID, when, "confirmed"}}, nil)
	if n := w.sb.Requests()[calcomtest.RouteCreate]; n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
	hooks := w.sb.Webhooks()
	if len(hooks) != 1 || hooks[0].Trigger != calcom.TriggerBookingCreated || hooks[0].Status != http.StatusOK {
		t.Errorf("webhooks: %+v", hooks)
	}
	return outcome{
		Heard: "pending_confirmation",
		End:   "BOOKING_CREATED webhook linked the pending row; worker found it confirmed: 1 booking, 1 row",
		Trace: metric(t, w, "BookingOutcome|outcome=pending", 1) + "; " + metric(t, w, platform.MetricCalcomErrors, 1),
	}
}

func scenarioTimeoutAfterCreate(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	c := caller{"call_timeout", "+4915110000003"}
	when := at(2, 11, 0)
	w.sb.TimeoutAfterCreate(5 * time.Second)
	w.sb.SkipWebhooks(1) // and Cal.com's webhook is lost: only the worker can finish it
	a := w.fn("book-appointment", c, bookArgs(when, "Tim Auszeit"))
	wantReason(t, "book", a, incall.ReasonPendingConfirmation)
	if a.Took > 3*time.Second {
		t.Errorf("answer took %v", a.Took)
	}
	j := onlyJob(t, w, queue.TypeCreateBooking)
	w.drain()
	w.checkLedger([]promise{{c.CallID, when, "confirmed"}}, nil)
	if n := w.sb.Requests()[calcomtest.RouteCreate]; n != 1 {
		t.Errorf("%d creates, want 1: the worker must find the booking by its key", n)
	}
	trace := jobTrace(t, w, slog.LevelDebug, j)
	return outcome{
		Heard: fmt.Sprintf("pending_confirmation after %.1f s", a.Took.Seconds()),
		End:   "worker found the booking by metadata.idempotency_key (no 2nd create): 1 booking, row confirmed",
		Trace: fmt.Sprintf("job log (%s); %s", trace, metric(t, w, platform.MetricCalcomErrors+"|kind=transient", 1)),
	}
}

func scenarioCreate429(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	c := caller{"call_429", "+4915110000004"}
	when := at(2, 11, 30)
	w.sb.FailNext(calcomtest.RouteCreate, 1, 429)
	a := w.fn("book-appointment", c, bookArgs(when, "Rita Ratenlimit"))
	wantReason(t, "book", a, incall.ReasonCalendarUnavailable)
	if w.callbacks(c.CallID) != 1 {
		t.Errorf("no callback request for the caller")
	}
	if len(w.activeBookingsOf(c.CallID)) != 0 {
		t.Fatalf("booked although Cal.com refused")
	}
	warn := w.logsWith(slog.LevelWarn, "call_id", c.CallID)
	if len(warn) == 0 {
		t.Errorf("no warning names the call")
	}
	// The agent asks again a moment later: the key was released, it books once.
	b := w.fn("book-appointment", c, bookArgs(when, "Rita Ratenlimit"))
	wantReason(t, "retry", b, "")
	w.drain()
	w.checkLedger([]promise{{c.CallID, when, "confirmed"}}, nil)
	return outcome{
		Heard: "calendar_unavailable (nothing booked); the same request again: booked",
		End:   "1 booking, 1 confirmed row (+ the refused attempt's row marked failed); no job needed",
		Trace: fmt.Sprintf("callback request; warn log with call_id (%s); %s", msgs(warn), metric(t, w, "BookingOutcome|outcome=failed", 1)),
	}
}

func scenarioCalcomOutage(t *testing.T) outcome {
	const openFor = time.Second
	w := newWorld(t, worldOptions{breakerOpenFor: openFor})
	ctx := context.Background()
	a := caller{"call_out_a", "+4915110000010"}
	wantReason(t, "book before the outage", w.fn("book-appointment", a, bookArgs(at(3, 9, 0), "Vor Ausfall")), "")
	w.flushHooks() // its BOOKING_CREATED drops the day from the cache; B reads it again below

	// Cal.com starts failing in the middle of B's booking: stored, then 503.
	b := caller{"call_out_b", "+4915110000011"}
	w.sb.InjectFault(calcomtest.RouteCreate, calcomtest.Fault{AfterCommit: true, Status: 503})
	w.sb.SkipWebhooks(1) // its webhook system is down as well
	wantReason(t, "booking as Cal.com goes down", w.fn("book-appointment", b, bookArgs(at(3, 9, 30), "Mitten Ausfall")), incall.ReasonPendingConfirmation)
	w.cal.hang.Store(int64(3 * time.Second)) // longer than any client timeout
	w.cal.down.Store(true)

	// E books a time of a day whose availability is cached: the create
	// meets the dead Cal.com, so E hears "pending" and the write is queued.
	e := caller{"call_out_e", "+4915110000012"}
	eAns := w.fn("book-appointment", e, bookArgs(at(3, 14, 0), "Cache Ausfall"))
	wantReason(t, "booking from the cache during the outage", eAns, incall.ReasonPendingConfirmation)
	if eAns.Took > 3*time.Second {
		t.Errorf("the pending answer took %v", eAns.Took)
	}
	if n := len(w.jobs.OfType(queue.TypeCreateBooking)); n != 2 {
		t.Fatalf("%d create jobs, want 2 (B and E)", n)
	}

	// Callers asking about days nobody looked at: the calendar is unavailable.
	var unavailable []string
	var slowest time.Duration
	for i := range 7 {
		c := caller{fmt.Sprintf("call_out_c%d", i), fmt.Sprintf("+49151100001%02d", i)}
		when := at(22+i%5, 10+i, 0) // beyond the 16 days cached by the bookings before
		fn, args := "check-availability", slotArgs(when)
		if i%2 == 1 {
			fn, args = "book-appointment", bookArgs(when, "Waehrend Ausfall")
		}
		ans := w.fn(fn, c, args)
		wantReason(t, fn+" during the outage", ans, incall.ReasonCalendarUnavailable)
		slowest = max(slowest, ans.Took)
		unavailable = append(unavailable, c.CallID)
	}
	if slowest > 2500*time.Millisecond {
		t.Errorf("slowest answer during the outage took %v, over the 2.5 s budget", slowest)
	}
	cl, err := w.d.CalcomClient(ctx, w.e.Tenant.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	if st := cl.BreakerState(); st != "open" {
		t.Errorf("breaker %s after the failures, want open", st)
	}
	// Open breaker: no request reaches Cal.com.
	refused := w.cal.refused.Load()
	ans := w.fn("check-availability", caller{"call_out_open", "+4915110000020"}, slotArgs(at(29, 10, 0)))
	wantReason(t, "with the breaker open", ans, incall.ReasonCalendarUnavailable)
	unavailable = append(unavailable, "call_out_open")
	if w.cal.refused.Load() != refused {
		t.Errorf("Cal.com was called although the breaker is open")
	}

	// The worker runs during the outage: B's and E's jobs fail and wait
	// for their retry.
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_ = w.e.Queue.Run(rctx, w.e.Processor)
	cancel()
	if w.e.Queue.Depth() != 2 || len(w.e.Queue.DLQ()) != 0 {
		t.Fatalf("during the outage: depth %d, DLQ %d; want both jobs waiting for a retry", w.e.Queue.Depth(), len(w.e.Queue.DLQ()))
	}
	var retried []logLine
	for _, j := range w.jobs.OfType(queue.TypeCreateBooking) {
		ls := w.logsWith(slog.LevelWarn, "job_id", j.ID)
		if len(ls) == 0 {
			t.Errorf("the failed attempt of job %s left no warning", j.ID)
		}
		retried = append(retried, ls...)
	}

	// Ten minutes later Cal.com is back; the breaker lets a probe through.
	w.e.Clock.Advance(10 * time.Minute)
	w.cal.down.Store(false)
	time.Sleep(openFor + 100*time.Millisecond)
	w.drain()
	d := caller{"call_out_d", "+4915110000030"}
	wantReason(t, "book after recovery", w.fn("book-appointment", d, bookArgs(at(3, 16, 0), "Nach Ausfall")), "")
	if st := cl.BreakerState(); st != "closed" {
		t.Errorf("breaker %s after recovery", st)
	}
	w.drain()
	w.checkLedger([]promise{{a.CallID, at(3, 9, 0), "confirmed"}, {b.CallID, at(3, 9, 30), "confirmed"},
		{e.CallID, at(3, 14, 0), "confirmed"}, {d.CallID, at(3, 16, 0), "confirmed"}}, unavailable)
	return outcome{
		Heard: fmt.Sprintf("%d callers: calendar_unavailable, slowest %.2f s while Cal.com hung, instant once the breaker opened (no Cal.com request); 2 callers whose create met the outage: pending_confirmation (%.2f s)", len(unavailable), slowest.Seconds(), eAns.Took.Seconds()),
		End:   "both create jobs retried during the outage, done after recovery (one found by key, one created); new bookings work; 4 bookings = 4 confirmed rows",
		Trace: fmt.Sprintf("%d callback requests; job warn log (%s); %s", len(unavailable), msgs(retried), metric(t, w, "CalendarUnavailable", len(unavailable))),
	}
}

func scenarioRedisKilled(t *testing.T) outcome {
	rp := startRedis(t)
	rc := redis.NewClient(redis.Options{Addr: rp.addr})
	t.Cleanup(func() { rc.Close() })
	w := newWorld(t, worldOptions{mutate: func(d *app.Deps) { d.Redis, d.Keys = rc, redis.Keys{Prefix: "e2e:"} }})
	ctx := context.Background()

	a := caller{"call_redis_a", "+4915110000040"}
	wantReason(t, "check with Redis", w.fn("check-availability", a, slotArgs(at(2, 14, 0))), "")
	bodyA := w.envelope("book-appointment", a, bookArgs(at(2, 14, 0), "Rudi Redis"))
	first := w.fnBody("book-appointment", bodyA)
	wantReason(t, "book with Redis", first, "")
	if n, err := rc.DBSize(ctx).Result(); err != nil || n == 0 {
		t.Fatalf("Redis holds %d keys (%v): the scenario would not prove anything", n, err)
	}

	rp.kill()

	// The same request again (Retell retries): answered from MySQL's record.
	replay := w.fnBody("book-appointment", bodyA)
	if replay.Raw != first.Raw {
		t.Errorf("replay without Redis: %s, first answer %s", replay.Raw, first.Raw)
	}
	// A new caller checks and books; the same request 3× at once.
	b := caller{"call_redis_b", "+4915110000041"}
	check := w.fn("check-availability", b, slotArgs(at(2, 15, 0)))
	wantReason(t, "check without Redis", check, "")
	bodyB := w.envelope("book-appointment", b, bookArgs(at(2, 15, 0), "Berta Ohneredis"))
	var wg sync.WaitGroup
	answers := make([]answer, 3)
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = w.fnBody("book-appointment", bodyB) }()
	}
	wg.Wait()
	slowest := check.Took
	booked := 0
	for _, x := range answers {
		slowest = max(slowest, x.Took)
		if x.OK {
			booked++
		} else if x.Reason != incall.ReasonPendingConfirmation { // "still being processed" is honest too
			t.Errorf("concurrent duplicate: %+v", x.Answer)
		}
	}
	if booked == 0 {
		t.Errorf("none of the 3 identical requests booked")
	}
	// Two callers race for one slot without Redis locks: MySQL and Cal.com decide.
	c1, c2 := caller{"call_redis_c1", "+4915110000042"}, caller{"call_redis_c2", "+4915110000043"}
	race := make([]answer, 2)
	wg.Add(2)
	go func() { defer wg.Done(); race[0] = w.fn("book-appointment", c1, bookArgs(at(2, 16, 0), "Carl Eins")) }()
	go func() { defer wg.Done(); race[1] = w.fn("book-appointment", c2, bookArgs(at(2, 16, 0), "Carla Zwei")) }()
	wg.Wait()
	promises := []promise{{a.CallID, at(2, 14, 0), "confirmed"}, {b.CallID, at(2, 15, 0), "confirmed"}}
	winners := 0
	for i, x := range race {
		slowest = max(slowest, x.Took)
		switch {
		case x.OK:
			winners++
			promises = append(promises, promise{[]caller{c1, c2}[i].CallID, at(2, 16, 0), "confirmed"})
		case x.Reason != incall.ReasonSlotTaken:
			t.Errorf("race loser: %+v", x.Answer)
		}
	}
	if winners != 1 {
		t.Errorf("%d callers got the same slot, want exactly 1", winners)
	}
	if slowest > 2500*time.Millisecond {
		t.Errorf("slowest answer without Redis took %v", slowest)
	}
	w.drain()
	w.checkLedger(promises, nil)
	if n := w.sb.Requests()[calcomtest.RouteCreate]; n > 4 {
		t.Errorf("%d Cal.com creates for 3 bookings and one race", n)
	}
	warn := w.logsWith(slog.LevelWarn, "error_kind", string(booking.KindTransient))
	if len(warn) == 0 && w.metrics.get("CacheErrors")+w.metrics.get("LockErrors") == 0 {
		t.Errorf("Redis being gone left no trace (no warning, no CacheErrors/LockErrors)")
	}
	return outcome{
		Heard: fmt.Sprintf("every answer as with Redis (replay identical, race: 1 booked + 1 slot_taken), slowest %.2f s", slowest.Seconds()),
		End:   "exactly one booking and one row per booked caller (MySQL idempotency + Cal.com refusal); 3 identical requests → 1 booking",
		Trace: fmt.Sprintf("%d warnings with error_kind=transient; CacheErrors=%d, LockErrors=%d", len(warn), w.metrics.get("CacheErrors"), w.metrics.get("LockErrors")),
	}
}

func scenarioMySQLKilledDuringWebhook(t *testing.T) outcome {
	var proxy *dbProxy
	w := newWorld(t, worldOptions{mutate: func(d *app.Deps) {
		cfg, err := mysqldriver.ParseDSN(testenv.MySQLServerDSN())
		if err != nil {
			t.Fatal(err)
		}
		proxy = startDBProxy(t, cfg.Addr)
		cfg.Addr, cfg.DBName = proxy.addr(), databaseName(t, d.Store.DB())
		db, err := mysql.Open(context.Background(), cfg.FormatDSN(), mysql.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		// Everything the gateway and the worker do goes through the proxy.
		d.Store = mysql.NewStore(db, pii.DevKeyring(), d.Clock)
	}})
	ctx := context.Background()
	c := caller{"call_dbkill", "+4915110000050"}
	when := at(4, 10, 0)
	wantReason(t, "book", w.fn("book-appointment", c, bookArgs(when, "Doris Datenbank")), "")
	w.flushHooks()
	row := w.rows()[0]

	// The salon cancels in Cal.com; MySQL dies while the webhook's
	// transaction runs (after the row was updated, before the audit row).
	proxy.cutOn("appointment_changes")
	biz, err := calcom.New(calcom.Config{BaseURL: w.sb.URL(), APIKey: apptest.CalcomAPIKey, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := biz.CancelBooking(ctx, row.UID, "Salon geschlossen"); err != nil {
		t.Fatal(err)
	}
	w.flushHooks()
	hooks := w.sb.Webhooks()
	last := hooks[len(hooks)-1]
	if last.Trigger != calcom.TriggerBookingCancelled || last.Status != http.StatusOK {
		t.Fatalf("Cal.com's BOOKING_CANCELLED got %d (%s), want 200", last.Status, last.Err)
	}
	if proxy.cutCount() != 1 {
		t.Fatalf("the connection was not severed during the webhook (cuts %d)", proxy.cutCount())
	}
	if r := w.rows()[0]; r.Status != "confirmed" {
		t.Fatalf("the severed transaction was not rolled back: %+v", r)
	}
	if w.e.Queue.Depth() != 1 || len(w.jobs.OfType(queue.TypeCalcomEvent)) != 1 {
		t.Fatalf("webhook not queued: depth %d", w.e.Queue.Depth())
	}
	queued := w.logsWith(slog.LevelWarn, "uid", row.UID)

	// The worker tries while MySQL is still away: retried, not lost.
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_ = w.e.Queue.Run(rctx, w.e.Processor)
	cancel()
	if w.e.Queue.Depth() != 1 {
		t.Fatalf("job lost while the database is down")
	}
	proxy.restore()
	w.drain()
	w.checkLedger([]promise{{c.CallID, when, "cancelled"}}, nil)
	if n := w.count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'cancelled'`, row.ID); n != 1 {
		t.Errorf("%d 'cancelled' audit rows, want 1", n)
	}
	// Cal.com's webhook arriving again changes nothing.
	if s := w.calHook(last.Body); s != http.StatusOK {
		t.Errorf("duplicate: %d", s)
	}
	if n := w.count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ?`, row.ID); n != 2 {
		t.Errorf("%d changes after the duplicate, want 2 (booked, cancelled)", n)
	}
	return outcome{
		Heard: "Cal.com: 200 (event queued as calcom.event)",
		End:   "transaction rolled back; job retried while MySQL was away, applied after: row cancelled once, 1 audit row",
		Trace: fmt.Sprintf("warn log with uid (%s); %s", msgs(queued),
			metric(t, w, platform.MetricWebhookEventsDeferred+"|eventtype="+calcom.TriggerBookingCancelled, 1)),
	}
}

// sqsRecord renders a job as the SQS record Lambda would hand the worker.
func sqsRecord(t *testing.T, j queue.Job, msgID string, receive int) events.SQSMessage {
	body, err := queue.Encode(j)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) events.SQSMessageAttribute {
		return events.SQSMessageAttribute{StringValue: &s, DataType: "String"}
	}
	return events.SQSMessage{MessageId: msgID, ReceiptHandle: fmt.Sprintf("%s#%d", msgID, receive), Body: string(body),
		Attributes:        map[string]string{"ApproximateReceiveCount": fmt.Sprint(receive)},
		MessageAttributes: map[string]events.SQSMessageAttribute{queue.AttrJobID: str(j.ID), queue.AttrJobType: str(j.Type), queue.AttrTenantID: str(j.TenantID)}}
}

func scenarioTripleDelivery(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	c := caller{"call_triple", "+4915110000060"}
	when := at(2, 12, 0)
	w.sb.FailNext(calcomtest.RouteCreate, 1, 500) // nothing stored: every delivery must decide "create"
	wantReason(t, "book", w.fn("book-appointment", c, bookArgs(when, "Tina Dreifach")), incall.ReasonPendingConfirmation)
	j := onlyJob(t, w, queue.TypeCreateBooking)
	// A slow Cal.com widens the race: all three look for the booking
	// before any of them has created it.
	w.sb.SetLatency(150 * time.Millisecond)

	// SQS delivers the same message to three workers at once.
	var wg sync.WaitGroup
	var failures [3]int
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := w.e.Processor.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord(t, j, "dup-msg", i+1)}})
			failures[i] = len(resp.BatchItemFailures)
		}()
	}
	wg.Wait()
	w.drain() // and the copy still in the queue: a fourth delivery
	w.checkLedger([]promise{{c.CallID, when, "confirmed"}}, nil)
	if n := w.callbacks(c.CallID); n != 0 {
		t.Errorf("%d callback requests: a duplicate delivery was taken for a lost slot", n)
	}
	for _, r := range w.rows() {
		if r.NeedsAttention != "" {
			t.Errorf("row needs attention after duplicates: %+v", r)
		}
	}
	creates := w.sb.Requests()[calcomtest.RouteCreate]
	if creates < 2 || creates > 4 {
		t.Errorf("%d Cal.com creates, want the call's one plus at most one per concurrent delivery", creates)
	}
	return outcome{
		Heard: "pending_confirmation",
		End:   fmt.Sprintf("4 deliveries (3 concurrent); %d Cal.com creates (the call's 500, then one per concurrent worker: 2 refused as taken, recognised as ours by key): 1 booking, 1 confirmed row, no callback, nothing in the DLQ", creates),
		Trace: fmt.Sprintf("batch item failures %v; %s", failures, metric(t, w, platform.MetricJobsProcessed+"|jobtype="+queue.TypeCreateBooking, 1)),
	}
}

func scenarioPoison(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	unknown, err := queue.NewJob("calcom.frobnicate", tenantID, "", map[string]int{"x": 1}, w.e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	missing, err := queue.NewJob(queue.TypeCreateBooking, tenantID, "k-missing",
		incall.CreateBookingJob{AppointmentID: 987654, Requests: []booking.CreateBookingRequest{{EventTypeID: etHerren, Start: at(2, 10, 0)}}}, w.e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []queue.Job{unknown, missing} {
		if err := w.d.Publisher.Publish(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	// A body no version of the worker can read, straight from "SQS".
	garbage := sqsRecord(t, unknown, "garbage-msg", 1)
	garbage.Body = `{"v":1,"id":` // truncated
	garbage.MessageAttributes[queue.AttrJobID] = events.SQSMessageAttribute{StringValue: ptr("garbage-job"), DataType: "String"}
	resp, _ := w.e.Processor.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{garbage}})
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("the garbage message would be redelivered: %+v", resp)
	}
	w.drain()
	w.drain() // nothing comes back
	dlq := w.e.Queue.DLQ()
	ids := map[string]int{}
	for _, m := range dlq {
		ids[m.JobID]++
	}
	if len(dlq) != 2 || ids[unknown.ID] != 1 || ids["garbage-job"] != 1 {
		t.Errorf("DLQ %+v, want the unknown-type job and the garbage once each", ids)
	}
	for _, m := range dlq {
		if m.Receives > 1 {
			t.Errorf("%s received %d times before the DLQ, want once", m.JobID, m.Receives)
		}
	}
	if ids[missing.ID] != 0 {
		t.Errorf("a permanent failure went to the DLQ")
	}
	for _, id := range []string{unknown.ID, "garbage-job", missing.ID} {
		ls := w.logsWith(slog.LevelError, "job_id", id)
		if len(ls) == 0 {
			t.Errorf("job %s: no error logged", id)
		}
		seen := map[string]int{}
		for _, l := range ls {
			seen[fmt.Sprint(l["msg"])]++
		}
		for m, n := range seen {
			if n > 1 {
				t.Errorf("job %s: %q logged %d times: it was run again", id, m, n)
			}
		}
	}
	w.checkLedger(nil, nil)
	return outcome{
		Heard: "—",
		End:   "unknown type and unreadable body: DLQ once each after 1 receive; missing appointment: failed for good, not retried, not in the DLQ; queue empty",
		Trace: fmt.Sprintf("error logs with job_id (%s); %s",
			msgs(w.logsWith(slog.LevelError, "job_id", unknown.ID)), metric(t, w, platform.MetricJobFailures, 3)),
	}
}

func ptr(s string) *string { return &s }

func scenarioExhausted(t *testing.T) outcome {
	const openFor = 1500 * time.Millisecond
	w := newWorld(t, worldOptions{breakerOpenFor: openFor})
	c := caller{"call_exhaust", "+4915110000070"}
	when := at(5, 10, 0) // Friday: far enough ahead to cancel free of charge
	wantReason(t, "book", w.fn("book-appointment", c, bookArgs(when, "Erna Erschoepft")), "")
	w.flushHooks()
	// Cal.com answers the cancel 500 (a write's 5xx is "unknown outcome":
	// retried until done) and every retry too: the caller's request and the
	// first four receives meet a 500, the fifth the open circuit breaker.
	w.sb.InjectFault(calcomtest.RouteCancel, calcomtest.Fault{Status: 500, Times: 5})
	a := w.fn("cancel-appointment", c, map[string]any{"date": "2027-03-05", "time": "10:00"})
	if !a.OK {
		t.Logf("cancel answered %s: %s", a.Reason, a.Message)
	}
	jobs := w.jobs.OfType(queue.TypeCancel)
	if len(jobs) != 1 {
		t.Fatalf("%d cancel jobs (answer %+v), want 1", len(jobs), a.Answer)
	}
	j := jobs[0]
	w.drain()
	dlq := w.e.Queue.DLQ()
	if len(dlq) != 1 || dlq[0].JobID != j.ID || dlq[0].Receives != queue.DefaultMaxReceives {
		t.Fatalf("DLQ %+v, want the cancel job after %d receives", dlq, queue.DefaultMaxReceives)
	}
	var attention string
	for _, r := range w.rows() {
		if r.CallID == c.CallID {
			attention = r.NeedsAttention
		}
	}
	if attention == "" {
		t.Errorf("the appointment is not marked needs_attention")
	}
	failed := jobTrace(t, w, slog.LevelError, j)
	trace := fmt.Sprintf("needs_attention=%q; error log (%s); %s", attention, failed,
		metric(t, w, platform.MetricJobFailures+"|jobtype="+queue.TypeCancel, 1))

	// Cal.com is fine again (the faults are used up); once the breaker
	// lets a probe through, the operator redrives the DLQ.
	time.Sleep(openFor + 100*time.Millisecond)
	if n := w.e.Queue.Redrive(); n != 1 {
		t.Fatalf("redrove %d", n)
	}
	w.drain()
	w.checkLedger([]promise{{c.CallID, when, "cancelled"}}, nil)
	return outcome{
		Heard: fmt.Sprintf("cancel: ok=%v (unknown outcome, retried in the background)", a.OK),
		End:   "5 receives with backoff, then DLQ once; after redrive: cancelled in Cal.com, row cancelled",
		Trace: trace,
	}
}

func scenarioPing(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	body, err := os.ReadFile(testenv.ContractsDir(t) + "/calcom/ping.json")
	if err != nil {
		t.Fatal(err)
	}
	tables := []string{"appointments", "customers", "webhook_receipts", "appointment_changes", "callback_requests", "audit_log"}
	before := rowCounts(t, w.e.Store.DB(), tables)
	if s := w.calHook(body); s != http.StatusOK {
		t.Errorf("signed PING: %d, want 200", s)
	}
	unsigned, _ := w.post("/webhooks/calcom", body, nil)
	if unsigned != http.StatusUnauthorized {
		t.Errorf("unsigned PING: %d, want 401", unsigned)
	}
	if after := rowCounts(t, w.e.Store.DB(), tables); after != before {
		t.Errorf("PING stored something: %s → %s", before, after)
	}
	w.drain()
	w.checkLedger(nil, nil)
	return outcome{
		Heard: "signed: 200; unsigned: 401",
		End:   "nothing stored (" + before + " rows in appointments, customers, receipts, changes, callbacks, audit before and after), nothing queued",
		Trace: metric(t, w, platform.MetricWebhookEvents+"|eventtype="+calcom.TriggerPing, 1) + "; " + metric(t, w, platform.MetricWebhookSignatureFailures, 1),
	}
}

func rowCounts(t *testing.T, db *sql.DB, tables []string) string {
	var parts []string
	for _, tb := range tables {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprint(n))
	}
	return strings.Join(parts, "/")
}

func scenarioOutOfOrder(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	ctx := context.Background()
	w.holdHooks(true)
	c := caller{"call_order", "+4915110000080"}
	when, moved := at(4, 11, 0), at(4, 15, 0)
	wantReason(t, "book", w.fn("book-appointment", c, bookArgs(when, "Otto Reihenfolge")), "")
	row := w.rows()[0]
	biz, err := calcom.New(calcom.Config{BaseURL: w.sb.URL(), APIKey: apptest.CalcomAPIKey, Clock: w.e.Clock, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		t.Fatal(err)
	}
	// The salon moves it in Cal.com, later cancels the moved booking.
	w.e.Clock.Advance(time.Hour)
	nb, err := biz.RescheduleBooking(ctx, row.UID, moved, "Friseurin krank")
	if err != nil {
		t.Fatal(err)
	}
	w.e.Clock.Advance(time.Hour)
	if _, err := biz.CancelBooking(ctx, nb.UID, "Salon geschlossen"); err != nil {
		t.Fatal(err)
	}
	w.flushHooks()
	held := w.heldHooks()
	by := map[string]heldHook{}
	for _, h := range held {
		by[h.Trigger] = h
	}
	if len(held) != 3 || len(by) != 3 {
		t.Fatalf("held %d webhooks: %v", len(held), by)
	}
	cr, rs, cn := by[calcom.TriggerBookingCreated], by[calcom.TriggerBookingRescheduled], by[calcom.TriggerBookingCancelled]
	order := []heldHook{cn, rs, cr, cn, cr, rs}
	var statuses []int
	for _, h := range order {
		s, _ := w.post("/webhooks/calcom", h.Body, map[string]string{calcom.SignatureHeader: h.Sig})
		statuses = append(statuses, s)
		if s != http.StatusOK {
			t.Errorf("%s: %d", h.Trigger, s)
		}
	}
	w.holdHooks(false)
	w.drain()
	rows := w.rows()
	if len(rows) != 1 {
		t.Fatalf("%d rows, want the one appointment: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.Status != "cancelled" || r.UID != nb.UID || !r.Start.Equal(moved.UTC()) {
		t.Errorf("end state %+v, want cancelled at %s under %s", r, moved.UTC(), nb.UID)
	}
	if n := w.count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'cancelled'`, r.ID); n != 1 {
		t.Errorf("%d cancellations recorded, want 1", n)
	}
	if n := w.count(`SELECT COUNT(*) FROM webhook_receipts WHERE provider = 'calcom'`); n != 3 {
		t.Errorf("%d receipts, want 3 (one per distinct event)", n)
	}
	w.checkLedger([]promise{{c.CallID, moved, "cancelled"}}, nil)
	return outcome{
		Heard: fmt.Sprintf("Cal.com: %v", statuses),
		End:   "one row: moved to the new uid and time, cancelled once; duplicates and the stale CREATED/RESCHEDULED changed nothing; 3 receipts",
		Trace: metric(t, w, platform.MetricWebhookEvents, 6) + " (per trigger); results logged per event",
	}
}

func scenarioUnknownEventType(t *testing.T) outcome {
	w := newWorld(t, worldOptions{})
	// The salon's Cal.com account has an event type no tenant file names.
	if err := w.sb.AddEventType(calcomtest.EventType{ID: 987654, LengthMinutes: 30, TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.AddBooking(calcomtest.Booking{EventTypeID: 987654, Start: at(3, 12, 0).UTC(),
		Attendee: calcom.Attendee{Name: "Fremd Typ", PhoneNumber: "+4915110000090"}}, true); err != nil {
		t.Fatal(err)
	}
	w.flushHooks()
	hooks := w.sb.Webhooks()
	if len(hooks) != 1 || hooks[0].Status != http.StatusOK {
		t.Fatalf("deliveries %+v", hooks)
	}
	// A trigger we do not handle at all.
	other, _ := json.Marshal(map[string]any{"triggerEvent": "MEETING_ENDED", "createdAt": "2027-03-01T08:00:00.000Z",
		"payload": map[string]any{"uid": "uidMeetingEnded000001", "eventTypeId": etHerren}})
	if s := w.calHook(other); s != http.StatusOK {
		t.Errorf("MEETING_ENDED: %d", s)
	}
	if n := w.count(`SELECT COUNT(*) FROM appointments`) + w.count(`SELECT COUNT(*) FROM customers`) + w.count(`SELECT COUNT(*) FROM webhook_receipts`); n != 0 {
		t.Errorf("%d rows written for events we do not own", n)
	}
	w.drain()
	w.checkLedgerIgnoring(987654)
	ignored := w.logsWith(slog.LevelInfo, "event_type_id", "987654")
	if len(ignored) == 0 {
		t.Errorf("the ignored event left no log line")
	}
	return outcome{
		Heard: "Cal.com: 200 for both",
		End:   "nothing stored, nothing queued",
		Trace: fmt.Sprintf("info log with event_type_id (%s); %s", msgs(ignored), metric(t, w, platform.MetricWebhookEvents+"|eventtype=MEETING_ENDED", 1)),
	}
}

// checkLedgerIgnoring is checkLedger without the Cal.com bookings of a
// foreign event type (they are not ours to mirror).
func (w *world) checkLedgerIgnoring(eventTypeID int64) {
	w.t.Helper()
	var foreign []string
	for _, b := range w.sb.Bookings() {
		if b.EventTypeID == eventTypeID && b.Active() {
			foreign = append(foreign, b.UID)
		}
	}
	sort.Strings(foreign)
	if len(foreign) != 1 {
		w.t.Errorf("foreign bookings %v", foreign)
	}
	if d := w.e.Queue.Depth(); d != 0 {
		w.t.Errorf("%d jobs queued", d)
	}
	if n := w.count(`SELECT COUNT(*) FROM appointments`); n != 0 {
		w.t.Errorf("%d rows", n)
	}
}
