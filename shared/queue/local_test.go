package queue

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
)

// movableClock is a test clock that only moves when told.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// batchRecorder is a BatchHandler that fails the records it is told to.
type batchRecorder struct {
	fail    func(events.SQSMessage) bool
	batches [][]events.SQSMessage
}

func (b *batchRecorder) Handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	b.batches = append(b.batches, ev.Records)
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if b.fail != nil && b.fail(r) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

func TestLocalQueueVisibility(t *testing.T) {
	clock := &movableClock{t: t0}
	q := NewLocalQueue(LocalOptions{VisibilityTimeout: 30 * time.Second, Clock: clock})
	ctx := context.Background()
	j := testJob(t, TypeCancel)
	if err := q.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	h := &batchRecorder{fail: func(events.SQSMessage) bool { return true }}
	if !q.step(ctx, h) {
		t.Fatal("nothing received")
	}
	rec := h.batches[0][0]
	if rec.Attributes["ApproximateReceiveCount"] != "1" || *rec.MessageAttributes[AttrJobType].StringValue != TypeCancel {
		t.Fatalf("record %+v", rec)
	}
	if d, _ := q.QueueDepth(ctx); d != 0 || q.Depth() != 1 {
		t.Fatalf("in flight: depth %d / %d", d, q.Depth())
	}
	if q.step(ctx, h) {
		t.Fatal("received while invisible")
	}
	clock.Advance(30 * time.Second)
	if !q.step(ctx, h) || h.batches[1][0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatal("not redelivered after the visibility timeout")
	}
	// A visibility change (the processor's backoff) wins over the default.
	if err := q.ChangeVisibility(ctx, h.batches[1][0].ReceiptHandle, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if q.step(ctx, h) {
		t.Fatal("received before the changed visibility ran out")
	}
	if err := q.ChangeVisibility(ctx, h.batches[0][0].ReceiptHandle, 0); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("stale receipt handle accepted: %v", err)
	}
	clock.Advance(4 * time.Minute)
	h.fail = nil
	if !q.step(ctx, h) || q.Depth() != 0 {
		t.Fatalf("acknowledged message not deleted: depth %d", q.Depth())
	}
}

