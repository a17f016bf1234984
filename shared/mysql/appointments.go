package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/pii"
)

func notesAAD(tenantID string) []byte { return pii.AAD(tenantID, "appointments", "notes_enc") }

const apptCols = `tenant_id, id, branch_id, service_id, staff_id, customer_id, call_id, calcom_uid, status, source,
	starts_at, ends_at, notes_enc, reschedule_count, idempotency_key, needs_attention, calcom_updated_at, created_at, updated_at`

func (s *Store) scanAppointment(sc interface{ Scan(...any) error }) (*booking.Appointment, error) {
	var a booking.Appointment
	var customerID sql.NullInt64
	var uid, idem sql.NullString
	var notes []byte
	var calcomUpdated sql.NullTime
	var status string
	if err := sc.Scan(&a.TenantID, &a.ID, &a.BranchID, &a.ServiceID, &a.StaffID, &customerID, &a.CallID, &uid, &status, &a.Source,
		&a.Start, &a.End, &notes, &a.RescheduleCount, &idem, &a.NeedsAttention, &calcomUpdated, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, err
	}
	a.Status = booking.AppointmentStatus(status)
	a.CustomerID = int64Ptr(customerID)
	a.CalcomUID, a.IdempotencyKey = uid.String, idem.String
	a.CalcomUpdatedAt = timePtr(calcomUpdated)
	a.Start, a.End, a.CreatedAt, a.UpdatedAt = a.Start.UTC(), a.End.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	var err error
	if a.Notes, err = s.keys.OpenString(notes, notesAAD(a.TenantID)); err != nil {
		return nil, err
	}
	return &a, nil
}

// loadSegments attaches segment rows to appointments of one tenant.
func loadSegments(ctx context.Context, q queryer, tenantID string, appts []*booking.Appointment) error {
	if len(appts) == 0 {
		return nil
	}
	args := []any{tenantID}
	byID := map[int64]*booking.Appointment{}
	for _, a := range appts {
		args = append(args, a.ID)
		byID[a.ID] = a
		a.Segments = nil
	}
	rows, err := q.QueryContext(ctx, `SELECT appointment_id, position, event_type_id, calcom_uid, starts_at, ends_at, status
		FROM appointment_segments WHERE tenant_id = ? AND appointment_id IN (`+placeholders(len(appts))+`)
		ORDER BY appointment_id, position`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var g booking.AppointmentSegment
		var uid sql.NullString
		var status string
		if err := rows.Scan(&id, &g.Index, &g.EventTypeID, &uid, &g.Start, &g.End, &status); err != nil {
			return err
		}
		g.CalcomUID, g.Status = uid.String, booking.AppointmentStatus(status)
		g.Start, g.End = g.Start.UTC(), g.End.UTC()
		if a := byID[id]; a != nil {
			a.Segments = append(a.Segments, g)
		}
	}
	return rows.Err()
}

