package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
)

// secretPayload stands for personal data inside a payload: it must never
// reach a log line.
const secretPayload = `{"attendee":{"name":"Erika Mustermann","phone":"+4915112345678"}}`

func testJob(t testing.TB, typ string) Job {
	t.Helper()
	j, err := NewJob(typ, "salon-a", "idem-"+NewID()[:8], json.RawMessage(secretPayload), t0)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func record(t testing.TB, j Job, receive int) events.SQSMessage {
	t.Helper()
	body, err := Encode(j)
	if err != nil {
		t.Fatal(err)
	}
	return rawRecord(string(body), j.ID+"-msg", receive)
}

func rawRecord(body, msgID string, receive int) events.SQSMessage {
	return events.SQSMessage{
		MessageId: msgID, ReceiptHandle: msgID + "#" + strconv.Itoa(receive), Body: body,
		Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receive)},
	}
}

// visibilityRecorder is a VisibilityChanger that remembers each change.
type visibilityRecorder struct {
	mu      sync.Mutex
	changes map[string]time.Duration
}

func (v *visibilityRecorder) ChangeVisibility(_ context.Context, receipt string, d time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.changes == nil {
		v.changes = map[string]time.Duration{}
	}
	v.changes[receipt] = d
	return nil
}

type finalFailure struct {
	job Job
	err error
}

type harness struct {
	p       *Processor
	vis     *visibilityRecorder
	logs    *bytes.Buffer
	results []Result
	finals  []finalFailure
}

func newHarness(handlers map[string]HandlerFunc, mod func(*ProcessorOptions)) *harness {
	h := &harness{vis: &visibilityRecorder{}, logs: &bytes.Buffer{}}
	o := ProcessorOptions{
		Logger:         slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnResult:       func(r Result) { h.results = append(h.results, r) },
		Clock:          booking.FixedClock(t0),
		Visibility:     h.vis,
		Backoff:        Backoff{Base: 10 * time.Second, Max: 60 * time.Second},
		Dedup:          NewMemoryDedup(),
		OnFinalFailure: func(_ context.Context, j Job, err error) { h.finals = append(h.finals, finalFailure{j, err}) },
		Jitter:         func(c time.Duration) time.Duration { return c }, // the ceiling, to see it grow
	}
	if mod != nil {
		mod(&o)
	}
	h.p = NewProcessor(handlers, o)
	return h
}

