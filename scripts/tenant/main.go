// Command tenant validates and applies tenant files (tenants as code):
//
//	go run ./scripts/tenant validate FILE
//	go run ./scripts/tenant apply FILE [-dsn DSN] [-dry-run]
//
// apply parses and validates FILE (a bad file changes nothing: every
// problem is printed as FILE:LINE: field: message, exit 1), loads the
// tenant's stored config from MySQL, prints what would change, writes it in
// one transaction, then drops the Redis tenant cache of the tenant's old and
// new numbers. FILE "demo" means the embedded demo tenant.
//
// Environment: MYSQL_DSN (or -dsn); REDIS_ADDR, REDIS_PASSWORD, REDIS_TLS=true,
// REDIS_KEY_PREFIX (default "gw:") for the cache. The schema must exist
// (go run ./scripts/migrate).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/tenantfile"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

const usage = `usage:
  go run ./scripts/tenant validate FILE
  go run ./scripts/tenant apply FILE [-dsn DSN] [-dry-run]
FILE "demo" is the embedded demo tenant.`

// run is main without the process: it returns the exit code (0 done,
// 1 invalid file or failure, 2 usage).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", getenv("MYSQL_DSN"), "MySQL DSN (default $MYSQL_DSN)")
	dryRun := fs.Bool("dry-run", false, "print the changes, write nothing")
	// Flags may come before or after FILE.
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	rest := fs.Args()
	if len(rest) < 1 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	file := rest[0]
	if err := fs.Parse(rest[1:]); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if cmd != "validate" && cmd != "apply" {
		fmt.Fprintln(stderr, usage)
		return 2
	}

	name, data, err := readFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "tenant: %v\n", err)
		return 1
	}
	cfg, err := tenantfile.Parse(data)
	if err != nil {
		if ps := tenantfile.ProblemsOf(err); len(ps) > 0 {
			fmt.Fprint(stderr, ps.Format(name))
			fmt.Fprintf(stderr, "%s: %d problem(s); nothing was changed\n", name, len(ps))
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid: tenant %q, %d branch(es), %d phone number(s), %d service(s), %d staff\n",
		name, cfg.Tenant.ID, len(cfg.Branches), len(cfg.PhoneNumbers), len(cfg.Services), len(cfg.Staff))
	if cmd == "validate" {
		return 0
	}

	if *dsn == "" {
		fmt.Fprintln(stderr, "tenant: no database: set MYSQL_DSN or pass -dsn")
		return 2
	}
	store, closeStore, err := openStore(ctx, *dsn)
	if err != nil {
		fmt.Fprintf(stderr, "tenant: %v\n", err)
		return 1
	}
	defer closeStore()

	invalidate, redisAddr, closeRedis := tenantCache(getenv)
	defer closeRedis()

	res, err := tenantfile.Apply(ctx, store, cfg, invalidate, *dryRun)
	if err != nil {
		fmt.Fprintf(stderr, "tenant: %v\nnothing was changed\n", err)
		return 1
	}
	if len(res.Changes) == 0 {
		fmt.Fprintln(stdout, "no changes: the database already matches the file")
		return 0
	}
	if res.Created {
		fmt.Fprintf(stdout, "new tenant %q\n", cfg.Tenant.ID)
	}
	fmt.Fprintf(stdout, "%d change(s):\n", len(res.Changes))
	for _, c := range res.Changes {
		fmt.Fprintf(stdout, "  %s\n", c)
	}
	if *dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was written")
		return 0
	}
	fmt.Fprintln(stdout, "applied in one transaction")
	switch {
	case invalidate == nil:
		fmt.Fprintf(stderr, "WARNING: REDIS_ADDR is not set: the tenant cache was NOT invalidated.\n"+
			"         Calls may route by the old config for up to %v (the cache TTL).\n", redis.DefaultTenantTTL)
	case res.CacheErr != nil:
		fmt.Fprintf(stderr, "WARNING: Redis at %s failed (%s): the tenant cache was NOT invalidated.\n"+
			"         Calls may route by the old config for up to %v (the cache TTL).\n",
			redisAddr, booking.MessageOf(res.CacheErr), redis.DefaultTenantTTL)
	default:
		fmt.Fprintf(stdout, "tenant cache invalidated for %d number(s)\n", len(res.Invalidated))
	}
	return 0
}

func readFile(file string) (name string, data []byte, err error) {
	if file == "demo" {
		return "demo.yaml", tenantfile.Demo(), nil
	}
	info, err := os.Stat(file)
	if err != nil {
		return file, nil, err
	}
	if info.Size() > tenantfile.MaxFileSize {
		return file, nil, fmt.Errorf("%s is larger than %d bytes", file, tenantfile.MaxFileSize)
	}
	data, err = os.ReadFile(file)
	return filepath.Clean(file), data, err
}

// openStore connects the real MySQL store. The tenant config holds no
// personal data, so the store gets no PII keyring.
func openStore(ctx context.Context, dsn string) (tenantfile.Store, func(), error) {
	db, err := mysql.Open(ctx, dsn, mysql.Options{ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	return mysql.NewStore(db, nil, nil), func() { db.Close() }, nil
}

// tenantCache returns the invalidation of the Redis tenant cache, or nil
// when REDIS_ADDR is unset.
func tenantCache(getenv func(string) string) (tenantfile.InvalidateFunc, string, func()) {
	addr := getenv("REDIS_ADDR")
	if addr == "" {
		return nil, "", func() {}
	}
	prefix := getenv("REDIS_KEY_PREFIX")
	if prefix == "" {
		prefix = redis.DefaultPrefix
	}
	useTLS, _ := strconv.ParseBool(getenv("REDIS_TLS"))
	client := redis.NewClient(redis.Options{
		Addr: addr, Password: getenv("REDIS_PASSWORD"), TLS: useTLS,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, // an operator waits, not a caller
	})
	cache := &redis.TenantCache{Client: client, Keys: redis.Keys{Prefix: prefix}}
	return cache.Invalidate, addr, func() { client.Close() }
}
