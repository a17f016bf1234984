package calcom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
)

const (
	opSlots      = "SlotsController_2024_09_04_getAvailableSlots"
	opCreate     = "BookingsController_2024_08_13_createBooking"
	opList       = "BookingsController_2024_08_13_getBookings"
	opGet        = "BookingsController_2024_08_13_getBooking"
	opCancel     = "BookingsController_2024_08_13_cancelBooking"
	opReschedule = "BookingsController_2024_08_13_rescheduleBooking"
)

func TestAPIVersionTable(t *testing.T) {
	want := map[calcom.Endpoint]string{
		calcom.EndpointSlots: "2024-09-04", calcom.EndpointCreateBooking: "2024-08-13", calcom.EndpointListBookings: "2024-08-13",
		calcom.EndpointGetBooking: "2024-08-13", calcom.EndpointCancelBooking: "2024-08-13", calcom.EndpointRescheduleBooking: "2024-08-13",
	}
	for ep, v := range want {
		if got := calcom.APIVersion(ep); got != v {
			t.Errorf("%s: cal-api-version %q, want %q", ep, got, v)
		}
	}
}

// The whole booking flow against the sandbox, every exchange validated
// against the official spec.
func TestBookingFlow(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	ctx := context.Background()
	from, to := at(2, 0, 0), at(3, 0, 0)

	slots, err := e.client.Slots(ctx, 1001, from, to, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 9:00–18:00 in 30-minute steps = 18 slots.
	if len(slots) != 18 || !slots[0].Equal(at(2, 9, 0)) || !slots[17].Equal(at(2, 17, 30)) {
		t.Fatalf("slots: %d, first %v", len(slots), slots)
	}

	start := at(2, 14, 0)
	md := map[string]string{"retell_call_id": "call_abc", "tenant": "salon-sonnenschein", "idempotency_key": "k1"}
	b, err := e.client.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 1001, Start: start, Attendee: maria, Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	if b.UID == "" || b.ID == 0 || b.Status != calcom.StatusAccepted || !b.Start.Equal(start) || !b.End.Equal(start.Add(30*time.Minute)) ||
		b.EventTypeID != 1001 || b.DurationMinutes != 30 || b.Metadata["idempotency_key"] != "k1" || len(b.Attendees) != 1 ||
		b.Attendees[0].Email != maria.Email || b.Attendees[0].PhoneNumber != maria.PhoneNumber || b.Attendees[0].Language != "de" {
		t.Fatalf("created booking: %+v", b.LogValue())
	}

	// The booked slot is gone, for this event type and for the 60-minute
	// service of the same host (which would overlap at 13:30 and 14:00).
	slots, err = e.client.Slots(ctx, 1001, from, to, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if len(slots) != 17 || contains(slots, start) {
		t.Fatalf("booked slot still offered: %d", len(slots))
	}
	long, err := e.client.Slots(ctx, 1002, from, to, "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if contains(long, at(2, 13, 30)) || contains(long, start) || !contains(long, at(2, 13, 0)) || !contains(long, at(2, 14, 30)) {
		t.Fatalf("same-host event type does not see the booking: %v", long)
	}
	// Another host is unaffected.
	other, err := e.client.Slots(ctx, 2001, from, to, "Europe/Berlin")
	if err != nil || !contains(other, start) {
		t.Fatalf("other host lost the slot: %v %v", other, err)
	}

	got, err := e.client.GetBooking(ctx, b.UID)
	if err != nil || got.UID != b.UID || !got.Start.Equal(start) {
		t.Fatalf("get: %+v %v", got.LogValue(), err)
	}

	newStart := at(3, 10, 0)
	moved, err := e.client.RescheduleBooking(ctx, b.UID, newStart, "Kunde wünscht anderen Tag")
	if err != nil {
		t.Fatal(err)
	}
	if moved.UID == b.UID || moved.RescheduledFromUID != b.UID || !moved.Start.Equal(newStart) || moved.Metadata["idempotency_key"] != "k1" {
		t.Fatalf("rescheduled: %+v from %q", moved.LogValue(), moved.RescheduledFromUID)
	}
	old, err := e.client.GetBooking(ctx, b.UID)
	if err != nil || old.Status != calcom.StatusCancelled || old.RescheduledToUID != moved.UID {
		t.Fatalf("old booking after reschedule: %+v to=%q %v", old.LogValue(), old.RescheduledToUID, err)
	}
	slots, _ = e.client.Slots(ctx, 1001, from, at(4, 0, 0), "Europe/Berlin")
	if !contains(slots, start) || contains(slots, newStart) {
		t.Fatal("reschedule must free the old slot and take the new one")
	}

	cancelled, err := e.client.CancelBooking(ctx, moved.UID, "Caller asked to cancel")
	if err != nil || cancelled.Status != calcom.StatusCancelled || cancelled.CancellationReason != "Caller asked to cancel" {
		t.Fatalf("cancel: %+v %v", cancelled.LogValue(), err)
	}
	slots, _ = e.client.Slots(ctx, 1001, from, at(4, 0, 0), "Europe/Berlin")
	if !contains(slots, newStart) {
		t.Fatal("cancel must free the slot")
	}
	_, err = e.client.CancelBooking(ctx, moved.UID, "again")
	if booking.KindOf(err) != booking.KindConflict || !errors.Is(err, calcom.ErrAlreadyCancelled) {
		t.Fatalf("second cancel: %v", err)
	}

	for _, op := range []string{opSlots, opCreate, opGet, opReschedule, opCancel} {
		okStatus := map[string]int{opCreate: 201, opReschedule: 201}[op]
		if okStatus == 0 {
			okStatus = 200
		}
		if e.rec.Count(op, okStatus) == 0 {
			t.Errorf("no validated %d exchange for %s", okStatus, op)
		}
	}
}

func TestCreateBookingRefusals(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	ctx := context.Background()
	in := calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 11, 0), Attendee: maria}
	if _, err := e.client.CreateBooking(ctx, in); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		mod   func(*calcom.CreateBookingInput)
		kind  booking.Kind
		taken bool
	}{
		{"taken slot", func(*calcom.CreateBookingInput) {}, booking.KindConflict, true},
		{"overlapping service of the same host", func(i *calcom.CreateBookingInput) { i.EventTypeID, i.Start = 1002, at(2, 10, 30) }, booking.KindConflict, true},
		{"outside opening hours", func(i *calcom.CreateBookingInput) { i.Start = at(2, 19, 0) }, booking.KindConflict, true},
		{"Sunday", func(i *calcom.CreateBookingInput) { i.Start = at(7, 10, 0) }, booking.KindConflict, true},
		{"off the slot grid", func(i *calcom.CreateBookingInput) { i.Start = at(2, 11, 10) }, booking.KindConflict, true},
		{"past", func(i *calcom.CreateBookingInput) { i.Start = at(1, 7, 0) }, booking.KindInvalid, false},
		{"unknown event type", func(i *calcom.CreateBookingInput) { i.EventTypeID = 999 }, booking.KindNotFound, false},
		{"wrong length", func(i *calcom.CreateBookingInput) { i.Start, i.LengthInMinutes = at(2, 15, 0), 45 }, booking.KindInvalid, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := in
			c.mod(&i)
			_, err := e.client.CreateBooking(ctx, i)
			if booking.KindOf(err) != c.kind || calcom.IsSlotTaken(err) != c.taken || calcom.IsUnknownOutcome(err) {
				t.Fatalf("got %v (kind %s), want kind %s taken=%v", err, booking.KindOf(err), c.kind, c.taken)
			}
			assertNoPII(t, err)
		})
	}
	if n := len(e.sb.Bookings()); n != 1 {
		t.Fatalf("refused creates left %d bookings", n)
	}
}

