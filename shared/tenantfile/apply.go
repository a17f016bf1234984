package tenantfile

import (
	"context"
	"sort"

	"github.com/telefonagent/gateway/shared/booking"
)

// Store is what Apply needs from the database (shared/mysql implements it).
type Store interface {
	// LoadTenantConfig returns the stored config; an error of kind NotFound
	// when the tenant does not exist yet.
	LoadTenantConfig(ctx context.Context, tenantID string) (*booking.TenantConfig, error)
	// ApplyTenantConfig makes the stored config equal to cfg, in one
	// transaction.
	ApplyTenantConfig(ctx context.Context, cfg booking.TenantConfig) error
}

// InvalidateFunc drops cached routing of phone numbers (the Redis tenant
// cache) so callers see the new config before the cache TTL runs out.
type InvalidateFunc func(ctx context.Context, numbers ...string) error

// ApplyResult says what Apply did.
type ApplyResult struct {
	Changes     []string // Diff of stored → file; empty when nothing changed
	Created     bool     // the tenant did not exist before
	Applied     bool     // the store was written
	Invalidated []string // numbers whose cache entries were dropped (old and new)
	// CacheErr is set when invalidation failed: the config is applied, but
	// cached routing may be stale until the cache TTL expires.
	CacheErr error
}

// Apply writes cfg (already parsed and validated) to the store unless it
// equals what is stored or dryRun is set, then invalidates the cache for
// every number the tenant had or has now (a removed number must stop
// routing too). invalidate may be nil.
func Apply(ctx context.Context, store Store, cfg *booking.TenantConfig, invalidate InvalidateFunc, dryRun bool) (ApplyResult, error) {
	const op = "tenantfile.Apply"
	var res ApplyResult
	if cfg == nil {
		return res, booking.Errorf(booking.KindInvalid, op, "no config")
	}
	prev, err := store.LoadTenantConfig(ctx, cfg.Tenant.ID)
	switch {
	case booking.KindOf(err) == booking.KindNotFound:
		prev, res.Created = nil, true
	case err != nil:
		return res, booking.Wrap(booking.KindOf(err), op, err, "loading the stored config")
	}
	res.Changes = Diff(prev, cfg)
	if len(res.Changes) == 0 || dryRun {
		return res, nil
	}
	if err := store.ApplyTenantConfig(ctx, *cfg); err != nil {
		return res, booking.Wrap(booking.KindOf(err), op, err, "writing the config")
	}
	res.Applied = true
	res.Invalidated = numbersOf(prev, cfg)
	if invalidate != nil && len(res.Invalidated) > 0 {
		res.CacheErr = invalidate(ctx, res.Invalidated...)
	}
	return res, nil
}

func numbersOf(cfgs ...*booking.TenantConfig) []string {
	set := map[string]bool{}
	for _, c := range cfgs {
		if c == nil {
			continue
		}
		for _, n := range c.PhoneNumbers {
			set[n.E164] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
