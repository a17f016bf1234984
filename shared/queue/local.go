package queue

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
)

// BatchHandler consumes one SQS event; *Processor is one.
type BatchHandler interface {
	Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)
}

// LocalOptions configures a LocalQueue. Zero values take the defaults.
type LocalOptions struct {
	VisibilityTimeout time.Duration // default 3 minutes (6 × the worker's 30 s timeout)
	MaxReceives       int           // default DefaultMaxReceives; the next receive moves it to the DLQ
	Clock             booking.Clock // default booking.SystemClock
	BatchSize         int           // records per event, default 10
	PollInterval      time.Duration // Run's idle wait, default 100 ms
}

// LocalQueue is an in-memory queue with the SQS semantics the worker relies
// on: a receive hides a message for the visibility timeout and counts the
// receive; a message not deleted comes back; one received MaxReceives times
// and still not deleted moves to the dead-letter queue on its next receive.
// The dev gateway runs the worker on it in-process; tests Drain it.
type LocalQueue struct {
	o    LocalOptions
	wake chan struct{}

	mu   sync.Mutex
	skew time.Duration // Drain's fast-forward over backoff delays
	seq  int
	msgs []*localMessage
	dlq  []*localMessage
}

type localMessage struct {
	id, body      string
	attrs         map[string]string
	sentAt        time.Time
	firstReceived time.Time
	receives      int
	visibleAt     time.Time
	receipt       string
}

// DeadMessage is a message in the local DLQ as an operator sees it.
type DeadMessage struct {
	MessageID string
	JobID     string // from the attributes; the body is not decoded
	JobType   string
	TenantID  string
	Receives  int
	SentAt    time.Time
	Body      string // may hold personal data: for tests, never print it
}

// NewLocalQueue returns an empty queue.
func NewLocalQueue(o LocalOptions) *LocalQueue {
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = 3 * time.Minute
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = DefaultMaxReceives
	}
	if o.Clock == nil {
		o.Clock = booking.SystemClock
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	return &LocalQueue{o: o, wake: make(chan struct{}, 1)}
}

func (q *LocalQueue) now() time.Time { return q.o.Clock.Now().Add(q.skew) }

// Publish enqueues j, delayed until its NotBefore (at most 15 minutes, as SQS).
func (q *LocalQueue) Publish(ctx context.Context, j Job) error {
	body, err := Encode(j)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return booking.Wrap(booking.KindTransient, "queue.LocalPublish", err, "publish cancelled")
	}
	q.mu.Lock()
	now := q.now()
	q.seq++
	q.msgs = append(q.msgs, &localMessage{
		id: "local-" + strconv.Itoa(q.seq), body: string(body), attrs: jobAttributes(j),
		sentAt: now, visibleAt: now.Add(delayFor(j, now)),
	})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// ChangeVisibility hides the message received with receiptHandle for d from now.
func (q *LocalQueue) ChangeVisibility(_ context.Context, receiptHandle string, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.msgs {
		if m.receipt == receiptHandle && m.receipt != "" {
			m.visibleAt = q.now().Add(d)
			return nil
		}
	}
	return booking.Errorf(booking.KindNotFound, "queue.LocalChangeVisibility", "receipt handle unknown or expired")
}

// DeadLetter moves an unprocessable message to the DLQ at once; the
// processor then acknowledges it and Run deletes the original.
func (q *LocalQueue) DeadLetter(_ context.Context, msg events.SQSMessage, _ error) error {
	attrs := map[string]string{}
	for k, v := range msg.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	q.dlq = append(q.dlq, &localMessage{id: "local-" + strconv.Itoa(q.seq), body: msg.Body, attrs: attrs, sentAt: q.now(), receives: receiveCount(msg)})
	return nil
}

// QueueDepth is the number of messages ready to be received, like SQS's
// ApproximateNumberOfMessages (in-flight and delayed ones not counted).
func (q *LocalQueue) QueueDepth(context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now, n := q.now(), 0
	for _, m := range q.msgs {
		if !m.visibleAt.After(now) {
			n++
		}
	}
	return n, nil
}

// Depth is the number of messages not yet deleted: ready, in flight or delayed.
func (q *LocalQueue) Depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// DLQ lists the dead-lettered messages, oldest first.
func (q *LocalQueue) DLQ() []DeadMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]DeadMessage, 0, len(q.dlq))
	for _, m := range q.dlq {
		out = append(out, DeadMessage{
			MessageID: m.id, JobID: m.attrs[AttrJobID], JobType: m.attrs[AttrJobType], TenantID: m.attrs[AttrTenantID],
			Receives: m.receives, SentAt: m.sentAt, Body: m.body,
		})
	}
	return out
}

