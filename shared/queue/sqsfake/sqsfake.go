// Package sqsfake is an httptest server speaking the SQS JSON 1.0 protocol
// (X-Amz-Target: AmazonSQS.<Op>, application/x-amz-json-1.0), enough of it
// for the real aws-sdk-go-v2 client to drive our adapter and the DLQ tool:
// send, receive, delete, change visibility, queue attributes, purge, list,
// and redrive to a dead-letter queue after maxReceiveCount. No installable
// SQS emulator speaks this protocol (TOOLING.md).
package sqsfake

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

const account = "000000000000"

// Server is a running fake. The zero value is not usable; call New.
type Server struct {
	*httptest.Server
	// Fault, when set, may fail an operation before it runs: return a
	// non-zero HTTP status and an SQS error code (e.g. 500, "InternalError").
	Fault func(op string) (status int, code string)

	mu     sync.Mutex
	now    func() time.Time
	seq    int
	queues map[string]*queue
	calls  map[string]int
}

type queue struct {
	name       string
	visibility time.Duration
	dlq        string // name of the dead-letter queue, "" for none
	maxReceive int
	msgs       []*message
}

type message struct {
	ID, Body, MD5, AttrMD5 string
	Attrs                  map[string]attribute
	sent, firstRecv, vis   time.Time
	receives               int
	receipt                string
}

type attribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// QueueOptions configures a queue made with CreateQueue.
type QueueOptions struct {
	VisibilityTimeout time.Duration // default 30 s
	DeadLetterQueue   string        // name of an existing queue; "" for none
	MaxReceiveCount   int           // redrive threshold, default 5 with a DLQ
}

// New starts a fake on loopback. now nil means time.Now.
func New(now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{now: now, queues: map[string]*queue{}, calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Client returns a real SDK client pointed at the fake, with static
// credentials and no retries (a test sees each fault once).
func (s *Server) Client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		RetryMaxAttempts: 1,
	})
}

// CreateQueue adds a queue and returns its URL.
func (s *Server) CreateQueue(name string, o QueueOptions) string {
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = 30 * time.Second
	}
	if o.DeadLetterQueue != "" && o.MaxReceiveCount <= 0 {
		o.MaxReceiveCount = 5
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[name] = &queue{name: name, visibility: o.VisibilityTimeout, dlq: o.DeadLetterQueue, maxReceive: o.MaxReceiveCount}
	return s.queueURL(name)
}

// Counts returns a queue's visible, in-flight and delayed message counts.
func (s *Server) Counts(name string) (visible, inFlight, delayed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[name]
	if q == nil {
		return 0, 0, 0
	}
	now := s.now()
	for _, m := range q.msgs {
		switch {
		case !m.vis.After(now):
			visible++
		case m.receives > 0:
			inFlight++
		default:
			delayed++
		}
	}
	return visible, inFlight, delayed
}

// Calls returns how often op was requested.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *Server) queueURL(name string) string { return s.URL + "/" + account + "/" + name }

type apiError struct {
	status          int
	code, queryCode string
	msg             string
}

func errNoQueue() *apiError {
	return &apiError{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
}

func errInvalid(code, msg string) *apiError { return &apiError{400, code, code, msg} }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.0") {
		writeErr(w, &apiError{400, "InvalidAction", "InvalidAction", "not an SQS JSON 1.0 request"})
		return
	}
	var in request
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, errInvalid("InvalidParameterValue", "malformed JSON"))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	if s.Fault != nil {
		if status, code := s.Fault(op); status != 0 {
			writeErr(w, &apiError{status, code, code, "injected fault"})
			return
		}
	}
	s.mu.Lock()
	out, aerr := s.dispatch(op, &in)
	s.mu.Unlock()
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", e.queryCode+";Sender")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.code, "message": e.msg})
}

