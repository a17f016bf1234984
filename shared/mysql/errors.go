package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/telefonagent/gateway/shared/booking"
)

// MySQL/MariaDB error numbers we act on.
const (
	errDupEntry        = 1062
	errLockWaitTimeout = 1205
	errDeadlock        = 1213
	errRowIsReferenced = 1451
	errNoReferencedRow = 1452
	errTooManyConns    = 1040
	errConCount        = 1203
	errServerShutdown  = 1053
	errQueryInterrupt  = 1317
	errReadOnly        = 1290 // --read-only during a failover
	errReadOnlyTx      = 1792
)

// ErrDuplicate is wrapped (with KindConflict) when a unique key already
// holds the row: CreateAppointment returns it together with the existing
// row.
var ErrDuplicate = errors.New("mysql: duplicate")

func driverErrNo(err error) uint16 {
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func isDuplicate(err error) bool { return driverErrNo(err) == errDupEntry }

// retryable: the transaction was rolled back by the server and may simply
// run again.
func retryable(err error) bool {
	switch driverErrNo(err) {
	case errDeadlock, errLockWaitTimeout:
		return true
	}
	return false
}

// mapErr gives a database error its kind. Messages are fixed texts: the
// driver's own text may quote values and never becomes the Message.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var be *booking.Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return booking.Wrap(booking.KindNotFound, op, err, "not found")
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return booking.Wrap(booking.KindTransient, op, err, "database call timed out or was cancelled")
	}
	switch driverErrNo(err) {
	case errDupEntry:
		return booking.Wrap(booking.KindConflict, op, errors.Join(ErrDuplicate, err), "already exists")
	case errDeadlock, errLockWaitTimeout, errTooManyConns, errConCount, errServerShutdown, errQueryInterrupt, errReadOnly, errReadOnlyTx:
		return booking.Wrap(booking.KindTransient, op, err, "database busy or unavailable")
	case errNoReferencedRow:
		return booking.Wrap(booking.KindInvalid, op, err, "refers to a row that does not exist")
	case errRowIsReferenced:
		return booking.Wrap(booking.KindConflict, op, err, "row is still referenced")
	case 0:
	default:
		return booking.Wrap(booking.KindInternal, op, err, "database error")
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldriver.ErrInvalidConn) || errors.As(err, &ne) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, net.ErrClosed) {
		return booking.Wrap(booking.KindTransient, op, err, "database unreachable")
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return booking.Wrap(booking.KindTransient, op, err, "database unreachable")
	}
	return booking.Wrap(booking.KindInternal, op, err, "database error")
}

// maxAttempts bounds how often a transaction that lost a deadlock or a lock
// wait is run again before the caller sees KindTransient.
const maxAttempts = 6

// withRetry runs fn again after deadlocks and lock wait timeouts, with a
// short jittered backoff (the caller is on the phone: the whole budget stays
// well under a second).
func withRetry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		backoff := time.Duration(2<<attempt)*time.Millisecond + rand.N(5*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
	}
	return err
}
