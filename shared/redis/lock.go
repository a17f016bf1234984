package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
)

// SlotLocker takes short exclusive locks on one start of one event type
// while it is being booked. It implements booking.Locker. The lock only
// avoids sending Cal.com two creates for the same slot at once; Cal.com's
// answer stays final, so a lock lost to expiry costs a rejected create,
// never a double booking.
type SlotLocker struct {
	Client *goredis.Client
	Keys   Keys
	// ReleaseTimeout bounds the release round trip, which runs even when
	// the caller's context is already cancelled. Default 200 ms.
	ReleaseTimeout time.Duration
}

var _ booking.Locker = (*SlotLocker)(nil)

// compareAndDelete releases a lock only if it still holds our token: a
// lock that expired and was taken by someone else stays theirs.
var compareAndDelete = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func noop() {}

// Lock tries once (it never waits: a caller who loses the race tells the
// phone caller the slot is being booked and offers alternatives). ok is
// false when anyone holds the lock, the same owner included: two requests
// of one call racing for one slot are a retry, which idempotency answers.
// release is never nil; calling it more than once is harmless.
func (l *SlotLocker) Lock(ctx context.Context, tenant string, eventTypeID int64, start time.Time, owner string, ttl time.Duration) (func(), bool, error) {
	const op = "redis.SlotLocker.Lock"
	key := l.Keys.SlotLock(tenant, eventTypeID, start.Unix())
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return noop, false, booking.Wrap(booking.KindInternal, op, err, "random token")
	}
	token := owner + "/" + hex.EncodeToString(nonce[:])
	ok, err := l.Client.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return noop, false, mapErr(op, err)
	}
	if !ok {
		return noop, false, nil
	}
	timeout := l.ReleaseTimeout
	if timeout <= 0 {
		timeout = 200 * time.Millisecond
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		// A failed release is harmless: the TTL frees the slot.
		_ = compareAndDelete.Run(rctx, l.Client, []string{key}, token).Err()
	}
	return release, true, nil
}

// Holder returns the owner holding a slot lock, "" when free (for
// diagnostics and tests).
func (l *SlotLocker) Holder(ctx context.Context, tenant string, eventTypeID int64, start time.Time) (string, error) {
	v, err := l.Client.Get(ctx, l.Keys.SlotLock(tenant, eventTypeID, start.Unix())).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", mapErr("redis.SlotLocker.Holder", err)
	}
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == '/' {
			return v[:i], nil
		}
	}
	return v, nil
}