// A start within the minimum notice is refused with Cal.com's
// "out of bounds" answer, which means the slot cannot be had: a conflict.
func TestCreateInsideMinimumNotice(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	e.clock.Add(50 * time.Minute) // 08:50; 9:00 is within the 30-minute notice
	_, err := e.client.CreateBooking(context.Background(), calcom.CreateBookingInput{EventTypeID: 1001, Start: at(1, 9, 0), Attendee: maria})
	if !calcom.IsSlotTaken(err) || booking.KindOf(err) != booking.KindConflict {
		t.Fatalf("got %v", err)
	}
	slots, err := e.client.Slots(context.Background(), 1001, at(1, 0, 0), at(2, 0, 0), "Europe/Berlin")
	if err != nil || contains(slots, at(1, 9, 0)) || !contains(slots, at(1, 9, 30)) {
		t.Fatalf("notice not applied to slots: %v %v", slots, err)
	}
}

// Invalid input never leaves the process.
func TestCreateBookingValidatesBeforeSending(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	good := calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 9, 0), Attendee: maria}
	cases := map[string]func(*calcom.CreateBookingInput){
		"no contact":      func(i *calcom.CreateBookingInput) { i.Attendee.Email, i.Attendee.PhoneNumber = "", "" },
		"national phone":  func(i *calcom.CreateBookingInput) { i.Attendee.PhoneNumber = "030123456" },
		"bad email":       func(i *calcom.CreateBookingInput) { i.Attendee.Email = "Maria <m@x.de>" },
		"synthetic email": func(i *calcom.CreateBookingInput) { i.Attendee.Email = "4915112345678@sms.cal.com" },
		"no name":         func(i *calcom.CreateBookingInput) { i.Attendee.Name = " " },
		"no zone":         func(i *calcom.CreateBookingInput) { i.Attendee.TimeZone = "" },
		"bad zone":        func(i *calcom.CreateBookingInput) { i.Attendee.TimeZone = "Berlin" },
		"bad language":    func(i *calcom.CreateBookingInput) { i.Attendee.Language = "klingon" },
		"no event type":   func(i *calcom.CreateBookingInput) { i.EventTypeID = 0 },
		"no start":        func(i *calcom.CreateBookingInput) { i.Start = time.Time{} },
		"long metadata":   func(i *calcom.CreateBookingInput) { i.Metadata = map[string]string{"k": strings.Repeat("x", 501)} },
		"long metadata key": func(i *calcom.CreateBookingInput) {
			i.Metadata = map[string]string{strings.Repeat("k", 41): "v"}
		},
	}
	for name, mod := range cases {
		i := good
		mod(&i)
		_, err := e.client.CreateBooking(context.Background(), i)
		if booking.KindOf(err) != booking.KindInvalid {
			t.Errorf("%s: got %v", name, err)
		}
		assertNoPII(t, err)
	}
	if n := e.sb.Requests()[calcomtest.RouteCreate]; n != 0 {
		t.Fatalf("%d invalid creates reached Cal.com", n)
	}
	// Phone only is fine, and no email is invented: Cal.com's synthetic
	// address is not reported as the attendee's email.
	i := good
	i.Attendee.Email = ""
	b, err := e.client.CreateBooking(context.Background(), i)
	if err != nil {
		t.Fatal(err)
	}
	if b.Attendees[0].Email != "" || b.Attendees[0].PhoneNumber != maria.PhoneNumber {
		t.Fatalf("phone-only attendee came back with email %q", b.Attendees[0].Email)
	}
	stored, _ := e.sb.Booking(b.UID)
	if stored.Attendee.Email != "" {
		t.Fatal("the client sent an email for a phone-only attendee")
	}
}

