package calsync_test

import (
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calsync"
	"github.com/telefonagent/gateway/shared/calsync/synctest"
)

// Webhooks lost (Cal.com delivers at most once): a booking made without a
// webhook, one cancelled and one moved elsewhere, one of ours whose
// confirmation got lost. Reconciliation repairs all of them, and a second
// run finds nothing left to do.
func TestReconcileRepairsMissedWebhooks(t *testing.T) {
	e := newEnv(t)
	att := calcom.Attendee{Name: "Erika Muster", PhoneNumber: "+491609876543"}
	add := func(et int64, start time.Time, notify bool) calcomtest.Booking {
		t.Helper()
		b, err := e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: et, Start: start, Attendee: att}, notify)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	x := add(synctest.BaseA+1, synctest.At(3, 10, 0), false) // never announced
	y := add(synctest.BaseA+1, synctest.At(3, 11, 0), true)
	z := add(synctest.BaseA+2, synctest.At(4, 10, 0), true)
	foreign := add(synctest.BaseB+1, synctest.At(3, 10, 0), false) // tenant B's: not A's business
	e.Flush()

	e.Clock.Advance(time.Minute)
	e.Sandbox.SkipWebhooks(3)
	if _, err := e.Client.CancelBooking(e.Ctx, y.UID, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	moved := synctest.At(6, 15, 0)
	zNew, err := e.Client.RescheduleBooking(e.Ctx, z.UID, moved, "")
	if err != nil {
		t.Fatal(err)
	}
	key := "idem-rec-1"
	wStart := synctest.At(5, 9, 0)
	w := e.Pending(synctest.TenantA, "herren", key, wStart, booking.AppointmentSegment{Index: 0, EventTypeID: synctest.BaseA + 1, Start: wStart, End: wStart.Add(30 * time.Minute)})
	rq := synctest.Request(synctest.TenantA, key, synctest.BaseA+1, wStart, 0)
	wb, err := e.Client.CreateBooking(e.Ctx, calcom.CreateBookingInput{EventTypeID: rq.EventTypeID, Start: rq.Start, Metadata: rq.Metadata,
		Attendee: calcom.Attendee{Name: rq.Name, PhoneNumber: rq.Phone, TimeZone: rq.TimeZone}})
	if err != nil {
		t.Fatal(err)
	}
	pStart := synctest.At(7, 9, 0)
	left := e.Pending(synctest.TenantA, "herren", "idem-rec-2", pStart, booking.AppointmentSegment{Index: 0, EventTypeID: synctest.BaseA + 1, Start: pStart, End: pStart.Add(30 * time.Minute)})
	e.Flush()
	if n := len(e.Appointments(synctest.TenantA)); n != 4 { // y, z, w, left
		t.Fatalf("before: %d appointments", n)
	}

	e.Clock.Advance(time.Minute)
	r := &calsync.Reconciler{Syncer: e.Syncer, Store: e.Store, ClientFor: e.ClientFor}
	rep, err := r.Run(e.Ctx, synctest.TenantA)
	if err != nil {
		t.Fatal(err)
	}
	byUID := map[string]booking.Appointment{}
	for _, a := range e.Appointments(synctest.TenantA) {
		byUID[a.CalcomUID] = a
		if a.ID == left.ID {
			byUID["left"] = a
		}
	}
	if a, ok := byUID[x.UID]; !ok || a.Status != booking.StatusConfirmed || a.Source != "calcom" || a.CustomerID == nil {
		t.Fatalf("x not created: %+v", a)
	}
	if a := byUID[y.UID]; a.Status != booking.StatusCancelled {
		t.Fatalf("y not cancelled: %+v", a)
	}
	if a, ok := byUID[zNew.UID]; !ok || !a.Start.Equal(moved.UTC()) || a.Status != booking.StatusConfirmed || a.RescheduleCount != 1 {
		t.Fatalf("z not moved: %+v", a)
	}
	if _, ok := byUID[z.UID]; ok {
		t.Fatal("z's old uid still held")
	}
	if a := byUID[wb.UID]; a.ID != w.ID || a.Status != booking.StatusConfirmed {
		t.Fatalf("w not linked: %+v", a)
	}
	if a := byUID["left"]; a.Status != booking.StatusPending {
		t.Fatalf("pending without booking changed: %+v", a)
	}
	if _, ok := byUID[foreign.UID]; ok {
		t.Fatal("tenant B's booking reconciled into A")
	}
	if rep.Results[calsync.ResultCreated] != 1 || rep.Results[calsync.ResultCancelled] != 1 || rep.Results[calsync.ResultMoved] != 1 ||
		rep.Results[calsync.ResultLinked] != 1 || rep.LeftForJob != 1 {
		t.Fatalf("report %+v", rep)
	}
	if n := len(e.Appointments(synctest.TenantB)); n != 0 {
		t.Fatalf("tenant B got %d appointments", n)
	}

	rep2, err := r.Run(e.Ctx, synctest.TenantA)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Changed() != 0 {
		t.Fatalf("second run changed things: %+v", rep2)
	}
	reports, err := r.RunAll(e.Ctx)
	if err != nil || len(reports) != 2 {
		t.Fatalf("RunAll: %v, %+v", err, reports)
	}
	for _, rp := range reports {
		if rp.TenantID == synctest.TenantB && rp.Results[calsync.ResultCreated] != 1 {
			t.Fatalf("tenant B's missed booking not created: %+v", rp)
		}
	}
}
