package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/devstack"
	"github.com/telefonagent/gateway/shared/testenv"
)

// TestAgainstLoopbackGateway runs the load test the only way tests may:
// against a gateway on 127.0.0.1 (in-process, real MariaDB and Redis).
func TestAgainstLoopbackGateway(t *testing.T) {
	_, ns := testenv.Redis(t)
	st, err := devstack.Start(context.Background(), devstack.Options{MySQLDSN: testenv.MySQLDSN(t, "loadtest"),
		RedisAddr: testenv.RedisAddr(), RedisPrefix: ns, ListenAddr: "127.0.0.1:0", LogOutput: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	cfg := Config{Target: st.URL, APIKey: st.Deps.RetellAPIKey, To: "+4930123456", Scenario: "all",
		RPS: 25, Duration: 20 * time.Second, MaxRequests: 60, Workers: 1}
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if rep.Requests != 60 || rep.StoppedBy != "max-requests" {
		t.Errorf("sent %d requests, stopped by %s; want exactly 60 and max-requests", rep.Requests, rep.StoppedBy)
	}
	// 60 requests at 25/s cannot take less than 59/25 s.
	if min := 59 * time.Second / 25; rep.Elapsed < min {
		t.Errorf("60 requests took %v, the rate limit allows no less than %v", rep.Elapsed, min)
	}
	if len(rep.Problems) > 0 {
		t.Errorf("problems: %v", rep.Problems)
	}
	played := 0
	for _, n := range rep.Scenarios {
		played += n
	}
	if played < 2 {
		t.Errorf("only %d scenarios completed", played)
	}
}

func TestStopsAtDuration(t *testing.T) {
	_, ns := testenv.Redis(t)
	st, err := devstack.Start(context.Background(), devstack.Options{MySQLDSN: testenv.MySQLDSN(t, "loadtest_duration"),
		RedisAddr: testenv.RedisAddr(), RedisPrefix: ns, ListenAddr: "127.0.0.1:0", LogOutput: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	rep, err := Run(context.Background(), Config{Target: st.URL, APIKey: st.Deps.RetellAPIKey, To: "+4930123456",
		Scenario: "book", RPS: 5, Duration: 1500 * time.Millisecond, MaxRequests: 1000, Workers: 1}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.StoppedBy != "duration" || time.Since(start) > 5*time.Second {
		t.Errorf("stopped by %s after %v; want duration, promptly", rep.StoppedBy, time.Since(start))
	}
	if rep.Requests > 9 {
		t.Errorf("%d requests in 1.5 s at 5/s", rep.Requests)
	}
}

func TestRefusesPlainHTTPToTheInternet(t *testing.T) {
	for _, target := range []string{"http://example.com", "http://10.0.0.1:8080", "ftp://example.com", "example.com"} {
		_, err := Run(context.Background(), Config{Target: target, APIKey: "k", Scenario: "book", RPS: 1, Duration: time.Second, MaxRequests: 1, Workers: 1}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%s was accepted", target)
		}
	}
	_, err := Run(context.Background(), Config{Target: "http://example.com", APIKey: "k", Scenario: "book", RPS: 1, Duration: time.Second, MaxRequests: 1, Workers: 1}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("refusal does not say https: %v", err)
	}
}

func TestLimitsAreBounded(t *testing.T) {
	base := Config{Target: "https://api.example.com", APIKey: "k", Scenario: "book", RPS: 1, Duration: time.Second, MaxRequests: 1, Workers: 1}
	for name, mut := range map[string]func(*Config){
		"rps":      func(c *Config) { c.RPS = 1000 },
		"duration": func(c *Config) { c.Duration = 24 * time.Hour },
		"requests": func(c *Config) { c.MaxRequests = 0 },
		"key":      func(c *Config) { c.APIKey = "" },
		"scenario": func(c *Config) { c.Scenario = "storm" },
	} {
		c := base
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: an unbounded or incomplete configuration was accepted", name)
		}
	}
	if err := base.Validate(); err != nil {
		t.Errorf("a sane https configuration was refused: %v", err)
	}
}
