package incall_test

import (
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/incall"
)

// TestEveryAppointmentReachable: a regular with 51 upcoming appointments
// (one a day, two on the last day) cancels and moves ones far down the list
// by their date, and hears how many there are.
func TestEveryAppointmentReachable(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	var days []time.Time
	for d := at(2027, 3, 2, 10, 0); len(days) < 50; d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Sunday { // closed
			days = append(days, d)
		}
	}
	ids := map[time.Time]int64{}
	for _, d := range days {
		ids[d] = s.book(s.call("call_series"), "Herrenhaarschnitt", d).Appointment.ID
	}
	last := days[len(days)-1]
	late := time.Date(last.Year(), last.Month(), last.Day(), 13, 0, 0, 0, berlin)
	ids[late] = s.book(s.call("call_series"), "Herrenhaarschnitt", late).Appointment.ID
	c := s.call("call_regular")

	// find-appointments: how many, and the next three.
	f := s.do("find-appointments", c, map[string]any{})
	if !f.OK || len(f.Appointments) != 3 || !strings.Contains(f.Message, "51") || f.Appointments[0].ID != ids[days[0]] {
		t.Fatalf("find: %+v", f)
	}
	for _, d := range days[:3] {
		mentionsWhen(t, f.Message, d, s)
	}

	// The last day has two: the date alone is ambiguous.
	iso := last.Format("2006-01-02")
	m := s.do("cancel-appointment", c, map[string]any{"date": iso})
	if m.OK || m.Reason != incall.ReasonMultipleFound || len(m.Appointments) != 2 {
		t.Fatalf("date with two appointments: %+v", m)
	}
	mentionsWhen(t, m.Message, late, s)

	// The 51st, by date and time.
	a := s.do("cancel-appointment", c, map[string]any{"date": iso, "time": "13:00"})
	if !a.OK || a.Appointment == nil || a.Appointment.ID != ids[late] {
		t.Fatalf("cancel the 51st: %+v", a)
	}
	if rowByID(t, s, ids[late]).Status != "cancelled" || sandboxStatus(t, s, rowByID(t, s, ids[late]).UID) != calcom.StatusCancelled {
		t.Fatal("51st not cancelled")
	}
	// Now the last day has one: the date alone finds it (the 50th).
	a = s.do("cancel-appointment", callCtx{ID: "call_regular_2", From: caller}, map[string]any{"date": iso})
	if !a.OK || a.Appointment == nil || a.Appointment.ID != ids[last] {
		t.Fatalf("cancel the 50th by date: %+v", a)
	}
	// Move the 49th by its date, to the morning after the 50th.
	to := last.AddDate(0, 0, 1)
	if to.Weekday() == time.Sunday {
		to = to.AddDate(0, 0, 1)
	}
	r := s.do("reschedule-appointment", c, map[string]any{"date": days[48].Format("2006-01-02"), "time": "10:00",
		"new_date": to.Format("2006-01-02"), "new_time": "11:00"})
	if !r.OK || r.Appointment == nil || r.Appointment.ID != ids[days[48]] {
		t.Fatalf("reschedule the 49th: %+v", r)
	}
	if got := rowByID(t, s, ids[days[48]]).Start; !got.Equal(time.Date(to.Year(), to.Month(), to.Day(), 11, 0, 0, 0, berlin)) {
		t.Errorf("49th now starts %s", got)
	}
	// Everything else is untouched.
	active := 0
	for _, row := range s.appointments() {
		if row.Status == "confirmed" {
			active++
		}
	}
	if active != 49 {
		t.Errorf("%d appointments still active, want 49", active)
	}
	f = s.do("find-appointments", c, map[string]any{})
	if !f.OK || !strings.Contains(f.Message, "49") {
		t.Fatalf("find after the changes: %+v", f)
	}
	// A date with nothing on it names the next three instead.
	n := s.do("cancel-appointment", c, map[string]any{"date": days[0].AddDate(0, 0, 120).Format("2006-01-02")})
	if n.OK || n.Reason != incall.ReasonNotFound || len(n.Appointments) != 3 {
		t.Fatalf("empty date: %+v", n)
	}
}

// TestFindFewAppointments: up to three are simply read out, no count.
func TestFindFewAppointments(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	for _, d := range []time.Time{at(2027, 3, 2, 10, 0), at(2027, 3, 3, 10, 0), at(2027, 3, 4, 10, 0)} {
		s.book(s.call("call_three"), "Herrenhaarschnitt", d)
	}
	f := s.do("find-appointments", s.call("call_find"), map[string]any{})
	if !f.OK || len(f.Appointments) != 3 || strings.Contains(f.Message, "anstehende") {
		t.Fatalf("find three: %+v", f)
	}
}
