// Package app is the composition root: it builds the adapters from
// configuration and hands each catalogued function its handler. Lambda
// mains, the dev gateway, the simulator and the benchmarks all assemble the
// system here, so there is exactly one wiring.
package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
)

// Deps is everything a handler may use. Optional parts are nil when not
// configured (no Redis: no cache, no locks, MySQL-only idempotency).
type Deps struct {
	Config  platform.Config
	Flags   platform.Flags
	Logger  *slog.Logger
	Metrics platform.Metrics
	Tracer  platform.Tracer
	Clock   booking.Clock

	Store      *mysql.Store
	Redis      *goredis.Client // nil: degrade
	Keys       redis.Keys
	Publisher  queue.Publisher
	QueueDepth queue.DepthReader
	Calendar   booking.Calendar
	// CalcomClient returns a tenant's Cal.com client (the same clients, and
	// circuit breakers, the Calendar uses); for the worker and reconciliation.
	CalcomClient func(ctx context.Context, t booking.Tenant) (*calcom.Client, error)

	// RetellAPIKey and CalcomWebhookSecret are the current values (the
	// Retell key also signs deploy-time smoke requests). With Secrets set,
	// the signature checks read both secrets through it on every request
	// instead, current and previous value (platform.RotatingSecret), so a
	// rotation reaches running functions within the cache's TTL.
	RetellAPIKey        string
	CalcomWebhookSecret string
	Secrets             platform.Secrets // nil: the fixed values above (dev, tests)
	InboundFallback     json.RawMessage
	AdminToken          string
}

// Directory resolves dialled numbers (Redis-cached, MySQL fallback).
func (d *Deps) Directory() booking.Directory {
	cd := CachedDirectory{Store: d.Store, Logger: d.Logger}
	if d.Redis != nil {
		cd.Cache = &redis.TenantCache{Client: d.Redis, Keys: d.Keys}
	}
	return cd
}

// TenantCache is nil without Redis.
func (d *Deps) TenantCache() *redis.TenantCache {
	if d.Redis == nil {
		return nil
	}
	return &redis.TenantCache{Client: d.Redis, Keys: d.Keys}
}

// SlotCache is nil without Redis.
func (d *Deps) SlotCache() *redis.AvailabilityCache {
	if d.Redis == nil {
		return nil
	}
	return &redis.AvailabilityCache{Client: d.Redis, Keys: d.Keys}
}

// Idempotency is MySQL-backed, Redis-accelerated.
func (d *Deps) Idempotency() booking.Idempotency {
	i := Idempotency{DB: d.Store.Idempotency()}
	if d.Redis != nil {
		i.Cache = &redis.IdempotencyCache{Client: d.Redis, Keys: d.Keys}
	}
	return i
}

// Enqueuer publishes retry-worker jobs.
func (d *Deps) Enqueuer() booking.Enqueuer { return Enqueuer{Publisher: d.Publisher, Clock: d.Clock} }

// Scheduler assembles the in-call use cases.
func (d *Deps) Scheduler() *incall.Scheduler {
	s := &incall.Scheduler{
		Directory: d.Directory(), Customers: d.Store, Appointments: d.Store, Idempotency: d.Idempotency(),
		Callbacks: d.Store, Calendar: d.Calendar, Queue: d.Enqueuer(), Clock: d.Clock, Logger: d.Logger,
		Metrics: d.Metrics, Alternatives: d.Flags.Alternatives, CompositeServices: d.Flags.CompositeServices,
	}
	if d.Redis != nil {
		s.Cache = d.SlotCache()
		s.Locker = &redis.SlotLocker{Client: d.Redis, Keys: d.Keys}
	}
	return s
}

// UseCalcom points the deps at Cal.com at baseURL, resolving each tenant's
// API key with keyFor. Clients are reused per key, so their circuit
// breakers and connection pools persist.
func (d *Deps) UseCalcom(baseURL string, keyFor func(ctx context.Context, t booking.Tenant) (string, error), httpClient *http.Client, observe func(calcom.Observation)) {
	var mu sync.Mutex
	clients := map[string]*calcom.Client{}
	clock := d.Clock
	d.CalcomClient = func(ctx context.Context, t booking.Tenant) (*calcom.Client, error) {
		key, err := keyFor(ctx, t)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[key]; ok {
			return c, nil
		}
		c, err := calcom.New(calcom.Config{BaseURL: baseURL, APIKey: key, HTTPClient: httpClient, Clock: clock, Observe: observe})
		if err != nil {
			return nil, err
		}
		clients[key] = c
		return c, nil
	}
	d.Calendar = calcom.Calendar{ClientFor: d.CalcomClient}
}

// CalcomObserver turns client observations into metrics.
func CalcomObserver(m platform.Metrics) func(calcom.Observation) {
	return func(o calcom.Observation) {
		m.Duration(platform.MetricCalcomLatency, o.Duration)
		if o.Kind != "" {
			m.Count(platform.MetricCalcomErrors, 1, platform.DimKind, string(o.Kind))
		}
	}
}

// withTimeout is a small helper for dependency checks.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
