package main

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/shared/platform"
)

// sample is what one request cost. It travels in the request's context:
// the Cal.com transport adds the time spent waiting for Cal.com, the
// Lambda transport the allocations.
type sample struct {
	calcomNanos atomic.Int64
	calcomCount atomic.Int64
	allocBytes  uint64
	allocObjs   uint64
}

type sampleKey struct{}

func withSample(ctx context.Context, s *sample) context.Context {
	return context.WithValue(ctx, sampleKey{}, s)
}

func sampleOf(ctx context.Context) *sample {
	s, _ := ctx.Value(sampleKey{}).(*sample)
	return s
}

// meteredTransport times every Cal.com request from sending until its body
// is read or closed, and charges it to the sample in the request context.
// Requests without one (the retry worker's prefetch) are counted apart.
type meteredTransport struct {
	base       http.RoundTripper
	background atomic.Int64
}

func (m *meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := sampleOf(req.Context())
	if s == nil {
		m.background.Add(1)
		return m.base.RoundTrip(req)
	}
	s.calcomCount.Add(1)
	start := time.Now()
	resp, err := m.base.RoundTrip(req)
	if err != nil {
		s.calcomNanos.Add(int64(time.Since(start)))
		return resp, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, start: start, s: s}
	return resp, nil
}

type timedBody struct {
	io.ReadCloser
	start time.Time
	s     *sample
	once  sync.Once
}

func (b *timedBody) done() {
	b.once.Do(func() { b.s.calcomNanos.Add(int64(time.Since(b.start))) })
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.done()
	return b.ReadCloser.Close()
}

// allocMeter wraps Lambda invocations; with perRequest it reads the
// allocation counters around each one (only sensible at concurrency 1:
// the counters are process-wide).
type allocMeter struct {
	perRequest atomic.Bool
}

func (a *allocMeter) around(ctx context.Context, _ callsim.Request, invoke func(context.Context)) {
	s := sampleOf(ctx)
	if s == nil || !a.perRequest.Load() {
		invoke(ctx)
		return
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	invoke(ctx)
	runtime.ReadMemStats(&after)
	s.allocBytes = after.TotalAlloc - before.TotalAlloc
	s.allocObjs = after.Mallocs - before.Mallocs
}

// countingMetrics counts what the gateway reports; the benchmark reads
// the cache hits and misses from it.
type countingMetrics struct {
	mu     sync.Mutex
	counts map[string]int64
}

func newCountingMetrics() *countingMetrics { return &countingMetrics{counts: map[string]int64{}} }

func (m *countingMetrics) Count(name string, n int, _ ...string) {
	m.mu.Lock()
	m.counts[name] += int64(n)
	m.mu.Unlock()
}
func (m *countingMetrics) Duration(string, time.Duration, ...string) {}
func (m *countingMetrics) Gauge(string, float64, ...string)          {}
func (m *countingMetrics) Flush() error                              { return nil }

func (m *countingMetrics) get(name string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[name]
}

var _ platform.Metrics = (*countingMetrics)(nil)

// httpSamples carries samples across the HTTP bridge: the client sends an
// id header, the server measures under it.
type httpSamples struct{ m sync.Map }

const benchIDHeader = "X-Bench-Id"

func (h *httpSamples) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(benchIDHeader)
		if id == "" {
			next.ServeHTTP(w, r)
			return
		}
		s := &sample{}
		next.ServeHTTP(w, r.WithContext(withSample(r.Context(), s)))
		h.m.Store(id, s)
	})
}

// httpTransport is callsim's HTTP transport with the server's Cal.com
// measurement copied into the caller's sample.
type httpTransport struct {
	inner   callsim.HTTPTransport
	samples *httpSamples
}

func (t httpTransport) Do(ctx context.Context, r callsim.Request) (callsim.Response, error) {
	s := sampleOf(ctx)
	id := ""
	if s != nil {
		id = callsim.RandomID(8)
		r.Header = r.Header.Clone()
		r.Header.Set(benchIDHeader, id)
	}
	resp, err := t.inner.Do(ctx, r)
	if s != nil {
		if v, ok := t.samples.m.LoadAndDelete(id); ok {
			srv := v.(*sample)
			s.calcomNanos.Store(srv.calcomNanos.Load())
			s.calcomCount.Store(srv.calcomCount.Load())
		}
	}
	return resp, err
}
