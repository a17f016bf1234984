package incall_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/spoken"
	"github.com/telefonagent/gateway/shared/tenantfile"
)

// The clock of every test starts on Monday 2027-03-01 09:00 in Berlin
// (apptest.DefaultNow). The demo branch is open Mon–Fri 09–18, Sat 09–14,
// needs 30 minutes notice; the sandbox offers every half hour.

const (
	etHerren = 1001 // Herrenhaarschnitt, 30 min
	etDamen  = 1002 // Damenhaarschnitt, 60 min
	etFarbe  = 1003 // Färben segment 1, 45 min (then 45 min gap)
	etWaesch = 1004 // Färben segment 2, 30 min, starts 90 min after segment 1
)

// block books start of an event type directly in the sandbox, as if
// someone had booked online.
func (s *sys) block(eventTypeID int64, start time.Time) calcomtest.Booking {
	s.t.Helper()
	b, err := s.e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: eventTypeID, Start: start,
		Attendee: calcom.Attendee{Name: "Online Kundin", Email: "online@example.com", TimeZone: "Europe/Berlin"}}, false)
	if err != nil {
		s.t.Fatalf("block: %v", err)
	}
	return b
}

func starts(t *testing.T, alts []incall.Alternative) []time.Time {
	t.Helper()
	var out []time.Time
	for _, a := range alts {
		ts, err := time.Parse(time.RFC3339, a.Start)
		if err != nil {
			t.Fatalf("alternative start %q: %v", a.Start, err)
		}
		out = append(out, ts)
	}
	return out
}

func wantStarts(t *testing.T, a incall.Answer, want ...time.Time) {
	t.Helper()
	got := starts(t, a.Alternatives)
	if len(got) != len(want) {
		t.Fatalf("alternatives %v, want %v", a.Alternatives, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("alternative %d = %s, want %s (all: %v)", i, got[i].In(berlin), want[i], a.Alternatives)
		}
	}
	for i, alt := range a.Alternatives {
		if alt.Spoken != spokenDE(want[i]) && alt.Spoken != spokenEN(want[i]) {
			t.Errorf("alternative %d spoken %q, want %q", i, alt.Spoken, spokenDE(want[i]))
		}
		// Every alternative is said: its day (once per day) and its time.
		st := want[i].In(berlin)
		if !strings.Contains(a.Message, spoken.SpokenTime(st, berlin, "de")) && !strings.Contains(a.Message, spoken.SpokenTime(st, berlin, "en")) {
			t.Errorf("message %q does not offer the time of %q", a.Message, alt.Spoken)
		}
		if !strings.Contains(a.Message, fmt.Sprintf("den %d.", st.Day())) && !strings.Contains(a.Message, fmt.Sprintf(" %d", st.Day())) {
			t.Errorf("message %q does not name the day of %q", a.Message, alt.Spoken)
		}
	}
}

