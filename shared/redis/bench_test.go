package redis

import (
	"context"
	"testing"
	"time"
)

// Benchmarks run against the real test Redis on loopback: they measure a
// round trip plus our encoding, which is what an in-call function pays.

func BenchmarkAvailabilityGet(b *testing.B) {
	c, k := setup(b)
	cache := &AvailabilityCache{Client: c, Keys: k}
	ctx := context.Background()
	day := make([]time.Time, 36) // a day of 15-minute slots, 09:00–18:00
	for i := range day {
		day[i] = time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 15 * time.Minute)
	}
	if err := cache.Put(ctx, "t1", 1001, "2025-03-14", day); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, ok, err := cache.Get(ctx, "t1", 1001, "2025-03-14"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkAvailabilityPut(b *testing.B) {
	c, k := setup(b)
	cache := &AvailabilityCache{Client: c, Keys: k}
	ctx := context.Background()
	day := make([]time.Time, 36)
	for i := range day {
		day[i] = time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 15 * time.Minute)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := cache.Put(ctx, "t1", 1001, "2025-03-14", day); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTenantCacheGet(b *testing.B) {
	c, k := setup(b)
	tc := &TenantCache{Client: c, Keys: k}
	ctx := context.Background()
	e := TenantEntry{}
	e.Number.E164, e.Tenant.ID, e.Branch.ID, e.Branch.TimeZone = "+4930123456", "t1", "b1", "Europe/Berlin"
	if err := tc.Put(ctx, e); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := tc.Get(ctx, "+4930123456"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkLockRelease(b *testing.B) {
	c, k := setup(b)
	l := &SlotLocker{Client: c, Keys: k}
	ctx := context.Background()
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		release, ok, err := l.Lock(ctx, "t1", 1001, start, "call_bench", 10*time.Second)
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
		release()
	}
}

func BenchmarkIdempotencyBeginComplete(b *testing.B) {
	c, k := setup(b)
	ic := &IdempotencyCache{Client: c, Keys: k}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ic.Begin(ctx, "t1", "k", time.Minute); err != nil {
			b.Fatal(err)
		}
		if err := ic.Complete(ctx, "t1", "k", []byte(`{"ok":true}`), time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
