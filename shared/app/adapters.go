package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/redis"
)

// CachedDirectory resolves dialled numbers through the Redis tenant cache
// and falls back to MySQL when the cache misses or Redis is down: the call
// must be answered either way.
type CachedDirectory struct {
	Store  *mysql.Store
	Cache  *redis.TenantCache // nil: no cache
	Logger *slog.Logger
}

var _ booking.Directory = CachedDirectory{}

func (d CachedDirectory) ResolveNumber(ctx context.Context, e164 string) (booking.PhoneNumber, booking.Tenant, booking.Branch, error) {
	if d.Cache != nil {
		e, ok, err := d.Cache.Get(ctx, e164)
		if err == nil && ok {
			return e.Number, e.Tenant, e.Branch, nil
		}
		if err != nil && d.Logger != nil {
			d.Logger.WarnContext(ctx, "tenant cache unavailable, reading MySQL", "error_kind", string(booking.KindOf(err)))
		}
	}
	n, t, b, err := d.Store.ResolveNumber(ctx, e164)
	if err != nil {
		return n, t, b, err
	}
	if d.Cache != nil {
		_ = d.Cache.Put(ctx, redis.TenantEntry{Number: n, Tenant: t, Branch: b}) // best effort
	}
	return n, t, b, nil
}

func (d CachedDirectory) Services(ctx context.Context, tenantID, branchID string) ([]booking.Service, error) {
	return d.Store.Services(ctx, tenantID, branchID)
}

// Idempotency keeps the record in MySQL, the source of truth (a unique
// row), and mirrors completed answers in Redis so replays are fast. Losing
// Redis can therefore never double-book: every claim goes through MySQL.
type Idempotency struct {
	DB    booking.Idempotency
	Cache *redis.IdempotencyCache // nil: MySQL only
	TTL   time.Duration
}

var _ booking.Idempotency = Idempotency{}

func (i Idempotency) Begin(ctx context.Context, tenantID, key, op string, ttl time.Duration) (booking.IdempotencyState, []byte, error) {
	if i.Cache != nil {
		if st, resp, err := i.Cache.Get(ctx, tenantID, key); err == nil && st == booking.IdemComplete {
			return st, resp, nil
		}
	}
	return i.DB.Begin(ctx, tenantID, key, op, ttl)
}

func (i Idempotency) Complete(ctx context.Context, tenantID, key string, response []byte) error {
	if err := i.DB.Complete(ctx, tenantID, key, response); err != nil {
		return err
	}
	if i.Cache != nil {
		ttl := i.TTL
		if ttl == 0 {
			ttl = 24 * time.Hour
		}
		_ = i.Cache.Complete(ctx, tenantID, key, response, ttl) // speed only
	}
	return nil
}

func (i Idempotency) Abandon(ctx context.Context, tenantID, key string) error {
	if i.Cache != nil {
		_ = i.Cache.Release(ctx, tenantID, key)
	}
	return i.DB.Abandon(ctx, tenantID, key)
}

// Enqueuer publishes jobs for the retry worker through the one publisher.
type Enqueuer struct {
	Publisher queue.Publisher
	Clock     booking.Clock
}

var _ booking.Enqueuer = Enqueuer{}

func (e Enqueuer) Enqueue(ctx context.Context, jobType, tenantID, key string, payload any) error {
	now := time.Now()
	if e.Clock != nil {
		now = e.Clock.Now()
	}
	j, err := queue.NewJob(jobType, tenantID, key, payload, now)
	if err != nil {
		return err
	}
	return e.Publisher.Publish(ctx, j)
}
