package mysql

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/pii"
)

// IdempotencyRecord is one row of idempotency_records. Response is the
// stored answer of a complete operation (decrypted: it may quote a name).
type IdempotencyRecord struct {
	TenantID  string
	Key       string
	Operation string
	Status    booking.IdempotencyState // IdemInProgress or IdemComplete
	Response  []byte
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

func responseAAD(tenantID, key string) []byte {
	return pii.AAD(tenantID, "idempotency_records", "response", key)
}

func (s *Store) getIdempotent(ctx context.Context, tenantID, key string) (*IdempotencyRecord, error) {
	var r IdempotencyRecord
	var status string
	var resp []byte
	err := s.db.QueryRowContext(ctx, `SELECT tenant_id, idem_key, operation, status, response, expires_at, created_at, updated_at
		FROM idempotency_records WHERE tenant_id = ? AND idem_key = ?`, tenantID, key).
		Scan(&r.TenantID, &r.Key, &r.Operation, &status, &resp, &r.ExpiresAt, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	r.Status = booking.IdempotencyState(status)
	r.ExpiresAt, r.CreatedAt, r.UpdatedAt = r.ExpiresAt.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if r.Response, err = s.keys.Open(resp, responseAAD(tenantID, key)); len(resp) > 0 && err != nil {
		return nil, err
	}
	if len(resp) == 0 {
		r.Response = nil
	}
	return &r, nil
}

// BeginIdempotent claims (tenant, key) for an operation. started is true
// when the caller now owns it (a new row in_progress, or an expired record
// taken over) and must Complete or Abandon it. Otherwise existing is the
// record someone else holds: complete (replay existing.Response) or
// in_progress (wait briefly or answer "in progress"). The same key used for
// another operation is KindConflict.
func (s *Store) BeginIdempotent(ctx context.Context, tenantID, key, operation string, ttl time.Duration) (existing *IdempotencyRecord, started bool, err error) {
	const op = "mysql.BeginIdempotent"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, false, err
	}
	if key == "" || len(key) > 64 || operation == "" || len(operation) > 32 || ttl <= 0 {
		return nil, false, booking.Errorf(booking.KindInvalid, op, "key (≤64), operation (≤32) and a positive ttl are required")
	}
	for attempt := 0; attempt < 4; attempt++ {
		now := s.now()
		expires := now.Add(ttl)
		_, err := s.db.ExecContext(ctx, `INSERT INTO idempotency_records
				(tenant_id, idem_key, operation, status, response, expires_at, created_at, updated_at)
			VALUES (?, ?, ?, 'in_progress', NULL, ?, ?, ?)`, tenantID, key, operation, expires, now, now)
		if err == nil {
			return nil, true, nil
		}
		if !isDuplicate(err) {
			return nil, false, mapErr(op, err)
		}
		rec, err := s.getIdempotent(ctx, tenantID, key)
		if errors.Is(err, sql.ErrNoRows) {
			continue // abandoned between our insert and read: try again
		}
		if err != nil {
			return nil, false, mapErr(op, err)
		}
		if rec.Operation != operation {
			return nil, false, booking.Errorf(booking.KindConflict, op, "idempotency key already used for another operation")
		}
		if rec.ExpiresAt.After(now) {
			return rec, false, nil
		}
		// Expired: take it over, unless someone else just did.
		res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records
			SET status = 'in_progress', response = NULL, expires_at = ?, created_at = ?, updated_at = ?
			WHERE tenant_id = ? AND idem_key = ? AND expires_at = ?`, expires, now, now, tenantID, key, rec.ExpiresAt)
		if err != nil {
			return nil, false, mapErr(op, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil, true, nil
		}
	}
	return nil, false, booking.Errorf(booking.KindTransient, op, "idempotency record keeps changing")
}

// CompleteIdempotent stores the final answer of an operation the caller
// began. NotFound when there is no in-progress record (expired and taken
// over, or abandoned).
func (s *Store) CompleteIdempotent(ctx context.Context, tenantID, key string, response []byte) error {
	const op = "mysql.CompleteIdempotent"
	if err := requireTenant(op, tenantID); err != nil {
		return err
	}
	enc, err := s.keys.Seal(response, responseAAD(tenantID, key))
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE idempotency_records SET status = 'complete', response = ?, updated_at = ?
		WHERE tenant_id = ? AND idem_key = ? AND status = 'in_progress'`, enc, s.now(), tenantID, key)
	if err != nil {
		return mapErr(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return booking.Errorf(booking.KindNotFound, op, "no in-progress record for this key")
	}
	return nil
}

// AbandonIdempotent deletes an in-progress record whose operation
// definitely had no effect, so a retry may run it. Complete records stay.
func (s *Store) AbandonIdempotent(ctx context.Context, tenantID, key string) error {
	const op = "mysql.AbandonIdempotent"
	if err := requireTenant(op, tenantID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_records WHERE tenant_id = ? AND idem_key = ? AND status = 'in_progress'`, tenantID, key)
	return mapErr(op, err)
}

// Idempotency adapts the Store to booking.Idempotency.
func (s *Store) Idempotency() booking.Idempotency { return idempotency{s} }

type idempotency struct{ s *Store }

func (i idempotency) Begin(ctx context.Context, tenantID, key, operation string, ttl time.Duration) (booking.IdempotencyState, []byte, error) {
	rec, started, err := i.s.BeginIdempotent(ctx, tenantID, key, operation, ttl)
	switch {
	case err != nil:
		return "", nil, err
	case started:
		return booking.IdemNew, nil, nil
	case rec.Status == booking.IdemComplete:
		return booking.IdemComplete, rec.Response, nil
	}
	return booking.IdemInProgress, nil, nil
}

func (i idempotency) Complete(ctx context.Context, tenantID, key string, response []byte) error {
	return i.s.CompleteIdempotent(ctx, tenantID, key, response)
}

func (i idempotency) Abandon(ctx context.Context, tenantID, key string) error {
	return i.s.AbandonIdempotent(ctx, tenantID, key)
}
