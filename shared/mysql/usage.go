package mysql

import (
	"context"
	"time"
)

// maxBilledDurationMS caps one call's duration in the usage sums like
// booking.ComputeCallCost does (31 days), so a corrupt row cannot overflow.
const maxBilledDurationMS = 31 * 24 * 3600 * 1000

// MinutesUsedSince returns the billed (started) minutes of the tenant's
// calls that started at or after since, except excludeCallID. Minutes are
// derived from each call's duration, ceil(duration / 60 s), so a call whose
// cost was not computed yet still counts.
func (s *Store) MinutesUsedSince(ctx context.Context, tenantID, excludeCallID string, since time.Time) (int, error) {
	const op = "mysql.MinutesUsedSince"
	if err := requireTenant(op, tenantID); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM((LEAST(duration_ms, ?) + 59999) DIV 60000), 0) AS SIGNED)
		FROM calls WHERE tenant_id = ? AND started_at >= ? AND call_id <> ? AND duration_ms > 0`,
		maxBilledDurationMS, tenantID, utcMS(since), excludeCallID).Scan(&n)
	return int(n), mapErr(op, err)
}

// MinutesUsedBefore returns the billed minutes of the tenant's calls that
// started at or after from and before the call (callID, start): earlier
// start, or the same millisecond and a smaller call id. This total does not
// change when later calls arrive, so pricing a call with it is idempotent
// (booking.CallCostInput.MinutesUsedThisMonth).
func (s *Store) MinutesUsedBefore(ctx context.Context, tenantID, callID string, from, start time.Time) (int, error) {
	const op = "mysql.MinutesUsedBefore"
	if err := requireTenant(op, tenantID); err != nil {
		return 0, err
	}
	st := utcMS(start)
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM((LEAST(duration_ms, ?) + 59999) DIV 60000), 0) AS SIGNED)
		FROM calls WHERE tenant_id = ? AND started_at >= ? AND started_at <= ? AND duration_ms > 0
			AND call_id <> ? AND (started_at < ? OR call_id < ?)`,
		maxBilledDurationMS, tenantID, utcMS(from), st, callID, st, callID).Scan(&n)
	return int(n), mapErr(op, err)
}
