package mysql

import (
	"context"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
	"github.com/telefonagent/gateway/shared/pii"
)

// Customer ciphertexts are bound to (tenant, customers, column); the row id
// is not part of the AAD because an upsert seals before the id exists.
func customerAAD(tenantID, column string) []byte { return pii.AAD(tenantID, "customers", column) }

const customerCols = `tenant_id, id, name_enc, phone_enc, email_enc, source, created_at, last_seen_at`

func (s *Store) scanCustomer(sc interface{ Scan(...any) error }) (*booking.Customer, error) {
	var c booking.Customer
	var name, ph, email []byte
	if err := sc.Scan(&c.TenantID, &c.ID, &name, &ph, &email, &c.Source, &c.CreatedAt, &c.LastSeenAt); err != nil {
		return nil, err
	}
	var err error
	if c.Name, err = s.keys.OpenString(name, customerAAD(c.TenantID, "name_enc")); err != nil {
		return nil, err
	}
	if c.Phone, err = s.keys.OpenString(ph, customerAAD(c.TenantID, "phone_enc")); err != nil {
		return nil, err
	}
	if c.Email, err = s.keys.OpenString(email, customerAAD(c.TenantID, "email_enc")); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastSeenAt = c.CreatedAt.UTC(), c.LastSeenAt.UTC()
	return &c, nil
}

// normalizePhone returns the E.164 form or KindInvalid (anonymous numbers
// included: they identify nobody).
func normalizePhone(op, raw string) (string, error) {
	n, err := phone.NormalizeE164(raw, phone.DefaultRegion)
	if err != nil {
		return "", booking.Wrap(booking.KindInvalid, op, err, "phone number is not usable to identify a customer")
	}
	return n, nil
}

// FindCustomerByPhone finds the tenant's customer with that number (blind
// index lookup). NotFound when there is none; Invalid for anonymous or
// malformed numbers.
func (s *Store) FindCustomerByPhone(ctx context.Context, tenantID, e164 string) (*booking.Customer, error) {
	const op = "mysql.FindCustomerByPhone"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	num, err := normalizePhone(op, e164)
	if err != nil {
		return nil, err
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers
		WHERE tenant_id = ? AND phone_idx = ? AND erased_at IS NULL`, tenantID, s.keys.Index(pii.IndexPhone, tenantID, num))
	c, err := s.scanCustomer(row)
	return c, mapErr(op, err)
}

// FindCustomerByEmail finds the tenant's most recently seen customer with
// that email (emails are not unique: two people may share one).
func (s *Store) FindCustomerByEmail(ctx context.Context, tenantID, email string) (*booking.Customer, error) {
	const op = "mysql.FindCustomerByEmail"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	idx := s.keys.Index(pii.IndexEmail, tenantID, email)
	if idx == nil {
		return nil, booking.Errorf(booking.KindInvalid, op, "email is empty")
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers
		WHERE tenant_id = ? AND email_idx = ? AND erased_at IS NULL ORDER BY last_seen_at DESC, id DESC LIMIT 1`, tenantID, idx)
	c, err := s.scanCustomer(row)
	return c, mapErr(op, err)
}

