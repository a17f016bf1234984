package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/tenantfile"
	"github.com/telefonagent/gateway/shared/testenv"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// TestApplyAgainstMariaDBAndRedis runs the command the way an operator
// does, against the real database and cache.
func TestApplyAgainstMariaDBAndRedis(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t, "scripts_tenant")
	db, err := mysql.Open(ctx, dsn, mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := mysql.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	rc, ns := testenv.Redis(t)
	env := map[string]string{"MYSQL_DSN": dsn, "REDIS_ADDR": testenv.RedisAddr(), "REDIS_KEY_PREFIX": ns}
	cache := &redis.TenantCache{Client: rc, Keys: redis.Keys{Prefix: ns}}
	seedCache := func() {
		t.Helper()
		e := redis.TenantEntry{Number: booking.PhoneNumber{E164: "+4930123456", TenantID: "salon-sonnenschein"}}
		if err := cache.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	// A dry run of a new tenant writes nothing.
	r := runCLI(t, env, "apply", "demo", "-dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, `tenant "salon-sonnenschein": added`) || !strings.Contains(r.stdout, "dry run") {
		t.Fatalf("dry run: %+v", r)
	}
	store := mysql.NewStore(db, nil, nil)
	if _, err := store.LoadTenantConfig(ctx, "salon-sonnenschein"); booking.KindOf(err) != booking.KindNotFound {
		t.Fatalf("dry run wrote the tenant (load err %v)", err)
	}

	// First apply writes and invalidates.
	seedCache()
	r = runCLI(t, env, "apply", "../../scripts/tenant/demo.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "applied in one transaction") || !strings.Contains(r.stdout, "tenant cache invalidated for 1 number") {
		t.Fatalf("first apply: %+v", r)
	}
	if _, ok, _ := cache.Get(ctx, "+4930123456"); ok {
		t.Error("tenant cache entry survived the apply")
	}
	stored, err := store.LoadTenantConfig(ctx, "salon-sonnenschein")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tenantfile.Parse(tenantfile.Demo())
	if d := tenantfile.Diff(stored, want); len(d) != 0 {
		t.Fatalf("stored config differs from the file:\n%s", strings.Join(d, "\n"))
	}

	// Second apply: nothing to do.
	seedCache()
	r = runCLI(t, env, "apply", "demo")
	if r.code != 0 || !strings.Contains(r.stdout, "no changes") {
		t.Fatalf("second apply: %+v", r)
	}
	if _, ok, _ := cache.Get(ctx, "+4930123456"); !ok {
		t.Error("an apply without changes invalidated the cache")
	}

	// A changed file: the diff names what changed.
	changed := strings.Replace(string(tenantfile.Demo()), "sat: 09:00-14:00", "sat: 10:00-14:00", 1)
	path := filepath.Join(t.TempDir(), "salon.yaml")
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "apply", path)
	if r.code != 0 || !strings.Contains(r.stdout, `1 change(s):`) ||
		!strings.Contains(r.stdout, `branch "berlin-mitte": opening_hours.saturday: 09:00-14:00 → 10:00-14:00`) {
		t.Fatalf("changed apply: %+v", r)
	}

	// A bad file changes nothing and names its lines.
	bad := strings.Replace(changed, "sat: 10:00-14:00", "sat: 11:00-14:00\n      sun: 25:00-26:00", 1)
	bad = strings.Replace(bad, "Europe/Berlin ", "Europe/Berln  ", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "apply", path)
	if r.code != 1 || !strings.Contains(r.stderr, path+":") || !strings.Contains(r.stderr, "branches[0].time_zone: unknown IANA zone") ||
		!strings.Contains(r.stderr, "branches[0].opening_hours.sun") || !strings.Contains(r.stderr, "nothing was changed") {
		t.Fatalf("bad file: %+v", r)
	}
	stored, _ = store.LoadTenantConfig(ctx, "salon-sonnenschein")
	if got := stored.Branches[0].OpeningHours[6]; len(got) != 1 || got[0].Start != 10*60 {
		t.Errorf("bad file changed the database: saturday %v", got)
	}
}

func TestApplyWithRedisDownSaysSoLoudly(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.MySQLDSN(t, "scripts_tenant_redis_down")
	db, err := mysql.Open(ctx, dsn, mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := mysql.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, map[string]string{"MYSQL_DSN": dsn, "REDIS_ADDR": "127.0.0.1:1"}, "apply", "demo")
	if r.code != 0 || !strings.Contains(r.stdout, "applied") || !strings.Contains(r.stderr, "WARNING: Redis at 127.0.0.1:1") {
		t.Fatalf("%+v", r)
	}
	r = runCLI(t, map[string]string{"MYSQL_DSN": dsn}, "apply", "demo")
	if r.code != 0 || !strings.Contains(r.stdout, "no changes") {
		t.Fatalf("second apply: %+v", r)
	}
}

func TestUsageAndValidate(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate", "demo"}, {"apply"}, {"validate", "a", "b"}} {
		if r := runCLI(t, nil, args...); r.code != 2 {
			t.Errorf("%v: code %d, want 2", args, r.code)
		}
	}
	if r := runCLI(t, nil, "validate", "demo"); r.code != 0 || !strings.Contains(r.stdout, "valid") {
		t.Errorf("validate demo: %+v", r)
	}
	if r := runCLI(t, nil, "apply", "demo"); r.code != 2 || !strings.Contains(r.stderr, "MYSQL_DSN") {
		t.Errorf("apply without DSN: %+v", r)
	}
	if r := runCLI(t, nil, "validate", "/nonexistent.yaml"); r.code != 1 {
		t.Errorf("missing file: %+v", r)
	}
}
