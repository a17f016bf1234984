package calsync_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calsync"
	"github.com/telefonagent/gateway/shared/calsync/synctest"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/testenv"
	"github.com/telefonagent/gateway/shared/worker"
)

func newEnv(t *testing.T) *synctest.Env { return synctest.New(t, "calsync") }

// event renders a webhook body the way Cal.com does (compact JSON).
func event(trigger string, createdAt time.Time, payload map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"triggerEvent": trigger, "createdAt": createdAt.UTC().Format("2006-01-02T15:04:05.000Z"), "payload": payload})
	if err != nil {
		panic(err)
	}
	return b
}

func bookingPayload(uid string, eventTypeID int64, start time.Time, minutes int, status string, extra map[string]any) map[string]any {
	p := map[string]any{
		"uid": uid, "bookingId": 1, "eventTypeId": eventTypeID, "type": "x", "title": "Termin",
		"startTime": start.UTC().Format(time.RFC3339), "endTime": start.Add(time.Duration(minutes) * time.Minute).UTC().Format(time.RFC3339),
		"status":    status,
		"attendees": []map[string]any{{"name": "Erika Muster", "email": "erika@example.com", "timeZone": "Europe/Berlin", "phoneNumber": "+491609876543", "language": map[string]string{"locale": "de"}}},
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func sample(t *testing.T, name string) []byte {
	b, err := os.ReadFile(testenv.ContractsDir(t) + "/calcom/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func onlyAppointment(t *testing.T, e *synctest.Env, tenant string) booking.Appointment {
	t.Helper()
	list := e.Appointments(tenant)
	if len(list) != 1 {
		t.Fatalf("%s has %d appointments, want 1", tenant, len(list))
	}
	return list[0]
}

// The known-answer vectors of NOTES.md §B3 pass the handler's signature
// check (the sample files are read at test time); PING is answered 200 and
// leaves nothing behind.
func TestKnownAnswerVectorsAndPing(t *testing.T) {
	e := newEnv(t)
	vectors := []struct {
		body       []byte
		sig        string
		wantStatus int
	}{
		// Signed correctly but without start/end: unreadable as a booking (400, not 401).
		{[]byte(`{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-03-02T14:05:58.112Z","payload":{"uid":"7Qm2VxR9tLs3Hc8Nw1ZaPk"}}`), "ca6407cb7ed4b62827bcfa1981d2c9cd0d2184f2efc2698af6574e0ac4a597c5", 400},
		// Event type 123 belongs to no tenant: accepted and ignored.
		{sample(t, "booking_created.json"), "7ccc6b83f9341b3a462bfa2cc24771d9c9ef5c2555ba9850377e1976035b5c8b", 200},
		{sample(t, "booking_cancelled.json"), "13f294bca22e0bd512846738eab8e72140b9c088be68658996c95f27f12974c2", 200},
		{sample(t, "ping.json"), "e83ed9a9100ef524d858d49c7c5146ebd0bc46f11a4751f7bd3fe1bd1a625f95", 200},
	}
	for i, v := range vectors {
		if got := e.Post(v.body, v.sig); got != v.wantStatus {
			t.Errorf("vector %d: status %d, want %d", i, got, v.wantStatus)
		}
	}
	if n := e.Metrics.Get(platform.MetricWebhookSignatureFailures); n != 0 {
		t.Fatalf("%d signature failures for valid vectors", n)
	}
	if n := e.Count(`SELECT COUNT(*) FROM webhook_receipts`) + e.Count(`SELECT COUNT(*) FROM appointments`) + e.Count(`SELECT COUNT(*) FROM customers`); n != 0 {
		t.Fatalf("%d rows written for PING / unknown event types", n)
	}
}

func TestBadSignaturesAre401AndWriteNothing(t *testing.T) {
	e := newEnv(t)
	body := event(calcom.TriggerBookingCreated, synctest.Start, bookingPayload("uidBadSig000000000001", synctest.BaseA+1, synctest.At(3, 10, 0), 30, "ACCEPTED", nil))
	wrong := calcom.Sign(body, "whsec_other")
	for name, sig := range map[string]string{"missing": "", "no-secret": calcom.NoSecretProvided, "wrong": wrong, "garbage": "zz"} {
		if got := e.Post(body, sig); got != http.StatusUnauthorized {
			t.Errorf("%s signature: status %d, want 401", name, got)
		}
	}
	if n := e.Metrics.Get(platform.MetricWebhookSignatureFailures); n != 4 {
		t.Fatalf("signature failure metric = %d, want 4", n)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointments`) + e.Count(`SELECT COUNT(*) FROM webhook_receipts`); n != 0 {
		t.Fatalf("%d rows written after bad signatures", n)
	}
}

// A booking made online (not by us) becomes an appointment with its
// customer: by phone when the attendee has an E.164 number, else by email.
func TestCreatedOnlineCreatesAppointmentAndCustomer(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 10, 0)
	b, err := e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: synctest.BaseA + 2, Start: start,
		Attendee: calcom.Attendee{Name: "Erika Muster", PhoneNumber: "+491609876543", Email: "erika@example.com"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	if _, err := e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: synctest.BaseA + 1, Start: synctest.At(4, 11, 0),
		Attendee: calcom.Attendee{Name: "Otto Online", Email: "otto@example.com"}}, true); err != nil {
		t.Fatal(err)
	}
	e.Flush()
	list := e.Appointments(synctest.TenantA)
	if len(list) != 2 {
		t.Fatalf("%d appointments, want 2", len(list))
	}
	a := list[0]
	if a.CalcomUID != b.UID || a.Status != booking.StatusConfirmed || a.Source != "calcom" || a.ServiceID != "damen" ||
		!a.Start.Equal(start.UTC()) || !a.End.Equal(start.Add(time.Hour).UTC()) || a.BranchID != "mitte" || a.CustomerID == nil {
		t.Fatalf("appointment %+v", a)
	}
	byPhone, err := e.Store.FindCustomerByPhone(e.Ctx, synctest.TenantA, "+491609876543")
	if err != nil || byPhone.ID != *a.CustomerID || byPhone.Name != "Erika Muster" || byPhone.Source != "calcom" {
		t.Fatalf("customer by phone: %+v, %v", byPhone, err)
	}
	byEmail, err := e.Store.FindCustomerByEmail(e.Ctx, synctest.TenantA, "otto@example.com")
	if err != nil || list[1].CustomerID == nil || byEmail.ID != *list[1].CustomerID || byEmail.Phone != "" {
		t.Fatalf("customer by email: %+v, %v", byEmail, err)
	}
	if len(e.Appointments(synctest.TenantB)) != 0 {
		t.Fatal("tenant B got an appointment")
	}
}

// Our own booking (metadata idempotency_key) completes the pending row,
// the segment's uid included, and creates nothing new.
func TestCreatedOursConfirmsPendingRow(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 10, 0)
	key := "idem-ours-1"
	row := e.Pending(synctest.TenantA, "herren", key, start, booking.AppointmentSegment{Index: 0, EventTypeID: synctest.BaseA + 1, Start: start, End: start.Add(30 * time.Minute)})
	rq := synctest.Request(synctest.TenantA, key, synctest.BaseA+1, start, 0)
	b, err := e.Client.CreateBooking(e.Ctx, calcom.CreateBookingInput{EventTypeID: rq.EventTypeID, Start: rq.Start, Metadata: rq.Metadata,
		Attendee: calcom.Attendee{Name: rq.Name, PhoneNumber: rq.Phone, TimeZone: rq.TimeZone, Language: rq.Language}})
	if err != nil {
		t.Fatal(err)
	}
	e.Flush()
	a := onlyAppointment(t, e, synctest.TenantA)
	if a.ID != row.ID || a.Status != booking.StatusConfirmed || a.CalcomUID != b.UID || a.Segments[0].CalcomUID != b.UID ||
		a.Segments[0].Status != booking.StatusConfirmed || a.Source != "phone" || a.CalcomUpdatedAt == nil {
		t.Fatalf("appointment %+v", a)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'confirmed' AND actor = 'calcom'`, a.ID); n != 1 {
		t.Fatalf("%d confirmed changes", n)
	}
}

// A composite booking's segments arrive one by one: the row stays pending
// until every segment is confirmed.
func TestCreatedOursCompositeSegments(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 9, 30) // a 45-minute event type: starts 8:00, 8:45, 9:30, …
	key := "idem-comp-1"
	s1 := start.Add(90 * time.Minute)
	e.Pending(synctest.TenantA, "faerben", key, start,
		booking.AppointmentSegment{Index: 0, EventTypeID: synctest.BaseA + 3, Start: start, End: start.Add(45 * time.Minute)},
		booking.AppointmentSegment{Index: 1, EventTypeID: synctest.BaseA + 4, Start: s1, End: s1.Add(30 * time.Minute)})
	var uids []string
	for i, st := range []time.Time{start, s1} {
		rq := synctest.Request(synctest.TenantA, key, synctest.BaseA+3+int64(i), st, i)
		b, err := e.Client.CreateBooking(e.Ctx, calcom.CreateBookingInput{EventTypeID: rq.EventTypeID, Start: rq.Start, Metadata: rq.Metadata,
			Attendee: calcom.Attendee{Name: rq.Name, PhoneNumber: rq.Phone, TimeZone: rq.TimeZone}})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, b.UID)
		e.Flush()
		a := onlyAppointment(t, e, synctest.TenantA)
		want := booking.StatusPending
		if i == 1 {
			want = booking.StatusConfirmed
		}
		if a.Status != want || a.Segments[i].CalcomUID != b.UID {
			t.Fatalf("after segment %d: %+v", i, a)
		}
	}
	a := onlyAppointment(t, e, synctest.TenantA)
	if a.CalcomUID != uids[0] || !a.Start.Equal(start.UTC()) || !a.End.Equal(s1.Add(30*time.Minute).UTC()) {
		t.Fatalf("composite %+v", a)
	}
}

// Rescheduled moves ours to the new uid and times; cancelled cancels it and
// leaves one "cancelled" change by calcom (the quota counts it). The cached
// days of the event type are invalidated.
func TestRescheduledThenCancelled(t *testing.T) {
	e := newEnv(t)
	start, moved := synctest.At(3, 10, 0), synctest.At(5, 14, 0)
	b, err := e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: synctest.BaseA + 1, Start: start,
		Attendee: calcom.Attendee{Name: "Erika Muster", PhoneNumber: "+491609876543"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	e.Flush()
	for _, day := range []string{"2027-03-03", "2027-03-05"} {
		if err := e.Cache.Put(e.Ctx, synctest.TenantA, synctest.BaseA+1, day, []time.Time{start}); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Advance(time.Minute)
	nb, err := e.Client.RescheduleBooking(e.Ctx, b.UID, moved, "")
	if err != nil {
		t.Fatal(err)
	}
	e.Flush()
	a := onlyAppointment(t, e, synctest.TenantA)
	if a.CalcomUID != nb.UID || a.Segments[0].CalcomUID != nb.UID || !a.Start.Equal(moved.UTC()) || a.RescheduleCount != 1 || a.Status != booking.StatusConfirmed {
		t.Fatalf("after reschedule: %+v", a)
	}
	for _, day := range []string{"2027-03-03", "2027-03-05"} {
		if _, ok, _ := e.Cache.Get(e.Ctx, synctest.TenantA, synctest.BaseA+1, day); ok {
			t.Fatalf("cached day %s not invalidated", day)
		}
	}
	e.Clock.Advance(time.Minute)
	if _, err := e.Client.CancelBooking(e.Ctx, nb.UID, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	e.Flush()
	a = onlyAppointment(t, e, synctest.TenantA)
	if a.Status != booking.StatusCancelled || a.Segments[0].Status != booking.StatusCancelled {
		t.Fatalf("after cancel: %+v", a)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointment_changes WHERE tenant_id = ? AND action = 'cancelled' AND actor = 'calcom'`, synctest.TenantA); n != 1 {
		t.Fatalf("%d cancelled changes, want 1", n)
	}
	n, err := e.Store.CountCancellationsSince(e.Ctx, synctest.TenantA, *a.CustomerID, synctest.Start.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("quota counter %d, %v", n, err)
	}
}

func TestRequestedThenRejected(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 10, 0)
	uid := "uidRequested0000000001"
	if s := e.PostSigned(event(calcom.TriggerBookingRequested, synctest.Start, bookingPayload(uid, synctest.BaseA+1, start, 30, "PENDING", nil))); s != 200 {
		t.Fatalf("status %d", s)
	}
	if a := onlyAppointment(t, e, synctest.TenantA); a.Status != booking.StatusPending || a.CalcomUID != uid {
		t.Fatalf("requested: %+v", a)
	}
	if s := e.PostSigned(event(calcom.TriggerBookingRejected, synctest.Start.Add(time.Hour), bookingPayload(uid, synctest.BaseA+1, start, 30, "REJECTED", map[string]any{"rejectionReason": "full"}))); s != 200 {
		t.Fatalf("status %d", s)
	}
	if a := onlyAppointment(t, e, synctest.TenantA); a.Status != booking.StatusRejected {
		t.Fatalf("rejected: %+v", a)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointment_changes WHERE action = 'cancelled'`); n != 0 {
		t.Fatal("a rejection counted as a cancellation")
	}
}

// The same event three times has one effect.
func TestDuplicateEventsHaveOneEffect(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 10, 0)
	uid := "uidDuplicate0000000001"
	created := event(calcom.TriggerBookingCreated, synctest.Start, bookingPayload(uid, synctest.BaseA+1, start, 30, "ACCEPTED", nil))
	cancelled := event(calcom.TriggerBookingCancelled, synctest.Start.Add(time.Hour), bookingPayload(uid, synctest.BaseA+1, start, 30, "CANCELLED", nil))
	for _, body := range [][]byte{created, created, created, cancelled, cancelled, cancelled} {
		if s := e.PostSigned(body); s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	a := onlyAppointment(t, e, synctest.TenantA)
	if a.Status != booking.StatusCancelled {
		t.Fatalf("%+v", a)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ?`, a.ID); n != 1 {
		t.Fatalf("%d changes, want 1 (the cancellation)", n)
	}
	if n := e.Count(`SELECT COUNT(*) FROM customers WHERE tenant_id = ?`, synctest.TenantA); n != 1 {
		t.Fatalf("%d customers", n)
	}
	if n := e.Count(`SELECT COUNT(*) FROM webhook_receipts`); n != 2 {
		t.Fatalf("%d receipts, want 2", n)
	}
}

// Events arriving out of order: the newer state wins, whichever comes last.
func TestOutOfOrderEvents(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 10, 0)
	t0 := synctest.Start

	// 1. A cancel (t0+2h) overtakes an older reschedule (t0+1h) of the same booking.
	uid := "uidOrder00000000000001"
	e.PostSigned(event(calcom.TriggerBookingCreated, t0, bookingPayload(uid, synctest.BaseA+1, start, 30, "ACCEPTED", nil)))
	e.PostSigned(event(calcom.TriggerBookingCancelled, t0.Add(2*time.Hour), bookingPayload(uid, synctest.BaseA+1, start, 30, "CANCELLED", nil)))
	e.PostSigned(event(calcom.TriggerBookingRescheduled, t0.Add(time.Hour), bookingPayload("uidOrder00000000000002", synctest.BaseA+1, start.Add(2*time.Hour), 30, "ACCEPTED",
		map[string]any{"rescheduleUid": uid})))
	a := onlyAppointment(t, e, synctest.TenantA)
	if a.Status != booking.StatusCancelled || a.CalcomUID != uid || !a.Start.Equal(start.UTC()) {
		t.Fatalf("case 1: %+v", a)
	}

	// 2. Moved A→B (t1), then B cancelled (t2); the cancel of B arrives first.
	uidA, uidB := "uidChainA0000000000001", "uidChainB0000000000001"
	day4 := synctest.At(4, 10, 0)
	e.PostSigned(event(calcom.TriggerBookingCreated, t0, bookingPayload(uidA, synctest.BaseA+2, day4, 60, "ACCEPTED", nil)))
	e.PostSigned(event(calcom.TriggerBookingCancelled, t0.Add(2*time.Hour), bookingPayload(uidB, synctest.BaseA+2, day4.Add(3*time.Hour), 60, "CANCELLED", nil)))
	e.PostSigned(event(calcom.TriggerBookingRescheduled, t0.Add(time.Hour), bookingPayload(uidB, synctest.BaseA+2, day4.Add(3*time.Hour), 60, "ACCEPTED",
		map[string]any{"rescheduleUid": uidA})))
	list := e.Appointments(synctest.TenantA)
	if len(list) != 2 {
		t.Fatalf("case 2: %d appointments", len(list))
	}
	if b := list[1]; b.Status != booking.StatusCancelled || b.CalcomUID != uidB {
		t.Fatalf("case 2: %+v", b)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'cancelled'`, list[1].ID); n != 1 {
		t.Fatalf("case 2: %d cancelled changes", n)
	}
}

// A webhook about tenant A's event type can never touch tenant B, even
// naming one of B's uids.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	start := synctest.At(3, 10, 0)
	bB, err := e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: synctest.BaseB + 1, Start: start,
		Attendee: calcom.Attendee{Name: "Bea B", PhoneNumber: "+491601111111"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	e.Flush()
	before := onlyAppointment(t, e, synctest.TenantB)
	for i, body := range [][]byte{
		event(calcom.TriggerBookingCancelled, synctest.Start.Add(time.Hour), bookingPayload(bB.UID, synctest.BaseA+1, start, 30, "CANCELLED", nil)),
		event(calcom.TriggerBookingCreated, synctest.Start.Add(2*time.Hour), bookingPayload(bB.UID, synctest.BaseA+1, start, 30, "ACCEPTED", nil)),
		event(calcom.TriggerBookingRescheduled, synctest.Start.Add(3*time.Hour), bookingPayload("uidIsoNew0000000000001", synctest.BaseA+1, start.Add(time.Hour), 30, "ACCEPTED",
			map[string]any{"rescheduleUid": bB.UID})),
		// Metadata naming tenant B's key under A's event type.
		event(calcom.TriggerBookingCreated, synctest.Start.Add(4*time.Hour), bookingPayload("uidIsoNew0000000000002", synctest.BaseA+1, start, 30, "ACCEPTED",
			map[string]any{"metadata": map[string]string{"tenant": synctest.TenantB, "idempotency_key": "k"}})),
	} {
		if s := e.PostSigned(body); s != 200 {
			t.Fatalf("event %d: status %d", i, s)
		}
	}
	after := onlyAppointment(t, e, synctest.TenantB)
	if after.Status != booking.StatusConfirmed || after.CalcomUID != bB.UID || !after.UpdatedAt.Equal(before.UpdatedAt) || !after.Start.Equal(before.Start) {
		t.Fatalf("tenant B touched: before %+v after %+v", before, after)
	}
	for _, a := range e.Appointments(synctest.TenantA) {
		if a.CalcomUID == bB.UID {
			t.Fatalf("tenant A took B's uid: %+v", a)
		}
	}
	if n := e.Count(`SELECT COUNT(*) FROM customers WHERE tenant_id = ?`, synctest.TenantB); n != 1 {
		t.Fatalf("tenant B has %d customers", n)
	}
}

func TestUnknownEventTypeIgnored(t *testing.T) {
	e := newEnv(t)
	body := event(calcom.TriggerBookingCreated, synctest.Start, bookingPayload("uidUnknownET000000001", 999, synctest.At(3, 10, 0), 30, "ACCEPTED", nil))
	if s := e.PostSigned(body); s != 200 {
		t.Fatalf("status %d", s)
	}
	other := event("MEETING_ENDED", synctest.Start, map[string]any{"uid": "x"})
	if s := e.PostSigned(other); s != 200 {
		t.Fatalf("other trigger: status %d", s)
	}
	if n := e.Count(`SELECT COUNT(*) FROM appointments`) + e.Count(`SELECT COUNT(*) FROM customers`) + e.Count(`SELECT COUNT(*) FROM webhook_receipts`); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

// unreachableStore is a real Store on a database server that is not there.
func unreachableStore(t *testing.T, clock booking.Clock) *mysql.Store {
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:1)/nowhere?timeout=300ms&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return mysql.NewStore(db, pii.DevKeyring(), clock)
}

// Database down: the raw event goes to the retry queue and Cal.com hears
// 200; the worker later applies it. Queue down too: 503.
func TestDatabaseDownQueuesEvent(t *testing.T) {
	e := newEnv(t)
	down := &calsync.Syncer{Store: unreachableStore(t, e.Clock), Queue: e.Queue, Clock: e.Clock}
	e.SetSyncer(down)
	start := synctest.At(3, 10, 0)
	b, err := e.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: synctest.BaseA + 1, Start: start,
		Attendee: calcom.Attendee{Name: "Erika Muster", PhoneNumber: "+491609876543"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	e.Flush()
	if d := e.Sandbox.Webhooks(); len(d) != 1 || d[0].Status != 200 {
		t.Fatalf("deliveries %+v", d)
	}
	if e.Queue.Depth() != 1 || len(e.Appointments(synctest.TenantA)) != 0 {
		t.Fatalf("queue depth %d", e.Queue.Depth())
	}

	h := worker.NewHandlers(worker.Deps{Store: e.Store, ClientFor: e.ClientFor, Syncer: e.Syncer, Clock: e.Clock})
	p := queue.NewProcessor(h, queue.ProcessorOptions{Clock: e.Clock, Visibility: e.Queue, DeadLetter: e.Queue})
	if err := e.Queue.Drain(e.Ctx, p); err != nil {
		t.Fatal(err)
	}
	a := onlyAppointment(t, e, synctest.TenantA)
	if a.CalcomUID != b.UID || a.Status != booking.StatusConfirmed || a.CustomerID == nil {
		t.Fatalf("after drain: %+v", a)
	}
	if len(e.Queue.DLQ()) != 0 {
		t.Fatal("job dead-lettered")
	}

	// Queue unreachable too: 503 and nothing stored.
	e.SetSyncer(&calsync.Syncer{Store: unreachableStore(t, e.Clock), Clock: e.Clock,
		Queue: queue.PublisherFunc(func(context.Context, queue.Job) error {
			return booking.Errorf(booking.KindTransient, "test", "queue down")
		})})
	body := event(calcom.TriggerBookingCreated, synctest.Start, bookingPayload("uidQueueDown0000000001", synctest.BaseA+1, start.Add(time.Hour), 30, "ACCEPTED", nil))
	if s := e.PostSigned(body); s != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", s)
	}
}

func ExampleEventKey() {
	ev, _ := calcom.ParseWebhook([]byte(`{"triggerEvent":"BOOKING_CANCELLED","createdAt":"2026-03-04T16:20:03.530Z","payload":{"uid":"u1","startTime":"2026-03-05T17:30:00Z","endTime":"2026-03-05T18:00:00Z"}}`))
	fmt.Println(calsync.EventKey(ev))
	// Output: BOOKING_CANCELLED:u1:2026-03-04T16:20:03.53Z
}
