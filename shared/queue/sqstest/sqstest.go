// Package sqstest drives the queue adapter against a real SQS endpoint
// (moto_server in tests) the way Lambda's SQS event source mapping does:
// receive a batch, hand it to the processor, delete every record it did
// not report as a batch item failure.
package sqstest

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/testenv"
)

// ESM is one event source mapping: a queue and the client reading it.
type ESM struct {
	Client *sqs.Client
	Queue  testenv.Queue
	// WaitSeconds long-polls each receive (0: answer at once).
	WaitSeconds int32
}

// Receive takes up to ten messages with every attribute, as the mapping does.
func (e ESM) Receive(t testing.TB) []types.Message {
	t.Helper()
	out, err := e.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(e.Queue.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: e.WaitSeconds,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("receive from %s: %v", e.Queue.Name, err)
	}
	return out.Messages
}

// Event turns received messages into the Lambda event.
func (e ESM) Event(msgs []types.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, queue.RecordFromSQS(m, e.Queue.ARN))
	}
	return ev
}

// Poll receives one batch, runs p on it and deletes what succeeded. It
// returns how many messages were received.
func (e ESM) Poll(t testing.TB, p *queue.Processor) int {
	t.Helper()
	msgs := e.Receive(t)
	if len(msgs) == 0 {
		return 0
	}
	ev := e.Event(msgs)
	resp, err := p.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("processor: %v", err) // the processor never fails a whole batch
	}
	e.DeleteSucceeded(t, ev, resp)
	return len(msgs)
}

// DeleteSucceeded deletes the records not named in resp's failures.
func (e ESM) DeleteSucceeded(t testing.TB, ev events.SQSEvent, resp events.SQSEventResponse) {
	t.Helper()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			continue
		}
		if _, err := e.Client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
			QueueUrl: aws.String(e.Queue.URL), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
}
