package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// DefaultMotoEndpoint is the moto_server (AWS emulator) tests use unless
// TEST_MOTO_ENDPOINT says otherwise; `make services` starts it.
const DefaultMotoEndpoint = "http://127.0.0.1:5000"

// AWSRegion is the region of every client pointed at moto (the
// production region, so ARNs look as they do there).
const AWSRegion = "eu-central-1"

// Static credentials moto accepts; nothing real is ever signed with them.
const (
	AWSAccessKeyID     = "test"
	AWSSecretAccessKey = "test"
)

const motoHint = `start it with: make services   (or: moto_server -H 127.0.0.1 -p 5000 &)
install it with: pip install 'moto[server]'
or point the tests elsewhere with TEST_MOTO_ENDPOINT`

// MotoURL returns the emulator's base URL.
func MotoURL() string {
	if v := os.Getenv("TEST_MOTO_ENDPOINT"); v != "" {
		return strings.TrimSuffix(v, "/")
	}
	return DefaultMotoEndpoint
}

// CheckMoto reports whether the emulator answers, with the install hint
// when it does not (for programs such as the bench, which have no *testing.T).
func CheckMoto(ctx context.Context) error {
	u, err := url.Parse(MotoURL())
	if err != nil || u.Host == "" {
		return fmt.Errorf("TEST_MOTO_ENDPOINT %q is not a URL", MotoURL())
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return fmt.Errorf("moto_server (the AWS emulator) is not reachable at %s: %v\n%s", MotoURL(), err, motoHint)
	}
	return c.Close()
}

// MotoEndpoint returns the emulator's URL, failing the test loudly (never
// skipping) when it is not running.
func MotoEndpoint(t testing.TB) string {
	t.Helper()
	if err := CheckMoto(context.Background()); err != nil {
		t.Fatal(err)
	}
	return MotoURL()
}

// AWSConfig is an SDK configuration for endpoint: static credentials, the
// test region, no retries (a test sees each fault once), no shared config
// files or instance metadata.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:           AWSRegion,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(AWSAccessKeyID, AWSSecretAccessKey, ""),
		RetryMaxAttempts: 1,
	}
}

// AWSEnv is the environment that points a process's default AWS
// configuration at endpoint (for code that calls config.LoadDefaultConfig).
func AWSEnv(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": AWSRegion, "AWS_DEFAULT_REGION": AWSRegion,
		"AWS_ACCESS_KEY_ID": AWSAccessKeyID, "AWS_SECRET_ACCESS_KEY": AWSSecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// SetAWSEnv applies AWSEnv for the test, with no shared config files, so
// config.LoadDefaultConfig in the code under test reaches endpoint only.
func SetAWSEnv(t testing.TB, endpoint string) {
	t.Helper()
	for k, v := range AWSEnv(endpoint) {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
}

// SQS returns a client of moto's SQS.
func SQS(t testing.TB) *sqs.Client {
	t.Helper()
	return sqs.NewFromConfig(AWSConfig(MotoEndpoint(t)))
}

// SecretsManager returns a client of moto's Secrets Manager.
func SecretsManager(t testing.TB) *secretsmanager.Client {
	t.Helper()
	return secretsmanager.NewFromConfig(AWSConfig(MotoEndpoint(t)))
}

// UniqueName returns base with a random suffix: moto is shared by every
// test package (and checkout) on the machine, so names must never collide.
func UniqueName(base string) string {
	return base + "-" + DatabasePrefix() + RandomHex(5)
}

// Queue is an SQS queue made for one test.
type Queue struct {
	Name, URL, ARN string
}

// CreateQueue makes a queue with a unique name from base and the given
// attributes (VisibilityTimeout, RedrivePolicy, ...) and deletes it after
// the test.
func CreateQueue(t testing.TB, c *sqs.Client, base string, attrs map[string]string) Queue {
	t.Helper()
	ctx := context.Background()
	name := UniqueName(base)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("creating queue %s on moto: %v", name, err)
	}
	q := Queue{Name: name, URL: aws.ToString(out.QueueUrl)}
	t.Cleanup(func() { _, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue %s: %v", name, err)
	}
	q.ARN = a.Attributes[string(types.QueueAttributeNameQueueArn)]
	return q
}

// RedrivePolicy is the RedrivePolicy attribute sending messages received
// maxReceiveCount times to the queue dlqARN.
func RedrivePolicy(dlqARN string, maxReceiveCount int) string {
	return fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqARN, maxReceiveCount)
}

// QueueCounts returns a queue's visible, in-flight and delayed message
// counts as SQS reports them.
func QueueCounts(t testing.TB, c *sqs.Client, url string) (visible, inFlight, delayed int) {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	n := func(k types.QueueAttributeName) int {
		var v int
		fmt.Sscan(out.Attributes[string(k)], &v)
		return v
	}
	return n(types.QueueAttributeNameApproximateNumberOfMessages), n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
}

// FaultProxy stands between an SDK client and moto and can fail requests
// before they reach it: outages moto itself cannot produce. Everything it
// lets through is answered by moto.
type FaultProxy struct {
	*httptest.Server
	mu    sync.Mutex
	fault func(op string) (status int, code string)
	calls map[string]int
}

// NewFaultProxy starts a proxy to moto on loopback.
func NewFaultProxy(t testing.TB) *FaultProxy {
	t.Helper()
	target, err := url.Parse(MotoEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{calls: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target") // JSON protocols: "<Service>.<Operation>"
		op = op[strings.LastIndexByte(op, '.')+1:]
		p.mu.Lock()
		p.calls[op]++
		fault := p.fault
		p.mu.Unlock()
		if fault != nil {
			if status, code := fault(op); status != 0 {
				w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
				w.Header().Set("x-amzn-query-error", code+";Sender")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"__type":%q,"message":"injected fault"}`, code)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// SetFault installs f (nil removes it): a non-zero status fails the
// operation with that HTTP status and AWS error code.
func (p *FaultProxy) SetFault(f func(op string) (status int, code string)) {
	p.mu.Lock()
	p.fault = f
	p.mu.Unlock()
}

// Calls returns how often op was requested through the proxy.
func (p *FaultProxy) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}