// Redrive moves every dead-lettered message back to the queue as a new
// message (receive count 0) and returns how many moved.
func (q *LocalQueue) Redrive() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, m := range q.dlq {
		m.receives, m.receipt, m.firstReceived = 0, "", time.Time{}
		m.sentAt, m.visibleAt = now, now
	}
	n := len(q.dlq)
	q.msgs = append(q.msgs, q.dlq...)
	q.dlq = nil
	return n
}

// Purge deletes every message of the queue (not the DLQ) and returns how many.
func (q *LocalQueue) Purge() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.msgs)
	q.msgs = nil
	return n
}

// PurgeDLQ deletes every dead-lettered message and returns how many.
func (q *LocalQueue) PurgeDLQ() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.dlq)
	q.dlq = nil
	return n
}

// receive takes up to max visible messages, counting the receive and
// hiding them; messages already received MaxReceives times go to the DLQ.
func (q *LocalQueue) receive(max int) []events.SQSMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	var out []events.SQSMessage
	keep := q.msgs[:0]
	for _, m := range q.msgs {
		switch {
		case len(out) >= max || m.visibleAt.After(now):
			keep = append(keep, m)
		case m.receives >= q.o.MaxReceives:
			m.receipt = ""
			q.dlq = append(q.dlq, m)
		default:
			m.receives++
			if m.firstReceived.IsZero() {
				m.firstReceived = now
			}
			m.receipt = m.id + "#" + strconv.Itoa(m.receives)
			m.visibleAt = now.Add(q.o.VisibilityTimeout)
			out = append(out, m.record())
			keep = append(keep, m)
		}
	}
	clear(q.msgs[len(keep):])
	q.msgs = keep
	return out
}

func (m *localMessage) record() events.SQSMessage {
	attrs := make(map[string]events.SQSMessageAttribute, len(m.attrs))
	for k, v := range m.attrs {
		attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return events.SQSMessage{
		MessageId: m.id, ReceiptHandle: m.receipt, Body: m.body,
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(m.receives),
			"SentTimestamp":                    strconv.FormatInt(m.sentAt.UnixMilli(), 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceived.UnixMilli(), 10),
		},
		MessageAttributes: attrs,
		EventSource:       "aws:sqs",
		EventSourceARN:    "arn:aws:sqs:local:000000000000:retry",
	}
}

// deleteAcked deletes the batch's records that are not item failures, as
// the Lambda event source mapping does. A handler error fails the batch.
func (q *LocalQueue) deleteAcked(batch []events.SQSMessage, resp events.SQSEventResponse, err error) {
	if err != nil {
		return
	}
	failed := make(map[string]bool, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range batch {
		if failed[r.MessageId] {
			continue
		}
		q.msgs = slices.DeleteFunc(q.msgs, func(m *localMessage) bool { return m.receipt == r.ReceiptHandle })
	}
}

// step receives and handles one batch; it reports whether there was one.
func (q *LocalQueue) step(ctx context.Context, h BatchHandler) bool {
	batch := q.receive(q.o.BatchSize)
	if len(batch) == 0 {
		return false
	}
	resp, err := h.Handle(ctx, events.SQSEvent{Records: batch})
	q.deleteAcked(batch, resp, err)
	return true
}

// Run polls until ctx ends, handing each batch to h: the dev gateway's
// in-process retry worker. Delays are waited out in real time.
func (q *LocalQueue) Run(ctx context.Context, h BatchHandler) error {
	t := time.NewTicker(q.o.PollInterval)
	defer t.Stop()
	for ctx.Err() == nil {
		if q.step(ctx, h) {
			continue
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-t.C:
		}
	}
	return nil
}

// Drain handles batches until the queue is empty, fast-forwarding the
// queue's own time over visibility and backoff delays instead of waiting.
// Every message ends deleted or in the DLQ, so Drain always returns.
func (q *LocalQueue) Drain(ctx context.Context, h BatchHandler) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if q.step(ctx, h) {
			continue
		}
		q.mu.Lock()
		if len(q.msgs) == 0 {
			q.mu.Unlock()
			return nil
		}
		next := q.msgs[0].visibleAt
		for _, m := range q.msgs[1:] {
			if m.visibleAt.Before(next) {
				next = m.visibleAt
			}
		}
		if d := next.Sub(q.now()); d > 0 {
			q.skew += d
		}
		q.mu.Unlock()
	}
}

// jobAttributes are the message attributes of a published job.
func jobAttributes(j Job) map[string]string {
	a := map[string]string{AttrJobID: j.ID, AttrJobType: j.Type}
	if j.TenantID != "" {
		a[AttrTenantID] = j.TenantID
	}
	return a
}
