package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestSyncQueries(t *testing.T) {
	s, _, _ := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("tb", "+4930200000", 200))
	mustApply(t, s, demoConfig("ta", "+4930100000", 100))
	ids, err := s.TenantIDs(ctx)
	if err != nil || len(ids) != 2 || ids[0] != "ta" || ids[1] != "tb" {
		t.Fatalf("TenantIDs = %v, %v", ids, err)
	}

	mk := func(tenant, uid string, st booking.AppointmentStatus, start time.Time) {
		t.Helper()
		if _, err := s.CreateAppointment(ctx, booking.Appointment{TenantID: tenant, BranchID: "mitte", ServiceID: "herren", Status: st,
			Start: start, End: start.Add(30 * time.Minute), CalcomUID: uid,
			Segments: []booking.AppointmentSegment{{EventTypeID: 101, CalcomUID: uid, Start: start, End: start.Add(30 * time.Minute)}}}); err != nil {
			t.Fatal(err)
		}
	}
	mk("ta", "u1", booking.StatusConfirmed, t0.Add(2*time.Hour))
	mk("ta", "u2", booking.StatusPending, t0.Add(time.Hour))
	mk("ta", "u3", booking.StatusCancelled, t0.Add(3*time.Hour))
	mk("ta", "u4", booking.StatusConfirmed, t0.Add(48*time.Hour)) // outside the window
	mk("tb", "u5", booking.StatusConfirmed, t0.Add(2*time.Hour))  // other tenant
	list, err := s.ActiveAppointmentsBetween(ctx, "ta", t0, t0.Add(24*time.Hour), 0)
	if err != nil || len(list) != 2 || list[0].CalcomUID != "u2" || list[1].CalcomUID != "u1" || len(list[1].Segments) != 1 {
		t.Fatalf("ActiveAppointmentsBetween = %+v, %v", list, err)
	}
	if _, err := s.ActiveAppointmentsBetween(ctx, "", t0, t0, 0); booking.KindOf(err) != booking.KindInvalid {
		t.Fatal("empty tenant accepted")
	}

	for _, k := range []string{"BOOKING_CANCELLED:u_1:2027-03-01T09:00:00Z", "BOOKING_CANCELLED:u%1:2027", "BOOKING_CANCELLED:ux1:2027"} {
		if _, err := s.RecordReceipt(ctx, "calcom", k, "ta"); err != nil {
			t.Fatal(err)
		}
	}
	seen, err := s.ReceiptSeen(ctx, "calcom", "BOOKING_CANCELLED:u%1:2027")
	if err != nil || !seen {
		t.Fatalf("ReceiptSeen = %v, %v", seen, err)
	}
	if seen, _ := s.ReceiptSeen(ctx, "retell", "BOOKING_CANCELLED:u%1:2027"); seen {
		t.Fatal("receipt seen under another provider")
	}
	// LIKE wildcards in the prefix are literal.
	keys, err := s.ReceiptKeysWithPrefix(ctx, "calcom", "BOOKING_CANCELLED:u_1:")
	if err != nil || len(keys) != 1 || keys[0] != "BOOKING_CANCELLED:u_1:2027-03-01T09:00:00Z" {
		t.Fatalf("ReceiptKeysWithPrefix = %v, %v", keys, err)
	}
	if keys, _ := s.ReceiptKeysWithPrefix(ctx, "calcom", "BOOKING_CANCELLED:u%"); len(keys) != 1 {
		t.Fatalf("%% matched %v", keys)
	}
}
