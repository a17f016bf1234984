package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/telefonagent/gateway/shared/booking"
)

func init() { os.Setenv("AWS_EC2_METADATA_DISABLED", "true") }

// fakeSM speaks the Secrets Manager JSON 1.1 protocol for GetSecretValue.
type fakeSM struct {
	calls   atomic.Int64
	mu      sync.Mutex
	secrets map[string]string
	fail    int           // HTTP status to answer with, 0 = serve
	delay   time.Duration // per request, to make concurrent misses overlap
}

func (f *fakeSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	time.Sleep(f.delay)
	var in struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	f.mu.Lock()
	fail := f.fail
	v, ok := f.secrets[in.SecretId]
	f.mu.Unlock()
	if fail != 0 {
		w.WriteHeader(fail)
		w.Write([]byte(`{"__type":"InternalServiceError","message":"boom"}`))
		return
	}
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:eu-central-1:1:secret:" + in.SecretId, "Name": in.SecretId, "SecretString": v, "VersionId": "v1"})
}

func (f *fakeSM) setFail(status int) { f.mu.Lock(); f.fail = status; f.mu.Unlock() }

func newSMClient(t *testing.T, h http.Handler) *secretsmanager.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return secretsmanager.New(secretsmanager.Options{
		Region:           "eu-central-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1, // count exactly one HTTP call per fetch
	})
}

type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestSecretsManagerCache(t *testing.T) {
	fake := &fakeSM{secrets: map[string]string{"telefonagent/dev/retell-api-key": "key_abc"}, delay: 20 * time.Millisecond}
	clock := &manualClock{t: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	s := NewSecretsManager(newSMClient(t, fake), CacheOptions{TTL: 5 * time.Minute, Grace: time.Hour, Clock: clock})
	ctx := context.Background()

	// 20 concurrent misses make one call.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.Get(ctx, "telefonagent/dev/retell-api-key")
			if err == nil && v != "key_abc" {
				err = &booking.Error{Kind: booking.KindInternal, Message: "wrong value " + v}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := fake.calls.Load(); n != 1 {
		t.Fatalf("concurrent misses made %d calls, want 1", n)
	}

	// Within TTL: served from cache.
	clock.Add(4 * time.Minute)
	if v, err := s.Get(ctx, "telefonagent/dev/retell-api-key"); err != nil || v != "key_abc" {
		t.Fatal(v, err)
	}
	if n := fake.calls.Load(); n != 1 {
		t.Fatalf("cached read made a call (%d)", n)
	}

	// After TTL: fetched again, new value visible (rotation).
	fake.mu.Lock()
	fake.secrets["telefonagent/dev/retell-api-key"] = "key_rotated"
	fake.mu.Unlock()
	clock.Add(2 * time.Minute)
	if v, err := s.Get(ctx, "telefonagent/dev/retell-api-key"); err != nil || v != "key_rotated" {
		t.Fatal(v, err)
	}
	if n := fake.calls.Load(); n != 2 {
		t.Fatalf("expired read: %d calls, want 2", n)
	}

	// Refresh fails: the stale value is served within the grace period...
	fake.setFail(http.StatusInternalServerError)
	clock.Add(10 * time.Minute)
	if v, err := s.Get(ctx, "telefonagent/dev/retell-api-key"); err != nil || v != "key_rotated" {
		t.Fatalf("stale value not served: %q %v", v, err)
	}
	// ...and after it the error surfaces as Transient.
	clock.Add(2 * time.Hour)
	_, err := s.Get(ctx, "telefonagent/dev/retell-api-key")
	if booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("want transient error after grace, got %v", err)
	}
	if strings.Contains(err.Error(), "key_rotated") {
		t.Fatal("error contains the secret value")
	}

	// Recovery.
	fake.setFail(0)
	if v, err := s.Get(ctx, "telefonagent/dev/retell-api-key"); err != nil || v != "key_rotated" {
		t.Fatal(v, err)
	}
}

func TestSecretsManagerErrors(t *testing.T) {
	fake := &fakeSM{secrets: map[string]string{}}
	s := NewSecretsManager(newSMClient(t, fake), CacheOptions{})
	_, err := s.Get(context.Background(), "no-such-secret")
	if booking.KindOf(err) != booking.KindInternal || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("missing secret: want internal (config) error, got %v", err)
	}
	fake.setFail(http.StatusServiceUnavailable)
	_, err = s.Get(context.Background(), "no-such-secret")
	if booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("503: want transient, got %v", err)
	}
	if n := fake.calls.Load(); n != 2 {
		t.Fatalf("errors must not be cached: %d calls", n)
	}
}

// A caller whose context ends stops waiting; the fetch goes on for others.
func TestCachedSecretsCallerCancel(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	src := SecretsFunc(func(ctx context.Context, name string) (string, error) {
		calls.Add(1)
		<-release
		return "v", nil
	})
	c := NewCachedSecrets(src, CacheOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "a"); booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(release)
	if v, err := c.Get(context.Background(), "a"); err != nil || v != "v" {
		t.Fatal(v, err)
	}
	if calls.Load() != 1 {
		t.Fatalf("the detached fetch should have served the second caller, calls=%d", calls.Load())
	}
}

func TestInvalidateRefetchesButKeepsFallback(t *testing.T) {
	var calls atomic.Int64
	fail := atomic.Bool{}
	src := SecretsFunc(func(ctx context.Context, name string) (string, error) {
		calls.Add(1)
		if fail.Load() {
			return "", booking.Errorf(booking.KindTransient, "t", "down")
		}
		return "v", nil
	})
	c := NewCachedSecrets(src, CacheOptions{})
	c.Get(context.Background(), "a")
	c.Invalidate("a")
	fail.Store(true)
	if v, err := c.Get(context.Background(), "a"); err != nil || v != "v" || calls.Load() != 2 {
		t.Fatalf("after invalidate: %q %v calls=%d", v, err, calls.Load())
	}
}

func TestEnvAndMapSecrets(t *testing.T) {
	env := EnvSecrets{Getenv: envOf(map[string]string{"SECRET_RETELL_API_KEY": "key_local", "SECRET_TELEFONAGENT_DEV_PII_KEYS": "k"})}
	if v, err := env.Get(context.Background(), SecretRetellAPIKey); err != nil || v != "key_local" {
		t.Fatal(v, err)
	}
	if v, err := env.Get(context.Background(), "telefonagent/dev/pii-keys"); err != nil || v != "k" {
		t.Fatal(v, err)
	}
	if _, err := env.Get(context.Background(), SecretCalcomWebhook); err == nil || !strings.Contains(err.Error(), "SECRET_CALCOM_WEBHOOK_SECRET") {
		t.Fatalf("missing env secret should name the variable: %v", err)
	}
	m := MapSecrets{"x": "y"}
	if v, _ := m.Get(context.Background(), "x"); v != "y" {
		t.Fatal(v)
	}
	if _, err := m.Get(context.Background(), "z"); err == nil {
		t.Fatal("missing map secret must fail")
	}
}

// The production constructor picks region, credentials and endpoint from
// the environment as on Lambda.
func TestNewAWSSecretsFromEnvironment(t *testing.T) {
	fake := &fakeSM{secrets: map[string]string{"pii-keys": `{"k1":"..."}`}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	s, err := NewAWSSecrets(context.Background(), "eu-central-1", CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v, err := s.Get(context.Background(), "pii-keys"); err != nil || v != `{"k1":"..."}` {
			t.Fatal(v, err)
		}
	}
	if fake.calls.Load() != 1 {
		t.Fatalf("calls %d", fake.calls.Load())
	}
}
