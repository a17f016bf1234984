package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/telefonagent/gateway/shared/mysql"
)

// consistency is one query that counts rows breaking an invariant of the
// application's data. Foreign keys cover only part of it (a dump loaded with
// FOREIGN_KEY_CHECKS=0, or a partial restore, can break even those).
type consistency struct {
	Name  string
	Query string
}

var checks = []consistency{
	{"appointments of a missing tenant",
		`SELECT COUNT(*) FROM appointments a LEFT JOIN tenants t ON t.id = a.tenant_id WHERE t.id IS NULL`},
	{"appointments of a missing customer",
		`SELECT COUNT(*) FROM appointments a LEFT JOIN customers c ON c.id = a.customer_id AND c.tenant_id = a.tenant_id
		 WHERE a.customer_id IS NOT NULL AND c.id IS NULL`},
	{"appointment segments of a missing appointment",
		`SELECT COUNT(*) FROM appointment_segments s LEFT JOIN appointments a ON a.id = s.appointment_id AND a.tenant_id = s.tenant_id
		 WHERE a.id IS NULL`},
	{"appointments ending before they start",
		`SELECT COUNT(*) FROM appointments WHERE ends_at <= starts_at`},
	{"calls of a missing customer",
		`SELECT COUNT(*) FROM calls k LEFT JOIN customers c ON c.id = k.customer_id AND c.tenant_id = k.tenant_id
		 WHERE k.customer_id IS NOT NULL AND c.id IS NULL`},
	{"callback requests of a missing customer",
		`SELECT COUNT(*) FROM callback_requests r LEFT JOIN customers c ON c.id = r.customer_id AND c.tenant_id = r.tenant_id
		 WHERE r.customer_id IS NOT NULL AND c.id IS NULL`},
	{"customers of a missing tenant",
		`SELECT COUNT(*) FROM customers c LEFT JOIN tenants t ON t.id = c.tenant_id WHERE t.id IS NULL`},
	// An in_progress record is an operation caught mid-way at the restore
	// point: its side effect (a Cal.com booking) may or may not exist. The
	// reconcile job compares with Cal.com; until then a retry would wait.
	{"idempotency records not final (in_progress)",
		`SELECT COUNT(*) FROM idempotency_records WHERE status <> 'complete'`},
	{"complete idempotency records without a stored answer",
		`SELECT COUNT(*) FROM idempotency_records WHERE status = 'complete' AND response IS NULL`},
}

// checkDSN opens the database and runs check.
func checkDSN(ctx context.Context, dsn string, out io.Writer) (int, error) {
	db, err := mysql.Open(ctx, dsn, mysql.Options{ReadTimeout: 5 * time.Minute, WriteTimeout: time.Minute, DialTimeout: 5 * time.Second})
	if err != nil {
		return 0, err
	}
	n, err := check(ctx, db, out)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return n, err
}

// check prints one line per invariant (counts only: no personal data) and
// returns how many are broken.
func check(ctx context.Context, db *sql.DB, w io.Writer) (int, error) {
	out := &printer{w: w}
	problems := 0
	pending, err := mysql.Pending(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	if len(pending) > 0 {
		problems++
		out.f("FAIL  migrations not at head: %d pending (first %s): run scripts/migrate up\n", len(pending), pending[0])
	} else {
		out.f("ok    migrations at head\n")
	}
	for _, c := range checks {
		var n int64
		if err := db.QueryRowContext(ctx, c.Query).Scan(&n); err != nil {
			return problems, fmt.Errorf("%s: %w", c.Name, err)
		}
		if n > 0 {
			problems++
			out.f("FAIL  %s: %d\n", c.Name, n)
		} else {
			out.f("ok    no %s\n", c.Name)
		}
	}
	return problems, out.err
}

// printer writes formatted lines and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}
