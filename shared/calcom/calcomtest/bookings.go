package calcomtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/calcom"
)

// Cal.com's answers for a start it will not book
// (ErrorsBookingsService_2024_08_13.handleBookingError).
const (
	msgUnavailable   = "User either already has booking at this time or is not available"
	msgOutOfBounds   = `The event type can't be booked at the "start" time provided. This could be because it's too soon (violating the minimum booking notice) or too far in the future (outside the event's scheduling window). Try fetching available slots first using the GET /v2/slots endpoint and then make a booking with "start" time equal to one of the available slots: https://cal.com/docs/api-reference/v2/slots`
	msgPast          = "Attempting to book a meeting in the past."
	msgAlreadyCancel = "This booking has already been cancelled."
)

var (
	phoneRe   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	languages = map[string]bool{}
)

func init() {
	for _, l := range strings.Fields("ar ca de es eu he id ja lv pl ro sr th vi az cs el es-419 fi hr it km nl pt ru sv tr zh-CN bg da en et fr hu iw ko no pt-BR sk ta uk zh-TW bn") {
		languages[l] = true
	}
}

func badRequest(problems []string) reply {
	return reply{status: 400, body: errorBody{Code: "BadRequestException", Message: strings.Join(problems, ", "),
		Details: map[string]any{"errors": problems}}}
}

// readJSON decodes a JSON object body; fields are checked by the caller.
func readJSON(r *http.Request) (map[string]json.RawMessage, *reply) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		rep := errReply(400, "BadRequestException", "could not read body")
		return nil, &rep
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		rep := errReply(400, "BadRequestException", "body must be a JSON object")
		return nil, &rep
	}
	return m, nil
}