// request is the union of the input members of the operations served.
type request struct {
	QueueUrl, QueueName, QueueNamePrefix, ReceiptHandle, MessageBody, Id string
	DelaySeconds, MaxNumberOfMessages, WaitTimeSeconds, MaxResults       int
	VisibilityTimeout                                                    *int
	MessageAttributes                                                    map[string]attribute
	AttributeNames, MessageSystemAttributeNames, MessageAttributeNames   []string
	Entries                                                              []request
}

type obj = map[string]any

func (s *Server) dispatch(op string, in *request) (any, *apiError) {
	if op == "ListQueues" {
		var urls []string
		for name := range s.queues {
			if strings.HasPrefix(name, in.QueueNamePrefix) {
				urls = append(urls, s.queueURL(name))
			}
		}
		slices.Sort(urls)
		return obj{"QueueUrls": urls}, nil
	}
	if op == "GetQueueUrl" {
		if s.queues[in.QueueName] == nil {
			return nil, errNoQueue()
		}
		return obj{"QueueUrl": s.queueURL(in.QueueName)}, nil
	}
	q := s.queues[in.QueueUrl[strings.LastIndex(in.QueueUrl, "/")+1:]]
	if q == nil || in.QueueUrl != s.queueURL(q.name) {
		return nil, errNoQueue()
	}
	switch op {
	case "SendMessage":
		return s.send(q, in)
	case "SendMessageBatch":
		ok, failed := []any{}, []any{}
		for _, e := range in.Entries {
			if res, err := s.send(q, &e); err != nil {
				failed = append(failed, obj{"Id": e.Id, "Code": err.code, "Message": err.msg, "SenderFault": true})
			} else {
				res["Id"] = e.Id
				ok = append(ok, res)
			}
		}
		return obj{"Successful": ok, "Failed": failed}, nil
	case "ReceiveMessage":
		return s.receive(q, in), nil
	case "DeleteMessage":
		if !q.delete(in.ReceiptHandle) {
			return nil, errInvalid("ReceiptHandleIsInvalid", "The receipt handle is not valid.")
		}
		return obj{}, nil
	case "DeleteMessageBatch":
		ok, failed := []any{}, []any{}
		for _, e := range in.Entries {
			if q.delete(e.ReceiptHandle) {
				ok = append(ok, obj{"Id": e.Id})
			} else {
				failed = append(failed, obj{"Id": e.Id, "Code": "ReceiptHandleIsInvalid", "Message": "The receipt handle is not valid.", "SenderFault": true})
			}
		}
		return obj{"Successful": ok, "Failed": failed}, nil
	case "ChangeMessageVisibility":
		if in.VisibilityTimeout == nil || *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
			return nil, errInvalid("InvalidParameterValue", "VisibilityTimeout must be 0..43200")
		}
		for _, m := range q.msgs {
			if m.receipt != "" && m.receipt == in.ReceiptHandle {
				m.vis = s.now().Add(time.Duration(*in.VisibilityTimeout) * time.Second)
				return obj{}, nil
			}
		}
		return nil, errInvalid("ReceiptHandleIsInvalid", "The receipt handle is not valid.")
	case "GetQueueAttributes":
		return obj{"Attributes": s.attributes(q)}, nil
	case "PurgeQueue":
		q.msgs = nil
		return obj{}, nil
	}
	return nil, &apiError{400, "InvalidAction", "InvalidAction", "operation not supported by the fake: " + op}
}

func (s *Server) send(q *queue, in *request) (obj, *apiError) {
	if in.MessageBody == "" {
		return nil, errInvalid("MissingParameter", "MessageBody is required")
	}
	if in.DelaySeconds < 0 || in.DelaySeconds > 900 {
		return nil, errInvalid("InvalidParameterValue", "DelaySeconds must be 0..900")
	}
	s.seq++
	now := s.now()
	sum := md5.Sum([]byte(in.MessageBody))
	m := &message{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq), Body: in.MessageBody, MD5: hex.EncodeToString(sum[:]),
		Attrs: in.MessageAttributes, AttrMD5: attributesMD5(in.MessageAttributes),
		sent: now, vis: now.Add(time.Duration(in.DelaySeconds) * time.Second),
	}
	q.msgs = append(q.msgs, m)
	out := obj{"MessageId": m.ID, "MD5OfMessageBody": m.MD5}
	if m.AttrMD5 != "" {
		out["MD5OfMessageAttributes"] = m.AttrMD5
	}
	return out, nil
}

