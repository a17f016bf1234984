// Command dlq is the operators' tool for the retry queue's dead-letter queue.
//
//	go run ./scripts/dlq list    [-dlq-url URL | -queue-url URL] [-max N]
//	go run ./scripts/dlq redrive [-queue-url URL] [-dlq-url URL] [-max N]
//	go run ./scripts/dlq purge   [-dlq-url URL | -queue-url URL] -yes
//
// URLs default to $RETRY_QUEUE_URL and $RETRY_DLQ_URL; without a DLQ URL the
// DLQ is found from the queue's RedrivePolicy. AWS access uses the default
// configuration chain (profile, env, role); AWS_ENDPOINT_URL_SQS points it
// at a local endpoint. list prints identifiers only, never payloads: a
// payload may hold personal data.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/telefonagent/gateway/shared/queue"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: dlq list|redrive|purge [-queue-url URL] [-dlq-url URL] [-max N] [-yes]`

// run parses the command line, builds the SQS client from the default AWS
// configuration and runs the command. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queueURL := fs.String("queue-url", os.Getenv("RETRY_QUEUE_URL"), "source (retry) queue URL")
	dlqURL := fs.String("dlq-url", os.Getenv("RETRY_DLQ_URL"), "dead-letter queue URL (default: from the queue's RedrivePolicy)")
	max := fs.Int("max", 100, "most messages to list or redrive; 0 means all")
	yes := fs.Bool("yes", false, "confirm purge")
	var cmd string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cmd == "" && fs.NArg() > 0 {
		cmd = fs.Arg(0)
	}
	if cmd != "list" && cmd != "redrive" && cmd != "purge" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "dlq: AWS configuration:", err)
		return 1
	}
	t := &tool{client: sqs.NewFromConfig(cfg), out: stdout, now: time.Now}
	if err := t.exec(ctx, cmd, *queueURL, *dlqURL, *max, *yes); err != nil {
		fmt.Fprintln(stderr, "dlq:", err)
		return 1
	}
	return 0
}

// API is the part of *sqs.Client the tool uses.
type API interface {
	queue.SQSAPI // SendMessage, ChangeMessageVisibility, GetQueueAttributes
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	PurgeQueue(context.Context, *sqs.PurgeQueueInput, ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error)
}

type tool struct {
	client API
	out    io.Writer
	now    func() time.Time
}

// hold is how long a listed or redriven message stays hidden from others
// while the tool works on it.
const hold = 60

func (t *tool) exec(ctx context.Context, cmd, queueURL, dlqURL string, max int, yes bool) error {
	if dlqURL == "" {
		if queueURL == "" {
			return errors.New("no queue: give -dlq-url or -queue-url (or set RETRY_DLQ_URL / RETRY_QUEUE_URL)")
		}
		u, err := t.dlqOf(ctx, queueURL)
		if err != nil {
			return err
		}
		dlqURL = u
	}
	switch cmd {
	case "list":
		return t.list(ctx, dlqURL, max)
	case "redrive":
		if queueURL == "" {
			return errors.New("redrive needs -queue-url (or RETRY_QUEUE_URL)")
		}
		n, err := t.redrive(ctx, dlqURL, queueURL, max)
		fmt.Fprintf(t.out, "redrove %d message(s) to %s\n", n, queueURL)
		return err
	default:
		return t.purge(ctx, dlqURL, yes)
	}
}

// dlqOf finds the dead-letter queue named by the queue's RedrivePolicy.
func (t *tool) dlqOf(ctx context.Context, queueURL string) (string, error) {
	out, err := t.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		return "", fmt.Errorf("reading the redrive policy: %w", err)
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	raw := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]
	if err := json.Unmarshal([]byte(raw), &policy); err != nil || policy.DeadLetterTargetArn == "" {
		return "", errors.New("the queue has no redrive policy; give -dlq-url")
	}
	arn := strings.Split(policy.DeadLetterTargetArn, ":") // arn:aws:sqs:region:account:name
	u, err := t.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(arn[len(arn)-1]), QueueOwnerAWSAccountId: aws.String(arn[len(arn)-2])})
	if err != nil {
		return "", fmt.Errorf("resolving the DLQ: %w", err)
	}
	return aws.ToString(u.QueueUrl), nil
}

