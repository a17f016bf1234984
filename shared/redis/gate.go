package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Gate lets something happen at most once per period per key, e.g. at most
// one availability prefetch per branch per minute
// (Keys.PrefetchGate(tenant, branch)).
type Gate struct {
	Client *goredis.Client
}

// Allow reports whether the caller may go ahead: true for the first call
// per key within per. It fails closed: when Redis does not answer the
// answer is false, because everything gated is optional work (design §8:
// Redis down → no prefetch).
func (g *Gate) Allow(ctx context.Context, key string, per time.Duration) bool {
	ok, err := g.Client.SetNX(ctx, key, "1", per).Result()
	return err == nil && ok
}
