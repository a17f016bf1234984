// Package worker holds the job handlers of the retry worker: finishing
// Cal.com writes whose outcome was unknown, undoing partial composite
// bookings, storing webhooks that could not be stored inline, and warming
// the availability cache. The queue.Processor runs them; the error kind a
// handler returns decides what happens next (KindTransient is retried with
// backoff, every other kind is final and ends in OnFinalFailure).
//
// Every handler is idempotent on the state it finds (the appointment row,
// the Cal.com booking): the same job delivered three times has one effect.
// Payloads may hold personal data (attendee name, phone, raw webhooks):
// logs name jobs by id, type and tenant only.
package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calsync"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
)

// Store is what the handlers need of the database; *mysql.Store implements it.
type Store interface {
	LoadTenantConfig(ctx context.Context, tenantID string) (*booking.TenantConfig, error)
	Services(ctx context.Context, tenantID, branchID string) ([]booking.Service, error)
	GetAppointment(ctx context.Context, tenantID string, id int64) (*booking.Appointment, error)
	GetCustomer(ctx context.Context, tenantID string, id int64) (*booking.Customer, error)
	UpdateAppointmentWithChanges(ctx context.Context, tenantID string, id int64,
		fn func(*booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error)) (*booking.Appointment, error)
	RecordCallback(ctx context.Context, tenantID, branchID, callID string, customerID *int64, phone, reason string) error
}

var _ Store = (*mysql.Store)(nil)

// SlotCache is the availability cache; *redis.AvailabilityCache is one.
type SlotCache interface {
	Put(ctx context.Context, tenantID string, eventTypeID int64, day string, slots []time.Time) error
	Invalidate(ctx context.Context, tenantID string, eventTypeID int64, days ...string) error
}

// Metrics is the part of platform.Metrics the worker uses.
type Metrics interface {
	Count(name string, n int, dims ...string)
}

type noMetrics struct{}

func (noMetrics) Count(string, int, ...string) {}

// Deps are the handlers' dependencies. Store and ClientFor are required;
// the others only for the job types that use them.
type Deps struct {
	Store Store
	// ClientFor returns the tenant's Cal.com client (the function the
	// calcom.Calendar adapter is given, so circuit breakers are shared).
	ClientFor func(ctx context.Context, t booking.Tenant) (*calcom.Client, error)
	Syncer    *calsync.Syncer                              // calcom.event
	RecordRaw func(ctx context.Context, body []byte) error // retell.event: store a Retell webhook body
	Cache     SlotCache                                    // availability.prefetch and invalidation; nil = none
	Queue     queue.Publisher                              // follow-up compensate jobs; nil = none
	Clock     booking.Clock
	Logger    *slog.Logger
	Metrics   Metrics
	// PrefetchDays is how many local days availability.prefetch warms (default 7).
	PrefetchDays int
}

// Reasons written to appointments.needs_attention and callback_requests
// (PII-free, ≤ 64 characters for callbacks).
const (
	ReasonSlotTakenCreate     = "slot taken after unknown outcome"
	ReasonSlotTakenReschedule = "slot taken after unknown outcome (reschedule)"
	CallbackSlotTaken         = "slot_taken_after_unknown_outcome"
	ReasonCancelledElsewhere  = "booking cancelled in cal.com before the job finished"
)

// Actor of the audit rows the worker writes.
const Actor = "worker"

func (d Deps) clock() booking.Clock {
	if d.Clock == nil {
		return booking.SystemClock
	}
	return d.Clock
}

func (d Deps) log() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

func (d Deps) metrics() Metrics {
	if d.Metrics == nil {
		return noMetrics{}
	}
	return d.Metrics
}

// NewHandlers returns the handler of every job type the worker runs.
func NewHandlers(d Deps) map[string]queue.HandlerFunc {
	return map[string]queue.HandlerFunc{
		queue.TypeCreateBooking: d.createBooking,
		queue.TypeCancel:        d.cancel,
		queue.TypeReschedule:    d.reschedule,
		queue.TypeCompensate:    d.compensate,
		queue.TypeRetellEvent:   d.retellEvent,
		queue.TypeCalcomEvent:   d.calcomEvent,
		queue.TypePrefetch:      d.prefetch,
	}
}

