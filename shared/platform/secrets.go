package platform

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/telefonagent/gateway/shared/booking"
)

// Secrets hands out secret values by name (a Secrets Manager id or ARN on
// AWS, a logical name locally). Values are never logged or put in errors.
type Secrets interface {
	Get(ctx context.Context, name string) (string, error)
}

// SecretsFunc adapts a function to Secrets (fakes in tests).
type SecretsFunc func(ctx context.Context, name string) (string, error)

func (f SecretsFunc) Get(ctx context.Context, name string) (string, error) { return f(ctx, name) }

// MapSecrets is a fixed set of secrets (dev gateway, tests).
type MapSecrets map[string]string

func (m MapSecrets) Get(_ context.Context, name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", booking.Errorf(booking.KindInternal, "secrets.Get", "secret %q is not configured", name)
}

// EnvSecrets reads secrets from the environment for local runs: the secret
// "retell-api-key" is SECRET_RETELL_API_KEY (Prefix + the name upper-cased,
// every non-alphanumeric rune an underscore).
type EnvSecrets struct {
	Getenv func(string) string
	Prefix string // default "SECRET_"
}

// SecretEnvName is the variable EnvSecrets reads for name.
func SecretEnvName(prefix, name string) string {
	if prefix == "" {
		prefix = "SECRET_"
	}
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func (e EnvSecrets) Get(_ context.Context, name string) (string, error) {
	env := SecretEnvName(e.Prefix, name)
	if v := e.Getenv(env); v != "" {
		return v, nil
	}
	return "", booking.Errorf(booking.KindInternal, "secrets.Get", "secret %q is not set (%s)", name, env)
}

// SecretsManagerAPI is the one call we make; *secretsmanager.Client has it.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManager reads secrets from AWS Secrets Manager without caching; wrap
// it in NewCachedSecrets (NewSecretsManager does).
type SecretsManager struct{ API SecretsManagerAPI }

// configErrorCodes are Secrets Manager errors that retrying cannot fix.
var configErrorCodes = map[string]bool{
	"ResourceNotFoundException": true, "AccessDeniedException": true,
	"InvalidParameterException": true, "InvalidRequestException": true,
	"DecryptionFailure": true, "UnrecognizedClientException": true,
}

func (s SecretsManager) Get(ctx context.Context, name string) (string, error) {
	const op = "secretsmanager.GetSecretValue"
	// AWSCURRENT is Secrets Manager's default; naming it keeps a rotation's
	// AWSPENDING value out of reach until the rotation moves AWSCURRENT to it
	// (and makes emulators that track the default version loosely agree).
	current := "AWSCURRENT"
	out, err := s.API.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &name, VersionStage: &current})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && configErrorCodes[apiErr.ErrorCode()] {
			return "", booking.Wrap(booking.KindInternal, op, err, "secret "+name+": "+apiErr.ErrorCode())
		}
		return "", booking.Wrap(booking.KindTransient, op, err, "secret "+name+" could not be read")
	}
	switch {
	case out.SecretString != nil:
		return *out.SecretString, nil
	case out.SecretBinary != nil:
		return string(out.SecretBinary), nil
	}
	return "", booking.Errorf(booking.KindInternal, op, "secret %s has no value", name)
}

// NewSecretsManager is the production Secrets: Secrets Manager behind the
// TTL cache. Build api with secretsmanager.NewFromConfig at init (no
// network happens until the first Get).
func NewSecretsManager(api SecretsManagerAPI, opts CacheOptions) *CachedSecrets {
	return NewCachedSecrets(SecretsManager{API: api}, opts)
}

// NewAWSSecrets builds the Secrets Manager client from the Lambda
// environment (region, credentials of the execution role; no network until
// the first Get) and puts the cache in front of it.
func NewAWSSecrets(ctx context.Context, region string, opts CacheOptions) (*CachedSecrets, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, booking.Wrap(booking.KindInternal, "secrets.NewAWSSecrets", err, "AWS configuration could not be loaded")
	}
	return NewSecretsManager(secretsmanager.NewFromConfig(awsCfg), opts), nil
}

// CacheOptions tune CachedSecrets. Zero values take the defaults.
type CacheOptions struct {
	TTL          time.Duration // how long a value is served without asking again (default 5 min)
	Grace        time.Duration // how long past TTL a value is still served when refreshing fails (default 1 h)
	FetchTimeout time.Duration // per fetch, independent of the caller's context (default 3 s)
	Clock        booking.Clock
}