func str(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

type createInput struct {
	start       time.Time
	eventTypeID int64
	attendee    calcom.Attendee
	metadata    map[string]string
	length      int
}

func parseCreate(m map[string]json.RawMessage) (createInput, []string) {
	var in createInput
	var p []string
	if s, ok := str(m["start"]); !ok {
		p = append(p, "start must be a valid ISO 8601 date string")
	} else if t, ok := parseISO(s, time.UTC, false); !ok {
		p = append(p, "start must be a valid ISO 8601 date string")
	} else {
		in.start = t.UTC()
	}
	if raw, ok := m["eventTypeId"]; ok {
		var id float64
		if json.Unmarshal(raw, &id) != nil || id != float64(int64(id)) || id <= 0 {
			p = append(p, "eventTypeId must be an integer number")
		}
		in.eventTypeID = int64(id)
	} else {
		p = append(p, "Either eventTypeId or eventTypeSlug + username or eventTypeSlug + teamSlug must be provided")
	}
	for _, unsupported := range []string{"instant", "recurrenceCount"} {
		if _, ok := m[unsupported]; ok {
			p = append(p, "sandbox supports regular bookings only ("+unsupported+" given)")
		}
	}
	var a struct {
		Name        *string `json:"name"`
		TimeZone    *string `json:"timeZone"`
		Email       *string `json:"email"`
		PhoneNumber *string `json:"phoneNumber"`
		Language    *string `json:"language"`
	}
	if raw, ok := m["attendee"]; !ok || json.Unmarshal(raw, &a) != nil {
		p = append(p, "attendee must be an object")
	} else {
		if a.Name == nil || strings.TrimSpace(*a.Name) == "" {
			p = append(p, "attendee.name must be a string")
		} else {
			in.attendee.Name = *a.Name
		}
		if a.TimeZone == nil {
			p = append(p, "attendee.timeZone must be a valid IANA time zone")
		} else if _, err := time.LoadLocation(*a.TimeZone); err != nil || *a.TimeZone == "Local" || *a.TimeZone == "" {
			p = append(p, "attendee.timeZone must be a valid IANA time zone")
		} else {
			in.attendee.TimeZone = *a.TimeZone
		}
		if a.Email != nil {
			if addr, err := mail.ParseAddress(*a.Email); err != nil || addr.Address != *a.Email {
				p = append(p, "attendee.email must be an email")
			} else {
				in.attendee.Email = *a.Email
			}
		}
		if a.PhoneNumber != nil {
			if !phoneRe.MatchString(*a.PhoneNumber) {
				p = append(p, "attendee.phoneNumber must be a valid phone number")
			} else {
				in.attendee.PhoneNumber = *a.PhoneNumber
			}
		}
		if a.Email == nil && a.PhoneNumber == nil {
			p = append(p, "Attendee must have at least one contact method (email or phone number)")
		}
		in.attendee.Language = "en"
		if a.Language != nil {
			if !languages[*a.Language] {
				p = append(p, "attendee.language must be one of the supported languages")
			} else {
				in.attendee.Language = *a.Language
			}
		}
	}
	if raw, ok := m["metadata"]; ok {
		var md map[string]json.RawMessage
		if json.Unmarshal(raw, &md) != nil {
			p = append(p, "metadata must be an object")
		} else {
			if len(md) > 50 {
				p = append(p, "metadata can have at most 50 keys")
			}
			in.metadata = map[string]string{}
			for k, v := range md {
				s, ok := str(v)
				if !ok || len(k) > 40 || len(s) > 500 {
					p = append(p, "metadata keys must be at most 40 characters and values strings of at most 500 characters")
					break
				}
				in.metadata[k] = s
			}
		}
	}
	if raw, ok := m["lengthInMinutes"]; ok {
		var n float64
		if json.Unmarshal(raw, &n) != nil || n < 1 || n != float64(int(n)) {
			p = append(p, "lengthInMinutes must be a positive integer")
		}
		in.length = int(n)
	}
	return in, p
}

// bookable checks that start is one of et's free starts right now and
// answers the way Cal.com refuses. The caller holds s.mu.
func (s *Sandbox) bookable(et EventType, start time.Time, ignoreUID string) *reply {
	now := s.now()
	if start.Before(now) {
		rep := errReply(400, "BadRequestException", msgPast)
		return &rep
	}
	if start.Before(now.Add(time.Duration(et.MinimumNoticeMinutes) * time.Minute)) {
		rep := errReply(400, "BadRequestException", msgOutOfBounds)
		return &rep
	}
	for _, st := range s.freeStarts(et, start, start, et.LengthMinutes, ignoreUID) {
		if st.Equal(start) {
			return nil
		}
	}
	rep := errReply(400, "BadRequestException", msgUnavailable)
	return &rep
}

func (s *Sandbox) create(r *http.Request) reply {
	m, bad := readJSON(r)
	if bad != nil {
		return *bad
	}
	in, problems := parseCreate(m)
	if len(problems) > 0 {
		return badRequest(problems)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	et, ok := s.eventTypes[in.eventTypeID]
	if !ok {
		return errReply(404, "NotFoundException", fmt.Sprintf("Event type with id %d not found.", in.eventTypeID))
	}
	if in.length != 0 && in.length != et.LengthMinutes {
		return errReply(400, "BadRequestException", "Can't specify 'lengthInMinutes' because event type does not have multiple possible lengths.")
	}
	if rep := s.bookable(et, in.start, ""); rep != nil {
		return *rep
	}
	now := s.now().UTC()
	b := s.store(Booking{
		UID: newUID(), EventTypeID: et.ID, Status: calcom.StatusAccepted,
		Start: in.start, End: in.start.Add(time.Duration(et.LengthMinutes) * time.Minute),
		Attendee: in.attendee, Metadata: in.metadata, CreatedAt: now, UpdatedAt: now,
	}, et)
	s.notify(calcom.TriggerBookingCreated, b, et, nil)
	return reply{status: 201, body: map[string]any{"status": "success", "data": s.output(b)}}
}

func (s *Sandbox) get(uid string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byUID[uid]
	if !ok {
		return errReply(404, "NotFoundException", fmt.Sprintf("Booking with uid=%s was not found in the database", uid))
	}
	return reply{status: 200, body: map[string]any{"status": "success", "data": s.output(b)}}
}

func (s *Sandbox) cancel(r *http.Request, uid string) reply {
	m, bad := readJSON(r)
	if bad != nil {
		return *bad
	}
	if _, ok := m["seatUid"]; ok {
		return errReply(400, "BadRequestException", "sandbox has no seated bookings")
	}
	reason := ""
	if raw, ok := m["cancellationReason"]; ok {
		v, ok := str(raw)
		if !ok {
			return badRequest([]string{"cancellationReason must be a string"})
		}
		reason = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byUID[uid]
	if !ok {
		return errReply(404, "NotFoundException", fmt.Sprintf("Booking with uid=%s was not found in the database", uid))
	}
	if b.Status == calcom.StatusCancelled {
		return errReply(400, "BadRequestException", msgAlreadyCancel)
	}
	b.Status = calcom.StatusCancelled
	b.CancellationReason = reason
	b.UpdatedAt = s.now().UTC()
	et := s.eventTypes[b.EventTypeID]
	s.notify(calcom.TriggerBookingCancelled, b, et, nil)
	return reply{status: 200, body: map[string]any{"status": "success", "data": s.output(b)}}
}

func (s *Sandbox) reschedule(r *http.Request, uid string) reply {
	m, bad := readJSON(r)
	if bad != nil {
		return *bad
	}
	if _, ok := m["seatUid"]; ok {
		return errReply(400, "BadRequestException", "sandbox has no seated bookings")
	}
	st, ok := str(m["start"])
	start, okT := parseISO(st, time.UTC, false)
	if !ok || !okT {
		return badRequest([]string{"start must be a valid ISO 8601 date string"})
	}
	start = start.UTC()
	reason, _ := str(m["reschedulingReason"])
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byUID[uid]
	if !ok {
		return errReply(404, "NotFoundException", fmt.Sprintf("Booking with uid=%s was not found in the database", uid))
	}
	if !old.Active() {
		return errReply(400, "BadRequestException", fmt.Sprintf("Booking with uid=%s is cancelled and cannot be rescheduled", uid))
	}
	et := s.eventTypes[old.EventTypeID]
	if rep := s.bookable(et, start, old.UID); rep != nil {
		return *rep
	}
	now := s.now().UTC()
	nb := s.store(Booking{
		UID: newUID(), EventTypeID: et.ID, Status: calcom.StatusAccepted,
		Start: start, End: start.Add(time.Duration(et.LengthMinutes) * time.Minute),
		Attendee: old.Attendee, Metadata: old.Metadata, RescheduledFromUID: old.UID, ReschedulingReason: reason,
		CreatedAt: now, UpdatedAt: now,
	}, et)
	prev := *old
	old.Status = calcom.StatusCancelled
	old.RescheduledToUID = nb.UID
	old.ReschedulingReason = reason
	old.UpdatedAt = now
	s.notify(calcom.TriggerBookingRescheduled, nb, et, &prev)
	return reply{status: 201, body: map[string]any{"status": "success", "data": s.output(nb)}}
}

var listStatuses = map[string]bool{"upcoming": true, "recurring": true, "past": true, "cancelled": true, "unconfirmed": true}

func (s *Sandbox) list(r *http.Request) reply {
	q := r.URL.Query()
	var problems []string
	var statuses []string
	for _, v := range q["status"] {
		for _, st := range strings.Split(v, ",") {
			if !listStatuses[st] {
				problems = append(problems, "each value in status must be one of the following values: upcoming, recurring, past, cancelled, unconfirmed")
			}
			statuses = append(statuses, st)
		}
	}
	ids := map[int64]bool{}
	for _, name := range []string{"eventTypeIds", "eventTypeId"} {
		if v := q.Get(name); v != "" {
			for _, f := range strings.Split(v, ",") {
				id, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					problems = append(problems, name+" must be numbers")
				}
				ids[id] = true
			}
		}
	}
	timeParam := func(name string) time.Time {
		v := q.Get(name)
		if v == "" {
			return time.Time{}
		}
		t, ok := parseISO(v, time.UTC, false)
		if !ok {
			problems = append(problems, name+" must be a valid ISO 8601 date string")
		}
		return t
	}
	afterStart, beforeEnd := timeParam("afterStart"), timeParam("beforeEnd")
	intParam := func(name string, def int) int {
		v := q.Get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problems = append(problems, name+" must be a non-negative number")
		}
		return n
	}
	take, skip := intParam("take", 100), intParam("skip", 0)
	if take > 250 {
		problems = append(problems, "take must not be greater than 250")
	}
	sortStart := q.Get("sortStart")
	if sortStart != "" && sortStart != "asc" && sortStart != "desc" {
		problems = append(problems, "sortStart must be one of the following values: asc, desc")
	}
	if len(problems) > 0 {
		return badRequest(problems)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var match []*Booking
	for _, b := range s.sortedBookings() {
		if len(ids) > 0 && !ids[b.EventTypeID] {
			continue
		}
		if uid := q.Get("bookingUid"); uid != "" && b.UID != uid {
			continue
		}
		if !afterStart.IsZero() && b.Start.Before(afterStart) {
			continue
		}
		if !beforeEnd.IsZero() && b.End.After(beforeEnd) {
			continue
		}
		if len(statuses) > 0 && !statusMatches(b, statuses, now) {
			continue
		}
		match = append(match, b)
	}
	if sortStart == "desc" {
		for i, j := 0, len(match)-1; i < j; i, j = i+1, j-1 {
			match[i], match[j] = match[j], match[i]
		}
	}
	total := len(match)
	page := []any{}
	for i := skip; i < total && len(page) < take; i++ {
		page = append(page, s.output(match[i]))
	}
	perPage := take
	if perPage == 0 {
		perPage = 1
	}
	totalPages := (total + perPage - 1) / perPage
	remaining := total - skip - len(page)
	if remaining < 0 {
		remaining = 0
	}
	return reply{status: 200, body: map[string]any{"status": "success", "data": page, "pagination": map[string]any{
		"totalItems": total, "remainingItems": remaining, "returnedItems": len(page), "itemsPerPage": take,
		"currentPage": skip/perPage + 1, "totalPages": totalPages, "hasNextPage": remaining > 0, "hasPreviousPage": skip > 0,
	}}}
}

func statusMatches(b *Booking, statuses []string, now time.Time) bool {
	for _, st := range statuses {
		switch st {
		case "upcoming": // Cal.com lists pending future bookings as unconfirmed only
			if b.Status == calcom.StatusAccepted && b.End.After(now) {
				return true
			}
		case "past":
			if b.Active() && !b.End.After(now) {
				return true
			}
		case "cancelled":
			if b.Status == calcom.StatusCancelled || b.Status == calcom.StatusRejected {
				return true
			}
		case "unconfirmed":
			if b.Status == calcom.StatusPending && b.End.After(now) {
				return true
			}
		}
	}
	return false
}

// --- output (BookingOutput_2024_08_13) ---

type hostOut struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	DisplayEmail string `json:"displayEmail"`
	Username     string `json:"username"`
	TimeZone     string `json:"timeZone"`
}

type attendeeOut struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	DisplayEmail string `json:"displayEmail"`
	TimeZone     string `json:"timeZone"`
	Language     string `json:"language,omitempty"`
	Absent       bool   `json:"absent"`
	PhoneNumber  string `json:"phoneNumber,omitempty"`
}