func TestCheckAvailability(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	tue14 := at(2027, 3, 2, 14, 0)

	t.Run("free slot", func(t *testing.T) {
		a := s.do("check-availability", s.call("call_free"), isoArgs("Herrenhaarschnitt", tue14))
		if !a.OK || a.Available == nil || !*a.Available || a.Requested != "2027-03-02T14:00:00+01:00" {
			t.Fatalf("got %+v", a)
		}
		mentionsWhen(t, a.Message, tue14, s)
	})

	t.Run("spoken German and synonyms", func(t *testing.T) {
		// "morgen" from the call's start, "um 2" = 14:00 (1–7 means the afternoon).
		a := s.do("check-availability", s.call("call_spoken"), map[string]any{"service": "Männerhaarschnitt", "date": "morgen", "time": "um 2"})
		if !a.OK || a.Requested != "2027-03-02T14:00:00+01:00" {
			t.Fatalf("got %+v", a)
		}
		a = s.do("check-availability", s.call("call_spoken"), map[string]any{"dienstleistung": "herrenschnitt", "datum": "Dienstag", "uhrzeit": "halb drei"})
		if !a.OK || a.Requested != "2027-03-02T14:30:00+01:00" {
			t.Fatalf("got %+v", a)
		}
	})

	t.Run("exact start only", func(t *testing.T) {
		// Scenario 23: a slot at 14:00 does not make 14:15 available (no
		// "±15 minutes counts" as in the original).
		a := s.do("check-availability", s.call("call_exact"), isoArgs("Herrenhaarschnitt", at(2027, 3, 2, 14, 15)))
		if a.OK || a.Reason != incall.ReasonSlotTaken || a.Requested != "2027-03-02T14:15:00+01:00" {
			t.Fatalf("got %+v", a)
		}
		wantStarts(t, a, at(2027, 3, 2, 14, 0), at(2027, 3, 2, 14, 30), at(2027, 3, 2, 13, 30))
	})

	t.Run("unknown service lists services", func(t *testing.T) {
		a := s.do("check-availability", s.call("call_unknown"), map[string]any{"service": "Dauerwelle", "date": "morgen", "time": "10 Uhr"})
		if a.OK || a.Reason != incall.ReasonUnknownService {
			t.Fatalf("got %+v", a)
		}
		for _, n := range []string{"Herrenhaarschnitt", "Damenhaarschnitt", "Färben"} {
			if !strings.Contains(a.Message, n) {
				t.Errorf("message %q does not list %s", a.Message, n)
			}
		}
	})

	t.Run("unclear date and time ask back", func(t *testing.T) {
		for _, c := range []struct{ date, clock, reason string }{
			{"irgendwann", "10 Uhr", incall.ReasonUnclearDate},
			{"nicht morgen", "10 Uhr", incall.ReasonUnclearDate},
			{"", "14 Uhr", incall.ReasonUnclearDate}, // a time without a date is never "today"
			{"morgen", "gegen Feierabend", incall.ReasonUnclearTime},
			{"31.02.2027", "10 Uhr", incall.ReasonUnclearDate},
			{"28.03.2027", "02:30", incall.ReasonUnclearTime}, // spring-forward gap: the time does not exist
		} {
			a := s.do("check-availability", s.call("call_unclear"), map[string]any{"service": "Herrenhaarschnitt", "date": c.date, "time": c.clock})
			if a.OK || a.Reason != c.reason || a.Requested != "" || !strings.HasSuffix(a.Message, "?") {
				t.Errorf("%q %q: got %+v, want %s with a question", c.date, c.clock, a, c.reason)
			}
		}
	})
}

func TestCheckAvailabilityTakenRanksAlternatives(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	tue14 := at(2027, 3, 2, 14, 0)

	// Same day, nearest first (ties: earlier first).
	s.block(etHerren, tue14)
	a := s.do("check-availability", s.call("call_taken"), isoArgs("Herrenhaarschnitt", tue14))
	if a.OK || a.Reason != incall.ReasonSlotTaken || a.Available == nil || *a.Available || a.Requested != "2027-03-02T14:00:00+01:00" {
		t.Fatalf("got %+v", a)
	}
	wantStarts(t, a, at(2027, 3, 2, 13, 30), at(2027, 3, 2, 14, 30), at(2027, 3, 2, 13, 0))
	// The day is named once, in the offer; the refusal names the time.
	want := "Um vierzehn Uhr ist leider schon vergeben. Am Dienstag, den 2. März kann ich Ihnen dreizehn Uhr, halb zwei oder halb drei anbieten."
	if a.Message != want {
		t.Errorf("message\n got %q\nwant %q", a.Message, want)
	}

	// The whole day taken: the same time on the following days.
	for m := 9 * 60; m < 18*60; m += 30 {
		if m != 14*60 {
			s.block(etHerren, at(2027, 3, 2, m/60, m%60))
		}
	}
	s.invalidateSlots()
	a = s.do("check-availability", s.call("call_taken"), isoArgs("Herrenhaarschnitt", tue14))
	wantStarts(t, a, at(2027, 3, 3, 14, 0), at(2027, 3, 4, 14, 0), at(2027, 3, 5, 14, 0))
	want = "Dienstag, den 2. März, um vierzehn Uhr ist leider schon vergeben. Ich kann Ihnen am Mittwoch, den 3., Donnerstag, den 4. oder Freitag, den 5., jeweils um vierzehn Uhr anbieten."
	if a.Message != want {
		t.Errorf("message\n got %q\nwant %q", a.Message, want)
	}

	// 14:00 taken on every day of the next two weeks: the next free slots.
	for d := 3; d <= 16; d++ {
		day := at(2027, 3, d, 14, 0)
		if day.Weekday() != time.Sunday && day.Weekday() != time.Saturday {
			s.block(etHerren, day)
		}
	}
	s.invalidateSlots()
	a = s.do("check-availability", s.call("call_taken"), isoArgs("Herrenhaarschnitt", tue14))
	wantStarts(t, a, at(2027, 3, 3, 9, 0), at(2027, 3, 3, 9, 30), at(2027, 3, 3, 10, 0))
}