// receive takes up to n (≤ 10) messages, hiding them for hold seconds.
func (t *tool) receive(ctx context.Context, url string, n int) ([]types.Message, error) {
	out, err := t.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: int32(min(n, 10)), VisibilityTimeout: hold,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, fmt.Errorf("receiving from %s: %w", url, err)
	}
	return out.Messages, nil
}

func remaining(max, done int) int {
	if max <= 0 {
		return 10
	}
	return max - done
}

// list prints one line per dead-lettered message and makes them visible
// again afterwards; it never prints a body.
func (t *tool) list(ctx context.Context, url string, max int) error {
	w := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MESSAGE_ID\tJOB_ID\tTYPE\tTENANT\tATTEMPT\tRECEIVES\tAGE\tNOTE")
	var shown []types.Message
	seen := map[string]bool{}
	defer func() { t.release(context.WithoutCancel(ctx), url, shown) }()
	for n := remaining(max, 0); n > 0; n = remaining(max, len(shown)) {
		msgs, err := t.receive(ctx, url, n)
		if err != nil {
			return err
		}
		fresh := 0
		for _, m := range msgs {
			shown = append(shown, m)
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			fresh++
			fmt.Fprintln(w, t.row(m))
		}
		if fresh == 0 {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%d message(s) listed\n", len(seen))
	return nil
}

func (t *tool) row(m types.Message) string {
	rec := queue.RecordFromSQS(m, "")
	attr := func(k string) string {
		if a, ok := rec.MessageAttributes[k]; ok && a.StringValue != nil {
			return *a.StringValue
		}
		return "-"
	}
	id, typ, tenant, attempt, note := attr(queue.AttrJobID), attr(queue.AttrJobType), attr(queue.AttrTenantID), "-", ""
	if j, err := queue.Decode([]byte(rec.Body)); err == nil {
		id, typ, tenant, attempt = j.ID, j.Type, j.TenantID, strconv.Itoa(j.Attempt)
		if tenant == "" {
			tenant = "-"
		}
	} else {
		note = "undecodable: " + queue.SafeError(err)
	}
	age := "-"
	if ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64); err == nil {
		age = t.now().Sub(time.UnixMilli(ms)).Round(time.Second).String()
	}
	return strings.Join([]string{aws.ToString(m.MessageId), id, typ, tenant, attempt, rec.Attributes["ApproximateReceiveCount"], age, note}, "\t")
}

// release makes listed messages visible again at once.
func (t *tool) release(ctx context.Context, url string, msgs []types.Message) {
	for _, m := range msgs {
		_, _ = t.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}) // a stale handle (received again in the same listing) is expected
	}
}

// redrive moves messages from the DLQ back to the queue: send first, then
// delete, so a crash in between duplicates a job (the worker dedupes by job
// id) instead of losing it. Bodies and attributes travel unchanged.
func (t *tool) redrive(ctx context.Context, dlqURL, queueURL string, max int) (int, error) {
	moved := 0
	for n := remaining(max, 0); n > 0; n = remaining(max, moved) {
		msgs, err := t.receive(ctx, dlqURL, n)
		if err != nil || len(msgs) == 0 {
			return moved, err
		}
		for _, m := range msgs {
			attrs := map[string]types.MessageAttributeValue{}
			for k, v := range m.MessageAttributes {
				if v.StringValue != nil {
					attrs[k] = types.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue}
				}
			}
			if _, err := t.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: m.Body, MessageAttributes: attrs}); err != nil {
				return moved, fmt.Errorf("sending to %s: %w", queueURL, err)
			}
			if _, err := t.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, fmt.Errorf("deleting a redriven message from the DLQ (it will be redriven twice): %w", err)
			}
			moved++
		}
	}
	return moved, nil
}

// purge deletes everything in the DLQ, only with -yes.
func (t *tool) purge(ctx context.Context, url string, yes bool) error {
	depth, err := queue.NewSQS(t.client, url, nil).QueueDepth(ctx)
	if err != nil {
		return err
	}
	if !yes {
		return fmt.Errorf("refusing to purge %s (about %d message(s)) without -yes", url, depth)
	}
	if _, err := t.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		return fmt.Errorf("purging %s: %w", url, err)
	}
	fmt.Fprintf(t.out, "purged %s (about %d message(s))\n", url, depth)
	return nil
}
