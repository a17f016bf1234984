// Package retell holds everything the gateway knows about Retell AI: the
// X-Retell-Signature scheme, the webhook, inbound and custom-function
// payloads with their validating decoders, and the custom-tool definitions
// printed by `make retell-tools`. It talks to no network and stores nothing.
package retell

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// SignatureHeader is the header Retell signs every request with. Header
// names are case-insensitive; use SignatureFrom to find it in a map.
const SignatureHeader = "X-Retell-Signature"

// DefaultWindow is the replay window of the official SDK (FIVE_MINUTES).
const DefaultWindow = 5 * time.Minute

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER: the SDK rejects
// larger timestamps (Number.isSafeInteger), and so do we.
const maxSafeInteger = 1<<53 - 1

// Verifier checks X-Retell-Signature exactly as retell-sdk 5.66.1
// (src/lib/webhook_auth.ts) does:
//
//	header  /^v=(\d+),d=([0-9a-f]+)$/i, digest exactly 64 hex characters
//	window  |now_ms - v| <= Window, in both directions (exactly Window is accepted)
//	mac     HMAC-SHA256(key = API key, msg = raw body || decimal(v))
//	compare constant time
//
// The SDK concatenates the body with the *number* v, so leading zeros in
// the header do not reach the MAC; we format v the same way. The key is the
// Retell API key with the webhook badge; there is no separate secret. The
// body must be the raw bytes as received (base64-decoded for API Gateway),
// never re-serialised JSON; GET/DELETE custom functions sign the empty body.
//
// Keys holds every key that verifies: one, or during a key rotation the new
// and the old one (a signature by either is accepted, as if the SDK's
// verify had been called with each).
type Verifier struct {
	Keys   []string
	Clock  booking.Clock // nil = booking.SystemClock
	Window time.Duration // 0 = DefaultWindow
}

// Verify returns nil when header is a valid signature of body. Every failure
// is a *booking.Error of KindUnauthorized with a short message that never
// echoes the header or the body; a verifier without a key is KindInternal.
func (v Verifier) Verify(body []byte, header string) error {
	const op = "retell.Verify"
	if !hasKey(v.Keys) {
		// An empty HMAC key is computable by anyone: refuse, loudly.
		return booking.Errorf(booking.KindInternal, op, "retell API key not configured")
	}
	if header == "" {
		return booking.Errorf(booking.KindUnauthorized, op, "signature missing")
	}
	ts, digest, ok := parseHeader(header)
	if !ok {
		return booking.Errorf(booking.KindUnauthorized, op, "signature malformed")
	}
	clock := v.Clock
	if clock == nil {
		clock = booking.SystemClock
	}
	window := v.Window
	if window <= 0 {
		window = DefaultWindow
	}
	now := clock.Now().UnixMilli()
	switch d := now - ts; {
	case d > window.Milliseconds():
		return booking.Errorf(booking.KindUnauthorized, op, "signature expired")
	case -d > window.Milliseconds():
		return booking.Errorf(booking.KindUnauthorized, op, "signature timestamp in the future")
	}
	for _, key := range v.Keys {
		if key != "" && hmac.Equal(mac(body, key, ts), digest[:]) {
			return nil
		}
	}
	return booking.Errorf(booking.KindUnauthorized, op, "signature mismatch")
}

func hasKey(keys []string) bool {
	for _, k := range keys {
		if k != "" {
			return true
		}
	}
	return false
}

// Sign returns the header value Retell would send for body at tsMillis.
// For tests, the simulator and deploy-check.
func Sign(body []byte, apiKey string, tsMillis int64) string {
	sum := mac(body, apiKey, tsMillis)
	var b strings.Builder
	b.Grow(2 + 20 + 3 + 64)
	b.WriteString("v=")
	b.WriteString(strconv.FormatInt(tsMillis, 10))
	b.WriteString(",d=")
	b.WriteString(hex.EncodeToString(sum))
	return b.String()
}

// SignatureFrom finds the signature in a header map whatever the case of
// its name (API Gateway passes names as the client sent them).
func SignatureFrom(headers map[string]string) string {
	return HeaderGetter(headers)(SignatureHeader)
}

func mac(body []byte, key string, ts int64) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	var buf [20]byte
	m.Write(strconv.AppendInt(buf[:0], ts, 10))
	return m.Sum(nil)
}

// parseHeader mirrors the SDK's anchored, case-insensitive regular
// expression without allocating.
func parseHeader(h string) (ts int64, digest [32]byte, ok bool) {
	if len(h) < 2 || (h[0] != 'v' && h[0] != 'V') || h[1] != '=' {
		return 0, digest, false
	}
	rest := h[2:]
	comma := strings.IndexByte(rest, ',')
	if comma <= 0 {
		return 0, digest, false
	}
	num, tail := rest[:comma], rest[comma+1:]
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, digest, false
		}
	}
	// Leading zeros are allowed by \d+; strip them so long zero runs do not
	// overflow the parser (the SDK's Number() ignores them too).
	trimmed := strings.TrimLeft(num, "0")
	if trimmed == "" {
		trimmed = "0"
	}
	if len(trimmed) > 16 {
		return 0, digest, false // beyond Number.MAX_SAFE_INTEGER
	}
	n, err := strconv.ParseInt(trimmed, 10, 64)
	if err != nil || n > maxSafeInteger {
		return 0, digest, false
	}
	if len(tail) != 2+64 || (tail[0] != 'd' && tail[0] != 'D') || tail[1] != '=' {
		return 0, digest, false
	}
	hexDigits := tail[2:]
	for i := range digest {
		hi, ok1 := fromHex(hexDigits[2*i])
		lo, ok2 := fromHex(hexDigits[2*i+1])
		if !ok1 || !ok2 {
			return 0, digest, false
		}
		digest[i] = hi<<4 | lo
	}
	return n, digest, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