func TestErrorKinds(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	ctx := context.Background()
	if _, err := e.client.GetBooking(ctx, "doesnotexist"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("unknown uid: %v", err)
	}
	if _, err := e.client.GetBooking(ctx, "a/b"); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("malformed uid: %v", err)
	}
	bad, err := calcom.New(calcom.Config{BaseURL: e.sb.URL(), APIKey: "cal_wrong", HTTPClient: &http.Client{Transport: e.rec}, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), ""); booking.KindOf(err) != booking.KindUnauthorized {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := calcom.New(calcom.Config{}); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := calcom.New(calcom.Config{APIKey: "k", BaseURL: "api.cal.com"}); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("relative base URL: %v", err)
	}

	// 5xx: transient; unknown outcome only for writes.
	e.sb.FailNext(calcomtest.RouteGet, 1, 500)
	if _, err := e.client.GetBooking(ctx, "x"); booking.KindOf(err) != booking.KindTransient || calcom.IsUnknownOutcome(err) {
		t.Fatalf("GET 500: %v", err)
	}
	e.sb.FailNext(calcomtest.RouteCreate, 1, 503)
	_, err = e.client.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 9, 0), Attendee: maria})
	if booking.KindOf(err) != booking.KindTransient || !calcom.IsUnknownOutcome(err) {
		t.Fatalf("POST 503: %v", err)
	}
	assertNoPII(t, err)
	// A 500 after the booking was stored: the outcome is truly unknown to the client.
	e.sb.InjectFault(calcomtest.RouteCreate, calcomtest.Fault{AfterCommit: true, Status: 500})
	_, err = e.client.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 9, 30), Attendee: maria})
	if !calcom.IsUnknownOutcome(err) || len(e.sb.Bookings()) != 1 {
		t.Fatalf("500 after commit: %v, %d bookings", err, len(e.sb.Bookings()))
	}
	// A cancel that failed before executing is also reported as unknown
	// (the client cannot tell), and a retry works.
	uid := e.sb.Bookings()[0].UID
	e.sb.FailNext(calcomtest.RouteCancel, 1, 502)
	if _, err := e.client.CancelBooking(ctx, uid, ""); !calcom.IsUnknownOutcome(err) {
		t.Fatalf("cancel 502: %v", err)
	}
	if _, err := e.client.CancelBooking(ctx, uid, ""); err != nil {
		t.Fatalf("cancel retry: %v", err)
	}
}

