// Package privacy implements the GDPR operations of the gateway: export of
// everything stored about a person (Art. 15), erasure (Art. 17) including
// the cancellation of their future Cal.com bookings, the admin HTTP routes
// of the privacy function, and the daily retention purge.
//
// Erasure overwrites (no crypto-shredding): see mysql.EraseCustomer. Every
// export and erasure appends an audit row; an export whose audit row cannot
// be written is not returned.
package privacy

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
)

// Canceller cancels a Cal.com booking of a tenant; booking.Calendar and
// calcom.Calendar satisfy it. Cancelling an already cancelled booking must
// succeed (calcom.Calendar does).
type Canceller interface {
	Cancel(ctx context.Context, tenant booking.Tenant, uid, reason string) error
}

// CancelReason is what Cal.com records (and may show the business) for a
// booking cancelled by an erasure. Fixed text: never the admin's reason.
const CancelReason = "Personenbezogene Daten auf Anfrage gelöscht (DSGVO Art. 17)"

// ActorRetention is the audit actor of erasures made by the retention run.
const ActorRetention = "retention"

// AdminActor is the audit actor of an admin principal.
func AdminActor(principal string) string { return "admin:" + principal }

// Service runs exports and erasures.
type Service struct {
	Store    *mysql.Store
	Calendar Canceller    // nil: future bookings are reported as pending, never cancelled
	Logger   *slog.Logger // counts and ids only; nil discards
}

