package platform

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Namespace is the CloudWatch namespace of every metric we emit.
const Namespace = "Telefonagent/Gateway"

// Metric names. infra/ builds alarms and the dashboard from MetricDefs, so a
// metric that is not listed here does not exist as far as operations know.
const (
	MetricRequests                 = "Requests"                 // every HTTP request, by function
	MetricLatency                  = "Latency"                  // handler latency, by function
	Metric4xx                      = "Http4xx"                  // client errors, by function
	Metric5xx                      = "Http5xx"                  // server errors, by function
	MetricPanics                   = "Panics"                   // recovered handler panics, by function
	MetricWebhookSignatureFailures = "WebhookSignatureFailures" // missing/stale/forged signatures, by function
	MetricWebhookEvents            = "WebhookEvents"            // accepted webhook events, by function and event type
	MetricBookingOutcome           = "BookingOutcome"           // booking attempts, by function and outcome
	MetricCalcomLatency            = "CalcomLatency"            // Cal.com call latency, by function
	MetricCalcomErrors             = "CalcomErrors"             // Cal.com failures, by function and error kind
	MetricCacheHit                 = "CacheHit"                 // availability/tenant cache hits, by function
	MetricCacheMiss                = "CacheMiss"                // cache misses, by function
	MetricIdempotentReplay         = "IdempotentReplay"         // answers replayed from an idempotency record
	MetricQueueDepth               = "QueueDepth"               // retry queue depth seen by health
	MetricDLQDepth                 = "DLQDepth"                 // dead-letter queue depth seen by health
	MetricJobFailures              = "JobFailures"              // retry-worker job failures, by job type
	MetricJobsProcessed            = "JobsProcessed"            // retry-worker jobs done, by job type
	MetricInboundFallback          = "InboundFallback"          // call_inbound answered with the fallback, by outcome
	MetricWebhookEventsDeferred    = "WebhookEventsDeferred"    // webhooks queued because the DB was down, by event type
	MetricCallUnverified           = "CallUnverified"           // args-only function calls not tied to a live call, by outcome
)

// Dimension names.
const (
	DimFunction  = "Function"
	DimOutcome   = "Outcome"   // booked, conflict, invalid, unknown, …
	DimKind      = "Kind"      // a booking.Kind
	DimEventType = "EventType" // call_ended, BOOKING_CREATED, …
	DimJobType   = "JobType"
)

// Units (CloudWatch names).
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
	UnitNone         = "None"
)

// MetricDef describes one metric: its unit and the one dimension set it is
// emitted with (an alarm must name exactly these dimensions).
type MetricDef struct {
	Name        string
	Unit        string
	Dimensions  []string
	Description string
}

var metricDefs = []MetricDef{
	{MetricRequests, UnitCount, []string{DimFunction}, "HTTP requests"},
	{MetricLatency, UnitMilliseconds, []string{DimFunction}, "handler latency"},
	{Metric4xx, UnitCount, []string{DimFunction}, "4xx answers"},
	{Metric5xx, UnitCount, []string{DimFunction}, "5xx answers"},
	{MetricPanics, UnitCount, []string{DimFunction}, "recovered panics"},
	{MetricWebhookSignatureFailures, UnitCount, []string{DimFunction}, "rejected webhook signatures"},
	{MetricWebhookEvents, UnitCount, []string{DimFunction, DimEventType}, "accepted webhook events"},
	{MetricBookingOutcome, UnitCount, []string{DimFunction, DimOutcome}, "booking attempts by outcome"},
	{MetricCalcomLatency, UnitMilliseconds, []string{DimFunction}, "Cal.com request latency"},
	{MetricCalcomErrors, UnitCount, []string{DimFunction, DimKind}, "Cal.com failures by kind"},
	{MetricCacheHit, UnitCount, []string{DimFunction}, "cache hits"},
	{MetricCacheMiss, UnitCount, []string{DimFunction}, "cache misses"},
	{MetricIdempotentReplay, UnitCount, []string{DimFunction}, "idempotent replays"},
	{MetricQueueDepth, UnitCount, []string{DimFunction}, "retry queue depth"},
	{MetricDLQDepth, UnitCount, []string{DimFunction}, "dead-letter queue depth"},
	{MetricJobFailures, UnitCount, []string{DimFunction, DimJobType}, "retry jobs failed"},
	{MetricJobsProcessed, UnitCount, []string{DimFunction, DimJobType}, "retry jobs done"},
	{MetricInboundFallback, UnitCount, []string{DimFunction, DimOutcome}, "inbound calls answered with the fallback"},
	{MetricWebhookEventsDeferred, UnitCount, []string{DimFunction, DimEventType}, "webhooks queued while the DB was down"},
	{MetricCallUnverified, UnitCount, []string{DimFunction, DimOutcome}, "args-only function calls refused: no live call of the tenant under that id"},
}

// MetricDefs returns every metric we emit.
func MetricDefs() []MetricDef {
	out := make([]MetricDef, len(metricDefs))
	copy(out, metricDefs)
	return out
}

// AllMetricNames returns every metric name, in MetricDefs order.
func AllMetricNames() []string {
	out := make([]string, len(metricDefs))
	for i, d := range metricDefs {
		out[i] = d.Name
	}
	return out
}

// Metrics records measurements of one invocation; Flush writes them.
// dims are key/value pairs added to the writer's base dimensions.
type Metrics interface {
	Count(name string, n int, dims ...string)
	Duration(name string, d time.Duration, dims ...string)
	Gauge(name string, v float64, dims ...string)
	Flush() error
}