// OnFinalFailure leaves the visible trace of a job that failed for good:
// an error log with the job's identifiers, the JobFailures metric and,
// when the job names an appointment, needs_attention on it with a PII-free
// reason. Wire it as queue.ProcessorOptions.OnFinalFailure.
func (d Deps) OnFinalFailure(ctx context.Context, j queue.Job, err error) {
	d.log().ErrorContext(ctx, "job failed for good", "job_id", j.ID, "job_type", j.Type, "tenant_id", j.TenantID,
		"attempt", j.Attempt, "error_kind", string(booking.KindOf(err)), "error", queue.SafeError(err))
	d.metrics().Count(platform.MetricJobFailures, 1, platform.DimJobType, j.Type)
	var ref struct {
		AppointmentID int64 `json:"appointment_id"`
	}
	if j.TenantID == "" || len(j.Payload) == 0 || json.Unmarshal(j.Payload, &ref) != nil || ref.AppointmentID <= 0 {
		return
	}
	reason := "job " + j.Type + " failed: " + string(booking.KindOf(err))
	if _, uerr := d.Store.UpdateAppointmentWithChanges(ctx, j.TenantID, ref.AppointmentID, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		if a.NeedsAttention == reason {
			return nil, nil, nil
		}
		a.NeedsAttention = reason
		return a, nil, nil
	}); uerr != nil {
		d.log().ErrorContext(ctx, "could not mark appointment needs_attention", "job_id", j.ID, "tenant_id", j.TenantID,
			"appointment_id", ref.AppointmentID, "error_kind", string(booking.KindOf(uerr)))
	}
}

// OnResult counts finished jobs (JobsProcessed); wire it as
// queue.ProcessorOptions.OnResult.
func (d Deps) OnResult(r queue.Result) {
	if r.Outcome == queue.OutcomeDone {
		d.metrics().Count(platform.MetricJobsProcessed, 1, platform.DimJobType, r.JobType)
	}
}

func decode(op string, j queue.Job, v any) error {
	if len(j.Payload) == 0 || json.Unmarshal(j.Payload, v) != nil {
		return booking.Errorf(booking.KindInvalid, op, "payload missing or malformed")
	}
	return nil
}

func requireTenant(op string, j queue.Job) error {
	if j.TenantID == "" {
		return booking.Errorf(booking.KindInvalid, op, "job has no tenant")
	}
	return nil
}

// client loads the tenant and its Cal.com client.
func (d Deps) client(ctx context.Context, tenantID string) (*booking.TenantConfig, *calcom.Client, error) {
	cfg, err := d.Store.LoadTenantConfig(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	if d.ClientFor == nil {
		return nil, nil, booking.Errorf(booking.KindInternal, "worker.client", "no Cal.com client configured")
	}
	c, err := d.ClientFor(ctx, cfg.Tenant)
	return cfg, c, err
}

func branchLoc(cfg *booking.TenantConfig, branchID string) *time.Location {
	for _, b := range cfg.Branches {
		if b.ID == branchID {
			if l, err := time.LoadLocation(b.TimeZone); err == nil {
				return l
			}
		}
	}
	return time.UTC
}

// invalidate drops the cached days of an appointment's segments.
func (d Deps) invalidate(ctx context.Context, cfg *booking.TenantConfig, as ...*booking.Appointment) {
	if d.Cache == nil {
		return
	}
	for _, a := range as {
		if a == nil {
			continue
		}
		loc := branchLoc(cfg, a.BranchID)
		for _, g := range a.Segments {
			if err := d.Cache.Invalidate(ctx, a.TenantID, g.EventTypeID, booking.DayString(g.Start, loc)); err != nil {
				d.log().WarnContext(ctx, "availability cache not invalidated", "tenant_id", a.TenantID, "error_kind", string(booking.KindOf(err)))
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