func TestCheckAvailabilityPreferenceRestrictsAlternatives(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	tue14 := at(2027, 3, 2, 14, 0)
	s.block(etHerren, tue14)

	args := isoArgs("Herrenhaarschnitt", tue14)
	args["time_preference"] = "vormittags"
	a := s.do("check-availability", s.call("call_pref"), args)
	if a.Reason != incall.ReasonSlotTaken {
		t.Fatalf("got %+v", a)
	}
	wantStarts(t, a, at(2027, 3, 2, 11, 30), at(2027, 3, 2, 11, 0), at(2027, 3, 2, 10, 30))

	// "nachmittags" has one definition, 12:00–18:00, whether it comes as
	// the preference argument or in place of a time.
	for _, args := range []map[string]any{
		{"service": "Herrenhaarschnitt", "date": "morgen", "time_preference": "nachmittags"},
		{"service": "Herrenhaarschnitt", "date": "morgen", "time": "nachmittags"},
		{"service": "Herrenhaarschnitt", "date": "morgen nachmittags"},
	} {
		a := s.do("check-availability", s.call("call_pref"), args)
		if !a.OK || len(a.Alternatives) == 0 {
			t.Fatalf("%v: got %+v", args, a)
		}
		for _, st := range starts(t, a.Alternatives) {
			l := st.In(berlin)
			if l.Day() != 2 || l.Hour() < 12 || l.Hour() >= 18 {
				t.Errorf("%v: %s is not Tuesday afternoon", args, l)
			}
		}
	}
}

