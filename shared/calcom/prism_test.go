package calcom_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/internal/spectest"
	"github.com/telefonagent/gateway/shared/testenv"
)

// startPrism serves the Prism-patched official spec on a free loopback
// port and returns its base URL. It fails (never skips) without Prism.
func startPrism(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PRISM_BIN")
	if bin == "" {
		bin = filepath.Join(testenv.ModuleRoot(t), ".tools/node/node_modules/.bin/prism")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Prism not found at %s (PRISM_BIN): run `make tools` to install it", bin)
	}
	contracts := testenv.ContractsDir(t)
	spec := filepath.Join(t.TempDir(), "calcom.prism.json")
	patch := exec.Command("node", contracts+"/prism-patch-openapi.mjs", contracts+"/calcom-v2-openapi.json", spec)
	if out, err := patch.CombinedOutput(); err != nil {
		t.Fatalf("patching the spec for Prism: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "mock", "-h", "127.0.0.1", "-p", port, spec)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Prism: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill() // only the process we started, by its pid
		<-exited
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest("GET", base+"/v2/slots?eventTypeId=1&start=2050-09-05&end=2050-09-06", nil)
		req.Header.Set("cal-api-version", "2024-09-04")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return base
		}
		select {
		case <-exited:
			t.Fatalf("Prism exited before it was ready:\n%s", logs.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism not ready after 60 s:\n%s", logs.String())
		}
	}
}

// TestPrismBookingFlow runs the client's booking flow against Prism serving
// the official spec: Prism rejects (422) any request that breaks the spec,
// and every answer (static examples, so no business values are asserted)
// must parse. Requests are also validated in-process with kin-openapi.
func TestPrismBookingFlow(t *testing.T) {
	base := startPrism(t)
	rec := spectest.Load(t).Transport(t, http.DefaultTransport)
	c, err := calcom.New(calcom.Config{BaseURL: base, APIKey: "cal_test_123", HTTPClient: &http.Client{Transport: rec},
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Date(2050, 9, 5, 7, 0, 0, 0, time.UTC)
	slots, err := c.Slots(ctx, 1001, start, start.Add(24*time.Hour), "Europe/Berlin")
	if err != nil || len(slots) == 0 {
		t.Fatalf("slots: %d %v", len(slots), err)
	}
	b, err := c.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 1001, Start: start, Attendee: maria,
		Metadata: map[string]string{"retell_call_id": "call_1", "tenant": "salon-sonnenschein", "idempotency_key": "k"}})
	if err != nil || b.UID == "" {
		t.Fatalf("create: %v", err)
	}
	phoneOnly := maria
	phoneOnly.Email = ""
	if _, err := c.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 1001, Start: start, Attendee: phoneOnly}); err != nil {
		t.Fatalf("phone-only create: %v", err)
	}
	if _, err := c.GetBooking(ctx, b.UID); err != nil {
		t.Fatalf("get: %v", err)
	}
	if moved, err := c.RescheduleBooking(ctx, b.UID, start.Add(time.Hour), "Kunde wünscht anderen Termin"); err != nil || moved.UID == "" {
		t.Fatalf("reschedule: %v", err)
	}
	if _, err := c.CancelBooking(ctx, b.UID, "Caller asked to cancel"); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	// One status only: Prism reads the status array with the spec's default
	// explode=true style and refuses Cal.com's own comma form (see spectest).
	// (Prism's static pagination always has a next page, so read one.)
	if _, _, err := c.ListBookingsPage(ctx, calcom.ListBookingsFilter{EventTypeIDs: []int64{1001}, AfterStart: start, Status: []string{calcom.ListUpcoming}}, 0); err != nil {
		t.Fatalf("list: %v", err)
	}
	if n := len(rec.Seen()); n != 7 {
		t.Fatalf("validated %d exchanges, want 7", n)
	}
}
