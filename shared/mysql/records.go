package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
	"github.com/telefonagent/gateway/shared/pii"
)

// RecordReceipt notes that a webhook event was received. firstTime is false
// when (provider, eventKey) was already recorded: the event is a repeat.
// The key is global (providers' event ids are); tenant is stored for
// retention and may be "" when not yet known.
func (s *Store) RecordReceipt(ctx context.Context, provider, eventKey, tenantID string) (bool, error) {
	const op = "mysql.RecordReceipt"
	if provider == "" || eventKey == "" || len(provider) > 16 || len(eventKey) > 255 {
		return false, booking.Errorf(booking.KindInvalid, op, "provider (≤16) and event key (≤255) are required")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhook_receipts (provider, event_key, tenant_id, received_at) VALUES (?, ?, ?, ?)`,
		provider, eventKey, tenantID, s.now())
	if err == nil {
		return true, nil
	}
	if isDuplicate(err) {
		return false, nil
	}
	return false, mapErr(op, err)
}

// SignatureReceipts is the webhook_receipts provider under which
// ClaimSignature notes which call a signed function body was used for.
const SignatureReceipts = "retell_fn_sig"

// ClaimSignature binds one signed request (a retell.SignatureID) to the
// call it acts for. It reports true when the signature has been used for
// no other call: the first use claims it, and repeats for the same call
// (Retell retrying, a replay of the same request) still pass. Once any
// other call id was presented with the same signature, the claim fails
// for every call, so one signed body can never act for two calls. The
// key is global, not per tenant: the Retell key signs for all tenants.
func (s *Store) ClaimSignature(ctx context.Context, tenantID, signatureID, callID string) (bool, error) {
	const op = "mysql.ClaimSignature"
	if signatureID == "" || callID == "" || strings.Contains(signatureID, "|") {
		return false, booking.Errorf(booking.KindInvalid, op, "signature id and call id are required")
	}
	prefix := signatureID + "|"
	if _, err := s.RecordReceipt(ctx, SignatureReceipts, prefix+callID, tenantID); err != nil {
		return false, mapErr(op, err)
	}
	// Every call this signature was presented with, ours included: two
	// concurrent claims for different calls both see both and both fail.
	keys, err := s.ReceiptKeysWithPrefix(ctx, SignatureReceipts, prefix)
	if err != nil {
		return false, mapErr(op, err)
	}
	// The column compares case-insensitively, and so do we.
	return len(keys) == 1 && strings.EqualFold(keys[0], prefix+callID), nil
}

// CallbackRequest is a request that a human calls someone back.
type CallbackRequest struct {
	ID         int64
	TenantID   string
	BranchID   string
	CallID     string
	CustomerID *int64
	Phone      string // E.164 or "" (withheld number)
	Reason     string
	Status     string
	CreatedAt  time.Time
}

func callbackAAD(tenantID string) []byte { return pii.AAD(tenantID, "callback_requests", "phone_enc") }

// RecordCallback records that someone should be called back. Idempotent per
// (tenant, call, reason): a repeat changes nothing, except that a number
// given later in the call (a withheld-number caller saying where to call
// back) fills a request that had none. The phone is sealed; an anonymous
// number is stored as none.
func (s *Store) RecordCallback(ctx context.Context, tenantID, branchID, callID string, customerID *int64, phoneNumber, reason string) error {
	const op = "mysql.RecordCallback"
	if err := requireTenant(op, tenantID); err != nil {
		return err
	}
	if reason == "" || len(reason) > 64 {
		return booking.Errorf(booking.KindInvalid, op, "reason (≤64) is required")
	}
	if n, err := phone.NormalizeE164(phoneNumber, phone.DefaultRegion); err == nil {
		phoneNumber = n
	} else if phone.IsAnonymous(phoneNumber) {
		phoneNumber = ""
	}
	enc, err := s.keys.SealString(phoneNumber, callbackAAD(tenantID))
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO callback_requests (tenant_id, branch_id, call_id, customer_id, phone_enc, reason, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'open', ?)
		ON DUPLICATE KEY UPDATE phone_enc = COALESCE(phone_enc, VALUES(phone_enc))`,
		tenantID, branchID, callID, nullInt64(customerID), nullBytes(enc), reason, s.now())
	return mapErr(op, err)
}

// OpenCallbacks lists the tenant's open callback requests, oldest first.
func (s *Store) OpenCallbacks(ctx context.Context, tenantID string, limit int) ([]CallbackRequest, error) {
	const op = "mysql.OpenCallbacks"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, tenant_id, branch_id, call_id, customer_id, phone_enc, reason, status, created_at
		FROM callback_requests WHERE tenant_id = ? AND status = 'open' ORDER BY created_at, id LIMIT ?`, tenantID, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []CallbackRequest
	for rows.Next() {
		var c CallbackRequest
		var cust struct{ n sql.NullInt64 }
		var enc []byte
		if err := rows.Scan(&c.ID, &c.TenantID, &c.BranchID, &c.CallID, &cust.n, &enc, &c.Reason, &c.Status, &c.CreatedAt); err != nil {
			return nil, mapErr(op, err)
		}
		c.CustomerID = int64Ptr(cust.n)
		c.CreatedAt = c.CreatedAt.UTC()
		if c.Phone, err = s.keys.OpenString(enc, callbackAAD(tenantID)); err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, c)
	}
	return out, mapErr(op, rows.Err())
}

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID        int64
	TenantID  string
	Actor     string // function name, call:<id>, admin:<principal>
	Action    string
	Subject   string // e.g. customer:42, appointment:7
	Reason    string
	Detail    json.RawMessage // PII-free by contract
	CreatedAt time.Time
}

// AppendAudit appends one entry to the audit log. There is deliberately no
// method that updates or deletes audit rows (retention purges expired rows
// with its own statement). detail must hold no personal data; it is stored
// as JSON.
func (s *Store) AppendAudit(ctx context.Context, tenantID, actor, action, subject, reason string, detail any) error {
	const op = "mysql.AppendAudit"
	if err := requireTenant(op, tenantID); err != nil {
		return err
	}
	if actor == "" || action == "" || len(actor) > 128 || len(action) > 64 || len(subject) > 128 || len(reason) > 255 {
		return booking.Errorf(booking.KindInvalid, op, "actor (≤128) and action (≤64) are required; subject ≤128, reason ≤255")
	}
	var d any
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return booking.Wrap(booking.KindInvalid, op, err, "detail is not JSON-encodable")
		}
		d = b
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (tenant_id, actor, action, subject, reason, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, actor, action, subject, reason, d, s.now())
	return mapErr(op, err)
}

// AuditEntries lists the tenant's audit entries, newest first, optionally
// only those of one subject ("" = all).
func (s *Store) AuditEntries(ctx context.Context, tenantID, subject string, limit int) ([]AuditEntry, error) {
	const op = "mysql.AuditEntries"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT id, tenant_id, actor, action, subject, reason, detail, created_at FROM audit_log WHERE tenant_id = ?`
	args := []any{tenantID}
	if subject != "" {
		q += ` AND subject = ?`
		args = append(args, subject)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var detail []byte
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Actor, &e.Action, &e.Subject, &e.Reason, &detail, &e.CreatedAt); err != nil {
			return nil, mapErr(op, err)
		}
		if len(detail) > 0 {
			e.Detail = json.RawMessage(detail)
		}
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, mapErr(op, rows.Err())
}

var _ booking.Callbacks = (*Store)(nil)
