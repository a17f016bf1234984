package incall_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
)

// quietRedis silences go-redis' own pool log (the dead-Redis test makes it chatty).
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func init() { goredis.SetLogger(quietRedis{}) }

func bookArgs(service string, when time.Time) map[string]any {
	a := isoArgs(service, when)
	a["customer_name"] = "Erika Mustermann"
	return a
}

// activeAt lists the sandbox's active bookings of an event type at start.
func activeAt(s *sys, eventTypeID int64, start time.Time) []calcomtest.Booking {
	var out []calcomtest.Booking
	for _, b := range activeBookings(s.e.Sandbox) {
		if b.EventTypeID == eventTypeID && b.Start.Equal(start) {
			out = append(out, b)
		}
	}
	return out
}

func confirmedRows(s *sys) []apptRow {
	var out []apptRow
	for _, r := range s.appointments() {
		if r.Status == string(booking.StatusConfirmed) {
			out = append(out, r)
		}
	}
	return out
}

func TestBookCheckThenBook(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	tue14 := at(2027, 3, 2, 14, 0)
	c := s.call("call_book_1")

	a := s.do("check-availability", c, isoArgs("Herrenhaarschnitt", tue14))
	if !a.OK {
		t.Fatalf("check: %+v", a)
	}
	b := s.do("book-appointment", c, bookArgs("Herrenhaarschnitt", tue14))
	if !b.OK || b.Appointment == nil || b.Appointment.Status != "confirmed" || b.Appointment.Start != "2027-03-02T14:00:00+01:00" ||
		b.Appointment.End != "2027-03-02T14:30:00+01:00" || b.Appointment.Service != "Herrenhaarschnitt" {
		t.Fatalf("book: %+v %+v", b, b.Appointment)
	}
	mentionsWhen(t, b.Message, tue14, s)

	// Cal.com requests per booked call: one slots read (the check) and the create.
	req := s.e.Sandbox.Requests()
	if n := req[calcomtest.RouteSlots] + req[calcomtest.RouteCreate]; n > 2 {
		t.Errorf("check + book made %d Cal.com requests (%v), want ≤ 2", n, req)
	}

	bs := activeAt(s, etHerren, tue14)
	if len(bs) != 1 {
		t.Fatalf("sandbox has %d bookings at 14:00, want 1", len(bs))
	}
	got := bs[0]
	if got.Attendee.PhoneNumber != caller || got.Attendee.Email != "" || got.Attendee.Name != "Erika Mustermann" ||
		got.Attendee.TimeZone != "Europe/Berlin" || got.Attendee.Language != "de" {
		t.Errorf("attendee sent to Cal.com: %+v (never an invented email)", got.Attendee)
	}
	for _, k := range []string{"retell_call_id", "tenant", "idempotency_key"} {
		if got.Metadata[k] == "" {
			t.Errorf("metadata %s missing: %v", k, got.Metadata)
		}
	}
	if got.Metadata["retell_call_id"] != "call_book_1" || got.Metadata["tenant"] != tenantID {
		t.Errorf("metadata: %v", got.Metadata)
	}
	rows := s.appointments()
	if len(rows) != 1 || rows[0].Status != "confirmed" || rows[0].UID != got.UID || rows[0].CallID != "call_book_1" || rows[0].Key != got.Metadata["idempotency_key"] {
		t.Fatalf("rows: %+v", rows)
	}
	if rows[0].ID != b.Appointment.ID {
		t.Errorf("answer names appointment %d, row is %d", b.Appointment.ID, rows[0].ID)
	}
	// The customer is stored (encrypted) under the exact calling number.
	cust, err := s.e.Store.FindCustomerByPhone(t.Context(), tenantID, caller)
	if err != nil || cust.Name != "Erika Mustermann" || rows[0].Customer != cust.ID {
		t.Fatalf("customer: %+v %v (row customer %d)", cust, err, rows[0].Customer)
	}
	if n := s.count(`SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND phone_enc LIKE ?`, tenantID, "%"+caller[1:]+"%"); n != 0 {
		t.Errorf("phone number stored in clear")
	}
	if s.changes("booked") != 1 {
		t.Errorf("no 'booked' audit row")
	}
	// The slot is gone for the next caller, without a stale cache.
	a = s.do("check-availability", s.call("call_book_2"), isoArgs("Herrenhaarschnitt", tue14))
	if a.Reason != incall.ReasonSlotTaken {
		t.Fatalf("after booking: %+v", a)
	}
	if strings.Contains(s.e.Logs.String(), caller) || strings.Contains(s.e.Logs.String(), "Mustermann") {
		t.Errorf("personal data in the logs")
	}
}

