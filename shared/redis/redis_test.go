package redis

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

// setup returns a client and key builder under this test's namespace.
func setup(t testing.TB) (*goredis.Client, Keys) {
	c, ns := testenv.Redis(t)
	return c, Keys{Prefix: ns}
}

var (
	day   = "2025-03-14"
	slots = []time.Time{
		time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 14, 8, 30, 0, 0, time.UTC),
		time.Date(2025, 3, 14, 13, 15, 0, 0, time.UTC),
	}
)

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestAvailabilityHitMissInvalidate(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	cache := &AvailabilityCache{Client: c, Keys: k}

	if _, ok, err := cache.Get(ctx, "t1", 1001, day); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	if err := cache.Put(ctx, "t1", 1001, day, slots); err != nil {
		t.Fatal(err)
	}
	got, ok, err := cache.Get(ctx, "t1", 1001, day)
	if err != nil || !ok || !equalTimes(got, slots) {
		t.Fatalf("hit: %v %v %v", got, ok, err)
	}
	if got[0].Location() != time.UTC {
		t.Errorf("slots come back in %v, want UTC", got[0].Location())
	}
	// A fully booked day is a cached answer, not a miss.
	if err := cache.Put(ctx, "t1", 1001, "2025-03-15", nil); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := cache.Get(ctx, "t1", 1001, "2025-03-15"); !ok || len(got) != 0 {
		t.Errorf("empty day: ok=%v slots=%v", ok, got)
	}
	// The TTL is set on every entry.
	if ttl := c.PTTL(ctx, k.Availability("t1", 1001, day)).Val(); ttl <= 55*time.Second || ttl > DefaultAvailabilityTTL {
		t.Errorf("ttl = %v, want about %v", ttl, DefaultAvailabilityTTL)
	}
	if err := cache.Invalidate(ctx, "t1", 1001, day); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := cache.Get(ctx, "t1", 1001, day); ok {
		t.Error("hit after Invalidate")
	}
	if _, ok, _ := cache.Get(ctx, "t1", 1001, "2025-03-15"); !ok {
		t.Error("Invalidate of one day dropped another")
	}
	if err := cache.Invalidate(ctx, "t1", 1001); err != nil {
		t.Errorf("Invalidate without days: %v", err)
	}
}

func TestAvailabilityInvalidateAll(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	cache := &AvailabilityCache{Client: c, Keys: k}
	days := []string{"2025-03-14", "2025-03-15", "2025-03-16"}
	for _, d := range days {
		if err := cache.Put(ctx, "t1", 1001, d, slots); err != nil {
			t.Fatal(err)
		}
	}
	_ = cache.Put(ctx, "t1", 1002, day, slots)       // other event type
	_ = cache.Put(ctx, "t:1", 1001, day, slots)      // tenant id needing escaping
	_ = cache.Put(ctx, "t1", 1001, "odd:day", slots) // day needing escaping
	if err := cache.InvalidateAll(ctx, "t1", 1001); err != nil {
		t.Fatal(err)
	}
	for _, d := range append(days, "odd:day") {
		if _, ok, _ := cache.Get(ctx, "t1", 1001, d); ok {
			t.Errorf("%s still cached after InvalidateAll", d)
		}
	}
	if _, ok, _ := cache.Get(ctx, "t1", 1002, day); !ok {
		t.Error("InvalidateAll dropped another event type")
	}
	if _, ok, _ := cache.Get(ctx, "t:1", 1001, day); !ok {
		t.Error("InvalidateAll dropped another tenant")
	}
	if n := c.Exists(ctx, k.availabilityDays("t1", 1001)).Val(); n != 0 {
		t.Error("index left behind")
	}
	if err := cache.InvalidateAll(ctx, "t1", 1001); err != nil {
		t.Errorf("InvalidateAll of nothing: %v", err)
	}
}

