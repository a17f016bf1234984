package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
)

// slot is where one simulated call wants to book.
type slot struct {
	service string
	start   time.Time
}

// slotPlan hands out distinct bookable slots of the demo tenant, spread
// round-robin over blocks of days so concurrent calls rarely share a day.
type slotPlan struct {
	loc     *time.Location
	day0    time.Time
	block   int // days per block
	blockNo int
	queue   []slot
}

var planServices = []struct {
	name    string
	minutes int
}{{"Herrenhaarschnitt", 30}, {"Damenhaarschnitt", 60}}

func newSlotPlan(now time.Time, loc *time.Location) *slotPlan {
	l := now.In(loc)
	return &slotPlan{loc: loc, day0: time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 2), block: 12}
}

// hours of the demo tenant: Mon–Fri 9–18, Sat 9–14.
func openHours(d time.Time) (int, int) {
	switch d.Weekday() {
	case time.Sunday:
		return 0, 0
	case time.Saturday:
		return 9 * 60, 14 * 60
	}
	return 9 * 60, 18 * 60
}

func (p *slotPlan) refill() {
	var perDay [][]slot
	for i := 0; i < p.block; i++ {
		d := p.day0.AddDate(0, 0, p.blockNo*p.block+i)
		open, close := openHours(d)
		var day []slot
		for _, sv := range planServices {
			// Steps of the service's own length: neighbours never overlap.
			for m := open; m+sv.minutes <= close; m += sv.minutes {
				day = append(day, slot{service: sv.name, start: d.Add(time.Duration(m) * time.Minute)})
			}
		}
		// Interleave the services' times so neighbours differ.
		if len(day) > 0 {
			perDay = append(perDay, interleave(day))
		}
	}
	p.blockNo++
	for more := true; more; {
		more = false
		for i := range perDay {
			if len(perDay[i]) > 0 {
				p.queue = append(p.queue, perDay[i][0])
				perDay[i] = perDay[i][1:]
				more = true
			}
		}
	}
}

func interleave(day []slot) []slot {
	out := make([]slot, 0, len(day))
	half := (len(day) + 1) / 2
	for i := 0; i < half; i++ {
		out = append(out, day[i])
		if j := i + half; j < len(day) {
			out = append(out, day[j])
		}
	}
	return out
}

func (p *slotPlan) take(n int) []slot {
	for len(p.queue) < n {
		p.refill()
	}
	out := p.queue[:n:n]
	p.queue = p.queue[n:]
	return out
}

// contended returns n requests for only four slots of one day: most calls
// find their slot taken (contention mode).
func (p *slotPlan) contended(n int) []slot {
	base := p.take(4)
	out := make([]slot, n)
	for i := range out {
		out[i] = base[i%len(base)]
	}
	return out
}

// reqRecord is one measured request.
type reqRecord struct {
	fn       string
	total    time.Duration
	calcom   time.Duration
	calcomN  int64
	status   int
	failed   bool // transport error or non-2xx
	outcome  string
	allocB   uint64
	allocObj uint64
}

func (r reqRecord) gateway() time.Duration {
	g := r.total - r.calcom
	if g < 0 {
		return 0
	}
	return g
}

// levelResult is the raw material of one (latency, concurrency) run.
type levelResult struct {
	latency     time.Duration
	concurrency int
	transport   string
	calls       int
	records     []reqRecord
	cached      []reqRecord // the dedicated cache phase
	wall        time.Duration
	booked      int
	declined    map[string]int
	calcomTotal int // sandbox requests during the call phase
	background  int64
	hits, miss  int64
	allocBytes  uint64
	allocObjs   uint64
	stopped     bool // the time limit ended it early
	think       time.Duration
}

type recorder struct {
	mu      sync.Mutex
	records []reqRecord
}

func (r *recorder) add(rec reqRecord) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// measured runs one request with a fresh sample and records it.
func measured(ctx context.Context, rec *recorder, fn string, do func(ctx context.Context) (callsim.Step, error)) (callsim.Step, bool) {
	s := &sample{}
	st, err := do(withSample(ctx, s))
	r := reqRecord{fn: fn, total: time.Duration(st.LatencyMS * float64(time.Millisecond)), calcom: time.Duration(s.calcomNanos.Load()),
		calcomN: s.calcomCount.Load(), status: st.Status, allocB: s.allocBytes, allocObj: s.allocObjs}
	r.failed = err != nil || st.Status < 200 || st.Status > 299 || st.Problem != ""
	switch {
	case err != nil:
		r.outcome = "error"
	case st.OK != nil && *st.OK:
		r.outcome = "ok"
	case st.Reason != "":
		r.outcome = st.Reason
	default:
		r.outcome = fmt.Sprintf("http_%d", st.Status)
	}
	if ctx.Err() == nil {
		rec.add(r)
	}
	return st, err == nil && !r.failed
}