// NopMetrics records nothing (metrics flag off, tests).
type NopMetrics struct{}

func (NopMetrics) Count(string, int, ...string)              {}
func (NopMetrics) Duration(string, time.Duration, ...string) {}
func (NopMetrics) Gauge(string, float64, ...string)          {}
func (NopMetrics) Flush() error                              { return nil }

// EMF writes CloudWatch Embedded Metric Format lines to w (stdout on Lambda,
// where CloudWatch Logs turns them into metrics: no PutMetricData calls, no
// network on the request path). Safe for concurrent use.
type EMF struct {
	w         io.Writer
	namespace string
	base      map[string]string
	clock     booking.Clock

	mu     sync.Mutex
	groups map[string]*emfGroup
	order  []string
}

type emfGroup struct {
	dims    map[string]string
	metrics map[string]*emfMetric
	order   []string
}

type emfMetric struct {
	unit   string
	values []float64
	sum    bool // counts are added up; durations and gauges keep each value
}

// maxValues is EMF's limit of values per metric per document.
const maxValues = 100

// NewMetrics returns an EMF writer with base dimensions (usually Function).
func NewMetrics(w io.Writer, namespace string, dims map[string]string) *EMF {
	base := make(map[string]string, len(dims))
	for k, v := range dims {
		base[k] = v
	}
	return &EMF{w: w, namespace: namespace, base: base, clock: booking.SystemClock, groups: map[string]*emfGroup{}}
}

// WithClock pins the timestamp source (tests).
func (m *EMF) WithClock(c booking.Clock) *EMF { m.clock = c; return m }

func (m *EMF) Count(name string, n int, dims ...string) {
	m.add(name, UnitCount, float64(n), true, dims)
}

func (m *EMF) Duration(name string, d time.Duration, dims ...string) {
	m.add(name, UnitMilliseconds, float64(d.Microseconds())/1000, false, dims)
}

func (m *EMF) Gauge(name string, v float64, dims ...string) {
	m.add(name, UnitNone, v, false, dims)
}

func (m *EMF) add(name, unit string, v float64, sum bool, dims []string) {
	all := make(map[string]string, len(m.base)+len(dims)/2)
	for k, v := range m.base {
		all[k] = v
	}
	for i := 0; i+1 < len(dims); i += 2 {
		val := dims[i+1]
		if val == "" {
			val = "none" // CloudWatch rejects empty dimension values
		}
		all[dims[i]] = val
	}
	key := dimsKey(all)

	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[key]
	if !ok {
		g = &emfGroup{dims: all, metrics: map[string]*emfMetric{}}
		m.groups[key] = g
		m.order = append(m.order, key)
	}
	mt, ok := g.metrics[name]
	if !ok {
		mt = &emfMetric{unit: unit, sum: sum}
		g.metrics[name] = mt
		g.order = append(g.order, name)
	}
	if sum && len(mt.values) == 1 {
		mt.values[0] += v
		return
	}
	mt.values = append(mt.values, v)
}

func dimsKey(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(d[k])
		b.WriteByte(0)
	}
	return b.String()
}

type emfDirective struct {
	Namespace  string          `json:"Namespace"`
	Dimensions [][]string      `json:"Dimensions"`
	Metrics    []emfMetricDecl `json:"Metrics"`
}

type emfMetricDecl struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Flush writes one EMF line per distinct dimension set (usually exactly one
// per invocation) and resets. Call it at the end of every invocation.
func (m *EMF) Flush() error {
	m.mu.Lock()
	groups, order := m.groups, m.order
	m.groups, m.order = map[string]*emfGroup{}, nil
	m.mu.Unlock()

	ts := m.clock.Now().UnixMilli()
	var firstErr error
	for _, key := range order {
		g := groups[key]
		for chunk := 0; ; chunk++ {
			line, more := g.document(m.namespace, ts, chunk)
			if line == nil {
				break
			}
			if _, err := m.w.Write(line); err != nil && firstErr == nil {
				firstErr = err
			}
			if !more {
				break
			}
		}
	}
	return firstErr
}

// document renders values [chunk*100, chunk*100+100) of each metric.
func (g *emfGroup) document(namespace string, ts int64, chunk int) ([]byte, bool) {
	dimNames := make([]string, 0, len(g.dims))
	doc := make(map[string]any, len(g.dims)+len(g.metrics)+1)
	for k, v := range g.dims {
		dimNames = append(dimNames, k)
		doc[k] = v
	}
	sort.Strings(dimNames)
	dir := emfDirective{Namespace: namespace, Dimensions: [][]string{dimNames}}
	more := false
	for _, name := range g.order {
		mt := g.metrics[name]
		lo := chunk * maxValues
		if lo >= len(mt.values) {
			continue
		}
		hi := min(lo+maxValues, len(mt.values))
		more = more || hi < len(mt.values)
		dir.Metrics = append(dir.Metrics, emfMetricDecl{Name: name, Unit: mt.unit})
		if hi-lo == 1 {
			doc[name] = mt.values[lo]
		} else {
			doc[name] = mt.values[lo:hi]
		}
	}
	if len(dir.Metrics) == 0 {
		return nil, false
	}
	doc["_aws"] = map[string]any{"Timestamp": ts, "CloudWatchMetrics": []emfDirective{dir}}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return append(b, '\n'), more
}
