package retell

import (
	"context"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Guard is the one X-Retell-Signature check of every Retell route: the
// inbound webhook, the call events and the in-call functions. It applies
// the SDK's rule (Verifier) to the header value as an HTTP server hands it
// to the SDK, that is without the whitespace around it, which is no part of
// a header's value; a value with whitespace inside is still malformed.
type Guard struct {
	// Keys returns the keys that verify, current first: during a key
	// rotation the new and the old one. It is called on every request so a
	// rotation reaches running functions; back it with a cache.
	Keys   func(ctx context.Context) ([]string, error)
	Clock  booking.Clock // nil = booking.SystemClock
	Window time.Duration // 0 = DefaultWindow
	// Enforce is platform.Flags.SignatureEnforcement; platform refuses to
	// turn it off outside the dev stage.
	Enforce bool
	// Rejected is called once per refused signature (the signature-failure
	// metric); nil: not counted.
	Rejected func()
}

// StaticKeys is a Keys function for fixed keys (dev, tests).
func StaticKeys(keys ...string) func(context.Context) ([]string, error) {
	return func(context.Context) ([]string, error) { return keys, nil }
}

// Check verifies the raw body against the header value. A forged, stale or
// missing signature is KindUnauthorized (401) and counted; keys that cannot
// be read keep their error's kind (a Secrets Manager outage is transient),
// and missing keys are KindInternal: our misconfiguration, never a 401.
func (g Guard) Check(ctx context.Context, body []byte, header string) error {
	if !g.Enforce {
		return nil
	}
	if g.Keys == nil {
		return booking.Errorf(booking.KindInternal, "retell.Guard", "retell API key not configured")
	}
	keys, err := g.Keys(ctx)
	if err != nil {
		return booking.Wrap(booking.KindOf(err), "retell.Guard", err, "retell API key unavailable")
	}
	err = Verifier{Keys: keys, Clock: g.Clock, Window: g.Window}.Verify(body, strings.TrimSpace(header))
	if booking.KindOf(err) == booking.KindUnauthorized && g.Rejected != nil {
		g.Rejected()
	}
	return err
}
