package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
)

// IdempotencyCache is the fast path of idempotency records: a repeat of a
// finished operation is answered from Redis without a database round trip.
// It is not the source of truth (a unique MySQL row is; see the
// booking.Idempotency implementation that combines both): losing Redis
// must never allow a second booking.
//
// A record is one value: "p" while in progress, "c" + the stored response
// once complete.
type IdempotencyCache struct {
	Client *goredis.Client
	Keys   Keys
}

const (
	markInProgress = 'p'
	markComplete   = 'c'
)

// begin claims the key unless it exists and returns the existing value, in
// one atomic round trip (SET NX + GET without a window between them in
// which the record could expire).
var begin = goredis.NewScript(`
if redis.call('SET', KEYS[1], 'p', 'NX', 'PX', ARGV[1]) then return false end
return redis.call('GET', KEYS[1])
`)

// Begin claims key for the caller: IdemNew when nobody had it (the caller
// now owns it for ttl), IdemInProgress when someone else is working on it,
// IdemComplete with the stored response when it is done.
func (c *IdempotencyCache) Begin(ctx context.Context, tenant, key string, ttl time.Duration) (booking.IdempotencyState, []byte, error) {
	const op = "redis.IdempotencyCache.Begin"
	v, err := begin.Run(ctx, c.Client, []string{c.Keys.Idempotency(tenant, key)}, ttl.Milliseconds()).Text()
	if errors.Is(err, goredis.Nil) {
		return booking.IdemNew, nil, nil
	}
	if err != nil {
		return "", nil, mapErr(op, err)
	}
	return decodeRecord(op, v)
}

func decodeRecord(op, v string) (booking.IdempotencyState, []byte, error) {
	switch {
	case len(v) == 1 && v[0] == markInProgress:
		return booking.IdemInProgress, nil, nil
	case len(v) >= 1 && v[0] == markComplete:
		return booking.IdemComplete, []byte(v[1:]), nil
	}
	return "", nil, booking.Errorf(booking.KindInternal, op, "unknown idempotency record format")
}

// Complete stores the final response for ttl. It overwrites whatever is
// there: a finished answer is always right to keep, even if the claim
// expired meanwhile.
func (c *IdempotencyCache) Complete(ctx context.Context, tenant, key string, response []byte, ttl time.Duration) error {
	v := make([]byte, 1+len(response))
	v[0] = markComplete
	copy(v[1:], response)
	return mapErr("redis.IdempotencyCache.Complete", c.Client.Set(ctx, c.Keys.Idempotency(tenant, key), v, ttl).Err())
}

// Get reads a record without claiming it: IdemNew when there is none.
func (c *IdempotencyCache) Get(ctx context.Context, tenant, key string) (booking.IdempotencyState, []byte, error) {
	const op = "redis.IdempotencyCache.Get"
	v, err := c.Client.Get(ctx, c.Keys.Idempotency(tenant, key)).Result()
	if errors.Is(err, goredis.Nil) {
		return booking.IdemNew, nil, nil
	}
	if err != nil {
		return "", nil, mapErr(op, err)
	}
	return decodeRecord(op, v)
}

var releaseInProgress = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == 'p' then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Release drops an in-progress claim whose operation definitely had no
// effect, so a retry may try again. A completed record is never dropped.
// (Claims carry no owner: the operation's own key is the owner, and a
// second claimant only exists after the first claim expired.)
func (c *IdempotencyCache) Release(ctx context.Context, tenant, key string) error {
	err := releaseInProgress.Run(ctx, c.Client, []string{c.Keys.Idempotency(tenant, key)}).Err()
	if errors.Is(err, goredis.Nil) {
		err = nil
	}
	return mapErr("redis.IdempotencyCache.Release", err)
}