func insertSegments(ctx context.Context, tx *sql.Tx, a *booking.Appointment) error {
	for i := range a.Segments {
		g := &a.Segments[i]
		if g.Status == "" {
			g.Status = a.Status
		}
		g.Start, g.End = utcMS(g.Start), utcMS(g.End)
		if _, err := tx.ExecContext(ctx, `INSERT INTO appointment_segments
				(tenant_id, appointment_id, position, event_type_id, calcom_uid, starts_at, ends_at, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.TenantID, a.ID, g.Index, g.EventTypeID, nullString(g.CalcomUID), g.Start, g.End, string(g.Status)); err != nil {
			return err
		}
	}
	return nil
}

func validateAppointment(op string, a *booking.Appointment) error {
	if err := requireTenant(op, a.TenantID); err != nil {
		return err
	}
	switch {
	case a.Status == "":
		return booking.Errorf(booking.KindInvalid, op, "appointment status is required")
	case a.Start.IsZero() || a.End.Before(a.Start):
		return booking.Errorf(booking.KindInvalid, op, "appointment start/end are missing or reversed")
	case len(a.IdempotencyKey) > 64 || len(a.CalcomUID) > 64:
		return booking.Errorf(booking.KindInvalid, op, "idempotency key or Cal.com uid too long")
	}
	seen := map[int]bool{}
	for _, g := range a.Segments {
		if seen[g.Index] {
			return booking.Errorf(booking.KindInvalid, op, "segment index %d repeated", g.Index)
		}
		seen[g.Index] = true
	}
	return nil
}

// CreateAppointment inserts an appointment with its segments. When its
// idempotency key or a Cal.com uid (its own or a segment's) is already
// stored for the tenant, nothing is written and the existing appointment is
// returned together with a KindConflict error wrapping ErrDuplicate:
//
//	a, err := s.CreateAppointment(ctx, want)
//	if errors.Is(err, mysql.ErrDuplicate) && a != nil { /* replay: use a */ }
//
// A uid held by another tenant is a KindConflict with no appointment.
func (s *Store) CreateAppointment(ctx context.Context, a booking.Appointment) (*booking.Appointment, error) {
	const op = "mysql.CreateAppointment"
	if err := validateAppointment(op, &a); err != nil {
		return nil, err
	}
	notes, err := s.keys.SealString(a.Notes, notesAAD(a.TenantID))
	if err != nil {
		return nil, err
	}
	now := s.now()
	a.CreatedAt, a.UpdatedAt = now, now
	a.Start, a.End = utcMS(a.Start), utcMS(a.End)
	if a.Source == "" {
		a.Source = "phone"
	}
	uids := appointmentUIDs(&a)
	err = s.inTx(ctx, op, func(tx *sql.Tx) error {
		// The unique keys catch a uid repeated in the same table; a booking
		// uid stored as a segment and now arriving as an appointment (or the
		// reverse) is caught here.
		if len(uids) > 0 {
			args := append([]any{a.TenantID}, uids...)
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM appointments WHERE tenant_id = ? AND calcom_uid IN (`+placeholders(len(uids))+`))
				+ (SELECT COUNT(*) FROM appointment_segments WHERE tenant_id = ? AND calcom_uid IN (`+placeholders(len(uids))+`))`,
				append(args, args...)...).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return booking.Wrap(booking.KindConflict, op, ErrDuplicate, "Cal.com uid already recorded")
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO appointments (tenant_id, branch_id, service_id, staff_id, customer_id, call_id,
				calcom_uid, status, source, starts_at, ends_at, notes_enc, reschedule_count, idempotency_key, needs_attention,
				calcom_updated_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.TenantID, a.BranchID, a.ServiceID, a.StaffID, nullInt64(a.CustomerID), a.CallID,
			nullString(a.CalcomUID), string(a.Status), a.Source, a.Start, a.End, nullBytes(notes), a.RescheduleCount,
			nullString(a.IdempotencyKey), a.NeedsAttention, nullTime(a.CalcomUpdatedAt), now, now)
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return insertSegments(ctx, tx, &a)
	})
	if err == nil {
		return &a, nil
	}
	if !errors.Is(err, ErrDuplicate) {
		return nil, err
	}
	existing, ferr := s.findDuplicate(ctx, &a)
	if ferr != nil || existing == nil {
		return nil, booking.Wrap(booking.KindConflict, op, ErrDuplicate, "idempotency key or Cal.com uid already used")
	}
	return existing, booking.Wrap(booking.KindConflict, op, ErrDuplicate, "appointment already recorded")
}

// findDuplicate finds the tenant's appointment that made an insert of a fail.
func (s *Store) findDuplicate(ctx context.Context, a *booking.Appointment) (*booking.Appointment, error) {
	if a.IdempotencyKey != "" {
		if ex, err := s.AppointmentByIdempotencyKey(ctx, a.TenantID, a.IdempotencyKey); err == nil {
			return ex, nil
		}
	}
	for _, uid := range appointmentUIDs(a) {
		if ex, err := s.AppointmentByCalcomUID(ctx, a.TenantID, uid.(string)); err == nil {
			return ex, nil
		}
	}
	return nil, nil
}

// appointmentUIDs lists the distinct non-empty Cal.com uids of a and its
// segments (as query arguments).
func appointmentUIDs(a *booking.Appointment) []any {
	seen := map[string]bool{}
	var out []any
	for _, uid := range append([]string{a.CalcomUID}, segmentUIDs(a)...) {
		if uid != "" && !seen[uid] {
			seen[uid] = true
			out = append(out, uid)
		}
	}
	return out
}

func segmentUIDs(a *booking.Appointment) []string {
	out := make([]string, len(a.Segments))
	for i, g := range a.Segments {
		out[i] = g.CalcomUID
	}
	return out
}

