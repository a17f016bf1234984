package redis

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
)

// DefaultTenantTTL bounds how long a number keeps routing by an old config
// when `scripts/tenant apply` could not invalidate the cache.
const DefaultTenantTTL = 5 * time.Minute

// TenantEntry is what a dialled number resolves to: everything an in-call
// function needs before it touches the database.
type TenantEntry struct {
	Number booking.PhoneNumber `json:"number"`
	Tenant booking.Tenant      `json:"tenant"`
	Branch booking.Branch      `json:"branch"`
}

// TenantCache caches number → (tenant, branch) as JSON.
type TenantCache struct {
	Client *goredis.Client
	Keys   Keys
	TTL    time.Duration // 0 = DefaultTenantTTL
}

// Get returns the cached entry of a number; ok is false on a miss. An entry
// that no longer decodes (an older format) counts as a miss.
func (c *TenantCache) Get(ctx context.Context, e164 string) (TenantEntry, bool, error) {
	raw, err := c.Client.Get(ctx, c.Keys.TenantByNumber(e164)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return TenantEntry{}, false, nil
	}
	if err != nil {
		return TenantEntry{}, false, mapErr("redis.TenantCache.Get", err)
	}
	var e TenantEntry
	if json.Unmarshal(raw, &e) != nil || e.Number.E164 != e164 {
		return TenantEntry{}, false, nil
	}
	return e, true, nil
}

// Put caches the entry under its number.
func (c *TenantCache) Put(ctx context.Context, e TenantEntry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return booking.Wrap(booking.KindInternal, "redis.TenantCache.Put", err, "encoding entry")
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTenantTTL
	}
	return mapErr("redis.TenantCache.Put", c.Client.Set(ctx, c.Keys.TenantByNumber(e.Number.E164), raw, ttl).Err())
}

// Invalidate drops the entries of the given numbers (after a tenant file
// was applied: old and new numbers).
func (c *TenantCache) Invalidate(ctx context.Context, numbers ...string) error {
	if len(numbers) == 0 {
		return nil
	}
	keys := make([]string, len(numbers))
	for i, n := range numbers {
		keys[i] = c.Keys.TenantByNumber(n)
	}
	return mapErr("redis.TenantCache.Invalidate", c.Client.Del(ctx, keys...).Err())
}
