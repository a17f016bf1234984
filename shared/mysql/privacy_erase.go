package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/platform"
)

// Erasure (GDPR Art. 17) by overwriting: every ciphertext and blind index
// of the person is set to NULL in one transaction, so nothing of them is
// left to decrypt, whatever keys survive (no crypto-shredding: the pii
// package's per-customer keys are not built). What stays are anonymous
// statistics: call and appointment rows with their times, durations,
// costs, statuses and the PII-free audit trail, so counts and sums still
// add up. The rows keep customer_id, which now points at a customer row
// holding no personal data (erased_at set), so "calls per customer"
// statistics stay possible and a retry still finds the person's future
// bookings to cancel.

// Audit actions written by privacy operations.
const (
	AuditActionExport = "privacy.export"
	AuditActionErase  = "privacy.erase"
)

// Erasure reports what EraseCustomer / EraseCaller did. It holds no PII.
type Erasure struct {
	TenantID      string     `json:"tenant_id"`
	CustomerID    int64      `json:"customer_id,omitempty"` // 0 for a number that never became a customer
	AlreadyErased bool       `json:"already_erased"`
	ErasedAt      *time.Time `json:"erased_at,omitempty"`
	// Rows whose personal fields were destroyed by this call (0 on a repeat).
	Calls              int64 `json:"calls"`
	Appointments       int64 `json:"appointments"`
	CallbackRequests   int64 `json:"callback_requests"`
	IdempotencyRecords int64 `json:"idempotency_records"`
	// FutureBookings are the person's active appointments that have not
	// started yet: the caller cancels them in Cal.com. Listed on every call,
	// repeats included, until they are cancelled, so a retry finds them.
	FutureBookings []FutureBooking `json:"future_bookings"`
}

// FutureBooking is an active appointment to cancel in Cal.com.
type FutureBooking struct {
	AppointmentID int64     `json:"appointment_id"`
	Start         time.Time `json:"start"`
	CalcomUIDs    []string  `json:"calcom_uids"` // the appointment's and its segments' uids, distinct
}

