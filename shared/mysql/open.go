// Package mysql is the MySQL 8.0 / MariaDB 10.11 adapter of the gateway: the
// connection pool tuned for Lambda, the embedded schema migrations, and the
// Store that implements the booking ports with tenant-scoped queries only.
package mysql

import (
	"context"
	"database/sql"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/telefonagent/gateway/shared/booking"
)

// Options tune the pool. Zero fields take the Lambda defaults below.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxIdleTime time.Duration
	ConnMaxLifetime time.Duration
	DialTimeout     time.Duration
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
}

// Lambda defaults.
//
// A Lambda instance serves one request at a time, so it needs one connection
// for its transaction plus one for a side query (audit row, receipt) while
// the transaction is open; 3 leaves headroom without letting 1000 concurrent
// instances open 10 connections each against RDS Proxy's pool.
//
// RDS Proxy closes client connections idle longer than its
// IdleClientTimeout (default 1800 s). A frozen Lambda cannot notice that, so
// we drop our idle connections long before: 4 minutes, well under the proxy's
// 30 minutes and under the MariaDB/MySQL wait_timeout of test servers, and
// connections are recycled after 10 minutes anyway so that a proxy or
// failover never hands us a stale one for long. The driver additionally
// checks a pooled connection's liveness before reuse and retries on a fresh
// one when it was closed.
//
// Timeouts are short because a caller is waiting: dial 1 s, read/write 2 s.
// A query slower than that is treated as the database being unavailable
// (KindTransient) and the webhook path falls back to the retry queue.
const (
	DefaultMaxOpenConns    = 3
	DefaultMaxIdleConns    = 2
	DefaultConnMaxIdleTime = 4 * time.Minute
	DefaultConnMaxLifetime = 10 * time.Minute
	DefaultDialTimeout     = 1 * time.Second
	DefaultReadTimeout     = 2 * time.Second
	DefaultWriteTimeout    = 2 * time.Second
	Collation              = "utf8mb4_unicode_ci"
)

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxOpenConns, DefaultMaxOpenConns)
	def(&o.MaxIdleConns, DefaultMaxIdleConns)
	if o.MaxIdleConns > o.MaxOpenConns {
		o.MaxIdleConns = o.MaxOpenConns
	}
	defD(&o.ConnMaxIdleTime, DefaultConnMaxIdleTime)
	defD(&o.ConnMaxLifetime, DefaultConnMaxLifetime)
	defD(&o.DialTimeout, DefaultDialTimeout)
	defD(&o.ReadTimeout, DefaultReadTimeout)
	defD(&o.WriteTimeout, DefaultWriteTimeout)
	return o
}

// ConfigureDSN returns dsn with the settings the Store relies on forced:
// parseTime, loc=UTC, utf8mb4_unicode_ci (sent in the handshake, no SET
// NAMES), the timeouts, and client-side
// parameter interpolation (no server-side prepared statements: one round trip
// per query instead of three, and no connection pinning in RDS Proxy).
func ConfigureDSN(dsn string, opts Options) (string, error) {
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		// The driver's message may echo the DSN, which holds a password.
		return "", booking.Errorf(booking.KindInvalid, "mysql.ConfigureDSN", "MYSQL_DSN is not a valid DSN")
	}
	o := opts.withDefaults()
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = Collation
	cfg.Timeout = o.DialTimeout
	cfg.ReadTimeout = o.ReadTimeout
	cfg.WriteTimeout = o.WriteTimeout
	cfg.InterpolateParams = true
	cfg.MultiStatements = false
	// No session variables (time_zone, sql_mode) are set: RDS Proxy pins a
	// connection that ran SET. Instants are written from Go in UTC instead,
	// never with NOW()/CURRENT_TIMESTAMP.
	return cfg.FormatDSN(), nil
}

// OpenIAM opens a pool to RDS Proxy with IAM authentication: every new
// connection gets a fresh auth token from token (valid 15 minutes) as its
// password, over TLS. No database password exists in the function.
func OpenIAM(ctx context.Context, dsn string, opts Options, token func(ctx context.Context, endpoint, user string) (string, error)) (*sql.DB, error) {
	full, err := ConfigureDSN(dsn, opts)
	if err != nil {
		return nil, err
	}
	cfg, err := driver.ParseDSN(full)
	if err != nil {
		return nil, booking.Errorf(booking.KindInvalid, "mysql.OpenIAM", "MYSQL_DSN is not a valid DSN")
	}
	cfg.AllowCleartextPasswords = true // the token travels inside TLS
	if cfg.TLSConfig == "" || cfg.TLSConfig == "false" {
		cfg.TLSConfig = "true"
	}
	if err := cfg.Apply(driver.BeforeConnect(func(ctx context.Context, c *driver.Config) error {
		t, err := token(ctx, c.Addr, c.User)
		if err != nil {
			return err
		}
		c.Passwd = t
		return nil
	})); err != nil {
		return nil, booking.Wrap(booking.KindInternal, "mysql.OpenIAM", err, "IAM auth setup")
	}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, booking.Wrap(booking.KindInvalid, "mysql.OpenIAM", err, "connector")
	}
	return configurePool(ctx, sql.OpenDB(conn), opts)
}

// Open opens a pool with the Lambda settings and pings it. A server that
// does not answer is KindTransient.
func Open(ctx context.Context, dsn string, opts Options) (*sql.DB, error) {
	full, err := ConfigureDSN(dsn, opts)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", full)
	if err != nil {
		return nil, booking.Errorf(booking.KindInvalid, "mysql.Open", "cannot open the database")
	}
	return configurePool(ctx, db, opts)
}

func configurePool(ctx context.Context, db *sql.DB, opts Options) (*sql.DB, error) {
	o := opts.withDefaults()
	db.SetMaxOpenConns(o.MaxOpenConns)
	db.SetMaxIdleConns(o.MaxIdleConns)
	db.SetConnMaxIdleTime(o.ConnMaxIdleTime)
	db.SetConnMaxLifetime(o.ConnMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, mapErr("mysql.Open", err)
	}
	return db, nil
}
