package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/testenv"
)

func dryRun(t *testing.T, cmd string, args ...string) []string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), cmd, append(args, "-dry-run", "-suffix", "20261125-1030"), &out); err != nil {
		t.Fatalf("%s %v: %v", cmd, args, err)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

// A dry run lists every AWS call in the order a restore makes it; the
// operator can run the same commands by hand.
func TestPitrDryRunPrintsEveryCallInOrder(t *testing.T) {
	lines := dryRun(t, "pitr", "-stage", "prod", "-time", "2026-11-25T11:15:00+01:00", "-switch")
	want := []string{
		"aws rds describe-db-instances --db-instance-identifier telefonagent-prod-mysql ",
		"aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier telefonagent-prod-mysql " +
			"--target-db-instance-identifier telefonagent-prod-mysql-r20261125-1030 --restore-time 2026-11-25T10:15:00Z ",
		"aws rds wait db-instance-available --db-instance-identifier telefonagent-prod-mysql-r20261125-1030",
		"aws secretsmanager get-secret-value --secret-id telefonagent-prod/db-admin ",
		"aws rds modify-db-instance --db-instance-identifier telefonagent-prod-mysql-r20261125-1030 --master-user-password ",
		"aws rds wait db-instance-available --db-instance-identifier telefonagent-prod-mysql-r20261125-1030",
		"aws rds modify-db-instance --db-instance-identifier telefonagent-prod-mysql --new-db-instance-identifier telefonagent-prod-mysql-old ",
		"aws rds wait db-instance-available --db-instance-identifier telefonagent-prod-mysql-old",
		"aws rds modify-db-instance --db-instance-identifier telefonagent-prod-mysql-r20261125-1030 --new-db-instance-identifier telefonagent-prod-mysql ",
		"aws rds wait db-instance-available --db-instance-identifier telefonagent-prod-mysql",
		"aws rds deregister-db-proxy-targets --db-proxy-name telefonagent-prod-proxy --db-instance-identifiers telefonagent-prod-mysql-old",
		"aws rds register-db-proxy-targets --db-proxy-name telefonagent-prod-proxy --db-instance-identifiers telefonagent-prod-mysql",
		"aws rds describe-db-proxy-targets --db-proxy-name telefonagent-prod-proxy ",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d calls, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("call %d = %q, want it to contain %q", i+1, lines[i], w)
		}
	}
	if !strings.Contains(lines[1], "--deletion-protection") || !strings.Contains(lines[1], "--enable-iam-database-authentication") {
		t.Errorf("prod restore must keep deletion protection and IAM auth: %s", lines[1])
	}
}

func TestRestoreDryRunCopiesFromTheSourceRegionAndStopsBeforeTheSwitch(t *testing.T) {
	lines := dryRun(t, "restore", "-stage", "dev", "-region", "eu-west-1", "-snapshot",
		"arn:aws:rds:eu-central-1:111122223333:snapshot:awsbackup:job-1", "-source-region", "eu-central-1")
	joined := strings.Join(lines, "\n")
	for _, w := range []string{
		"aws rds copy-db-snapshot --region eu-west-1 --source-region eu-central-1 --source-db-snapshot-identifier arn:aws:rds:eu-central-1:111122223333:snapshot:awsbackup:job-1 --target-db-snapshot-identifier telefonagent-dev-dr-20261125-1030",
		"aws rds wait db-snapshot-available --db-snapshot-identifier telefonagent-dev-dr-20261125-1030",
		"aws rds restore-db-instance-from-db-snapshot --db-instance-identifier telefonagent-dev-mysql-r20261125-1030 --db-snapshot-identifier telefonagent-dev-dr-20261125-1030",
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("dry run lacks %q:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "deletion-protection") || strings.Contains(joined, "proxy") || strings.Contains(joined, "-old") {
		t.Errorf("a dev restore without -switch must not touch the proxy or rename:\n%s", joined)
	}
	if len(lines) != 8 {
		t.Errorf("%d calls, want 8:\n%s", len(lines), joined)
	}
}

// switch is the second half of a restore, after the check.
func TestSwitchDryRunRenamesAndRetargetsTheProxy(t *testing.T) {
	lines := dryRun(t, "switch", "-stage", "prod", "-restored", "telefonagent-prod-mysql-r20261125-1030")
	if len(lines) != 7 || !strings.Contains(lines[0], "--db-instance-identifier telefonagent-prod-mysql --new-db-instance-identifier telefonagent-prod-mysql-old") ||
		!strings.Contains(lines[5], "register-db-proxy-targets --db-proxy-name telefonagent-prod-proxy --db-instance-identifiers telefonagent-prod-mysql") {
		t.Errorf("switch:\n%s", strings.Join(lines, "\n"))
	}
}

func TestBadArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"pitr", "-stage", "prod"},
		{"pitr", "-stage", "prod", "-latest", "-time", "2026-11-25T10:15:00Z"},
		{"pitr", "-stage", "prod", "-time", "yesterday"},
		{"pitr", "-stage", "staging", "-latest"},
		{"restore", "-stage", "prod"},
		{"switch", "-stage", "prod"},
		{"switch", "-stage", "prod", "-restored", "telefonagent-prod-mysql"},
		{"check"},
		{"explode"},
	} {
		t.Setenv("MYSQL_DSN", "")
		var ue usageError
		if err := run(context.Background(), args[0], append(args[1:], "-dry-run"), &bytes.Buffer{}); !errors.As(err, &ue) {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
}

// tool finds a MariaDB/MySQL client program or fails with how to install it.
func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("none of %v installed: apt-get install mariadb-client (or mysql-client)", names)
	return ""
}