func TestCheckAvailabilityClosedSoonPast(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})

	t.Run("Sunday", func(t *testing.T) {
		sun := at(2027, 3, 7, 10, 0)
		a := s.do("check-availability", s.call("call_closed"), isoArgs("Herrenhaarschnitt", sun))
		if a.OK || a.Reason != incall.ReasonClosed || a.Requested != "2027-03-07T10:00:00+01:00" {
			t.Fatalf("got %+v", a)
		}
		wantStarts(t, a, at(2027, 3, 8, 10, 0), at(2027, 3, 9, 10, 0), at(2027, 3, 10, 10, 0))
		if !strings.HasPrefix(a.Message, "Am Sonntag, den 7. März haben wir geschlossen.") {
			t.Errorf("closed message does not say the day is closed: %q", a.Message)
		}
	})
	t.Run("19:00", func(t *testing.T) {
		a := s.do("check-availability", s.call("call_closed"), isoArgs("Herrenhaarschnitt", at(2027, 3, 2, 19, 0)))
		if a.Reason != incall.ReasonClosed {
			t.Fatalf("got %+v", a)
		}
		wantStarts(t, a, at(2027, 3, 2, 17, 30), at(2027, 3, 2, 17, 0), at(2027, 3, 2, 16, 30))
		if !strings.HasPrefix(a.Message, "Um neunzehn Uhr haben wir geschlossen, geöffnet ist von 9 bis 18 Uhr.") {
			t.Errorf("closed message without the day's hours: %q", a.Message)
		}
	})
	t.Run("runs past closing", func(t *testing.T) {
		// 60 minutes at Saturday 13:30 would end after 14:00.
		a := s.do("check-availability", s.call("call_closed"), isoArgs("Damenhaarschnitt", at(2027, 3, 6, 13, 30)))
		if a.Reason != incall.ReasonClosed {
			t.Fatalf("got %+v", a)
		}
		for _, st := range starts(t, a.Alternatives) {
			if l := st.In(berlin); l.Weekday() == time.Saturday && l.Hour()*60+l.Minute() > 13*60 {
				t.Errorf("offered %s, which runs past Saturday closing", l)
			}
		}
	})
	t.Run("too soon", func(t *testing.T) {
		// Scenario 29: notice is inclusive — 09:30 is exactly 30 minutes ahead.
		a := s.do("check-availability", s.call("call_soon"), isoArgs("Herrenhaarschnitt", at(2027, 3, 1, 9, 0)))
		if a.Reason != incall.ReasonTooSoon && a.Reason != incall.ReasonPast {
			t.Fatalf("09:00 at 09:00: got %+v", a)
		}
		a = s.do("check-availability", s.call("call_soon"), map[string]any{"service": "Herrenhaarschnitt", "date": "heute", "time": "09:15"})
		if a.OK || a.Reason != incall.ReasonTooSoon || a.Requested != "2027-03-01T09:15:00+01:00" {
			t.Fatalf("09:15: got %+v", a)
		}
		if !strings.Contains(a.Message, "30 Minuten") {
			t.Errorf("too-soon message without the notice: %q", a.Message)
		}
		for _, st := range starts(t, a.Alternatives) {
			if st.Before(at(2027, 3, 1, 9, 30)) {
				t.Errorf("offered %s inside the notice", st.In(berlin))
			}
		}
		a = s.do("check-availability", s.call("call_soon"), map[string]any{"service": "Herrenhaarschnitt", "date": "heute", "time": "09:30"})
		if !a.OK {
			t.Fatalf("09:30 (exactly the notice): got %+v", a)
		}
	})
	t.Run("past is never moved forward", func(t *testing.T) {
		a := s.do("check-availability", s.call("call_past"), isoArgs("Herrenhaarschnitt", at(2027, 2, 26, 14, 0)))
		if a.OK || a.Reason != incall.ReasonPast || a.Requested != "2027-02-26T14:00:00+01:00" {
			t.Fatalf("got %+v", a)
		}
		for _, st := range starts(t, a.Alternatives) {
			if st.Before(at(2027, 3, 1, 9, 30)) {
				t.Errorf("offered %s in the past or inside the notice", st.In(berlin))
			}
		}
		// A past day without a time is past too, not silently the next free day.
		a = s.do("check-availability", s.call("call_past"), map[string]any{"service": "Herrenhaarschnitt", "date": "26.02.2027"})
		if a.OK || a.Reason != incall.ReasonPast {
			t.Fatalf("past day: got %+v", a)
		}
	})
}

func TestCheckAvailabilityDateWithoutTime(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})

	a := s.do("check-availability", s.call("call_day"), map[string]any{"service": "Herrenhaarschnitt", "date": "morgen"})
	if !a.OK || a.Requested != "" {
		t.Fatalf("got %+v", a)
	}
	wantStarts(t, a, at(2027, 3, 2, 9, 0), at(2027, 3, 2, 13, 0), at(2027, 3, 2, 17, 30))

	// Sunday is closed: the next open day, and the answer says so.
	a = s.do("check-availability", s.call("call_day"), map[string]any{"service": "Herrenhaarschnitt", "date": "Sonntag"})
	if !a.OK || len(a.Alternatives) == 0 {
		t.Fatalf("got %+v", a)
	}
	for _, st := range starts(t, a.Alternatives) {
		if d := st.In(berlin); d.Day() != 8 {
			t.Errorf("offered %s, want Monday 8 March", d)
		}
	}
	if !strings.Contains(a.Message, "Sonntag") || !strings.Contains(a.Message, "Montag") {
		t.Errorf("message should say Sunday has nothing and offer Monday: %q", a.Message)
	}
}

func TestCheckAvailabilityComposite(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	wed10 := at(2027, 3, 3, 10, 0)

	a := s.do("check-availability", s.call("call_color"), isoArgs("Haare färben", wed10))
	if !a.OK {
		t.Fatalf("both segments free: got %+v", a)
	}
	// The second segment (at +90 min) taken: not available, although the first is free.
	s.block(etWaesch, wed10.Add(90*time.Minute))
	s.invalidateSlots()
	a = s.do("check-availability", s.call("call_color"), isoArgs("Färben", wed10))
	if a.OK || a.Reason != incall.ReasonSlotTaken {
		t.Fatalf("second segment taken: got %+v", a)
	}
	// 10:00 needs 11:30 for segment 2; 9:30 needs 11:00 and 10:30 needs 12:00 — both free.
	wantStarts(t, a, at(2027, 3, 3, 9, 30), at(2027, 3, 3, 10, 30), at(2027, 3, 3, 9, 0))
	// Färben takes 120 minutes: 16:30 would end after closing.
	a = s.do("check-availability", s.call("call_color"), isoArgs("Färben", at(2027, 3, 3, 16, 30)))
	if a.Reason != incall.ReasonClosed {
		t.Fatalf("16:30: got %+v", a)
	}
}

