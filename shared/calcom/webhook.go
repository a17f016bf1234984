package calcom

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Webhook headers Cal.com sends (NOTES §B3).
const (
	SignatureHeader      = "X-Cal-Signature-256"
	WebhookVersionHeader = "X-Cal-Webhook-Version" // "2021-10-20"; optional
	// NoSecretProvided is what Cal.com sends instead of a signature when
	// the webhook has no secret. We always configure one, so it is rejected.
	NoSecretProvided = "no-secret-provided"
)

// Sign returns the X-Cal-Signature-256 value of body: lower-case hex
// HMAC-SHA256 keyed with the webhook secret, no prefix, no timestamp.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks header against the raw body in constant time.
// secrets are the webhook secrets that verify: one, or during a rotation
// the new and the old one (Cal.com switches to the new secret the moment it
// is saved, while deliveries signed with the old one may still arrive).
// Missing, "no-secret-provided", malformed or wrong signatures are
// KindUnauthorized; no secret at all is our misconfiguration (KindInternal).
func VerifySignature(body []byte, header string, secrets ...string) error {
	const op = "calcom.verify_signature"
	if !slices.ContainsFunc(secrets, func(s string) bool { return s != "" }) {
		return booking.Errorf(booking.KindInternal, op, "no webhook secret configured")
	}
	h := strings.ToLower(strings.TrimSpace(header))
	switch {
	case h == "":
		return booking.Errorf(booking.KindUnauthorized, op, "signature header missing")
	case h == NoSecretProvided:
		return booking.Errorf(booking.KindUnauthorized, op, "sender has no secret configured")
	case len(h) != sha256.Size*2:
		return booking.Errorf(booking.KindUnauthorized, op, "signature malformed")
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return booking.Errorf(booking.KindUnauthorized, op, "signature malformed")
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			return nil
		}
	}
	return booking.Errorf(booking.KindUnauthorized, op, "signature does not match")
}

// Triggers we act on (the set is open: others parse and are ignored).
const (
	TriggerPing               = "PING"
	TriggerBookingCreated     = "BOOKING_CREATED"
	TriggerBookingRescheduled = "BOOKING_RESCHEDULED"
	TriggerBookingCancelled   = "BOOKING_CANCELLED"
	TriggerBookingRequested   = "BOOKING_REQUESTED"
	TriggerBookingRejected    = "BOOKING_REJECTED"
)

// WebhookEvent is the envelope {triggerEvent, createdAt, payload}.
type WebhookEvent struct {
	TriggerEvent string
	CreatedAt    time.Time
	Payload      WebhookBooking
}

// IsBookingLifecycle reports whether the trigger carries a booking payload
// that ParseWebhook checked (uid and times present).
func (e WebhookEvent) IsBookingLifecycle() bool { return lifecycle[e.TriggerEvent] }

var lifecycle = map[string]bool{
	TriggerBookingCreated: true, TriggerBookingRescheduled: true, TriggerBookingCancelled: true,
	TriggerBookingRequested: true, TriggerBookingRejected: true,
}

// WebhookBooking is the v2021-10-20 booking payload, reduced to what the
// gateway uses. Attendee and organizer details are personal data.
type WebhookBooking struct {
	BookingID          int64
	UID                string
	EventTypeID        int64  // 0 when Cal.com sent null (dynamic events)
	Type               string // event type slug
	Title              string
	StartTime, EndTime time.Time
	Length             int
	Status             string // upper-case: ACCEPTED, CANCELLED, PENDING, REJECTED
	Attendees          []Attendee
	OrganizerID        int64
	OrganizerTimeZone  string
	Metadata           map[string]string // includes what we sent in POST /v2/bookings
	// RESCHEDULED: the old booking (uid is the new one).
	RescheduleUID       string
	RescheduleID        int64
	RescheduleStartTime time.Time
	RescheduleEndTime   time.Time
	CancellationReason  string
	RequestReschedule   bool
	RejectionReason     string
}

// LogValue implements slog.LogValuer without personal data.
func (p WebhookBooking) LogValue() slog.Value {
	return slog.GroupValue(slog.String("uid", p.UID), slog.String("status", p.Status),
		slog.Int64("event_type_id", p.EventTypeID), slog.Time("start", p.StartTime))
}

type webhookWire struct {
	TriggerEvent *string         `json:"triggerEvent"`
	CreatedAt    *string         `json:"createdAt"`
	Payload      json.RawMessage `json:"payload"`
}

