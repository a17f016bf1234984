package platform

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
)

// Flags switch optional behaviour. They are read from the environment of a
// deployment (FLAG_<NAME>=true|false, every flag defaults to on) and may be
// overridden per tenant from the tenant file. A zero Flags is "everything off
// and stage unknown"; use LoadFlags or DefaultFlags.
type Flags struct {
	SignatureEnforcement bool // verify X-Retell-Signature / X-Cal-Signature-256; off only in dev
	AvailabilityPrefetch bool // call_inbound enqueues a slots prefetch
	Alternatives         bool // check-availability offers alternatives
	CompositeServices    bool // services with several segments are bookable
	DetailedLogging      bool // more attributes per request (still never personal data)
	Metrics              bool // write EMF metrics

	stage string // the deployment's stage, for validating overrides
}

// Flag names as they appear in tenant files and, upper-cased with a FLAG_
// prefix, in the environment.
const (
	FlagSignatureEnforcement = "signature_enforcement"
	FlagAvailabilityPrefetch = "availability_prefetch"
	FlagAlternatives         = "alternatives"
	FlagCompositeServices    = "composite_services"
	FlagDetailedLogging      = "detailed_logging"
	FlagMetrics              = "metrics"
)

// flagFields is the one table tying names to fields.
var flagFields = []struct {
	name string
	ptr  func(*Flags) *bool
}{
	{FlagSignatureEnforcement, func(f *Flags) *bool { return &f.SignatureEnforcement }},
	{FlagAvailabilityPrefetch, func(f *Flags) *bool { return &f.AvailabilityPrefetch }},
	{FlagAlternatives, func(f *Flags) *bool { return &f.Alternatives }},
	{FlagCompositeServices, func(f *Flags) *bool { return &f.CompositeServices }},
	{FlagDetailedLogging, func(f *Flags) *bool { return &f.DetailedLogging }},
	{FlagMetrics, func(f *Flags) *bool { return &f.Metrics }},
}

// FlagNames lists every flag name, in declaration order.
func FlagNames() []string {
	out := make([]string, len(flagFields))
	for i, ff := range flagFields {
		out[i] = ff.name
	}
	return out
}

// FlagEnv is the environment variable of a flag: FLAG_SIGNATURE_ENFORCEMENT.
func FlagEnv(name string) string { return "FLAG_" + strings.ToUpper(name) }

// DefaultFlags is every flag on, for the given stage.
func DefaultFlags(stage string) Flags {
	f := Flags{stage: stage}
	for _, ff := range flagFields {
		*ff.ptr(&f) = true
	}
	return f
}

// LoadFlags reads FLAG_* for a stage. Turning signature enforcement off
// outside dev is refused here, so such a deployment fails at start-up.
func LoadFlags(getenv func(string) string, stage string) (Flags, error) {
	f := DefaultFlags(stage)
	var problems []string
	for _, ff := range flagFields {
		v := strings.TrimSpace(getenv(FlagEnv(ff.name)))
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, FlagEnv(ff.name)+" must be true or false")
			continue
		}
		*ff.ptr(&f) = b
	}
	if err := f.validate("environment"); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return f, &ConfigError{Problems: problems}
	}
	return f, nil
}

// Stage is the stage the flags were loaded for.
func (f Flags) Stage() string { return f.stage }

func (f Flags) validate(source string) error {
	if !f.SignatureEnforcement && f.stage != StageDev {
		return fmt.Errorf("%s: %s may be off only in stage dev (stage is %q)", source, FlagSignatureEnforcement, f.stage)
	}
	return nil
}

// WithOverrides applies a tenant's overrides (snake_case names). An unknown
// name, or switching signature enforcement off outside dev, is an error and
// leaves f unchanged.
func (f Flags) WithOverrides(overrides map[string]bool) (Flags, error) {
	out := f
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic error text
	var unknown []string
	for _, n := range names {
		found := false
		for _, ff := range flagFields {
			if ff.name == n {
				*ff.ptr(&out) = overrides[n]
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return f, fmt.Errorf("unknown feature flag(s) %s (known: %s)", strings.Join(unknown, ", "), strings.Join(FlagNames(), ", "))
	}
	if err := out.validate("tenant override"); err != nil {
		return f, err
	}
	return out, nil
}

// Map returns name → value.
func (f Flags) Map() map[string]bool {
	m := make(map[string]bool, len(flagFields))
	for _, ff := range flagFields {
		m[ff.name] = *ff.ptr(&f)
	}
	return m
}

// LogValue renders the flags as a group, names in declaration order.
func (f Flags) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(flagFields))
	for _, ff := range flagFields {
		attrs = append(attrs, slog.Bool(ff.name, *ff.ptr(&f)))
	}
	return slog.GroupValue(attrs...)
}

// LogFlags writes one line with every flag, once at start, so a canary
// running with different flags is visible in the logs.
func (f Flags) LogFlags(l *slog.Logger) {
	l.Info("feature flags", slog.String("stage", f.stage), slog.Any("flags", f))
}
