package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/queue/sqsfake"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeTime) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeTime) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type sqsEnv struct {
	fake        *sqsfake.Server
	client      *sqs.Client
	clock       *fakeTime
	url, dlqURL string
	queue, dlq  *queue.SQS
}

func newSQSEnv(t *testing.T) *sqsEnv {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	clock := &fakeTime{t: t0}
	fake := sqsfake.New(clock.Now)
	t.Cleanup(fake.Close)
	dlqURL := fake.CreateQueue("retry-dlq", sqsfake.QueueOptions{})
	url := fake.CreateQueue("retry", sqsfake.QueueOptions{VisibilityTimeout: 180 * time.Second, DeadLetterQueue: "retry-dlq", MaxReceiveCount: 5})
	c := fake.Client()
	return &sqsEnv{fake: fake, client: c, clock: clock, url: url, dlqURL: dlqURL,
		queue: queue.NewSQS(c, url, clock), dlq: queue.NewSQS(c, dlqURL, clock)}
}

// poll does what the Lambda event source mapping does: receive a batch,
// hand it to the processor, delete what was not reported as failed.
func (e *sqsEnv) poll(t *testing.T, p *queue.Processor) int {
	t.Helper()
	ctx := context.Background()
	out, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(e.url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(out.Messages) == 0 {
		return 0
	}
	var ev events.SQSEvent
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, queue.RecordFromSQS(m, "arn:aws:sqs:us-east-1:000000000000:retry"))
	}
	resp, err := p.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if !failed[r.MessageId] {
			if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.url), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	return len(out.Messages)
}

func newJob(t *testing.T, typ string) queue.Job {
	t.Helper()
	j, err := queue.NewJob(typ, "salon-a", "idem-1", json.RawMessage(`{"uid":"bk_1"}`), t0)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestSQSPublishAndProcess(t *testing.T) {
	e := newSQSEnv(t)
	ctx := context.Background()
	j := newJob(t, queue.TypeCancel)
	if err := e.queue.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	if n, err := e.queue.QueueDepth(ctx); err != nil || n != 1 {
		t.Fatalf("depth %d, %v", n, err)
	}
	var got []queue.Job
	p := queue.NewProcessor(map[string]queue.HandlerFunc{queue.TypeCancel: func(_ context.Context, j queue.Job) error {
		got = append(got, j)
		return nil
	}}, queue.ProcessorOptions{Clock: e.clock, Visibility: e.queue, Dedup: queue.NewMemoryDedup()})
	if e.poll(t, p) != 1 {
		t.Fatal("nothing received")
	}
	if len(got) != 1 || got[0].ID != j.ID || got[0].Attempt != 1 || string(got[0].Payload) != `{"uid":"bk_1"}` {
		t.Fatalf("handler saw %+v", got)
	}
	if v, f, d := e.fake.Counts("retry"); v+f+d != 0 {
		t.Fatalf("message not deleted: %d/%d/%d", v, f, d)
	}
}

func TestSQSMessageAttributesAndDelay(t *testing.T) {
	e := newSQSEnv(t)
	ctx := context.Background()
	j := newJob(t, queue.TypePrefetch)
	nb := t0.Add(90 * time.Second)
	j.NotBefore = &nb
	if err := e.queue.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, _, delayed := e.fake.Counts("retry"); delayed != 1 {
		t.Fatalf("not delayed")
	}
	e.clock.Advance(90 * time.Second)
	out, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url), MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v, %d", err, len(out.Messages))
	}
	a := out.Messages[0].MessageAttributes
	if aws.ToString(a[queue.AttrJobType].StringValue) != queue.TypePrefetch || aws.ToString(a[queue.AttrTenantID].StringValue) != "salon-a" ||
		aws.ToString(a[queue.AttrJobID].StringValue) != j.ID {
		t.Fatalf("attributes %+v", a)
	}
}

