package incall_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
)

// sandboxStatus returns the sandbox status of a uid.
func sandboxStatus(t *testing.T, s *sys, uid string) string {
	t.Helper()
	b, ok := s.e.Sandbox.Booking(uid)
	if !ok {
		t.Fatalf("uid %s not in the sandbox", uid)
	}
	return b.Status
}

func rowByID(t *testing.T, s *sys, id int64) apptRow {
	t.Helper()
	for _, r := range s.appointments() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no row %d", id)
	return apptRow{}
}

func TestCancelOwnershipAndReplay(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	thu10 := at(2027, 3, 4, 10, 0)
	b := s.book(s.call("call_b"), "Herrenhaarschnitt", thu10)
	uid := rowByID(t, s, b.Appointment.ID).UID

	// Another caller, even one whose number ends in the same 8 digits.
	for _, from := range []string{other, "+4917112345678"} {
		a := s.do("cancel-appointment", callCtx{ID: "call_intruder", From: from}, map[string]any{})
		if a.OK || a.Reason != incall.ReasonNotFound {
			t.Fatalf("from another number: %+v", a)
		}
	}
	// Anonymous: no access, a callback request instead.
	for _, fn := range []string{"cancel-appointment", "reschedule-appointment", "find-appointments"} {
		a := s.do(fn, callCtx{ID: "call_anon"}, map[string]any{"new_date": "Freitag", "new_time": "10 Uhr"})
		if a.OK || a.Reason != incall.ReasonAnonymousCaller {
			t.Fatalf("%s anonymous: %+v", fn, a)
		}
	}
	if s.callbacks(incall.ReasonAnonymousCaller) != 1 {
		t.Errorf("want one callback request for the anonymous call, got %d", s.callbacks(incall.ReasonAnonymousCaller))
	}
	if sandboxStatus(t, s, uid) != calcom.StatusAccepted || rowByID(t, s, b.Appointment.ID).Status != "confirmed" {
		t.Fatalf("appointment touched by strangers")
	}

	// The owner cancels (73 h ahead: free); Cal.com first, then our row.
	body := s.envelope("cancel-appointment", s.call("call_c"), map[string]any{"reason": "krank"})
	status, first := s.raw("cancel-appointment", body, "")
	a := s.decode(first)
	if status != 200 || !a.OK || a.FeeCents != nil || a.Appointment == nil || a.Appointment.Status != "cancelled" {
		t.Fatalf("cancel: %d %+v", status, a)
	}
	mentionsWhen(t, a.Message, thu10, s)
	if sandboxStatus(t, s, uid) != calcom.StatusCancelled {
		t.Errorf("Cal.com booking not cancelled")
	}
	if bk, _ := s.e.Sandbox.Booking(uid); bk.CancellationReason != "krank" {
		t.Errorf("reason %q not passed on", bk.CancellationReason)
	}
	if rowByID(t, s, b.Appointment.ID).Status != "cancelled" || s.changes("cancelled") != 1 {
		t.Errorf("row or audit not written")
	}
	// A repeat replays the same answer and cancels nothing more.
	cancels := s.requests(calcomtest.RouteCancel)
	for range 3 {
		if _, again := s.raw("cancel-appointment", body, ""); again != first {
			t.Errorf("replay answered %s, first %s", again, first)
		}
	}
	if s.requests(calcomtest.RouteCancel) != cancels || s.changes("cancelled") != 1 {
		t.Errorf("replay reached Cal.com or wrote audit rows again")
	}
	// The slot is free again.
	if c := s.do("check-availability", s.call("call_d"), isoArgs("Herrenhaarschnitt", thu10)); !c.OK {
		t.Errorf("slot not free after cancel: %+v", c)
	}
}

