package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
)

// HandlerFunc runs one job. Its error's kind decides what happens next:
// KindTransient is retried with backoff, every other kind is final.
type HandlerFunc func(ctx context.Context, j Job) error

// Backoff is exponential with full jitter: the n-th failed delivery hides the
// message for a random duration in [0, min(Max, Base·2^(n-1))].
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Ceiling is the upper bound of the delay after the given (1-based) receive.
func (b Backoff) Ceiling(receive int) time.Duration {
	d := b.Base
	for i := 1; i < receive && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// DefaultBackoff spreads the five receives over up to ~15 minutes, so a
// Cal.com outage of a few minutes is ridden out before the DLQ.
var DefaultBackoff = Backoff{Base: time.Minute, Max: 15 * time.Minute}

// DefaultMaxReceives is the retry queue's maxReceiveCount as infra deploys it
// (TestRedriveThresholdMatchesInfra holds the two together): the receive
// after it moves a message to the DLQ.
const DefaultMaxReceives = 5

// maxVisibility is the longest visibility timeout SQS accepts.
const maxVisibility = 12 * time.Hour

// Outcome is what became of one record.
type Outcome string

const (
	OutcomeDone      Outcome = "done"      // handler succeeded; message deleted
	OutcomeDuplicate Outcome = "duplicate" // job already finished; acknowledged without running
	OutcomeRetry     Outcome = "retry"     // transient failure; back in the queue after a backoff
	OutcomeDeferred  Outcome = "deferred"  // arrived before NotBefore; hidden until then
	OutcomeFailed    Outcome = "failed"    // permanent failure; not retried, OnFinalFailure called
	OutcomeExhausted Outcome = "exhausted" // transient failure on the last receive; SQS moves it to the DLQ
	OutcomePoison    Outcome = "poison"    // unreadable or unknown type; dead-lettered, not run
)

// Final reports whether the outcome ends the job with a failure.
func (o Outcome) Final() bool {
	return o == OutcomeFailed || o == OutcomeExhausted || o == OutcomePoison
}

// Result describes one processed record, for metrics. It carries no payload.
type Result struct {
	MessageID string
	JobID     string
	JobType   string
	TenantID  string
	Attempt   int // as the handler saw it
	Receive   int // ApproximateReceiveCount
	Outcome   Outcome
	Kind      booking.Kind  // of the error, "" on success
	Delay     time.Duration // visibility set for a retry or deferral
	Duration  time.Duration // handler run time
}

// ProcessorOptions configures a Processor. Zero values take the defaults.
type ProcessorOptions struct {
	Logger      *slog.Logger      // default slog.Default()
	OnResult    func(Result)      // metrics; called once per record
	Clock       booking.Clock     // default booking.SystemClock
	Visibility  VisibilityChanger // nil: retries reappear after the queue's visibility timeout
	Backoff     Backoff           // default DefaultBackoff
	MaxReceives int               // default DefaultMaxReceives
	Dedup       Dedup             // nil: no dedupe (handlers must still be idempotent)
	DeadLetter  DeadLetterer      // nil: poison messages are dropped after OnFinalFailure
	// OnFinalFailure is called once when a job fails for good (permanent
	// error, last receive, poison). For poison messages the Job holds only
	// what the message attributes tell (id, type, tenant).
	OnFinalFailure func(ctx context.Context, j Job, err error)
	// Jitter picks a delay in [0, ceiling]; default uniform random.
	Jitter func(ceiling time.Duration) time.Duration
}

// Processor turns an SQS event into per-record handler calls and reports
// the records to retry as batch item failures (ReportBatchItemFailures must
// be enabled on the event source mapping).
type Processor struct {
	handlers map[string]HandlerFunc
	o        ProcessorOptions
}

// NewProcessor returns a processor for the given job types.
func NewProcessor(handlers map[string]HandlerFunc, o ProcessorOptions) *Processor {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = booking.SystemClock
	}
	if o.Backoff.Base <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Backoff.Max < o.Backoff.Base {
		o.Backoff.Max = o.Backoff.Base
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = DefaultMaxReceives
	}
	if o.Jitter == nil {
		o.Jitter = func(c time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(c) + 1)) }
	}
	hs := make(map[string]HandlerFunc, len(handlers))
	for k, v := range handlers {
		hs[k] = v
	}
	return &Processor{handlers: hs, o: o}
}