// clientArgs are the command-line connection options for a test DSN.
func clientArgs(t *testing.T, dsn string) []string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, port, ok := strings.Cut(cfg.Addr, ":")
	if !ok {
		port = "3306"
	}
	args := []string{"--protocol=TCP", "-h", host, "-P", port, "-u", cfg.User}
	if cfg.Passwd != "" {
		args = append(args, "--password="+cfg.Passwd)
	}
	return append(args, cfg.DBName)
}

func exec1(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// What can run here of a restore: the data of a migrated database, dumped
// and loaded into a fresh database (what a snapshot or point-in-time restore
// produces on RDS), passes the post-restore check; a restore that lost rows,
// left an operation half done or is behind the migrations fails it, naming
// the invariant.
func TestDumpRestoreIntoAFreshDatabasePassesTheCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srcDSN := testenv.MySQLDSN(t, "dr_source")
	src := testenv.MySQL(t, "dr_source")
	if _, err := mysql.Migrate(ctx, src); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	exec1(t, src, `INSERT INTO tenants (id, name, config) VALUES ('t1', 'Salon', '{}')`)
	exec1(t, src, `INSERT INTO customers (tenant_id, id, source, created_at, last_seen_at) VALUES ('t1', 7, 'phone', ?, ?)`, now, now)
	exec1(t, src, `INSERT INTO appointments (tenant_id, id, branch_id, service_id, customer_id, status, source, starts_at, ends_at, created_at, updated_at)
		VALUES ('t1', 11, 'b1', 's1', 7, 'booked', 'phone', ?, ?, ?, ?)`, now.Add(24*time.Hour), now.Add(25*time.Hour), now, now)
	exec1(t, src, `INSERT INTO appointment_segments (tenant_id, appointment_id, position, event_type_id, starts_at, ends_at, status)
		VALUES ('t1', 11, 0, 42, ?, ?, 'booked')`, now.Add(24*time.Hour), now.Add(25*time.Hour))
	exec1(t, src, `INSERT INTO calls (tenant_id, call_id, status, customer_id, created_at, updated_at) VALUES ('t1', 'call_1', 'ended', 7, ?, ?)`, now, now)
	exec1(t, src, `INSERT INTO idempotency_records (tenant_id, idem_key, operation, status, response, expires_at, created_at, updated_at)
		VALUES ('t1', 'k1', 'book', 'complete', 'x', ?, ?, ?)`, now.Add(time.Hour), now, now)

	var out bytes.Buffer
	if n, err := check(ctx, src, &out); err != nil || n != 0 {
		t.Fatalf("the source is not consistent (%d, %v):\n%s", n, err, out.String())
	}

	dump := filepath.Join(t.TempDir(), "dump.sql")
	f, err := os.Create(dump)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool(t, "mariadb-dump", "mysqldump"), append([]string{"--single-transaction", "--routines", "--triggers"}, clientArgs(t, srcDSN)...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dump: %v\n%s", err, stderr.String())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	dstDSN := testenv.MySQLDSN(t, "dr_restored")
	in, err := os.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	cmd = exec.Command(tool(t, "mariadb", "mysql"), clientArgs(t, dstDSN)...)
	stderr.Reset()
	cmd.Stdin, cmd.Stderr = in, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("load: %v\n%s", err, stderr.String())
	}
	dst, err := sql.Open("mysql", dstDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dst.Close() }()
	for _, table := range []string{"tenants", "customers", "appointments", "appointment_segments", "calls", "idempotency_records", "goose_db_version"} {
		if a, b := count(t, src, table), count(t, dst, table); a != b || a == 0 {
			t.Errorf("%s: %d rows restored of %d", table, b, a)
		}
	}
	out.Reset()
	if n, err := check(ctx, dst, &out); err != nil || n != 0 {
		t.Fatalf("restored copy fails the check (%d, %v):\n%s", n, err, out.String())
	}
	if !strings.Contains(out.String(), "ok    migrations at head") {
		t.Errorf("check output:\n%s", out.String())
	}

	// Break it the ways a bad restore does.
	conn, err := dst.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	for _, q := range []string{
		`SET FOREIGN_KEY_CHECKS = 0`,
		`DELETE FROM customers WHERE id = 7`,
		`INSERT INTO idempotency_records (tenant_id, idem_key, operation, status, expires_at, created_at, updated_at)
		 VALUES ('t1', 'k2', 'book', 'in_progress', NOW(3), NOW(3), NOW(3))`,
		`DELETE FROM goose_db_version WHERE version_id = (SELECT v FROM (SELECT MAX(version_id) v FROM goose_db_version) m)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out.Reset()
	n, err := check(ctx, dst, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"FAIL  migrations not at head: 1 pending", "FAIL  appointments of a missing customer: 1",
		"FAIL  calls of a missing customer: 1", "FAIL  idempotency records not final (in_progress): 1"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("check output lacks %q:\n%s", w, out.String())
		}
	}
	if n != 4 {
		t.Errorf("%d problems, want 4:\n%s", n, out.String())
	}

	// The command exits non-zero on the broken copy.
	if err := run(ctx, "check", []string{"-dsn", dstDSN}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "4 inconsistencies") {
		t.Errorf("dr check on the broken copy: %v", err)
	}
}
