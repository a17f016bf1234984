package calcomtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calcom/internal/spectest"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var hours = booking.OpeningHours{
	time.Monday: {{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 17 * 60}}, // lunch break
	time.Sunday: {{Start: 9 * 60, End: 12 * 60}},
}

// harness: a sandbox plus a raw HTTP client whose traffic is validated
// against the official spec.
type harness struct {
	sb    *calcomtest.Sandbox
	http  *http.Client
	rec   *spectest.Recorder
	clock *clock
}

func newHarness(t *testing.T, opts calcomtest.Options) *harness {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 23, 8, 0, 0, 0, berlin)} // Monday before the DST switch
	opts.Clock = c
	sb := calcomtest.New(opts)
	t.Cleanup(sb.Close)
	if err := sb.AddEventType(calcomtest.EventType{ID: 1, LengthMinutes: 60, TimeZone: "Europe/Berlin", Schedule: hours, SlotIntervalMinutes: 30, HostID: 5}); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddEventType(calcomtest.EventType{ID: 2, LengthMinutes: 30, TimeZone: "Europe/Berlin", Schedule: hours, HostID: 5}); err != nil {
		t.Fatal(err)
	}
	rec := spectest.Load(t).Transport(t, http.DefaultTransport)
	return &harness{sb: sb, http: &http.Client{Transport: rec, Timeout: 5 * time.Second}, rec: rec, clock: c}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (h *harness) do(t *testing.T, method, path, version, auth, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.sb.URL()+path, rd)
	if version != "" {
		req.Header.Set("cal-api-version", version)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &a.body)
	return a
}

// invalid sends a request the spec itself forbids (so it bypasses the
// validating transport) and checks the answer is Cal.com's error envelope.
func (h *harness) invalid(t *testing.T, method, path, version, auth, body string) answer {
	t.Helper()
	plain := &harness{sb: h.sb, http: &http.Client{Timeout: 5 * time.Second}}
	a := plain.do(t, method, path, version, auth, body)
	if err := spectest.CheckErrorEnvelope(a.raw); err != nil {
		t.Errorf("%s %s: %d without Cal.com's error envelope: %v", method, path, a.status, err)
	}
	return a
}

const bearer = "Bearer " + calcomtest.DefaultAPIKey

func errCode(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func errMessage(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestVersionAndAuthChecks(t *testing.T) {
	h := newHarness(t, calcomtest.Options{})
	slots := "/v2/slots?eventTypeId=1&start=2026-03-23T00:00:00Z&end=2026-03-24T00:00:00Z"
	cases := []struct {
		name, method, path, version, auth, body string
		status                                  int
		code                                    string
	}{
		{"slots without version", "GET", slots, "", bearer, "", 400, "BadRequestException"},
		{"slots with the bookings version", "GET", slots, "2024-08-13", bearer, "", 400, "BadRequestException"},
		{"booking without version", "GET", "/v2/bookings/x", "", bearer, "", 400, "BadRequestException"},
		{"bad key", "GET", "/v2/bookings/x", "2024-08-13", "Bearer cal_nope", "", 401, "UnauthorizedException"},
		{"not bearer", "GET", "/v2/bookings/x", "2024-08-13", calcomtest.DefaultAPIKey, "", 401, "UnauthorizedException"},
		{"no key (strict default)", "GET", "/v2/bookings/x", "2024-08-13", "", "", 401, "UnauthorizedException"},
		{"ok", "GET", slots, "2024-09-04", bearer, "", 200, ""},
		{"unknown route", "GET", "/v2/me", "2024-08-13", bearer, "", 404, "NotFoundException"},
	}
	for _, c := range cases {
		send := h.do
		if c.version == "" || c.path == "/v2/me" {
			send = h.invalid // the spec requires cal-api-version and knows no /v2/me
		}
		a := send(t, c.method, c.path, c.version, c.auth, c.body)
		if a.status != c.status || errCode(a) != c.code {
			t.Errorf("%s: %d %s", c.name, a.status, a.raw)
		}
		if a.header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", c.name)
		}
	}
	// AllowAnonymous mimics Cal.com's optional auth, except on the list.
	anon := newHarness(t, calcomtest.Options{AllowAnonymous: true})
	if a := anon.do(t, "GET", slots, "2024-09-04", "", ""); a.status != 200 {
		t.Fatalf("anonymous slots: %d", a.status)
	}
	if a := anon.invalid(t, "GET", "/v2/bookings", "2024-08-13", "", ""); a.status != 401 { // the spec requires Authorization here
		t.Fatalf("anonymous list: %d", a.status)
	}
}

func startsOf(t *testing.T, a answer, day string) []string {
	t.Helper()
	data, ok := a.body["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data: %s", a.raw)
	}
	var out []string
	items, _ := data[day].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["start"].(string))
	}
	return out
}

