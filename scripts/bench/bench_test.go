package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/testenv"
)

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(ds)
	if p.P50 != 50 || p.P95 != 95 || p.P99 != 99 || p.Max != 100 || p.Mean != 50.5 {
		t.Errorf("percentiles of 1..100 ms: %+v", p)
	}
	if (percentiles(nil) != Percentiles{}) {
		t.Error("empty input must give zeros")
	}
}

// The plan must never hand out two slots that overlap for one event type,
// or calls would refuse each other and the figures would be about
// contention nobody asked for.
func TestSlotPlanHasNoOverlaps(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	p := newSlotPlan(time.Date(2027, 3, 1, 9, 0, 0, 0, loc), loc)
	slots := p.take(1500)
	minutes := map[string]int{}
	for _, s := range planServices {
		minutes[s.name] = s.minutes
	}
	taken := map[string]bool{}
	for _, s := range slots {
		l := s.start.In(loc)
		open, close := openHours(l)
		m := l.Hour()*60 + l.Minute()
		if m < open || m+minutes[s.service] > close {
			t.Fatalf("%s at %s is outside opening hours", s.service, l)
		}
		for k := 0; k < minutes[s.service]; k += 15 {
			key := s.service + l.Add(time.Duration(k)*time.Minute).Format(time.RFC3339)
			if taken[key] {
				t.Fatalf("%s at %s overlaps another planned slot", s.service, l)
			}
			taken[key] = true
		}
	}
	// Neighbours in the plan are on different days (spread, not stacked).
	if slots[0].start.YearDay() == slots[1].start.YearDay() {
		t.Error("the first two slots share a day")
	}
}

func TestBudgetVerdicts(t *testing.T) {
	res := &Results{Runs: []Run{{Concurrency: 200, Functions: map[string]FuncStats{
		"check-availability": {Count: 10, GatewayMS: Percentiles{P99: 4}},
		"book-appointment":   {Count: 10, GatewayMS: Percentiles{P99: 12}},
	}, Booked: 10, CalcomPerBooked: 3, CheckCached: FuncStats{Count: 5, GatewayMS: Percentiles{P99: 1}, CalcomRequests: 1}}},
		Bootstraps: []Bootstrap{{Function: "health", Arch: "arm64", SizeBytes: 40 << 20, ZipBytes: 5 << 20}}}
	got := map[string]bool{}
	for _, b := range budgets(res) {
		if b.Met != nil {
			got[strings.SplitN(b.Figure, ",", 2)[0]] = *b.Met
		}
	}
	want := map[string]bool{"check-availability gateway p99": true, "book-appointment gateway p99": false,
		"check-availability from cache p99": false, "Cal.com requests per booked call": false, "bootstrap size": false}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: met=%v (present %v), want %v", k, g, ok, v)
		}
	}
}

// TestSmallRun runs the whole harness with tiny numbers against the real
// MariaDB and Redis: results.json has the documented keys and the SVG is
// well-formed. No figure is asserted: a test is no benchmark.
func TestSmallRun(t *testing.T) {
	_, ns := testenv.Redis(t) // checks Redis is up; the harness uses its own prefix
	_ = ns
	out := t.TempDir()
	o, err := parseFlags([]string{"--mysql-dsn", testenv.MySQLServerDSN(), "--database", testenv.DatabasePrefix() + "bench", "--redis-addr", testenv.RedisAddr(),
		"--concurrency", "1,3", "--calls", "6", "--calcom-latency", "5ms", "--think", "10ms", "--ingest-events", "10",
		"--coldstart-runs", "0", "--dist", t.TempDir(), "--out", out, "--max-duration", "50s", "--quiet"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 3 { // 1, 3 and the saturation run
		t.Fatalf("%d runs", len(res.Runs))
	}
	for _, r := range res.Runs {
		if r.Booked != r.Calls || r.Errors != 0 {
			t.Errorf("run %d: %d of %d calls booked, %d errors, declined %v", r.Concurrency, r.Booked, r.Calls, r.Errors, r.Declined)
		}
		if r.Functions["book-appointment"].CalcomMS.P50 < 5 {
			t.Errorf("run %d: the sandbox's 5 ms latency was not measured as Cal.com time: %+v", r.Concurrency, r.Functions["book-appointment"].CalcomMS)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "machine", "config", "runs", "webhook_ingest", "bootstraps", "budgets"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	svg, err := os.ReadFile(filepath.Join(out, "latency.svg"))
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("latency.svg is not well-formed: %v", err)
			}
			break
		}
	}
	if !strings.Contains(string(svg), "book-appointment") {
		t.Error("the chart has no book-appointment row")
	}
}