type eventTypeOut struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
}

type bookingOut struct {
	ID                     int64             `json:"id"`
	UID                    string            `json:"uid"`
	Title                  string            `json:"title"`
	Description            string            `json:"description"`
	Hosts                  []hostOut         `json:"hosts"`
	Status                 string            `json:"status"`
	CancellationReason     string            `json:"cancellationReason,omitempty"`
	ReschedulingReason     string            `json:"reschedulingReason,omitempty"`
	RescheduledFromUID     string            `json:"rescheduledFromUid,omitempty"`
	RescheduledToUID       string            `json:"rescheduledToUid,omitempty"`
	Start                  string            `json:"start"`
	End                    string            `json:"end"`
	Duration               int               `json:"duration"`
	EventTypeID            int64             `json:"eventTypeId"`
	EventType              eventTypeOut      `json:"eventType"`
	Location               string            `json:"location"`
	AbsentHost             bool              `json:"absentHost"`
	CreatedAt              string            `json:"createdAt"`
	UpdatedAt              string            `json:"updatedAt"`
	Metadata               map[string]string `json:"metadata"`
	Attendees              []attendeeOut     `json:"attendees"`
	Guests                 []string          `json:"guests"`
	BookingFieldsResponses map[string]any    `json:"bookingFieldsResponses"`
}

