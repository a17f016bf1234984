package queue

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Publisher enqueues a job. Every function uses this one interface; a
// failure is booking.KindTransient (queue unreachable: the caller answers
// 503) or KindInvalid/KindTooLarge (a bug in the caller). A job whose
// NotBefore lies in the future is delayed (at most 15 minutes by the queue;
// the processor defers it again if it arrives early).
type Publisher interface {
	Publish(ctx context.Context, j Job) error
}

// PublisherFunc adapts a function to Publisher (fakes in tests).
type PublisherFunc func(ctx context.Context, j Job) error

func (f PublisherFunc) Publish(ctx context.Context, j Job) error { return f(ctx, j) }

// VisibilityChanger hides a received message for timeout from now: the
// processor's backoff. Implemented by SQS and LocalQueue.
type VisibilityChanger interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, timeout time.Duration) error
}

// DepthReader reports how many messages wait to be received; the health
// function reads it for the queue and for the DLQ.
type DepthReader interface {
	QueueDepth(ctx context.Context) (int, error)
}

// DeadLetterer stores a message that can never be processed (undecodable)
// in the dead-letter queue at once, so an operator sees it and it is not
// received again and again.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, msg events.SQSMessage, reason error) error
}

// Dedup remembers finished jobs so a redelivered message is acknowledged
// without running again. The lead backs it with MySQL webhook_receipts or
// Redis; an error from Seen lets the job run (handlers are idempotent on
// their own keys, dedupe only saves work), an error from Mark is logged.
type Dedup interface {
	Seen(ctx context.Context, jobID string) (bool, error)
	Mark(ctx context.Context, jobID string) error
}

// MemoryDedup is an in-process Dedup for tests and the dev gateway.
type MemoryDedup struct {
	mu   sync.Mutex
	done map[string]struct{}
}

// NewMemoryDedup returns an empty MemoryDedup.
func NewMemoryDedup() *MemoryDedup { return &MemoryDedup{done: map[string]struct{}{}} }

func (d *MemoryDedup) Seen(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.done[id]
	return ok, nil
}

func (d *MemoryDedup) Mark(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done[id] = struct{}{}
	return nil
}

// DedupFuncs adapts functions to Dedup (fakes in tests).
type DedupFuncs struct {
	SeenFunc func(ctx context.Context, jobID string) (bool, error)
	MarkFunc func(ctx context.Context, jobID string) error
}

func (d DedupFuncs) Seen(ctx context.Context, id string) (bool, error) { return d.SeenFunc(ctx, id) }
func (d DedupFuncs) Mark(ctx context.Context, id string) error         { return d.MarkFunc(ctx, id) }

// Message attribute names set on every published job, so operators and
// filters can see type and tenant without reading the body.
const (
	AttrJobType  = "job_type"
	AttrTenantID = "tenant_id"
	AttrJobID    = "job_id"
)

// maxDelay is the longest delay SQS accepts on send.
const maxDelay = 15 * time.Minute

// delayFor returns how long a job must wait before its first delivery.
func delayFor(j Job, now time.Time) time.Duration {
	if j.NotBefore == nil {
		return 0
	}
	d := j.NotBefore.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, maxDelay)
}
