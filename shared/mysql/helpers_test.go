package mysql

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/testenv"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// newTestStore gives a Store on a fresh, migrated database opened with our
// own Open (so the DSN settings are exercised too).
func newTestStore(t testing.TB, maxConns int) (*Store, *sql.DB, *testClock) {
	t.Helper()
	dsn := testenv.MySQLDSN(t, "mysql_store")
	ctx := context.Background()
	db, err := Open(ctx, dsn, Options{MaxOpenConns: maxConns, MaxIdleConns: maxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: t0}
	return NewStore(db, pii.DevKeyring(), clk), db, clk
}

func ptr[T any](v T) *T { return &v }

// demoConfig is a tenant like the demo salon, parameterised by id and number.
func demoConfig(tid, number string, eventBase int64) booking.TenantConfig {
	hours := booking.OpeningHours{
		time.Monday: {{Start: 540, End: 1080}}, time.Tuesday: {{Start: 540, End: 1080}},
		time.Wednesday: {{Start: 540, End: 1080}}, time.Thursday: {{Start: 540, End: 1080}},
		time.Friday: {{Start: 540, End: 1080}}, time.Saturday: {{Start: 540, End: 840}},
	}
	pol := booking.Policy{CancelNoticeHours: ptr(24), MaxReschedulesPerAppointment: ptr(2),
		FeeTiers: []booking.FeeTier{{MinHoursBefore: 48, FeeCents: 0}, {MinHoursBefore: 24, FeeCents: 1000}, {MinHoursBefore: 0, FeeCents: 1500}}}
	return booking.TenantConfig{
		Tenant: booking.Tenant{ID: tid, Name: "Salon " + tid, Locale: "de", Policy: pol,
			Pricing:   booking.Pricing{PerMinuteCents: 12, PerCallCents: 5, IncludedMinutesPerMonth: 100},
			Retention: booking.Retention{TranscriptDays: 30}, Flags: map[string]bool{"alternatives": true}, CalcomAPIKeyRef: "env:CALCOM_" + tid},
		Branches: []booking.Branch{{TenantID: tid, ID: "mitte", Name: "Berlin Mitte", TimeZone: "Europe/Berlin",
			OpeningHours: hours, MinNoticeMinutes: 30, Policy: booking.Policy{RescheduleNoticeHours: ptr(12)}}},
		PhoneNumbers: []booking.PhoneNumber{{E164: number, TenantID: tid, BranchID: "mitte", AgentID: "agent_" + tid}},
		Services: []booking.Service{
			{TenantID: tid, ID: "herren", Name: "Herrenhaarschnitt", Synonyms: []string{"Männerschnitt"}, Category: "Schnitt",
				DurationMinutes: 30, EventTypeID: eventBase + 1, PriceCents: 2500, Priority: 1, IsDefault: true},
			{TenantID: tid, ID: "damen", Name: "Damenhaarschnitt", Synonyms: []string{}, DurationMinutes: 60, EventTypeID: eventBase + 2, Priority: 2},
			{TenantID: tid, ID: "faerben", Name: "Färben", Synonyms: []string{"Farbe"}, DurationMinutes: 120, Priority: 3,
				Segments: []booking.Segment{
					{Name: "Farbe auftragen", DurationMinutes: 45, EventTypeID: eventBase + 3, GapAfterMinutes: 45},
					{Name: "Waschen und Föhnen", DurationMinutes: 30, EventTypeID: eventBase + 4},
				}},
		},
		Staff: []booking.Staff{
			{TenantID: tid, ID: "anna", BranchID: "mitte", Name: "Anna", CalcomUserID: eventBase + 11, ServiceIDs: []string{"damen", "faerben"}},
			{TenantID: tid, ID: "ben", BranchID: "mitte", Name: "Ben", CalcomUserID: eventBase + 12, ServiceIDs: []string{"herren"},
				Policy: booking.Policy{MaxCancellationsPerMonth: ptr(3)}},
		},
	}
}

func mustApply(t testing.TB, s *Store, cfg booking.TenantConfig) {
	t.Helper()
	if err := s.ApplyTenantConfig(context.Background(), cfg); err != nil {
		t.Fatalf("ApplyTenantConfig(%s): %v", cfg.Tenant.ID, err)
	}
}

func wantKind(t testing.TB, err error, kind booking.Kind, what string) {
	t.Helper()
	if booking.KindOf(err) != kind {
		t.Fatalf("%s: err = %v (kind %q), want kind %q", what, err, booking.KindOf(err), kind)
	}
}
