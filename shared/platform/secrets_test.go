package platform

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

func init() { os.Setenv("AWS_EC2_METADATA_DISABLED", "true") }

// smOnMoto is Secrets Manager on moto behind a proxy that counts calls
// and can fail or slow them; the SDK client makes one attempt per call.
type smOnMoto struct {
	proxy *testenv.FaultProxy
	api   *secretsmanager.Client // through the proxy
}

func newSMOnMoto(t *testing.T) *smOnMoto {
	t.Helper()
	p := testenv.NewFaultProxy(t)
	return &smOnMoto{proxy: p, api: secretsmanager.NewFromConfig(testenv.AWSConfig(p.URL))}
}

// create makes a secret with a unique name and deletes it after the test.
func (m *smOnMoto) create(t *testing.T, base, value string) string {
	t.Helper()
	name := testenv.UniqueName("telefonagent/test/" + base)
	if _, err := m.api.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
		t.Fatalf("create secret on moto: %v", err)
	}
	t.Cleanup(func() {
		_, _ = m.api.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	})
	return name
}

// rotate does what a rotation function does: stage the new value as
// AWSPENDING, then move AWSCURRENT to it (the old version becomes
// AWSPREVIOUS). pending runs between the two steps.
func (m *smOnMoto) rotate(t *testing.T, name, value string, pending func()) {
	t.Helper()
	ctx := context.Background()
	cur, err := m.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var old string
	for id, stages := range cur.VersionIdsToStages {
		if slices.Contains(stages, "AWSCURRENT") {
			old = id
		}
	}
	token := "rotation-" + testenv.RandomHex(16) // ClientRequestToken: 32 to 64 characters
	if _, err := m.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value),
		ClientRequestToken: aws.String(token), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatalf("put pending: %v", err)
	}
	if pending != nil {
		pending()
	}
	if _, err := m.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name),
		VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(token), RemoveFromVersionId: aws.String(old)}); err != nil {
		t.Fatalf("move AWSCURRENT: %v", err)
	}
}

func (m *smOnMoto) calls() int { return m.proxy.Calls("GetSecretValue") }

type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestSecretsManagerCache(t *testing.T) {
	m := newSMOnMoto(t)
	name := m.create(t, "retell-api-key", "key_abc")
	// Slow every call a little so that the concurrent misses overlap.
	m.proxy.SetFault(func(string) (int, string) { time.Sleep(20 * time.Millisecond); return 0, "" })
	clock := &manualClock{t: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	s := NewSecretsManager(m.api, CacheOptions{TTL: 5 * time.Minute, Grace: time.Hour, Clock: clock})
	ctx := context.Background()

	// 20 concurrent misses make one call.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.Get(ctx, name)
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
	if n := m.calls(); n != 1 {
		t.Fatalf("concurrent misses made %d calls, want 1", n)
	}

	// Within TTL: served from cache.
	clock.Add(4 * time.Minute)
	if v, err := s.Get(ctx, name); err != nil || v != "key_abc" {
		t.Fatal(v, err)
	}
	if n := m.calls(); n != 1 {
		t.Fatalf("cached read made a call (%d)", n)
	}

	// After TTL: fetched again, the rotated value is visible.
	m.rotate(t, name, "key_rotated", nil)
	clock.Add(2 * time.Minute)
	if v, err := s.Get(ctx, name); err != nil || v != "key_rotated" {
		t.Fatal(v, err)
	}
	if n := m.calls(); n != 2 {
		t.Fatalf("expired read: %d calls, want 2", n)
	}

	// Refresh fails: the stale value is served within the grace period...
	m.proxy.SetFault(func(string) (int, string) { return http.StatusInternalServerError, "InternalServiceError" })
	clock.Add(10 * time.Minute)
	if v, err := s.Get(ctx, name); err != nil || v != "key_rotated" {
		t.Fatalf("stale value not served: %q %v", v, err)
	}
	// ...and after it the error surfaces as Transient.
	clock.Add(2 * time.Hour)
	_, err := s.Get(ctx, name)
	if booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("want transient error after grace, got %v", err)
	}
	if strings.Contains(err.Error(), "key_rotated") {
		t.Fatal("error contains the secret value")
	}

	// Recovery.
	m.proxy.SetFault(nil)
	if v, err := s.Get(ctx, name); err != nil || v != "key_rotated" {
		t.Fatal(v, err)
	}
}