// attendeeEmail is what Cal.com stores for the attendee: the real address
// or, for phone-only attendees, the synthetic <digits>@sms.cal.com.
func attendeeEmail(a calcom.Attendee) string {
	if a.Email != "" || a.PhoneNumber == "" {
		return a.Email
	}
	return strings.TrimPrefix(a.PhoneNumber, "+") + "@sms.cal.com"
}

func hostOf(et EventType) hostOut {
	id := et.HostID
	if id == 0 {
		id = et.ID
	}
	user := fmt.Sprintf("host-%d", id)
	return hostOut{ID: id, Name: et.HostName, Email: user + "@sandbox.example", DisplayEmail: user + "@sandbox.example", Username: user, TimeZone: et.TimeZone}
}

// output renders b; the caller holds s.mu.
func (s *Sandbox) output(b *Booking) bookingOut {
	et := s.eventTypes[b.EventTypeID]
	email := attendeeEmail(b.Attendee)
	resp := map[string]any{"name": b.Attendee.Name, "email": email}
	if b.Attendee.PhoneNumber != "" {
		resp["attendeePhoneNumber"] = b.Attendee.PhoneNumber
	}
	md := b.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return bookingOut{
		ID: b.ID, UID: b.UID, Title: fmt.Sprintf("%s between %s and %s", et.Title, et.HostName, b.Attendee.Name),
		Hosts: []hostOut{hostOf(et)}, Status: b.Status, CancellationReason: b.CancellationReason,
		ReschedulingReason: b.ReschedulingReason, RescheduledFromUID: b.RescheduledFromUID, RescheduledToUID: b.RescheduledToUID,
		Start: b.Start.UTC().Format(isoMillis), End: b.End.UTC().Format(isoMillis), Duration: int(b.End.Sub(b.Start) / time.Minute),
		EventTypeID: b.EventTypeID, EventType: eventTypeOut{et.ID, et.Slug}, Location: "",
		CreatedAt: b.CreatedAt.UTC().Format(isoMillis), UpdatedAt: b.UpdatedAt.UTC().Format(isoMillis), Metadata: md,
		Attendees: []attendeeOut{{Name: b.Attendee.Name, Email: email, DisplayEmail: email, TimeZone: b.Attendee.TimeZone,
			Language: b.Attendee.Language, PhoneNumber: b.Attendee.PhoneNumber}},
		Guests: []string{}, BookingFieldsResponses: resp,
	}
}
