package tenantfile

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
)

// fakeStore is a Store made of function fields.
type fakeStore struct {
	load  func(ctx context.Context, tenantID string) (*booking.TenantConfig, error)
	apply func(ctx context.Context, cfg booking.TenantConfig) error
}

func (f fakeStore) LoadTenantConfig(ctx context.Context, id string) (*booking.TenantConfig, error) {
	return f.load(ctx, id)
}
func (f fakeStore) ApplyTenantConfig(ctx context.Context, cfg booking.TenantConfig) error {
	return f.apply(ctx, cfg)
}

// memoryStore keeps configs the way a database would: as a serialised copy
// (so Apply cannot share memory with what is stored) with empty lists read
// back as nil, and it counts writes.
func memoryStore(t *testing.T) (fakeStore, *int) {
	stored := map[string][]byte{}
	writes := 0
	return fakeStore{
		load: func(_ context.Context, id string) (*booking.TenantConfig, error) {
			raw, ok := stored[id]
			if !ok {
				return nil, booking.Errorf(booking.KindNotFound, "fake.Load", "no tenant")
			}
			var cfg booking.TenantConfig
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			return &cfg, nil
		},
		apply: func(_ context.Context, cfg booking.TenantConfig) error {
			raw, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			stored[cfg.Tenant.ID] = raw
			writes++
			return nil
		},
	}, &writes
}

type invalidations struct{ calls [][]string }

func (i *invalidations) fn(_ context.Context, numbers ...string) error {
	i.calls = append(i.calls, numbers)
	return nil
}

func TestApplyTwiceChangesNothingTheSecondTime(t *testing.T) {
	ctx := context.Background()
	store, writes := memoryStore(t)
	inv := &invalidations{}
	cfg := mustParse(t, Demo())

	first, err := Apply(ctx, store, cfg, inv.fn, false)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || !first.Applied || *writes != 1 || len(first.Changes) == 0 {
		t.Fatalf("first apply: %+v, writes %d", first, *writes)
	}
	if first.Changes[0] != `tenant "salon-sonnenschein": added` {
		t.Errorf("first change = %q", first.Changes[0])
	}
	for _, want := range []string{`branch "berlin-mitte": added (`, `phone number "+4930123456": added`, `service "faerben": added (`, `staff "mehmet": added (`} {
		if !containsPrefix(first.Changes, want) {
			t.Errorf("first diff lacks %q:\n%s", want, strings.Join(first.Changes, "\n"))
		}
	}
	if !reflect.DeepEqual(inv.calls, [][]string{{"+4930123456"}}) {
		t.Errorf("invalidations = %v", inv.calls)
	}

	second, err := Apply(ctx, store, mustParse(t, Demo()), inv.fn, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Changes) != 0 || second.Applied || second.Created || *writes != 1 {
		t.Fatalf("second apply changed something: %+v\n%s", second, strings.Join(second.Changes, "\n"))
	}
	if len(inv.calls) != 1 {
		t.Errorf("second apply invalidated the cache again: %v", inv.calls)
	}
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestApplyChangedFileShowsDiffAndInvalidatesOldAndNewNumbers(t *testing.T) {
	ctx := context.Background()
	store, writes := memoryStore(t)
	if _, err := Apply(ctx, store, mustParse(t, Demo()), nil, false); err != nil {
		t.Fatal(err)
	}
	changed := strings.NewReplacer(
		`"+4930123456"`, `"+4930123457"`,
		"sat: 09:00-14:00", "sat: 10:00-14:00",
		"      - name: Waschen und Föhnen\n        duration_minutes: 30", "      - name: Waschen und Föhnen\n        duration_minutes: 45",
		"  - id: mehmet\n    name: Mehmet Yilmaz\n    calcom_user_id: 502\n    services: [herrenhaarschnitt]\n", "",
		"max_reschedules_per_appointment: 2", "max_reschedules_per_appointment: 1",
		"price_eur: 45.50", "price_eur: 48",
	).Replace(string(Demo()))
	inv := &invalidations{}
	dry, err := Apply(ctx, store, mustParse(t, []byte(changed)), inv.fn, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Applied || *writes != 1 || len(inv.calls) != 0 {
		t.Fatalf("dry run wrote or invalidated: %+v writes=%d", dry, *writes)
	}
	res, err := Apply(ctx, store, mustParse(t, []byte(changed)), inv.fn, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`tenant "salon-sonnenschein": policy.max_reschedules_per_appointment: 2 → 1`,
		`branch "berlin-mitte": opening_hours.saturday: 09:00-14:00 → 10:00-14:00`,
		`phone number "+4930123456": removed`,
		`phone number "+4930123457": added`,
		`service "damenhaarschnitt": price: 45.50 € → 48.00 €`,
		`service "faerben": duration_minutes: 120 → 135`,
		`service "faerben": segments[1].duration_minutes: 30 → 45`,
		`staff "mehmet": removed`,
	}
	if !reflect.DeepEqual(res.Changes, want) || !reflect.DeepEqual(dry.Changes, want) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(res.Changes, "\n"), strings.Join(want, "\n"))
	}
	if !reflect.DeepEqual(inv.calls, [][]string{{"+4930123456", "+4930123457"}}) {
		t.Errorf("invalidations = %v, want old and new number", inv.calls)
	}
}

