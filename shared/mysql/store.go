package mysql

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/pii"
)

// Store implements the booking ports on MySQL. Every method that touches
// tenant data takes the tenant id and names it in the WHERE clause or key of
// every statement, so no call can read or change another tenant's rows. The
// only lookups not scoped by a tenant are the ones that find the tenant:
// ResolveNumber (dialled number), ServiceByEventType (Cal.com event type) and
// webhook receipts (keyed by provider event).
//
// Personal data (customer name/phone/email, call from-number, transcript,
// summary, appointment notes, callback phone, stored idempotent responses)
// is sealed with the keyring; phone numbers and emails are found through
// blind indexes.
type Store struct {
	db    *sql.DB
	keys  *pii.Keyring
	clock booking.Clock
}

// NewStore wires a Store. clock nil means the system clock.
func NewStore(db *sql.DB, keys *pii.Keyring, clock booking.Clock) *Store {
	if clock == nil {
		clock = booking.SystemClock
	}
	return &Store{db: db, keys: keys, clock: clock}
}

// DB returns the pool (for health checks and migrations).
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr("mysql.Ping", s.db.PingContext(ctx))
}

// now is the clock in UTC at the columns' millisecond precision, so what we
// return equals what a later read returns.
func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

func utcMS(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// inTx runs fn in a transaction, running it again (fn included) after a
// deadlock or lock wait timeout. fn must therefore have no effects outside
// the transaction.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	err := withRetry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	return mapErr(op, err)
}

func requireTenant(op, tenantID string) error {
	if strings.TrimSpace(tenantID) == "" {
		return booking.Errorf(booking.KindInvalid, op, "tenant id is required")
	}
	return nil
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return utcMS(*t)
}

func timePtr(nt sql.NullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	t := nt.Time.UTC()
	return &t
}

func nullInt64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func int64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// nullBytes makes an empty slice NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
