package calcomtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/telefonagent/gateway/shared/calcom"
)

// Delivery is one webhook the sandbox tried to send.
type Delivery struct {
	Trigger   string
	UID       string
	Body      []byte // exactly as signed and sent
	Signature string
	Status    int    // receiver's HTTP status; 0 when it could not be reached or was skipped
	Err       string // transport error (no retry: Cal.com does not retry on HTTP errors)
	Skipped   bool   // dropped on purpose by SkipWebhooks
}

type webhookSender struct {
	url, secret string
	client      *http.Client

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []Delivery
	inFlight bool
	closed   bool
	skip     int
	sent     []Delivery
}

func newWebhookSender(url, secret string, client *http.Client) *webhookSender {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	w := &webhookSender{url: url, secret: secret, client: client}
	w.cond = sync.NewCond(&w.mu)
	if url != "" {
		go w.run()
	}
	return w
}

// run delivers in order, one at a time, like a single Cal.com worker.
func (w *webhookSender) run() {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return
		}
		d := w.queue[0]
		w.queue = w.queue[1:]
		w.inFlight = true
		w.mu.Unlock()

		if !d.Skipped {
			w.post(&d)
		}

		w.mu.Lock()
		w.sent = append(w.sent, d)
		w.inFlight = false
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

func (w *webhookSender) post(d *Delivery) {
	req, err := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(d.Body))
	if err != nil {
		d.Err = err.Error()
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(calcom.SignatureHeader, d.Signature)
	req.Header.Set(calcom.WebhookVersionHeader, "2021-10-20")
	resp, err := w.client.Do(req)
	if err != nil {
		d.Err = err.Error()
		return
	}
	resp.Body.Close()
	d.Status = resp.StatusCode
}

func (w *webhookSender) enqueue(d Delivery) {
	if w.url == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.skip > 0 { // decided at the change, not at delivery time
		w.skip--
		d.Skipped = true
	}
	w.queue = append(w.queue, d)
	w.cond.Broadcast()
}

func (w *webhookSender) close() {
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
}

// FlushWebhooks waits until every webhook queued so far was delivered (or
// ctx ends).
func (s *Sandbox) FlushWebhooks(ctx context.Context) error {
	w := s.hooks
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for (len(w.queue) > 0 || w.inFlight) && !w.closed {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.cond.Wait()
	}
	return ctx.Err()
}

// Webhooks returns every delivery attempted so far, in order.
func (s *Sandbox) Webhooks() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]Delivery(nil), s.hooks.sent...)
}

// SkipWebhooks drops the webhooks of the next n changes (Cal.com delivers at most once,
// so a lost webhook is a real case reconciliation must repair).
func (s *Sandbox) SkipWebhooks(n int) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.skip += n
}

// --- payload (v2021-10-20, as BookingPayloadBuilder builds it) ---

type locale struct {
	Locale string `json:"locale"`
}

type personPayload struct {
	ID          int64  `json:"id,omitempty"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Username    string `json:"username,omitempty"`
	FirstName   string `json:"firstName,omitempty"`
	LastName    string `json:"lastName,omitempty"`
	TimeZone    string `json:"timeZone"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
	Language    locale `json:"language"`
	TimeFormat  string `json:"timeFormat,omitempty"`
	UTCOffset   int    `json:"utcOffset"`
}

type response struct {
	Label string `json:"label"`
	Value any    `json:"value,omitempty"`
}

type bookingPayload struct {
	BookerURL           string              `json:"bookerUrl"`
	Title               string              `json:"title"`
	StartTime           string              `json:"startTime"`
	EndTime             string              `json:"endTime"`
	Type                string              `json:"type"`
	EventTypeID         int64               `json:"eventTypeId"`
	Organizer           personPayload       `json:"organizer"`
	Attendees           []personPayload     `json:"attendees"`
	Responses           map[string]response `json:"responses"`
	UserFieldsResponses map[string]any      `json:"userFieldsResponses"`
	CustomInputs        map[string]any      `json:"customInputs"`
	Location            string              `json:"location"`
	ICalUID             string              `json:"iCalUID"`
	ICalSequence        int                 `json:"iCalSequence"`
	UID                 string              `json:"uid"`
	BookingID           int64               `json:"bookingId"`
	EventTitle          string              `json:"eventTitle"`
	EventDescription    string              `json:"eventDescription"`
	RequiresConfirm     bool                `json:"requiresConfirmation"`
	Price               int                 `json:"price"`
	Currency            string              `json:"currency"`
	Length              int                 `json:"length"`
	Metadata            map[string]string   `json:"metadata,omitempty"`
	Status              string              `json:"status"`
	// BOOKING_CANCELLED
	CancellationReason *string `json:"cancellationReason,omitempty"`
	CancelledBy        string  `json:"cancelledBy,omitempty"`
	RequestReschedule  *bool   `json:"requestReschedule,omitempty"`
	// BOOKING_RESCHEDULED (uid is the new booking, rescheduleUid the old one)
	RescheduleID        int64  `json:"rescheduleId,omitempty"`
	RescheduleUID       string `json:"rescheduleUid,omitempty"`
	RescheduleStartTime string `json:"rescheduleStartTime,omitempty"`
	RescheduleEndTime   string `json:"rescheduleEndTime,omitempty"`
	RescheduledBy       string `json:"rescheduledBy,omitempty"`
}