func TestApplyReportsCacheFailureButKeepsTheWrite(t *testing.T) {
	store, writes := memoryStore(t)
	down := booking.Errorf(booking.KindTransient, "redis", "unreachable")
	res, err := Apply(context.Background(), store, mustParse(t, Demo()),
		func(context.Context, ...string) error { return down }, false)
	if err != nil || !res.Applied || *writes != 1 || !errors.Is(res.CacheErr, down) {
		t.Fatalf("res=%+v err=%v", res, err)
	}
}

func TestApplyStoreErrorsKeepTheirKind(t *testing.T) {
	cfg := mustParse(t, Demo())
	loadFails := fakeStore{
		load: func(context.Context, string) (*booking.TenantConfig, error) {
			return nil, booking.Errorf(booking.KindTransient, "db", "down")
		},
		apply: func(context.Context, booking.TenantConfig) error { t.Fatal("must not write"); return nil },
	}
	if _, err := Apply(context.Background(), loadFails, cfg, nil, false); booking.KindOf(err) != booking.KindTransient {
		t.Errorf("load failure: kind %q (%v)", booking.KindOf(err), err)
	}
	applyFails := fakeStore{
		load: func(context.Context, string) (*booking.TenantConfig, error) {
			return nil, booking.Errorf(booking.KindNotFound, "db", "none")
		},
		apply: func(context.Context, booking.TenantConfig) error {
			return booking.Errorf(booking.KindConflict, "db", "number owned by another tenant")
		},
	}
	res, err := Apply(context.Background(), applyFails, cfg, func(context.Context, ...string) error {
		t.Fatal("must not invalidate after a failed write")
		return nil
	}, false)
	if booking.KindOf(err) != booking.KindConflict || res.Applied {
		t.Errorf("apply failure: kind %q applied=%v", booking.KindOf(err), res.Applied)
	}
}

func TestDiffEqualAndNilVersusEmpty(t *testing.T) {
	a := mustParse(t, Demo())
	b := mustParse(t, Demo())
	if d := Diff(a, b); len(d) != 0 {
		t.Fatalf("equal configs differ: %v", d)
	}
	// A store may read empty lists and maps back as empty rather than nil.
	b.Services[0].Segments = []booking.Segment{}
	b.Branches[0].Policy.FeeTiers = []booking.FeeTier{}
	b.Staff = append([]booking.Staff(nil), b.Staff...)
	b.Staff[0], b.Staff[1] = b.Staff[1], b.Staff[0] // order is not a change
	if d := Diff(a, b); len(d) != 0 {
		t.Fatalf("nil/empty or order counted as a change: %v", d)
	}
	b.Tenant.Flags["metrics"] = false
	b.Tenant.Policy.CancelNoticeHours = nil
	b.Services[1].Synonyms = b.Services[1].Synonyms[:1]
	got := Diff(a, b)
	want := []string{
		`tenant "salon-sonnenschein": features.metrics: unset → false`,
		`tenant "salon-sonnenschein": policy.cancel_notice_hours: 24 → unset`,
		`service "damenhaarschnitt": synonyms: ["Haarschnitt Damen", "Frauenhaarschnitt", "Damenschnitt"] → ["Haarschnitt Damen"]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"EventTypeID": "event_type_id", "CalcomAPIKeyRef": "calcom_api_key_ref", "E164": "e164",
		"MinNoticeMinutes": "min_notice_minutes", "ID": "id", "PerMinuteCents": "per_minute_cents",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}