// receive returns visible messages; a visible message already received
// maxReceiveCount times moves to the DLQ instead, as SQS's redrive does.
func (s *Server) receive(q *queue, in *request) obj {
	max := min(max(in.MaxNumberOfMessages, 1), 10)
	vis := q.visibility
	if in.VisibilityTimeout != nil {
		vis = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	sysNames := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	now := s.now()
	out := []any{}
	keep := q.msgs[:0]
	for _, m := range q.msgs {
		if len(out) >= max || m.vis.After(now) {
			keep = append(keep, m)
			continue
		}
		if dlq := s.queues[q.dlq]; dlq != nil && m.receives >= q.maxReceive {
			m.receipt = ""
			dlq.msgs = append(dlq.msgs, m) // keeps its id, body and receive count, as SQS does
			continue
		}
		m.receives++
		if m.firstRecv.IsZero() {
			m.firstRecv = now
		}
		s.seq++
		m.receipt = fmt.Sprintf("%s#%d#%d", m.ID, m.receives, s.seq)
		m.vis = now.Add(vis)
		keep = append(keep, m)
		out = append(out, m.view(sysNames, in.MessageAttributeNames))
	}
	clear(q.msgs[len(keep):])
	q.msgs = keep
	return obj{"Messages": out}
}

func (m *message) view(sysNames, attrNames []string) obj {
	v := obj{"MessageId": m.ID, "ReceiptHandle": m.receipt, "Body": m.Body, "MD5OfBody": m.MD5}
	sys := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstRecv.UnixMilli(), 10),
	}
	attrs := map[string]string{}
	for k, val := range sys {
		if slices.Contains(sysNames, "All") || slices.Contains(sysNames, k) {
			attrs[k] = val
		}
	}
	if len(attrs) > 0 {
		v["Attributes"] = attrs
	}
	ma := map[string]attribute{}
	for k, a := range m.Attrs {
		if slices.Contains(attrNames, "All") || slices.Contains(attrNames, ".*") || slices.Contains(attrNames, k) {
			ma[k] = a
		}
	}
	if len(ma) > 0 {
		v["MessageAttributes"] = ma
		v["MD5OfMessageAttributes"] = attributesMD5(ma)
	}
	return v
}

func (q *queue) delete(receipt string) bool {
	n := len(q.msgs)
	q.msgs = slices.DeleteFunc(q.msgs, func(m *message) bool { return receipt != "" && m.receipt == receipt })
	return len(q.msgs) < n
}

func (s *Server) attributes(q *queue) map[string]string {
	now := s.now()
	var visible, inFlight, delayed int
	for _, m := range q.msgs {
		switch {
		case !m.vis.After(now):
			visible++
		case m.receives > 0:
			inFlight++
		default:
			delayed++
		}
	}
	a := map[string]string{
		"QueueArn":                              "arn:aws:sqs:us-east-1:" + account + ":" + q.name,
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"VisibilityTimeout":                     strconv.Itoa(int(q.visibility / time.Second)),
	}
	if q.dlq != "" {
		a["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:%s:%s","maxReceiveCount":%d}`, account, q.dlq, q.maxReceive)
	}
	return a
}

// attributesMD5 is SQS's digest of message attributes: names sorted, each
// encoded as length-prefixed name, type, a transport byte and value.
func attributesMD5(attrs map[string]attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	h := md5.New()
	field := func(b []byte) {
		_ = binary.Write(h, binary.BigEndian, uint32(len(b)))
		h.Write(b)
	}
	for _, k := range names {
		a := attrs[k]
		field([]byte(k))
		field([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			field(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			field([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