// ExportCustomer exports one customer and audits it. actor is
// AdminActor(principal).
func (s *Service) ExportCustomer(ctx context.Context, tenantID string, customerID int64, actor string) (*mysql.CustomerExport, error) {
	exp, err := s.Store.ExportCustomer(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	if err := s.auditExport(ctx, tenantID, actor, false, exp); err != nil {
		return nil, err
	}
	return exp, nil
}

// ExportByPhone exports the person behind a number and audits it.
func (s *Service) ExportByPhone(ctx context.Context, tenantID, e164, actor string) (*mysql.CustomerExport, error) {
	exp, err := s.Store.ExportByPhone(ctx, tenantID, e164)
	if err != nil {
		return nil, err
	}
	if err := s.auditExport(ctx, tenantID, actor, true, exp); err != nil {
		return nil, err
	}
	return exp, nil
}

// exportDetail is the PII-free audit detail of an export.
type exportDetail struct {
	ByPhone            bool `json:"by_phone"`
	Calls              int  `json:"calls"`
	Appointments       int  `json:"appointments"`
	AppointmentChanges int  `json:"appointment_changes"`
	CallbackRequests   int  `json:"callback_requests"`
}

func (s *Service) auditExport(ctx context.Context, tenantID, actor string, byPhone bool, exp *mysql.CustomerExport) error {
	subject := "caller"
	if exp.Customer != nil {
		subject = "customer:" + strconv.FormatInt(exp.Customer.ID, 10)
	}
	err := s.Store.AppendAudit(ctx, tenantID, actor, mysql.AuditActionExport, subject, "", exportDetail{ByPhone: byPhone,
		Calls: len(exp.Calls), Appointments: len(exp.Appointments), AppointmentChanges: len(exp.AppointmentChanges),
		CallbackRequests: len(exp.CallbackRequests)})
	if err != nil {
		return booking.Wrap(booking.KindOf(err), "privacy.Export", err, "export not returned: its audit row could not be written")
	}
	return nil
}

// ErasureResult is an erasure and what happened to the person's future
// Cal.com bookings. It holds no PII.
type ErasureResult struct {
	mysql.Erasure
	// Cancelled lists appointments cancelled in Cal.com (and marked
	// cancelled here) by this call.
	Cancelled []int64 `json:"cancelled_appointments"`
	// Pending lists future appointments still active in Cal.com because a
	// cancel failed: erase again (or enqueue) to retry; the personal data
	// is already gone either way.
	Pending []PendingCancel `json:"pending_cancellations"`
}

// PendingCancel is a future appointment whose Cal.com cancel failed.
type PendingCancel struct {
	AppointmentID int64        `json:"appointment_id"`
	Kind          booking.Kind `json:"error_kind"`
}

// Complete reports whether nothing is left to do.
func (r *ErasureResult) Complete() bool { return len(r.Pending) == 0 }

// EraseCustomer erases one customer (mysql.EraseCustomer) and then cancels
// their future Cal.com bookings. The database erasure is complete and
// committed before Cal.com is called; cancel failures are listed in
// Pending (and joined into CalendarErr) so the caller can retry: a repeat
// reports AlreadyErased and retries exactly the bookings still active.
func (s *Service) EraseCustomer(ctx context.Context, tenantID string, customerID int64, actor, reason string) (*ErasureResult, error) {
	e, err := s.Store.EraseCustomer(ctx, tenantID, customerID, actor, reason)
	if err != nil {
		return nil, err
	}
	return s.cancelFuture(ctx, e, actor)
}

// EraseCaller erases the person behind a number (mysql.EraseCaller) and
// cancels their future bookings like EraseCustomer.
func (s *Service) EraseCaller(ctx context.Context, tenantID, e164, actor, reason string) (*ErasureResult, error) {
	e, err := s.Store.EraseCaller(ctx, tenantID, e164, actor, reason)
	if err != nil {
		return nil, err
	}
	return s.cancelFuture(ctx, e, actor)
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// cancelFuture cancels every future booking of the erasure in Cal.com and
// marks the appointment cancelled (with an audit-trail change) once all its
// uids are cancelled.
func (s *Service) cancelFuture(ctx context.Context, e *mysql.Erasure, actor string) (*ErasureResult, error) {
	res := &ErasureResult{Erasure: *e, Cancelled: []int64{}, Pending: []PendingCancel{}}
	if len(e.FutureBookings) == 0 {
		return res, nil
	}
	var tenant booking.Tenant
	if s.Calendar != nil {
		cfg, err := s.Store.LoadTenantConfig(ctx, e.TenantID)
		if err != nil {
			// The erasure is committed; the bookings stay pending.
			for _, fb := range e.FutureBookings {
				res.Pending = append(res.Pending, PendingCancel{AppointmentID: fb.AppointmentID, Kind: booking.KindOf(err)})
			}
			return res, nil
		}
		tenant = cfg.Tenant
	}
	for _, fb := range e.FutureBookings {
		if err := s.cancelOne(ctx, tenant, e.TenantID, fb, actor); err != nil {
			kind := booking.KindOf(err)
			if kind == "" {
				kind = booking.KindInternal
			}
			res.Pending = append(res.Pending, PendingCancel{AppointmentID: fb.AppointmentID, Kind: kind})
			continue
		}
		res.Cancelled = append(res.Cancelled, fb.AppointmentID)
	}
	s.logger().InfoContext(ctx, "erasure calendar cancellations", slog.String("tenant", e.TenantID),
		slog.Int("cancelled", len(res.Cancelled)), slog.Int("pending", len(res.Pending)))
	return res, nil
}

// errNoUID: a pending appointment whose Cal.com booking is not known (its
// creation outcome is still open); a human must look.
var errNoUID = booking.Errorf(booking.KindConflict, "privacy.Erase", "appointment has no Cal.com uid yet")

var errNoCalendar = booking.Errorf(booking.KindTransient, "privacy.Erase", "no calendar configured")

func (s *Service) cancelOne(ctx context.Context, tenant booking.Tenant, tenantID string, fb mysql.FutureBooking, actor string) error {
	if len(fb.CalcomUIDs) == 0 {
		return errNoUID
	}
	if s.Calendar == nil {
		return errNoCalendar
	}
	for _, uid := range fb.CalcomUIDs {
		if err := s.Calendar.Cancel(ctx, tenant, uid, CancelReason); err != nil && booking.KindOf(err) != booking.KindNotFound {
			return err
		}
	}
	_, err := s.Store.UpdateAppointmentWithChanges(ctx, tenantID, fb.AppointmentID,
		func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
			if !a.Status.Active() {
				return nil, nil, nil
			}
			before := *a
			a.Segments = append([]booking.AppointmentSegment(nil), a.Segments...)
			a.Status = booking.StatusCancelled
			for i := range a.Segments {
				a.Segments[i].Status = booking.StatusCancelled
			}
			return a, []booking.AppointmentChange{{TenantID: tenantID, AppointmentID: a.ID, Action: "cancelled", Actor: actor,
				PolicyOutcome: "erasure", Before: &before, After: a}}, nil
		})
	return err
}