// EraseCustomer destroys the personal data of one of the tenant's
// customers (see the comment above) and appends the audit row in the same
// transaction. actor is "admin:<principal>" or "retention"; reason is free
// text for the audit (phone numbers and emails in it are masked; it must
// not name the person). Idempotent: a customer already erased changes
// nothing, AlreadyErased is true and an audit row records the attempt.
// NotFound when the tenant has no such customer.
//
// What it covers: the customer row (name, phone, email and both blind
// indexes); every call linked to the customer or from their number and
// linked to nobody (from number and its index, transcript, summary,
// recording link, custom analysis); the customer's appointments (notes);
// callback requests of the customer or of those calls (phone; open ones
// become "erased"); the stored idempotent answers of the customer's
// bookings (deleted: they may quote the name).
func (s *Store) EraseCustomer(ctx context.Context, tenantID string, customerID int64, actor, reason string) (*Erasure, error) {
	const op = "mysql.EraseCustomer"
	if err := validateErase(op, tenantID, actor, reason); err != nil {
		return nil, err
	}
	var out *Erasure
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		out = &Erasure{TenantID: tenantID, CustomerID: customerID}
		cust, err := s.loadCustomerPII(ctx, tx, tenantID, customerID, true)
		if err != nil {
			return err
		}
		now := s.now()
		if cust.c.ErasedAt != nil {
			out.AlreadyErased, out.ErasedAt = true, cust.c.ErasedAt
		} else {
			out.ErasedAt = &now
			if err := eraseCustomerRows(ctx, tx, out, cust.phoneIdx, now); err != nil {
				return err
			}
		}
		if out.FutureBookings, err = futureBookings(ctx, tx, tenantID, customerID, now); err != nil {
			return err
		}
		return insertErasureAudit(ctx, tx, out, actor, reason, customerSubject(customerID), now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EraseCaller erases the person behind a phone number: the tenant's
// customer with that number (as EraseCustomer), or, when the number never
// became a customer, the calls from it that are linked to nobody and their
// callback requests. NotFound when nothing is stored for the number (never
// was, or already erased: the blind index that would tell is gone).
func (s *Store) EraseCaller(ctx context.Context, tenantID, e164, actor, reason string) (*Erasure, error) {
	const op = "mysql.EraseCaller"
	if err := validateErase(op, tenantID, actor, reason); err != nil {
		return nil, err
	}
	num, err := normalizePhone(op, e164)
	if err != nil {
		return nil, err
	}
	idx := s.keys.Index(pii.IndexPhone, tenantID, num)
	var id int64
	err = s.db.QueryRowContext(ctx, `SELECT id FROM customers WHERE tenant_id = ? AND phone_idx = ?`, tenantID, idx).Scan(&id)
	if err == nil {
		return s.EraseCustomer(ctx, tenantID, id, actor, reason)
	}
	if err != sql.ErrNoRows {
		return nil, mapErr(op, err)
	}
	var out *Erasure
	err = s.inTx(ctx, op, func(tx *sql.Tx) error {
		now := s.now()
		out = &Erasure{TenantID: tenantID, ErasedAt: &now, FutureBookings: []FutureBooking{}}
		n, err := eraseCallerCallbacks(ctx, tx, tenantID, `customer_id IS NULL AND from_idx = ?`, idx)
		if err != nil {
			return err
		}
		out.CallbackRequests = n
		if out.Calls, err = eraseCalls(ctx, tx, tenantID, `customer_id IS NULL AND from_idx = ?`, now, idx); err != nil {
			return err
		}
		if out.Calls == 0 {
			return booking.Errorf(booking.KindNotFound, op, "nothing stored for this number")
		}
		return insertErasureAudit(ctx, tx, out, actor, reason, "caller", now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func validateErase(op, tenantID, actor, reason string) error {
	if err := requireTenant(op, tenantID); err != nil {
		return err
	}
	if actor == "" || len(actor) > 128 || len(reason) > 255 {
		return booking.Errorf(booking.KindInvalid, op, "actor (≤128) is required; reason ≤255")
	}
	return nil
}

// eraseCustomerRows overwrites everything personal of the customer locked
// by the caller. Order matters: the calls are found through the phone
// index before it is cleared.
func eraseCustomerRows(ctx context.Context, tx *sql.Tx, out *Erasure, phoneIdx []byte, now time.Time) error {
	tid, id := out.TenantID, out.CustomerID
	callsWhere := `(customer_id = ? OR (customer_id IS NULL AND from_idx = ?))`
	var err error
	// Callback requests of the customer, and of unlinked calls from the number.
	if out.CallbackRequests, err = eraseCallerCallbacks(ctx, tx, tid, callsWhere, id, nullBytes(phoneIdx)); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE callback_requests SET phone_enc = NULL,
			status = CASE WHEN status = 'open' THEN 'erased' ELSE status END
		WHERE tenant_id = ? AND customer_id = ? AND (phone_enc IS NOT NULL OR status = 'open')`, tid, id)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	out.CallbackRequests += n
	// Stored answers of the customer's bookings may quote the name.
	res, err = tx.ExecContext(ctx, `DELETE FROM idempotency_records WHERE tenant_id = ? AND idem_key IN
		(SELECT idempotency_key FROM appointments WHERE tenant_id = ? AND customer_id = ? AND idempotency_key IS NOT NULL)`, tid, tid, id)
	if err != nil {
		return err
	}
	out.IdempotencyRecords, _ = res.RowsAffected()
	if out.Calls, err = eraseCalls(ctx, tx, tid, callsWhere, now, id, nullBytes(phoneIdx)); err != nil {
		return err
	}
	res, err = tx.ExecContext(ctx, `UPDATE appointments SET notes_enc = NULL, updated_at = ? WHERE tenant_id = ? AND customer_id = ?`, now, tid, id)
	if err != nil {
		return err
	}
	out.Appointments, _ = res.RowsAffected()
	_, err = tx.ExecContext(ctx, `UPDATE customers SET name_enc = NULL, phone_enc = NULL, email_enc = NULL,
			phone_idx = NULL, email_idx = NULL, erased_at = ?
		WHERE tenant_id = ? AND id = ?`, now, tid, id)
	return err
}

// eraseCallerCallbacks clears the callback requests (linked to no customer)
// of the calls matching callsWhere; run it before the calls lose from_idx.
func eraseCallerCallbacks(ctx context.Context, tx *sql.Tx, tenantID, callsWhere string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE callback_requests SET phone_enc = NULL,
			status = CASE WHEN status = 'open' THEN 'erased' ELSE status END
		WHERE tenant_id = ? AND customer_id IS NULL AND call_id <> '' AND call_id IN
			(SELECT call_id FROM calls WHERE tenant_id = ? AND `+callsWhere+`)`,
		append([]any{tenantID, tenantID}, args...)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// eraseCalls turns the matching calls into anonymous statistics.
func eraseCalls(ctx context.Context, tx *sql.Tx, tenantID, where string, now time.Time, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE calls SET from_idx = NULL, from_enc = NULL, transcript_enc = NULL, summary_enc = NULL,
			recording_url = '', custom_analysis = NULL, updated_at = ?
		WHERE tenant_id = ? AND `+where, append([]any{now, tenantID}, args...)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// futureBookings lists the customer's active appointments starting after
// now, with every Cal.com uid they hold.
func futureBookings(ctx context.Context, q queryer, tenantID string, customerID int64, now time.Time) ([]FutureBooking, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, calcom_uid, starts_at FROM appointments
		WHERE tenant_id = ? AND customer_id = ? AND status IN ('pending', 'confirmed') AND starts_at > ?
		ORDER BY starts_at, id`, tenantID, customerID, now)
	if err != nil {
		return nil, err
	}
	out := []FutureBooking{}
	for rows.Next() {
		var b FutureBooking
		var uid sql.NullString
		if err := rows.Scan(&b.AppointmentID, &uid, &b.Start); err != nil {
			rows.Close()
			return nil, err
		}
		b.Start = b.Start.UTC()
		b.CalcomUIDs = []string{}
		if uid.String != "" {
			b.CalcomUIDs = append(b.CalcomUIDs, uid.String)
		}
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		segs, err := q.QueryContext(ctx, `SELECT calcom_uid FROM appointment_segments
			WHERE tenant_id = ? AND appointment_id = ? AND calcom_uid IS NOT NULL AND status IN ('pending', 'confirmed')
			ORDER BY position`, tenantID, out[i].AppointmentID)
		if err != nil {
			return nil, err
		}
		for segs.Next() {
			var uid string
			if err := segs.Scan(&uid); err != nil {
				segs.Close()
				return nil, err
			}
			if uid != "" && !containsString(out[i].CalcomUIDs, uid) {
				out[i].CalcomUIDs = append(out[i].CalcomUIDs, uid)
			}
		}
		segs.Close()
		if err := segs.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// erasureDetail is the PII-free audit detail of an erasure.
type erasureDetail struct {
	AlreadyErased      bool  `json:"already_erased"`
	Calls              int64 `json:"calls"`
	Appointments       int64 `json:"appointments"`
	CallbackRequests   int64 `json:"callback_requests"`
	IdempotencyRecords int64 `json:"idempotency_records"`
	FutureBookings     int   `json:"future_bookings"`
}

// insertErasureAudit appends the erasure's audit row inside its
// transaction (an erasure without its audit row never commits).
func insertErasureAudit(ctx context.Context, tx *sql.Tx, e *Erasure, actor, reason, subject string, now time.Time) error {
	detail, err := json.Marshal(erasureDetail{AlreadyErased: e.AlreadyErased, Calls: e.Calls, Appointments: e.Appointments,
		CallbackRequests: e.CallbackRequests, IdempotencyRecords: e.IdempotencyRecords, FutureBookings: len(e.FutureBookings)})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (tenant_id, actor, action, subject, reason, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.TenantID, actor, AuditActionErase, subject, auditReason(reason), detail, now)
	return err
}

// auditReason masks phone numbers and emails an admin may have typed into
// a reason (the audit log outlives every erasure) and keeps it in its column.
func auditReason(reason string) string {
	r := []rune(platform.RedactText(reason))
	if len(r) > 255 {
		r = r[:255]
	}
	return string(r)
}
