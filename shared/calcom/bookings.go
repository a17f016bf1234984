package calcom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Booking statuses as the API reports them (lower-case; webhooks use upper-case).
const (
	StatusAccepted  = "accepted"
	StatusPending   = "pending"
	StatusCancelled = "cancelled"
	StatusRejected  = "rejected"
)

// Attendee is a booking's guest. Name, Email and PhoneNumber are personal
// data; String and LogValue redact them so a stray %v or slog call leaks
// nothing.
type Attendee struct {
	Name        string
	Email       string // "" when none (Cal.com's synthetic <digits>@sms.cal.com is dropped)
	PhoneNumber string // E.164
	TimeZone    string // IANA
	Language    string // e.g. "de"; "" = Cal.com default (en)
}

func (a Attendee) String() string { return "attendee(redacted)" }

// LogValue implements slog.LogValuer.
func (a Attendee) LogValue() slog.Value {
	return slog.GroupValue(slog.String("time_zone", a.TimeZone), slog.Bool("has_email", a.Email != ""), slog.Bool("has_phone", a.PhoneNumber != ""))
}

// IsSyntheticEmail tells Cal.com's placeholder for phone-only attendees
// ("<digits>@sms.cal.com") from a real address.
func IsSyntheticEmail(email string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(email)), "@sms.cal.com")
}