func TestBookRace(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	raceSameSlot(t, s)
}

// raceSameSlot: 20 different calls book the same slot at once.
func raceSameSlot(t *testing.T, s *sys) {
	tue14 := at(2027, 3, 2, 14, 0)
	const n = 20
	answers := make([]incall.Answer, n)
	var wg sync.WaitGroup
	startGun := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := callCtx{ID: fmt.Sprintf("call_race_%02d", i), From: fmt.Sprintf("+49151000000%02d", i)}
			<-startGun
			answers[i] = s.do("book-appointment", c, bookArgs("Herrenhaarschnitt", tue14))
		}()
	}
	close(startGun)
	wg.Wait()
	booked, taken := 0, 0
	for i, a := range answers {
		switch {
		case a.OK:
			booked++
		case a.Reason == incall.ReasonSlotTaken:
			taken++
			if len(a.Alternatives) == 0 {
				t.Errorf("call %d: slot_taken without alternatives: %+v", i, a)
			}
		default:
			t.Errorf("call %d: unexpected answer %+v", i, a)
		}
	}
	if booked != 1 || taken != n-1 {
		t.Fatalf("%d booked, %d slot_taken; want 1 and %d", booked, taken, n-1)
	}
	if got := activeAt(s, etHerren, tue14); len(got) != 1 {
		t.Fatalf("sandbox holds %d bookings at the slot, want exactly 1", len(got))
	}
	if got := confirmedRows(s); len(got) != 1 {
		t.Fatalf("MySQL holds %d confirmed rows, want exactly 1", len(got))
	}
}

func TestBookReplay(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	replay(t, s)
}

// replay: the same book request 5× sequentially and 5× concurrently.
func replay(t *testing.T, s *sys) {
	rowsBefore := len(confirmedRows(s))
	createsBefore := s.requests(calcomtest.RouteCreate)
	for _, mode := range []string{"sequential", "concurrent"} {
		when := at(2027, 3, 3, 10, 0)
		if mode == "concurrent" {
			when = at(2027, 3, 3, 11, 0)
		}
		c := s.call("call_replay_" + mode)
		body := s.envelope("book-appointment", c, bookArgs("Herrenhaarschnitt", when))
		bodies := make([]string, 5)
		statuses := make([]int, 5)
		if mode == "sequential" {
			for i := range bodies {
				statuses[i], bodies[i] = s.raw("book-appointment", body, "")
			}
		} else {
			var wg sync.WaitGroup
			for i := range bodies {
				wg.Add(1)
				go func() { defer wg.Done(); statuses[i], bodies[i] = s.raw("book-appointment", body, "") }()
			}
			wg.Wait()
		}
		for i := range bodies {
			if statuses[i] != http.StatusOK || bodies[i] != bodies[0] {
				t.Errorf("%s replay %d: status %d, body %s; first was %s", mode, i, statuses[i], bodies[i], bodies[0])
			}
		}
		if a := s.decode(bodies[0]); !a.OK {
			t.Fatalf("%s: not booked: %+v", mode, a)
		}
		if got := activeAt(s, etHerren, when); len(got) != 1 {
			t.Fatalf("%s: %d bookings in the sandbox, want 1", mode, len(got))
		}
	}
	if got := len(confirmedRows(s)) - rowsBefore; got != 2 {
		t.Fatalf("%d new confirmed rows, want 2", got)
	}
	if n := s.requests(calcomtest.RouteCreate) - createsBefore; n != 2 {
		t.Errorf("%d create requests for 2 bookings", n)
	}
}

func TestBookWithoutRedis(t *testing.T) {
	t.Parallel()
	t.Run("not configured", func(t *testing.T) {
		s := newSys(t, apptest.Options{NoRedis: true})
		raceSameSlot(t, s)
		replay(t, s)
	})
	t.Run("down", func(t *testing.T) {
		// A Redis that refuses connections: every cache, lock and mirror
		// fails; MySQL and Cal.com still give exactly once.
		o := apptest.Options{DBName: dbName(t)}
		s := newSys(t, o)
		dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { dead.Close() })
		s.e.Deps.Redis = dead
		s.rebuild()
		raceSameSlot(t, s)
		replay(t, s)
	})
}

