package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/queue/sqstest"
	"github.com/telefonagent/gateway/shared/testenv"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeTime) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// sqsEnv is a retry queue and its DLQ on moto, redriven after
// queue.DefaultMaxReceives receives (the value infra gives the real queue),
// reached through a proxy that counts calls and can inject faults.
type sqsEnv struct {
	proxy      *testenv.FaultProxy
	client     *sqs.Client
	clock      *fakeTime
	main, dead testenv.Queue
	queue, dlq *queue.SQS
	esm        sqstest.ESM
}

func newSQSEnv(t *testing.T, visibility time.Duration) *sqsEnv {
	t.Helper()
	proxy := testenv.NewFaultProxy(t)
	c := sqs.NewFromConfig(testenv.AWSConfig(proxy.URL))
	dead := testenv.CreateQueue(t, c, "retry-dlq", nil)
	main := testenv.CreateQueue(t, c, "retry", map[string]string{
		"VisibilityTimeout": strconv.Itoa(int(visibility / time.Second)),
		"RedrivePolicy":     testenv.RedrivePolicy(dead.ARN, queue.DefaultMaxReceives),
	})
	clock := &fakeTime{t: t0}
	return &sqsEnv{proxy: proxy, client: c, clock: clock, main: main, dead: dead,
		queue: queue.NewSQS(c, main.URL, clock), dlq: queue.NewSQS(c, dead.URL, clock),
		esm: sqstest.ESM{Client: c, Queue: main}}
}

func (e *sqsEnv) total(t *testing.T, q testenv.Queue) int {
	v, f, d := testenv.QueueCounts(t, e.client, q.URL)
	return v + f + d
}

func newJob(t *testing.T, typ string) queue.Job {
	t.Helper()
	j, err := queue.NewJob(typ, "salon-a", "idem-1", json.RawMessage(`{"uid":"bk_1"}`), t0)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// The redrive threshold of the queues here is the one infra deploys.
func TestRedriveThresholdMatchesInfra(t *testing.T) {
	src, err := os.ReadFile(testenv.ModuleRoot(t) + "/infra/app.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`MaxReceiveCount:\s*(?:jsii\.Number\((\d+)\)|jsii\.Number\(float64\(queue\.DefaultMaxReceives\)\))`).FindSubmatch(src)
	if m == nil {
		t.Fatal("infra/app.go sets no MaxReceiveCount on the retry queue that this test understands")
	}
	if len(m[1]) > 0 && string(m[1]) != strconv.Itoa(queue.DefaultMaxReceives) {
		t.Fatalf("infra redrives after %s receives, queue.DefaultMaxReceives is %d", m[1], queue.DefaultMaxReceives)
	}
}

func TestSQSPublishAndProcess(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second)
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
	if e.esm.Poll(t, p) != 1 {
		t.Fatal("nothing received")
	}
	if len(got) != 1 || got[0].ID != j.ID || got[0].Attempt != 1 || string(got[0].Payload) != `{"uid":"bk_1"}` {
		t.Fatalf("handler saw %+v", got)
	}
	if n := e.total(t, e.main); n != 0 {
		t.Fatalf("message not deleted: %d left", n)
	}
}

func TestSQSMessageAttributesAndDelay(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second)
	ctx := context.Background()
	later := newJob(t, queue.TypePrefetch)
	nb := t0.Add(90 * time.Second)
	later.NotBefore = &nb
	if err := e.queue.Publish(ctx, later); err != nil {
		t.Fatal(err)
	}
	if _, _, delayed := testenv.QueueCounts(t, e.client, e.main.URL); delayed != 1 {
		t.Fatalf("not delayed")
	}
	if msgs := e.esm.Receive(t); len(msgs) != 0 {
		t.Fatalf("a job 90 s in the future was delivered at once")
	}
	now := newJob(t, queue.TypePrefetch)
	if err := e.queue.Publish(ctx, now); err != nil {
		t.Fatal(err)
	}
	msgs := e.esm.Receive(t)
	if len(msgs) != 1 {
		t.Fatalf("received %d, want the undelayed job", len(msgs))
	}
	a := msgs[0].MessageAttributes
	if aws.ToString(a[queue.AttrJobType].StringValue) != queue.TypePrefetch || aws.ToString(a[queue.AttrTenantID].StringValue) != "salon-a" ||
		aws.ToString(a[queue.AttrJobID].StringValue) != now.ID {
		t.Fatalf("attributes %+v", a)
	}
}