// Transient failures through the real SDK: each receive pushes visibility
// out by the backoff; after 5 receives the fake's redrive policy moves the
// message to the DLQ and OnFinalFailure has been called once.
func TestSQSTransientRetriesThenDLQ(t *testing.T) {
	e := newSQSEnv(t)
	ctx := context.Background()
	j := newJob(t, queue.TypeCreateBooking)
	if err := e.queue.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	var finals []string
	p := queue.NewProcessor(map[string]queue.HandlerFunc{queue.TypeCreateBooking: func(context.Context, queue.Job) error {
		return booking.Errorf(booking.KindTransient, "calcom.CreateBooking", "timeout")
	}}, queue.ProcessorOptions{
		Clock: e.clock, Visibility: e.queue, Dedup: queue.NewMemoryDedup(),
		Backoff:        queue.Backoff{Base: 10 * time.Second, Max: time.Minute},
		Jitter:         func(c time.Duration) time.Duration { return c },
		OnFinalFailure: func(_ context.Context, j queue.Job, _ error) { finals = append(finals, j.ID) },
	})
	backoffs := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second}
	for receive := 1; receive <= 5; receive++ {
		if e.poll(t, p) != 1 {
			t.Fatalf("receive %d: message not delivered", receive)
		}
		if receive <= len(backoffs) {
			e.clock.Advance(backoffs[receive-1] - time.Second)
			if e.poll(t, p) != 0 {
				t.Fatalf("receive %d: visible before its backoff of %v ran out", receive, backoffs[receive-1])
			}
			e.clock.Advance(time.Second)
		}
	}
	if len(finals) != 1 || finals[0] != j.ID {
		t.Fatalf("final failures %v", finals)
	}
	e.clock.Advance(180 * time.Second) // the queue's default visibility after the last failure
	if e.poll(t, p) != 0 {
		t.Fatal("delivered a 6th time")
	}
	if n, _ := e.dlq.QueueDepth(ctx); n != 1 {
		t.Fatalf("DLQ depth %d", n)
	}
	if e.fake.Calls("ChangeMessageVisibility") != 4 {
		t.Fatalf("visibility changes %d", e.fake.Calls("ChangeMessageVisibility"))
	}
}

func TestSQSPoisonDeadLetteredAtOnce(t *testing.T) {
	e := newSQSEnv(t)
	ctx := context.Background()
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.url), MessageBody: aws.String("not a job")}); err != nil {
		t.Fatal(err)
	}
	finals := 0
	p := queue.NewProcessor(nil, queue.ProcessorOptions{
		Clock: e.clock, Visibility: e.queue, DeadLetter: e.dlq,
		OnFinalFailure: func(context.Context, queue.Job, error) { finals++ },
	})
	e.poll(t, p)
	if v, f, d := e.fake.Counts("retry"); v+f+d != 0 {
		t.Fatal("poison message still in the queue")
	}
	if n, _ := e.dlq.QueueDepth(ctx); n != 1 || finals != 1 {
		t.Fatalf("DLQ depth %d finals %d", n, finals)
	}
}

func TestSQSErrorsAreTransient(t *testing.T) {
	e := newSQSEnv(t)
	ctx := context.Background()
	e.fake.Fault = func(op string) (int, string) { return http.StatusInternalServerError, "InternalError" }
	err := e.queue.Publish(ctx, newJob(t, queue.TypeCancel))
	if booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("publish: %v", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalError" {
		t.Fatalf("cause lost: %v", err)
	}
	if _, err := e.queue.QueueDepth(ctx); booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("depth: %v", err)
	}
	if err := e.queue.ChangeVisibility(ctx, "x", time.Second); booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("visibility: %v", err)
	}
	e.fake.Fault = nil
	missing := queue.NewSQS(e.client, e.fake.URL+"/000000000000/nope", nil)
	if err := missing.Publish(ctx, newJob(t, queue.TypeCancel)); !errors.As(err, &api) || api.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("missing queue: %v", err)
	}
	// Invalid jobs never reach the network.
	bad := newJob(t, queue.TypeCancel)
	bad.Type = ""
	before := e.fake.Calls("SendMessage")
	if err := e.queue.Publish(ctx, bad); booking.KindOf(err) != booking.KindInvalid || e.fake.Calls("SendMessage") != before {
		t.Fatalf("invalid job: %v", err)
	}
}