// Handle is the Lambda handler of the retry worker. It never returns an
// error: that would make Lambda retry the whole batch, including the records
// that succeeded.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if ctx.Err() != nil {
			// Out of time: leave the rest for the next delivery, unrun.
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		if p.process(ctx, rec) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// process handles one record and reports whether it must be retried.
func (p *Processor) process(ctx context.Context, rec events.SQSMessage) (retry bool) {
	receive := receiveCount(rec)
	r := Result{MessageID: rec.MessageId, Receive: receive}
	defer func() {
		if p.o.OnResult != nil {
			p.o.OnResult(r)
		}
	}()

	j, err := Decode([]byte(rec.Body))
	if err == nil && p.handlers[j.Type] == nil {
		err = booking.Errorf(booking.KindInvalid, "queue.Process", "no handler for job type %q", j.Type)
	}
	if err != nil {
		j = jobFromAttributes(rec)
		r.JobID, r.JobType, r.TenantID = j.ID, j.Type, j.TenantID
		return p.poison(ctx, rec, j, receive, err, &r)
	}
	j.Attempt += receive
	r.JobID, r.JobType, r.TenantID, r.Attempt = j.ID, j.Type, j.TenantID, j.Attempt

	if p.o.Dedup != nil {
		seen, derr := p.o.Dedup.Seen(ctx, j.ID)
		if derr != nil {
			p.log(ctx, slog.LevelWarn, "dedupe lookup failed; running the job", j, receive, Outcome(""), derr)
		} else if seen {
			r.Outcome = OutcomeDuplicate
			p.log(ctx, slog.LevelInfo, "job already done", j, receive, r.Outcome, nil)
			return false
		}
	}

	now := p.o.Clock.Now()
	if j.NotBefore != nil && j.NotBefore.After(now) && receive < p.o.MaxReceives {
		r.Outcome, r.Delay = OutcomeDeferred, min(j.NotBefore.Sub(now), maxVisibility)
		p.changeVisibility(ctx, rec, j, receive, r.Delay)
		return true
	}

	start := time.Now()
	err = p.run(ctx, j)
	r.Duration = time.Since(start)
	r.Kind = booking.KindOf(err)
	switch {
	case err == nil:
		r.Outcome = OutcomeDone
		p.mark(ctx, j, receive)
		p.log(ctx, slog.LevelDebug, "job done", j, receive, r.Outcome, nil)
		return false
	case !transient(err):
		r.Outcome = OutcomeFailed
		p.mark(ctx, j, receive) // finished, if unsuccessfully: a redelivery must not run it again
		p.log(ctx, slog.LevelError, "job failed permanently", j, receive, r.Outcome, err)
		p.finalFailure(ctx, j, err)
		return false
	case receive >= p.o.MaxReceives:
		r.Outcome = OutcomeExhausted
		p.log(ctx, slog.LevelError, "job failed on its last receive; going to the DLQ", j, receive, r.Outcome, err)
		p.finalFailure(ctx, j, err)
		return true
	default:
		r.Outcome = OutcomeRetry
		r.Delay = min(p.o.Jitter(p.o.Backoff.Ceiling(receive)), maxVisibility)
		p.log(ctx, slog.LevelWarn, "job failed; retrying", j, receive, r.Outcome, err)
		p.changeVisibility(ctx, rec, j, receive, r.Delay)
		return true
	}
}

// poison handles a record that cannot be run at all: undecodable, of an
// unknown version or of a type without handler. It goes to the DLQ at once
// (a newer worker may read it after a redrive) instead of five receives.
func (p *Processor) poison(ctx context.Context, rec events.SQSMessage, j Job, receive int, cause error, r *Result) bool {
	r.Outcome, r.Kind = OutcomePoison, booking.KindOf(cause)
	if p.o.DeadLetter != nil {
		if err := p.o.DeadLetter.DeadLetter(ctx, rec, cause); err != nil {
			// Keep it in the queue; SQS's own redrive catches it after MaxReceives.
			p.log(ctx, slog.LevelError, "poison message not dead-lettered; will be redelivered", j, receive, r.Outcome, err)
			if receive < p.o.MaxReceives {
				return true
			}
			p.finalFailure(ctx, j, cause)
			return true
		}
	}
	p.log(ctx, slog.LevelError, "poison message", j, receive, r.Outcome, cause)
	p.finalFailure(ctx, j, cause)
	return false
}

