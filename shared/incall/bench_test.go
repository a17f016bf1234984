package incall_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/retell"
)

// The benchmarks drive the signed HTTP handlers against real MariaDB and
// Redis and a zero-latency Cal.com sandbox. Each runs at 1, 50 and 200
// concurrent callers and reports, besides ns/op and allocs/op, the latency
// percentiles of single requests (p50-ms, p95-ms, p99-ms) and the Cal.com
// requests per operation (calcom-requests/op).

var benchCallers = []int{1, 50, 200}

var errDegraded = errors.New("degraded answer")

// outcome maps an answer to nil (as wanted), errDegraded or an error.
func outcome(a incall.Answer, err error, want string) error {
	switch {
	case err != nil:
		return err
	case a.OK:
		return nil
	case a.Reason == incall.ReasonCalendarUnavailable || a.Reason == incall.ReasonPendingConfirmation:
		return errDegraded
	}
	return fmt.Errorf("%s: %s %s", want, a.Reason, a.Message)
}

// invoke calls fn without touching testing.TB (safe from any goroutine).
func (s *sys) invoke(fn string, c callCtx, args map[string]any) (incall.Answer, error) {
	body := s.envelope(fn, c, args)
	ev := events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: "/functions/" + fn, Resource: "/functions/" + fn,
		Headers: map[string]string{retell.SignatureHeader: s.e.Sign(body)}, Body: string(body)}
	resp, err := s.handlers[fn](context.Background(), ev)
	if err != nil {
		return incall.Answer{}, err
	}
	if resp.StatusCode != 200 {
		return incall.Answer{}, fmt.Errorf("status %d: %s", resp.StatusCode, resp.Body)
	}
	var a incall.Answer
	err = json.Unmarshal([]byte(resp.Body), &a)
	return a, err
}

// latencies collects per-request durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	pct := func(p float64) float64 {
		i := int(p * float64(len(l.d)-1))
		return float64(l.d[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// runCallers runs op b.N times spread over n concurrent callers. op
// returns errDegraded for an honest "calendar unavailable / pending"
// answer (the budget ran out under load): counted as degraded/op, not a
// failure; every other error fails the benchmark.
func runCallers(b *testing.B, s *sys, n int, op func(i int64) error) {
	var lat latencies
	var seq, degraded atomic.Int64
	slotsBefore, createBefore := s.requests(calcomtest.RouteSlots), s.requests(calcomtest.RouteCreate)
	one := func() bool {
		i := seq.Add(1)
		start := time.Now()
		err := op(i)
		if errors.Is(err, errDegraded) {
			degraded.Add(1)
		} else if err != nil {
			b.Error(err)
			return false
		}
		lat.add(time.Since(start))
		return true
	}
	b.ReportAllocs()
	b.ResetTimer()
	if n == 1 {
		for range b.N {
			if !one() {
				break
			}
		}
	} else {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism((n + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !one() {
					return
				}
			}
		})
	}
	b.StopTimer()
	calls := s.requests(calcomtest.RouteSlots) - slotsBefore + s.requests(calcomtest.RouteCreate) - createBefore
	b.ReportMetric(float64(calls)/float64(b.N), "calcom-requests/op")
	b.ReportMetric(float64(degraded.Load())/float64(b.N), "degraded/op")
	lat.report(b)
}

func BenchmarkCheckAvailabilityCacheHit(b *testing.B) {
	s := newSys(b, apptest.Options{})
	args := isoArgs("Herrenhaarschnitt", at(2027, 3, 2, 14, 0))
	if a, err := s.invoke("check-availability", s.call("call_warm"), args); err != nil || !a.OK { // fills the cache
		b.Fatalf("warm-up: %+v %v", a, err)
	}
	for _, n := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			runCallers(b, s, n, func(i int64) error {
				a, err := s.invoke("check-availability", callCtx{ID: fmt.Sprintf("call_hit_%d", i), From: caller}, args)
				return outcome(a, err, "available")
			})
		})
	}
}

func BenchmarkCheckAvailabilityCacheMiss(b *testing.B) {
	s := newSys(b, apptest.Options{})
	// Each request first drops the cached day it asks for: a miss every time.
	day0 := at(2027, 3, 2, 14, 0)
	for _, n := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			runCallers(b, s, n, func(i int64) error {
				if err := s.sched.Cache.Invalidate(context.Background(), tenantID, etHerren, day0.Format("2006-01-02")); err != nil {
					return err
				}
				a, err := s.invoke("check-availability", callCtx{ID: fmt.Sprintf("call_miss_%d", i), From: caller}, isoArgs("Herrenhaarschnitt", day0))
				return outcome(a, err, "available")
			})
		})
	}
}

// slotSeq yields distinct bookable 30-minute starts, Mon–Fri 09:00–17:30,
// spread over the days from 2 March 2027 on.
type slotSeq struct{ n atomic.Int64 }

func (q *slotSeq) next() time.Time {
	i := q.n.Add(1) - 1
	const perDay = 18
	day, slot := int(i/perDay), int(i%perDay)
	// Walk weekdays only.
	d := at(2027, 3, 2, 9, 0)
	for weekdays := 0; ; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		if weekdays == day {
			break
		}
		weekdays++
	}
	// Interleave the slots of a day so concurrent callers rarely share a day.
	return d.Add(time.Duration((slot*7)%perDay) * 30 * time.Minute)
}

func BenchmarkBookAppointment(b *testing.B) {
	s := newSys(b, apptest.Options{})
	var slots slotSeq
	for _, n := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			runCallers(b, s, n, func(i int64) error {
				when := slots.next()
				c := callCtx{ID: fmt.Sprintf("call_book_%d", i), From: fmt.Sprintf("+49151%08d", i)}
				a, err := s.invoke("book-appointment", c, bookArgs("Herrenhaarschnitt", when))
				return outcome(a, err, "booked at "+when.String())
			})
		})
	}
}