func TestBookUnknownOutcome(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		fault func(sb *calcomtest.Sandbox)
	}{
		{"timeout after create", func(sb *calcomtest.Sandbox) { sb.TimeoutAfterCreate(10 * time.Second) }},
		{"500 after commit", func(sb *calcomtest.Sandbox) {
			sb.InjectFault(calcomtest.RouteCreate, calcomtest.Fault{AfterCommit: true, Status: 500})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSys(t, apptest.Options{})
			when := at(2027, 3, 4, 15, 0)
			s.do("check-availability", s.call("call_unknown"), isoArgs("Herrenhaarschnitt", when))
			c.fault(s.e.Sandbox)
			a := s.do("book-appointment", s.call("call_unknown"), bookArgs("Herrenhaarschnitt", when))
			assertPending(t, s, a, when)
			// A retry of the same request says the same, and books nothing new.
			b := s.do("book-appointment", s.call("call_unknown"), bookArgs("Herrenhaarschnitt", when))
			if b.Reason != incall.ReasonPendingConfirmation || b.Message != a.Message {
				t.Errorf("replay: %+v", b)
			}
			if n := len(s.jobs.OfType(booking.JobCreateBooking)); n != 1 {
				t.Errorf("%d completion jobs after the replay, want 1", n)
			}
		})
	}
}

// assertPending checks the unknown-outcome answer and state: an honest
// pending_confirmation, the row pending, exactly one booking in Cal.com
// (made before the answer was lost) and a completion job queued that can
// find it by our idempotency key.
func assertPending(t *testing.T, s *sys, a incall.Answer, when time.Time) {
	t.Helper()
	if a.OK || a.Reason != incall.ReasonPendingConfirmation || a.Appointment != nil {
		t.Fatalf("got %+v", a)
	}
	mentionsWhen(t, a.Message, when, s)
	if strings.Contains(a.Message, "gebucht") {
		t.Errorf("pending answer claims a booking: %q", a.Message)
	}
	rows := s.appointments()
	if len(rows) != 1 || rows[0].Status != "pending" || rows[0].Key == "" {
		t.Fatalf("rows: %+v", rows)
	}
	if got := activeAt(s, etHerren, when); len(got) != 1 || got[0].Metadata["idempotency_key"] != rows[0].Key {
		t.Fatalf("sandbox: %+v", got)
	}
	jobs := s.jobs.OfType(booking.JobCreateBooking)
	if len(jobs) != 1 {
		t.Fatalf("%d %s jobs, want 1", len(jobs), booking.JobCreateBooking)
	}
	var p incall.CreateBookingJob
	if err := json.Unmarshal(jobs[0].Payload, &p); err != nil {
		t.Fatalf("job payload: %v", err)
	}
	if p.AppointmentID != rows[0].ID || len(p.Requests) != 1 || p.Requests[0].Metadata["idempotency_key"] != rows[0].Key ||
		!p.Requests[0].Start.Equal(when) || jobs[0].TenantID != tenantID {
		t.Errorf("job: %+v %+v", jobs[0], p)
	}
	if s.e.Queue.Depth() != 1 {
		t.Errorf("queue depth %d, want 1", s.e.Queue.Depth())
	}
}

func TestBookCalendarDown(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	when := at(2027, 3, 4, 15, 0)

	// Cal.com answers 500 to the slots read, before anything was booked.
	s.e.Sandbox.FailNext(calcomtest.RouteSlots, 1, 500)
	a := s.do("book-appointment", s.call("call_down"), bookArgs("Herrenhaarschnitt", when))
	if a.OK || a.Reason != incall.ReasonCalendarUnavailable {
		t.Fatalf("got %+v", a)
	}
	if s.callbacks(incall.ReasonCalendarUnavailable) != 1 {
		t.Errorf("no callback request recorded")
	}
	if len(s.appointments()) != 0 || len(activeBookings(s.e.Sandbox)) != 0 {
		t.Errorf("something was booked")
	}
	// The key was released: once Cal.com is back, the same request books.
	a = s.do("book-appointment", s.call("call_down"), bookArgs("Herrenhaarschnitt", when))
	if !a.OK {
		t.Fatalf("after recovery: %+v", a)
	}

	// A create refused with 500 is an unknown outcome (Cal.com may have
	// stored it): pending, never "failed" nor "booked".
	when2 := at(2027, 3, 4, 16, 0)
	s.e.Sandbox.FailNext(calcomtest.RouteCreate, 1, 500)
	a = s.do("book-appointment", s.call("call_down_2"), bookArgs("Herrenhaarschnitt", when2))
	if a.Reason != incall.ReasonPendingConfirmation {
		t.Fatalf("create 500: %+v", a)
	}
}