func TestCancelWhichAppointment(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	thu10 := at(2027, 3, 4, 10, 0)
	fri11 := at(2027, 3, 5, 11, 0)
	s.book(s.call("call_b1"), "Herrenhaarschnitt", thu10)
	s.book(s.call("call_b2"), "Damenhaarschnitt", fri11)
	s.book(s.call("call_b3"), "Herrenhaarschnitt", at(2027, 3, 9, 12, 0))
	s.book(s.call("call_b4"), "Herrenhaarschnitt", at(2027, 3, 10, 12, 0))

	a := s.do("cancel-appointment", s.call("call_c"), map[string]any{})
	if a.OK || a.Reason != incall.ReasonMultipleFound || len(a.Appointments) != 3 {
		t.Fatalf("no date: %+v", a)
	}
	mentionsWhen(t, a.Message, thu10, s)
	mentionsWhen(t, a.Message, fri11, s)

	a = s.do("cancel-appointment", s.call("call_c"), map[string]any{"date": "Donnerstag", "time": "11 Uhr"})
	if a.OK || a.Reason != incall.ReasonNotFound || len(a.Appointments) == 0 {
		t.Fatalf("wrong time: %+v", a)
	}
	a = s.do("cancel-appointment", s.call("call_c"), map[string]any{"date": "Freitag"})
	if !a.OK || a.Appointment.Start != "2027-03-05T11:00:00+01:00" {
		t.Fatalf("by day: %+v", a)
	}
	a = s.do("cancel-appointment", s.call("call_c"), map[string]any{"date": "4.3.", "time": "10:00"})
	if !a.OK || a.Appointment.Start != "2027-03-04T10:00:00+01:00" {
		t.Fatalf("by date and time: %+v", a)
	}
	f := s.do("find-appointments", s.call("call_c"), map[string]any{})
	if !f.OK || len(f.Appointments) != 2 {
		t.Fatalf("find: %+v", f)
	}
	for _, v := range f.Appointments {
		if !strings.Contains(f.Message, v.Spoken) {
			t.Errorf("find message %q does not say %q", f.Message, v.Spoken)
		}
	}
}

func TestCancelPolicyEdges(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	tue14 := at(2027, 3, 2, 14, 0)
	wed14 := at(2027, 3, 3, 14, 0)
	fri11 := at(2027, 3, 5, 11, 0)
	s.book(s.call("call_b1"), "Herrenhaarschnitt", tue14)
	s.book(s.call("call_b2"), "Herrenhaarschnitt", wed14)
	s.book(s.call("call_b3"), "Herrenhaarschnitt", fri11)

	// Exactly 24 h ahead: allowed, and the 10 € fee (24–48 h tier) is said.
	s.e.Clock.Set(at(2027, 3, 1, 14, 0))
	a := s.do("cancel-appointment", callCtx{ID: "call_24h", From: caller, StartMS: at(2027, 3, 1, 14, 0).UnixMilli()}, map[string]any{"date": "morgen"})
	if !a.OK || a.FeeCents == nil || *a.FeeCents != 1000 || !strings.Contains(a.Message, "10 Euro") {
		t.Fatalf("exactly 24 h: %+v", a)
	}
	var fee int
	if err := s.e.Store.DB().QueryRow(`SELECT fee_cents FROM appointment_changes WHERE tenant_id = ? AND action = 'cancelled'`, tenantID).Scan(&fee); err != nil || fee != 1000 {
		t.Errorf("audit fee %d %v", fee, err)
	}

	// 23 h 59 min ahead: denied, the rule in words; nothing changes.
	s.e.Clock.Set(at(2027, 3, 2, 14, 1))
	a = s.do("cancel-appointment", s.call("call_23h59"), map[string]any{"date": "morgen"})
	if a.OK || a.Reason != incall.ReasonPolicyDenied || !strings.Contains(a.Message, "24 Stunden") {
		t.Fatalf("23h59: %+v", a)
	}
	// True and actionable: it was a cancel (not "geändert"), the caller is
	// on the phone with us (no "wenden Sie sich direkt an uns"), no fee is
	// due for a cancel that did not happen, and the staff has a note.
	for _, bad := range []string{"geändert", "direkt", "Euro", "Gebühr"} {
		if strings.Contains(a.Message, bad) {
			t.Errorf("denial says %q: %q", bad, a.Message)
		}
	}
	if !strings.Contains(a.Message, "abgesagt") || !strings.Contains(a.Message, "Team") || a.FeeCents != nil {
		t.Errorf("denial should name the cancel and say the team was told: %+v", a)
	}
	var note string
	if err := s.e.Store.DB().QueryRow(`SELECT needs_attention FROM appointments WHERE tenant_id = ? AND id = ?`, tenantID, a.Appointment.ID).Scan(&note); err != nil || note != incall.AttentionCancelRefused+" (notice)" {
		t.Errorf("needs_attention %q %v", note, err)
	}
	if s.changes("cancel_denied") != 1 || len(activeAt(s, etHerren, wed14)) != 1 {
		t.Errorf("denial not recorded or Cal.com touched")
	}

	// 50 h ahead: free.
	s.e.Clock.Set(fri11.Add(-50 * time.Hour))
	a = s.do("cancel-appointment", s.call("call_50h"), map[string]any{"date": "Freitag"})
	if !a.OK || a.FeeCents != nil || strings.Contains(a.Message, "Gebühr") {
		t.Fatalf("50 h: %+v", a)
	}
}