type personWire struct {
	ID          flexInt  `json:"id"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	PhoneNumber string   `json:"phoneNumber"`
	TimeZone    string   `json:"timeZone"`
	Language    language `json:"language"`
}

type payloadWire struct {
	BookingID           flexInt         `json:"bookingId"`
	UID                 string          `json:"uid"`
	EventTypeID         flexInt         `json:"eventTypeId"`
	Type                string          `json:"type"`
	Title               string          `json:"title"`
	StartTime           string          `json:"startTime"`
	EndTime             string          `json:"endTime"`
	Length              flexInt         `json:"length"`
	Status              string          `json:"status"`
	Attendees           []personWire    `json:"attendees"`
	Organizer           *personWire     `json:"organizer"`
	Metadata            json.RawMessage `json:"metadata"`
	RescheduleUID       string          `json:"rescheduleUid"`
	RescheduleID        flexInt         `json:"rescheduleId"`
	RescheduleStartTime string          `json:"rescheduleStartTime"`
	RescheduleEndTime   string          `json:"rescheduleEndTime"`
	CancellationReason  string          `json:"cancellationReason"`
	RequestReschedule   bool            `json:"requestReschedule"`
	RejectionReason     string          `json:"rejectionReason"`
}

// ParseWebhook decodes a Cal.com webhook body. It is strict about what the
// gateway relies on (trigger, createdAt, and for booking lifecycle triggers
// uid, start and end; rescheduleUid on RESCHEDULED) and tolerant of every
// field it does not use. Errors are KindInvalid and never quote the body.
func ParseWebhook(body []byte) (WebhookEvent, error) {
	const op = "calcom.parse_webhook"
	var w webhookWire
	if err := json.Unmarshal(body, &w); err != nil {
		return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "body is not a JSON object")
	}
	if w.TriggerEvent == nil || !isTrigger(*w.TriggerEvent) {
		return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "triggerEvent missing or malformed")
	}
	ev := WebhookEvent{TriggerEvent: *w.TriggerEvent}
	if w.CreatedAt == nil {
		return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "createdAt missing")
	}
	t, err := time.Parse(time.RFC3339Nano, *w.CreatedAt)
	if err != nil {
		return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "createdAt is not ISO 8601")
	}
	ev.CreatedAt = t.UTC()
	raw := bytes.TrimSpace(w.Payload)
	if len(raw) == 0 || raw[0] != '{' {
		return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload missing or not an object")
	}
	var p payloadWire
	if err := json.Unmarshal(raw, &p); err != nil {
		return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload fields have unexpected types")
	}
	out := WebhookBooking{
		BookingID: int64(p.BookingID), UID: p.UID, EventTypeID: int64(p.EventTypeID), Type: p.Type, Title: p.Title,
		Length: int(p.Length), Status: strings.ToUpper(p.Status), Metadata: decodeMetadata(p.Metadata),
		RescheduleUID: p.RescheduleUID, RescheduleID: int64(p.RescheduleID), CancellationReason: p.CancellationReason,
		RequestReschedule: p.RequestReschedule, RejectionReason: p.RejectionReason,
	}
	for _, a := range p.Attendees {
		email := a.Email
		if IsSyntheticEmail(email) {
			email = ""
		}
		out.Attendees = append(out.Attendees, Attendee{Name: a.Name, Email: email, PhoneNumber: a.PhoneNumber, TimeZone: a.TimeZone, Language: string(a.Language)})
	}
	if p.Organizer != nil {
		out.OrganizerID, out.OrganizerTimeZone = int64(p.Organizer.ID), p.Organizer.TimeZone
	}
	times := []struct {
		raw      string
		dst      *time.Time
		required bool
		name     string
	}{
		{p.StartTime, &out.StartTime, lifecycle[ev.TriggerEvent], "startTime"},
		{p.EndTime, &out.EndTime, lifecycle[ev.TriggerEvent], "endTime"},
		{p.RescheduleStartTime, &out.RescheduleStartTime, false, "rescheduleStartTime"},
		{p.RescheduleEndTime, &out.RescheduleEndTime, false, "rescheduleEndTime"},
	}
	for _, f := range times {
		if f.raw == "" {
			if f.required {
				return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload.%s missing", f.name)
			}
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.raw)
		if err != nil {
			if f.required {
				return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload.%s is not ISO 8601", f.name)
			}
			continue
		}
		*f.dst = t.UTC()
	}
	if lifecycle[ev.TriggerEvent] {
		if out.UID == "" {
			return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload.uid missing")
		}
		if out.EndTime.Before(out.StartTime) {
			return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload ends before it starts")
		}
		if ev.TriggerEvent == TriggerBookingRescheduled && out.RescheduleUID == "" {
			return WebhookEvent{}, booking.Errorf(booking.KindInvalid, op, "payload.rescheduleUid missing on a reschedule")
		}
	}
	ev.Payload = out
	return ev, nil
}

// isTrigger accepts Cal.com's trigger names: upper-case words joined by _.
func isTrigger(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r == '_' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// --- shared decoding helpers ---

// flexInt accepts a JSON number (integral), a numeric string or null.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*f = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	if s == "" {
		*f = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != float64(int64(x)) {
		return errors.New("not an integer")
	}
	*f = flexInt(int64(x))
	return nil
}

// language accepts {"locale":"de"} (webhooks) or "de" (API).
type language string

func (l *language) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = language(s)
		return nil
	}
	var o struct {
		Locale string `json:"locale"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return nil // language is informational: never fail the whole event on it
	}
	*l = language(o.Locale)
	return nil
}

// decodeMetadata flattens Cal.com metadata to strings. We only ever send
// strings; values others put there (numbers, objects) keep their JSON text.
func decodeMetadata(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		switch {
		case string(bytes.TrimSpace(v)) == "null":
		case json.Unmarshal(v, &s) == nil:
			out[k] = s
		default:
			var buf bytes.Buffer
			if json.Compact(&buf, v) == nil {
				out[k] = buf.String()
			}
		}
	}
	return out
}
