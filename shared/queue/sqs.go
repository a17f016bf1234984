package queue

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/telefonagent/gateway/shared/booking"
)

// SQSAPI is the part of *sqs.Client this package uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// SQS is one queue on Amazon SQS: the retry queue (Publisher,
// VisibilityChanger, DepthReader) or its DLQ (DeadLetterer, DepthReader).
type SQS struct {
	client   SQSAPI
	queueURL string
	clock    booking.Clock
}

// NewSQS returns the queue at queueURL. clock nil means the system clock.
func NewSQS(client SQSAPI, queueURL string, clock booking.Clock) *SQS {
	if clock == nil {
		clock = booking.SystemClock
	}
	return &SQS{client: client, queueURL: queueURL, clock: clock}
}

// URL is the queue's URL.
func (q *SQS) URL() string { return q.queueURL }

// Publish sends j with its type, tenant and id as message attributes.
func (q *SQS) Publish(ctx context.Context, j Job) error {
	body, err := Encode(j)
	if err != nil {
		return err
	}
	attrs := make(map[string]types.MessageAttributeValue, 3)
	for k, v := range jobAttributes(j) {
		attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.queueURL),
		MessageBody:       aws.String(string(body)),
		DelaySeconds:      seconds(delayFor(j, q.clock.Now())),
		MessageAttributes: attrs,
	})
	if err != nil {
		// Every send failure is "the queue is unavailable" to the caller:
		// a webhook answers 503 so the sender retries.
		return booking.Wrap(booking.KindTransient, "queue.Publish", err, "retry queue unavailable")
	}
	return nil
}

// ChangeVisibility sets the received message's visibility timeout to d
// (rounded up to whole seconds, at most 12 hours).
func (q *SQS) ChangeVisibility(ctx context.Context, receiptHandle string, d time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.queueURL),
		ReceiptHandle:     aws.String(receiptHandle),
		VisibilityTimeout: seconds(min(d, maxVisibility)),
	})
	if err != nil {
		return booking.Wrap(booking.KindTransient, "queue.ChangeVisibility", err, "visibility change failed")
	}
	return nil
}

// QueueDepth reads ApproximateNumberOfMessages.
func (q *SQS) QueueDepth(ctx context.Context) (int, error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, booking.Wrap(booking.KindTransient, "queue.QueueDepth", err, "queue attributes unavailable")
	}
	n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	if err != nil {
		return 0, booking.Wrap(booking.KindInternal, "queue.QueueDepth", err, "queue depth not a number")
	}
	return n, nil
}

// DeadLetter sends msg unchanged (body and string attributes) to this
// queue, which must be the DLQ.
func (q *SQS) DeadLetter(ctx context.Context, msg events.SQSMessage, _ error) error {
	attrs := make(map[string]types.MessageAttributeValue, len(msg.MessageAttributes))
	for k, v := range msg.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: v.StringValue}
		}
	}
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.queueURL), MessageBody: aws.String(msg.Body), MessageAttributes: attrs,
	})
	if err != nil {
		return booking.Wrap(booking.KindTransient, "queue.DeadLetter", err, "dead-letter queue unavailable")
	}
	return nil
}

func seconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32(math.Ceil(d.Seconds()))
}

// RecordFromSQS converts a message received with the SDK into the Lambda
// event record the processor reads (for pollers and tools outside Lambda).
func RecordFromSQS(m types.Message, queueARN string) events.SQSMessage {
	rec := events.SQSMessage{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
		Attributes:             make(map[string]string, len(m.Attributes)),
		MessageAttributes:      make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes)),
		EventSource:            "aws:sqs", EventSourceARN: queueARN,
	}
	for k, v := range m.Attributes {
		rec.Attributes[k] = v
	}
	for k, v := range m.MessageAttributes {
		rec.MessageAttributes[k] = events.SQSMessageAttribute{
			DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue,
			StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues,
		}
	}
	return rec
}