// Unknown outcome: Cal.com books, but the answer never arrives in time.
// The booking is found afterwards by its idempotency key.
func TestTimeoutAfterCreateIsUnknownOutcome(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{WriteTimeout: 150 * time.Millisecond})
	e.sb.TimeoutAfterCreate(5 * time.Second)
	ctx := context.Background()
	in := calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 10, 0), Attendee: maria, Metadata: map[string]string{"idempotency_key": "idem-42"}}
	_, err := e.client.CreateBooking(ctx, in)
	if booking.KindOf(err) != booking.KindTransient || !calcom.IsUnknownOutcome(err) {
		t.Fatalf("got %v", err)
	}
	if n := len(e.sb.Bookings()); n != 1 {
		t.Fatalf("sandbox holds %d bookings, want the 1 that was created", n)
	}
	found, ok, err := e.client.FindByMetadata(ctx, calcom.ListBookingsFilter{EventTypeIDs: []int64{1001}, AfterStart: at(2, 0, 0), Status: []string{calcom.ListUpcoming}}, "idempotency_key", "idem-42")
	if err != nil || !ok || !found.Start.Equal(in.Start) {
		t.Fatalf("find by metadata: ok=%v %v", ok, err)
	}
	// Retrying the create blindly would be refused: the slot is taken.
	if _, err := e.client.CreateBooking(ctx, in); !calcom.IsSlotTaken(err) {
		t.Fatalf("retry: %v", err)
	}
}

func TestDroppedConnectionAfterCommit(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	e.sb.InjectFault(calcomtest.RouteReschedule, calcomtest.Fault{AfterCommit: true, DropConnection: true})
	b, err := e.client.CreateBooking(context.Background(), calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 10, 0), Attendee: maria})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.RescheduleBooking(context.Background(), b.UID, at(2, 12, 0), "")
	if !calcom.IsUnknownOutcome(err) {
		t.Fatalf("got %v", err)
	}
	if old, _ := e.sb.Booking(b.UID); old.RescheduledToUID == "" {
		t.Fatal("the sandbox did not execute the reschedule before dropping the connection")
	}
}

// A write that never left the process has a known outcome: nothing happened.
func TestConnectionRefusedIsNotUnknownOutcome(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	e.sb.Close()
	_, err := e.client.CreateBooking(context.Background(), calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 10, 0), Attendee: maria})
	if booking.KindOf(err) != booking.KindTransient || calcom.IsUnknownOutcome(err) {
		t.Fatalf("got %v", err)
	}
}

func TestReadTimeoutIsTransient(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{ReadTimeout: 50 * time.Millisecond})
	e.sb.SetLatency(2 * time.Second)
	_, err := e.client.Slots(context.Background(), 1001, at(2, 0, 0), at(3, 0, 0), "")
	var api *calcom.APIError
	if booking.KindOf(err) != booking.KindTransient || !errors.As(err, &api) || !api.Timeout || calcom.IsUnknownOutcome(err) {
		t.Fatalf("got %v", err)
	}
}

