package infra

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func ctx(m map[string]any) func(string) any { return func(k string) any { return m[k] } }

func TestParseConfigStageDefaults(t *testing.T) {
	d, err := ParseConfig(ctx(nil))
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != StageDev || d.Account != DummyAccount || d.Region != "eu-central-1" || d.DeploymentConfig != "ALL_AT_ONCE" ||
		len(d.RetellIPAllowList) != 0 || len(d.AZs) != 0 || d.AZCount != 2 || d.NatGateways != 1 || d.DRRegion != "" || d.RequireBuiltAssets {
		t.Errorf("dev defaults: %+v", d)
	}
	p, err := ParseConfig(ctx(map[string]any{"stage": "prod", "account": "210987654321", "region": "eu-west-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Prod() || p.DeploymentConfig != "CANARY_10PERCENT_5MINUTES" || p.Prefix() != "telefonagent-prod" ||
		len(p.AZs) != 0 || p.AZCount != 3 || p.NatGateways != 3 || p.DRRegion != "eu-central-1" || p.DBMaxConnections <= d.DBMaxConnections {
		t.Errorf("prod defaults: %+v", p)
	}
}

func TestParseConfigOverridesAndLists(t *testing.T) {
	c, err := ParseConfig(ctx(map[string]any{
		"stage": "prod", "deploymentConfig": "linear_10percent_every_1minute",
		"retellIpAllowList": []any{"100.20.5.228", "34.226.180.0/24"}, "requireBuiltAssets": "true",
		"domain": "api.example.com", "certificateArn": "arn:aws:acm:eu-central-1:123456789012:certificate/x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DeploymentConfig != "LINEAR_10PERCENT_EVERY_1MINUTE" || !c.RequireBuiltAssets ||
		!reflect.DeepEqual(c.RetellIPAllowList, []string{"100.20.5.228/32", "34.226.180.0/24"}) {
		t.Errorf("overrides: %+v", c)
	}
	c, err = ParseConfig(ctx(map[string]any{"retellIpAllowList": `["10.0.0.1"]`}))
	if err != nil || !reflect.DeepEqual(c.RetellIPAllowList, []string{"10.0.0.1/32"}) {
		t.Errorf("JSON list: %v %v", c.RetellIPAllowList, err)
	}
}

func TestParseConfigRejectsTypos(t *testing.T) {
	for name, m := range map[string]map[string]any{
		"stage":      {"stage": "production"},
		"account":    {"account": "12345"},
		"region":     {"region": "Frankfurt"},
		"deploy":     {"deploymentConfig": "CANARY_50PERCENT"},
		"cidr":       {"retellIpAllowList": "not-an-ip"},
		"domainOnly": {"domain": "api.example.com"},
		"email":      {"alarmEmail": "ops"},
		"bool":       {"requireBuiltAssets": "yes please"},
	} {
		if _, err := ParseConfig(ctx(m)); err == nil {
			t.Errorf("%s: %v accepted", name, m)
		}
	}
}

func TestAssetDirUsesBuiltBinaryOrPlaceholder(t *testing.T) {
	dist := t.TempDir()
	cfg := Config{DistDir: dist}
	dir, placeholder, err := AssetDir(cfg, "health")
	if err != nil || !placeholder {
		t.Fatalf("missing build: dir=%s placeholder=%v err=%v", dir, placeholder, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil || !strings.Contains(string(b), "make build") {
		t.Fatalf("placeholder bootstrap: %q %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "bootstrap")); fi.Mode()&0o111 == 0 {
		t.Error("placeholder bootstrap is not executable")
	}

	cfg.RequireBuiltAssets = true
	if _, _, err := AssetDir(cfg, "health"); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("requireBuiltAssets without a build: %v", err)
	}

	if err := os.MkdirAll(filepath.Join(dist, "health"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, "health", "bootstrap"), []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, placeholder, err = AssetDir(cfg, "health")
	if err != nil || placeholder || dir != filepath.Join(dist, "health") {
		t.Errorf("built: dir=%s placeholder=%v err=%v", dir, placeholder, err)
	}
}

func TestParseConfigPinnedAZs(t *testing.T) {
	c, err := ParseConfig(ctx(map[string]any{"stage": "prod", "azs": "eu-central-1a,eu-central-1b"}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.AZs, []string{"eu-central-1a", "eu-central-1b"}) || c.AZCount != 2 {
		t.Errorf("pinned AZs: %v (count %d)", c.AZs, c.AZCount)
	}
}

func TestParseConfigDRRegion(t *testing.T) {
	c, err := ParseConfig(ctx(map[string]any{"stage": "prod"}))
	if err != nil || c.DRRegion != "eu-west-1" {
		t.Errorf("prod in eu-central-1: DR region %q, %v; want eu-west-1", c.DRRegion, err)
	}
	c, err = ParseConfig(ctx(map[string]any{"stage": "prod", "drRegion": "off"}))
	if err != nil || c.DRRegion != "" {
		t.Errorf("drRegion=off: %q, %v", c.DRRegion, err)
	}
	for _, bad := range []string{"eu-central-1", "mars"} {
		if _, err := ParseConfig(ctx(map[string]any{"stage": "prod", "drRegion": bad})); err == nil {
			t.Errorf("drRegion=%s accepted", bad)
		}
	}
}
