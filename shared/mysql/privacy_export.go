package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/pii"
)

// Export (GDPR Art. 15): every stored fact about one person, decrypted.
// The JSON field names are the export's public format; keep them stable.

// CustomerExport is everything stored about one person in one tenant.
type CustomerExport struct {
	TenantID           string                `json:"tenant_id"`
	ExportedAt         time.Time             `json:"exported_at"`
	Customer           *ExportedCustomer     `json:"customer"` // nil: the number never became a customer
	Calls              []ExportedCall        `json:"calls"`
	Appointments       []ExportedAppointment `json:"appointments"`
	AppointmentChanges []ExportedChange      `json:"appointment_changes"`
	CallbackRequests   []ExportedCallback    `json:"callback_requests"`
}

// ExportedCustomer is the customer row, decrypted. After an erasure only
// the PII-free fields and ErasedAt remain.
type ExportedCustomer struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name,omitempty"`
	Phone      string     `json:"phone,omitempty"`
	Email      string     `json:"email,omitempty"`
	Source     string     `json:"source"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ErasedAt   *time.Time `json:"erased_at,omitempty"`
}

// ExportedCall is one phone call with transcript and summary.
type ExportedCall struct {
	CallID              string          `json:"call_id"`
	BranchID            string          `json:"branch_id,omitempty"`
	Direction           string          `json:"direction,omitempty"`
	FromNumber          string          `json:"from_number,omitempty"`
	ToNumber            string          `json:"to_number,omitempty"`
	Status              string          `json:"status"`
	StartedAt           *time.Time      `json:"started_at,omitempty"`
	EndedAt             *time.Time      `json:"ended_at,omitempty"`
	DurationMS          int64           `json:"duration_ms"`
	DisconnectionReason string          `json:"disconnection_reason,omitempty"`
	Transcript          string          `json:"transcript,omitempty"`
	Summary             string          `json:"summary,omitempty"`
	RecordingURL        string          `json:"recording_url,omitempty"`
	Sentiment           string          `json:"sentiment,omitempty"`
	CallSuccessful      *bool           `json:"call_successful,omitempty"`
	CustomAnalysis      json.RawMessage `json:"custom_analysis,omitempty"`
	DataStorageSetting  string          `json:"data_storage_setting,omitempty"`
	CustomerID          *int64          `json:"customer_id,omitempty"`
	CustomerCostCents   int64           `json:"customer_cost_eur_cents"`
	BilledMinutes       int             `json:"billed_minutes"`
}

// ExportedAppointment is one appointment with its notes and segments.
type ExportedAppointment struct {
	ID              int64             `json:"id"`
	BranchID        string            `json:"branch_id"`
	ServiceID       string            `json:"service_id"`
	StaffID         string            `json:"staff_id,omitempty"`
	CallID          string            `json:"call_id,omitempty"`
	CalcomUID       string            `json:"calcom_uid,omitempty"`
	Status          string            `json:"status"`
	Source          string            `json:"source"`
	Start           time.Time         `json:"start"`
	End             time.Time         `json:"end"`
	Notes           string            `json:"notes,omitempty"`
	RescheduleCount int               `json:"reschedule_count"`
	Segments        []ExportedSegment `json:"segments,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// ExportedSegment is one Cal.com booking of a composite appointment.
