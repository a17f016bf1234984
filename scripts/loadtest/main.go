// Command loadtest plays the simulator's scenarios against a deployed API
// for staging checks: signed like Retell with --api-key, at most --rps
// requests per second, stopping hard at --duration or --max-requests,
// whichever comes first. It refuses plain http except on loopback.
//
//	go run ./scripts/loadtest --target https://abc.execute-api.eu-central-1.amazonaws.com/staging \
//	    --api-key "$RETELL_API_KEY" --rps 5 --duration 1m --scenario all
//
// Every scenario books real appointments in the target's Cal.com: point it
// at a staging tenant only. It prints per-function latency (as the client
// sees it) and exits non-zero if any step misbehaved.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
)

// Limits no flag can exceed: a staging check, never a stress test.
const (
	maxRPS      = 50
	maxDuration = 30 * time.Minute
	maxRequests = 100000
)

// Config is what the flags say.
type Config struct {
	Target      string
	APIKey      string
	To          string
	Scenario    string // one scenario or "all" (round robin)
	RPS         float64
	Duration    time.Duration
	MaxRequests int
	Workers     int // scenarios played at once
}

// Report is what a run measured.
type Report struct {
	Requests  int64
	Scenarios map[string]int // played
	Failed    map[string]int // with problems
	Problems  []string       // the first few
	Latency   map[string][]time.Duration
	Elapsed   time.Duration
	StoppedBy string // duration | max-requests | interrupted | done
}

func main() {
	var cfg Config
	flag.StringVar(&cfg.Target, "target", "", "base URL of the deployed API (https; plain http only on loopback)")
	flag.StringVar(&cfg.APIKey, "api-key", os.Getenv("RETELL_API_KEY"), "Retell API key the target verifies signatures with (default $RETELL_API_KEY)")
	flag.StringVar(&cfg.To, "to", "+4930123456", "a number the target's tenant answers")
	flag.StringVar(&cfg.Scenario, "scenario", "book", "book | reschedule | cancel | anonymous | composite | all")
	flag.Float64Var(&cfg.RPS, "rps", 2, fmt.Sprintf("requests per second at most (≤ %d)", maxRPS))
	flag.DurationVar(&cfg.Duration, "duration", 30*time.Second, "hard stop after this long")
	flag.IntVar(&cfg.MaxRequests, "max-requests", 500, "hard stop after this many requests")
	flag.IntVar(&cfg.Workers, "workers", 4, "scenarios played at the same time")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if len(rep.Problems) > 0 {
		os.Exit(1)
	}
}

// Validate checks the configuration before anything is sent.
func (c Config) Validate() error {
	if c.Target == "" {
		return errors.New("--target is required")
	}
	if err := callsim.CheckTarget(c.Target); err != nil {
		return err
	}
	if c.APIKey == "" {
		return errors.New("--api-key (or RETELL_API_KEY) is required: requests are signed like Retell's")
	}
	if c.RPS <= 0 || c.RPS > maxRPS {
		return fmt.Errorf("--rps must be above 0 and at most %d", maxRPS)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		return fmt.Errorf("--duration must be above 0 and at most %v", maxDuration)
	}
	if c.MaxRequests <= 0 || c.MaxRequests > maxRequests {
		return fmt.Errorf("--max-requests must be between 1 and %d", maxRequests)
	}
	if c.Workers < 1 || c.Workers > 100 {
		return errors.New("--workers must be between 1 and 100")
	}
	if c.Scenario != "all" && !contains(callsim.Scenarios, c.Scenario) {
		return fmt.Errorf("unknown scenario %q (one of %s, all)", c.Scenario, strings.Join(callsim.Scenarios, ", "))
	}
	return nil
}

var errBudget = errors.New("request budget exhausted")

// limited is a transport that spaces requests 1/rps apart and refuses
// every request past the budget.
type limited struct {
	inner    callsim.Transport
	interval time.Duration
	budget   int64
	sent     atomic.Int64
	mu       sync.Mutex
	next     time.Time
	rep      *Report
	lmu      sync.Mutex
}

