package mysql

import (
	"context"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Retention purges (run daily by the retention function). Every method
// works on one tenant, computes its cutoff from the Store's clock and a
// period in days, and changes at most batch rows per statement, committing
// each statement on its own and looping until fewer than batch rows were
// due: no statement holds row locks for long, and a purge interrupted by a
// timeout simply continues the next day. They return counts only.

// DefaultRetentionBatch is the batch size when a caller passes batch <= 0.
const DefaultRetentionBatch = 500

// MinAuditRetentionDays is the shortest audit retention any Store method
// accepts: no code path can delete an audit row younger than seven years.
const MinAuditRetentionDays = 7*365 + 2

func retentionArgs(op, tenantID string, days, minDays int, batch *int) error {
	if err := requireTenant(op, tenantID); err != nil {
		return err
	}
	if days < minDays || days < 1 {
		return booking.Errorf(booking.KindInvalid, op, "retention period must be at least %d days", max(minDays, 1))
	}
	if *batch <= 0 || *batch > 10000 {
		*batch = DefaultRetentionBatch
	}
	return nil
}

// cutoff is now minus days, at column precision.
func (s *Store) cutoff(days int) time.Time { return s.now().AddDate(0, 0, -days) }

// inBatches runs a statement that ends in "LIMIT ?" (args without the
// limit) until it affects fewer than batch rows, and returns the total.
func (s *Store) inBatches(ctx context.Context, op string, batch int, query string, args ...any) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, mapErr(op, err)
		}
		var n int64
		err := withRetry(ctx, func() error {
			res, err := s.db.ExecContext(ctx, query, append(args, batch)...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, mapErr(op, err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}

// ListTenants returns every configured tenant (with its retention
// overrides), ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]booking.Tenant, error) {
	const op = "mysql.ListTenants"
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants t ORDER BY t.id`)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []booking.Tenant
	for rows.Next() {
		var t booking.Tenant
		if err := scanTenant(rows, &t); err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, t)
	}
	return out, mapErr(op, rows.Err())
}

// PurgeCallContent removes transcripts, summaries and recording links of
// the tenant's calls first recorded more than days ago. The call rows stay
// (statistics).
func (s *Store) PurgeCallContent(ctx context.Context, tenantID string, days, batch int) (int64, error) {
	const op = "mysql.PurgeCallContent"
	if err := retentionArgs(op, tenantID, days, 1, &batch); err != nil {
		return 0, err
	}
	return s.inBatches(ctx, op, batch, `UPDATE calls SET transcript_enc = NULL, summary_enc = NULL, recording_url = '', updated_at = ?
		WHERE tenant_id = ? AND created_at < ? AND (transcript_enc IS NOT NULL OR summary_enc IS NOT NULL OR recording_url <> '')
		LIMIT ?`, s.now(), tenantID, s.cutoff(days))
}

// AnonymizeOldCallers clears the caller numbers that belong to no customer
// (calls and callback requests linked to nobody) once they are older than
// days: such callers can never become "inactive customers", so this is
// their inactivity rule. Returns calls and callback requests changed.
func (s *Store) AnonymizeOldCallers(ctx context.Context, tenantID string, days, batch int) (calls, callbacks int64, err error) {
	const op = "mysql.AnonymizeOldCallers"
	if err := retentionArgs(op, tenantID, days, 1, &batch); err != nil {
		return 0, 0, err
	}
	cut := s.cutoff(days)
	callbacks, err = s.inBatches(ctx, op, batch, `UPDATE callback_requests SET phone_enc = NULL,
			status = CASE WHEN status = 'open' THEN 'erased' ELSE status END
		WHERE tenant_id = ? AND customer_id IS NULL AND created_at < ? AND phone_enc IS NOT NULL
		LIMIT ?`, tenantID, cut)
	if err != nil {
		return 0, callbacks, err
	}
	calls, err = s.inBatches(ctx, op, batch, `UPDATE calls SET from_idx = NULL, from_enc = NULL, updated_at = ?
		WHERE tenant_id = ? AND customer_id IS NULL AND created_at < ? AND (from_enc IS NOT NULL OR from_idx IS NOT NULL)
		LIMIT ?`, s.now(), tenantID, cut)
	return calls, callbacks, err
}

// InactiveCustomers lists up to limit of the tenant's not yet erased
// customers without any activity for days: not seen, no call and no
// appointment starting or changed since the cutoff. By construction they
// have no future appointment.
func (s *Store) InactiveCustomers(ctx context.Context, tenantID string, days, limit int) ([]int64, error) {
	const op = "mysql.InactiveCustomers"
	if err := retentionArgs(op, tenantID, days, 1, &limit); err != nil {
		return nil, err
	}
	cut := s.cutoff(days)
	rows, err := s.db.QueryContext(ctx, `SELECT c.id FROM customers c
		WHERE c.tenant_id = ? AND c.erased_at IS NULL AND c.last_seen_at < ?
		AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.tenant_id = c.tenant_id AND a.customer_id = c.id
			AND (a.starts_at >= ? OR a.updated_at >= ?))
		AND NOT EXISTS (SELECT 1 FROM calls k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id AND k.created_at >= ?)
		ORDER BY c.last_seen_at, c.id LIMIT ?`, tenantID, cut, cut, cut, cut, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(op, err)
		}
		ids = append(ids, id)
	}
	return ids, mapErr(op, rows.Err())
}

// PurgeIdempotencyRecords deletes the tenant's idempotency records created
// more than days ago whose replay window has passed.
func (s *Store) PurgeIdempotencyRecords(ctx context.Context, tenantID string, days, batch int) (int64, error) {
	const op = "mysql.PurgeIdempotencyRecords"
	if err := retentionArgs(op, tenantID, days, 1, &batch); err != nil {
		return 0, err
	}
	return s.inBatches(ctx, op, batch, `DELETE FROM idempotency_records WHERE tenant_id = ? AND created_at < ? AND expires_at < ? LIMIT ?`,
		tenantID, s.cutoff(days), s.now())
}

// PurgeWebhookReceipts deletes webhook receipts received more than days
// ago. tenantID "" purges the receipts recorded before their tenant was
// known (the only purge not scoped to a real tenant; receipts hold no PII).
func (s *Store) PurgeWebhookReceipts(ctx context.Context, tenantID string, days, batch int) (int64, error) {
	const op = "mysql.PurgeWebhookReceipts"
	if err := retentionArgs(op, "-", days, 1, &batch); err != nil {
		return 0, err
	}
	return s.inBatches(ctx, op, batch, `DELETE FROM webhook_receipts WHERE tenant_id = ? AND received_at < ? LIMIT ?`,
		tenantID, s.cutoff(days))
}

// PurgeExpiredAudit deletes the tenant's audit rows older than days, which
// must be at least MinAuditRetentionDays. This is the only statement in the
// code that deletes from audit_log, and nothing updates it.
func (s *Store) PurgeExpiredAudit(ctx context.Context, tenantID string, days, batch int) (int64, error) {
	const op = "mysql.PurgeExpiredAudit"
	if err := retentionArgs(op, tenantID, days, MinAuditRetentionDays, &batch); err != nil {
		return 0, err
	}
	return s.inBatches(ctx, op, batch, `DELETE FROM audit_log WHERE tenant_id = ? AND created_at < ? LIMIT ?`,
		tenantID, s.cutoff(days))
}
