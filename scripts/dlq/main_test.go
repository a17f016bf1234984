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
	"github.com/telefonagent/gateway/shared/queue/sqsfake"
)

const secret = "+4915112345678"

type env struct {
	fake        *sqsfake.Server
	client      *sqs.Client
	url, dlqURL string
	jobs        []queue.Job
}

// newEnv starts the fake with a retry queue and its DLQ, points the default
// AWS configuration at it, and puts two jobs and one poison message into
// the DLQ: the jobs the way SQS does it (five receives, no delete), the
// poison message directly, as the processor does.
func newEnv(t *testing.T) *env {
	t.Helper()
	clock := struct{ t time.Time }{time.Now().Add(-10 * time.Minute)}
	fake := sqsfake.New(func() time.Time { return clock.t })
	t.Cleanup(fake.Close)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SQS": fake.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": t.TempDir() + "/none", "AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/none",
		"AWS_EC2_METADATA_DISABLED": "true", "RETRY_QUEUE_URL": "", "RETRY_DLQ_URL": "",
	} {
		t.Setenv(k, v)
	}
	e := &env{fake: fake, client: fake.Client()}
	e.dlqURL = fake.CreateQueue("retry-dlq", sqsfake.QueueOptions{})
	e.url = fake.CreateQueue("retry", sqsfake.QueueOptions{DeadLetterQueue: "retry-dlq", MaxReceiveCount: 5})
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
	for range 6 { // each receive hides them for 30 s; the 6th moves them
		if _, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.url), MaxNumberOfMessages: 10}); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(31 * time.Second)
	}
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.dlqURL), MessageBody: aws.String(`{"name":"` + secret + `"`)}); err != nil {
		t.Fatal(err)
	}
	if e.count(t, "retry") != 0 || e.count(t, "retry-dlq") != 3 {
		t.Fatalf("setup: queue %d, dlq %d", e.count(t, "retry"), e.count(t, "retry-dlq"))
	}
	return e
}

func (e *env) count(t *testing.T, name string) int {
	v, f, d := e.fake.Counts(name)
	return v + f + d
}

func (e *env) visible(name string) int {
	v, _, _ := e.fake.Counts(name)
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
	if e.visible("retry-dlq") != 3 {
		t.Fatalf("listing left %d of 3 visible", e.visible("retry-dlq"))
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
	if e.count(t, "retry") != 2 || e.count(t, "retry-dlq") != 1 {
		t.Fatalf("after -max 2: queue %d dlq %d", e.count(t, "retry"), e.count(t, "retry-dlq"))
	}
	code, out, _ = runDLQ(t, "redrive", "-queue-url", e.url, "-dlq-url", e.dlqURL, "-max", "0")
	if code != 0 || !strings.Contains(out, "redrove 1 message(s)") || e.count(t, "retry") != 3 || e.count(t, "retry-dlq") != 0 {
		t.Fatalf("redrive all: %s; queue %d dlq %d", out, e.count(t, "retry"), e.count(t, "retry-dlq"))
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
	if code != 1 || !strings.Contains(errOut, "without -yes") || e.count(t, "retry-dlq") != 3 {
		t.Fatalf("purge without -yes: exit %d, %s, dlq %d", code, errOut, e.count(t, "retry-dlq"))
	}
	code, out, errOut := runDLQ(t, "purge", "-queue-url", e.url, "-yes")
	if code != 0 || !strings.Contains(out, "purged") || e.count(t, "retry-dlq") != 0 {
		t.Fatalf("purge: exit %d %s%s, dlq %d", code, out, errOut, e.count(t, "retry-dlq"))
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
