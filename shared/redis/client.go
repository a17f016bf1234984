// Package redis holds the gateway's fast, disposable state in Redis: the
// availability cache, the tenant-by-number cache, the idempotency fast
// path, slot locks and rate gates. Nothing here is the source of truth:
// when Redis is unreachable every operation fails fast with a
// booking.KindTransient error and callers degrade (no cache, no prefetch,
// MySQL-backed idempotency) instead of failing the call.
package redis

import (
	"crypto/tls"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Options configure a client. Zero values take the defaults below, chosen
// for Lambda: one request at a time per instance, a 2.5 s in-call budget,
// so a dead Redis must cost at most a few hundred milliseconds.
type Options struct {
	Addr     string // host:port
	Username string // ACL user (ElastiCache RBAC); "" for AUTH with password only
	Password string
	TLS      bool // ElastiCache in-transit encryption

	DialTimeout  time.Duration // default 200 ms
	ReadTimeout  time.Duration // default 200 ms
	WriteTimeout time.Duration // default = ReadTimeout
	PoolSize     int           // default 4
	// Retries of a failed command (network errors only). Default 0: a
	// retry would double the time a dead Redis costs the caller.
	Retries int
}

// Defaults.
const (
	DefaultDialTimeout = 200 * time.Millisecond
	DefaultReadTimeout = 200 * time.Millisecond
	DefaultPoolSize    = 4
)

// NewClient builds a go-redis client. It does not connect: the first
// command dials, so creating a client during Lambda init costs no network.
func NewClient(o Options) *goredis.Client {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = o.ReadTimeout
	}
	if o.PoolSize <= 0 {
		o.PoolSize = DefaultPoolSize
	}
	retries := o.Retries
	if retries <= 0 {
		retries = -1 // go-redis: -1 disables retries, 0 means its default of 3
	}
	opt := &goredis.Options{
		Addr:                  o.Addr,
		Username:              o.Username,
		Password:              o.Password,
		DialTimeout:           o.DialTimeout,
		DialerRetries:         1, // one dial attempt per command; the default 5 × 100 ms backoff would eat the budget
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		ContextTimeoutEnabled: true, // a caller's deadline cuts a command short
		PoolSize:              o.PoolSize,
		PoolTimeout:           o.ReadTimeout + o.DialTimeout,
		ConnMaxIdleTime:       4 * time.Minute, // below ElastiCache's and NAT/ENI idle timeouts
		MaxRetries:            retries,
		DisableIdentity:       true, // skip CLIENT SETINFO: one round trip less on a cold start
	}
	if o.TLS {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return goredis.NewClient(opt)
}