func (h *harness) handle(t *testing.T, recs ...events.SQSMessage) []string {
	t.Helper()
	resp, err := h.p.Handle(context.Background(), events.SQSEvent{Records: recs})
	if err != nil {
		t.Fatalf("Handle returned an error (would retry the whole batch): %v", err)
	}
	if strings.Contains(h.logs.String(), "Mustermann") || strings.Contains(h.logs.String(), "4915112345678") {
		t.Fatalf("payload leaked into the logs:\n%s", h.logs)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestProcessorSuccess(t *testing.T) {
	var got []Job
	h := newHarness(map[string]HandlerFunc{TypeCancel: func(_ context.Context, j Job) error { got = append(got, j); return nil }}, nil)
	j := testJob(t, TypeCancel)
	j.Attempt = 1 // one inline try before publishing
	if failed := h.handle(t, record(t, j, 1)); len(failed) != 0 {
		t.Fatalf("failures %v", failed)
	}
	if len(got) != 1 || got[0].ID != j.ID || got[0].Attempt != 2 || string(got[0].Payload) != secretPayload {
		t.Fatalf("handler saw %+v", got)
	}
	if len(h.results) != 1 || h.results[0].Outcome != OutcomeDone || h.results[0].JobType != TypeCancel || h.results[0].TenantID != "salon-a" {
		t.Fatalf("results %+v", h.results)
	}
	if len(h.finals) != 0 || len(h.vis.changes) != 0 {
		t.Fatalf("finals %v, visibility %v", h.finals, h.vis.changes)
	}
}

func TestProcessorTransientBacksOffThenFinalFailure(t *testing.T) {
	h := newHarness(map[string]HandlerFunc{TypeCreateBooking: func(context.Context, Job) error {
		return booking.Errorf(booking.KindTransient, "calcom.CreateBooking", "cal.com 503")
	}}, nil)
	j := testJob(t, TypeCreateBooking)
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second} // capped at Max
	for receive := 1; receive <= 5; receive++ {
		rec := record(t, j, receive)
		failed := h.handle(t, rec)
		if len(failed) != 1 || failed[0] != rec.MessageId {
			t.Fatalf("receive %d: failures %v, want the record", receive, failed)
		}
		d, changed := h.vis.changes[rec.ReceiptHandle]
		if receive < 5 {
			if !changed || d != want[receive-1] {
				t.Fatalf("receive %d: visibility %v (changed %v), want %v", receive, d, changed, want[receive-1])
			}
			if len(h.finals) != 0 {
				t.Fatalf("receive %d: final failure too early", receive)
			}
		}
	}
	if len(h.finals) != 1 || h.finals[0].job.ID != j.ID || booking.KindOf(h.finals[0].err) != booking.KindTransient {
		t.Fatalf("finals %+v", h.finals)
	}
	if got := h.results[4].Outcome; got != OutcomeExhausted {
		t.Fatalf("last outcome %s", got)
	}
	if !strings.Contains(h.logs.String(), j.ID) || !strings.Contains(h.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("no error log naming the job:\n%s", h.logs)
	}
}

func TestProcessorJitterStaysUnderCeiling(t *testing.T) {
	h := newHarness(map[string]HandlerFunc{TypeCancel: func(context.Context, Job) error {
		return booking.Errorf(booking.KindTransient, "x", "down")
	}}, func(o *ProcessorOptions) { o.Jitter = nil })
	seen := map[time.Duration]bool{}
	for i := range 50 {
		rec := record(t, testJob(t, TypeCancel), 3)
		rec.MessageId += strconv.Itoa(i)
		h.handle(t, rec)
		d := h.vis.changes[rec.ReceiptHandle]
		if d < 0 || d > 40*time.Second {
			t.Fatalf("delay %v outside [0, 40s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct delays", len(seen))
	}
}

func TestProcessorPermanentNotRetried(t *testing.T) {
	for _, kind := range []booking.Kind{booking.KindInvalid, booking.KindNotFound, booking.KindUnauthorized, booking.KindConflict, booking.KindInternal} {
		t.Run(string(kind), func(t *testing.T) {
			runs := 0
			h := newHarness(map[string]HandlerFunc{TypeReschedule: func(context.Context, Job) error {
				runs++
				return booking.Errorf(kind, "calcom.Reschedule", "no")
			}}, nil)
			j := testJob(t, TypeReschedule)
			if failed := h.handle(t, record(t, j, 1)); len(failed) != 0 {
				t.Fatalf("permanent error retried: %v", failed)
			}
			if len(h.finals) != 1 || h.finals[0].job.ID != j.ID || booking.KindOf(h.finals[0].err) != kind {
				t.Fatalf("finals %+v", h.finals)
			}
			if h.results[0].Outcome != OutcomeFailed || h.results[0].Kind != kind {
				t.Fatalf("result %+v", h.results[0])
			}
			// A redelivery (SQS is at-least-once) does not run it or report it again.
			h.handle(t, record(t, j, 2))
			if runs != 1 || len(h.finals) != 1 {
				t.Fatalf("runs %d finals %d", runs, len(h.finals))
			}
		})
	}
}

func TestProcessorPoisonMessage(t *testing.T) {
	ran := false
	dead := 0
	h := newHarness(map[string]HandlerFunc{TypeCancel: func(context.Context, Job) error { ran = true; return nil }},
		func(o *ProcessorOptions) {
			o.DeadLetter = deadLetterFunc(func(context.Context, events.SQSMessage, error) error { dead++; return nil })
		})
	tenant := "salon-a"
	poison := rawRecord(`{"v":1,"id":`+secretPayload, "m-poison", 1)
	poison.MessageAttributes = map[string]events.SQSMessageAttribute{AttrTenantID: {StringValue: &tenant, DataType: "String"}}
	unknownType := testJob(t, "calcom.unknown_thing")
	good := testJob(t, TypeCancel)
	failed := h.handle(t, poison, record(t, unknownType, 1), record(t, good, 1))
	if len(failed) != 0 {
		t.Fatalf("poison retried: %v", failed)
	}
	if !ran {
		t.Fatal("a poison message blocked the good record of its batch")
	}
	if dead != 2 || len(h.finals) != 2 {
		t.Fatalf("dead-lettered %d, final failures %d; want 2 each", dead, len(h.finals))
	}
	if h.finals[0].job.ID != "sqs:m-poison" || h.finals[0].job.TenantID != "salon-a" || booking.KindOf(h.finals[0].err) != booking.KindInvalid {
		t.Fatalf("poison final failure %+v", h.finals[0])
	}
	if h.results[0].Outcome != OutcomePoison || h.results[1].Outcome != OutcomePoison || h.results[2].Outcome != OutcomeDone {
		t.Fatalf("results %+v", h.results)
	}
}

func TestProcessorPoisonWhenDLQUnavailable(t *testing.T) {
	h := newHarness(nil, func(o *ProcessorOptions) {
		o.DeadLetter = deadLetterFunc(func(context.Context, events.SQSMessage, error) error {
			return booking.Errorf(booking.KindTransient, "x", "dlq down")
		})
	})
	for receive := 1; receive <= 5; receive++ {
		if failed := h.handle(t, rawRecord("garbage", "m1", receive)); len(failed) != 1 {
			t.Fatalf("receive %d: not kept for SQS's own redrive: %v", receive, failed)
		}
		if want := map[bool]int{true: 1, false: 0}[receive == 5]; len(h.finals) != want {
			t.Fatalf("receive %d: %d final failures, want %d", receive, len(h.finals), want)
		}
	}
}

func TestProcessorDuplicateDeliveryRunsOnce(t *testing.T) {
	runs := 0
	h := newHarness(map[string]HandlerFunc{TypeCreateBooking: func(context.Context, Job) error { runs++; return nil }}, nil)
	j := testJob(t, TypeCreateBooking)
	a, b, c := record(t, j, 1), record(t, j, 1), record(t, j, 2)
	a.MessageId, b.MessageId, c.MessageId = "m1", "m2", "m3"
	if failed := h.handle(t, a, b); len(failed) != 0 { // two copies in one batch
		t.Fatalf("failures %v", failed)
	}
	if failed := h.handle(t, c); len(failed) != 0 { // and a third one later
		t.Fatalf("failures %v", failed)
	}
	if runs != 1 {
		t.Fatalf("handler ran %d times for one job delivered 3×", runs)
	}
	if h.results[1].Outcome != OutcomeDuplicate || h.results[2].Outcome != OutcomeDuplicate {
		t.Fatalf("results %+v", h.results)
	}
}

func TestProcessorDedupErrorsDoNotBlock(t *testing.T) {
	runs := 0
	h := newHarness(map[string]HandlerFunc{TypeCancel: func(context.Context, Job) error { runs++; return nil }},
		func(o *ProcessorOptions) {
			o.Dedup = DedupFuncs{
				SeenFunc: func(context.Context, string) (bool, error) {
					return false, booking.Errorf(booking.KindTransient, "redis", "down")
				},
				MarkFunc: func(context.Context, string) error { return booking.Errorf(booking.KindTransient, "redis", "down") },
			}
		})
	if failed := h.handle(t, record(t, testJob(t, TypeCancel), 1)); len(failed) != 0 || runs != 1 {
		t.Fatalf("failures %v runs %d", failed, runs)
	}
}

func TestProcessorPanicIsolated(t *testing.T) {
	var ran []string
	h := newHarness(map[string]HandlerFunc{
		TypeCompensate: func(context.Context, Job) error { panic("boom " + secretPayload) },
		TypeCancel:     func(_ context.Context, j Job) error { ran = append(ran, j.ID); return nil },
	}, nil)
	bad, ok1, ok2 := testJob(t, TypeCompensate), testJob(t, TypeCancel), testJob(t, TypeCancel)
	badRec := record(t, bad, 1)
	failed := h.handle(t, record(t, ok1, 1), badRec, record(t, ok2, 1))
	if len(failed) != 1 || failed[0] != badRec.MessageId {
		t.Fatalf("failures %v, want only the panicking record", failed)
	}
	if len(ran) != 2 {
		t.Fatalf("other records ran %d times", len(ran))
	}
	if h.vis.changes[badRec.ReceiptHandle] != 10*time.Second || h.results[1].Kind != booking.KindTransient {
		t.Fatalf("panic not treated as transient: %+v", h.results[1])
	}
	if !strings.Contains(h.logs.String(), "job handler panicked") {
		t.Fatalf("panic not logged:\n%s", h.logs)
	}
}

func TestProcessorDefersEarlyJobs(t *testing.T) {
	runs := 0
	h := newHarness(map[string]HandlerFunc{TypePrefetch: func(context.Context, Job) error { runs++; return nil }}, nil)
	j := testJob(t, TypePrefetch)
	nb := t0.Add(40 * time.Minute)
	j.NotBefore = &nb
	rec := record(t, j, 1)
	if failed := h.handle(t, rec); len(failed) != 1 || runs != 0 {
		t.Fatalf("early job ran: failures %v runs %d", failed, runs)
	}
	if d := h.vis.changes[rec.ReceiptHandle]; d != 40*time.Minute {
		t.Fatalf("deferred by %v", d)
	}
}

func TestProcessorStopsWhenOutOfTime(t *testing.T) {
	runs := 0
	h := newHarness(map[string]HandlerFunc{TypeCancel: func(context.Context, Job) error { runs++; return nil }}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, _ := h.p.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record(t, testJob(t, TypeCancel), 1)}})
	if runs != 0 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("runs %d failures %v", runs, resp.BatchItemFailures)
	}
}