func TestCancelMonthlyQuota(t *testing.T) {
	t.Parallel()
	tf := bytes.Replace(demoTenant(), []byte("# max_cancellations_per_month: 3"), []byte("max_cancellations_per_month: 1"), 1)
	if bytes.Equal(tf, demoTenant()) {
		t.Fatal("could not configure a quota in the demo tenant")
	}
	s := newSys(t, apptest.Options{TenantFile: tf})
	s.book(s.call("call_b1"), "Herrenhaarschnitt", at(2027, 3, 8, 10, 0))
	s.book(s.call("call_b2"), "Herrenhaarschnitt", at(2027, 3, 9, 10, 0))
	if a := s.do("cancel-appointment", s.call("call_c"), map[string]any{"date": "8.3."}); !a.OK {
		t.Fatalf("first: %+v", a)
	}
	a := s.do("cancel-appointment", s.call("call_c"), map[string]any{"date": "9.3."})
	if a.OK || a.Reason != incall.ReasonPolicyDenied || !strings.Contains(a.Message, "30 Tagen") {
		t.Fatalf("second: %+v", a)
	}
	// The quota counts per caller: another caller may cancel.
	s.book(callCtx{ID: "call_o", From: other}, "Herrenhaarschnitt", at(2027, 3, 10, 10, 0))
	if a := s.do("cancel-appointment", callCtx{ID: "call_o2", From: other}, map[string]any{}); !a.OK {
		t.Fatalf("other caller: %+v", a)
	}
}