func TestSlotsFollowScheduleAndZone(t *testing.T) {
	h := newHarness(t, calcomtest.Options{})
	a := h.do(t, "GET", "/v2/slots?eventTypeId=1&start=2026-03-23T00:00:00Z&end=2026-03-23T23:00:00Z&timeZone=Europe/Berlin", "2024-09-04", bearer, "")
	got := strings.Join(startsOf(t, a, "2026-03-23"), " ")
	// 60-minute slots every 30 minutes in 9–12 and 13–17, none across lunch.
	want := "2026-03-23T09:00:00.000+01:00 2026-03-23T09:30:00.000+01:00 2026-03-23T10:00:00.000+01:00 2026-03-23T10:30:00.000+01:00 2026-03-23T11:00:00.000+01:00 " +
		"2026-03-23T13:00:00.000+01:00 2026-03-23T13:30:00.000+01:00 2026-03-23T14:00:00.000+01:00 2026-03-23T14:30:00.000+01:00 2026-03-23T15:00:00.000+01:00 2026-03-23T15:30:00.000+01:00 2026-03-23T16:00:00.000+01:00"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Across the DST switch (Sunday 2026-03-29): local 9:00 is 07:00Z, the
	// default zone is UTC and range format adds the end.
	a = h.do(t, "GET", "/v2/slots?eventTypeId=2&start=2026-03-29&end=2026-03-29&format=range", "2024-09-04", bearer, "")
	data := a.body["data"].(map[string]any)["2026-03-29"].([]any)
	first := data[0].(map[string]any)
	if len(data) != 6 || first["start"] != "2026-03-29T07:00:00.000Z" || first["end"] != "2026-03-29T07:30:00.000Z" {
		t.Fatalf("DST Sunday: %s", a.raw)
	}
	// A day without schedule answers an empty object.
	a = h.do(t, "GET", "/v2/slots?eventTypeId=2&start=2026-03-24T00:00:00Z&end=2026-03-24T23:00:00Z", "2024-09-04", bearer, "")
	if a.status != 200 || string(mustJSON(a.body["data"])) != "{}" {
		t.Fatalf("closed day: %s", a.raw)
	}
	// Minimum notice and the past are never offered.
	h.clock.Set(time.Date(2026, 3, 23, 10, 15, 0, 0, berlin))
	a = h.do(t, "GET", "/v2/slots?eventTypeId=2&start=2026-03-23T00:00:00Z&end=2026-03-23T23:00:00Z&timeZone=Europe/Berlin", "2024-09-04", bearer, "")
	if s := startsOf(t, a, "2026-03-23"); s[0] != "2026-03-23T10:30:00.000+01:00" {
		t.Fatalf("past slots offered: %v", s)
	}
	for name, q := range map[string]string{
		"no start":      "eventTypeId=1&end=2026-03-24",
		"loose start":   "eventTypeId=1&start=23.03.2026&end=2026-03-24",
		"bad zone":      "eventTypeId=1&start=2026-03-23&end=2026-03-24&timeZone=Mars/Base",
		"bad format":    "eventTypeId=1&start=2026-03-23&end=2026-03-24&format=list",
		"no event type": "start=2026-03-23&end=2026-03-24",
	} {
		if a := h.invalid(t, "GET", "/v2/slots?"+q, "2024-09-04", bearer, ""); a.status != 400 {
			t.Errorf("%s: %d", name, a.status)
		}
	}
	if a := h.do(t, "GET", "/v2/slots?eventTypeId=99&start=2026-03-23&end=2026-03-24", "2024-09-04", bearer, ""); a.status != 404 {
		t.Errorf("unknown event type: %d", a.status)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestBookingsAndSharedHost(t *testing.T) {
	h := newHarness(t, calcomtest.Options{})
	existing, err := h.sb.AddBooking(calcomtest.Booking{EventTypeID: 2, Start: time.Date(2026, 3, 23, 14, 0, 0, 0, berlin),
		Attendee: calcom.Attendee{Name: "Online Kunde", Email: "online@example.com"}}, false)
	if err != nil || existing.UID == "" || !existing.End.Equal(existing.Start.Add(30*time.Minute)) {
		t.Fatalf("seed: %+v %v", existing, err)
	}
	// The 60-minute type of the same host loses every start overlapping 14:00–14:30.
	a := h.do(t, "GET", "/v2/slots?eventTypeId=1&start=2026-03-23T12:00:00Z&end=2026-03-23T23:00:00Z&timeZone=Europe/Berlin", "2024-09-04", bearer, "")
	got := strings.Join(startsOf(t, a, "2026-03-23"), " ")
	if strings.Contains(got, "T13:30") || strings.Contains(got, "T14:00") || !strings.Contains(got, "T13:00") || !strings.Contains(got, "T14:30") {
		t.Fatalf("shared host not blocked: %s", got)
	}
	// bookingUidToReschedule frees the booking's own time.
	a = h.do(t, "GET", "/v2/slots?eventTypeId=1&start=2026-03-23T12:00:00Z&end=2026-03-23T23:00:00Z&timeZone=Europe/Berlin&bookingUidToReschedule="+existing.UID, "2024-09-04", bearer, "")
	if got := strings.Join(startsOf(t, a, "2026-03-23"), " "); !strings.Contains(got, "T14:00") {
		t.Fatalf("rescheduled booking still blocks: %s", got)
	}

	body := `{"start":"2026-03-23T12:00:00Z","eventTypeId":1,"attendee":{"name":"Maria Rossi","timeZone":"Europe/Berlin","phoneNumber":"+4915112345678","language":"de"},"metadata":{"retell_call_id":"call_1"},"unknownField":true}`
	a = h.do(t, "POST", "/v2/bookings", "2024-08-13", bearer, body)
	if a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	data := a.body["data"].(map[string]any)
	att := data["attendees"].([]any)[0].(map[string]any)
	if att["email"] != "4915112345678@sms.cal.com" || att["phoneNumber"] != "+4915112345678" || data["status"] != "accepted" ||
		data["start"] != "2026-03-23T12:00:00.000Z" || data["end"] != "2026-03-23T13:00:00.000Z" {
		t.Fatalf("create output: %s", a.raw)
	}
	// The same start again is refused the way Cal.com refuses it.
	a = h.do(t, "POST", "/v2/bookings", "2024-08-13", bearer, body)
	if a.status != 400 || !strings.Contains(errMessage(a), "already has booking at this time") {
		t.Fatalf("double booking: %d %s", a.status, a.raw)
	}
	for name, b := range map[string]string{
		"no contact":        `{"start":"2026-03-23T15:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin"}}`,
		"no time zone":      `{"start":"2026-03-23T15:00:00Z","eventTypeId":1,"attendee":{"name":"A","email":"a@example.com"}}`,
		"national phone":    `{"start":"2026-03-23T15:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin","phoneNumber":"030123"}}`,
		"metadata number":   `{"start":"2026-03-23T15:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"},"metadata":{"n":1}}`,
		"no event type":     `{"start":"2026-03-23T15:00:00Z","attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"}}`,
		"recurring":         `{"start":"2026-03-23T15:00:00Z","eventTypeId":1,"recurrenceCount":3,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"}}`,
		"not json":          `{`,
		"bad language":      `{"start":"2026-03-23T15:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com","language":"xx"}}`,
		"in the past":       `{"start":"2026-03-23T06:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"}}`,
		"outside the hours": `{"start":"2026-03-23T17:00:00Z","eventTypeId":1,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"}}`,
	} {
		if a := h.invalid(t, "POST", "/v2/bookings", "2024-08-13", bearer, b); a.status != 400 || errCode(a) != "BadRequestException" {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	if n := len(h.sb.Bookings()); n != 2 {
		t.Fatalf("%d bookings after refusals", n)
	}
}

func TestListFiltersAndRateLimit(t *testing.T) {
	h := newHarness(t, calcomtest.Options{RateLimitPerMinute: 120})
	for i, st := range []time.Time{time.Date(2026, 3, 23, 9, 0, 0, 0, berlin), time.Date(2026, 3, 23, 10, 0, 0, 0, berlin), time.Date(2026, 3, 22, 9, 0, 0, 0, berlin)} {
		status := ""
		if i == 1 {
			status = calcom.StatusCancelled
		}
		if _, err := h.sb.AddBooking(calcomtest.Booking{EventTypeID: 2, Start: st, Status: status, Attendee: calcom.Attendee{Name: "X", Email: "x@example.com"}}, false); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		a := h.do(t, "GET", "/v2/bookings?"+q, "2024-08-13", bearer, "")
		if a.status != 200 {
			t.Fatalf("%s: %d %s", q, a.status, a.raw)
		}
		return len(a.body["data"].([]any))
	}
	if n := count("status=upcoming"); n != 1 {
		t.Errorf("upcoming: %d", n)
	}
	if n := count("status=past"); n != 1 {
		t.Errorf("past: %d", n)
	}
	if n := count("status=cancelled"); n != 1 {
		t.Errorf("cancelled: %d", n)
	}
	if n := count("status=upcoming,past"); n != 2 {
		t.Errorf("upcoming,past: %d", n)
	}
	if n := count("eventTypeIds=1"); n != 0 {
		t.Errorf("other event type: %d", n)
	}
	if a := h.invalid(t, "GET", "/v2/bookings?status=soon", "2024-08-13", bearer, ""); a.status != 400 {
		t.Errorf("bad status filter: %d", a.status)
	}
	// The throttler reports the budget and blocks after 120 requests a minute.
	a := h.do(t, "GET", "/v2/bookings", "2024-08-13", bearer, "")
	if a.header.Get("X-RateLimit-Limit-Default") != "120" || a.header.Get("X-RateLimit-Remaining-Default") != "113" {
		t.Fatalf("rate headers: %v", a.header)
	}
	for i := 0; i < 113; i++ {
		h.do(t, "GET", "/v2/bookings/none", "2024-08-13", bearer, "")
	}
	a = h.do(t, "GET", "/v2/bookings", "2024-08-13", bearer, "")
	if a.status != 429 || errCode(a) != "ThrottlerException" || a.header.Get("X-RateLimit-Reset-Default") != "60" {
		t.Fatalf("121st request: %d %s", a.status, a.raw)
	}
	// Other keys are counted separately; the window resets after the block.
	h.clock.Set(h.clock.Now().Add(61 * time.Second))
	if a := h.do(t, "GET", "/v2/bookings", "2024-08-13", bearer, ""); a.status != 200 {
		t.Fatalf("after the block: %d", a.status)
	}
	if got := h.sb.Requests()[calcomtest.RouteGet]; got != 113 {
		t.Fatalf("requests per route: %d", got)
	}
}

func TestInjectedFaults(t *testing.T) {
	h := newHarness(t, calcomtest.Options{})
	h.sb.FailNext(calcomtest.RouteGet, 2, 503)
	for i := 0; i < 2; i++ {
		if a := h.do(t, "GET", "/v2/bookings/x", "2024-08-13", bearer, ""); a.status != 503 || errCode(a) != "ServiceUnavailableException" {
			t.Fatalf("fault %d: %d", i, a.status)
		}
	}
	if a := h.do(t, "GET", "/v2/bookings/x", "2024-08-13", bearer, ""); a.status != 404 {
		t.Fatalf("after the faults: %d", a.status)
	}
	h.sb.FailNext(calcomtest.RouteSlots, 1, 429)
	if a := h.do(t, "GET", "/v2/slots?eventTypeId=1&start=2026-03-23&end=2026-03-24", "2024-09-04", bearer, ""); a.status != 429 || a.header.Get("X-RateLimit-Reset-Default") == "" {
		t.Fatalf("429 fault: %d %v", a.status, a.header)
	}
	// A pure delay serves the request after waiting.
	h.sb.InjectFault(calcomtest.RouteGet, calcomtest.Fault{Delay: time.Millisecond})
	if a := h.do(t, "GET", "/v2/bookings/x", "2024-08-13", bearer, ""); a.status != 404 {
		t.Fatalf("delayed request: %d", a.status)
	}
	// A dropped connection before executing changes nothing.
	h.sb.InjectFault(calcomtest.RouteCreate, calcomtest.Fault{DropConnection: true})
	req, _ := http.NewRequest("POST", h.sb.URL()+"/v2/bookings", strings.NewReader(`{"start":"2026-03-23T08:00:00Z","eventTypeId":2,"attendee":{"name":"A","timeZone":"Europe/Berlin","email":"a@example.com"}}`))
	req.Header.Set("cal-api-version", "2024-08-13")
	req.Header.Set("Authorization", bearer)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("dropped connection answered")
	}
	if n := len(h.sb.Bookings()); n != 0 {
		t.Fatalf("drop before commit created %d bookings", n)
	}
}

// Webhooks: signed like Cal.com, parseable by our own parser, one per change.
func TestWebhooks(t *testing.T) {
	const secret = "whsec_sandbox"
	var mu sync.Mutex
	var got []calcom.WebhookEvent
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := calcom.VerifySignature(body, r.Header.Get(calcom.SignatureHeader), secret); err != nil {
			t.Errorf("bad signature: %v", err)
			w.WriteHeader(401)
			return
		}
		if r.Header.Get(calcom.WebhookVersionHeader) != "2021-10-20" {
			t.Errorf("version header %q", r.Header.Get(calcom.WebhookVersionHeader))
		}
		ev, err := calcom.ParseWebhook(body)
		if err != nil {
			t.Errorf("parse: %v", err)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	defer recv.Close()
	h := newHarness(t, calcomtest.Options{WebhookURL: recv.URL, WebhookSecret: secret})
	c, err := calcom.New(calcom.Config{BaseURL: h.sb.URL(), APIKey: calcomtest.DefaultAPIKey, HTTPClient: h.http, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := c.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 2, Start: time.Date(2026, 3, 23, 9, 0, 0, 0, berlin),
		Attendee: calcom.Attendee{Name: "Maria Rossi", PhoneNumber: "+4915112345678", TimeZone: "Europe/Berlin", Language: "de"},
		Metadata: map[string]string{"retell_call_id": "call_1", "idempotency_key": "k"}})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := c.RescheduleBooking(ctx, b.UID, time.Date(2026, 3, 23, 10, 0, 0, 0, berlin), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelBooking(ctx, moved.UID, "Caller asked"); err != nil {
		t.Fatal(err)
	}
	h.sb.SkipWebhooks(1)
	if _, err := h.sb.AddBooking(calcomtest.Booking{EventTypeID: 2, Start: time.Date(2026, 3, 23, 11, 0, 0, 0, berlin), Attendee: calcom.Attendee{Name: "B", Email: "b@example.com"}}, true); err != nil {
		t.Fatal(err)
	}
	if err := h.sb.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("received %d webhooks", len(got))
	}
	created, resched, cancelled := got[0].Payload, got[1].Payload, got[2].Payload
	if got[0].TriggerEvent != calcom.TriggerBookingCreated || created.UID != b.UID || created.Status != "ACCEPTED" || created.EventTypeID != 2 ||
		created.Metadata["retell_call_id"] != "call_1" || created.Metadata["videoCallUrl"] == "" ||
		created.Attendees[0].PhoneNumber != "+4915112345678" || created.Attendees[0].Email != "" || !created.StartTime.Equal(b.Start) {
		t.Errorf("created: %+v", got[0])
	}
	if got[1].TriggerEvent != calcom.TriggerBookingRescheduled || resched.UID != moved.UID || resched.RescheduleUID != b.UID ||
		!resched.RescheduleStartTime.Equal(b.Start) || resched.Metadata["idempotency_key"] != "k" {
		t.Errorf("rescheduled: %+v", got[1])
	}
	if got[2].TriggerEvent != calcom.TriggerBookingCancelled || cancelled.UID != moved.UID || cancelled.Status != "CANCELLED" || cancelled.CancellationReason != "Caller asked" {
		t.Errorf("cancelled: %+v", got[2])
	}
	d := h.sb.Webhooks()
	if len(d) != 4 || !d[3].Skipped || d[0].Status != 200 || calcom.VerifySignature(d[0].Body, d[0].Signature, secret) != nil {
		t.Fatalf("deliveries: %d", len(d))
	}
}

func TestSmallerBehaviours(t *testing.T) {
	h := newHarness(t, calcomtest.Options{})
	// duration overrides the event length: 90-minute starts in the 9–12 window are 9:00 to 10:30 (30-minute steps).
	a := h.do(t, "GET", "/v2/slots?eventTypeId=1&duration=90&start=2026-03-23T00:00:00Z&end=2026-03-23T10:59:00Z&timeZone=Europe/Berlin", "2024-09-04", bearer, "")
	if got := strings.Join(startsOf(t, a, "2026-03-23"), " "); got != "2026-03-23T09:00:00.000+01:00 2026-03-23T09:30:00.000+01:00 2026-03-23T10:00:00.000+01:00 2026-03-23T10:30:00.000+01:00" {
		t.Fatalf("duration: %s", got)
	}
	first, _ := h.sb.AddBooking(calcomtest.Booking{EventTypeID: 2, Start: time.Date(2026, 3, 23, 9, 0, 0, 0, berlin), Attendee: calcom.Attendee{Name: "A", Email: "a@example.com"}}, false)
	second, _ := h.sb.AddBooking(calcomtest.Booking{EventTypeID: 2, Start: time.Date(2026, 3, 23, 15, 0, 0, 0, berlin), Attendee: calcom.Attendee{Name: "B", Email: "b@example.com"}}, false)
	a = h.do(t, "GET", "/v2/bookings?sortStart=desc", "2024-08-13", bearer, "")
	list := a.body["data"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["uid"] != second.UID {
		t.Fatalf("sortStart=desc: %s", a.raw)
	}
	if a := h.do(t, "POST", "/v2/bookings/"+first.UID+"/cancel", "2024-08-13", bearer, `{"seatUid":"s"}`); a.status != 400 {
		t.Fatalf("seated cancel: %d", a.status)
	}
	if a := h.do(t, "POST", "/v2/bookings/"+first.UID+"/cancel", "2024-08-13", bearer, `{}`); a.status != 200 || a.body["data"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", a.status, a.raw)
	}
	if a := h.do(t, "POST", "/v2/bookings/"+first.UID+"/reschedule", "2024-08-13", bearer, `{"start":"2026-03-23T12:00:00Z"}`); a.status != 400 {
		t.Fatalf("reschedule of a cancelled booking: %d", a.status)
	}
	if a := h.do(t, "POST", "/v2/bookings/nope/reschedule", "2024-08-13", bearer, `{"start":"2026-03-23T12:00:00Z"}`); a.status != 404 {
		t.Fatalf("reschedule of an unknown booking: %d", a.status)
	}
	// Moving time forward with SetNow turns the upcoming booking into a past one.
	h.sb.SetNow(booking.FixedClock(time.Date(2026, 3, 24, 8, 0, 0, 0, berlin)))
	if a := h.do(t, "GET", "/v2/bookings?status=past", "2024-08-13", bearer, ""); len(a.body["data"].([]any)) != 1 {
		t.Fatalf("past after SetNow: %s", a.raw)
	}
	if _, err := h.sb.AddBooking(calcomtest.Booking{EventTypeID: 42}, false); err == nil {
		t.Fatal("booking for an unknown event type accepted")
	}
	if err := h.sb.AddEventType(calcomtest.EventType{ID: 3, LengthMinutes: 30, TimeZone: "Nowhere/City"}); err == nil {
		t.Fatal("bad zone accepted")
	}
	h.sb.Close()
	h.sb.Close() // idempotent
}
