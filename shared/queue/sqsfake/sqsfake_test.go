package sqsfake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// Known answers: the first from the SQS developer guide's example, the
// others as computed by other SQS implementations.
func TestAttributesMD5(t *testing.T) {
	cases := []struct {
		attrs map[string]attribute
		want  string
	}{
		{map[string]attribute{"SellerName": {DataType: "String", StringValue: "Example Store"}}, "cd28f3b68aeee4b2eac9c66f2f694b58"},
		{map[string]attribute{"timestamp": {DataType: "Number", StringValue: "1493147359900"}}, "235c5c510d26fb653d073faed50ae77c"},
		{map[string]attribute{"ordinal": {DataType: "Number", StringValue: "1"}, "category": {DataType: "String", StringValue: "test"}}, "d21ae90c49061e927f57df5f5d72be1f"},
	}
	for _, c := range cases {
		if got := attributesMD5(c.attrs); got != c.want {
			t.Errorf("%v: %s, want %s", c.attrs, got, c.want)
		}
	}
}

func TestBatchesAndQueueLookup(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s := New(func() time.Time { return now })
	defer s.Close()
	c := s.Client()
	ctx := context.Background()
	url := s.CreateQueue("jobs", QueueOptions{})
	s.CreateQueue("jobs-dlq", QueueOptions{})
	s.CreateQueue("other", QueueOptions{})

	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl %v %v", got, err)
	}
	list, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("jobs")})
	if err != nil || len(list.QueueUrls) != 2 {
		t.Fatalf("ListQueues %v %v", list, err)
	}

	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("two"), DelaySeconds: 60},
		{Id: aws.String("c"), MessageBody: aws.String("three"), DelaySeconds: 901},
	}})
	if err != nil || len(sent.Successful) != 2 || len(sent.Failed) != 1 || aws.ToString(sent.Failed[0].Id) != "c" {
		t.Fatalf("SendMessageBatch %+v %v", sent, err)
	}
	if v, f, d := s.Counts("jobs"); v != 1 || f != 0 || d != 1 {
		t.Fatalf("counts %d/%d/%d", v, f, d)
	}
	now = now.Add(time.Minute)
	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(recv.Messages) != 2 || recv.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("ReceiveMessage %+v %v", recv, err)
	}
	if _, ok := recv.Messages[0].Attributes["SentTimestamp"]; ok {
		t.Fatal("attribute returned that was not asked for")
	}
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: recv.Messages[0].ReceiptHandle},
		{Id: aws.String("y"), ReceiptHandle: aws.String("stale")},
	}})
	if err != nil || len(del.Successful) != 1 || len(del.Failed) != 1 {
		t.Fatalf("DeleteMessageBatch %+v %v", del, err)
	}
	var api smithy.APIError
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("stale"), VisibilityTimeout: 5})
	if !errors.As(err, &api) || api.ErrorCode() != "ReceiptHandleIsInvalid" {
		t.Fatalf("stale receipt: %v", err)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	if v, f, d := s.Counts("jobs"); v+f+d != 0 {
		t.Fatal("purge left messages")
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	if !errors.As(err, &api) || api.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("missing queue: %v", err)
	}
}

func TestRejectsOtherProtocols(t *testing.T) {
	s := New(nil)
	defer s.Close()
	// The old Query protocol (form-encoded Action=...) is not spoken.
	resp, err := http.Post(s.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=ListQueues"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
