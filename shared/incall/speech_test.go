package incall_test

import (
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/incall"
)

// What a first-time caller met, answered as a receptionist would.

func TestDatesThatNeedAQuestion(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})

	// "nächsten Samstag" said on a Friday: confirmed with the date, not
	// decided silently.
	s.e.Clock.Set(at(2027, 3, 5, 10, 0))
	fri := callCtx{ID: "call_fri", From: caller}
	a := s.do("check-availability", fri, map[string]any{"service": "Herrenhaarschnitt", "date": "nächsten Samstag", "time": "10 Uhr"})
	if a.OK || a.Reason != incall.ReasonUnclearDate || a.Message != "Also morgen, Samstag, den 6. März?" {
		t.Errorf("nächsten Samstag on a Friday: %+v", a)
	}
	// Confirmed as "morgen", it is answered.
	a = s.do("check-availability", fri, map[string]any{"service": "Herrenhaarschnitt", "date": "morgen", "time": "10 Uhr"})
	if a.Reason == incall.ReasonUnclearDate {
		t.Errorf("morgen after the confirmation: %+v", a)
	}
	// Booking on the unsure words is refused the same way.
	b := s.do("book-appointment", fri, map[string]any{"service": "Herrenhaarschnitt", "date": "nächsten Samstag", "time": "10 Uhr", "customer_name": "Erika Mustermann"})
	if b.OK || b.Reason != incall.ReasonUnclearDate || len(activeBookings(s.e.Sandbox)) != 0 {
		t.Errorf("booking on unsure words: %+v", b)
	}

	// "am 29. Februar" said in February 2027: no such day that year.
	s.e.Clock.Set(at(2027, 2, 10, 10, 0))
	feb := callCtx{ID: "call_feb", From: caller}
	a = s.do("check-availability", feb, map[string]any{"service": "Herrenhaarschnitt", "date": "am 29. Februar", "time": "10 Uhr"})
	want := "Den 29. Februar gibt es 2027 nicht. Meinen Sie Sonntag, den 28. Februar, oder Montag, den 1. März?"
	if a.Reason != incall.ReasonUnclearDate || a.Message != want {
		t.Errorf("29. Februar: %+v", a)
	}
	s.e.Clock.Set(at(2027, 3, 1, 9, 0))
	// A date more than six months ahead is read back with its year.
	a = s.do("check-availability", s.call("call_far"), map[string]any{"service": "Herrenhaarschnitt", "date": "15. Oktober", "time": "10 Uhr"})
	if !strings.Contains(a.Message, "15. Oktober 2027") {
		t.Errorf("far date without its year: %+v", a)
	}
	// Silvester is understood (a Friday in 2027).
	a = s.do("check-availability", s.call("call_nye"), map[string]any{"service": "Herrenhaarschnitt", "date": "an Silvester", "time": "10 Uhr"})
	if a.Reason == incall.ReasonUnclearDate || !strings.Contains(a.Requested, "2027-12-31") {
		t.Errorf("Silvester: %+v", a)
	}
}

func TestServiceQuestions(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})

	a := s.do("check-availability", s.call("call_svc"), map[string]any{"service": "Haarschnitt", "date": "morgen", "time": "10 Uhr"})
	if a.Reason != incall.ReasonUnknownService || a.Message != "Damen- oder Herrenhaarschnitt?" {
		t.Errorf("Haarschnitt: %+v", a)
	}
	// The tool description's own example finds services.
	a = s.do("list-services", s.call("call_svc"), map[string]any{"category": "Herren"})
	if !a.OK || len(a.Services) != 1 || a.Services[0].Name != "Herrenhaarschnitt" {
		t.Errorf("category Herren: %+v", a)
	}
	a = s.do("list-services", s.call("call_svc"), map[string]any{"category": "Haarschnitt"})
	if !a.OK || len(a.Services) != 2 {
		t.Errorf("category Haarschnitt: %+v", a)
	}
	// "Wie lange dauert Färben?": the duration, not a list.
	a = s.do("list-services", s.call("call_svc"), map[string]any{"service": "Färben"})
	if !a.OK || a.Message != "Färben dauert 2 Stunden und kostet 79 Euro." || len(a.Services) != 1 || a.Services[0].DurationMinutes != 120 {
		t.Errorf("duration: %+v", a)
	}
}

func TestWithheldNumberGivesCallbackNumber(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	anon := callCtx{ID: "call_anon_cb"}
	a := s.do("cancel-appointment", anon, map[string]any{})
	if a.Reason != incall.ReasonAnonymousCaller || !strings.HasSuffix(a.Message, "?") {
		t.Fatalf("anonymous: %+v", a)
	}
	a = s.do("cancel-appointment", anon, map[string]any{"customer_phone": "null eins fünf"})
	if a.Reason != incall.ReasonContactNeeded {
		t.Errorf("unusable number: %+v", a)
	}
	a = s.do("cancel-appointment", anon, map[string]any{"customer_phone": "0170 1234567"})
	if a.Reason != incall.ReasonAnonymousCaller || !strings.Contains(a.Message, "zurückrufen") {
		t.Errorf("callback number: %+v", a)
	}
	n := s.count(`SELECT COUNT(*) FROM callback_requests WHERE tenant_id = ? AND call_id = ? AND phone_enc IS NOT NULL`, tenantID, anon.ID)
	if n != 1 {
		t.Errorf("callback request with a sealed number: %d", n)
	}
	if s.count(`SELECT COUNT(*) FROM callback_requests WHERE tenant_id = ? AND phone_enc LIKE '%1234567%'`, tenantID) != 0 {
		t.Error("callback number stored in clear")
	}
}

func TestBookingSaysTheRuleAndWhoseBooking(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})

	// 6 h ahead under the demo's 24 h rule: said at booking time.
	b := s.book(s.call("call_soon"), "Herrenhaarschnitt", at(2027, 3, 1, 15, 0))
	if !strings.Contains(b.Message, "24 Stunden") || !strings.Contains(b.Message, "nicht mehr") {
		t.Errorf("binding rule not said: %q", b.Message)
	}
	// Days ahead: nothing to warn about.
	b = s.book(s.call("call_later"), "Herrenhaarschnitt", at(2027, 3, 4, 10, 0))
	if strings.Contains(b.Message, "Stunden") {
		t.Errorf("rule said although it does not bind: %q", b.Message)
	}

	// The same slot again in the same call under another name.
	a := s.do("book-appointment", s.call("call_later"), map[string]any{
		"service": "Herrenhaarschnitt", "date": "2027-03-04", "time": "10:00", "customer_name": "Max Muster"})
	if a.OK || a.Reason != incall.ReasonSlotTaken || strings.Contains(a.Message, "ist gebucht:") ||
		!strings.Contains(a.Message, "Erika Mustermann") || !strings.Contains(a.Message, "Max Muster") {
		t.Errorf("same slot, other name: %+v", a)
	}
	// The same name again is the stored answer.
	a = s.do("book-appointment", s.call("call_later"), map[string]any{
		"service": "Herrenhaarschnitt", "date": "2027-03-04", "time": "10:00", "customer_name": "Erika Mustermann"})
	if !a.OK {
		t.Errorf("repeat by the same name: %+v", a)
	}
	if n := len(activeBookings(s.e.Sandbox)); n != 2 {
		t.Errorf("%d bookings, want 2", n)
	}
}