// settle waits for the sandbox's webhooks to be delivered.
func (b *bench) settle(ctx context.Context) {
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = b.sys.st.Sandbox.FlushWebhooks(fctx)
}

// pause is the caller and the agent talking between two requests of a
// call: think ± 50 %, so concurrent calls do not move in lockstep.
func pause(ctx context.Context, think time.Duration) {
	if think <= 0 {
		return
	}
	d := think/2 + time.Duration(rand.Int64N(int64(think)))
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func stagger(ctx context.Context, think time.Duration) {
	if think <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(rand.Int64N(int64(think)))):
	}
}

// playCall is one benchmark call: inbound → check → book, with think time
// between the steps (a phone call asks something every few seconds).
func (b *bench) playCall(ctx context.Context, t callsim.Transport, rec *recorder, sl slot, think time.Duration) (booked bool, reason string) {
	c := &callsim.Call{T: t, APIKey: b.sys.apiKey, ID: callsim.NewCallID("call_bench"), From: callsim.RandomMobile(),
		To: b.sys.to, AgentID: "agent_demo", Start: time.Now()}
	if _, ok := measured(ctx, rec, "retell-inbound", func(ctx context.Context) (callsim.Step, error) {
		_, st, err := c.Inbound(ctx)
		return st, err
	}); !ok {
		return false, "inbound_failed"
	}
	pause(ctx, think)
	args := map[string]string{"service": sl.service, "date": callsim.DateWords(sl.start, b.loc), "time": callsim.TimeWords(sl.start, b.loc)}
	st, ok := measured(ctx, rec, "check-availability", func(ctx context.Context) (callsim.Step, error) {
		_, st, err := c.Function(ctx, "check-availability", args)
		return st, err
	})
	if !ok {
		return false, "check_failed"
	}
	if st.OK == nil || !*st.OK {
		return false, "check_" + st.Reason
	}
	args["customer_name"] = "Bench Kunde"
	pause(ctx, think)
	st, ok = measured(ctx, rec, "book-appointment", func(ctx context.Context) (callsim.Step, error) {
		_, st, err := c.Function(ctx, "book-appointment", args)
		return st, err
	})
	if !ok {
		return false, "book_failed"
	}
	if st.OK == nil || !*st.OK {
		return false, st.Reason
	}
	return true, ""
}

// warm asks once per (service, day) of the plan, so the first check of
// each day can come from the cache ("an earlier check").
func (b *bench) warm(ctx context.Context, t callsim.Transport, slots []slot) {
	seen := map[string]bool{}
	c := &callsim.Call{T: t, APIKey: b.sys.apiKey, ID: callsim.NewCallID("call_warm"), From: callsim.RandomMobile(), To: b.sys.to, Start: time.Now()}
	for _, sl := range slots {
		k := sl.service + sl.start.In(b.loc).Format("2006-01-02")
		if seen[k] || ctx.Err() != nil {
			continue
		}
		seen[k] = true
		_, _, _ = c.Function(ctx, "check-availability", map[string]string{"service": sl.service, "date": callsim.DateWords(sl.start, b.loc)})
	}
}

