package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/scripts/internal/devstack"
	"github.com/telefonagent/gateway/shared/testenv"
)

// TestDemoAgainstRealServices is how CI runs `make demo` end to end: every
// scenario through the public HTTP routes of an in-process gateway on the
// real MariaDB and Redis, with every step and the stored state asserted.
func TestDemoAgainstRealServices(t *testing.T) {
	_, ns := testenv.Redis(t)
	cfg := Config{Scenario: "all", JSON: true, To: "+4930123456", Timeout: 90 * time.Second,
		Stack: devstack.Options{MySQLDSN: testenv.MySQLDSN(t, "simulate_call"), RedisAddr: testenv.RedisAddr(), RedisPrefix: ns}}
	rep := run(t, cfg)
	assertAllBehaved(t, rep)
}

// TestDemoAsMakeDemoRunsIt uses the defaults of `make demo`: the embedded
// MySQL engine and in-process Redis, and the human-readable script.
func TestDemoAsMakeDemoRunsIt(t *testing.T) {
	var out bytes.Buffer
	rep, err := Run(context.Background(), Config{Scenario: "all", To: "+4930123456", Timeout: 90 * time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	assertAllBehaved(t, rep)
	script := out.String()
	for _, want := range []string{"Anrufer: Ich hätte gern einen Herrenhaarschnitt", "reason=slot_taken", "Agent:   Ihr Termin für Färben ist gebucht",
		"reason=contact_needed", "reason=anonymous_caller", "Wörter]", "Agent turns:", "All scenarios behaved."} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	// Every agent turn within 30 words, except a list of several appointments.
	if rep.Words.Turns == 0 || rep.Words.Average > 30 || rep.Words.Average < 3 {
		t.Errorf("words %+v", rep.Words)
	}
	if t.Failed() {
		t.Logf("script:\n%s", script)
	}
}

// TestMisbehaviourFails: a gateway that refuses every call (wrong key)
// must give a failing report, or the demo could never catch anything.
func TestMisbehaviourFails(t *testing.T) {
	_, ns := testenv.Redis(t)
	cfg := Config{Scenario: "book", JSON: true, To: "+4930123456", APIKey: "key_wrong", Timeout: 30 * time.Second,
		Stack: devstack.Options{MySQLDSN: testenv.MySQLDSN(t, "simulate_call_bad"), RedisAddr: testenv.RedisAddr(), RedisPrefix: ns}}
	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Outcomes) != 1 || rep.Outcomes[0].OK() {
		t.Fatalf("a gateway answering 401 passed the demo: %s", out.String())
	}
	if !strings.Contains(strings.Join(rep.Outcomes[0].Problems, "\n"), "HTTP 401") {
		t.Errorf("problems do not name the 401: %v", rep.Outcomes[0].Problems)
	}
}

func TestUnknownScenarioIsAnError(t *testing.T) {
	if _, err := Run(context.Background(), Config{Scenario: "nope"}, &bytes.Buffer{}); err == nil {
		t.Fatal("an unknown scenario was accepted")
	}
}

func TestRemoteTargetMustBeHTTPS(t *testing.T) {
	_, err := Run(context.Background(), Config{Scenario: "book", BaseURL: "http://example.com", APIKey: "k"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("plain http to a remote host was not refused: %v", err)
	}
}

func run(t *testing.T, cfg Config) *Report {
	t.Helper()
	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	var decoded Report
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil {
		t.Fatalf("--json output is not one JSON report: %v\n%s", err, out.String())
	}
	return rep
}

func assertAllBehaved(t *testing.T, rep *Report) {
	t.Helper()
	if len(rep.Outcomes) != len(callsim.Scenarios) {
		t.Fatalf("%d scenarios played, want %d", len(rep.Outcomes), len(callsim.Scenarios))
	}
	for _, o := range rep.Outcomes {
		for _, p := range o.Problems {
			t.Errorf("%s: %s", o.Scenario, p)
		}
		if len(o.Steps) < 6 {
			t.Errorf("%s: only %d steps", o.Scenario, len(o.Steps))
		}
		if len(o.Booked) == 0 {
			t.Errorf("%s: nothing booked", o.Scenario)
		}
	}
	if !rep.OK {
		t.Error("report not OK")
	}
	// Every booking the scenarios made is in the store and in Cal.com.
	want := 0
	for _, o := range rep.Outcomes {
		want += len(o.Booked)
	}
	if len(rep.Stored) != want {
		t.Errorf("%d stored appointments inspected, want %d", len(rep.Stored), want)
	}
	byScenario := map[string]StoredAppointment{}
	for _, s := range rep.Stored {
		byScenario[s.Scenario] = s
	}
	if s := byScenario["cancel"]; s.Status != "cancelled" || len(s.CalcomStatus) != 1 || s.CalcomStatus[0] != "cancelled" {
		t.Errorf("cancel scenario left %+v", s)
	}
	if s := byScenario["composite"]; len(s.CalcomUIDs) != 2 {
		t.Errorf("composite scenario has %d Cal.com bookings, want 2", len(s.CalcomUIDs))
	}
	if len(rep.Calls) == 0 {
		t.Error("no call records inspected")
	}
}
