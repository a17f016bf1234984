package worker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calsync/synctest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/worker"
)

type rig struct {
	*synctest.Env
	deps worker.Deps
	proc *queue.Processor
}

func newRig(t *testing.T) *rig {
	e := synctest.New(t, "worker")
	d := worker.Deps{Store: e.Store, ClientFor: e.ClientFor, Syncer: e.Syncer, Cache: e.Cache, Queue: e.Queue, Clock: e.Clock, Metrics: e.Metrics}
	p := queue.NewProcessor(worker.NewHandlers(d), queue.ProcessorOptions{Clock: e.Clock, Visibility: e.Queue, DeadLetter: e.Queue,
		OnFinalFailure: d.OnFinalFailure, OnResult: d.OnResult})
	return &rig{Env: e, deps: d, proc: p}
}

func (r *rig) publish(j queue.Job) {
	r.T.Helper()
	if err := r.Queue.Publish(r.Ctx, j); err != nil {
		r.T.Fatal(err)
	}
}

func (r *rig) job(typ, tenant, key string, payload any) queue.Job {
	r.T.Helper()
	j, err := queue.NewJob(typ, tenant, key, payload, r.Clock.Now())
	if err != nil {
		r.T.Fatal(err)
	}
	return j
}

func (r *rig) drain() {
	r.T.Helper()
	if err := r.Queue.Drain(r.Ctx, r.proc); err != nil {
		r.T.Fatal(err)
	}
}

func bookingsWithKey(sb *calcomtest.Sandbox, key string) (active []calcomtest.Booking) {
	for _, b := range sb.Bookings() {
		if b.Metadata["idempotency_key"] == key && b.Active() {
			active = append(active, b)
		}
	}
	return active
}

// pendingSimple stores a pending herren appointment of tenant A at start
// and returns it with its create job payload.
func (r *rig) pendingSimple(key string, start time.Time) (*booking.Appointment, incall.CreateBookingJob) {
	a := r.Pending(synctest.TenantA, "herren", key, start,
		booking.AppointmentSegment{Index: 0, EventTypeID: synctest.BaseA + 1, Start: start, End: start.Add(30 * time.Minute)})
	return a, incall.CreateBookingJob{AppointmentID: a.ID, Requests: []booking.CreateBookingRequest{synctest.Request(synctest.TenantA, key, synctest.BaseA+1, start, 0)}}
}

func create(c *calcom.Client, ctx context.Context, rq booking.CreateBookingRequest) (calcom.Booking, error) {
	return c.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: rq.EventTypeID, Start: rq.Start, Metadata: rq.Metadata,
		Attendee: calcom.Attendee{Name: rq.Name, PhoneNumber: rq.Phone, TimeZone: rq.TimeZone, Language: rq.Language}})
}

// Unknown outcome: Cal.com booked, the answer never arrived. The job finds
// the booking by our key; exactly one booking exists afterwards.
func TestCreateAfterTimeoutFindsTheBooking(t *testing.T) {
	r := newRig(t)
	r.Sandbox.SkipWebhooks(10) // the worker alone must get it right
	start := synctest.At(3, 10, 0)
	a, p := r.pendingSimple("idem-w-1", start)
	r.Sandbox.TimeoutAfterCreate(2 * time.Second)
	_, err := create(r.NewClient(200*time.Millisecond), r.Ctx, p.Requests[0])
	if !calcom.IsUnknownOutcome(err) {
		t.Fatalf("want unknown outcome, got %v", err)
	}
	r.publish(r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-1", p))
	r.drain()
	got := bookingsWithKey(r.Sandbox, "idem-w-1")
	if len(got) != 1 {
		t.Fatalf("%d bookings, want 1", len(got))
	}
	row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, a.ID)
	if row.Status != booking.StatusConfirmed || row.CalcomUID != got[0].UID || row.Segments[0].CalcomUID != got[0].UID {
		t.Fatalf("row %+v", row)
	}
	if n := r.Sandbox.Requests()[calcomtest.RouteCreate]; n != 1 {
		t.Fatalf("%d creates, want 1 (the job must not create again)", n)
	}
}

