package worker_test

import (
	"strconv"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calsync/synctest"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/queue/sqstest"
	"github.com/telefonagent/gateway/shared/testenv"
	"github.com/telefonagent/gateway/shared/worker"
)

// A worker dies holding a job: it received the create-booking message and
// got as far as creating the booking in Cal.com, then stopped before
// confirming our row or deleting the message. SQS (moto) delivers the
// message again once its visibility timeout ran out; the handler, with no
// dedupe to help it, finds the booking by our idempotency key instead of
// booking twice, and confirms the row once.
func TestWorkerDiesJobComesBackAfterVisibilityTimeout(t *testing.T) {
	r := newRig(t)
	r.Sandbox.SkipWebhooks(10) // the worker alone must get it right
	c := testenv.SQS(t)
	dead := testenv.CreateQueue(t, c, "worker-dlq", nil)
	main := testenv.CreateQueue(t, c, "worker", map[string]string{"VisibilityTimeout": "1",
		"RedrivePolicy": testenv.RedrivePolicy(dead.ARN, queue.DefaultMaxReceives)})
	sq := queue.NewSQS(c, main.URL, r.Clock)
	proc := queue.NewProcessor(worker.NewHandlers(r.deps), queue.ProcessorOptions{Clock: r.Clock, Visibility: sq,
		OnFinalFailure: r.deps.OnFinalFailure, OnResult: r.deps.OnResult})
	esm := sqstest.ESM{Client: c, Queue: main}

	start := synctest.At(3, 12, 0)
	a, p := r.pendingSimple("idem-w-dies", start)
	if err := sq.Publish(r.Ctx, r.job(queue.TypeCreateBooking, synctest.TenantA, "idem-w-dies", p)); err != nil {
		t.Fatal(err)
	}

	// The worker that dies: received, booked in Cal.com, nothing else.
	if msgs := esm.Receive(t); len(msgs) != 1 {
		t.Fatalf("first receive got %d messages", len(msgs))
	}
	if _, err := create(r.Client, r.Ctx, p.Requests[0]); err != nil {
		t.Fatal(err)
	}

	// Its successor: the message comes back after the visibility timeout.
	esm.WaitSeconds = 2
	var msgs = esm.Receive(t)
	for i := 0; i < 10 && len(msgs) == 0; i++ {
		msgs = esm.Receive(t)
	}
	if len(msgs) != 1 {
		t.Fatal("the job never came back after the dead worker's visibility timeout")
	}
	if n, _ := strconv.Atoi(msgs[0].Attributes["ApproximateReceiveCount"]); n != 2 {
		t.Fatalf("receive count %d, want 2", n)
	}
	ev := esm.Event(msgs)
	resp, _ := proc.Handle(r.Ctx, ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivered job failed: %+v", resp.BatchItemFailures)
	}
	esm.DeleteSucceeded(t, ev, resp)

	got := bookingsWithKey(r.Sandbox, "idem-w-dies")
	if len(got) != 1 || r.Sandbox.Requests()[calcomtest.RouteCreate] != 1 {
		t.Fatalf("%d bookings after %d creates, want 1 and 1", len(got), r.Sandbox.Requests()[calcomtest.RouteCreate])
	}
	row, _ := r.Store.GetAppointment(r.Ctx, synctest.TenantA, a.ID)
	if row.Status != booking.StatusConfirmed || row.CalcomUID != got[0].UID {
		t.Fatalf("row %+v", row)
	}
	if n := r.Count(`SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = ? AND action = 'confirmed'`, a.ID); n != 1 {
		t.Fatalf("%d confirmed changes, want 1", n)
	}
	v, f, d := testenv.QueueCounts(t, c, main.URL)
	if v+f+d != 0 {
		t.Fatalf("queue not empty: %d/%d/%d", v, f, d)
	}
}