// A rotation as Secrets Manager runs it (AWSPENDING, then AWSCURRENT moves
// and the old version becomes AWSPREVIOUS): the cache never hands out the
// pending value, picks up the new one once its TTL has run out, and no
// caller sees an error while it happens.
func TestSecretsManagerRotation(t *testing.T) {
	m := newSMOnMoto(t)
	name := m.create(t, "calcom-webhook-secret", "whsec_old")
	clock := &manualClock{t: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	const ttl = 5 * time.Minute
	s := NewSecretsManager(m.api, CacheOptions{TTL: ttl, Clock: clock})
	ctx := context.Background()
	if v, err := s.Get(ctx, name); err != nil || v != "whsec_old" {
		t.Fatal(v, err)
	}

	// Callers keep reading all through the rotation, with the cache
	// expiring under them again and again.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	var failures []error
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := s.Get(ctx, name)
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				}
				seen[v]++
				mu.Unlock()
			}
		}()
	}
	expire := func() { clock.Add(ttl) }
	expire()
	m.rotate(t, name, "whsec_new", func() {
		// Staged but not current: after the TTL the old value is still served.
		expire()
		if v, err := s.Get(ctx, name); err != nil || v != "whsec_old" {
			t.Errorf("during AWSPENDING: %q %v", v, err)
		}
	})
	// Moved, but the cached value is younger than the TTL: still the old one.
	if v, _ := s.Get(ctx, name); v != "whsec_old" && v != "whsec_new" {
		t.Errorf("after the move: %q", v)
	}
	expire()
	if v, err := s.Get(ctx, name); err != nil || v != "whsec_new" {
		t.Errorf("after the TTL: %q %v", v, err)
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d reads failed during the rotation, first: %v", len(failures), failures[0])
	}
	for v := range seen {
		if v != "whsec_old" && v != "whsec_new" {
			t.Fatalf("a reader saw %q", v)
		}
	}
	// Secrets Manager keeps the old value as AWSPREVIOUS (the cache reads
	// AWSCURRENT only; the rotation window lives in the value, see
	// ParseRotatingSecret).
	prev, err := m.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(prev.SecretString) != "whsec_old" {
		t.Fatalf("AWSPREVIOUS: %v", err)
	}
}

func TestSecretsManagerErrors(t *testing.T) {
	m := newSMOnMoto(t)
	s := NewSecretsManager(m.api, CacheOptions{})
	missing := testenv.UniqueName("no-such-secret")
	_, err := s.Get(context.Background(), missing)
	if booking.KindOf(err) != booking.KindInternal || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("missing secret: want internal (config) error, got %v", err)
	}
	m.proxy.SetFault(func(string) (int, string) { return http.StatusServiceUnavailable, "ServiceUnavailable" })
	_, err = s.Get(context.Background(), missing)
	if booking.KindOf(err) != booking.KindTransient {
		t.Fatalf("503: want transient, got %v", err)
	}
	if n := m.calls(); n != 2 {
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
	m := newSMOnMoto(t)
	name := m.create(t, "pii-keys", `{"k1":"..."}`)
	testenv.SetAWSEnv(t, m.proxy.URL)
	s, err := NewAWSSecrets(context.Background(), testenv.AWSRegion, CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v, err := s.Get(context.Background(), name); err != nil || v != `{"k1":"..."}` {
			t.Fatal(v, err)
		}
	}
	if m.calls() != 1 {
		t.Fatalf("calls %d", m.calls())
	}
}

func TestParseRotatingSecret(t *testing.T) {
	for in, want := range map[string][]string{
		"key_plain":             {"key_plain"},
		`{"current":"key_new"}`: {"key_new"},
		`{"current":"key_new","previous":"key_old"}`:  {"key_new", "key_old"},
		` {"previous":"key_old","current":"key_new"}`: {"key_new", "key_old"},
		`{"current":"same","previous":"same"}`:        {"same"},
		`{"current":"key_new","previous":""}`:         {"key_new"},
	} {
		got, err := ParseRotatingSecret(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", `{"previous":"key_old"}`, `{"current":""}`, `{"current":"k","pervious":"key_old"}`,
		`{"current":"k"} {"current":"x"}`, `{"current":`, `{"current":42}`} {
		_, err := ParseRotatingSecret(in)
		if booking.KindOf(err) != booking.KindInternal {
			t.Errorf("%q: want a configuration error, got %v", in, err)
		}
		if err != nil && (strings.Contains(err.Error(), "key_old") || strings.Contains(err.Error(), `"x"`)) {
			t.Errorf("%q: the error quotes the secret: %v", in, err)
		}
	}
}