func TestReschedule(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	fri10 := at(2027, 3, 5, 10, 0)
	b := s.book(s.call("call_b"), "Herrenhaarschnitt", fri10)
	id := b.Appointment.ID
	uid0 := rowByID(t, s, id).UID

	body := s.envelope("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Freitag", "new_time": "11 Uhr"})
	_, first := s.raw("reschedule-appointment", body, "")
	a := s.decode(first)
	if !a.OK || a.Appointment == nil || a.Appointment.Start != "2027-03-05T11:00:00+01:00" || a.FeeCents != nil {
		t.Fatalf("first move: %+v", a)
	}
	mentionsWhen(t, a.Message, at(2027, 3, 5, 11, 0), s)
	row := rowByID(t, s, id)
	if row.UID == uid0 || row.Resched != 1 || !row.Start.Equal(at(2027, 3, 5, 11, 0)) {
		t.Fatalf("row after move: %+v", row)
	}
	if sandboxStatus(t, s, uid0) != calcom.StatusCancelled || sandboxStatus(t, s, row.UID) != calcom.StatusAccepted {
		t.Errorf("Cal.com not moved: old %s, new %s", sandboxStatus(t, s, uid0), sandboxStatus(t, s, row.UID))
	}
	if nb, _ := s.e.Sandbox.Booking(row.UID); !nb.Start.Equal(at(2027, 3, 5, 11, 0)) || nb.RescheduledFromUID != uid0 {
		t.Errorf("new Cal.com booking: %+v", nb)
	}
	// Replays answer the same and move nothing.
	moves := s.requests(calcomtest.RouteReschedule)
	if _, again := s.raw("reschedule-appointment", body, ""); again != first {
		t.Errorf("replay: %s, first %s", again, first)
	}
	if s.requests(calcomtest.RouteReschedule) != moves || rowByID(t, s, id).Resched != 1 {
		t.Errorf("replay moved again")
	}

	// A taken new time: slot_taken with alternatives, nothing moves.
	s.block(etHerren, at(2027, 3, 5, 15, 0))
	s.invalidateSlots()
	a = s.do("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Freitag", "new_time": "15 Uhr"})
	if a.Reason != incall.ReasonSlotTaken || len(a.Alternatives) == 0 || rowByID(t, s, id).Resched != 1 {
		t.Fatalf("taken: %+v", a)
	}
	// A new date without a time offers times and asks.
	a = s.do("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Montag"})
	if a.OK || a.Reason != incall.ReasonUnclearTime || len(a.Alternatives) == 0 {
		t.Fatalf("no time: %+v", a)
	}

	// Second move allowed, the third denied (at most 2 per appointment).
	if a := s.do("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Freitag", "new_time": "12 Uhr"}); !a.OK {
		t.Fatalf("second move: %+v", a)
	}
	a = s.do("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Freitag", "new_time": "13 Uhr"})
	if a.OK || a.Reason != incall.ReasonPolicyDenied || !strings.Contains(a.Message, "2-mal") {
		t.Fatalf("third move: %+v", a)
	}
	if row := rowByID(t, s, id); row.Resched != 2 || !row.Start.Equal(at(2027, 3, 5, 12, 0)) {
		t.Errorf("row after denial: %+v", row)
	}
	if s.changes("rescheduled") != 2 || s.changes("reschedule_denied") != 1 {
		t.Errorf("audit rows: %d rescheduled, %d denied", s.changes("rescheduled"), s.changes("reschedule_denied"))
	}
	// Another caller cannot move it.
	a = s.do("reschedule-appointment", callCtx{ID: "call_x", From: other}, map[string]any{"new_date": "Freitag", "new_time": "16 Uhr"})
	if a.Reason != incall.ReasonNotFound {
		t.Fatalf("stranger: %+v", a)
	}
}

func TestReschedulePolicyAndFee(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	tue14 := at(2027, 3, 2, 14, 0)
	wed14 := at(2027, 3, 3, 14, 0)
	s.book(s.call("call_b1"), "Herrenhaarschnitt", tue14)
	s.book(s.call("call_b2"), "Herrenhaarschnitt", wed14)

	// Tue 14:00 is 29 h ahead: allowed with the 10 € fee, said.
	a := s.do("reschedule-appointment", s.call("call_r"), map[string]any{"date": "morgen", "new_date": "Donnerstag", "new_time": "10 Uhr"})
	if !a.OK || a.FeeCents == nil || *a.FeeCents != 1000 || !strings.Contains(a.Message, "10 Euro") {
		t.Fatalf("with fee: %+v", a)
	}
	// Wed 14:00 from Tue 15:00 is 23 h ahead: denied (the notice defaults to the cancellation notice).
	s.e.Clock.Set(at(2027, 3, 2, 15, 0))
	a = s.do("reschedule-appointment", s.call("call_r2"), map[string]any{"date": "Mittwoch", "new_date": "Freitag", "new_time": "10 Uhr"})
	if a.OK || a.Reason != incall.ReasonPolicyDenied || !strings.Contains(a.Message, "24 Stunden") {
		t.Fatalf("inside notice: %+v", a)
	}
}

