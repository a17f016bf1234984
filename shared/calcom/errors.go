package calcom

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// ErrSlotTaken is in the chain of every error Cal.com gave because the
// requested start is no longer bookable (booked meanwhile, outside the
// schedule, inside the minimum notice). errors.Is(err, ErrSlotTaken).
var ErrSlotTaken = errors.New("calcom: slot no longer available")

// ErrAlreadyCancelled is in the chain when a cancel hit a booking that was
// already cancelled; retries of a cancel can treat it as done.
var ErrAlreadyCancelled = errors.New("calcom: booking already cancelled")

// APIError is the Cal.com-specific detail behind a *booking.Error. It
// deliberately holds no text from Cal.com's answer: those messages can echo
// attendee data.
type APIError struct {
	Endpoint       Endpoint
	Status         int           // HTTP status, 0 when no response arrived
	Code           string        // Cal.com error.code, the Nest exception name (e.g. "BadRequestException")
	RetryAfter     time.Duration // for 429: when the rate-limit window resets
	UnknownOutcome bool          // a write was sent but we do not know whether Cal.com executed it
	CircuitOpen    bool          // not sent: the key's circuit breaker is open
	Timeout        bool
	Canceled       bool // the caller's context was canceled
	SlotTaken      bool
	AlreadyDone    bool // cancel of an already cancelled booking
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cal.com %s", e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, " status %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	switch {
	case e.CircuitOpen:
		b.WriteString(" (circuit open)")
	case e.UnknownOutcome:
		b.WriteString(" (outcome unknown)")
	}
	return b.String()
}

// Is lets errors.Is find the sentinels.
func (e *APIError) Is(target error) bool {
	return (target == ErrSlotTaken && e.SlotTaken) || (target == ErrAlreadyCancelled && e.AlreadyDone)
}

func apiErrorOf(err error) *APIError {
	var a *APIError
	if errors.As(err, &a) {
		return a
	}
	return nil
}

// IsUnknownOutcome reports whether err came from a write (create, cancel,
// reschedule) that was sent but whose result is unknown (timeout, dropped
// connection, 5xx, unreadable answer). The caller must not say "done" nor
// "failed"; it reconciles later (find by metadata, GET by uid).
func IsUnknownOutcome(err error) bool {
	a := apiErrorOf(err)
	return a != nil && a.UnknownOutcome
}

// IsCircuitOpen reports whether the call was not made because the key's
// circuit breaker is open.
func IsCircuitOpen(err error) bool {
	a := apiErrorOf(err)
	return a != nil && a.CircuitOpen
}

func errorsIsAlreadyCancelled(err error) bool { return errors.Is(err, ErrAlreadyCancelled) }

// IsSlotTaken reports whether Cal.com refused the start time.
func IsSlotTaken(err error) bool { return errors.Is(err, ErrSlotTaken) }

// RetryAfter is how long to wait before calling again after a 429 (0 when
// err is not a rate-limit error or no reset was given).
func RetryAfter(err error) time.Duration {
	if a := apiErrorOf(err); a != nil {
		return a.RetryAfter
	}
	return 0
}

// errorEnvelope is Cal.com's error body (NOTES §B1).
type errorEnvelope struct {
	Status string `json:"status"`
	Error  struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	// Prism and some gateways answer problem+json instead.
	Title string `json:"title"`
}

// Phrases Cal.com uses when a start cannot be booked
// (apps/api/v2 ErrorsBookingsService_2024_08_13.handleBookingError).
var slotTakenPhrases = []string{
	"already has booking at this time",
	"is not available",
	"no_available_users_found_error",
	"hosts_unavailable_for_booking",
	"booking_time_out_of_bounds_error",
	"can't be booked at the \"start\" time",
	"can't be booked at the start time",
}

var alreadyCancelledPhrases = []string{"already been cancelled", "already cancelled", "already been canceled"}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// statusError maps a non-2xx answer to a kind.
func (c *Client) statusError(name Endpoint, ep endpoint, op string, resp *http.Response, raw []byte) error {
	var env errorEnvelope
	_ = json.Unmarshal(raw, &env)
	msg := strings.ToLower(env.Error.Message)
	a := &APIError{Endpoint: name, Status: resp.StatusCode, Code: safeCode(env.Error.Code)}
	kind, text := booking.KindInvalid, "request rejected"
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		kind, text = booking.KindUnauthorized, "API key rejected"
	case s == http.StatusNotFound:
		kind, text = booking.KindNotFound, "not found"
	case s == http.StatusTooManyRequests:
		kind, text = booking.KindTransient, "rate limited"
		a.RetryAfter = c.retryAfter(resp.Header)
	case s == http.StatusRequestTimeout || s >= 500:
		kind, text = booking.KindTransient, "Cal.com unavailable"
		if ep.write {
			// Cal.com may have stored the booking and then failed (e.g.
			// while sending emails): only a later read tells.
			a.UnknownOutcome = true
			text += "; outcome unknown"
		}
	case s == http.StatusConflict || containsAny(msg, slotTakenPhrases):
		kind, text = booking.KindConflict, "slot no longer available"
		a.SlotTaken = true
	case name == EndpointCancelBooking && containsAny(msg, alreadyCancelledPhrases):
		kind, text = booking.KindConflict, "booking already cancelled"
		a.AlreadyDone = true
	case strings.Contains(msg, "in the past"):
		text = "start is in the past"
	}
	return &booking.Error{Kind: kind, Op: op, Message: fmt.Sprintf("%s (%s)", text, a.Error()), Err: a}
}

// safeCode keeps error codes that look like exception names and drops
// anything else (the field is free text in theory).
func safeCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return ""
		}
	}
	return code
}

// retryAfter reads the throttler's reset. Cal.com sends
// X-RateLimit-Reset-Default (seconds until reset per @nestjs/throttler;
// some docs call it an epoch, so large values are read as one); a plain
// Retry-After is honoured too. Without either, one window (60 s) is assumed.
func (c *Client) retryAfter(h http.Header) time.Duration {
	for _, name := range []string{"X-RateLimit-Reset-Default", "X-RateLimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			if t, err := http.ParseTime(v); err == nil {
				return clampWait(t.Sub(c.clock.Now()))
			}
			continue
		}
		switch {
		case n > 1e12: // epoch milliseconds
			return clampWait(time.UnixMilli(int64(n)).Sub(c.clock.Now()))
		case n > 1e9: // epoch seconds
			return clampWait(time.Unix(int64(n), 0).Sub(c.clock.Now()))
		default:
			return clampWait(time.Duration(n * float64(time.Second)))
		}
	}
	return time.Minute
}

func clampWait(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return time.Second
	case d > 5*time.Minute:
		return 5 * time.Minute
	}
	return d
}
