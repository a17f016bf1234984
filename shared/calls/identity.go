package calls

import (
	"context"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// MaxCallAge bounds how long after its start a call still counts as live
// when its call_ended event never arrived: Retell ends every call after
// its max_call_duration_ms, which cannot exceed two hours.
const MaxCallAge = 2 * time.Hour

// Why an args-only function call was not tied to a caller (log attribute
// "outcome", metric dimension of MetricCallUnverified).
const (
	UnverifiedUnknownCall     = "unknown_call"     // no record of this call id for the dialled number's tenant
	UnverifiedNotLive         = "call_not_live"    // the call ended, is too old, or is not an inbound phone call
	UnverifiedSignatureReused = "signature_reused" // the signed body was already presented for another call
	UnverifiedUnknownNumber   = "unknown_number"   // the dialled number belongs to no tenant
)

// CallLookup reads our record of a call (mysql.Store).
type CallLookup interface {
	GetCall(ctx context.Context, tenantID, callID string) (booking.Call, error)
}

// SignatureClaimer binds a signed request to one call (mysql.Store).
type SignatureClaimer interface {
	ClaimSignature(ctx context.Context, tenantID, signatureID, callID string) (bool, error)
}

// Identity finds who is calling when a custom function arrives without
// Retell's call object ("Payload: args only"). The request may only name
// the call (its id, in a header the signature does not cover); the caller's
// number, the dialled number and the start come from our own record of
// that call, which only Retell's signed call webhooks write. A call id we
// have not recorded as a live call of the tenant identifies nobody.
type Identity struct {
	Calls CallLookup
	// Signatures binds each signed body to the first call it is used for,
	// so a captured body cannot be replayed under another call id. nil
	// only when signatures are not checked at all (dev). Two calls whose
	// tools send byte-identical bodies signed in the same millisecond share
	// one signature; the second is answered "please call again", which is
	// rare and honest.
	Signatures SignatureClaimer
	Clock      booking.Clock
}

// Resolve returns our record of callID, a live inbound call of tenantID.
// signatureID is retell.SignatureID of the request's signature ("" when
// signatures are not enforced). refusal is one of the Unverified… reasons
// when the call cannot be tied to a caller (the request must change
// nothing); err is a store failure (KindTransient and the like).
func (id Identity) Resolve(ctx context.Context, tenantID, callID, signatureID string) (c booking.Call, refusal string, err error) {
	c, err = id.Calls.GetCall(ctx, tenantID, callID)
	switch booking.KindOf(err) {
	case "":
	case booking.KindNotFound, booking.KindInvalid:
		return booking.Call{}, UnverifiedUnknownCall, nil
	default:
		return booking.Call{}, "", err
	}
	if !live(c, clockOr(id.Clock).Now()) {
		return booking.Call{}, UnverifiedNotLive, nil
	}
	if id.Signatures != nil && signatureID != "" {
		ok, err := id.Signatures.ClaimSignature(ctx, tenantID, signatureID, c.CallID)
		if err != nil {
			return booking.Call{}, "", err
		}
		if !ok {
			return booking.Call{}, UnverifiedSignatureReused, nil
		}
	}
	return c, "", nil
}

// live: started (call_started was recorded), not ended, not older than
// any call can be, and an inbound call to one of our numbers (whose
// from-number is the caller).
func live(c booking.Call, now time.Time) bool {
	switch c.Status {
	case booking.CallRegistered, booking.CallOngoing:
	default:
		return false
	}
	if c.StartedAt == nil || now.Sub(*c.StartedAt) > MaxCallAge || c.EndedAt != nil {
		return false
	}
	return c.Direction == "inbound" && c.ToNumber != ""
}