// Booking is Cal.com's view of one booking (BookingOutput_2024_08_13).
type Booking struct {
	ID                 int64
	UID                string
	Title              string // contains the attendee's name: personal data
	Status             string // StatusAccepted, ...
	Start, End         time.Time
	DurationMinutes    int
	EventTypeID        int64
	EventTypeSlug      string
	HostIDs            []int64
	Attendees          []Attendee
	Metadata           map[string]string
	RescheduledFromUID string // set on the new booking of a reschedule
	RescheduledToUID   string // set on the old, cancelled one
	CancellationReason string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Active reports whether the booking still occupies its time.
func (b Booking) Active() bool { return b.Status == StatusAccepted || b.Status == StatusPending }

// LogValue implements slog.LogValuer without personal data.
func (b Booking) LogValue() slog.Value {
	return slog.GroupValue(slog.String("uid", b.UID), slog.String("status", b.Status),
		slog.Time("start", b.Start), slog.Int64("event_type_id", b.EventTypeID))
}

// ToCalendarBooking converts to the domain port's type.
func (b Booking) ToCalendarBooking() booking.CalendarBooking {
	return booking.CalendarBooking{UID: b.UID, Status: b.Status, Start: b.Start, End: b.End, EventTypeID: b.EventTypeID, Metadata: b.Metadata}
}

// CreateBookingInput is a regular (not instant, not recurring) booking.
type CreateBookingInput struct {
	EventTypeID     int64
	Start           time.Time
	Attendee        Attendee
	Metadata        map[string]string // ≤ 50 keys, keys ≤ 40 chars, values ≤ 500 chars
	LengthInMinutes int               // only for event types with several lengths; 0 = default
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Languages Cal.com accepts for attendee.language.
var languages = map[string]bool{}

func init() {
	for _, l := range strings.Fields("ar ca de es eu he id ja lv pl ro sr th vi az cs el es-419 fi hr it km nl pt ru sv tr zh-CN bg da en et fr hu iw ko no pt-BR sk ta uk zh-TW bn") {
		languages[l] = true
	}
}

// Validate checks the input the way Cal.com would, so a bad request never
// leaves the process (and never spends rate limit).
func (in CreateBookingInput) Validate() error {
	const op = "calcom.create_booking"
	a := in.Attendee
	switch {
	case in.EventTypeID <= 0:
		return booking.Errorf(booking.KindInvalid, op, "event type id must be positive")
	case in.Start.IsZero():
		return booking.Errorf(booking.KindInvalid, op, "start is missing")
	case strings.TrimSpace(a.Name) == "":
		return booking.Errorf(booking.KindInvalid, op, "attendee name is missing")
	case a.Email == "" && a.PhoneNumber == "":
		return booking.Errorf(booking.KindInvalid, op, "attendee needs an email or a phone number")
	case a.PhoneNumber != "" && !e164.MatchString(a.PhoneNumber):
		return booking.Errorf(booking.KindInvalid, op, "attendee phone number is not E.164")
	case a.Language != "" && !languages[a.Language]:
		return booking.Errorf(booking.KindInvalid, op, "attendee language not supported by Cal.com")
	case in.LengthInMinutes < 0:
		return booking.Errorf(booking.KindInvalid, op, "length must be positive")
	case len(in.Metadata) > 50:
		return booking.Errorf(booking.KindInvalid, op, "more than 50 metadata keys")
	}
	if a.Email != "" {
		if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email || IsSyntheticEmail(a.Email) {
			return booking.Errorf(booking.KindInvalid, op, "attendee email is not a plain address")
		}
	}
	if a.TimeZone == "" {
		return booking.Errorf(booking.KindInvalid, op, "attendee time zone is missing")
	}
	if _, err := time.LoadLocation(a.TimeZone); err != nil || a.TimeZone == "Local" {
		return booking.Errorf(booking.KindInvalid, op, "attendee time zone is not an IANA name")
	}
	for k, v := range in.Metadata {
		if k == "" || len(k) > 40 || len(v) > 500 {
			return booking.Errorf(booking.KindInvalid, op, "metadata key or value too long")
		}
	}
	return nil
}

type attendeeJSON struct {
	Name        string `json:"name"`
	TimeZone    string `json:"timeZone"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
	Language    string `json:"language,omitempty"`
}

type createBookingBody struct {
	Start           string            `json:"start"`
	EventTypeID     int64             `json:"eventTypeId"`
	Attendee        attendeeJSON      `json:"attendee"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	LengthInMinutes int               `json:"lengthInMinutes,omitempty"`
}

// CreateBooking books a start (POST /v2/bookings, 2024-08-13). It never
// invents an email: a phone-only attendee is sent without one. A taken
// start gives a KindConflict error with IsSlotTaken true; a timeout after
// sending gives IsUnknownOutcome true.
func (c *Client) CreateBooking(ctx context.Context, in CreateBookingInput) (Booking, error) {
	if err := in.Validate(); err != nil {
		return Booking{}, err
	}
	body := createBookingBody{
		Start:       formatUTC(in.Start),
		EventTypeID: in.EventTypeID,
		Attendee: attendeeJSON{Name: in.Attendee.Name, TimeZone: in.Attendee.TimeZone, Email: in.Attendee.Email,
			PhoneNumber: in.Attendee.PhoneNumber, Language: in.Attendee.Language},
		Metadata:        in.Metadata,
		LengthInMinutes: in.LengthInMinutes,
	}
	var out bookingOut
	if err := c.call(ctx, EndpointCreateBooking, "", nil, body, &out); err != nil {
		return Booking{}, err
	}
	return Booking(out), nil
}

// GetBooking reads one booking by uid.
func (c *Client) GetBooking(ctx context.Context, uid string) (Booking, error) {
	if err := checkUID("calcom.get_booking", uid); err != nil {
		return Booking{}, err
	}
	var out bookingOut
	if err := c.call(ctx, EndpointGetBooking, uid, nil, nil, &out); err != nil {
		return Booking{}, err
	}
	return Booking(out), nil
}

// CancelBooking cancels a booking. Cancelling one that is already cancelled
// is a KindConflict error with errors.Is(err, ErrAlreadyCancelled).
func (c *Client) CancelBooking(ctx context.Context, uid, reason string) (Booking, error) {
	if err := checkUID("calcom.cancel_booking", uid); err != nil {
		return Booking{}, err
	}
	body := struct {
		CancellationReason string `json:"cancellationReason,omitempty"`
	}{reason}
	var out bookingOut
	if err := c.call(ctx, EndpointCancelBooking, uid, nil, body, &out); err != nil {
		return Booking{}, err
	}
	return Booking(out), nil
}

// RescheduleBooking moves a booking. Cal.com creates a new booking with a
// new uid (returned; RescheduledFromUID = uid) and cancels the old one.
func (c *Client) RescheduleBooking(ctx context.Context, uid string, newStart time.Time, reason string) (Booking, error) {
	const op = "calcom.reschedule_booking"
	if err := checkUID(op, uid); err != nil {
		return Booking{}, err
	}
	if newStart.IsZero() {
		return Booking{}, booking.Errorf(booking.KindInvalid, op, "new start is missing")
	}
	body := struct {
		Start              string `json:"start"`
		ReschedulingReason string `json:"reschedulingReason,omitempty"`
	}{formatUTC(newStart), reason}
	var out bookingOut
	if err := c.call(ctx, EndpointRescheduleBooking, uid, nil, body, &out); err != nil {
		return Booking{}, err
	}
	b := Booking(out)
	if b.RescheduledFromUID == "" {
		b.RescheduledFromUID = uid
	}
	return b, nil
}

// List statuses for ListBookingsFilter.Status (GET /v2/bookings).
const (
	ListUpcoming    = "upcoming"
	ListRecurring   = "recurring"
	ListPast        = "past"
	ListCancelled   = "cancelled"
	ListUnconfirmed = "unconfirmed"
)

// ListBookingsFilter selects bookings; zero fields do not filter.
type ListBookingsFilter struct {
	EventTypeIDs []int64
	AfterStart   time.Time // bookings starting after
	BeforeEnd    time.Time // bookings ending before
	Status       []string  // ListUpcoming, ...
	BookingUID   string
	PageSize     int // default and maximum 100
	MaxPages     int // default 20: a safety net against endless pagination
}

// ListBookings pages through GET /v2/bookings (needs the API key).
func (c *Client) ListBookings(ctx context.Context, f ListBookingsFilter) ([]Booking, error) {
	pages := f.MaxPages
	if pages <= 0 {
		pages = 20
	}
	var all []Booking
	for page := 0; page < pages; page++ {
		items, next, err := c.ListBookingsPage(ctx, f, page)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !next || len(items) == 0 {
			return all, nil
		}
	}
	return nil, booking.Errorf(booking.KindInternal, "calcom.list_bookings", "more than %d pages of bookings; narrow the filter", pages)
}

// ListBookingsPage reads one page (0-based) of GET /v2/bookings, sorted by
// start, and tells whether another page follows.
func (c *Client) ListBookingsPage(ctx context.Context, f ListBookingsFilter, page int) ([]Booking, bool, error) {
	q := url.Values{}
	if len(f.EventTypeIDs) > 0 {
		ids := make([]string, len(f.EventTypeIDs))
		for i, id := range f.EventTypeIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		q.Set("eventTypeIds", strings.Join(ids, ","))
	}
	if !f.AfterStart.IsZero() {
		q.Set("afterStart", formatUTC(f.AfterStart))
	}
	if !f.BeforeEnd.IsZero() {
		q.Set("beforeEnd", formatUTC(f.BeforeEnd))
	}
	if len(f.Status) > 0 {
		// Cal.com splits the value on commas (its example: ?status=upcoming,past).
		q.Set("status", strings.Join(f.Status, ","))
	}
	if f.BookingUID != "" {
		q.Set("bookingUid", f.BookingUID)
	}
	take := f.PageSize
	if take <= 0 || take > 100 {
		take = 100
	}
	if page < 0 {
		page = 0
	}
	q.Set("sortStart", "asc")
	q.Set("take", strconv.Itoa(take))
	q.Set("skip", strconv.Itoa(page*take))
	var out bookingPage
	if err := c.call(ctx, EndpointListBookings, "", q, nil, &out); err != nil {
		return nil, false, err
	}
	return out.items, out.hasNext, nil
}

// FindByMetadata lists bookings and returns the first whose metadata has
// key=value (Cal.com cannot filter by metadata). Used to find the booking
// of an idempotency key after an unknown outcome.
func (c *Client) FindByMetadata(ctx context.Context, f ListBookingsFilter, key, value string) (Booking, bool, error) {
	list, err := c.ListBookings(ctx, f)
	if err != nil {
		return Booking{}, false, err
	}
	for _, b := range list {
		if v, ok := b.Metadata[key]; ok && v == value {
			return b, true, nil
		}
	}
	return Booking{}, false, nil
}

func checkUID(op, uid string) error {
	if uid == "" || len(uid) > 200 || strings.ContainsAny(uid, "/?#") {
		return booking.Errorf(booking.KindInvalid, op, "booking uid missing or malformed")
	}
	return nil
}

// --- decoding ---

type bookingOut Booking

type attendeeWire struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phoneNumber"`
	TimeZone    string `json:"timeZone"`
	Language    string `json:"language"`
}

type bookingWire struct {
	ID          flexInt `json:"id"`
	UID         string  `json:"uid"`
	Title       string  `json:"title"`
	Status      string  `json:"status"`
	Start       string  `json:"start"`
	End         string  `json:"end"`
	Duration    flexInt `json:"duration"`
	EventTypeID flexInt `json:"eventTypeId"`
	EventType   *struct {
		ID   flexInt `json:"id"`
		Slug string  `json:"slug"`
	} `json:"eventType"`
	Hosts []struct {
		ID flexInt `json:"id"`
	} `json:"hosts"`
	Attendees          []attendeeWire  `json:"attendees"`
	Metadata           json.RawMessage `json:"metadata"`
	RescheduledFromUID string          `json:"rescheduledFromUid"`
	RescheduledToUID   string          `json:"rescheduledToUid"`
	CancellationReason string          `json:"cancellationReason"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
}

func (b *bookingOut) decode(data json.RawMessage) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		// Recurring bookings come as arrays; we never create them.
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil || len(list) != 1 {
			return errors.New("recurring booking answers are not supported")
		}
		data = list[0]
	}
	var w bookingWire
	if err := json.Unmarshal(data, &w); err != nil {
		return errors.New("booking does not match BookingOutput")
	}
	v, err := w.toBooking()
	if err != nil {
		return err
	}
	*b = bookingOut(v)
	return nil
}

func (w bookingWire) toBooking() (Booking, error) {
	if w.UID == "" {
		return Booking{}, errors.New("booking without uid")
	}
	start, err := time.Parse(time.RFC3339Nano, w.Start)
	if err != nil {
		return Booking{}, errors.New("booking start is not ISO 8601")
	}
	end, err := time.Parse(time.RFC3339Nano, w.End)
	if err != nil {
		return Booking{}, errors.New("booking end is not ISO 8601")
	}
	b := Booking{
		ID: int64(w.ID), UID: w.UID, Title: w.Title, Status: strings.ToLower(w.Status),
		Start: start.UTC(), End: end.UTC(), DurationMinutes: int(w.Duration), EventTypeID: int64(w.EventTypeID),
		RescheduledFromUID: w.RescheduledFromUID, RescheduledToUID: w.RescheduledToUID,
		CancellationReason: w.CancellationReason, Metadata: decodeMetadata(w.Metadata),
	}
	if w.EventType != nil {
		if b.EventTypeID == 0 {
			b.EventTypeID = int64(w.EventType.ID)
		}
		b.EventTypeSlug = w.EventType.Slug
	}
	for _, h := range w.Hosts {
		b.HostIDs = append(b.HostIDs, int64(h.ID))
	}
	for _, a := range w.Attendees {
		email := a.Email
		if IsSyntheticEmail(email) {
			email = ""
		}
		b.Attendees = append(b.Attendees, Attendee{Name: a.Name, Email: email, PhoneNumber: a.PhoneNumber, TimeZone: a.TimeZone, Language: a.Language})
	}
	if t, err := time.Parse(time.RFC3339Nano, w.CreatedAt); err == nil {
		b.CreatedAt = t.UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, w.UpdatedAt); err == nil {
		b.UpdatedAt = t.UTC()
	}
	return b, nil
}

type pagination struct {
	HasNextPage bool `json:"hasNextPage"`
}

type bookingPage struct {
	items      []Booking
	hasNext    bool
	pagination *pagination // from the envelope, beside data
}

func (p *bookingPage) decode(data json.RawMessage) error {
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		return errors.New("bookings list is not an array")
	}
	for _, raw := range list {
		var b bookingOut
		if err := b.decode(raw); err != nil {
			return err
		}
		p.items = append(p.items, Booking(b))
	}
	if p.pagination != nil {
		p.hasNext = p.pagination.HasNextPage
	}
	return nil
}
