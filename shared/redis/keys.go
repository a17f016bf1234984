package redis

import (
	"strconv"
	"strings"
)

// DefaultPrefix starts every key the gateway writes, so a Redis shared
// with anything else never collides with it. Tests use testenv's namespace.
const DefaultPrefix = "gw:"

// Keys builds every key. Each key names its tenant (except the number
// lookup, which is how the tenant is found), so no operation of one tenant
// can read or delete another's entries. Components that come from outside
// are escaped, so a tenant id or idempotency key containing ':' cannot
// forge another tenant's key.
type Keys struct{ Prefix string }

var escaper = strings.NewReplacer("%", "%25", ":", "%3A")

func esc(s string) string {
	if strings.ContainsAny(s, "%:") {
		return escaper.Replace(s)
	}
	return s
}

func (k Keys) build(parts ...string) string {
	n := len(k.Prefix)
	for _, p := range parts {
		n += len(p) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(k.Prefix)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String()
}

// Availability caches the free slot starts of one event type on one local
// day ("2025-03-14").
func (k Keys) Availability(tenant string, eventTypeID int64, day string) string {
	return k.build("avail", esc(tenant), strconv.FormatInt(eventTypeID, 10), esc(day))
}

// availabilityDays indexes which days of an event type are cached, so
// InvalidateAll needs no SCAN.
func (k Keys) availabilityDays(tenant string, eventTypeID int64) string {
	return k.build("availdays", esc(tenant), strconv.FormatInt(eventTypeID, 10))
}

// Idempotency is the fast-path record of one operation.
func (k Keys) Idempotency(tenant, key string) string {
	return k.build("idem", esc(tenant), esc(key))
}

// SlotLock guards one start of one event type while it is being booked.
func (k Keys) SlotLock(tenant string, eventTypeID int64, startUnix int64) string {
	return k.build("lock", esc(tenant), strconv.FormatInt(eventTypeID, 10), strconv.FormatInt(startUnix, 10))
}

// TenantByNumber caches which tenant and branch a dialled number reaches.
func (k Keys) TenantByNumber(e164 string) string {
	return k.build("num", esc(e164))
}

// PrefetchGate limits availability prefetches per branch.
func (k Keys) PrefetchGate(tenant, branch string) string {
	return k.build("gate", "prefetch", esc(tenant), esc(branch))
}