func TestBookCircuitOpen(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	s.e.Sandbox.FailNext(calcomtest.RouteSlots, 5, 503)
	for i := range 5 {
		a := s.do("check-availability", s.call(fmt.Sprintf("call_cb_%d", i)), isoArgs("Herrenhaarschnitt", at(2027, 3, 4, 15, 0)))
		if a.Reason != incall.ReasonCalendarUnavailable {
			t.Fatalf("failure %d: %+v", i, a)
		}
	}
	before := s.e.Sandbox.Requests()
	started := time.Now()
	a := s.do("book-appointment", s.call("call_cb_book"), bookArgs("Herrenhaarschnitt", at(2027, 3, 4, 15, 0)))
	took := time.Since(started)
	if a.Reason != incall.ReasonCalendarUnavailable {
		t.Fatalf("circuit open: %+v", a)
	}
	if took > 2500*time.Millisecond {
		t.Errorf("answer took %v, over the 2.5 s budget", took)
	}
	after := s.e.Sandbox.Requests()
	if after[calcomtest.RouteSlots] != before[calcomtest.RouteSlots] || after[calcomtest.RouteCreate] != 0 {
		t.Errorf("Cal.com was called although the circuit is open: %v → %v", before, after)
	}
	if s.callbacks(incall.ReasonCalendarUnavailable) < 1 {
		t.Errorf("no callback request")
	}
}

func TestBookCalendarTooSlow(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	// Every Cal.com request takes longer than the read timeout.
	s.e.Sandbox.SetLatency(3 * time.Second)
	started := time.Now()
	a := s.do("book-appointment", s.call("call_slow"), bookArgs("Herrenhaarschnitt", at(2027, 3, 4, 15, 0)))
	took := time.Since(started)
	if a.Reason != incall.ReasonCalendarUnavailable {
		t.Fatalf("got %+v", a)
	}
	if took > 2500*time.Millisecond {
		t.Errorf("answer took %v, over the 2.5 s budget", took)
	}
}

func TestBookSuppressedNumber(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	when := at(2027, 3, 4, 11, 0)
	for _, from := range []string{"", "anonymous"} {
		a := s.do("book-appointment", callCtx{ID: "call_anon", From: from}, bookArgs("Herrenhaarschnitt", when))
		if a.OK || a.Reason != incall.ReasonContactNeeded || !strings.HasSuffix(a.Message, "?") {
			t.Fatalf("from %q: %+v", from, a)
		}
	}
	args := bookArgs("Herrenhaarschnitt", when)
	args["customer_phone"] = "0151 2345 6789"
	a := s.do("book-appointment", callCtx{ID: "call_anon"}, args)
	if !a.OK {
		t.Fatalf("with customer_phone: %+v", a)
	}
	bs := activeAt(s, etHerren, when)
	if len(bs) != 1 || bs[0].Attendee.PhoneNumber != "+4915123456789" || bs[0].Attendee.Email != "" {
		t.Fatalf("sandbox: %+v", bs)
	}
	// An email alone is enough too (spaces from speech-to-text removed).
	args = bookArgs("Herrenhaarschnitt", when.Add(time.Hour))
	args["customer_email"] = "erika.muster mann@example.de"
	a = s.do("book-appointment", callCtx{ID: "call_anon_2", From: "anonymous"}, args)
	if !a.OK {
		t.Fatalf("with customer_email: %+v", a)
	}
	bs = activeAt(s, etHerren, when.Add(time.Hour))
	if len(bs) != 1 || bs[0].Attendee.Email != "erika.mustermann@example.de" || bs[0].Attendee.PhoneNumber != "" {
		t.Fatalf("sandbox: %+v", bs)
	}
	// A name is needed for a new caller.
	args = isoArgs("Herrenhaarschnitt", when.Add(2*time.Hour))
	a = s.do("book-appointment", callCtx{ID: "call_noname", From: other}, args)
	if a.Reason != incall.ReasonContactNeeded {
		t.Fatalf("without name: %+v", a)
	}
}

