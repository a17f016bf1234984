package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDevGatewayAsAProcess runs the gateway the way a newcomer does: built
// as a binary, started with no configuration (only a free port instead of
// 8080, so a running `make dev` can't collide), asked for /health, and
// stopped with SIGINT.
func TestDevGatewayAsAProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dev")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"LISTEN_ADDR=127.0.0.1:0"} // nothing else: embedded MySQL, Redis and Cal.com
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	ready := make(chan string, 1)
	var printed strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			printed.WriteString(line + "\n")
			if u, ok := strings.CutPrefix(line, "ready on "); ok {
				ready <- u
			}
		}
	}()
	var url string
	select {
	case url = <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("no 'ready on' line within 60 s; printed:\n%s", printed.String())
	}
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Status string                    `json:"status"`
		Checks map[string]map[string]any `json:"checks"`
	}
	json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if resp.StatusCode != 200 || rep.Status != "ok" || rep.Checks["mysql"]["status"] != "ok" || rep.Checks["redis"]["status"] != "ok" {
		t.Fatalf("/health = %d %+v", resp.StatusCode, rep)
	}
	for _, want := range []string{"key_dev_local_only", "curl -s", "X-Retell-Signature: v=", "/functions/book-appointment"} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("start-up output lacks %q", want)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("did not stop cleanly on SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop within 10 s of SIGINT")
	}
}
