package mysql

import (
	"context"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Queries the Cal.com sync (webhooks, reconciliation) and the retry worker
// need beyond the in-call ports.

// TenantIDs lists every tenant, ordered by id (reconciliation walks them).
func (s *Store) TenantIDs(ctx context.Context) ([]string, error) {
	const op = "mysql.TenantIDs"
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, id)
	}
	return out, mapErr(op, rows.Err())
}

// ActiveAppointmentsBetween lists the tenant's pending or confirmed
// appointments starting in [from, to), with their segments, soonest first.
// limit ≤ 0 means 5000 (a safety net, not a page size).
func (s *Store) ActiveAppointmentsBetween(ctx context.Context, tenantID string, from, to time.Time, limit int) ([]booking.Appointment, error) {
	const op = "mysql.ActiveAppointmentsBetween"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 5000
	}
	return s.queryAppointments(ctx, op, tenantID, `status IN ('pending', 'confirmed') AND starts_at >= ? AND starts_at < ?
		ORDER BY starts_at, id LIMIT ?`, utcMS(from), utcMS(to), limit)
}

// ReceiptSeen reports whether (provider, eventKey) was recorded by
// RecordReceipt. Webhook handlers check it first and record only after the
// event's change committed, so a crash in between re-runs an idempotent
// change instead of losing the event.
func (s *Store) ReceiptSeen(ctx context.Context, provider, eventKey string) (bool, error) {
	const op = "mysql.ReceiptSeen"
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_receipts WHERE provider = ? AND event_key = ?`,
		provider, eventKey).Scan(&n)
	return n > 0, mapErr(op, err)
}

// ReceiptKeysWithPrefix lists the recorded event keys of a provider that
// start with prefix (e.g. "BOOKING_CANCELLED:<uid>:"), at most 100. It lets
// a late, older event see that a newer one about the same booking already
// arrived.
func (s *Store) ReceiptKeysWithPrefix(ctx context.Context, provider, prefix string) ([]string, error) {
	const op = "mysql.ReceiptKeysWithPrefix"
	if prefix == "" {
		return nil, booking.Errorf(booking.KindInvalid, op, "prefix is empty")
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
	rows, err := s.db.QueryContext(ctx, `SELECT event_key FROM webhook_receipts WHERE provider = ? AND event_key LIKE ? ORDER BY event_key LIMIT 100`,
		provider, esc+"%")
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, k)
	}
	return out, mapErr(op, rows.Err())
}