func TestRateLimitHonoured(t *testing.T) {
	e := newEnv(t, calcomtest.Options{RateLimitPerMinute: 3}, calcom.Config{})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := e.client.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), ""); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := e.client.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), "")
	if booking.KindOf(err) != booking.KindTransient || calcom.RetryAfter(err) != time.Minute {
		t.Fatalf("got %v, retry after %v", err, calcom.RetryAfter(err))
	}
	e.clock.Add(30 * time.Second)
	_, err = e.client.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), "")
	if d := calcom.RetryAfter(err); d != 30*time.Second {
		t.Fatalf("still blocked: retry after %v, want 30s (%v)", d, err)
	}
	e.clock.Add(31 * time.Second)
	if _, err := e.client.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), ""); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

func TestRetryAfterHeaderForms(t *testing.T) {
	now := time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		header, value string
		want          time.Duration
	}{
		"seconds":       {"X-RateLimit-Reset-Default", "12", 12 * time.Second},
		"epoch seconds": {"X-RateLimit-Reset-Default", fmt.Sprint(now.Add(20 * time.Second).Unix()), 20 * time.Second},
		"epoch millis":  {"X-RateLimit-Reset-Default", fmt.Sprint(now.Add(25 * time.Second).UnixMilli()), 25 * time.Second},
		"retry-after":   {"Retry-After", "7", 7 * time.Second},
		"none":          {"X-Other", "1", time.Minute},
		"capped":        {"Retry-After", "100000", 5 * time.Minute},
	}
	for name, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(c.header, c.value)
			w.WriteHeader(429)
			w.Write([]byte(`{"status":"error","error":{"code":"ThrottlerException","message":"Too many requests. Please try again later."}}`))
		}))
		cl, _ := calcom.New(calcom.Config{BaseURL: srv.URL, APIKey: "cal_x", Clock: booking.FixedClock(now), Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
		_, err := cl.GetBooking(context.Background(), "u")
		srv.Close()
		if got := calcom.RetryAfter(err); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

func TestCircuitBreaker(t *testing.T) {
	e := newEnv(t, calcomtest.Options{APIKeys: []string{calcomtest.DefaultAPIKey, "k1", "k2"}}, calcom.Config{Breaker: calcom.BreakerSettings{ConsecutiveFailures: 3, OpenFor: 100 * time.Millisecond}})
	ctx := context.Background()
	// Rejections prove Cal.com is up: they never open the breaker.
	for i := 0; i < 5; i++ {
		if _, err := e.client.GetBooking(ctx, "missing"); booking.KindOf(err) != booking.KindNotFound {
			t.Fatal(err)
		}
	}
	e.sb.FailNext(calcomtest.RouteSlots, 3, 503)
	for i := 0; i < 3; i++ {
		if _, err := e.client.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), ""); calcom.IsCircuitOpen(err) || booking.KindOf(err) != booking.KindTransient {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := e.client.GetBooking(ctx, "missing")
	if !calcom.IsCircuitOpen(err) || booking.KindOf(err) != booking.KindTransient || e.client.BreakerState() != "open" {
		t.Fatalf("breaker not open: %v", err)
	}
	if n := e.sb.Requests()[calcomtest.RouteGet]; n != 5 {
		t.Fatalf("open breaker still called Cal.com: %d get requests", n)
	}

	// Clients built for the same key share one breaker; other keys do not.
	reg := calcom.NewBreakerRegistry()
	a, _ := calcom.New(calcom.Config{BaseURL: e.sb.URL(), APIKey: "k1", Breaker: calcom.BreakerSettings{Registry: reg, ConsecutiveFailures: 1}})
	b, _ := calcom.New(calcom.Config{BaseURL: e.sb.URL(), APIKey: "k1", Breaker: calcom.BreakerSettings{Registry: reg}})
	c, _ := calcom.New(calcom.Config{BaseURL: e.sb.URL(), APIKey: "k2", Breaker: calcom.BreakerSettings{Registry: reg}})
	e.sb.FailNext(calcomtest.RouteGet, 1, 500)
	if _, err := a.GetBooking(ctx, "x"); booking.KindOf(err) != booking.KindTransient {
		t.Fatal(err)
	}
	if b.BreakerState() != "open" || c.BreakerState() != "closed" {
		t.Fatalf("breaker per key: same key %s, other key %s", b.BreakerState(), c.BreakerState())
	}

	// After OpenFor one probe is let through; its success closes the breaker.
	deadline := time.Now().Add(5 * time.Second)
	for e.client.BreakerState() == "open" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.client.Slots(ctx, 1001, at(2, 0, 0), at(3, 0, 0), ""); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if e.client.BreakerState() != "closed" {
		t.Fatalf("breaker %s after a successful probe", e.client.BreakerState())
	}
}

// 20 callers book the same start at once: exactly one wins.
func TestConcurrentCreateSameSlot(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, taken := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := maria
			a.Email = fmt.Sprintf("caller%d@example.com", i)
			_, err := e.client.CreateBooking(context.Background(), calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 16, 0), Attendee: a})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case calcom.IsSlotTaken(err):
				taken++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if ok != 1 || taken != 19 || len(e.sb.Bookings()) != 1 {
		t.Fatalf("ok=%d taken=%d bookings=%d", ok, taken, len(e.sb.Bookings()))
	}
}

