package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
)

// DefaultAvailabilityTTL bounds how stale a cached day of slots can be when
// an invalidation is missed (issue 4: 60 s).
const DefaultAvailabilityTTL = 60 * time.Second

// AvailabilityCache caches Cal.com's free slot starts per (tenant, event
// type, local day). It implements booking.SlotCache.
type AvailabilityCache struct {
	Client *goredis.Client
	Keys   Keys
	TTL    time.Duration // 0 = DefaultAvailabilityTTL
}

var _ booking.SlotCache = (*AvailabilityCache)(nil)

// Slots are stored as a version byte and 8-byte big-endian Unix seconds:
// about 8 bytes a slot, no parsing beyond a loop, and an empty day (fully
// booked) is a real cached answer, distinct from a miss.
const slotsFormatV1 = 1

func encodeSlots(slots []time.Time) []byte {
	b := make([]byte, 1+8*len(slots))
	b[0] = slotsFormatV1
	for i, s := range slots {
		binary.BigEndian.PutUint64(b[1+8*i:], uint64(s.Unix()))
	}
	return b
}

func decodeSlots(b []byte) ([]time.Time, bool) {
	if len(b) == 0 || b[0] != slotsFormatV1 || (len(b)-1)%8 != 0 {
		return nil, false
	}
	out := make([]time.Time, (len(b)-1)/8)
	for i := range out {
		out[i] = time.Unix(int64(binary.BigEndian.Uint64(b[1+8*i:])), 0).UTC()
	}
	return out, true
}

func (c *AvailabilityCache) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultAvailabilityTTL
}

// Get returns the cached slots of a day (UTC instants, ascending as put);
// ok is false on a miss. An entry in an unknown format counts as a miss.
func (c *AvailabilityCache) Get(ctx context.Context, tenant string, eventTypeID int64, day string) ([]time.Time, bool, error) {
	raw, err := c.Client.Get(ctx, c.Keys.Availability(tenant, eventTypeID, day)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapErr("redis.AvailabilityCache.Get", err)
	}
	slots, ok := decodeSlots(raw)
	return slots, ok, nil
}

// Put caches the slots of a day for TTL and records the day in the event
// type's index (for InvalidateAll), in one round trip.
func (c *AvailabilityCache) Put(ctx context.Context, tenant string, eventTypeID int64, day string, slots []time.Time) error {
	ttl := c.ttl()
	idx := c.Keys.availabilityDays(tenant, eventTypeID)
	_, err := c.Client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Set(ctx, c.Keys.Availability(tenant, eventTypeID, day), encodeSlots(slots), ttl)
		p.SAdd(ctx, idx, day)
		// The index outlives each entry a little; a stale member only costs a
		// DEL of a key that is already gone.
		p.Expire(ctx, idx, 2*ttl)
		return nil
	})
	return mapErr("redis.AvailabilityCache.Put", err)
}

// Invalidate drops the given days of an event type (after a booking change
// we made or heard about).
func (c *AvailabilityCache) Invalidate(ctx context.Context, tenant string, eventTypeID int64, days ...string) error {
	if len(days) == 0 {
		return nil
	}
	keys := make([]string, len(days))
	for i, d := range days {
		keys[i] = c.Keys.Availability(tenant, eventTypeID, d)
	}
	return mapErr("redis.AvailabilityCache.Invalidate", c.Client.Del(ctx, keys...).Err())
}

// invalidateAll deletes every indexed day and the index atomically. ARGV[1]
// is the key prefix of the days; days are escaped the same way Keys does.
var invalidateAll = goredis.NewScript(`
local days = redis.call('SMEMBERS', KEYS[1])
for _, d in ipairs(days) do
  local e = string.gsub(string.gsub(d, '%%', '%%25'), ':', '%%3A')
  redis.call('DEL', ARGV[1] .. e)
end
redis.call('DEL', KEYS[1])
return #days
`)

// InvalidateAll drops every cached day of an event type (e.g. when its
// schedule changed in Cal.com).
func (c *AvailabilityCache) InvalidateAll(ctx context.Context, tenant string, eventTypeID int64) error {
	prefix := c.Keys.Availability(tenant, eventTypeID, "")
	err := invalidateAll.Run(ctx, c.Client, []string{c.Keys.availabilityDays(tenant, eventTypeID)}, prefix).Err()
	return mapErr("redis.AvailabilityCache.InvalidateAll", err)
}
