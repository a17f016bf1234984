// Command bench measures the gateway against its performance budgets
// (design §12): many simulated calls (inbound → check → book) driven
// concurrently straight into the apigw-wrapped Lambda handlers, on the
// real MariaDB and Redis and the Cal.com sandbox with a configurable
// latency; a webhook ingest phase; and every built bootstrap's size and
// cold start under the Lambda Runtime Interface Emulator. It writes
// dist/bench/results.json and dist/bench/latency.svg and prints a table
// of every figure against its budget. It is a benchmark, never a test:
// the figures depend on the machine.
//
//	go run ./scripts/bench                                  # 1, 50, 200 calls × Cal.com +0 / +150 ms
//	go run ./scripts/bench --concurrency 1,50 --calls 200 --calcom-latency 0
//	go run ./scripts/bench --transport http                 # through the HTTP bridge instead
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	mysqlDSN   string
	database   string
	redisAddr  string
	levels     []int
	latencies  []time.Duration
	calls      int
	transport  string // lambda | http
	contention bool
	ingest     int
	coldRuns   int
	distDir    string
	outDir     string
	maxTime    time.Duration
	quiet      bool
	think      time.Duration
	saturation bool
	logFile    string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.mysqlDSN, "mysql-dsn", env("TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/"), "MariaDB/MySQL server (default $TEST_MYSQL_DSN)")
	fs.StringVar(&o.database, "database", "gwbench", "database to (re)create for the run")
	fs.StringVar(&o.redisAddr, "redis-addr", env("TEST_REDIS_ADDR", "127.0.0.1:6379"), "Redis (default $TEST_REDIS_ADDR); keys get a unique prefix")
	conc := fs.String("concurrency", "1,50,200", "concurrent calls per level, comma-separated")
	lat := fs.String("calcom-latency", "", "one Cal.com sandbox latency for every level (overrides --calcom-latency-runs)")
	runs := fs.String("calcom-latency-runs", "0,150ms", "Cal.com sandbox latencies, one run of all levels each")
	fs.IntVar(&o.calls, "calls", 200, "calls per level (at least 3 × concurrency)")
	fs.StringVar(&o.transport, "transport", "lambda", "lambda: invoke the wrapped handlers directly; http: through the local HTTP bridge")
	fs.BoolVar(&o.contention, "contention", false, "every call of a level wants one of four slots (slot_taken under load)")
	fs.IntVar(&o.ingest, "ingest-events", 1000, "call_ended events with a 30 KB transcript for the ingest phase (0 = skip)")
	fs.IntVar(&o.coldRuns, "coldstart-runs", 5, "cold starts per built bootstrap (0 = sizes only)")
	fs.StringVar(&o.distDir, "dist", "dist", "where make build-local put <function>/bootstrap")
	fs.StringVar(&o.outDir, "out", "dist/bench", "where results.json and latency.svg go")
	fs.DurationVar(&o.maxTime, "max-duration", 10*time.Minute, "hard time limit; the run stops and reports what it has")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	fs.StringVar(&o.logFile, "logs", "", "write the gateway's JSON logs to this file (default: discarded, but still formatted)")
	fs.DurationVar(&o.think, "think", 2*time.Second, "pause between the requests of one call (the caller and the agent talking); levels above 1 call")
	fs.BoolVar(&o.saturation, "saturation", true, "also run the highest level back to back (no think time) for throughput")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, f := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 2000 {
			return o, fmt.Errorf("--concurrency: %q is not a number of calls between 1 and 2000", f)
		}
		o.levels = append(o.levels, n)
	}
	spec := *runs
	if *lat != "" {
		spec = *lat
	}
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			f = "0s"
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 || d > 5*time.Second {
			return o, fmt.Errorf("Cal.com latency %q is not a duration between 0 and 5s", f)
		}
		o.latencies = append(o.latencies, d)
	}
	if o.transport != "lambda" && o.transport != "http" {
		return o, fmt.Errorf("--transport is lambda or http")
	}
	if o.calls < 1 || o.calls > 100000 {
		return o, fmt.Errorf("--calls must be between 1 and 100000")
	}
	return o, nil
}

type bench struct {
	opts options
	sys  *system
	plan *slotPlan
	loc  *time.Location
}

