// Command simulate-call plays realistic German phone calls through the
// gateway's public HTTP routes, signed exactly as Retell signs them, and
// prints the conversation as a script: what the caller said, which
// function the agent called, what the gateway answered and how long it
// took. It ends with what is stored and exits non-zero when any step did
// not behave.
//
//	go run ./scripts/simulate-call                        # book, against an in-process dev gateway
//	go run ./scripts/simulate-call --scenario all         # make demo
//	go run ./scripts/simulate-call --base-url https://api.example.com --api-key key_…
//
// Scenarios: book, reschedule, cancel, anonymous, composite, all.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/scripts/internal/devstack"
)

// Config is what the flags say.
type Config struct {
	BaseURL  string // "" = start the dev gateway in-process
	Scenario string
	JSON     bool
	APIKey   string
	To       string
	Timeout  time.Duration
	Logs     bool // show the in-process gateway's logs on stderr
	// Stack options for the in-process gateway (tests point it at the real
	// MariaDB and Redis).
	Stack devstack.Options
}

// Report is the whole run (--json prints it).
type Report struct {
	Target   string              `json:"target"`
	Outcomes []callsim.Outcome   `json:"outcomes"`
	Stored   []StoredAppointment `json:"stored"`
	Calls    []StoredCall        `json:"calls,omitempty"`
	Words    Words               `json:"words"`
	OK       bool                `json:"ok"`
}

func main() {
	cfg := Config{}
	flag.StringVar(&cfg.BaseURL, "base-url", "", "gateway to call (default: start the dev gateway in-process on a free port)")
	flag.StringVar(&cfg.Scenario, "scenario", "book", "book | reschedule | cancel | anonymous | composite | all")
	flag.BoolVar(&cfg.JSON, "json", false, "print a machine-readable report instead of the script")
	flag.StringVar(&cfg.APIKey, "api-key", os.Getenv("RETELL_API_KEY"), "Retell API key to sign with (default $RETELL_API_KEY, in-process: the dev key)")
	flag.StringVar(&cfg.To, "to", "+4930123456", "the dialled number (the demo tenant's)")
	flag.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "hard time limit for the whole run")
	flag.BoolVar(&cfg.Logs, "logs", false, "show the in-process gateway's JSON logs on stderr")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulate-call:", err)
		os.Exit(2)
	}
	if !rep.OK {
		os.Exit(1)
	}
}

// Run plays the configured scenarios and writes the script (or JSON) to out.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, orDuration(cfg.Timeout, 2*time.Minute))
	defer cancel()
	scenarios := []string{cfg.Scenario}
	if cfg.Scenario == "all" {
		scenarios = callsim.Scenarios
	}
	for _, s := range scenarios {
		if !contains(callsim.Scenarios, s) {
			return nil, fmt.Errorf("unknown scenario %q (one of %s, all)", s, strings.Join(callsim.Scenarios, ", "))
		}
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, err
	}
	sess := &callsim.Session{To: cfg.To, AgentID: "agent_demo", Loc: loc, APIKey: cfg.APIKey}
	var local *inProcess
	if cfg.BaseURL == "" {
		local, err = startInProcess(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer local.close()
		if sess.APIKey == "" {
			sess.APIKey = local.st.Deps.RetellAPIKey
		}
		sess.T = callsim.HTTPTransport{BaseURL: local.st.URL}
		sess.Observer = local
		sess.AfterGreeting = local.st.Drain
	} else {
		if err := callsim.CheckTarget(cfg.BaseURL); err != nil {
			return nil, err
		}
		if sess.APIKey == "" {
			return nil, errors.New("--api-key (or RETELL_API_KEY) is required for a remote gateway")
		}
		sess.T = callsim.HTTPTransport{BaseURL: cfg.BaseURL}
	}
	rep := &Report{Target: cfg.BaseURL, OK: true}
	if local != nil {
		rep.Target = local.st.URL + " (in-process dev gateway)"
	}
	pr := &printer{w: out, quiet: cfg.JSON}
	sess.OnStep = pr.step
	pr.header(rep.Target)
	for _, name := range scenarios {
		pr.scenario(name)
		o, err := sess.Play(ctx, name)
		if err != nil {
			return nil, err
		}
		if local != nil {
			stored, calls, problems := local.inspect(ctx, o)
			o.Problems = append(o.Problems, problems...)
			rep.Stored = append(rep.Stored, stored...)
			rep.Calls = append(rep.Calls, calls...)
		} else {
			rep.Stored = append(rep.Stored, answered(o)...)
		}
		rep.Outcomes = append(rep.Outcomes, o)
		if !o.OK() {
			rep.OK = false
		}
		pr.verdict(o)
	}
	rep.Words = pr.summary()
	pr.stored(rep, local != nil)
	if cfg.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