// UpsertCustomerByPhone creates the tenant's customer with that number or
// updates the existing one: a non-empty name or email replaces the stored
// one (the caller just said it), an empty one never erases; last_seen_at
// moves forward. Race-safe through the unique key (tenant_id, phone_idx):
// any number of concurrent calls yield one row.
func (s *Store) UpsertCustomerByPhone(ctx context.Context, tenantID, e164, name, email string) (*booking.Customer, error) {
	const op = "mysql.UpsertCustomerByPhone"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	num, err := normalizePhone(op, e164)
	if err != nil {
		return nil, err
	}
	phoneIdx := s.keys.Index(pii.IndexPhone, tenantID, num)
	phoneEnc, err := s.keys.SealString(num, customerAAD(tenantID, "phone_enc"))
	if err != nil {
		return nil, err
	}
	nameEnc, err := s.keys.SealString(name, customerAAD(tenantID, "name_enc"))
	if err != nil {
		return nil, err
	}
	emailEnc, err := s.keys.SealString(email, customerAAD(tenantID, "email_enc"))
	if err != nil {
		return nil, err
	}
	emailIdx := s.keys.Index(pii.IndexEmail, tenantID, email)
	now := s.now()
	// Only provided values appear in the update list (rather than
	// COALESCE(?, col)): the embedded engine of the dev gateway types a
	// COALESCE of a binary parameter as text and rejects it.
	update := `last_seen_at = GREATEST(last_seen_at, ?)`
	args := []any{tenantID, phoneIdx, nullBytes(emailIdx), nullBytes(nameEnc), phoneEnc, nullBytes(emailEnc), now, now, now}
	if nameEnc != nil {
		update += `, name_enc = ?`
		args = append(args, nameEnc)
	}
	if emailEnc != nil {
		update += `, email_enc = ?, email_idx = ?`
		args = append(args, emailEnc, emailIdx)
	}
	err = withRetry(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `INSERT INTO customers
				(tenant_id, phone_idx, email_idx, name_enc, phone_enc, email_enc, source, created_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?, 'phone', ?, ?)
			ON DUPLICATE KEY UPDATE `+update, args...)
		return err
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE tenant_id = ? AND phone_idx = ?`, tenantID, phoneIdx)
	c, err := s.scanCustomer(row)
	return c, mapErr(op, err)
}

// GetCustomer reads one of the tenant's customers by id.
func (s *Store) GetCustomer(ctx context.Context, tenantID string, id int64) (*booking.Customer, error) {
	const op = "mysql.GetCustomer"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE tenant_id = ? AND id = ? AND erased_at IS NULL`, tenantID, id)
	c, err := s.scanCustomer(row)
	return c, mapErr(op, err)
}

// CreateCustomer inserts a new customer, e.g. from an online booking that
// brought an email but maybe no phone. With a phone number that the tenant
// already has, it fails with KindConflict (ErrDuplicate): use
// UpsertCustomerByPhone for phone callers.
func (s *Store) CreateCustomer(ctx context.Context, c booking.Customer) (*booking.Customer, error) {
	const op = "mysql.CreateCustomer"
	if err := requireTenant(op, c.TenantID); err != nil {
		return nil, err
	}
	tid := c.TenantID
	var phoneIdx []byte
	if c.Phone != "" {
		num, err := normalizePhone(op, c.Phone)
		if err != nil {
			return nil, err
		}
		c.Phone = num
		phoneIdx = s.keys.Index(pii.IndexPhone, tid, num)
	}
	seal := func(v, col string) ([]byte, error) { return s.keys.SealString(v, customerAAD(tid, col)) }
	nameEnc, err := seal(c.Name, "name_enc")
	if err != nil {
		return nil, err
	}
	phoneEnc, err := seal(c.Phone, "phone_enc")
	if err != nil {
		return nil, err
	}
	emailEnc, err := seal(c.Email, "email_enc")
	if err != nil {
		return nil, err
	}
	if c.Source == "" {
		c.Source = "calcom"
	}
	now := s.now()
	c.CreatedAt, c.LastSeenAt = now, now
	res, err := s.db.ExecContext(ctx, `INSERT INTO customers
			(tenant_id, phone_idx, email_idx, name_enc, phone_enc, email_enc, source, created_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tid, nullBytes(phoneIdx), nullBytes(s.keys.Index(pii.IndexEmail, tid, c.Email)), nullBytes(nameEnc), nullBytes(phoneEnc), nullBytes(emailEnc),
		c.Source, now, now)
	if err != nil {
		return nil, mapErr(op, err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return nil, mapErr(op, err)
	}
	return &c, nil
}

var _ booking.Customers = (*Store)(nil)
var _ booking.Directory = (*Store)(nil)
