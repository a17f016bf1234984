package retell

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

const (
	sampleKey = "test_webhook_key_123"
	sampleTS  = int64(1772460312345)
)

func verifierAt(key string, nowMS int64) Verifier {
	return Verifier{Keys: []string{key}, Clock: booking.FixedClock(time.UnixMilli(nowMS)), Window: 5 * time.Minute}
}

// readSample reads a contract sample as exact bytes (trailing newline
// included): the signatures are over the file as committed.
func readSample(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.ContractsDir(t), rel))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

// The known-answer vectors of NOTES §A1.
func TestVerifyKnownAnswerVectors(t *testing.T) {
	type vector struct {
		name, key string
		ts        int64
		body      func(t testing.TB) []byte
		header    string
	}
	file := func(rel string) func(t testing.TB) []byte {
		return func(t testing.TB) []byte { return readSample(t, rel) }
	}
	vectors := []vector{
		{"inline", "key_test123", 1767225600000,
			func(testing.TB) []byte { return []byte(`{"event":"call_started","call":{"call_id":"abc"}}`) },
			"v=1767225600000,d=08065198b7d29dafdb14ba597c82ffe975eed090c980c7581a98ded5776bf986"},
		{"call_started", sampleKey, sampleTS, file("retell/call_started.json"),
			"v=1772460312345,d=e6cd146e2e9d66f7660eb39f984f6e528f13399426bf6be59366e248a9f4ad8f"},
		{"call_ended", sampleKey, sampleTS, file("retell/call_ended.json"),
			"v=1772460312345,d=863c7aedafa4690bd854c32f567d835728fb08fc8519dca17285cae432a99fd6"},
		{"call_analyzed", sampleKey, sampleTS, file("retell/call_analyzed.json"),
			"v=1772460312345,d=f9fbc63c352deb9dc76ae95df3a9be80f8635fb8b41b8ff508508db25fd8e215"},
		{"custom_function", sampleKey, sampleTS, file("retell/custom_function_book_appointment.json"),
			"v=1772460312345,d=5a9a0ae1e7ca75302b0df6222d8a562d394cca58d40b7bb5efbfdd7f1db848bf"},
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			body := v.body(t)
			if got := Sign(body, v.key, v.ts); got != v.header {
				t.Fatalf("Sign = %s\nwant   %s", got, v.header)
			}
			if err := verifierAt(v.key, v.ts).Verify(body, v.header); err != nil {
				t.Fatalf("Verify at signing time: %v", err)
			}
			// Upper-case hex and an upper-case V/D are accepted like the SDK's /i regex.
			upper := "V=" + strings.TrimPrefix(strings.ToUpper(v.header), "V=")
			if err := verifierAt(v.key, v.ts).Verify(body, upper); err != nil {
				t.Fatalf("upper-case header rejected: %v", err)
			}
			// Against the real clock the vectors are long stale.
			if err := (Verifier{Keys: []string{v.key}}).Verify(body, v.header); booking.KindOf(err) != booking.KindUnauthorized {
				t.Fatalf("stale vector accepted against the real clock: %v", err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	body := readSample(t, "retell/call_started.json")
	good := Sign(body, sampleKey, sampleTS)
	minute := int64(60_000)
	cases := []struct {
		name   string
		body   []byte
		header string
		now    int64
		key    string
		want   string // substring of the message
	}{
		{"missing", body, "", sampleTS, sampleKey, "missing"},
		{"tampered body (one byte)", flipLastByte(body), good, sampleTS, sampleKey, "mismatch"},
		{"appended space", append(append([]byte{}, body...), ' '), good, sampleTS, sampleKey, "mismatch"},
		{"wrong key", body, good, sampleTS, "other_key", "mismatch"},
		{"stale by 5 min + 1 ms", body, good, sampleTS + 5*minute + 1, sampleKey, "expired"},
		{"stale by an hour", body, good, sampleTS + 60*minute, sampleKey, "expired"},
		{"future by 5 min + 1 ms", body, good, sampleTS - 5*minute - 1, sampleKey, "future"},
		{"digest too short", body, good[:len(good)-2], sampleTS, sampleKey, "malformed"},
		{"digest too long", body, good + "00", sampleTS, sampleKey, "malformed"},
		{"non-hex digest", body, good[:len(good)-1] + "g", sampleTS, sampleKey, "malformed"},
		{"leading space", body, " " + good, sampleTS, sampleKey, "malformed"},
		{"trailing newline", body, good + "\n", sampleTS, sampleKey, "malformed"},
		{"old t=,v1= format", body, "t=1772460312,v1=" + good[len(good)-64:], sampleTS, sampleKey, "malformed"},
		{"swapped parts", body, good[strings.Index(good, ",")+1:] + "," + good[:strings.Index(good, ",")], sampleTS, sampleKey, "malformed"},
		{"negative timestamp", body, "v=-1,d=" + good[len(good)-64:], sampleTS, sampleKey, "malformed"},
		{"timestamp beyond 2^53", body, "v=9007199254740992,d=" + good[len(good)-64:], sampleTS, sampleKey, "malformed"},
		{"empty timestamp", body, "v=,d=" + good[len(good)-64:], sampleTS, sampleKey, "malformed"},
		{"seconds instead of ms", body, Sign(body, sampleKey, sampleTS/1000), sampleTS, sampleKey, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verifierAt(tc.key, tc.now).Verify(tc.body, tc.header)
			if booking.KindOf(err) != booking.KindUnauthorized {
				t.Fatalf("want unauthorized, got %v", err)
			}
			msg := booking.MessageOf(err)
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not say %q", msg, tc.want)
			}
			if strings.Contains(err.Error(), "+1415") || len(msg) > 60 {
				t.Fatalf("message not short and PII-free: %q", err.Error())
			}
		})
	}
}

func TestVerifyWindowEdges(t *testing.T) {
	body := []byte(`{"a":1}`)
	h := Sign(body, sampleKey, sampleTS)
	for _, d := range []int64{-300_000, -1, 0, 1, 300_000} {
		if err := verifierAt(sampleKey, sampleTS+d).Verify(body, h); err != nil {
			t.Errorf("now = ts%+d ms rejected: %v", d, err)
		}
	}
	// A custom window is honoured; zero means the default 5 minutes.
	v := verifierAt(sampleKey, sampleTS+61_000)
	v.Window = time.Minute
	if err := v.Verify(body, h); booking.KindOf(err) != booking.KindUnauthorized {
		t.Errorf("1-minute window accepted 61 s: %v", err)
	}
	v.Window = 0
	if err := v.Verify(body, h); err != nil {
		t.Errorf("zero window should mean 5 minutes: %v", err)
	}
}

func TestVerifyEmptyBodyAndLeadingZeros(t *testing.T) {
	// GET/DELETE custom functions sign the empty string.
	h := Sign(nil, sampleKey, sampleTS)
	if err := verifierAt(sampleKey, sampleTS).Verify([]byte{}, h); err != nil {
		t.Fatalf("empty body: %v", err)
	}
	if err := verifierAt(sampleKey, sampleTS).Verify([]byte(" "), h); booking.KindOf(err) != booking.KindUnauthorized {
		t.Fatalf("empty-body signature accepted for a non-empty body: %v", err)
	}
	// The SDK MACs Number(v), so leading zeros do not change the message.
	padded := "v=000" + strings.TrimPrefix(h, "v=")
	if err := verifierAt(sampleKey, sampleTS).Verify(nil, padded); err != nil {
		t.Fatalf("leading zeros: %v", err)
	}
}

func TestVerifyWithoutKeyIsInternal(t *testing.T) {
	body := []byte("{}")
	err := verifierAt("", sampleTS).Verify(body, Sign(body, "", sampleTS))
	if booking.KindOf(err) != booking.KindInternal {
		t.Fatalf("empty key: %v", err)
	}
}

func TestSignatureFromIsCaseInsensitive(t *testing.T) {
	for _, name := range []string{"X-Retell-Signature", "x-retell-signature", "X-RETELL-SIGNATURE", "x-Retell-signature"} {
		if got := SignatureFrom(map[string]string{"Content-Type": "application/json", name: "v=1,d=ab"}); got != "v=1,d=ab" {
			t.Errorf("%s: got %q", name, got)
		}
	}
	if got := SignatureFrom(map[string]string{"X-Retell-Signaturex": "v"}); got != "" {
		t.Errorf("similar name matched: %q", got)
	}
}

func flipLastByte(b []byte) []byte {
	out := append([]byte{}, b...)
	out[len(out)-1] ^= 0x01
	return out
}

func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{1 << 10, 30 << 10} {
		body := []byte(`{"event":"call_ended","call":{"call_id":"c","transcript":"` + strings.Repeat("Grüße ", size/7) + `"}}`)
		h := Sign(body, sampleKey, sampleTS)
		v := verifierAt(sampleKey, sampleTS)
		b.Run(byteSize(len(body)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := v.Verify(body, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func byteSize(n int) string { return fmt.Sprintf("%dKB", n>>10) }