// CachedSecrets caches another Secrets. Concurrent misses of one name share
// a single fetch; a failed refresh serves the old value within the grace
// period, because a secret rotated a minute ago is better than an outage.
type CachedSecrets struct {
	src  Secrets
	opts CacheOptions

	mu      sync.Mutex
	entries map[string]cacheEntry
	flights map[string]*flight
}

type cacheEntry struct {
	value     string
	fetchedAt time.Time
}

type flight struct {
	done  chan struct{}
	value string
	err   error
}

// NewCachedSecrets wraps src.
func NewCachedSecrets(src Secrets, opts CacheOptions) *CachedSecrets {
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.Grace <= 0 {
		opts.Grace = time.Hour
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 3 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = booking.SystemClock
	}
	return &CachedSecrets{src: src, opts: opts, entries: map[string]cacheEntry{}, flights: map[string]*flight{}}
}

// Get returns a cached value younger than TTL, or fetches it.
func (c *CachedSecrets) Get(ctx context.Context, name string) (string, error) {
	now := c.opts.Clock.Now()
	c.mu.Lock()
	e, cached := c.entries[name]
	if cached && now.Sub(e.fetchedAt) < c.opts.TTL {
		c.mu.Unlock()
		return e.value, nil
	}
	f, inFlight := c.flights[name]
	if !inFlight {
		f = &flight{done: make(chan struct{})}
		c.flights[name] = f
		go c.fetch(context.WithoutCancel(ctx), name, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		if cached && now.Sub(e.fetchedAt) < c.opts.TTL+c.opts.Grace {
			return e.value, nil
		}
		return "", booking.Wrap(booking.KindTransient, "secrets.Get", ctx.Err(), "gave up waiting for secret "+name)
	}
	if f.err == nil {
		return f.value, nil
	}
	if cached && c.opts.Clock.Now().Sub(e.fetchedAt) < c.opts.TTL+c.opts.Grace {
		return e.value, nil
	}
	return "", f.err
}

// fetch runs detached from the first caller's cancellation so that one
// impatient caller does not fail everyone waiting on the same flight.
func (c *CachedSecrets) fetch(ctx context.Context, name string, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.FetchTimeout)
	defer cancel()
	f.value, f.err = c.src.Get(ctx, name)
	c.mu.Lock()
	if f.err == nil {
		c.entries[name] = cacheEntry{value: f.value, fetchedAt: c.opts.Clock.Now()}
	}
	delete(c.flights, name)
	c.mu.Unlock()
	close(f.done)
}

// Invalidate makes the next Get fetch again, e.g. after a signature check
// failed (the secret may just have been rotated). The old value stays
// available as the stale fallback.
func (c *CachedSecrets) Invalidate(name string) {
	c.mu.Lock()
	if e, ok := c.entries[name]; ok {
		e.fetchedAt = c.opts.Clock.Now().Add(-c.opts.TTL)
		c.entries[name] = e
	}
	c.mu.Unlock()
}

// RotatingSecret is the stored form of a secret that verifies signatures
// (the Retell API key, the Cal.com webhook secret). During a rotation it
// holds both values, so requests signed with either verify and no call is
// dropped while the sender switches over:
//
//	{"current": "<new>", "previous": "<old>"}
//
// Outside a rotation it is {"current": "<value>"} or just the plain value.
type RotatingSecret struct {
	Current  string `json:"current"`
	Previous string `json:"previous,omitempty"`
}

// ParseRotatingSecret reads a stored verification secret and returns the
// values that verify, current first. A JSON object must name "current" and
// nothing but "current" and "previous": a misspelt "previous" would end a
// rotation window early and drop calls, so it is refused loudly.
func ParseRotatingSecret(value string) ([]string, error) {
	const op = "secrets.ParseRotatingSecret"
	if !strings.HasPrefix(strings.TrimSpace(value), "{") {
		if value == "" {
			return nil, booking.Errorf(booking.KindInternal, op, "secret is empty")
		}
		return []string{value}, nil
	}
	var s RotatingSecret
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil || dec.More() {
		// The decoder's message may quote the value: never pass it on.
		return nil, booking.Errorf(booking.KindInternal, op, `secret is not {"current": "...", "previous": "..."}`)
	}
	if s.Current == "" {
		return nil, booking.Errorf(booking.KindInternal, op, `secret has no "current" value`)
	}
	if s.Previous == "" || s.Previous == s.Current {
		return []string{s.Current}, nil
	}
	return []string{s.Current, s.Previous}, nil
}