type ExportedSegment struct {
	Index       int       `json:"index"`
	EventTypeID int64     `json:"event_type_id"`
	CalcomUID   string    `json:"calcom_uid,omitempty"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Status      string    `json:"status"`
}

// ExportedChange is one row of the appointment audit trail.
type ExportedChange struct {
	ID            int64           `json:"id"`
	AppointmentID int64           `json:"appointment_id"`
	Action        string          `json:"action"`
	Actor         string          `json:"actor"`
	PolicyOutcome string          `json:"policy_outcome,omitempty"`
	FeeCents      int64           `json:"fee_cents"`
	Before        json.RawMessage `json:"before,omitempty"`
	After         json.RawMessage `json:"after,omitempty"`
	At            time.Time       `json:"at"`
}

// ExportedCallback is one callback request.
type ExportedCallback struct {
	ID        int64     `json:"id"`
	CallID    string    `json:"call_id,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// exportChunk bounds the IN lists of follow-up queries.
const exportChunk = 500

// customerPII is a customer row with what erasure and export need beyond
// booking.Customer.
type customerPII struct {
	c        ExportedCustomer
	phoneIdx []byte
}

func (s *Store) loadCustomerPII(ctx context.Context, q queryer, tenantID string, id int64, lock bool) (*customerPII, error) {
	query := `SELECT id, name_enc, phone_enc, email_enc, phone_idx, source, created_at, last_seen_at, erased_at
		FROM customers WHERE tenant_id = ? AND id = ?`
	if lock {
		query += ` FOR UPDATE`
	}
	var r customerPII
	var name, ph, email []byte
	var erased sql.NullTime
	if err := q.QueryRowContext(ctx, query, tenantID, id).Scan(&r.c.ID, &name, &ph, &email, &r.phoneIdx, &r.c.Source,
		&r.c.CreatedAt, &r.c.LastSeenAt, &erased); err != nil {
		return nil, err
	}
	r.c.CreatedAt, r.c.LastSeenAt, r.c.ErasedAt = r.c.CreatedAt.UTC(), r.c.LastSeenAt.UTC(), timePtr(erased)
	if lock {
		return &r, nil // erasure never needs the plaintexts
	}
	var err error
	if r.c.Name, err = s.keys.OpenString(name, customerAAD(tenantID, "name_enc")); err != nil {
		return nil, err
	}
	if r.c.Phone, err = s.keys.OpenString(ph, customerAAD(tenantID, "phone_enc")); err != nil {
		return nil, err
	}
	if r.c.Email, err = s.keys.OpenString(email, customerAAD(tenantID, "email_enc")); err != nil {
		return nil, err
	}
	return &r, nil
}

// ExportCustomer returns everything stored about one of the tenant's
// customers, decrypted: the customer, their calls (those linked to them and
// those from their number that were never linked to anyone), appointments
// with notes and segments, the appointment audit trail and callback
// requests. Nothing of another customer or tenant: every query names the
// tenant, and calls linked to a different customer are left out even when
// they came from the same number. NotFound when the tenant has no such
// customer. An erased customer exports as what is left (no PII).
//
// The caller writes the audit row (privacy.Service does); the Store only
// reads here.
func (s *Store) ExportCustomer(ctx context.Context, tenantID string, customerID int64) (*CustomerExport, error) {
	const op = "mysql.ExportCustomer"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	cust, err := s.loadCustomerPII(ctx, s.db, tenantID, customerID, false)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out := &CustomerExport{TenantID: tenantID, ExportedAt: s.now(), Customer: &cust.c}
	if err := s.exportCalls(ctx, out, `tenant_id = ? AND (customer_id = ? OR (customer_id IS NULL AND from_idx = ?))`,
		tenantID, customerID, nullBytes(cust.phoneIdx)); err != nil {
		return nil, mapErr(op, err)
	}
	if err := s.exportAppointments(ctx, out, customerID); err != nil {
		return nil, mapErr(op, err)
	}
	if err := s.exportCallbacks(ctx, out, &customerID); err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}

// ExportByPhone exports the person behind a phone number: the tenant's
// customer with that number (as ExportCustomer), or, when the number never
// became a customer, the calls from it and their callback requests
// (Customer nil). NotFound when nothing is stored for the number; Invalid
// for anonymous or malformed numbers.
func (s *Store) ExportByPhone(ctx context.Context, tenantID, e164 string) (*CustomerExport, error) {
	const op = "mysql.ExportByPhone"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	num, err := normalizePhone(op, e164)
	if err != nil {
		return nil, err
	}
	idx := s.keys.Index(pii.IndexPhone, tenantID, num)
	var id int64
	err = s.db.QueryRowContext(ctx, `SELECT id FROM customers WHERE tenant_id = ? AND phone_idx = ?`, tenantID, idx).Scan(&id)
	switch {
	case err == nil:
		return s.ExportCustomer(ctx, tenantID, id)
	case err != sql.ErrNoRows:
		return nil, mapErr(op, err)
	}
	out := &CustomerExport{TenantID: tenantID, ExportedAt: s.now()}
	if err := s.exportCalls(ctx, out, `tenant_id = ? AND customer_id IS NULL AND from_idx = ?`, tenantID, idx); err != nil {
		return nil, mapErr(op, err)
	}
	if len(out.Calls) == 0 {
		return nil, booking.Errorf(booking.KindNotFound, op, "nothing stored for this number")
	}
	if err := s.exportCallbacks(ctx, out, nil); err != nil {
		return nil, mapErr(op, err)
	}
	out.Appointments, out.AppointmentChanges = []ExportedAppointment{}, []ExportedChange{}
	return out, nil
}

func (s *Store) exportCalls(ctx context.Context, out *CustomerExport, where string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+callCols+` FROM calls WHERE `+where+` ORDER BY created_at, call_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	out.Calls = []ExportedCall{}
	for rows.Next() {
		r, err := scanCallRow(rows)
		if err != nil {
			return err
		}
		c, err := s.call(r)
		if err != nil {
			return err
		}
		out.Calls = append(out.Calls, ExportedCall{CallID: c.CallID, BranchID: c.BranchID, Direction: c.Direction,
			FromNumber: c.FromNumber, ToNumber: c.ToNumber, Status: string(c.Status), StartedAt: c.StartedAt, EndedAt: c.EndedAt,
			DurationMS: c.DurationMS, DisconnectionReason: c.DisconnectionReason, Transcript: c.Transcript, Summary: c.Summary,
			RecordingURL: c.RecordingURL, Sentiment: c.Sentiment, CallSuccessful: c.CallSuccessful, CustomAnalysis: c.CustomAnalysis,
			DataStorageSetting: c.DataStorageSetting, CustomerID: c.CustomerID, CustomerCostCents: c.Cost.CustomerEURCents,
			BilledMinutes: c.Cost.BilledMinutes})
	}
	return rows.Err()
}

func (s *Store) exportAppointments(ctx context.Context, out *CustomerExport, customerID int64) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apptCols+` FROM appointments WHERE tenant_id = ? AND customer_id = ?
		ORDER BY starts_at, id`, out.TenantID, customerID)
	if err != nil {
		return err
	}
	var appts []*booking.Appointment
	for rows.Next() {
		a, err := s.scanAppointment(rows)
		if err != nil {
			rows.Close()
			return err
		}
		appts = append(appts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	out.Appointments, out.AppointmentChanges = []ExportedAppointment{}, []ExportedChange{}
	for start := 0; start < len(appts); start += exportChunk {
		chunk := appts[start:min(start+exportChunk, len(appts))]
		if err := loadSegments(ctx, s.db, out.TenantID, chunk); err != nil {
			return err
		}
		ids := make([]any, 0, len(chunk)+1)
		ids = append(ids, out.TenantID)
		for _, a := range chunk {
			ids = append(ids, a.ID)
			e := ExportedAppointment{ID: a.ID, BranchID: a.BranchID, ServiceID: a.ServiceID, StaffID: a.StaffID, CallID: a.CallID,
				CalcomUID: a.CalcomUID, Status: string(a.Status), Source: a.Source, Start: a.Start, End: a.End, Notes: a.Notes,
				RescheduleCount: a.RescheduleCount, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
			for _, g := range a.Segments {
				e.Segments = append(e.Segments, ExportedSegment{Index: g.Index, EventTypeID: g.EventTypeID, CalcomUID: g.CalcomUID,
					Start: g.Start, End: g.End, Status: string(g.Status)})
			}
			out.Appointments = append(out.Appointments, e)
		}
		if err := s.exportChanges(ctx, out, ids); err != nil {
			return err
		}
	}
	return nil
}

// exportChanges reads the audit trail of appointments; args are the tenant
// followed by the appointment ids.
func (s *Store) exportChanges(ctx context.Context, out *CustomerExport, args []any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, appointment_id, action, actor, policy_outcome, fee_cents, before_state, after_state, created_at
		FROM appointment_changes WHERE tenant_id = ? AND appointment_id IN (`+placeholders(len(args)-1)+`)
		ORDER BY created_at, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c ExportedChange
		var before, after []byte
		if err := rows.Scan(&c.ID, &c.AppointmentID, &c.Action, &c.Actor, &c.PolicyOutcome, &c.FeeCents, &before, &after, &c.At); err != nil {
			return err
		}
		if len(before) > 0 {
			c.Before = json.RawMessage(before)
		}
		if len(after) > 0 {
			c.After = json.RawMessage(after)
		}
		c.At = c.At.UTC()
		out.AppointmentChanges = append(out.AppointmentChanges, c)
	}
	return rows.Err()
}

// exportCallbacks reads the callback requests of the customer (when not
// nil) and those of the exported calls that are linked to no customer.
func (s *Store) exportCallbacks(ctx context.Context, out *CustomerExport, customerID *int64) error {
	out.CallbackRequests = []ExportedCallback{}
	seen := map[int64]bool{}
	add := func(where string, args ...any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT id, call_id, phone_enc, reason, status, created_at
			FROM callback_requests WHERE tenant_id = ? AND `+where+` ORDER BY created_at, id`, append([]any{out.TenantID}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c ExportedCallback
			var enc []byte
			if err := rows.Scan(&c.ID, &c.CallID, &enc, &c.Reason, &c.Status, &c.CreatedAt); err != nil {
				return err
			}
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if c.Phone, err = s.keys.OpenString(enc, callbackAAD(out.TenantID)); err != nil {
				return err
			}
			c.CreatedAt = c.CreatedAt.UTC()
			out.CallbackRequests = append(out.CallbackRequests, c)
		}
		return rows.Err()
	}
	if customerID != nil {
		if err := add(`customer_id = ?`, *customerID); err != nil {
			return err
		}
	}
	var unlinked []any
	for _, c := range out.Calls {
		if c.CustomerID == nil {
			unlinked = append(unlinked, c.CallID)
		}
	}
	for start := 0; start < len(unlinked); start += exportChunk {
		chunk := unlinked[start:min(start+exportChunk, len(unlinked))]
		if err := add(`customer_id IS NULL AND call_id IN (`+placeholders(len(chunk))+`)`, chunk...); err != nil {
			return err
		}
	}
	return nil
}

// customerSubject is how audit rows name a customer.
func customerSubject(id int64) string { return "customer:" + strconv.FormatInt(id, 10) }