func TestLocalQueueDelayedPublish(t *testing.T) {
	clock := &movableClock{t: t0}
	q := NewLocalQueue(LocalOptions{Clock: clock})
	j := testJob(t, TypePrefetch)
	nb := t0.Add(2 * time.Minute)
	j.NotBefore = &nb
	if err := q.Publish(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if d, _ := q.QueueDepth(context.Background()); d != 0 {
		t.Fatalf("delayed message visible: %d", d)
	}
	clock.Advance(2 * time.Minute)
	if d, _ := q.QueueDepth(context.Background()); d != 1 {
		t.Fatalf("delayed message not visible after its delay: %d", d)
	}
}

// The whole retry path on the local queue: a job failing transiently is
// received five times with growing backoff, lands in the DLQ once, is
// redriven, and then succeeds.
func TestLocalQueueRetriesToDLQAndRedrive(t *testing.T) {
	clock := &movableClock{t: t0}
	q := NewLocalQueue(LocalOptions{VisibilityTimeout: 3 * time.Minute, Clock: clock})
	ctx := context.Background()
	var finals []Job
	up := false
	var attempts []int
	p := NewProcessor(map[string]HandlerFunc{TypeCreateBooking: func(_ context.Context, j Job) error {
		attempts = append(attempts, j.Attempt)
		if !up {
			return booking.Errorf(booking.KindTransient, "calcom.CreateBooking", "cal.com down")
		}
		return nil
	}}, ProcessorOptions{
		Clock: clock, Visibility: q, Dedup: NewMemoryDedup(), Backoff: Backoff{Base: time.Second, Max: time.Minute},
		OnFinalFailure: func(_ context.Context, j Job, _ error) { finals = append(finals, j) },
	})
	j := testJob(t, TypeCreateBooking)
	if err := q.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := q.Drain(ctx, p); err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 5 || attempts[4] != 5 {
		t.Fatalf("attempts %v, want 5 receives", attempts)
	}
	if q.Depth() != 0 || len(q.DLQ()) != 1 || len(finals) != 1 {
		t.Fatalf("depth %d, dlq %d, finals %d", q.Depth(), len(q.DLQ()), len(finals))
	}
	dead := q.DLQ()[0]
	if dead.JobID != j.ID || dead.JobType != TypeCreateBooking || dead.TenantID != "salon-a" || dead.Receives != 5 {
		t.Fatalf("dead message %+v", dead)
	}
	up = true
	if n := q.Redrive(); n != 1 || len(q.DLQ()) != 0 {
		t.Fatalf("redrove %d", n)
	}
	if err := q.Drain(ctx, p); err != nil {
		t.Fatal(err)
	}
	if q.Depth() != 0 || len(q.DLQ()) != 0 || len(attempts) != 6 || attempts[5] != 1 {
		t.Fatalf("after redrive: depth %d dlq %d attempts %v", q.Depth(), len(q.DLQ()), attempts)
	}
}

func TestLocalQueuePoisonGoesToDLQOnce(t *testing.T) {
	q := NewLocalQueue(LocalOptions{Clock: &movableClock{t: t0}})
	ctx := context.Background()
	finals := 0
	p := NewProcessor(map[string]HandlerFunc{}, ProcessorOptions{
		Visibility: q, DeadLetter: q, OnFinalFailure: func(context.Context, Job, error) { finals++ },
	})
	if err := q.Publish(ctx, testJob(t, "calcom.from_the_future")); err != nil {
		t.Fatal(err)
	}
	if err := q.Drain(ctx, p); err != nil {
		t.Fatal(err)
	}
	if q.Depth() != 0 || len(q.DLQ()) != 1 || finals != 1 || q.DLQ()[0].Receives != 1 {
		t.Fatalf("depth %d dlq %+v finals %d", q.Depth(), q.DLQ(), finals)
	}
	if q.PurgeDLQ() != 1 || len(q.DLQ()) != 0 {
		t.Fatal("DLQ not purged")
	}
}

func TestLocalQueueDrainManyAndPurge(t *testing.T) {
	q := NewLocalQueue(LocalOptions{Clock: &movableClock{t: t0}, BatchSize: 3})
	ctx := context.Background()
	runs := map[string]int{}
	var failedOnce sync.Map
	p := NewProcessor(map[string]HandlerFunc{TypeCancel: func(_ context.Context, j Job) error {
		runs[j.ID]++
		if _, loaded := failedOnce.LoadOrStore(j.ID, true); !loaded && len(runs)%2 == 0 {
			return booking.Errorf(booking.KindTransient, "x", "flaky")
		}
		return nil
	}}, ProcessorOptions{Visibility: q, Dedup: NewMemoryDedup()})
	for range 20 {
		if err := q.Publish(ctx, testJob(t, TypeCancel)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Drain(ctx, p); err != nil {
		t.Fatal(err)
	}
	if q.Depth() != 0 || len(runs) != 20 || len(q.DLQ()) != 0 {
		t.Fatalf("depth %d, jobs run %d, dlq %d", q.Depth(), len(runs), len(q.DLQ()))
	}
	for range 3 {
		_ = q.Publish(ctx, testJob(t, TypeCancel))
	}
	if n := q.Purge(); n != 3 || q.Depth() != 0 {
		t.Fatalf("purged %d, depth %d", n, q.Depth())
	}
}

func TestLocalQueueRun(t *testing.T) {
	q := NewLocalQueue(LocalOptions{PollInterval: 5 * time.Millisecond})
	done := make(chan string, 1)
	p := NewProcessor(map[string]HandlerFunc{TypeCancel: func(_ context.Context, j Job) error { done <- j.ID; return nil }}, ProcessorOptions{Visibility: q})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- q.Run(ctx, p) }()
	j := testJob(t, TypeCancel)
	if err := q.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-done:
		if id != j.ID {
			t.Fatalf("ran %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not process the published job")
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if q.Depth() != 0 {
		t.Fatalf("depth %d", q.Depth())
	}
}
