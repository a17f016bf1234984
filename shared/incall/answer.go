// Package incall holds the use cases the phone agent calls while a caller
// is on the line: check availability, book, cancel, reschedule, find
// appointments, list services. Each answers with an Answer that the agent
// can read out as is; business outcomes are ok:false with a stable reason,
// never an error. Only a broken envelope or signature is an HTTP error, and
// that is decided before these use cases run.
package incall

import "github.com/telefonagent/gateway/shared/booking"

// Reasons: the closed set of codes an ok:false answer carries.
const (
	ReasonSlotTaken           = "slot_taken"
	ReasonTooSoon             = "too_soon"
	ReasonPast                = "past"
	ReasonClosed              = "closed"
	ReasonUnclearDate         = "unclear_date"
	ReasonUnclearTime         = "unclear_time"
	ReasonUnknownService      = "unknown_service"
	ReasonNotFound            = "not_found"
	ReasonMultipleFound       = "multiple_found"
	ReasonNotAllowed          = "not_allowed"
	ReasonPolicyDenied        = "policy_denied"
	ReasonAnonymousCaller     = "anonymous_caller"
	ReasonContactNeeded       = "contact_needed"
	ReasonCalendarUnavailable = "calendar_unavailable"
	ReasonPendingConfirmation = "pending_confirmation"
	// ReasonCallUnverified: an args-only request named a call we have no
	// live record of (or a signed body was reused for another call);
	// nothing was read or changed.
	ReasonCallUnverified = "call_unverified"
)

// Answer is the JSON body of every in-call function (kept well under 2 KB).
type Answer struct {
	OK           bool              `json:"ok"`
	Message      string            `json:"message"`
	Reason       string            `json:"reason,omitempty"`
	Requested    string            `json:"requested,omitempty"`
	Available    *bool             `json:"available,omitempty"`
	Alternatives []Alternative     `json:"alternatives,omitempty"`
	Appointment  *AppointmentView  `json:"appointment,omitempty"`
	Appointments []AppointmentView `json:"appointments,omitempty"`
	Services     []ServiceView     `json:"services,omitempty"`
	FeeCents     *int64            `json:"fee_cents,omitempty"`
}

// Alternative is one offered start.
type Alternative struct {
	Start  string `json:"start"` // RFC 3339 with the branch's offset
	Spoken string `json:"spoken"`
}

// AppointmentView is an appointment as the agent sees it (no personal data
// beyond what the caller already said).
type AppointmentView struct {
	ID      int64  `json:"id"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Service string `json:"service"`
	Status  string `json:"status"`
	Spoken  string `json:"spoken,omitempty"`
}

// ServiceView is a bookable service.
type ServiceView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
	Category        string `json:"category,omitempty"`
	PriceCents      int64  `json:"price_cents,omitempty"`
}

func boolPtr(b bool) *bool { return &b }

// CallUnverified is the answer to a function call that cannot be tied to
// a caller: honest, in the tenant's language, and it reveals nothing.
func CallUnverified(locale string) Answer {
	return fail(ReasonCallUnverified, say(locale, msgCallUnverified))
}

func fail(reason, message string) Answer { return Answer{OK: false, Reason: reason, Message: message} }

// Call is the context of the phone call a function runs in.
type Call struct {
	CallID     string
	FromNumber string // raw as Retell sent it; may be anonymous
	ToNumber   string // the dialled number (E.164): selects tenant and branch
	AgentID    string
	StartMS    int64 // call.start_timestamp; 0 = use the clock
}

// Args are the arguments the LLM filled (all strings, as spoken or ISO).
type Args struct {
	Service        string `json:"service"`
	Date           string `json:"date"`
	Time           string `json:"time"`
	TimePreference string `json:"time_preference"`
	CustomerName   string `json:"customer_name"`
	CustomerEmail  string `json:"customer_email"`
	CustomerPhone  string `json:"customer_phone"`
	Notes          string `json:"notes"`
	Reason         string `json:"reason"`
	NewDate        string `json:"new_date"`
	NewTime        string `json:"new_time"`
	Category       string `json:"category"`
}

var _ = booking.KindInvalid