func (l *limited) Do(ctx context.Context, r callsim.Request) (callsim.Response, error) {
	if l.sent.Add(1) > l.budget {
		return callsim.Response{}, errBudget
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.interval)
	l.mu.Unlock()
	if wait := time.Until(at); wait > 0 {
		select {
		case <-ctx.Done():
			return callsim.Response{}, ctx.Err()
		case <-time.After(wait):
		}
	}
	resp, err := l.inner.Do(ctx, r)
	if err == nil {
		l.lmu.Lock()
		l.rep.Latency[r.Path] = append(l.rep.Latency[r.Path], resp.Elapsed)
		l.lmu.Unlock()
	}
	return resp, err
}

// Run plays scenarios until a limit is reached and prints the summary.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	rep := &Report{Scenarios: map[string]int{}, Failed: map[string]int{}, Latency: map[string][]time.Duration{}}
	lt := &limited{inner: callsim.HTTPTransport{BaseURL: cfg.Target}, interval: time.Duration(float64(time.Second) / cfg.RPS),
		budget: int64(cfg.MaxRequests), rep: rep}
	scenarios := []string{cfg.Scenario}
	if cfg.Scenario == "all" {
		scenarios = callsim.Scenarios
	}
	fmt.Fprintf(out, "load test: %s, scenario %s, ≤ %.1f requests/s, stop after %v or %d requests\n",
		cfg.Target, cfg.Scenario, cfg.RPS, cfg.Duration, cfg.MaxRequests)
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess := &callsim.Session{T: lt, APIKey: cfg.APIKey, To: cfg.To, AgentID: "agent_loadtest", Loc: loc}
			for ctx.Err() == nil && lt.sent.Load() < lt.budget {
				name := scenarios[int(next.Add(1)-1)%len(scenarios)]
				o, err := sess.Play(ctx, name)
				stopped := ctx.Err() != nil || lt.sent.Load() > lt.budget
				mu.Lock()
				switch {
				case err != nil:
					rep.Problems = append(rep.Problems, err.Error())
				case stopped:
					// cut short by a limit: neither passed nor failed
				default:
					rep.Scenarios[name]++
					if !o.OK() {
						rep.Failed[name]++
						rep.Problems = append(rep.Problems, o.Problems...)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.Requests = min(lt.sent.Load(), lt.budget)
	switch {
	case lt.sent.Load() >= lt.budget:
		rep.StoppedBy = "max-requests"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		rep.StoppedBy = "duration"
	case ctx.Err() != nil:
		rep.StoppedBy = "interrupted"
	default:
		rep.StoppedBy = "done"
	}
	printReport(out, rep)
	return rep, nil
}

func printReport(out io.Writer, rep *Report) {
	fmt.Fprintf(out, "%d requests in %.1f s (%.1f/s), stopped by %s\n", rep.Requests, rep.Elapsed.Seconds(),
		float64(rep.Requests)/math.Max(rep.Elapsed.Seconds(), 0.001), rep.StoppedBy)
	paths := make([]string, 0, len(rep.Latency))
	for p := range rep.Latency {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	fmt.Fprintf(out, "  %-36s %6s %8s %8s %8s %8s\n", "route", "n", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, p := range paths {
		ds := append([]time.Duration(nil), rep.Latency[p]...)
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		q := func(f float64) float64 {
			i := int(math.Ceil(f*float64(len(ds)))) - 1
			return float64(ds[max(i, 0)].Microseconds()) / 1000
		}
		fmt.Fprintf(out, "  %-36s %6d %8.1f %8.1f %8.1f %8.1f\n", p, len(ds), q(0.5), q(0.95), q(0.99), q(1))
	}
	for _, s := range callsim.Scenarios {
		if n := rep.Scenarios[s]; n > 0 {
			fmt.Fprintf(out, "  scenario %-11s played %4d, misbehaved %d\n", s, n, rep.Failed[s])
		}
	}
	for i, p := range rep.Problems {
		if i == 10 {
			fmt.Fprintf(out, "  … %d more problems\n", len(rep.Problems)-10)
			break
		}
		fmt.Fprintf(out, "  problem: %s\n", p)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
