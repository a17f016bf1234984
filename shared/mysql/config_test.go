package mysql

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/testenv"
)

func TestMigrateFromEmpty(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, testenv.MySQLDSN(t, "mysql_store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending, err := Pending(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"00001_config.sql", "00002_operational.sql", "00003_store_additions.sql", "00004_privacy.sql", "00005_encrypt_custom_analysis.sql", "00006_usage_index.sql"}
	if !slices.Equal(pending, want) {
		t.Fatalf("Pending = %v, want %v", pending, want)
	}
	applied, err := Migrate(ctx, db)
	if err != nil || !slices.Equal(applied, want) {
		t.Fatalf("Migrate = %v, %v", applied, err)
	}
	if pending, _ := Pending(ctx, db); len(pending) != 0 {
		t.Fatalf("after Migrate, Pending = %v", pending)
	}
	if again, err := Migrate(ctx, db); err != nil || len(again) != 0 {
		t.Fatalf("second Migrate = %v, %v", again, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()
		AND table_name IN ('tenants','branches','phone_numbers','services','service_segments','staff','customers','calls',
		'appointments','appointment_segments','appointment_changes','idempotency_records','webhook_receipts','callback_requests','audit_log')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 15 {
		t.Fatalf("%d of 15 tables exist", n)
	}
	var coll string
	if err := db.QueryRowContext(ctx, `SELECT table_collation FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'calls'`).Scan(&coll); err != nil || coll != Collation {
		t.Fatalf("calls collation %q, %v", coll, err)
	}
}

func TestOpenSettings(t *testing.T) {
	dsn, err := ConfigureDSN("u:secret@tcp(db:3306)/gw", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"parseTime=true", "collation=utf8mb4_unicode_ci", "timeout=1s", "readTimeout=2s", "writeTimeout=2s", "interpolateParams=true"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN %q lacks %s", dsn, want)
		}
	}
	if strings.Contains(dsn, "loc=") && !strings.Contains(dsn, "loc=UTC") {
		t.Errorf("DSN %q has a non-UTC loc", dsn)
	}
	if _, err := ConfigureDSN("not a dsn", Options{}); booking.KindOf(err) != booking.KindInvalid || strings.Contains(err.Error(), "not a dsn") {
		t.Errorf("bad DSN: %v", err)
	}

	ctx := context.Background()
	db, err := Open(ctx, testenv.MySQLDSN(t, "mysql_store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Stats().MaxOpenConnections; got != DefaultMaxOpenConns {
		t.Errorf("MaxOpenConnections = %d", got)
	}
	var coll string
	if err := db.QueryRowContext(ctx, `SELECT @@collation_connection`).Scan(&coll); err != nil || coll != Collation {
		t.Errorf("collation_connection = %q, %v", coll, err)
	}

	// Nothing listens on port 1: the failure is transient, fast, and the
	// DSN's password is not in the error.
	start := time.Now()
	_, err = Open(ctx, "u:hunter2@tcp(127.0.0.1:1)/gw", Options{})
	wantKind(t, err, booking.KindTransient, "Open on a closed port")
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("Open took %v", time.Since(start))
	}
}

func TestTenantConfigRoundTrip(t *testing.T) {
	s, db, _ := newTestStore(t, 4)
	ctx := context.Background()
	cfg := demoConfig("salon-a", "+4930123456", 1000)
	mustApply(t, s, cfg)
	mustApply(t, s, cfg) // idempotent

	got, err := s.LoadTenantConfig(ctx, "salon-a")
	if err != nil {
		t.Fatal(err)
	}
	want := cfg
	slices.SortFunc(want.Services, func(a, b booking.Service) int { return strings.Compare(a.ID, b.ID) })
	if !reflect.DeepEqual(got.Tenant, want.Tenant) {
		t.Errorf("tenant:\n got %+v\nwant %+v", got.Tenant, want.Tenant)
	}
	if !reflect.DeepEqual(got.Branches, want.Branches) {
		t.Errorf("branches:\n got %+v\nwant %+v", got.Branches, want.Branches)
	}
	if !reflect.DeepEqual(got.PhoneNumbers, want.PhoneNumbers) {
		t.Errorf("numbers: got %+v", got.PhoneNumbers)
	}
	if !reflect.DeepEqual(got.Services, want.Services) {
		t.Errorf("services:\n got %+v\nwant %+v", got.Services, want.Services)
	}
	if !reflect.DeepEqual(got.Staff, want.Staff) {
		t.Errorf("staff:\n got %+v\nwant %+v", got.Staff, want.Staff)
	}

	_, err = s.LoadTenantConfig(ctx, "nope")
	wantKind(t, err, booking.KindNotFound, "LoadTenantConfig(unknown)")

	// Resolve the dialled number in any spelling.
	for _, dialled := range []string{"+4930123456", "030 123456"} {
		p, tn, br, err := s.ResolveNumber(ctx, dialled)
		if err != nil {
			t.Fatalf("ResolveNumber(%q): %v", dialled, err)
		}
		if p.TenantID != "salon-a" || p.AgentID != "agent_salon-a" || tn.Name != "Salon salon-a" || br.TimeZone != "Europe/Berlin" ||
			!br.OpeningHours.Contains(time.Saturday, 600, 60) || br.OpeningHours.Contains(time.Sunday, 600, 30) || *tn.Policy.CancelNoticeHours != 24 {
			t.Fatalf("ResolveNumber = %+v %+v %+v", p, tn, br)
		}
	}
	_, _, _, err = s.ResolveNumber(ctx, "+4940999999")
	wantKind(t, err, booking.KindNotFound, "ResolveNumber(unknown)")
	_, _, _, err = s.ResolveNumber(ctx, "anonymous")
	wantKind(t, err, booking.KindNotFound, "ResolveNumber(anonymous)")

	svcs, err := s.Services(ctx, "salon-a", "mitte")
	if err != nil || len(svcs) != 3 || svcs[0].ID != "herren" || !svcs[2].Composite() || svcs[2].Segments[1].EventTypeID != 1004 {
		t.Fatalf("Services = %+v, %v", svcs, err)
	}

	for et, wantSvc := range map[int64]string{1001: "herren", 1003: "faerben", 1004: "faerben"} {
		tid, svc, err := s.ServiceByEventType(ctx, et)
		if err != nil || tid != "salon-a" || svc.ID != wantSvc {
			t.Fatalf("ServiceByEventType(%d) = %q %q %v", et, tid, svc.ID, err)
		}
	}
	_, _, err = s.ServiceByEventType(ctx, 999999)
	wantKind(t, err, booking.KindNotFound, "ServiceByEventType(unknown)")

	// Shrink the file: "damen" is referenced by an appointment (kept
	// inactive), "herren" is not (deleted); staff "ben" goes, the number
	// changes.
	if _, err := s.CreateAppointment(ctx, booking.Appointment{TenantID: "salon-a", BranchID: "mitte", ServiceID: "damen", StaffID: "anna",
		Status: booking.StatusConfirmed, Start: t0.Add(48 * time.Hour), End: t0.Add(49 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	small := demoConfig("salon-a", "+4930654321", 1000)
	small.Services = small.Services[2:]
	small.Staff = small.Staff[:1]
	mustApply(t, s, small)
	got, err = s.LoadTenantConfig(ctx, "salon-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Services) != 1 || got.Services[0].ID != "faerben" || len(got.Staff) != 1 || len(got.PhoneNumbers) != 1 || got.PhoneNumbers[0].E164 != "+4930654321" {
		t.Fatalf("after shrinking: %+v", got)
	}
	var active, total int
	db.QueryRow(`SELECT COALESCE(SUM(active),0), COUNT(*) FROM services WHERE tenant_id = 'salon-a' AND id IN ('damen','herren')`).Scan(&active, &total)
	if active != 0 || total != 1 {
		t.Fatalf("removed services: %d active of %d rows, want the referenced one kept inactive", active, total)
	}
	if _, _, err := s.ServiceByEventType(ctx, 1002); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("inactive service still resolves: %v", err)
	}
	if _, _, _, err := s.ResolveNumber(ctx, "+4930123456"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("removed number still resolves: %v", err)
	}
}

func TestApplyTenantConfigNeverTouchesOtherTenants(t *testing.T) {
	s, _, _ := newTestStore(t, 4)
	ctx := context.Background()
	a := demoConfig("salon-a", "+4930123456", 1000)
	b := demoConfig("salon-b", "+4930999999", 2000)
	mustApply(t, s, a)
	mustApply(t, s, b)

	// B claims A's number: conflict, and nothing of B's apply is kept.
	bad := demoConfig("salon-b", "+4930123456", 2000)
	bad.Tenant.Name = "Renamed"
	err := s.ApplyTenantConfig(ctx, bad)
	wantKind(t, err, booking.KindConflict, "number owned by another tenant")
	if strings.Contains(err.Error(), "salon-a") {
		t.Errorf("conflict names the other tenant: %v", err)
	}
	gotB, _ := s.LoadTenantConfig(ctx, "salon-b")
	if gotB.Tenant.Name != "Salon salon-b" || gotB.PhoneNumbers[0].E164 != "+4930999999" {
		t.Fatalf("failed apply changed B: %+v", gotB)
	}
	if p, _, _, err := s.ResolveNumber(ctx, "+4930123456"); err != nil || p.TenantID != "salon-a" {
		t.Fatalf("A's number moved: %+v %v", p, err)
	}

	// B with no services/staff/numbers at all: A keeps everything.
	empty := booking.TenantConfig{Tenant: b.Tenant, Branches: b.Branches}
	mustApply(t, s, empty)
	gotA, _ := s.LoadTenantConfig(ctx, "salon-a")
	if len(gotA.Services) != 3 || len(gotA.Staff) != 2 || len(gotA.PhoneNumbers) != 1 {
		t.Fatalf("A changed by B's apply: %+v", gotA)
	}

	// Rows claiming another tenant are refused.
	mixed := demoConfig("salon-b", "+4930999999", 2000)
	mixed.Services[0].TenantID = "salon-a"
	wantKind(t, s.ApplyTenantConfig(ctx, mixed), booking.KindInvalid, "row of another tenant")
	notE164 := demoConfig("salon-b", "030 999999", 2000)
	wantKind(t, s.ApplyTenantConfig(ctx, notE164), booking.KindInvalid, "number not E.164")
	// The same event type in two tenants makes the webhook mapping ambiguous.
	dup := demoConfig("salon-b", "+4930999999", 1000)
	mustApply(t, s, dup)
	_, _, err = s.ServiceByEventType(ctx, 1001)
	wantKind(t, err, booking.KindConflict, "event type in two tenants")
}