// Unknown outcome with nothing created (Cal.com failed before storing):
// the job creates the booking, once, even when delivered three times.
func TestCreateWhenNothingWasCreatedAndRedelivered(t *testing.T) {
	r := newRig(t)
	start := synctest.At(3, 11, 0)
	a, p := r.pendingSimple("idem-w-2", start)
	r.Sandbox.FailNext(calcomtest.RouteCreate, 1, http.StatusInternalServerError)
	if _, err := create(r.Client, r.Ctx, p.Requests[0]); !calcom.IsUnknownOutcome(err) {
		t.Fatalf("want unknown outcome, got %v", err)
	}
	j := r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-2", p)
	for i := 0; i < 3; i++ { // the same message delivered three times
		r.publish(j)
	}
	r.drain()
	r.Flush()
	if got := bookingsWithKey(r.Sandbox, "idem-w-2"); len(got) != 1 {
		t.Fatalf("%d bookings, want 1", len(got))
	}
	row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, a.ID)
	if row.Status != booking.StatusConfirmed || row.CalcomUID == "" {
		t.Fatalf("row %+v", row)
	}
	if n := r.Count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'confirmed'`, a.ID); n != 1 {
		t.Fatalf("%d confirmed changes, want 1", n)
	}
	if n := r.Metrics.Get(platform.MetricJobsProcessed); n != 3 {
		t.Fatalf("JobsProcessed = %d", n)
	}
}

// The slot went while the outcome was unknown: the caller was told
// "pending", so the row fails with needs_attention and a callback is due.
func TestCreateSlotTakenNeedsAttentionAndCallback(t *testing.T) {
	r := newRig(t)
	start := synctest.At(3, 12, 0)
	a, p := r.pendingSimple("idem-w-3", start)
	if _, err := r.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: synctest.BaseA + 1, Start: start,
		Attendee: calcom.Attendee{Name: "Someone Else", Email: "else@example.com"}}, false); err != nil {
		t.Fatal(err)
	}
	r.publish(r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-3", p))
	r.drain()
	row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, a.ID)
	if row.Status != booking.StatusFailed || row.NeedsAttention != worker.ReasonSlotTakenCreate {
		t.Fatalf("row %+v", row)
	}
	cbs, err := r.Store.OpenCallbacks(r.Ctx, synctest.TenantA, 10)
	if err != nil || len(cbs) != 1 || cbs[0].Reason != worker.CallbackSlotTaken || cbs[0].Phone != "+491701234567" || cbs[0].CallID != a.CallID {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}
	if got := bookingsWithKey(r.Sandbox, "idem-w-3"); len(got) != 0 {
		t.Fatalf("%d bookings under our key", len(got))
	}
}

// Compensation cancels what is left; already cancelled is done, and a
// repeat of the job changes nothing.
func TestCompensate(t *testing.T) {
	r := newRig(t)
	var uids []string
	for i, et := range []int64{synctest.BaseA + 3, synctest.BaseA + 4} {
		b, err := r.Sandbox.AddBooking(calcomtest.Booking{EventTypeID: et, Start: synctest.At(3, 9+i, 30), Attendee: calcom.Attendee{Name: "Max", Email: "max@example.com"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, b.UID)
	}
	if _, err := r.Client.CancelBooking(r.Ctx, uids[0], ""); err != nil {
		t.Fatal(err)
	}
	j := r.job(queue.TypeCompensate, synctest.TenantA, "compensate:1", incall.CompensateJob{AppointmentID: 1, UIDs: uids})
	r.publish(j)
	r.publish(j)
	r.drain()
	for _, uid := range uids {
		if b, _ := r.Sandbox.Booking(uid); b.Status != calcom.StatusCancelled {
			t.Fatalf("%s is %s", uid, b.Status)
		}
	}
	if len(r.Queue.DLQ()) != 0 || r.Metrics.Get(platform.MetricJobFailures) != 0 {
		t.Fatal("compensation failed")
	}
}

// A cancel whose outcome was unknown: Cal.com down for a while, then the
// job finishes it; the row is cancelled once.
func TestCancelJobRetriesUntilDone(t *testing.T) {
	r := newRig(t)
	start := synctest.At(3, 13, 0)
	a, p := r.pendingSimple("idem-w-5", start)
	b, err := create(r.Client, r.Ctx, p.Requests[0])
	if err != nil {
		t.Fatal(err)
	}
	r.Flush() // the webhook confirms the row
	r.Sandbox.FailNext(calcomtest.RouteCancel, 2, http.StatusServiceUnavailable)
	r.publish(r.job(queue.TypeCancel, synctest.TenantA, "cancel:x", incall.CancelJob{AppointmentID: a.ID, UIDs: []string{b.UID}, Reason: "caller"}))
	r.drain()
	r.Flush()
	if sb, _ := r.Sandbox.Booking(b.UID); sb.Status != calcom.StatusCancelled {
		t.Fatalf("booking %s", sb.Status)
	}
	row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, a.ID)
	if row.Status != booking.StatusCancelled {
		t.Fatalf("row %+v", row)
	}
	if n := r.Count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'cancelled'`, a.ID); n != 1 {
		t.Fatalf("%d cancelled changes", n)
	}
}