func TestBookComposite(t *testing.T) {
	t.Parallel()

	t.Run("both segments", func(t *testing.T) {
		t.Parallel()
		s := newSys(t, apptest.Options{})
		wed10 := at(2027, 3, 3, 10, 0)
		a := s.do("book-appointment", s.call("call_color"), bookArgs("Färben", wed10))
		if !a.OK || a.Appointment.End != "2027-03-03T12:00:00+01:00" {
			t.Fatalf("got %+v", a)
		}
		if len(activeAt(s, etFarbe, wed10)) != 1 || len(activeAt(s, etWaesch, wed10.Add(90*time.Minute))) != 1 {
			t.Fatalf("segments in the sandbox: %+v", activeBookings(s.e.Sandbox))
		}
		var segs int
		segs = s.count(`SELECT COUNT(*) FROM appointment_segments WHERE tenant_id = ? AND status = 'confirmed' AND calcom_uid IS NOT NULL`, tenantID)
		if segs != 2 {
			t.Errorf("%d confirmed segments with uids, want 2", segs)
		}
	})

	t.Run("second segment refused", func(t *testing.T) {
		t.Parallel()
		s := newSys(t, apptest.Options{})
		wed10 := at(2027, 3, 3, 10, 0)
		s.do("check-availability", s.call("call_color"), isoArgs("Färben", wed10)) // caches: both free
		s.block(etWaesch, wed10.Add(90*time.Minute))                               // taken online meanwhile
		a := s.do("book-appointment", s.call("call_color"), bookArgs("Färben", wed10))
		if a.OK || a.Reason != incall.ReasonSlotTaken || len(a.Alternatives) == 0 {
			t.Fatalf("got %+v", a)
		}
		if got := activeAt(s, etFarbe, wed10); len(got) != 0 {
			t.Fatalf("first segment not compensated: %+v", got)
		}
		for _, r := range s.appointments() {
			if r.Status == "confirmed" || r.Status == "pending" {
				t.Errorf("row %+v still active", r)
			}
		}
	})

	t.Run("compensation fails and is queued", func(t *testing.T) {
		t.Parallel()
		s := newSys(t, apptest.Options{})
		wed10 := at(2027, 3, 3, 10, 0)
		s.do("check-availability", s.call("call_color"), isoArgs("Färben", wed10))
		s.block(etWaesch, wed10.Add(90*time.Minute))
		s.e.Sandbox.FailNext(calcomtest.RouteCancel, 1, 503)
		a := s.do("book-appointment", s.call("call_color"), bookArgs("Färben", wed10))
		if a.OK {
			t.Fatalf("got %+v", a)
		}
		jobs := s.jobs.OfType(booking.JobCompensate)
		if len(jobs) != 1 {
			t.Fatalf("%d compensation jobs, want 1", len(jobs))
		}
		var p incall.CompensateJob
		if err := json.Unmarshal(jobs[0].Payload, &p); err != nil || len(p.UIDs) != 1 {
			t.Fatalf("payload %+v %v", p, err)
		}
		if b, ok := s.e.Sandbox.Booking(p.UIDs[0]); !ok || b.EventTypeID != etFarbe {
			t.Errorf("job names %v, want the first segment's booking", p.UIDs)
		}
	})
}

func TestBookSlowCalendarWithinBudget(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	// Slow, but check + create fit in the budget: the bookkeeping after the
	// create must still happen (its own deadline starts after Cal.com).
	s.e.Sandbox.SetLatency(700 * time.Millisecond)
	when := at(2027, 3, 4, 15, 0)
	a := s.do("book-appointment", s.call("call_slowish"), bookArgs("Herrenhaarschnitt", when))
	if !a.OK {
		t.Fatalf("got %+v", a)
	}
	rows := s.appointments()
	if len(rows) != 1 || rows[0].Status != "confirmed" || rows[0].UID == "" {
		t.Fatalf("answer says booked, rows say %+v", rows)
	}
	if s.changes("booked") != 1 {
		t.Errorf("no audit row")
	}
}