func (s *Store) getAppointment(ctx context.Context, q queryer, tenantID, where string, lock bool, args ...any) (*booking.Appointment, error) {
	query := `SELECT ` + apptCols + ` FROM appointments WHERE tenant_id = ? AND ` + where
	if lock {
		query += ` FOR UPDATE`
	}
	a, err := s.scanAppointment(q.QueryRowContext(ctx, query, append([]any{tenantID}, args...)...))
	if err != nil {
		return nil, err
	}
	if err := loadSegments(ctx, q, tenantID, []*booking.Appointment{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// GetAppointment reads one of the tenant's appointments with its segments.
func (s *Store) GetAppointment(ctx context.Context, tenantID string, id int64) (*booking.Appointment, error) {
	const op = "mysql.GetAppointment"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	a, err := s.getAppointment(ctx, s.db, tenantID, `id = ?`, false, id)
	return a, mapErr(op, err)
}

// AppointmentByCalcomUID finds the tenant's appointment whose Cal.com uid,
// or one of whose segments' uids, is uid.
func (s *Store) AppointmentByCalcomUID(ctx context.Context, tenantID, uid string) (*booking.Appointment, error) {
	const op = "mysql.AppointmentByCalcomUID"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if uid == "" {
		return nil, booking.Errorf(booking.KindInvalid, op, "uid is empty")
	}
	a, err := s.getAppointment(ctx, s.db, tenantID, `calcom_uid = ?`, false, uid)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return a, mapErr(op, err)
	}
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT appointment_id FROM appointment_segments WHERE tenant_id = ? AND calcom_uid = ?`,
		tenantID, uid).Scan(&id); err != nil {
		return nil, mapErr(op, err)
	}
	a, err = s.getAppointment(ctx, s.db, tenantID, `id = ?`, false, id)
	return a, mapErr(op, err)
}

// AppointmentByIdempotencyKey finds the tenant's appointment created under
// that key.
func (s *Store) AppointmentByIdempotencyKey(ctx context.Context, tenantID, key string) (*booking.Appointment, error) {
	const op = "mysql.AppointmentByIdempotencyKey"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, booking.Errorf(booking.KindInvalid, op, "key is empty")
	}
	a, err := s.getAppointment(ctx, s.db, tenantID, `idempotency_key = ?`, false, key)
	return a, mapErr(op, err)
}

// UpdateAppointment implements booking.Appointments: fn sees the locked row
// and returns the new state; see UpdateAppointmentWithChanges.
func (s *Store) UpdateAppointment(ctx context.Context, tenantID string, id int64, fn func(*booking.Appointment) (*booking.Appointment, error)) (*booking.Appointment, error) {
	return s.UpdateAppointmentWithChanges(ctx, tenantID, id, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		next, err := fn(a)
		return next, nil, err
	})
}

// UpdateAppointmentWithChanges owns the transaction: it locks the row
// (SELECT … FOR UPDATE), hands fn a copy, writes what fn returns and the
// audit rows fn returns, and commits — all or nothing. fn returning (nil,
// nil, nil) changes nothing; an error aborts and is returned as is. fn may
// run more than once (after a deadlock) and must have no other effects.
// Tenant, id and creation time cannot be changed; updated_at is set.
func (s *Store) UpdateAppointmentWithChanges(ctx context.Context, tenantID string, id int64,
	fn func(*booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error)) (*booking.Appointment, error) {
	const op = "mysql.UpdateAppointment"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	var out *booking.Appointment
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		cur, err := s.getAppointment(ctx, tx, tenantID, `id = ?`, true, id)
		if err != nil {
			return err
		}
		cp := *cur
		cp.Segments = append([]booking.AppointmentSegment(nil), cur.Segments...)
		next, changes, err := fn(&cp)
		if err != nil {
			return err
		}
		if next == nil {
			out = cur
			return s.insertChanges(ctx, tx, tenantID, id, changes)
		}
		n := *next
		n.TenantID, n.ID, n.CreatedAt = cur.TenantID, cur.ID, cur.CreatedAt
		if err := validateAppointment(op, &n); err != nil {
			return err
		}
		n.UpdatedAt = s.now()
		n.Start, n.End = utcMS(n.Start), utcMS(n.End)
		notes, err := s.keys.SealString(n.Notes, notesAAD(tenantID))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE appointments SET branch_id = ?, service_id = ?, staff_id = ?, customer_id = ?,
				call_id = ?, calcom_uid = ?, status = ?, source = ?, starts_at = ?, ends_at = ?, notes_enc = ?,
				reschedule_count = ?, idempotency_key = ?, needs_attention = ?, calcom_updated_at = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ?`,
			n.BranchID, n.ServiceID, n.StaffID, nullInt64(n.CustomerID), n.CallID, nullString(n.CalcomUID), string(n.Status), n.Source,
			n.Start, n.End, nullBytes(notes), n.RescheduleCount, nullString(n.IdempotencyKey), n.NeedsAttention,
			nullTime(n.CalcomUpdatedAt), n.UpdatedAt, tenantID, id); err != nil {
			return err
		}
		if !segmentsEqual(cur.Segments, n.Segments) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM appointment_segments WHERE tenant_id = ? AND appointment_id = ?`, tenantID, id); err != nil {
				return err
			}
			if err := insertSegments(ctx, tx, &n); err != nil {
				return err
			}
		}
		if err := s.insertChanges(ctx, tx, tenantID, id, changes); err != nil {
			return err
		}
		out = &n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func segmentsEqual(a, b []booking.AppointmentSegment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Index != y.Index || x.EventTypeID != y.EventTypeID || x.CalcomUID != y.CalcomUID || x.Status != y.Status ||
			!utcMS(x.Start).Equal(utcMS(y.Start)) || !utcMS(x.End).Equal(utcMS(y.End)) {
			return false
		}
	}
	return true
}

// UpcomingAppointments lists the customer's active (pending or confirmed)
// appointments starting at or after from, soonest first.
func (s *Store) UpcomingAppointments(ctx context.Context, tenantID string, customerID int64, from time.Time, limit int) ([]booking.Appointment, error) {
	const op = "mysql.UpcomingAppointments"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	return s.queryAppointments(ctx, op, tenantID, `customer_id = ? AND status IN ('pending', 'confirmed') AND starts_at >= ?
		ORDER BY starts_at, id LIMIT ?`, customerID, utcMS(from), limit)
}

// AppointmentsBetween lists the customer's active (pending or confirmed)
// appointments starting in [from, to), earliest first, all of them: it is
// how a caller's "my appointment on <date>" is found however many
// appointments come before it. Callers keep the range small (a day); at
// most maxBetween rows are read as a guard against a runaway range.
func (s *Store) AppointmentsBetween(ctx context.Context, tenantID string, customerID int64, from, to time.Time) ([]booking.Appointment, error) {
	const op = "mysql.AppointmentsBetween"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, nil
	}
	return s.queryAppointments(ctx, op, tenantID, `customer_id = ? AND status IN ('pending', 'confirmed') AND starts_at >= ? AND starts_at < ?
		ORDER BY starts_at, id LIMIT ?`, customerID, utcMS(from), utcMS(to), maxBetween)
}

// maxBetween bounds AppointmentsBetween (no one has more appointments in a
// day, or a week, than this).
const maxBetween = 500

// CountUpcomingAppointments counts the customer's active appointments
// starting at or after from.
func (s *Store) CountUpcomingAppointments(ctx context.Context, tenantID string, customerID int64, from time.Time) (int, error) {
	const op = "mysql.CountUpcomingAppointments"
	if err := requireTenant(op, tenantID); err != nil {
		return 0, err
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM appointments
		WHERE tenant_id = ? AND customer_id = ? AND status IN ('pending', 'confirmed') AND starts_at >= ?`,
		tenantID, customerID, utcMS(from)).Scan(&n)
	return n, mapErr(op, err)
}

