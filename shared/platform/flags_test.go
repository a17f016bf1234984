package platform

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLoadFlags(t *testing.T) {
	f, err := LoadFlags(envOf(map[string]string{"FLAG_AVAILABILITY_PREFETCH": "false", "FLAG_DETAILED_LOGGING": "0"}), StageStaging)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultFlags(StageStaging)
	want.AvailabilityPrefetch, want.DetailedLogging = false, false
	if f != want {
		t.Fatalf("got %+v want %+v", f, want)
	}
}

func TestSignatureEnforcementOffOnlyInDev(t *testing.T) {
	off := envOf(map[string]string{"FLAG_SIGNATURE_ENFORCEMENT": "false"})
	if f, err := LoadFlags(off, StageDev); err != nil || f.SignatureEnforcement {
		t.Fatalf("dev may switch it off: %+v %v", f, err)
	}
	for _, stage := range []string{StageStaging, StageProd, ""} {
		if _, err := LoadFlags(off, stage); err == nil {
			t.Errorf("stage %q: switching signature enforcement off must fail at start-up", stage)
		}
		f := DefaultFlags(stage)
		got, err := f.WithOverrides(map[string]bool{FlagSignatureEnforcement: false})
		if err == nil || !got.SignatureEnforcement {
			t.Errorf("stage %q: tenant override must be refused, got %+v %v", stage, got, err)
		}
	}
	got, err := DefaultFlags(StageDev).WithOverrides(map[string]bool{FlagSignatureEnforcement: false})
	if err != nil || got.SignatureEnforcement {
		t.Fatalf("dev tenant override: %+v %v", got, err)
	}
}

func TestWithOverrides(t *testing.T) {
	base := DefaultFlags(StageProd)
	got, err := base.WithOverrides(map[string]bool{FlagAlternatives: false, FlagCompositeServices: false, FlagMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Alternatives || got.CompositeServices || !got.Metrics || !got.AvailabilityPrefetch {
		t.Fatalf("overrides not applied: %+v", got)
	}
	if !base.Alternatives {
		t.Fatal("WithOverrides changed its receiver")
	}
	got, err = base.WithOverrides(map[string]bool{"altenatives": false, FlagMetrics: false})
	if err == nil || !strings.Contains(err.Error(), "altenatives") || got != base {
		t.Fatalf("unknown flag must fail and change nothing: %+v %v", got, err)
	}
}

func TestLogFlagsNamesEveryFlag(t *testing.T) {
	var buf bytes.Buffer
	f := DefaultFlags(StageProd)
	f.Alternatives = false
	f.LogFlags(NewLogger(&buf, slog.LevelInfo))
	var line struct {
		Msg   string          `json:"msg"`
		Stage string          `json:"stage"`
		Flags map[string]bool `json:"flags"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if line.Stage != StageProd || len(line.Flags) != len(FlagNames()) || line.Flags[FlagAlternatives] || !line.Flags[FlagMetrics] {
		t.Fatalf("flags line: %s", buf.String())
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("want exactly one line: %s", buf.String())
	}
}
