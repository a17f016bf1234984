package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/queue/sqstest"
	"github.com/telefonagent/gateway/shared/testenv"
)

// The whole retry path on moto: the publisher sends two jobs to a queue
// with the production redrive policy; the worker's batch succeeds for one
// and fails (transiently) for the other, which is retried until SQS moves
// it to the DLQ after its last receive. Once the cause is fixed, the
// operator lists and redrives it with this tool and it runs exactly once,
// even when it is redriven twice.
func TestPublishWorkerDLQRedrive(t *testing.T) {
	testenv.SetAWSEnv(t, testenv.MotoEndpoint(t))
	ctx := context.Background()
	c := testenv.SQS(t)
	dead := testenv.CreateQueue(t, c, "retry-dlq", nil)
	// Visibility 0 stands for "the backoff ran out": a failed message is
	// visible again at once, so the test does not wait for timeouts.
	main := testenv.CreateQueue(t, c, "retry", map[string]string{"VisibilityTimeout": "0",
		"RedrivePolicy": testenv.RedrivePolicy(dead.ARN, queue.DefaultMaxReceives)})
	pub := queue.NewSQS(c, main.URL, nil)

	var mu sync.Mutex
	down := true // Cal.com is down for the "book" job until fixed
	runs, done := map[string]int{}, map[string]int{}
	handler := func(_ context.Context, j queue.Job) error {
		mu.Lock()
		defer mu.Unlock()
		runs[j.IdempotencyKey]++
		if j.IdempotencyKey == "book" && down {
			return booking.Errorf(booking.KindTransient, "calcom.CreateBooking", "503 from Cal.com")
		}
		done[j.IdempotencyKey]++
		return nil
	}
	var finals []string
	p := queue.NewProcessor(map[string]queue.HandlerFunc{queue.TypeCreateBooking: handler, queue.TypeCancel: handler},
		queue.ProcessorOptions{Visibility: pub, Dedup: queue.NewMemoryDedup(),
			Jitter:         func(time.Duration) time.Duration { return 0 },
			OnFinalFailure: func(_ context.Context, j queue.Job, _ error) { finals = append(finals, j.ID) }})
	esm := sqstest.ESM{Client: c, Queue: main}

	jobs := map[string]queue.Job{}
	for key, typ := range map[string]string{"book": queue.TypeCreateBooking, "cancel": queue.TypeCancel} {
		j, err := queue.NewJob(typ, "salon-a", key, json.RawMessage(`{"uid":"bk_1"}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish(ctx, j); err != nil {
			t.Fatal(err)
		}
		jobs[key] = j
	}
	// First batch: both jobs; "cancel" succeeds and is deleted, "book" is a
	// batch item failure and stays.
	msgs := esm.Receive(t)
	if len(msgs) != 2 {
		t.Fatalf("first batch has %d messages", len(msgs))
	}
	ev := esm.Event(msgs)
	resp, _ := p.Handle(ctx, ev)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != messageOf(ev, jobs["book"].ID) {
		t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
	}
	esm.DeleteSucceeded(t, ev, resp)
	for i := 0; i < queue.DefaultMaxReceives+2 && countAll(t, c, dead) == 0; i++ {
		esm.Poll(t, p)
	}
	if runs["book"] != queue.DefaultMaxReceives || done["cancel"] != 1 || len(finals) != 1 || finals[0] != jobs["book"].ID {
		t.Fatalf("runs %v done %v finals %v", runs, done, finals)
	}
	if countAll(t, c, main) != 0 || countAll(t, c, dead) != 1 {
		t.Fatalf("after the last receive: queue %d dlq %d", countAll(t, c, main), countAll(t, c, dead))
	}

	code, out, errOut := runDLQ(t, "list", "-queue-url", main.URL)
	if code != 0 || !strings.Contains(out, jobs["book"].ID) || !strings.Contains(out, "1 message(s) listed") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if code, out, errOut := runDLQ(t, "redrive", "-queue-url", main.URL); code != 0 || !strings.Contains(out, "redrove 1 message(s)") {
		t.Fatalf("redrive: exit %d\n%s%s", code, out, errOut)
	}
	for esm.Poll(t, p) > 0 {
	}
	if done["book"] != 1 || countAll(t, c, main) != 0 || countAll(t, c, dead) != 0 {
		t.Fatalf("after redrive: done %v, queue %d dlq %d", done, countAll(t, c, main), countAll(t, c, dead))
	}

	// A second copy in the DLQ (a redrive interrupted between its send and
	// its delete leaves one) is acknowledged without running again.
	body, _ := queue.Encode(jobs["book"])
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dead.URL), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runDLQ(t, "redrive", "-queue-url", main.URL); code != 0 {
		t.Fatalf("second redrive: %s", errOut)
	}
	runsBefore := runs["book"]
	for esm.Poll(t, p) > 0 {
	}
	if done["book"] != 1 || runs["book"] != runsBefore || countAll(t, c, main) != 0 {
		t.Fatalf("duplicate ran again: runs %v done %v", runs, done)
	}

	// Purge empties the DLQ, and only with -yes.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dead.URL), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runDLQ(t, "purge", "-queue-url", main.URL); code != 1 || countAll(t, c, dead) != 1 {
		t.Fatal("purge without -yes")
	}
	if code, _, errOut := runDLQ(t, "purge", "-queue-url", main.URL, "-yes"); code != 0 || countAll(t, c, dead) != 0 {
		t.Fatalf("purge: %s", errOut)
	}
}

// messageOf returns the id of the message carrying job jobID.
func messageOf(ev events.SQSEvent, jobID string) string {
	for _, r := range ev.Records {
		if a, ok := r.MessageAttributes[queue.AttrJobID]; ok && aws.ToString(a.StringValue) == jobID {
			return r.MessageId
		}
	}
	return ""
}

func countAll(t *testing.T, c *sqs.Client, q testenv.Queue) int {
	v, f, d := testenv.QueueCounts(t, c, q.URL)
	return v + f + d
}
