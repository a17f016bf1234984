package main

import (
	"math"
	"sort"
	"time"
)

// Results is dist/bench/results.json. Keys are documented in README.md of
// this directory; durations are milliseconds unless the key says otherwise.
type Results struct {
	Schema          int           `json:"schema"`
	StartedAt       string        `json:"started_at"`
	DurationSeconds float64       `json:"duration_seconds"`
	Machine         Machine       `json:"machine"`
	Config          ConfigOut     `json:"config"`
	Runs            []Run         `json:"runs"`
	WebhookIngest   *Ingest       `json:"webhook_ingest,omitempty"`
	Bootstraps      []Bootstrap   `json:"bootstraps"`
	Budgets         []BudgetCheck `json:"budgets"`
	Stopped         string        `json:"stopped,omitempty"` // why the run ended early, if it did
}

// Machine is where the figures were measured.
type Machine struct {
	NumCPU     int    `json:"nproc"`
	CPUModel   string `json:"cpu_model"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	MySQL      string `json:"mysql"`
	Redis      string `json:"redis"`
}

// ConfigOut echoes the flags.
type ConfigOut struct {
	CallsPerLevel   int       `json:"calls_per_level"`
	Concurrency     []int     `json:"concurrency"`
	CalcomLatencyMS []float64 `json:"calcom_latency_ms"`
	Transport       string    `json:"transport"`
	Contention      bool      `json:"contention"`
	DBPoolMaxOpen   int       `json:"db_pool_max_open"`
}

// Percentiles of a distribution, in ms.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// FuncStats is one function's figures in one run.
type FuncStats struct {
	Count          int            `json:"count"`
	Errors         int            `json:"errors"`
	Outcomes       map[string]int `json:"outcomes"`
	GatewayMS      Percentiles    `json:"gateway_ms"` // total minus time waiting for Cal.com
	TotalMS        Percentiles    `json:"total_ms"`
	CalcomMS       Percentiles    `json:"calcom_ms"`
	CalcomRequests int64          `json:"calcom_requests"`
	// Allocations per request, measured around each invocation; only at
	// concurrency 1 (process-wide counters). Includes the in-process
	// Cal.com sandbox and the client drivers.
	AllocBytes   uint64 `json:"alloc_bytes_per_request,omitempty"`
	AllocObjects uint64 `json:"alloc_objects_per_request,omitempty"`
}

// Run is one (Cal.com latency, concurrency) level.
type Run struct {
	CalcomLatencyMS float64              `json:"calcom_latency_ms"`
	Concurrency     int                  `json:"concurrency"`
	Transport       string               `json:"transport"`
	ThinkMS         float64              `json:"think_ms"`   // pause between a call's requests
	Saturation      bool                 `json:"saturation"` // back-to-back requests: throughput, not a budget figure
	Calls           int                  `json:"calls"`
	Booked          int                  `json:"booked"`
	Declined        map[string]int       `json:"declined"`
	Errors          int                  `json:"errors"`
	WallSeconds     float64              `json:"wall_seconds"`
	CallsPerSecond  float64              `json:"calls_per_second"`
	RequestsPerSec  float64              `json:"requests_per_second"`
	Functions       map[string]FuncStats `json:"functions"`
	InCall          FuncStats            `json:"in_call"` // every request of the call phase together
	CheckCached     FuncStats            `json:"check_cached"`
	CalcomPerBooked float64              `json:"calcom_requests_per_booked_call"`
	CalcomInCall    int64                `json:"calcom_requests_in_call"`
	CalcomWorker    int64                `json:"calcom_requests_background"` // the retry worker's prefetches
	CacheHits       int64                `json:"cache_hits"`
	CacheMisses     int64                `json:"cache_misses"`
	CacheHitRate    float64              `json:"cache_hit_rate"`
	AllocBytes      uint64               `json:"alloc_bytes_per_request"`
	AllocObjects    uint64               `json:"alloc_objects_per_request"`
	Stopped         bool                 `json:"stopped_early,omitempty"`
}

// Ingest is the webhook ingest phase.
type Ingest struct {
	Events          int       `json:"events"`
	Concurrency     int       `json:"concurrency"`
	TranscriptBytes int       `json:"transcript_bytes"`
	WallSeconds     float64   `json:"wall_seconds"`
	EventsPerSecond float64   `json:"events_per_second"`
	Stats           FuncStats `json:"stats"`
}

// Bootstrap is one built Lambda binary.
type Bootstrap struct {
	Function   string  `json:"function"`
	Path       string  `json:"path"`
	Arch       string  `json:"arch"`
	SizeBytes  int64   `json:"size_bytes"`
	ZipBytes   int64   `json:"zip_bytes"`
	ColdStarts int     `json:"cold_starts"`
	ColdMS     float64 `json:"cold_start_ms"`        // median RIE-reported init + first invoke
	ColdMaxMS  float64 `json:"cold_start_max_ms"`    // slowest run
	InitMS     float64 `json:"init_ms"`              // median process start → runtime ready
	WallMS     float64 `json:"first_invoke_wall_ms"` // median client-side, includes the emulator
	Status     string  `json:"first_answer"`         // what the first invocation answered
	PeakRSSKB  int64   `json:"peak_rss_kb"`          // VmHWM after the invocations
	Job        bool    `json:"job"`                  // scheduled/deploy-time: the first invocation is the job itself
	Note       string  `json:"note,omitempty"`
}

// BudgetCheck is one line of the budget table.
type BudgetCheck struct {
	Figure   string `json:"figure"`
	Budget   string `json:"budget"`
	Measured string `json:"measured"`
	Met      *bool  `json:"met"` // null: not measured
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		if i < 0 {
			i = 0
		}
		return s[i]
	}
	var total time.Duration
	for _, d := range s {
		total += d
	}
	return Percentiles{P50: ms(at(0.50)), P95: ms(at(0.95)), P99: ms(at(0.99)), Max: ms(s[len(s)-1]), Mean: ms(total / time.Duration(len(s)))}
}

func statsOf(recs []reqRecord) FuncStats {
	fs := FuncStats{Count: len(recs), Outcomes: map[string]int{}}
	var g, t, c []time.Duration
	var ab, ao uint64
	for _, r := range recs {
		if r.failed {
			fs.Errors++
		}
		fs.Outcomes[r.outcome]++
		g, t, c = append(g, r.gateway()), append(t, r.total), append(c, r.calcom)
		fs.CalcomRequests += r.calcomN
		ab, ao = ab+r.allocB, ao+r.allocObj
	}
	fs.GatewayMS, fs.TotalMS, fs.CalcomMS = percentiles(g), percentiles(t), percentiles(c)
	if len(recs) > 0 && ab > 0 {
		fs.AllocBytes, fs.AllocObjects = ab/uint64(len(recs)), ao/uint64(len(recs))
	}
	return fs
}

func summarize(lr *levelResult) Run {
	r := Run{CalcomLatencyMS: ms(lr.latency), Concurrency: lr.concurrency, Transport: lr.transport, Calls: lr.calls,
		Booked: lr.booked, Declined: lr.declined, WallSeconds: round(lr.wall.Seconds(), 3), Functions: map[string]FuncStats{},
		CacheHits: lr.hits, CacheMisses: lr.miss, AllocBytes: lr.allocBytes, AllocObjects: lr.allocObjs, Stopped: lr.stopped,
		CalcomWorker: lr.background, ThinkMS: ms(lr.think)}
	by := map[string][]reqRecord{}
	for _, rec := range lr.records {
		by[rec.fn] = append(by[rec.fn], rec)
		r.CalcomInCall += rec.calcomN
	}
	for fn, recs := range by {
		r.Functions[fn] = statsOf(recs)
		r.Errors += r.Functions[fn].Errors
	}
	r.InCall = statsOf(lr.records)
	r.CheckCached = statsOf(lr.cached)
	if s := lr.wall.Seconds(); s > 0 {
		r.CallsPerSecond = round(float64(lr.calls)/s, 1)
		r.RequestsPerSec = round(float64(len(lr.records))/s, 1)
	}
	if lr.booked > 0 {
		r.CalcomPerBooked = round(float64(r.CalcomInCall)/float64(lr.booked), 2)
	}
	if n := lr.hits + lr.miss; n > 0 {
		r.CacheHitRate = round(float64(lr.hits)/float64(n), 3)
	}
	return r
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}