func TestCheckAvailabilityServedFromCache(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	s.do("check-availability", s.call("call_cache"), isoArgs("Herrenhaarschnitt", at(2027, 3, 2, 14, 0)))
	before := s.requests(calcomtest.RouteSlots)
	if before != 1 {
		t.Fatalf("first check made %d slots requests, want 1", before)
	}
	for _, hhmm := range [][2]int{{15, 0}, {9, 30}, {17, 30}} {
		s.do("check-availability", s.call("call_cache_2"), isoArgs("Herrenhaarschnitt", at(2027, 3, 2, hhmm[0], hhmm[1])))
	}
	if got := s.requests(calcomtest.RouteSlots) - before; got != 0 {
		t.Fatalf("checks for a cached day made %d slots requests, want 0", got)
	}
}

func TestEnglishTenant(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{TenantFile: englishTenant(t)})
	tue14 := at(2027, 3, 2, 14, 0)
	a := s.do("check-availability", s.call("call_en"), map[string]any{"service": "Herrenhaarschnitt", "date": "tomorrow", "time": "2 pm"})
	if !a.OK || a.Requested != "2027-03-02T14:00:00+01:00" {
		t.Fatalf("got %+v", a)
	}
	mentionsWhen(t, a.Message, tue14, s)
	if !strings.Contains(a.Message, "is free") {
		t.Errorf("not English: %q", a.Message)
	}
	s.block(etHerren, tue14)
	s.invalidateSlots()
	a = s.do("check-availability", s.call("call_en"), isoArgs("Herrenhaarschnitt", tue14))
	if a.Reason != incall.ReasonSlotTaken || !strings.Contains(a.Message, "taken") {
		t.Fatalf("got %+v", a)
	}
	for _, alt := range a.Alternatives {
		if !englishSpoken.MatchString(alt.Spoken) {
			t.Errorf("alternative not spoken in English: %q", alt.Spoken)
		}
	}
	b := s.book(s.call("call_en_book"), "Herrenhaarschnitt", at(2027, 3, 2, 15, 0))
	if !strings.Contains(b.Message, "booked") {
		t.Errorf("not English: %q", b.Message)
	}
	a = s.do("check-availability", s.call("call_en"), map[string]any{"service": "Perm", "date": "tomorrow", "time": "10 am"})
	if a.Reason != incall.ReasonUnknownService || !strings.Contains(a.Message, "We offer") {
		t.Errorf("got %+v", a)
	}
}

// A tenant file can switch features off for its tenant only (features:).
func TestTenantFeatureOverrides(t *testing.T) {
	t.Parallel()
	demo := string(tenantfile.Demo())
	off := strings.Replace(demo, "  alternatives: true\n  composite_services: true", "  alternatives: false\n  composite_services: false", 1)
	if off == demo {
		t.Fatal("the demo tenant's features block changed: adapt this test")
	}
	s := newSys(t, apptest.Options{TenantFile: []byte(off)})
	tue14 := at(2027, 3, 2, 14, 0)
	s.block(etHerren, tue14)
	a := s.do("check-availability", s.call("call_taken"), isoArgs("Herrenhaarschnitt", tue14))
	if a.Reason != incall.ReasonSlotTaken || len(a.Alternatives) != 0 {
		t.Fatalf("alternatives switched off for the tenant, got %+v", a)
	}
	a = s.do("check-availability", s.call("call_colour"), isoArgs("Färben", at(2027, 3, 2, 10, 0)))
	if a.Reason != incall.ReasonUnknownService {
		t.Fatalf("composite services switched off for the tenant, got %+v", a)
	}
}