// CountCancellationsSince counts the customer's appointments cancelled at or
// after since, from the audit trail (changes with action "cancelled"), so a
// cancellation counts in the month it was made, whoever made it, as long as
// it was recorded with RecordChange.
func (s *Store) CountCancellationsSince(ctx context.Context, tenantID string, customerID int64, since time.Time) (int, error) {
	const op = "mysql.CountCancellationsSince"
	if err := requireTenant(op, tenantID); err != nil {
		return 0, err
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT c.appointment_id) FROM appointment_changes c
		JOIN appointments a ON a.tenant_id = c.tenant_id AND a.id = c.appointment_id
		WHERE c.tenant_id = ? AND a.customer_id = ? AND c.action = 'cancelled' AND c.created_at >= ?`,
		tenantID, customerID, utcMS(since)).Scan(&n)
	return n, mapErr(op, err)
}

// RecordChange appends one row to the appointment audit trail. Inside an
// update, return the change from UpdateAppointmentWithChanges' fn instead,
// so it commits with the update.
func (s *Store) RecordChange(ctx context.Context, c booking.AppointmentChange) error {
	const op = "mysql.RecordChange"
	if err := requireTenant(op, c.TenantID); err != nil {
		return err
	}
	return mapErr(op, s.insertChanges(ctx, s.db, c.TenantID, c.AppointmentID, []booking.AppointmentChange{c}))
}

func (s *Store) insertChanges(ctx context.Context, q queryer, tenantID string, appointmentID int64, changes []booking.AppointmentChange) error {
	for _, c := range changes {
		if c.TenantID != "" && c.TenantID != tenantID {
			return booking.Errorf(booking.KindInvalid, "mysql.RecordChange", "change belongs to another tenant")
		}
		if c.AppointmentID == 0 {
			c.AppointmentID = appointmentID
		}
		if c.AppointmentID != appointmentID || c.Action == "" || c.Actor == "" {
			return booking.Errorf(booking.KindInvalid, "mysql.RecordChange", "change needs its appointment, an action and an actor")
		}
		at := c.At
		if at.IsZero() {
			at = s.now()
		}
		before, err := stateJSON(c.Before)
		if err != nil {
			return err
		}
		after, err := stateJSON(c.After)
		if err != nil {
			return err
		}
		// INSERT … SELECT: a change can only be recorded for an appointment
		// of the same tenant.
		res, err := q.ExecContext(ctx, `INSERT INTO appointment_changes
				(tenant_id, appointment_id, action, actor, policy_outcome, fee_cents, before_state, after_state, created_at)
			SELECT tenant_id, id, ?, ?, ?, ?, ?, ?, ? FROM appointments WHERE tenant_id = ? AND id = ?`,
			c.Action, c.Actor, c.PolicyOutcome, c.FeeCents, before, after, utcMS(at), tenantID, c.AppointmentID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return booking.Errorf(booking.KindNotFound, "mysql.RecordChange", "no such appointment in this tenant")
		}
	}
	return nil
}

// AppointmentState is the PII-free snapshot of an appointment kept in the
// audit trail (notes and customer data are left out on purpose).
type AppointmentState struct {
	Status          booking.AppointmentStatus `json:"status"`
	Start           time.Time                 `json:"start"`
	End             time.Time                 `json:"end"`
	BranchID        string                    `json:"branch_id,omitempty"`
	ServiceID       string                    `json:"service_id,omitempty"`
	StaffID         string                    `json:"staff_id,omitempty"`
	CalcomUID       string                    `json:"calcom_uid,omitempty"`
	RescheduleCount int                       `json:"reschedule_count"`
	NeedsAttention  string                    `json:"needs_attention,omitempty"`
}

// SnapshotOf returns the audit snapshot of an appointment.
func SnapshotOf(a *booking.Appointment) AppointmentState {
	return AppointmentState{Status: a.Status, Start: a.Start.UTC(), End: a.End.UTC(), BranchID: a.BranchID, ServiceID: a.ServiceID,
		StaffID: a.StaffID, CalcomUID: a.CalcomUID, RescheduleCount: a.RescheduleCount, NeedsAttention: a.NeedsAttention}
}

// stateJSON marshals a Before/After value; appointments are reduced to their
// PII-free snapshot so notes never reach the audit trail.
func stateJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case booking.Appointment:
		v = SnapshotOf(&x)
	case *booking.Appointment:
		if x == nil {
			return nil, nil
		}
		v = SnapshotOf(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, booking.Wrap(booking.KindInvalid, "mysql.RecordChange", err, "before/after state is not JSON-encodable")
	}
	return b, nil
}

var _ booking.Appointments = (*Store)(nil)

// queryAppointments loads the appointments of one tenant matching where
// (which must not mention tenant_id: it is always added), with segments.
func (s *Store) queryAppointments(ctx context.Context, op, tenantID, where string, args ...any) ([]booking.Appointment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apptCols+` FROM appointments WHERE tenant_id = ? AND `+where,
		append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var ptrs []*booking.Appointment
	for rows.Next() {
		a, err := s.scanAppointment(rows)
		if err != nil {
			rows.Close()
			return nil, mapErr(op, err)
		}
		ptrs = append(ptrs, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	if err := loadSegments(ctx, s.db, tenantID, ptrs); err != nil {
		return nil, mapErr(op, err)
	}
	out := make([]booking.Appointment, len(ptrs))
	for i, a := range ptrs {
		out[i] = *a
	}
	return out, nil
}