// run calls the handler; a panic fails this record only, as transient (a
// bug triggered by a passing condition should not lose the job).
func (p *Processor) run(ctx context.Context, j Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p.o.Logger.ErrorContext(ctx, "job handler panicked",
				"job_id", j.ID, "job_type", j.Type, "tenant_id", j.TenantID, "attempt", j.Attempt,
				"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			err = booking.Errorf(booking.KindTransient, "queue.Process", "handler panicked")
		}
	}()
	return p.handlers[j.Type](ctx, j)
}

func (p *Processor) finalFailure(ctx context.Context, j Job, err error) {
	if p.o.OnFinalFailure == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			p.o.Logger.ErrorContext(ctx, "OnFinalFailure panicked", "job_id", j.ID, "panic_type", fmt.Sprintf("%T", v))
		}
	}()
	p.o.OnFinalFailure(ctx, j, err)
}

func (p *Processor) mark(ctx context.Context, j Job, receive int) {
	if p.o.Dedup == nil {
		return
	}
	if err := p.o.Dedup.Mark(ctx, j.ID); err != nil {
		p.log(ctx, slog.LevelWarn, "dedupe mark failed", j, receive, Outcome(""), err)
	}
}

func (p *Processor) changeVisibility(ctx context.Context, rec events.SQSMessage, j Job, receive int, d time.Duration) {
	if p.o.Visibility == nil {
		return
	}
	if err := p.o.Visibility.ChangeVisibility(ctx, rec.ReceiptHandle, d); err != nil {
		// The message still comes back, after the queue's visibility timeout.
		p.log(ctx, slog.LevelWarn, "visibility change failed", j, receive, Outcome(""), err)
	}
}

// log writes one line about a job: identifiers and error kind, never the
// payload, never a foreign error's text (it may quote the payload).
func (p *Processor) log(ctx context.Context, level slog.Level, msg string, j Job, receive int, o Outcome, err error) {
	if !p.o.Logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("job_id", j.ID), slog.String("job_type", j.Type), slog.String("tenant_id", j.TenantID),
		slog.Int("attempt", j.Attempt), slog.Int("receive", receive),
	}
	if o != "" {
		attrs = append(attrs, slog.String("outcome", string(o)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error_kind", string(booking.KindOf(err))), slog.String("error", SafeError(err)))
	}
	p.o.Logger.LogAttrs(ctx, level, msg, attrs...)
}

// SafeError renders err for a log line: op and PII-free message of a
// *booking.Error, the sentinel text of context errors, a generic text for
// anything else.
func SafeError(err error) string {
	var be *booking.Error
	switch {
	case errors.As(err, &be) && be.Op != "":
		return be.Op + ": " + be.Message
	case errors.As(err, &be):
		return be.Message
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error()
	case errors.Is(err, context.Canceled):
		return context.Canceled.Error()
	}
	return "internal error"
}

// transient reports whether err is worth retrying: KindTransient, or a
// deadline a foreign library returned unwrapped.
func transient(err error) bool {
	var be *booking.Error
	if errors.As(err, &be) {
		return be.Kind == booking.KindTransient
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func receiveCount(rec events.SQSMessage) int {
	n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// jobFromAttributes recovers what an unreadable message's attributes say,
// so the final-failure trace can name it.
func jobFromAttributes(rec events.SQSMessage) Job {
	attr := func(name string) string {
		if a, ok := rec.MessageAttributes[name]; ok && a.StringValue != nil {
			return *a.StringValue
		}
		return ""
	}
	j := Job{ID: attr(AttrJobID), Type: attr(AttrJobType), TenantID: attr(AttrTenantID)}
	if j.ID == "" {
		j.ID = "sqs:" + rec.MessageId
	}
	return j
}
