package retell

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

func guardAt(nowMS int64, keys ...string) (*Guard, *int) {
	rejected := 0
	return &Guard{Keys: StaticKeys(keys...), Clock: booking.FixedClock(time.UnixMilli(nowMS)), Enforce: true,
		Rejected: func() { rejected++ }}, &rejected
}

// A key rotation: while both keys are configured a request signed with
// either verifies; once the old key is dropped only the new one does.
func TestGuardRotationWindow(t *testing.T) {
	ctx := context.Background()
	body := readSample(t, "retell/custom_function_book_appointment.json")
	const oldKey, newKey = "key_old_0123456789", "key_new_9876543210"
	byOld, byNew := Sign(body, oldKey, sampleTS), Sign(body, newKey, sampleTS)

	before, _ := guardAt(sampleTS, oldKey)
	window, rejected := guardAt(sampleTS, newKey, oldKey)
	after, _ := guardAt(sampleTS, newKey)
	if err := before.Check(ctx, body, byOld); err != nil {
		t.Fatalf("before the rotation: %v", err)
	}
	for name, h := range map[string]string{"old": byOld, "new": byNew} {
		if err := window.Check(ctx, body, h); err != nil {
			t.Fatalf("during the window, the %s key: %v", name, err)
		}
	}
	if err := window.Check(ctx, body, Sign(body, "key_third", sampleTS)); booking.KindOf(err) != booking.KindUnauthorized || *rejected != 1 {
		t.Fatalf("a third key during the window: %v (rejected %d)", err, *rejected)
	}
	if err := after.Check(ctx, body, byNew); err != nil {
		t.Fatalf("after the window, the new key: %v", err)
	}
	if err := after.Check(ctx, body, byOld); booking.KindOf(err) != booking.KindUnauthorized {
		t.Fatalf("after the window the old key still verifies: %v", err)
	}
	// Both keys still obey the rest of the rule: the old key's signature
	// over another body is a forgery whatever the window.
	if err := window.Check(ctx, flipLastByte(body), byOld); booking.KindOf(err) != booking.KindUnauthorized {
		t.Fatalf("tampered body accepted during the window: %v", err)
	}
}

func TestGuardBehaviour(t *testing.T) {
	ctx := context.Background()
	body := []byte(`{"event":"call_started","call":{"call_id":"abc"}}`)
	good := Sign(body, sampleKey, sampleTS)

	// Whitespace around the value is no part of an HTTP header value.
	g, rejected := guardAt(sampleTS, sampleKey)
	for _, h := range []string{" " + good, good + " ", "\t" + good + "\r\n"} {
		if err := g.Check(ctx, body, h); err != nil {
			t.Errorf("%q: %v", h, err)
		}
	}
	// Inside it, it is malformed; every refusal is counted once.
	for _, h := range []string{"", "v=1, d=ab", good[:10] + " " + good[10:], "garbage"} {
		if err := g.Check(ctx, body, h); booking.KindOf(err) != booking.KindUnauthorized {
			t.Errorf("%q: want unauthorized, got %v", h, err)
		}
	}
	if *rejected != 4 {
		t.Fatalf("rejected counted %d times, want 4", *rejected)
	}

	// Enforcement off (dev only) lets anything through.
	off := *g
	off.Enforce = false
	if err := off.Check(ctx, body, "garbage"); err != nil {
		t.Fatalf("enforcement off: %v", err)
	}

	// No key: our misconfiguration (500), not the caller's fault, not counted.
	for name, keys := range map[string]func(context.Context) ([]string, error){
		"nil": nil, "empty": StaticKeys(), "blank": StaticKeys(""),
	} {
		ng := *g
		ng.Keys = keys
		*rejected = 0
		if err := ng.Check(ctx, body, good); booking.KindOf(err) != booking.KindInternal || *rejected != 0 {
			t.Errorf("%s keys: %v (rejected %d)", name, err, *rejected)
		}
	}
	// Keys that cannot be read right now (Secrets Manager down): transient.
	down := *g
	down.Keys = func(context.Context) ([]string, error) {
		return nil, booking.Errorf(booking.KindTransient, "secrets.Get", "unreachable")
	}
	if err := down.Check(ctx, body, good); booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("keys unavailable: %v", err)
	}
}

// The official SDK signs with the old and with the new key; during the
// rotation window the guard accepts both, afterwards only the new one.
func TestOfficialSDKSignaturesDuringRotation(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: it is needed to run the official retell-sdk; install Node.js 20+ and run `make tools`")
	}
	dir := sdkDir(t)
	script := filepath.Join(testenv.ContractsDir(t), "retell-sign.mjs")
	file := filepath.Join(t.TempDir(), "body.json")
	body := []byte(`{"name":"check_availability","call":{"call_id":"call_rot"},"args":{"date":"morgen"}}`)
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	oldKey, newKey := "key_"+testenv.RandomHex(16), "key_"+testenv.RandomHex(16)
	ts := strconv.FormatInt(sampleTS, 10)
	byOld := runSign(t, node, dir, script, oldKey, file, ts)
	byNew := runSign(t, node, dir, script, newKey, file, ts)
	window, _ := guardAt(sampleTS, newKey, oldKey)
	after, _ := guardAt(sampleTS, newKey)
	ctx := context.Background()
	if window.Check(ctx, body, byOld) != nil || window.Check(ctx, body, byNew) != nil {
		t.Fatal("during the window an SDK signature was rejected")
	}
	if after.Check(ctx, body, byNew) != nil || booking.KindOf(after.Check(ctx, body, byOld)) != booking.KindUnauthorized {
		t.Fatal("after the window: want the new key only")
	}
}