func TestAvailabilityExpires(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	cache := &AvailabilityCache{Client: c, Keys: k, TTL: 50 * time.Millisecond}
	if err := cache.Put(ctx, "t1", 1001, day, slots); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, ok, err := cache.Get(ctx, "t1", 1001, day)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("entry did not expire")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAvailabilityUnknownFormatIsAMiss(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	cache := &AvailabilityCache{Client: c, Keys: k}
	c.Set(ctx, k.Availability("t1", 1001, day), "garbage", time.Minute)
	if _, ok, err := cache.Get(ctx, "t1", 1001, day); ok || err != nil {
		t.Errorf("ok=%v err=%v", ok, err)
	}
}

func TestTenantIsolationOfKeys(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	cache := &AvailabilityCache{Client: c, Keys: k}
	idem := &IdempotencyCache{Client: c, Keys: k}
	_ = cache.Put(ctx, "tenant-a", 1001, day, slots)
	if _, ok, _ := cache.Get(ctx, "tenant-b", 1001, day); ok {
		t.Error("tenant-b reads tenant-a's slots")
	}
	_ = cache.Invalidate(ctx, "tenant-b", 1001, day)
	if _, ok, _ := cache.Get(ctx, "tenant-a", 1001, day); !ok {
		t.Error("tenant-b's invalidation dropped tenant-a's slots")
	}
	// Escaping: tenant "a" with key "b:c" and tenant "a:b" with key "c" differ.
	if _, _, err := idem.Begin(ctx, "a", "b:c", time.Minute); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := idem.Begin(ctx, "a:b", "c", time.Minute); st != booking.IdemNew {
		t.Errorf("forged key collided: state %s", st)
	}
	keys := map[string]string{
		"availability": k.Availability("a", 1, "d"), "idempotency": k.Idempotency("a", "k"),
		"lock": k.SlotLock("a", 1, 2), "gate": k.PrefetchGate("a", "b"), "number": k.TenantByNumber("+49"),
	}
	seen := map[string]string{}
	for name, key := range keys {
		if key[:len(k.Prefix)] != k.Prefix {
			t.Errorf("%s key %q lacks the prefix", name, key)
		}
		if other, dup := seen[key]; dup {
			t.Errorf("%s and %s share key %q", name, other, key)
		}
		seen[key] = name
	}
	if k.Availability("a:b", 1, "d") == k.Availability("a", 1, "b:d") {
		t.Error("escaping does not separate tenants")
	}
}

func TestTenantCache(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	tc := &TenantCache{Client: c, Keys: k}
	e := TenantEntry{
		Number: booking.PhoneNumber{E164: "+4930123456", TenantID: "t1", BranchID: "b1", AgentID: "agent_demo"},
		Tenant: booking.Tenant{ID: "t1", Name: "Salon", Locale: "de", Policy: booking.Policy{CancelNoticeHours: booking.IntPtr(24)}},
		Branch: booking.Branch{TenantID: "t1", ID: "b1", TimeZone: "Europe/Berlin",
			OpeningHours: booking.OpeningHours{time.Monday: {{Start: 540, End: 1080}}}},
	}
	if _, ok, err := tc.Get(ctx, "+4930123456"); ok || err != nil {
		t.Fatalf("miss: ok=%v err=%v", ok, err)
	}
	if err := tc.Put(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, ok, err := tc.Get(ctx, "+4930123456")
	if err != nil || !ok || got.Tenant.Name != "Salon" || *got.Tenant.Policy.CancelNoticeHours != 24 ||
		!got.Branch.OpeningHours.Contains(time.Monday, 600, 30) || got.Number.AgentID != "agent_demo" {
		t.Fatalf("hit: %+v ok=%v err=%v", got, ok, err)
	}
	if ttl := c.PTTL(ctx, k.TenantByNumber("+4930123456")).Val(); ttl <= 0 || ttl > DefaultTenantTTL {
		t.Errorf("ttl = %v", ttl)
	}
	if err := tc.Invalidate(ctx, "+4930123456", "+4930999999"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := tc.Get(ctx, "+4930123456"); ok {
		t.Error("hit after Invalidate")
	}
}

func TestIdempotencyLifecycle(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	ic := &IdempotencyCache{Client: c, Keys: k}
	if st, _, err := ic.Get(ctx, "t1", "k1"); st != booking.IdemNew || err != nil {
		t.Fatalf("Get of nothing: %s %v", st, err)
	}
	if st, _, err := ic.Begin(ctx, "t1", "k1", time.Minute); st != booking.IdemNew || err != nil {
		t.Fatalf("first Begin: %s %v", st, err)
	}
	if st, _, _ := ic.Begin(ctx, "t1", "k1", time.Minute); st != booking.IdemInProgress {
		t.Fatalf("second Begin: %s", st)
	}
	if err := ic.Complete(ctx, "t1", "k1", []byte(`{"ok":true}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	st, resp, err := ic.Begin(ctx, "t1", "k1", time.Minute)
	if st != booking.IdemComplete || string(resp) != `{"ok":true}` || err != nil {
		t.Fatalf("Begin after Complete: %s %q %v", st, resp, err)
	}
	if err := ic.Release(ctx, "t1", "k1"); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := ic.Get(ctx, "t1", "k1"); st != booking.IdemComplete {
		t.Errorf("Release dropped a completed record: %s", st)
	}
	// A released claim can be taken again.
	_, _, _ = ic.Begin(ctx, "t1", "k2", time.Minute)
	if err := ic.Release(ctx, "t1", "k2"); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := ic.Begin(ctx, "t1", "k2", time.Minute); st != booking.IdemNew {
		t.Errorf("Begin after Release: %s", st)
	}
	// An empty response is still "complete".
	_ = ic.Complete(ctx, "t1", "k3", nil, time.Hour)
	if st, resp, _ := ic.Get(ctx, "t1", "k3"); st != booking.IdemComplete || len(resp) != 0 {
		t.Errorf("empty response: %s %q", st, resp)
	}
}

func TestIdempotencyConcurrentBeginHasOneOwner(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	ic := &IdempotencyCache{Client: c, Keys: k}
	var owners atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, err := ic.Begin(ctx, "t1", "same", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if st == booking.IdemNew {
				owners.Add(1)
			}
		}()
	}
	wg.Wait()
	if owners.Load() != 1 {
		t.Errorf("%d owners, want 1", owners.Load())
	}
}

func TestLockContentionOneWinner(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	l := &SlotLocker{Client: c, Keys: k}
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	var winners atomic.Int32
	var releases sync.Map
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-ready
			release, ok, err := l.Lock(ctx, "t1", 1001, start, "call_"+strconv.Itoa(i), 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			if release == nil {
				t.Error("nil release")
				return
			}
			if ok {
				winners.Add(1)
				releases.Store(i, release)
			}
		}(i)
	}
	close(ready)
	wg.Wait()
	if winners.Load() != 1 {
		t.Fatalf("%d winners, want exactly 1", winners.Load())
	}
	var release func()
	releases.Range(func(_, v any) bool { release = v.(func()); return false })
	if h, _ := l.Holder(ctx, "t1", 1001, start); h == "" {
		t.Error("no holder while locked")
	}
	release()
	release() // twice is harmless
	if h, _ := l.Holder(ctx, "t1", 1001, start); h != "" {
		t.Errorf("still held by %q after release", h)
	}
	if _, ok, _ := l.Lock(ctx, "t1", 1001, start, "next", time.Second); !ok {
		t.Error("cannot lock after release")
	}
}

func TestLockReleaseOnlyByOwner(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	l := &SlotLocker{Client: c, Keys: k}
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	releaseA, ok, err := l.Lock(ctx, "t1", 1001, start, "call_a", 50*time.Millisecond)
	if !ok || err != nil {
		t.Fatalf("A: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := l.Lock(ctx, "t1", 1001, start, "call_a", time.Second); ok {
		t.Error("the same owner locked twice")
	}
	// A's lock expires; B takes the slot.
	var releaseB func()
	deadline := time.Now().Add(3 * time.Second)
	for {
		releaseB, ok, err = l.Lock(ctx, "t1", 1001, start, "call_b", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A's lock never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	releaseA() // late release of an expired lock must not free B's
	if h, _ := l.Holder(ctx, "t1", 1001, start); h != "call_b" {
		t.Fatalf("holder after A's late release = %q, want call_b", h)
	}
	// Another tenant, another event type or another start is another lock.
	for _, other := range []struct {
		tenant string
		et     int64
		start  time.Time
	}{{"t2", 1001, start}, {"t1", 1002, start}, {"t1", 1001, start.Add(15 * time.Minute)}} {
		if _, ok, _ := l.Lock(ctx, other.tenant, other.et, other.start, "call_c", time.Second); !ok {
			t.Errorf("lock %v blocked by an unrelated one", other)
		}
	}
	releaseB()
	if h, _ := l.Holder(ctx, "t1", 1001, start); h != "" {
		t.Errorf("B's release failed, holder %q", h)
	}
}

func TestLockReleaseWorksAfterCallerContextEnds(t *testing.T) {
	c, k := setup(t)
	l := &SlotLocker{Client: c, Keys: k}
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Unix(1_741_939_200, 0)
	release, ok, err := l.Lock(ctx, "t1", 1, start, "o", time.Minute)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	cancel() // the request is over (e.g. its deadline passed) before cleanup
	release()
	if h, _ := l.Holder(context.Background(), "t1", 1, start); h != "" {
		t.Errorf("lock still held by %q", h)
	}
}

func TestGate(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	g := &Gate{Client: c}
	key := k.PrefetchGate("t1", "b1")
	if !g.Allow(ctx, key, 100*time.Millisecond) {
		t.Fatal("first call denied")
	}
	if g.Allow(ctx, key, 100*time.Millisecond) {
		t.Fatal("second call within the period allowed")
	}
	if !g.Allow(ctx, k.PrefetchGate("t1", "b2"), time.Minute) || !g.Allow(ctx, k.PrefetchGate("t2", "b1"), time.Minute) {
		t.Fatal("another branch or tenant is gated by this one")
	}
	deadline := time.Now().Add(3 * time.Second)
	for !g.Allow(ctx, key, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("gate never reopened")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisDown points every primitive at a port nobody listens on: each
// must fail with KindTransient (or degrade), quickly. The bound is generous
// on purpose — this checks "no multi-second retry loop", not speed.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	c := NewClient(Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	k := Keys{Prefix: "down:"}
	avail := &AvailabilityCache{Client: c, Keys: k}
	tc := &TenantCache{Client: c, Keys: k}
	ic := &IdempotencyCache{Client: c, Keys: k}
	l := &SlotLocker{Client: c, Keys: k}
	checks := map[string]func() error{
		"avail.Get":           func() error { _, _, err := avail.Get(ctx, "t", 1, day); return err },
		"avail.Put":           func() error { return avail.Put(ctx, "t", 1, day, slots) },
		"avail.Invalidate":    func() error { return avail.Invalidate(ctx, "t", 1, day) },
		"avail.InvalidateAll": func() error { return avail.InvalidateAll(ctx, "t", 1) },
		"tenant.Get":          func() error { _, _, err := tc.Get(ctx, "+4930123456"); return err },
		"tenant.Put":          func() error { return tc.Put(ctx, TenantEntry{}) },
		"tenant.Invalidate":   func() error { return tc.Invalidate(ctx, "+4930123456") },
		"idem.Begin":          func() error { _, _, err := ic.Begin(ctx, "t", "k", time.Minute); return err },
		"idem.Complete":       func() error { return ic.Complete(ctx, "t", "k", nil, time.Minute) },
		"idem.Get":            func() error { _, _, err := ic.Get(ctx, "t", "k"); return err },
		"idem.Release":        func() error { return ic.Release(ctx, "t", "k") },
		"lock.Lock": func() error {
			release, ok, err := l.Lock(ctx, "t", 1, time.Now(), "o", time.Second)
			if ok || release == nil {
				t.Error("lock.Lock: ok or nil release while Redis is down")
			}
			return err
		},
	}
	for name, check := range checks {
		began := time.Now()
		err := check()
		took := time.Since(began)
		if booking.KindOf(err) != booking.KindTransient {
			t.Errorf("%s: kind %q (%v), want transient", name, booking.KindOf(err), err)
		}
		if took > time.Second {
			t.Errorf("%s took %v with Redis down", name, took)
		}
	}
	if (&Gate{Client: c}).Allow(ctx, "g", time.Minute) {
		t.Error("gate allows while Redis is down (must fail closed)")
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	c, k := setup(t)
	cache := &AvailabilityCache{Client: c, Keys: k}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, _, err := cache.Get(ctx, "t1", 1, day)
	if booking.KindOf(err) != booking.KindTransient {
		t.Errorf("kind %q (%v), want transient", booking.KindOf(err), err)
	}
}

func TestServerErrorIsInternal(t *testing.T) {
	ctx := context.Background()
	c, k := setup(t)
	// A key of the wrong type is a bug, not an outage.
	c.HSet(ctx, k.Idempotency("t1", "k"), "f", "v")
	if _, _, err := (&IdempotencyCache{Client: c, Keys: k}).Get(ctx, "t1", "k"); booking.KindOf(err) != booking.KindInternal {
		t.Errorf("kind %q (%v), want internal", booking.KindOf(err), err)
	}
}

func TestNewClientTalksToRedis(t *testing.T) {
	c := NewClient(Options{Addr: testenv.RedisAddr()})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if o := c.Options(); o.PoolSize != DefaultPoolSize || o.DialTimeout != DefaultDialTimeout || o.MaxRetries != 0 || !o.ContextTimeoutEnabled {
		t.Errorf("options: pool %d dial %v retries %d ctx %v", o.PoolSize, o.DialTimeout, o.MaxRetries, o.ContextTimeoutEnabled)
	}
	if tlsC := NewClient(Options{Addr: "x:6379", TLS: true}); tlsC.Options().TLSConfig == nil {
		t.Error("TLS option ignored")
	}
}
