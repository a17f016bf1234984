package retell

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

// sdkDir finds the directory whose node_modules holds retell-sdk:
// $RETELL_SDK_DIR (the Makefile exports it) or <repo>/.tools/node.
func sdkDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RETELL_SDK_DIR")
	if dir == "" {
		dir = filepath.Join(testenv.ModuleRoot(t), ".tools", "node")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "retell-sdk", "package.json")); err != nil {
		t.Fatalf("the official retell-sdk is not installed in %q (RETELL_SDK_DIR): run `make tools` "+
			"(npm install retell-sdk@5.66.1 there)", dir)
	}
	return dir
}

// TestOfficialSDKSignaturesVerify signs fresh bodies with the official
// retell-sdk 5.66.1 (through testdata/contracts/retell-sign.mjs, which
// also cross-checks the SDK's own verify) and proves our verifier accepts
// each and rejects a one-byte change.
func TestOfficialSDKSignaturesVerify(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: it is needed to run the official retell-sdk; install Node.js 20+ and run `make tools`")
	}
	dir := sdkDir(t)
	script := filepath.Join(testenv.ContractsDir(t), "retell-sign.mjs")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	bodies := map[string][]byte{
		"empty (GET)":      {},
		"umlauts":          mustJSON(t, map[string]any{"event": "call_started", "call": map[string]any{"call_id": "call_" + randWord(rng, 24), "note": "Grüße aus Köln – Straße, Öffnungszeiten, ß, € und 😀"}}),
		"random nested":    randomJSON(t, rng, 4),
		"random nested 2":  randomJSON(t, rng, 5),
		"30 KB":            mustJSON(t, map[string]any{"event": "call_ended", "call": map[string]any{"call_id": "call_x", "transcript": strings.Repeat("Agent: Guten Tag, möchten Sie einen Termin? ", 700)}}),
		"trailing newline": append(mustJSON(t, map[string]any{"name": "check_availability", "args": map[string]string{"date": "übermorgen"}}), '\n'),
	}
	if n := len(bodies["30 KB"]); n < 30<<10 {
		t.Fatalf("30 KB body is only %d bytes", n)
	}
	keys := []string{"key_" + randWord(rng, 32), "schlüssel_" + randWord(rng, 8)}

	i := 0
	for name, body := range bodies {
		key := keys[i%len(keys)]
		i++
		ts := time.Now().UnixMilli() - rng.Int64N(60_000)
		pos := 0
		if len(body) > 0 {
			pos = rng.IntN(len(body))
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each run starts node (~0.7 s)
			file := filepath.Join(t.TempDir(), "body.json")
			if err := os.WriteFile(file, body, 0o600); err != nil {
				t.Fatal(err)
			}
			header := runSign(t, node, dir, script, key, file, strconv.FormatInt(ts, 10))
			if header != Sign(body, key, ts) {
				t.Fatalf("SDK header %s differs from ours %s", header, Sign(body, key, ts))
			}
			v := Verifier{Keys: []string{key}, Clock: booking.SystemClock}
			if err := v.Verify(body, header); err != nil {
				t.Fatalf("SDK signature rejected: %v", err)
			}
			changed := append([]byte{}, body...)
			if len(changed) == 0 {
				changed = []byte{' '}
			} else {
				changed[pos] ^= 0x20
				if bytes.Equal(changed, body) {
					t.Fatal("mutation did not change the body")
				}
			}
			if err := v.Verify(changed, header); booking.KindOf(err) != booking.KindUnauthorized {
				t.Fatalf("one-byte change accepted: %v", err)
			}
			if err := (Verifier{Keys: []string{key + "x"}}).Verify(body, header); booking.KindOf(err) != booking.KindUnauthorized {
				t.Fatalf("wrong key accepted: %v", err)
			}
		})
	}

	// Without a timestamp the SDK signs with Date.now(): accepted by the real clock.
	t.Run("sdk clock", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "body.json")
		body := []byte(`{"event":"call_inbound","call_inbound":{"to_number":"+4930123456"}}`)
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		header := runSign(t, node, dir, script, keys[0], file, "")
		if err := (Verifier{Keys: []string{keys[0]}}).Verify(body, header); err != nil {
			t.Fatalf("SDK signature with its own clock rejected: %v", err)
		}
	})
}

func runSign(t *testing.T, node, sdkDir, script, key, file, ts string) string {
	t.Helper()
	args := []string{script, key, file}
	if ts != "" {
		args = append(args, ts)
	}
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "RETELL_SDK_DIR="+sdkDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("retell-sign.mjs failed (%v): %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "retell-sdk 5.66.1: verify=true") || !strings.Contains(stderr.String(), "tamperedRejected=true") {
		t.Fatalf("SDK self-check did not pass: %s", stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const wordChars = "abcdefghijklmnopqrstuvwxyzäöüßÄÖÜ0123456789 \"\\/\t"

func randWord(rng *rand.Rand, n int) string {
	const plain = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = plain[rng.IntN(len(plain))]
	}
	return string(b)
}

func randText(rng *rand.Rand, n int) string {
	r := []rune(wordChars)
	out := make([]rune, n)
	for i := range out {
		out[i] = r[rng.IntN(len(r))]
	}
	return string(out)
}

func randomJSON(t *testing.T, rng *rand.Rand, depth int) []byte {
	var gen func(d int) any
	gen = func(d int) any {
		switch k := rng.IntN(6); {
		case d == 0 || k == 0:
			return randText(rng, 1+rng.IntN(40))
		case k == 1:
			return rng.Float64() * 1e6
		case k == 2:
			return rng.IntN(2) == 0
		case k == 3:
			arr := make([]any, rng.IntN(4))
			for i := range arr {
				arr[i] = gen(d - 1)
			}
			return arr
		default:
			m := map[string]any{}
			for i := 0; i < 1+rng.IntN(5); i++ {
				m[fmt.Sprintf("%s_%d", randText(rng, 5), i)] = gen(d - 1)
			}
			return m
		}
	}
	return mustJSON(t, map[string]any{"event": "call_analyzed", "payload": gen(depth)})
}
