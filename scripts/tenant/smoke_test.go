package main

import (
	"os"
	"testing"

	"github.com/telefonagent/gateway/shared/tenantfile"
)

// The smoke tenant deploy-check probes must stay a valid tenant file.
func TestSmokeTenantFileIsValid(t *testing.T) {
	b, err := os.ReadFile("smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tenantfile.Parse(b)
	if err != nil {
		t.Fatalf("smoke.yaml: %v", err)
	}
	if cfg.Tenant.ID != "smoke-test" || len(cfg.PhoneNumbers) != 1 || cfg.PhoneNumbers[0].E164 != "+4930000099" {
		t.Fatalf("smoke tenant: %+v", cfg)
	}
}
