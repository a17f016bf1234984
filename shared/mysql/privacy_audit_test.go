package mysql

import (
	"context"
	"fmt"
	"github.com/telefonagent/gateway/shared/testenv"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// The audit log is append-only: no code path updates its rows, and the only
// delete is the retention purge of rows past MinAuditRetentionDays. Two
// tests prove it: one reads every SQL string of the module, the other calls
// every Store method that could touch the audit log and checks that rows
// already there are unchanged.

// allowedAuditDelete is the one statement that may remove audit rows.
const allowedAuditDelete = `DELETE FROM audit_log WHERE tenant_id = ? AND created_at < ? LIMIT ?`

var spaces = regexp.MustCompile(`\s+`)

func TestOnlyRetentionDeletesAuditRows(t *testing.T) {
	root := testenv.ModuleRoot(t)
	var deletes []string
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "cdk.out", ".git", ".tools", "vendor", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.Contains(strings.ToLower(s), "audit_log") {
				return true
			}
			checked++
			sql := strings.TrimSpace(spaces.ReplaceAllString(s, " "))
			upper := strings.ToUpper(sql)
			switch {
			case sql == allowedAuditDelete && rel == filepath.Join("shared", "mysql", "retention.go"):
				deletes = append(deletes, rel)
			case strings.HasPrefix(upper, "INSERT INTO AUDIT_LOG ") && !strings.Contains(upper, "ON DUPLICATE KEY"):
			case strings.HasPrefix(upper, "SELECT ") && !regexp.MustCompile(`\b(UPDATE|DELETE|REPLACE|TRUNCATE|DROP|ALTER)\b`).MatchString(upper):
			default:
				t.Errorf("%s: SQL touching audit_log is neither an INSERT, a SELECT nor the retention purge: %q", rel, sql)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d SQL strings mention audit_log", checked)
	if checked < 3 || len(deletes) != 1 {
		t.Fatalf("found %d audit_log statements and %d retention deletes; the scan is not seeing the code", checked, len(deletes))
	}
}

// auditRow is an audit row as stored.
type auditRow struct {
	ID                                     int64
	Tenant, Actor, Action, Subject, Reason string
	Detail                                 string
	CreatedAt                              time.Time
}

func auditSnapshot(t *testing.T, s *Store) map[int64]auditRow {
	t.Helper()
	rows, err := s.db.Query(`SELECT id, tenant_id, actor, action, subject, reason, COALESCE(CAST(detail AS CHAR), ''), created_at FROM audit_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]auditRow{}
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.ID, &r.Tenant, &r.Actor, &r.Action, &r.Subject, &r.Reason, &r.Detail, &r.CreatedAt); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = r
	}
	return out
}

func TestNoStoreMethodChangesYoungAuditRows(t *testing.T) {
	s, _, clk := newTestStore(t, 4)
	ctx := context.Background()
	mustApply(t, s, demoConfig("t1", "+4930111000", 1000))
	mustApply(t, s, demoConfig("t2", "+4930222000", 2000))
	c, err := s.UpsertCustomerByPhone(ctx, "t1", "+4915100000009", "Audit Person", "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	// Audit rows from 1 day to just under seven years old, in both tenants.
	for _, age := range []int{MinAuditRetentionDays - 1, 3 * 365, 400, 1} {
		for _, tid := range []string{"t1", "t2"} {
			clk.t = t0.AddDate(0, 0, -age)
			if err := s.AppendAudit(ctx, tid, "admin:x", "test", "customer:"+strconv.FormatInt(c.ID, 10), "r", map[string]int{"age": age}); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.t = t0
	before := auditSnapshot(t, s)

	// Every exported Store method whose name suggests it could remove or
	// change data must be exercised here; a new one fails the test until it is.
	calls := map[string]func() error{
		"AppendAudit":   func() error { return s.AppendAudit(ctx, "t1", "admin:y", "test", "s", "", nil) },
		"AuditEntries":  func() error { _, err := s.AuditEntries(ctx, "t1", "", 0); return err },
		"EraseCustomer": func() error { _, err := s.EraseCustomer(ctx, "t1", c.ID, "admin:x", "r"); return err },
		"EraseCaller":   func() error { _, err := s.EraseCaller(ctx, "t1", "+4915100000009", "admin:x", "r"); return err },
		"PurgeExpiredAudit": func() error {
			for _, days := range []int{-1, 0, 1, 365, MinAuditRetentionDays - 1} {
				if _, err := s.PurgeExpiredAudit(ctx, "t1", days, 1); booking.KindOf(err) != booking.KindInvalid {
					return fmt.Errorf("PurgeExpiredAudit(%d days) = %v, want Invalid", days, err)
				}
			}
			_, err := s.PurgeExpiredAudit(ctx, "t1", MinAuditRetentionDays, 1)
			return err
		},
		"PurgeCallContent":        func() error { _, err := s.PurgeCallContent(ctx, "t1", 1, 1); return err },
		"PurgeIdempotencyRecords": func() error { _, err := s.PurgeIdempotencyRecords(ctx, "t1", 1, 1); return err },
		"PurgeWebhookReceipts":    func() error { _, err := s.PurgeWebhookReceipts(ctx, "t1", 1, 1); return err },
		"AnonymizeOldCallers":     func() error { _, _, err := s.AnonymizeOldCallers(ctx, "t1", 1, 1); return err },
		"InactiveCustomers":       func() error { _, err := s.InactiveCustomers(ctx, "t1", 1, 1); return err },
		"AbandonIdempotent":       func() error { return s.AbandonIdempotent(ctx, "t1", "k") },
		"ApplyTenantConfig":       func() error { return s.ApplyTenantConfig(ctx, demoConfig("t1", "+4930111000", 1000)) },
		"RecordChange":            func() error { return nil }, // appointment_changes only; covered by the SQL scan
	}
	risky := regexp.MustCompile(`(?i)audit|purge|erase|delete|remove|anonym|abandon|apply|retention|record|inactive`)
	st := reflect.TypeOf(s)
	var names []string
	for i := 0; i < st.NumMethod(); i++ {
		name := st.Method(i).Name
		if !risky.MatchString(name) {
			continue
		}
		if _, ok := calls[name]; !ok {
			// Recording methods append elsewhere (receipts, callbacks, changes).
			if strings.HasPrefix(name, "Record") {
				continue
			}
			t.Errorf("Store.%s may change data but is not exercised against the audit log here", name)
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := calls[name](); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := auditSnapshot(t, s)
		for id, row := range before {
			if got, ok := after[id]; !ok || got != row {
				t.Fatalf("after Store.%s audit row %d changed or vanished: %+v → %+v", name, id, row, got)
			}
		}
	}
	t.Logf("exercised: %v", names)
	if len(names) < 10 {
		t.Fatalf("only %d methods exercised: %v", len(names), names)
	}
}