func TestListBookingsPaginatesAndFilters(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	ctx := context.Background()
	var uids []string
	for i := 0; i < 5; i++ {
		b, err := e.client.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 1001, Start: at(2, 9+i, 0), Attendee: maria,
			Metadata: map[string]string{"idempotency_key": fmt.Sprint("k", i)}})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, b.UID)
	}
	if _, err := e.client.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: 2001, Start: at(2, 9, 0), Attendee: maria}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CancelBooking(ctx, uids[4], ""); err != nil {
		t.Fatal(err)
	}
	list, err := e.client.ListBookings(ctx, calcom.ListBookingsFilter{EventTypeIDs: []int64{1001}, Status: []string{calcom.ListUpcoming}, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Fatalf("got %d bookings, want 4 upcoming of event type 1001", len(list))
	}
	for i, b := range list {
		if b.UID != uids[i] {
			t.Fatalf("order/page %d: %s", i, b.UID)
		}
	}
	if e.rec.Count(opList, 200) != 2 {
		t.Fatalf("want 2 pages, validated %d list answers", e.rec.Count(opList, 200))
	}
	all, err := e.client.ListBookings(ctx, calcom.ListBookingsFilter{AfterStart: at(2, 10, 0), BeforeEnd: at(2, 12, 30)})
	if err != nil || len(all) != 3 {
		t.Fatalf("time window: %d %v", len(all), err)
	}
	cancelled, err := e.client.ListBookings(ctx, calcom.ListBookingsFilter{Status: []string{calcom.ListCancelled}})
	if err != nil || len(cancelled) != 1 || cancelled[0].UID != uids[4] {
		t.Fatalf("cancelled: %d %v", len(cancelled), err)
	}
	if _, ok, err := e.client.FindByMetadata(ctx, calcom.ListBookingsFilter{}, "idempotency_key", "nope"); ok || err != nil {
		t.Fatalf("found a booking that does not exist: %v", err)
	}
	bounded, err := e.client.ListBookings(ctx, calcom.ListBookingsFilter{PageSize: 1, MaxPages: 2})
	if booking.KindOf(err) != booking.KindInternal || bounded != nil {
		t.Fatalf("runaway pagination not bounded: %v", err)
	}
}

func TestObserveHook(t *testing.T) {
	var mu sync.Mutex
	var seen []calcom.Observation
	e := newEnv(t, calcomtest.Options{}, calcom.Config{Observe: func(o calcom.Observation) { mu.Lock(); seen = append(seen, o); mu.Unlock() }})
	e.client.Slots(context.Background(), 1001, at(2, 0, 0), at(3, 0, 0), "")
	e.client.GetBooking(context.Background(), "missing")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0].Endpoint != calcom.EndpointSlots || seen[0].Status != 200 || seen[0].Kind != "" ||
		seen[1].Status != 404 || seen[1].Kind != booking.KindNotFound {
		t.Fatalf("observations: %+v", seen)
	}
}

// Personal data never shows up in errors or in formatted values.
func assertNoPII(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{maria.Name, "Maria", maria.Email, maria.PhoneNumber, "4915112345678", "@sms.cal.com"} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks personal data: %v", err)
		}
	}
}