func (b *bench) logf(format string, args ...any) {
	if !b.opts.quiet {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

func main() {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, res)
	fmt.Printf("\nwrote %s and %s\n", filepath.Join(o.outDir, "results.json"), filepath.Join(o.outDir, "latency.svg"))
}

func run(parent context.Context, o options) (*Results, error) {
	started := time.Now()
	ctx, cancel := context.WithTimeout(parent, o.maxTime)
	defer cancel()
	b := &bench{opts: o}
	sys, err := startSystem(ctx, o)
	if err != nil {
		return nil, err
	}
	defer sys.close()
	b.sys = sys
	if b.loc, err = time.LoadLocation(sys.timeZone); err != nil {
		return nil, err
	}
	b.plan = newSlotPlan(time.Now(), b.loc)

	res := &Results{Schema: 1, StartedAt: started.UTC().Format(time.RFC3339), Machine: machine(o),
		Config: ConfigOut{CallsPerLevel: o.calls, Concurrency: o.levels, Transport: o.transport, Contention: o.contention, DBPoolMaxOpen: 20}}
	for _, l := range o.latencies {
		res.Config.CalcomLatencyMS = append(res.Config.CalcomLatencyMS, ms(l))
	}
	for _, lat := range o.latencies {
		for _, c := range o.levels {
			if ctx.Err() != nil {
				break
			}
			b.logf("calls: Cal.com +%v, %d concurrent, think %v (%s)…", lat, c, o.think, o.transport)
			res.Runs = append(res.Runs, b.level(ctx, lat, c, o.think, false))
		}
	}
	if o.saturation && o.think > 0 && ctx.Err() == nil {
		top := o.levels[len(o.levels)-1]
		b.logf("saturation: Cal.com +%v, %d concurrent, back to back…", o.latencies[0], top)
		res.Runs = append(res.Runs, b.level(ctx, o.latencies[0], top, 0, true))
	}
	sys.st.Sandbox.SetLatency(0)
	if o.ingest > 0 && ctx.Err() == nil {
		b.logf("webhook ingest: %d call_ended events with 30 KB transcripts…", o.ingest)
		ir := b.webhookIngest(ctx, sys.transport(o.transport), o.ingest, 50)
		st := statsOf(ir.records)
		res.WebhookIngest = &Ingest{Events: ir.events, Concurrency: ir.concurrency, TranscriptBytes: ir.bytes,
			WallSeconds: round(ir.wall.Seconds(), 3), Stats: st}
		if s := ir.wall.Seconds(); s > 0 {
			res.WebhookIngest.EventsPerSecond = round(float64(ir.events-st.Errors)/s, 1)
		}
	}
	b.logf("bootstraps…")
	res.Bootstraps = b.measureBootstraps(ctx)
	if err := ctx.Err(); err != nil && parent.Err() == nil {
		res.Stopped = fmt.Sprintf("time limit %v reached", o.maxTime)
	} else if parent.Err() != nil {
		res.Stopped = "interrupted"
	}
	res.DurationSeconds = round(time.Since(started).Seconds(), 1)
	res.Budgets = budgets(res)
	if err := write(o.outDir, res); err != nil {
		return nil, err
	}
	return res, nil
}

func (b *bench) level(ctx context.Context, lat time.Duration, c int, think time.Duration, saturation bool) Run {
	r := summarize(b.runLevel(ctx, lat, c, b.opts.transport, think))
	r.Saturation = saturation
	b.logf("  %d calls in %.1fs, %d booked, in-call gateway p99 %.2f ms, cache hit rate %.2f, Cal.com/booked call %.2f",
		r.Calls, r.WallSeconds, r.Booked, r.InCall.GatewayMS.P99, r.CacheHitRate, r.CalcomPerBooked)
	return r
}

func machine(o options) Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Redis: o.redisAddr, MySQL: serverOf(o.mysqlDSN) + "/" + o.database}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return m
}

// serverOf drops credentials from a DSN.
func serverOf(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		dsn = dsn[i+1:]
	}
	return strings.TrimSuffix(dsn, "/")
}

func write(dir string, res *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latency.svg"), []byte(latencySVG(res)), 0o644)
}
