package privacy_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/privacy"
)

func daysAgo(d int) time.Time { return t0.AddDate(0, 0, -d) }

// at runs fn with the store's clock at when, then restores t0.
func (e *env) at(when time.Time, fn func()) {
	e.clk.Set(when)
	fn()
	e.clk.Set(t0)
}

func TestRetentionDeletesWhatIsDueAndNothingElse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	demo := e.demo.Tenant.ID // transcript_days 90, inactive_customer_days 730 (demo file); other periods default
	if e.demo.Tenant.Retention.TranscriptDays != 90 || e.demo.Tenant.Retention.InactiveCustomerDays != 730 {
		t.Fatalf("demo retention changed: %+v", e.demo.Tenant.Retention)
	}
	br := func(tid string) string {
		if tid == demo {
			return e.branch(e.demo)
		}
		return e.branch(e.other)
	}

	call := func(tid, id string, ageDays int, customer *int64, from string) {
		e.at(daysAgo(ageDays), func() {
			start := daysAgo(ageDays)
			_, err := e.store.UpsertCall(ctx, booking.Call{TenantID: tid, CallID: id, BranchID: br(tid), FromNumber: from,
				Status: booking.CallAnalyzed, StartedAt: &start, DurationMS: 60000, Transcript: "Transkript " + id, Summary: "Summary " + id,
				RecordingURL: "https://rec.example/" + id, CustomerID: customer, Cost: booking.CallCost{CustomerEURCents: 29, BilledMinutes: 1}})
			mustNil(t, err, "call "+id)
		})
	}
	customer := func(tid, phone string, ageDays int) int64 {
		var id int64
		e.at(daysAgo(ageDays), func() {
			c, err := e.store.UpsertCustomerByPhone(ctx, tid, phone, "Kunde "+phone, "")
			mustNil(t, err, "customer")
			id = c.ID
		})
		return id
	}

	// Call content: demo after 90 days, other tenant after the default 365.
	call(demo, "d_91", 91, nil, "")
	call(demo, "d_89", 89, nil, "")
	call(otherTenant, "o_366", 366, nil, "")
	call(otherTenant, "o_364", 364, nil, "")

	// Customers: demo after 730 days without activity, other after 1095.
	dOld := customer(demo, "+4915100000001", 731)
	dRecent := customer(demo, "+4915100000002", 729)
	dOldButBooked := customer(demo, "+4915100000003", 800)
	_, err := e.store.CreateAppointment(ctx, booking.Appointment{TenantID: demo, BranchID: br(demo), ServiceID: e.demo.Services[0].ID,
		CustomerID: &dOldButBooked, Status: booking.StatusConfirmed, Start: t0.Add(24 * time.Hour), End: t0.Add(25 * time.Hour)})
	mustNil(t, err, "appointment")
	dOldButCalled := customer(demo, "+4915100000004", 800)
	call(demo, "d_recent_call", 10, &dOldButCalled, "")
	oOld := customer(otherTenant, "+4915100000001", 1096)
	oRecent := customer(otherTenant, "+4915100000002", 1094)

	// Unlinked caller numbers age like inactive customers.
	call(demo, "anon_731", 731, nil, "+4930111111111")
	call(demo, "anon_729", 729, nil, "+4930222222222")

	// Dedupe records: 90 days everywhere (5 due receipts to cross batches of 2).
	receipt := func(tid, key string, ageDays int) {
		e.at(daysAgo(ageDays), func() {
			_, err := e.store.RecordReceipt(ctx, "retell", key, tid)
			mustNil(t, err, "receipt")
		})
	}
	for i := 0; i < 5; i++ {
		receipt(demo, "due_"+string(rune('a'+i)), 91)
	}
	receipt(demo, "kept", 89)
	receipt("", "no_tenant_due", 91)
	receipt("", "no_tenant_kept", 89)
	receipt(otherTenant, "other_due", 91)
	idem := func(tid, key string, ageDays int) {
		e.at(daysAgo(ageDays), func() {
			_, _, err := e.store.BeginIdempotent(ctx, tid, key, "book", 24*time.Hour)
			mustNil(t, err, "idempotency")
		})
	}
	idem(demo, "idem_91", 91)
	idem(demo, "idem_89", 89)

	// Audit: seven years (2557 days).
	audit := func(tid, subject string, ageDays int) {
		e.at(daysAgo(ageDays), func() {
			mustNil(t, e.store.AppendAudit(ctx, tid, "test", "test.action", subject, "", nil), "audit")
		})
	}
	audit(demo, "old", mysql.MinAuditRetentionDays+1)
	audit(demo, "young", mysql.MinAuditRetentionDays-1)
	audit(otherTenant, "old", mysql.MinAuditRetentionDays+1)

	var logs bytes.Buffer
	r := &privacy.Retention{Store: e.store, Batch: 2, Logger: platform.NewLogger(&logs, nil)}
	rep, err := r.Run(ctx)
	mustNil(t, err, "run")

	want := map[string]privacy.TenantReport{
		demo:        {TenantID: demo, CallContent: 3, CallersAnonymized: 1, CustomersErased: 1, Idempotency: 1, Receipts: 5, AuditRows: 1},
		otherTenant: {TenantID: otherTenant, CallContent: 1, CustomersErased: 1, Receipts: 1, AuditRows: 1},
		"":          {TenantID: "", Receipts: 1},
	}
	if len(rep.Tenants) != len(want) {
		t.Fatalf("report = %+v", rep)
	}
	for _, got := range rep.Tenants {
		if got != want[got.TenantID] {
			t.Errorf("tenant %q: report %+v, want %+v", got.TenantID, got, want[got.TenantID])
		}
	}
	content := func(id string) bool {
		var n int
		mustNil(t, e.db.QueryRow(`SELECT COUNT(*) FROM calls WHERE call_id = ? AND transcript_enc IS NOT NULL AND summary_enc IS NOT NULL AND recording_url <> ''`, id).Scan(&n), "content")
		return n == 1
	}
	for id, kept := range map[string]bool{"d_91": false, "d_89": true, "o_366": false, "o_364": true, "anon_731": false, "anon_729": false, "d_recent_call": true} {
		if content(id) != kept {
			t.Errorf("call %s content kept = %v, want %v", id, !kept, kept)
		}
	}
	var calls int
	mustNil(t, e.db.QueryRow(`SELECT COUNT(*) FROM calls`).Scan(&calls), "count calls")
	if calls != 7 {
		t.Errorf("calls = %d, want all 7 rows kept as statistics", calls)
	}
	var fromKept string
	mustNil(t, e.db.QueryRow(`SELECT CONCAT(
		(SELECT COUNT(*) FROM calls WHERE call_id = 'anon_731' AND from_enc IS NULL AND from_idx IS NULL),
		(SELECT COUNT(*) FROM calls WHERE call_id = 'anon_729' AND from_enc IS NOT NULL AND from_idx IS NOT NULL))`).Scan(&fromKept), "from")
	if fromKept != "11" {
		t.Errorf("unlinked caller numbers: %s, want anon_731 cleared and anon_729 kept", fromKept)
	}

	erased := func(tid string, id int64) bool {
		var n int
		mustNil(t, e.db.QueryRow(`SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND id = ? AND erased_at IS NOT NULL AND name_enc IS NULL AND phone_idx IS NULL`, tid, id).Scan(&n), "erased")
		return n == 1
	}
	for _, c := range []struct {
		tid  string
		id   int64
		want bool
	}{{demo, dOld, true}, {demo, dRecent, false}, {demo, dOldButBooked, false}, {demo, dOldButCalled, false},
		{otherTenant, oOld, true}, {otherTenant, oRecent, false}} {
		if erased(c.tid, c.id) != c.want {
			t.Errorf("customer %s/%d erased = %v, want %v", c.tid, c.id, !c.want, c.want)
		}
	}
	retAudit, _ := e.store.AuditEntries(ctx, demo, "customer:"+itoa(dOld), 0)
	if len(retAudit) != 1 || retAudit[0].Actor != privacy.ActorRetention || retAudit[0].Action != mysql.AuditActionErase {
		t.Errorf("retention erasure audit = %+v", retAudit)
	}

	var keys string
	mustNil(t, e.db.QueryRow(`SELECT COALESCE(GROUP_CONCAT(event_key ORDER BY event_key), '') FROM webhook_receipts`).Scan(&keys), "receipts")
	if keys != "kept,no_tenant_kept" {
		t.Errorf("receipts left = %q", keys)
	}
	mustNil(t, e.db.QueryRow(`SELECT COALESCE(GROUP_CONCAT(idem_key), '') FROM idempotency_records`).Scan(&keys), "idem")
	if keys != "idem_89" {
		t.Errorf("idempotency records left = %q", keys)
	}
	mustNil(t, e.db.QueryRow(`SELECT COALESCE(GROUP_CONCAT(CONCAT(tenant_id, '/', subject) ORDER BY tenant_id, subject), '') FROM audit_log WHERE actor = 'test'`).Scan(&keys), "audit left")
	if keys != demo+"/young" {
		t.Errorf("audit rows left = %q", keys)
	}

	// Logs: counts only.
	if !strings.Contains(logs.String(), `"customers_erased":1`) || strings.Contains(logs.String(), "Kunde") || strings.Contains(logs.String(), "+4915100000001") {
		t.Errorf("retention log = %s", logs.String())
	}

	// A second run on the same day finds nothing.
	rep, err = r.Run(ctx)
	mustNil(t, err, "second run")
	for _, tr := range rep.Tenants {
		if tr != (privacy.TenantReport{TenantID: tr.TenantID}) {
			t.Errorf("second run changed %+v", tr)
		}
	}
}

func TestRetentionRefusesShortAuditPeriod(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.at(daysAgo(400), func() { mustNil(t, e.store.AppendAudit(ctx, e.demo.Tenant.ID, "test", "x", "s", "", nil), "audit") })
	r := &privacy.Retention{Store: e.store, Defaults: privacy.Periods{AuditDays: 365}}
	if _, err := r.Run(ctx); booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("run with a one-year audit period: err = %v, want Invalid", err)
	}
	var n int
	mustNil(t, e.db.QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&n), "count")
	if n != 1 {
		t.Fatalf("audit rows = %d, want the 400-day-old row kept", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