// A reschedule whose outcome was unknown (Cal.com moved it, the answer was
// lost) is followed to the new booking; delivered twice, moved once.
func TestRescheduleJobFollowsTheMove(t *testing.T) {
	r := newRig(t)
	r.Sandbox.SkipWebhooks(10)
	start, target := synctest.At(3, 14, 0), synctest.At(4, 9, 0)
	a, p := r.pendingSimple("idem-w-6", start)
	b, err := create(r.Client, r.Ctx, p.Requests[0])
	if err != nil {
		t.Fatal(err)
	}
	r.publish(r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-6", p))
	r.drain()
	r.Sandbox.InjectFault(calcomtest.RouteReschedule, calcomtest.Fault{AfterCommit: true, Status: http.StatusBadGateway})
	if _, err := r.Client.RescheduleBooking(r.Ctx, b.UID, target, ""); !calcom.IsUnknownOutcome(err) {
		t.Fatalf("want unknown outcome, got %v", err)
	}
	j := r.job(queue.TypeReschedule, synctest.TenantA, "resched", incall.RescheduleJob{AppointmentID: a.ID, UIDs: []string{b.UID}, NewStart: target})
	r.publish(j)
	r.publish(j)
	r.drain()
	old, _ := r.Sandbox.Booking(b.UID)
	row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, a.ID)
	if row.CalcomUID != old.RescheduledToUID || !row.Start.Equal(target.UTC()) || row.RescheduleCount != 1 {
		t.Fatalf("row %+v (successor %s)", row, old.RescheduledToUID)
	}
	if n := r.Sandbox.Requests()[calcomtest.RouteReschedule]; n != 1 {
		t.Fatalf("%d reschedules sent, want 1", n)
	}
}

// Poison (unknown job type) lands in the DLQ once; a permanent failure and
// an exhausted one leave needs_attention, an error log and the metric.
func TestPoisonAndFinalFailures(t *testing.T) {
	r := newRig(t)
	r.publish(r.job("calcom.nonsense", synctest.TenantA, "", map[string]int{"x": 1}))
	start := synctest.At(3, 15, 0)
	a, p := r.pendingSimple("idem-w-7", start)
	p.Requests[0].Name = "" // Cal.com would reject it: permanent
	r.publish(r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-7", p))
	b, _ := r.pendingSimple("idem-w-8", start.Add(time.Hour))
	r.Sandbox.FailNext(calcomtest.RouteCancel, 100, http.StatusServiceUnavailable)
	r.publish(r.job(queue.TypeCancel, synctest.TenantA, "cancel:y", incall.CancelJob{AppointmentID: b.ID, UIDs: []string{"uidNeverThere000000001"}}))
	r.drain()
	dlq := r.Queue.DLQ()
	if len(dlq) != 2 { // the poison message (at once) and the exhausted cancel (after 5 receives)
		t.Fatalf("DLQ holds %d", len(dlq))
	}
	types := map[string]int{}
	for _, m := range dlq {
		types[m.JobType]++
	}
	if types["calcom.nonsense"] != 1 || types[queue.TypeCancel] != 1 {
		t.Fatalf("DLQ %+v", types)
	}
	for _, id := range []int64{a.ID, b.ID} {
		row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, id)
		if row.NeedsAttention == "" {
			t.Fatalf("appointment %d has no needs_attention", id)
		}
	}
	if n := r.Metrics.Get(platform.MetricJobFailures); n != 3 {
		t.Fatalf("JobFailures = %d, want 3", n)
	}
}

