package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func composite(tid string, customerID int64, start time.Time, key, uid string) booking.Appointment {
	return booking.Appointment{TenantID: tid, BranchID: "mitte", ServiceID: "faerben", StaffID: "anna", CustomerID: &customerID,
		CallID: "call_1", CalcomUID: uid, Status: booking.StatusConfirmed, Source: "phone", Start: start, End: start.Add(120 * time.Minute),
		Notes: "Allergie gegen Ammoniak", IdempotencyKey: key,
		Segments: []booking.AppointmentSegment{
			{Index: 0, EventTypeID: 1003, CalcomUID: uid, Start: start, End: start.Add(45 * time.Minute)},
			{Index: 1, EventTypeID: 1004, CalcomUID: uid + "-2", Start: start.Add(90 * time.Minute), End: start.Add(120 * time.Minute)},
		}}
}

func TestAppointments(t *testing.T) {
	s, db, clk := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	cust, _ := s.UpsertCustomerByPhone(ctx, "salon-a", "+4917612345678", "Erika", "")
	start := t0.Add(72 * time.Hour)

	a, err := s.CreateAppointment(ctx, composite("salon-a", cust.ID, start, "idem-1", "uid-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || len(a.Segments) != 2 || a.Segments[0].Status != booking.StatusConfirmed {
		t.Fatalf("created %+v", a)
	}
	got, err := s.GetAppointment(ctx, "salon-a", a.ID)
	if err != nil || got.Notes != "Allergie gegen Ammoniak" || len(got.Segments) != 2 || !got.Segments[1].Start.Equal(start.Add(90*time.Minute)) ||
		got.CalcomUID != "uid-1" || *got.CustomerID != cust.ID || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetAppointment = %+v, %v", got, err)
	}

	// Replays: same idempotency key, or a uid already stored (own or segment).
	for name, dup := range map[string]booking.Appointment{
		"same key":         composite("salon-a", cust.ID, start, "idem-1", "uid-other"),
		"same uid":         composite("salon-a", cust.ID, start, "idem-2", "uid-1"),
		"same segment uid": {TenantID: "salon-a", BranchID: "mitte", ServiceID: "damen", Status: booking.StatusPending, Start: start, End: start, CalcomUID: "uid-1-2"},
	} {
		ex, err := s.CreateAppointment(ctx, dup)
		wantKind(t, err, booking.KindConflict, name)
		if !errors.Is(err, ErrDuplicate) || ex == nil || ex.ID != a.ID {
			t.Fatalf("%s: existing = %+v, err = %v", name, ex, err)
		}
	}
	for _, uid := range []string{"uid-1", "uid-1-2"} {
		byUID, err := s.AppointmentByCalcomUID(ctx, "salon-a", uid)
		if err != nil || byUID.ID != a.ID {
			t.Fatalf("AppointmentByCalcomUID(%s) = %+v, %v", uid, byUID, err)
		}
	}
	if byKey, err := s.AppointmentByIdempotencyKey(ctx, "salon-a", "idem-1"); err != nil || byKey.ID != a.ID {
		t.Fatalf("AppointmentByIdempotencyKey = %+v, %v", byKey, err)
	}
	_, err = s.AppointmentByCalcomUID(ctx, "salon-a", "nope")
	wantKind(t, err, booking.KindNotFound, "unknown uid")

	// Update: reschedule with a recorded change; notes must not reach the audit trail.
	newStart := start.Add(24 * time.Hour)
	clk.Advance(time.Minute)
	upd, err := s.UpdateAppointmentWithChanges(ctx, "salon-a", a.ID, func(cur *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		before := *cur
		cur.Start, cur.End = newStart, newStart.Add(120*time.Minute)
		cur.CalcomUID = "uid-1b"
		cur.RescheduleCount++
		cur.Segments = cur.Segments[:1]
		cur.Segments[0].CalcomUID = "uid-1b"
		return cur, []booking.AppointmentChange{{Action: "rescheduled", Actor: "call:call_1", PolicyOutcome: "allowed", FeeCents: 1000, Before: &before, After: cur}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetAppointment(ctx, "salon-a", a.ID)
	if !got.Start.Equal(newStart) || got.RescheduleCount != 1 || len(got.Segments) != 1 || got.CalcomUID != "uid-1b" ||
		!got.UpdatedAt.Equal(t0.Add(time.Minute)) || upd.ID != a.ID {
		t.Fatalf("after update %+v", got)
	}
	var before, after string
	if err := db.QueryRow(`SELECT before_state, after_state FROM appointment_changes WHERE appointment_id = ?`, a.ID).Scan(&before, &after); err != nil {
		t.Fatal(err)
	}
	var snap AppointmentState
	if err := json.Unmarshal([]byte(after), &snap); err != nil || snap.RescheduleCount != 1 || !snap.Start.Equal(newStart) {
		t.Fatalf("after_state %s", after)
	}
	if strings.Contains(before+after, "Ammoniak") {
		t.Fatal("notes leaked into the audit trail")
	}
	// fn errors abort without writing; nil means no change.
	boom := errors.New("policy says no")
	if _, err := s.UpdateAppointment(ctx, "salon-a", a.ID, func(*booking.Appointment) (*booking.Appointment, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if same, err := s.UpdateAppointment(ctx, "salon-a", a.ID, func(*booking.Appointment) (*booking.Appointment, error) { return nil, nil }); err != nil || same.RescheduleCount != 1 {
		t.Fatalf("no-op update: %+v %v", same, err)
	}
	_, err = s.UpdateAppointment(ctx, "salon-a", 424242, func(a *booking.Appointment) (*booking.Appointment, error) { return a, nil })
	wantKind(t, err, booking.KindNotFound, "update missing")

	// Upcoming and cancellations.
	b2, err := s.CreateAppointment(ctx, booking.Appointment{TenantID: "salon-a", BranchID: "mitte", ServiceID: "herren", CustomerID: &cust.ID,
		Status: booking.StatusPending, Start: start.Add(-48 * time.Hour), End: start.Add(-47 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	past, _ := s.CreateAppointment(ctx, booking.Appointment{TenantID: "salon-a", BranchID: "mitte", ServiceID: "herren", CustomerID: &cust.ID,
		Status: booking.StatusConfirmed, Start: t0.Add(-time.Hour), End: t0})
	up, err := s.UpcomingAppointments(ctx, "salon-a", cust.ID, t0, 10)
	if err != nil || len(up) != 2 || up[0].ID != b2.ID || up[1].ID != a.ID || len(up[1].Segments) != 1 {
		t.Fatalf("UpcomingAppointments = %+v, %v", up, err)
	}
	if up, _ := s.UpcomingAppointments(ctx, "salon-a", cust.ID, t0, 1); len(up) != 1 {
		t.Fatalf("limit ignored: %d", len(up))
	}
	_, err = s.UpdateAppointmentWithChanges(ctx, "salon-a", b2.ID, func(cur *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		cur.Status = booking.StatusCancelled
		return cur, []booking.AppointmentChange{{Action: "cancelled", Actor: "call:call_2"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordChange(ctx, booking.AppointmentChange{TenantID: "salon-a", AppointmentID: past.ID, Action: "cancelled", Actor: "calcom", At: t0.Add(-40 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountCancellationsSince(ctx, "salon-a", cust.ID, t0.Add(-30*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("CountCancellationsSince = %d, %v (want 1: the old one is outside the window)", n, err)
	}
	if up, _ := s.UpcomingAppointments(ctx, "salon-a", cust.ID, t0, 10); len(up) != 1 {
		t.Fatalf("cancelled appointment still upcoming: %+v", up)
	}
	wantKind(t, s.RecordChange(ctx, booking.AppointmentChange{TenantID: "salon-a", AppointmentID: a.ID}), booking.KindInvalid, "change without action")
	_, err = s.CreateAppointment(ctx, booking.Appointment{TenantID: "salon-a", Start: start, End: start.Add(-time.Hour), Status: booking.StatusPending})
	wantKind(t, err, booking.KindInvalid, "reversed times")
}

func TestUpdateAppointmentConcurrent(t *testing.T) {
	s, _, _ := newTestStore(t, 20)
	ctx := context.Background()
	mustApply(t, s, demoConfig("salon-a", "+4930123456", 1000))
	a, err := s.CreateAppointment(ctx, composite("salon-a", 1, t0.Add(72*time.Hour), "k", "u"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateAppointmentWithChanges(ctx, "salon-a", a.ID, func(cur *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
				cur.RescheduleCount++
				return cur, []booking.AppointmentChange{{Action: "rescheduled", Actor: "worker"}}, nil
			})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent update: %v", err)
	}
	got, _ := s.GetAppointment(ctx, "salon-a", a.ID)
	if got.RescheduleCount != 20 {
		t.Fatalf("reschedule_count = %d, want 20", got.RescheduleCount)
	}
	var n int
	s.db.QueryRow(`SELECT COUNT(*) FROM appointment_changes WHERE tenant_id = 'salon-a' AND appointment_id = ?`, a.ID).Scan(&n)
	if n != 20 {
		t.Fatalf("%d change rows, want 20", n)
	}
}