type envelope struct {
	TriggerEvent string         `json:"triggerEvent"`
	CreatedAt    string         `json:"createdAt"`
	Payload      bookingPayload `json:"payload"`
}

func utcOffsetMinutes(tz string, at time.Time) int {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return 0
	}
	_, off := at.In(loc).Zone()
	return off / 60
}

// notify queues a signed webhook about b; prev is the old booking of a
// reschedule. The caller holds s.mu.
func (s *Sandbox) notify(trigger string, b *Booking, et EventType, prev *Booking) {
	if s.opts.WebhookURL == "" {
		return
	}
	host := hostOf(et)
	email := attendeeEmail(b.Attendee)
	first, last, _ := strings.Cut(b.Attendee.Name, " ")
	status := strings.ToUpper(b.Status)
	p := bookingPayload{
		BookerURL: "https://cal.com", Title: fmt.Sprintf("%s between %s and %s", et.Title, et.HostName, b.Attendee.Name),
		StartTime: b.Start.UTC().Format(time.RFC3339), EndTime: b.End.UTC().Format(time.RFC3339),
		Type: et.Slug, EventTypeID: et.ID,
		Organizer: personPayload{ID: host.ID, Name: host.Name, Email: host.Email, Username: host.Username, TimeZone: et.TimeZone,
			Language: locale{"de"}, TimeFormat: "HH:mm", UTCOffset: utcOffsetMinutes(et.TimeZone, b.Start)},
		Attendees: []personPayload{{Name: b.Attendee.Name, Email: email, FirstName: first, LastName: last, TimeZone: b.Attendee.TimeZone,
			PhoneNumber: b.Attendee.PhoneNumber, Language: locale{b.Attendee.Language}, UTCOffset: utcOffsetMinutes(b.Attendee.TimeZone, b.Start)}},
		Responses: map[string]response{
			"name":  {Label: "your_name", Value: b.Attendee.Name},
			"email": {Label: "email_address", Value: email},
		},
		UserFieldsResponses: map[string]any{}, CustomInputs: map[string]any{},
		Location: "integrations:daily", ICalUID: b.UID + "@Cal.com", UID: b.UID, BookingID: b.ID,
		EventTitle: et.Title, Currency: "eur", Length: int(b.End.Sub(b.Start) / time.Minute), Status: status,
	}
	if b.Attendee.PhoneNumber != "" {
		p.Responses["attendeePhoneNumber"] = response{Label: "phone_number", Value: b.Attendee.PhoneNumber}
	}
	switch trigger {
	case calcom.TriggerBookingCreated, calcom.TriggerBookingRescheduled:
		// Cal.com merges the metadata we sent into the payload.
		md := map[string]string{"videoCallUrl": "https://app.cal.com/video/" + b.UID}
		for k, v := range b.Metadata {
			md[k] = v
		}
		p.Metadata = md
	case calcom.TriggerBookingCancelled:
		reason, no := b.CancellationReason, false
		p.CancellationReason, p.RequestReschedule = &reason, &no
		p.CancelledBy = host.Email
		p.ICalSequence = 1
	}
	if prev != nil {
		p.RescheduleID, p.RescheduleUID = prev.ID, prev.UID
		p.RescheduleStartTime, p.RescheduleEndTime = prev.Start.UTC().Format(time.RFC3339), prev.End.UTC().Format(time.RFC3339)
		p.RescheduledBy = host.Email
		p.ICalSequence = 1
	}
	body, err := json.Marshal(envelope{TriggerEvent: trigger, CreatedAt: s.now().UTC().Format(isoMillis), Payload: p})
	if err != nil {
		panic(err) // only our own types: cannot happen
	}
	s.hooks.enqueue(Delivery{Trigger: trigger, UID: b.UID, Body: body, Signature: calcom.Sign(body, s.opts.WebhookSecret)})
}