// Prefetch warms 7 days of every event type of the branch with one slots
// request per event type.
func TestPrefetchFillsSevenDays(t *testing.T) {
	r := newRig(t)
	before := r.Sandbox.Requests()[calcomtest.RouteSlots]
	r.publish(r.job(queue.TypePrefetch, synctest.TenantA, "", worker.PrefetchJob{TenantID: synctest.TenantA, BranchID: "mitte"}))
	r.drain()
	if n := r.Sandbox.Requests()[calcomtest.RouteSlots] - before; n != 4 {
		t.Fatalf("%d slots requests, want 4 (one per event type)", n)
	}
	for et := int64(synctest.BaseA + 1); et <= synctest.BaseA+4; et++ {
		for i := 0; i < 7; i++ {
			day := synctest.Start.AddDate(0, 0, i).Format("2006-01-02")
			slots, ok, err := r.Cache.Get(r.Ctx, synctest.TenantA, et, day)
			if err != nil || !ok || len(slots) == 0 {
				t.Fatalf("event type %d day %s: ok=%v n=%d err=%v", et, day, ok, len(slots), err)
			}
		}
		if _, ok, _ := r.Cache.Get(r.Ctx, synctest.TenantA, et, synctest.Start.AddDate(0, 0, 7).Format("2006-01-02")); ok {
			t.Fatal("an eighth day was cached")
		}
	}
	if _, ok, _ := r.Cache.Get(r.Ctx, synctest.TenantB, synctest.BaseB+1, synctest.Start.Format("2006-01-02")); ok {
		t.Fatal("tenant B's cache was warmed")
	}
}

func TestRetellEventCallsRecordRaw(t *testing.T) {
	r := newRig(t)
	var got []byte
	r.deps.RecordRaw = func(_ context.Context, body []byte) error { got = body; return nil }
	h := worker.NewHandlers(r.deps)[queue.TypeRetellEvent]
	j := r.job(queue.TypeRetellEvent, "", "", json.RawMessage(`{"event":"call_ended","call":{"call_id":"c1"}}`))
	if err := h(r.Ctx, j); err != nil || string(got) != `{"event":"call_ended","call":{"call_id":"c1"}}` {
		t.Fatalf("err %v, body %s", err, got)
	}
}

// The caller cancelled while the create's outcome was unknown, but Cal.com
// had booked it: the job must cancel that orphan, not leave it blocking
// the slot, and must not book anything.
func TestCreateJobCancelsOrphanAfterCallerCancelled(t *testing.T) {
	r := newRig(t)
	r.Sandbox.SkipWebhooks(10)
	start := synctest.At(3, 11, 0)
	a, p := r.pendingSimple("idem-w-orphan", start)
	r.Sandbox.TimeoutAfterCreate(2 * time.Second)
	if _, err := create(r.NewClient(200*time.Millisecond), r.Ctx, p.Requests[0]); !calcom.IsUnknownOutcome(err) {
		t.Fatalf("want unknown outcome, got %v", err)
	}
	if _, err := r.Store.UpdateAppointment(r.Ctx, synctest.TenantA, a.ID, func(x *booking.Appointment) (*booking.Appointment, error) {
		x.Status = booking.StatusCancelled
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}
	r.publish(r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-orphan", p))
	r.drain()
	if got := bookingsWithKey(r.Sandbox, "idem-w-orphan"); len(got) != 0 {
		t.Fatalf("%d active bookings left, want 0", len(got))
	}
	if n := r.Sandbox.Requests()[calcomtest.RouteCreate]; n != 1 {
		t.Fatalf("%d creates, want 1 (nothing may be booked after a cancellation)", n)
	}
}