func TestRescheduleComposite(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	wed10 := at(2027, 3, 3, 10, 0)
	s.book(s.call("call_b"), "Färben", wed10)
	a := s.do("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Donnerstag", "new_time": "9 Uhr"})
	if !a.OK {
		t.Fatalf("got %+v", a)
	}
	thu9 := at(2027, 3, 4, 9, 0)
	if len(activeAt(s, etFarbe, thu9)) != 1 || len(activeAt(s, etWaesch, thu9.Add(90*time.Minute))) != 1 {
		t.Fatalf("segments not moved: %+v", activeBookings(s.e.Sandbox))
	}
	if n := s.count(`SELECT COUNT(*) FROM appointment_segments sg JOIN appointments a ON a.tenant_id = sg.tenant_id AND a.id = sg.appointment_id
		WHERE sg.tenant_id = ? AND sg.starts_at >= ? AND sg.calcom_uid IS NOT NULL`, tenantID, thu9.UTC()); n != 2 {
		t.Errorf("%d moved segments with new uids in MySQL, want 2", n)
	}
	for _, b := range activeBookings(s.e.Sandbox) {
		if n := s.count(`SELECT COUNT(*) FROM appointment_segments WHERE tenant_id = ? AND calcom_uid = ?`, tenantID, b.UID); n != 1 {
			t.Errorf("live Cal.com uid %s not stored", b.UID)
		}
	}
}

func TestFindAndListServices(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	a := s.do("find-appointments", s.call("call_f"), nil)
	if a.OK || a.Reason != incall.ReasonNotFound {
		t.Fatalf("none: %+v", a)
	}
	s.book(s.call("call_b"), "Herrenhaarschnitt", at(2027, 3, 4, 10, 0))
	a = s.do("find-appointments", s.call("call_f"), nil)
	if !a.OK || len(a.Appointments) != 1 || a.Appointments[0].Service != "Herrenhaarschnitt" || a.Appointments[0].Status != "confirmed" {
		t.Fatalf("one: %+v", a)
	}
	mentionsWhen(t, a.Message, at(2027, 3, 4, 10, 0), s)
	if a := s.do("find-appointments", callCtx{ID: "call_o", From: other}, nil); a.Reason != incall.ReasonNotFound {
		t.Fatalf("other caller sees: %+v", a)
	}

	l := s.do("list-services", s.call("call_l"), nil)
	if !l.OK || len(l.Services) != 3 {
		t.Fatalf("services: %+v", l)
	}
	for _, sv := range l.Services {
		if sv.ID == "faerben" && (sv.DurationMinutes != 120 || sv.PriceCents != 7900) {
			t.Errorf("Färben: %+v", sv)
		}
	}
	l = s.do("list-services", s.call("call_l"), map[string]any{"category": "haarschnitt"})
	if !l.OK || len(l.Services) != 2 {
		t.Fatalf("category: %+v", l)
	}
	l = s.do("list-services", s.call("call_l"), map[string]any{"category": "Massage"})
	if l.OK || l.Reason != incall.ReasonNotFound || !strings.Contains(l.Message, "Färben") {
		t.Fatalf("unknown category: %+v", l)
	}
}

// Moving an appointment by less than its own length: its own booking must
// not block the new time (Cal.com's bookingUidToReschedule).
func TestRescheduleOverlappingItsOwnTime(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	fri10 := at(2027, 3, 5, 10, 0)
	b := s.book(s.call("call_b"), "Damenhaarschnitt", fri10) // 60 minutes: 10:00–11:00
	id := b.Appointment.ID
	a := s.do("reschedule-appointment", s.call("call_r"), map[string]any{"new_date": "Freitag", "new_time": "10:30"})
	if !a.OK || a.Appointment == nil || a.Appointment.Start != "2027-03-05T10:30:00+01:00" {
		t.Fatalf("move by 30 minutes: %+v", a)
	}
	if row := rowByID(t, s, id); !row.Start.Equal(at(2027, 3, 5, 10, 30)) || row.Resched != 1 {
		t.Fatalf("row: %+v", row)
	}
}
