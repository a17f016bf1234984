// Package testenv gives integration tests real MariaDB/MySQL and Redis
// connections. It never skips: when a server is unreachable the test fails
// with instructions for starting it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// DefaultMySQLDSN is the server (without database) tests use unless
// TEST_MYSQL_DSN says otherwise.
const DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/"

// DefaultRedisAddr is the Redis tests use unless TEST_REDIS_ADDR says otherwise.
const DefaultRedisAddr = "127.0.0.1:6379"

const howToStart = `start them with: make services   (or: sudo service mariadb start; redis-server --daemonize yes)
or point the tests elsewhere with TEST_MYSQL_DSN / TEST_REDIS_ADDR`

func init() {
	// Tests must never reach the instance-metadata address or real AWS.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_XRAY_SDK_DISABLED", "true")
	os.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
}

// MySQLServerDSN returns the DSN of the test server (no database selected).
func MySQLServerDSN() string {
	if v := os.Getenv("TEST_MYSQL_DSN"); v != "" {
		return v
	}
	return DefaultMySQLDSN
}

var nonWord = regexp.MustCompile(`[^a-z0-9_]+`)

// MySQLDSN creates a fresh, empty database for this test package (dropping
// an old one of the same name) and returns a DSN pointing at it. name should
// identify the package, e.g. "mysql_store"; tests of one package share it.
func MySQLDSN(t testing.TB, name string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(MySQLServerDSN())
	if err != nil {
		t.Fatalf("TEST_MYSQL_DSN is not a valid DSN: %v", err)
	}
	dbName := DatabasePrefix() + nonWord.ReplaceAllString(strings.ToLower(name), "_")
	cfg.DBName = ""
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("mysql: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB/MySQL is not reachable at %s: %v\n%s", cfg.Addr, err, howToStart)
	}
	for _, q := range []string{
		"DROP DATABASE IF EXISTS `" + dbName + "`",
		"CREATE DATABASE `" + dbName + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cfg.DBName = dbName
	return cfg.FormatDSN()
}

// MySQL opens a fresh database for this test package (see MySQLDSN).
func MySQL(t testing.TB, name string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", MySQLDSN(t, name))
	if err != nil {
		t.Fatalf("mysql: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DatabasePrefix starts the name of every test database: "gwtest_" unless
// TEST_DB_PREFIX says otherwise, so that two checkouts can run their tests
// against one server at the same time.
func DatabasePrefix() string {
	if v := os.Getenv("TEST_DB_PREFIX"); v != "" {
		return nonWord.ReplaceAllString(strings.ToLower(v), "_")
	}
	return "gwtest_"
}

// RedisAddr returns the test Redis address.
func RedisAddr() string {
	if v := os.Getenv("TEST_REDIS_ADDR"); v != "" {
		return v
	}
	return DefaultRedisAddr
}

// Redis returns a client for the test Redis and a namespace unique to this
// test; code under test must prefix its keys with it so parallel packages
// never see each other's keys. Keys under the namespace are removed after
// the test.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr(), DialTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("Redis is not reachable at %s: %v\n%s", RedisAddr(), err, howToStart)
	}
	ns := "t" + RandomHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, ns+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, ns
}

// RandomHex returns n random bytes hex-encoded.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// ModuleRoot returns the directory of the go.mod above the test's
// working directory (the repository root for the root module).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(dir + "/go.mod"); err == nil {
			return dir
		}
		parent := dir[:max(strings.LastIndex(dir, "/"), 0)]
		if parent == dir || parent == "" {
			t.Fatalf("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// ContractsDir returns the repository's copy of the external contracts
// (testdata/contracts: the Cal.com OpenAPI spec, sample webhook bodies with
// known-answer signatures, the official-SDK signing script). See its README.
func ContractsDir(t testing.TB) string {
	t.Helper()
	dir := ModuleRoot(t) + "/testdata/contracts"
	if _, err := os.Stat(dir + "/README.md"); err != nil {
		t.Fatalf("contract fixtures not found at %s: %v", dir, err)
	}
	return dir
}