// Transient failures through the real SDK and SQS: each failed receive
// asks for the backoff's visibility (jitter picks the delay; here 0, so the
// test need not wait for it), and after DefaultMaxReceives receives SQS's
// redrive policy moves the message to the DLQ; OnFinalFailure ran once.
func TestSQSTransientRetriesThenDLQ(t *testing.T) {
	e := newSQSEnv(t, time.Second)
	ctx := context.Background()
	j := newJob(t, queue.TypeCreateBooking)
	if err := e.queue.Publish(ctx, j); err != nil {
		t.Fatal(err)
	}
	var finals []string
	var ceilings []time.Duration
	runs := 0
	p := queue.NewProcessor(map[string]queue.HandlerFunc{queue.TypeCreateBooking: func(context.Context, queue.Job) error {
		runs++
		return booking.Errorf(booking.KindTransient, "calcom.CreateBooking", "timeout")
	}}, queue.ProcessorOptions{
		Clock: e.clock, Visibility: e.queue, Dedup: queue.NewMemoryDedup(),
		Backoff:        queue.Backoff{Base: 10 * time.Second, Max: time.Minute},
		Jitter:         func(c time.Duration) time.Duration { ceilings = append(ceilings, c); return 0 },
		OnFinalFailure: func(_ context.Context, j queue.Job, _ error) { finals = append(finals, j.ID) },
	})
	for receive := 1; receive <= queue.DefaultMaxReceives; receive++ {
		if e.esm.Poll(t, p) != 1 {
			t.Fatalf("receive %d: message not delivered", receive)
		}
	}
	// The last receive left it in flight for the queue's visibility
	// timeout (1 s); the next receive after that hands it to the DLQ.
	e.esm.WaitSeconds = 2
	for i := 0; i < 10 && e.total(t, e.dead) == 0; i++ {
		if e.esm.Poll(t, p) != 0 {
			t.Fatal("delivered once more than maxReceiveCount")
		}
	}
	if n, _ := e.dlq.QueueDepth(ctx); n != 1 || e.total(t, e.main) != 0 {
		t.Fatalf("DLQ depth %d, queue %d", n, e.total(t, e.main))
	}
	if runs != queue.DefaultMaxReceives || len(finals) != 1 || finals[0] != j.ID {
		t.Fatalf("runs %d, final failures %v", runs, finals)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second}
	if len(ceilings) != len(want) || e.proxy.Calls("ChangeMessageVisibility") != len(want) {
		t.Fatalf("backoff ceilings %v, visibility changes %d", ceilings, e.proxy.Calls("ChangeMessageVisibility"))
	}
	for i := range want {
		if ceilings[i] != want[i] {
			t.Fatalf("backoff ceilings %v, want %v", ceilings, want)
		}
	}
}

func TestSQSPoisonDeadLetteredAtOnce(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second)
	ctx := context.Background()
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.main.URL), MessageBody: aws.String("not a job")}); err != nil {
		t.Fatal(err)
	}
	finals := 0
	p := queue.NewProcessor(nil, queue.ProcessorOptions{
		Clock: e.clock, Visibility: e.queue, DeadLetter: e.dlq,
		OnFinalFailure: func(context.Context, queue.Job, error) { finals++ },
	})
	e.esm.Poll(t, p)
	if n := e.total(t, e.main); n != 0 {
		t.Fatalf("poison message still in the queue (%d)", n)
	}
	if n, _ := e.dlq.QueueDepth(ctx); n != 1 || finals != 1 {
		t.Fatalf("DLQ depth %d finals %d", n, finals)
	}
}

func TestSQSErrorsAreTransient(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second)
	ctx := context.Background()
	e.proxy.SetFault(func(op string) (int, string) { return http.StatusInternalServerError, "InternalError" })
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
	e.proxy.SetFault(nil)
	missing := queue.NewSQS(e.client, e.main.URL+"-nope", nil)
	if err := missing.Publish(ctx, newJob(t, queue.TypeCancel)); booking.KindOf(err) != booking.KindTransient ||
		!errors.As(err, &api) || api.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("missing queue: %v", err)
	}
	// Invalid jobs never reach the network.
	bad := newJob(t, queue.TypeCancel)
	bad.Type = ""
	before := e.proxy.Calls("SendMessage")
	if err := e.queue.Publish(ctx, bad); booking.KindOf(err) != booking.KindInvalid || e.proxy.Calls("SendMessage") != before {
		t.Fatalf("invalid job: %v", err)
	}
}