func TestAttendeeFormattingRedacts(t *testing.T) {
	b := calcom.Booking{UID: "u1", Attendees: []calcom.Attendee{maria}}
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%+v", b), fmt.Sprintf("%v", calcom.CreateBookingInput{Attendee: maria})} {
		if strings.Contains(s, "Maria") || strings.Contains(s, "example.com") || strings.Contains(s, "+49") {
			t.Fatalf("formatting leaks personal data: %s", s)
		}
	}
}

// BenchmarkSlotsSandbox: one Slots call end to end (HTTP on loopback,
// sandbox computing 14 days of a weekly schedule, client parsing).
func BenchmarkSlotsSandbox(b *testing.B) {
	sb := calcomtest.New(calcomtest.Options{Clock: booking.FixedClock(at(1, 8, 0))})
	defer sb.Close()
	if err := sb.AddEventType(calcomtest.EventType{ID: 1001, LengthMinutes: 30, TimeZone: "Europe/Berlin", Schedule: weekdays}); err != nil {
		b.Fatal(err)
	}
	c, err := calcom.New(calcom.Config{BaseURL: sb.URL(), APIKey: calcomtest.DefaultAPIKey, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.Slots(context.Background(), 1001, at(1, 0, 0), at(15, 0, 0), "Europe/Berlin")
		if err != nil || len(s) == 0 {
			b.Fatal(err)
		}
	}
}

// The booking.Calendar adapter: create, reschedule (new uid), cancel twice (idempotent).
func TestCalendarAdapter(t *testing.T) {
	e := newEnv(t, calcomtest.Options{}, calcom.Config{})
	cal := calcom.Calendar{ClientFor: func(context.Context, booking.Tenant) (*calcom.Client, error) { return e.client, nil }}
	ctx, tenant := context.Background(), booking.Tenant{ID: "salon-sonnenschein"}
	cb, err := cal.Create(ctx, tenant, booking.CreateBookingRequest{EventTypeID: 1001, Start: at(2, 9, 0), Name: "Maria Rossi", Phone: "+4915112345678", TimeZone: "Europe/Berlin", Language: "de", Metadata: map[string]string{"tenant": "salon-sonnenschein"}})
	if err != nil || cb.UID == "" || cb.Status != calcom.StatusAccepted || cb.Metadata["tenant"] != "salon-sonnenschein" {
		t.Fatalf("create: %+v %v", cb, err)
	}
	moved, err := cal.Reschedule(ctx, tenant, cb.UID, at(2, 10, 0), "")
	if err != nil || moved.UID == cb.UID || !moved.Start.Equal(at(2, 10, 0)) {
		t.Fatalf("reschedule: %+v %v", moved, err)
	}
	if err := cal.Cancel(ctx, tenant, moved.UID, "x"); err != nil {
		t.Fatal(err)
	}
	if err := cal.Cancel(ctx, tenant, moved.UID, "x"); err != nil {
		t.Fatalf("second cancel must be a no-op: %v", err)
	}
	s, err := cal.Slots(ctx, tenant, 1001, at(2, 0, 0), at(3, 0, 0), "Europe/Berlin")
	if err != nil || !contains(s, at(2, 9, 0)) || !contains(s, at(2, 10, 0)) {
		t.Fatalf("slots after cancel: %v", err)
	}
	e.sb.TimeoutAfterCreate(5 * time.Second)
	slow, _ := calcom.New(calcom.Config{BaseURL: e.sb.URL(), APIKey: calcomtest.DefaultAPIKey, WriteTimeout: 100 * time.Millisecond, Breaker: calcom.BreakerSettings{Registry: calcom.NewBreakerRegistry()}})
	cal.ClientFor = func(context.Context, booking.Tenant) (*calcom.Client, error) { return slow, nil }
	_, err = cal.Create(ctx, tenant, booking.CreateBookingRequest{EventTypeID: 1001, Start: at(2, 11, 0), Name: "A", Email: "a@example.com", TimeZone: "Europe/Berlin"})
	if !cal.UnknownOutcome(err) {
		t.Fatalf("unknown outcome not reported: %v", err)
	}
}