func (b *bench) runLevel(ctx context.Context, latency time.Duration, conc int, transport string, think time.Duration) *levelResult {
	n := b.opts.calls
	if n < 3*conc {
		n = 3 * conc
	}
	var slots []slot
	if b.opts.contention {
		slots = b.plan.contended(n)
	} else {
		slots = b.plan.take(n)
	}
	t := b.sys.transport(transport)
	if conc == 1 {
		// A lone call shares the machine with nobody: pausing would only
		// measure how fast this machine wakes from idle.
		think = 0
	}
	b.sys.st.Sandbox.SetLatency(latency)
	b.settle(ctx)
	b.warm(ctx, t, slots)
	// Let the prefetches of the warm-up finish before measuring.
	time.Sleep(200 * time.Millisecond)

	res := &levelResult{latency: latency, concurrency: conc, transport: transport, calls: n, declined: map[string]int{}, think: think}
	rec := &recorder{}
	b.sys.allocs.perRequest.Store(conc == 1)
	reqBefore := sum(b.sys.st.Sandbox.Requests())
	bgBefore := b.sys.calcom.background.Load()
	hitsBefore, missBefore := b.sys.metrics.get("CacheHit"), b.sys.metrics.get("CacheMiss")
	runtime.GC()
	var msBefore, msAfter runtime.MemStats
	runtime.ReadMemStats(&msBefore)

	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Calls begin spread over one think time, as phones ring.
			stagger(ctx, think)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(slots) {
					return
				}
				ok, reason := b.playCall(ctx, t, rec, slots[i], think)
				mu.Lock()
				if ok {
					res.booked++
				} else {
					res.declined[reason]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	runtime.ReadMemStats(&msAfter)
	res.stopped = ctx.Err() != nil
	res.records = rec.records
	res.calcomTotal = sum(b.sys.st.Sandbox.Requests()) - reqBefore
	res.background = b.sys.calcom.background.Load() - bgBefore
	res.hits = b.sys.metrics.get("CacheHit") - hitsBefore
	res.miss = b.sys.metrics.get("CacheMiss") - missBefore
	if len(res.records) > 0 {
		res.allocBytes = (msAfter.TotalAlloc - msBefore.TotalAlloc) / uint64(len(res.records))
		res.allocObjs = (msAfter.Mallocs - msBefore.Mallocs) / uint64(len(res.records))
	}
	b.sys.allocs.perRequest.Store(false)
	res.cached = b.cachedChecks(ctx, t, conc, think)
	return res
}

// cachedChecks measures check-availability answered from a warm cache:
// the days are warmed, then every worker asks about free slots with no
// booking in between to invalidate anything.
func (b *bench) cachedChecks(ctx context.Context, t callsim.Transport, conc int, think time.Duration) []reqRecord {
	if ctx.Err() != nil {
		return nil
	}
	probe := b.plan.take(32)
	// Cal.com's webhooks for the bookings just made invalidate cached days
	// when they arrive; let them arrive first.
	b.settle(ctx)
	b.warm(ctx, t, probe)
	rec := &recorder{}
	n := 2 * conc
	if n < 200 {
		n = 200
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &callsim.Call{T: t, APIKey: b.sys.apiKey, ID: callsim.NewCallID("call_cached"), From: callsim.RandomMobile(), To: b.sys.to, Start: time.Now()}
			stagger(ctx, think)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				sl := probe[i%len(probe)]
				pause(ctx, think)
				measured(ctx, rec, "check-availability (cached)", func(ctx context.Context) (callsim.Step, error) {
					_, st, err := c.Function(ctx, "check-availability", map[string]string{"service": sl.service,
						"date": callsim.DateWords(sl.start, b.loc), "time": callsim.TimeWords(sl.start, b.loc)})
					return st, err
				})
			}
		}()
	}
	wg.Wait()
	return rec.records
}

// ingestResult is the webhook ingest phase.
type ingestResult struct {
	events      int
	concurrency int
	bytes       int
	wall        time.Duration
	records     []reqRecord
}

// webhookIngest fires call_ended events with a 30 KB transcript, each for
// a new call, and measures how many the gateway stores per second.
func (b *bench) webhookIngest(ctx context.Context, t callsim.Transport, events, conc int) ingestResult {
	transcript := germanTranscript(30 << 10)
	rec := &recorder{}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if int(next.Add(1)) > events {
					return
				}
				c := &callsim.Call{T: t, APIKey: b.sys.apiKey, ID: callsim.NewCallID("call_ingest"), From: callsim.RandomMobile(),
					To: b.sys.to, AgentID: "agent_demo", Start: time.Now().Add(-3 * time.Minute)}
				measured(ctx, rec, "retell-events (call_ended 30 KB)", func(ctx context.Context) (callsim.Step, error) {
					st, err := c.Ended(ctx, transcript)
					if err == nil && st.Status != http.StatusNoContent {
						st.Problem = fmt.Sprintf("HTTP %d", st.Status)
					}
					return st, err
				})
			}
		}()
	}
	wg.Wait()
	return ingestResult{events: len(rec.records), concurrency: conc, bytes: len(transcript), wall: time.Since(start), records: rec.records}
}

func germanTranscript(size int) string {
	lines := []string{
		"Agent: Salon Sonnenschein, guten Tag! Wie kann ich Ihnen helfen?\n",
		"User: Ich hätte gern einen Termin für einen Herrenhaarschnitt nächste Woche.\n",
		"Agent: Sehr gern. Welcher Tag passt Ihnen denn am besten?\n",
		"User: Am liebsten Dienstag am Nachmittag, so gegen drei.\n",
		"Agent: Dienstag um fünfzehn Uhr ist leider schon vergeben. Ich kann Ihnen halb vier anbieten.\n",
		"User: Halb vier passt mir gut, vielen Dank.\n",
	}
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(lines[i%len(lines)])
	}
	return strings.ToValidUTF8(b.String()[:size], "")
}

func sum(m map[string]int) int {
	n := 0
	for k, v := range m {
		if k != calcomtest.RouteUnknown {
			n += v
		}
	}
	return n
}