func TestBackoffCeiling(t *testing.T) {
	b := Backoff{Base: time.Minute, Max: 15 * time.Minute}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := b.Ceiling(i + 1); got != w {
			t.Errorf("receive %d: %v, want %v", i+1, got, w)
		}
	}
	if got := b.Ceiling(1000); got != 15*time.Minute {
		t.Errorf("overflow: %v", got)
	}
}

type deadLetterFunc func(ctx context.Context, msg events.SQSMessage, reason error) error

func (f deadLetterFunc) DeadLetter(ctx context.Context, msg events.SQSMessage, reason error) error {
	return f(ctx, msg, reason)
}

// BenchmarkProcessorPerRecord measures the processor's own cost per record
// (decode, dedupe, dispatch, result) with a no-op handler, batches of 10.
func BenchmarkProcessorPerRecord(b *testing.B) {
	p := NewProcessor(map[string]HandlerFunc{TypeCancel: func(context.Context, Job) error { return nil }},
		ProcessorOptions{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Dedup: NewMemoryDedup(), OnResult: func(Result) {}})
	all := make([]events.SQSMessage, b.N)
	for i := range all {
		all[i] = record(b, testJob(b, TypeCancel), 1) // fresh ids: every record runs
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < len(all); i += 10 {
		if _, err := p.Handle(ctx, events.SQSEvent{Records: all[i:min(i+10, len(all))]}); err != nil {
			b.Fatal(err)
		}
	}
}
