package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/testenv"
)

const secret = "+4915112345678"

type env struct {
	client    *sqs.Client
	main, dlq testenv.Queue
	url       string // of the retry queue
	dlqURL    string
	jobs      []queue.Job
}

// newEnv makes a retry queue and its DLQ on moto (redrive after
// queue.DefaultMaxReceives receives, as infra sets it), points the default
// AWS configuration at moto, and puts two jobs and one poison message into
// the DLQ: the jobs the way SQS does it (received maxReceiveCount times,
// never deleted), the poison message directly, as the processor does.
func newEnv(t *testing.T) *env {
	t.Helper()
	testenv.SetAWSEnv(t, testenv.MotoEndpoint(t))
	t.Setenv("RETRY_QUEUE_URL", "")
	t.Setenv("RETRY_DLQ_URL", "")
	e := &env{client: testenv.SQS(t)}
	e.dlq = testenv.CreateQueue(t, e.client, "retry-dlq", nil)
	// Visibility 0: every receive below leaves the message visible, as an
	// expired timeout would, so the test needs no waiting.
	e.main = testenv.CreateQueue(t, e.client, "retry", map[string]string{"VisibilityTimeout": "0",
		"RedrivePolicy": testenv.RedrivePolicy(e.dlq.ARN, queue.DefaultMaxReceives)})
	e.url, e.dlqURL = e.main.URL, e.dlq.URL
	ctx := context.Background()
	pub := queue.NewSQS(e.client, e.url, nil)
	for _, typ := range []string{queue.TypeCreateBooking, queue.TypeCalcomEvent} {
		j, err := queue.NewJob(typ, "salon-a", "", json.RawMessage(`{"phone":"`+secret+`"}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		j.Attempt = 1
		if err := pub.Publish(ctx, j); err != nil {
			t.Fatal(err)
		}
		e.jobs = append(e.jobs, j)
	}
	for range queue.DefaultMaxReceives + 1 { // the last receive moves them
		if _, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url), MaxNumberOfMessages: 10}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String(`{"name":"` + secret + `"`)}); err != nil {
		t.Fatal(err)
	}
	if e.count(t, e.main) != 0 || e.count(t, e.dlq) != 3 {
		t.Fatalf("setup: queue %d, dlq %d", e.count(t, e.main), e.count(t, e.dlq))
	}
	return e
}

func (e *env) count(t *testing.T, q testenv.Queue) int {
	v, f, d := testenv.QueueCounts(t, e.client, q.URL)
	return v + f + d
}

func (e *env) visible(t *testing.T, q testenv.Queue) int {
	v, _, _ := testenv.QueueCounts(t, e.client, q.URL)
	return v
}

func runDLQ(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestList(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := runDLQ(t, "list", "-dlq-url", e.dlqURL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, j := range e.jobs {
		if !strings.Contains(out, j.ID) || !strings.Contains(out, j.Type) {
			t.Errorf("job %s (%s) not listed:\n%s", j.ID, j.Type, out)
		}
	}
	if !strings.Contains(out, "salon-a") || !strings.Contains(out, "undecodable") || !strings.Contains(out, "3 message(s) listed") {
		t.Errorf("listing incomplete:\n%s", out)
	}
	if strings.Contains(out, secret) || strings.Contains(errOut, secret) {
		t.Fatalf("a payload was printed:\n%s", out)
	}
	// Listing does not consume: the messages are visible again at once.
	if e.visible(t, e.dlq) != 3 {
		t.Fatalf("listing left %d of 3 visible", e.visible(t, e.dlq))
	}
	// The DLQ is found from the queue's redrive policy, and -max limits.
	code, out, errOut = runDLQ(t, "-queue-url", e.url, "-max", "1", "list")
	if code != 0 || !strings.Contains(out, "1 message(s) listed") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
}

func TestRedrive(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := runDLQ(t, "redrive", "-queue-url", e.url, "-max", "2")
	if code != 0 || !strings.Contains(out, "redrove 2 message(s)") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if e.count(t, e.main) != 2 || e.count(t, e.dlq) != 1 {
		t.Fatalf("after -max 2: queue %d dlq %d", e.count(t, e.main), e.count(t, e.dlq))
	}
	code, out, _ = runDLQ(t, "redrive", "-queue-url", e.url, "-dlq-url", e.dlqURL, "-max", "0")
	if code != 0 || !strings.Contains(out, "redrove 1 message(s)") || e.count(t, e.main) != 3 || e.count(t, e.dlq) != 0 {
		t.Fatalf("redrive all: %s; queue %d dlq %d", out, e.count(t, e.main), e.count(t, e.dlq))
	}
	// The redriven jobs are the same jobs, attributes included, and run again.
	out2, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(e.url), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range out2.Messages {
		if j, err := queue.Decode([]byte(aws.ToString(m.Body))); err == nil {
			ids[j.ID] = aws.ToString(m.MessageAttributes[queue.AttrJobID].StringValue) == j.ID
		}
	}
	if len(ids) != 2 || !ids[e.jobs[0].ID] || !ids[e.jobs[1].ID] {
		t.Fatalf("redriven jobs %v", ids)
	}
	if code, _, errOut := runDLQ(t, "redrive", "-dlq-url", e.dlqURL); code != 1 || !strings.Contains(errOut, "-queue-url") {
		t.Fatalf("redrive without a target: %d %s", code, errOut)
	}
}

func TestPurgeNeedsYes(t *testing.T) {
	e := newEnv(t)
	code, _, errOut := runDLQ(t, "purge", "-dlq-url", e.dlqURL)
	if code != 1 || !strings.Contains(errOut, "without -yes") || e.count(t, e.dlq) != 3 {
		t.Fatalf("purge without -yes: exit %d, %s, dlq %d", code, errOut, e.count(t, e.dlq))
	}
	code, out, errOut := runDLQ(t, "purge", "-queue-url", e.url, "-yes")
	if code != 0 || !strings.Contains(out, "purged") || e.count(t, e.dlq) != 0 {
		t.Fatalf("purge: exit %d %s%s, dlq %d", code, out, errOut, e.count(t, e.dlq))
	}
}

func TestUsage(t *testing.T) {
	newEnv(t)
	if code, _, errOut := runDLQ(t, "explode"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
	if code, _, errOut := runDLQ(t, "list"); code != 1 || !strings.Contains(errOut, "no queue") {
		t.Fatalf("no queue: %d %s", code, errOut)
	}
	if code, _, _ := runDLQ(t, "list", "-nope"); code != 2 {
		t.Fatalf("bad flag: %d", code)
	}
}
