package calsync

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/mysql"
)

// ReconcileStore is what reconciliation reads beyond the Syncer's Store;
// *mysql.Store implements it.
type ReconcileStore interface {
	TenantIDs(ctx context.Context) ([]string, error)
	ActiveAppointmentsBetween(ctx context.Context, tenantID string, from, to time.Time, limit int) ([]booking.Appointment, error)
}

var _ ReconcileStore = (*mysql.Store)(nil)

// DefaultReconcileDays is how far ahead reconciliation compares.
const DefaultReconcileDays = 30

// Reconciler compares each tenant's upcoming Cal.com bookings with our
// appointments and repairs the difference through the Syncer's apply step
// (same ordering and idempotency rules as webhooks, Cal.com's updatedAt
// standing in for the webhook's createdAt).
type Reconciler struct {
	Syncer *Syncer
	Store  ReconcileStore
	// ClientFor returns the tenant's Cal.com client (the same function the
	// calcom.Calendar adapter is given).
	ClientFor func(ctx context.Context, t booking.Tenant) (*calcom.Client, error)
	Days      int // window from now; default DefaultReconcileDays
}

// Report counts what one tenant's run found and changed. No personal data.
type Report struct {
	TenantID     string         `json:"tenant_id"`
	Bookings     int            `json:"bookings"`     // Cal.com bookings in the window
	Appointments int            `json:"appointments"` // our active appointments in the window
	Results      map[Result]int `json:"results"`      // per apply result
	LeftForJob   int            `json:"left_for_job"` // pending rows without a Cal.com booking yet
	Missing      int            `json:"missing"`      // our uid unknown to Cal.com: flagged needs_attention
}

// Changed is the number of repairs made.
func (r Report) Changed() int {
	return r.Results[ResultCreated] + r.Results[ResultLinked] + r.Results[ResultMoved] + r.Results[ResultCancelled] +
		r.Results[ResultUpdated] + r.Missing
}

// RunAll reconciles every tenant; one tenant's failure does not stop the others.
func (r *Reconciler) RunAll(ctx context.Context) ([]Report, error) {
	ids, err := r.Store.TenantIDs(ctx)
	if err != nil {
		return nil, err
	}
	var reports []Report
	var errs []error
	for _, id := range ids {
		rep, err := r.Run(ctx, id)
		if err != nil {
			r.Syncer.log().ErrorContext(ctx, "reconciliation failed", "tenant", id, "error_kind", string(booking.KindOf(err)))
			errs = append(errs, err)
			continue
		}
		reports = append(reports, rep)
	}
	return reports, errors.Join(errs...)
}

// Run reconciles one tenant.
func (r *Reconciler) Run(ctx context.Context, tenantID string) (Report, error) {
	rep := Report{TenantID: tenantID, Results: map[Result]int{}}
	s := r.Syncer
	cfg, err := s.Store.LoadTenantConfig(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	svcByET := map[int64]booking.Service{}
	var ets []int64
	for _, sv := range cfg.Services {
		for _, et := range eventTypesOf(sv) {
			if _, ok := svcByET[et]; !ok {
				ets = append(ets, et)
				svcByET[et] = sv
			} else if !sv.Composite() && sv.EventTypeID == et {
				svcByET[et] = sv // a simple service owns its event type before a composite one using it
			}
		}
	}
	if len(ets) == 0 {
		return rep, nil
	}
	client, err := r.ClientFor(ctx, cfg.Tenant)
	if err != nil {
		return rep, err
	}
	days := r.Days
	if days <= 0 {
		days = DefaultReconcileDays
	}
	now := s.clock().Now()
	from, to := now, now.AddDate(0, 0, days)
	list, err := client.ListBookings(ctx, calcom.ListBookingsFilter{EventTypeIDs: ets, AfterStart: from, BeforeEnd: to})
	if err != nil {
		return rep, err
	}
	rep.Bookings = len(list)
	// Oldest change first, so a chain of moves is replayed in order.
	sort.SliceStable(list, func(i, j int) bool { return list[i].UpdatedAt.Before(list[j].UpdatedAt) })
	seen := map[string]calcom.Booking{}
	for _, b := range list {
		seen[b.UID] = b
	}
	applyOne := func(b calcom.Booking) error {
		sv, ok := svcByET[b.EventTypeID]
		if !ok {
			rep.Results[ResultIgnored]++
			return nil
		}
		o, skip, err := r.observe(ctx, client, b, seen, now)
		if err != nil || skip {
			return err
		}
		res, err := s.apply(ctx, tenantID, sv, o)
		if err != nil {
			return err
		}
		rep.Results[res]++
		return nil
	}
	for _, b := range list {
		if err := applyOne(b); err != nil {
			return rep, err
		}
	}

	// Our active appointments whose bookings the list did not show (outside
	// the window now, or gone): ask for each.
	appts, err := r.Store.ActiveAppointmentsBetween(ctx, tenantID, from, to, 0)
	if err != nil {
		return rep, err
	}
	rep.Appointments = len(appts)
	for _, a := range appts {
		uids := appointmentUIDs(a)
		if len(uids) == 0 {
			if a.Status == booking.StatusPending && a.IdempotencyKey != "" {
				rep.LeftForJob++ // the create_booking job finds or creates it
			}
			continue
		}
		for _, uid := range uids {
			if _, ok := seen[uid]; ok {
				continue
			}
			b, err := client.GetBooking(ctx, uid)
			if booking.KindOf(err) == booking.KindNotFound {
				if err := r.flagMissing(ctx, tenantID, a.ID); err != nil {
					return rep, err
				}
				rep.Missing++
				continue
			}
			if err != nil {
				return rep, err
			}
			seen[b.UID] = b
			if err := applyOne(b); err != nil {
				return rep, err
			}
		}
	}
	s.log().InfoContext(ctx, "reconciliation done", slog.String("tenant", tenantID), slog.Int("bookings", rep.Bookings),
		slog.Int("appointments", rep.Appointments), slog.Int("created", rep.Results[ResultCreated]), slog.Int("linked", rep.Results[ResultLinked]),
		slog.Int("moved", rep.Results[ResultMoved]), slog.Int("cancelled", rep.Results[ResultCancelled]), slog.Int("updated", rep.Results[ResultUpdated]),
		slog.Int("stale", rep.Results[ResultStale]), slog.Int("ignored", rep.Results[ResultIgnored]), slog.Int("missing", rep.Missing),
		slog.Int("left_for_job", rep.LeftForJob))
	return rep, nil
}

// observe turns a Cal.com booking into what apply understands. A booking
// cancelled by a reschedule becomes the move to its successor (fetched when
// the successor lies outside the list); skip is true when the successor in
// the list will be applied anyway.
func (r *Reconciler) observe(ctx context.Context, client *calcom.Client, b calcom.Booking, seen map[string]calcom.Booking, now time.Time) (observation, bool, error) {
	o := observation{at: b.UpdatedAt, uid: b.UID, eventTypeID: b.EventTypeID, start: b.Start, end: b.End, metadata: b.Metadata, quiet: true}
	if o.at.IsZero() {
		o.at = now
	}
	if len(b.Attendees) > 0 {
		a := b.Attendees[0]
		o.attendee = &a
	}
	switch {
	case b.Active() && b.RescheduledFromUID != "":
		o.trigger, o.prevUID = calcom.TriggerBookingRescheduled, b.RescheduledFromUID
	case b.Status == calcom.StatusAccepted:
		o.trigger = calcom.TriggerBookingCreated
	case b.Status == calcom.StatusPending:
		o.trigger = calcom.TriggerBookingRequested
	case b.Status == calcom.StatusCancelled && b.RescheduledToUID != "":
		if _, ok := seen[b.RescheduledToUID]; ok {
			return o, true, nil
		}
		next, err := client.GetBooking(ctx, b.RescheduledToUID)
		if err != nil {
			return o, false, err
		}
		seen[next.UID] = next
		o.trigger, o.prevUID, o.uid, o.start, o.end, o.at = calcom.TriggerBookingRescheduled, b.UID, next.UID, next.Start, next.End, next.UpdatedAt
		if o.at.IsZero() {
			o.at = now
		}
		if !next.Active() {
			o.trigger, o.prevUID, o.uid = calcom.TriggerBookingCancelled, "", b.UID
		}
	case b.Status == calcom.StatusCancelled:
		o.trigger = calcom.TriggerBookingCancelled
	case b.Status == calcom.StatusRejected:
		o.trigger = calcom.TriggerBookingRejected
	default:
		return o, true, nil
	}
	return o, false, nil
}

// flagMissing marks an appointment whose Cal.com booking no longer exists.
func (r *Reconciler) flagMissing(ctx context.Context, tenantID string, id int64) error {
	_, err := r.Syncer.Store.UpdateAppointmentWithChanges(ctx, tenantID, id, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		const reason = "cal.com booking not found during reconciliation"
		if a.NeedsAttention == reason {
			return nil, nil, nil
		}
		a.NeedsAttention = reason
		return a, nil, nil
	})
	return err
}

func eventTypesOf(sv booking.Service) []int64 {
	var out []int64
	if sv.EventTypeID > 0 {
		out = append(out, sv.EventTypeID)
	}
	for _, g := range sv.Segments {
		if g.EventTypeID > 0 {
			out = append(out, g.EventTypeID)
		}
	}
	return out
}

func appointmentUIDs(a booking.Appointment) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range append([]string{a.CalcomUID}, segUIDs(a)...) {
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

func segUIDs(a booking.Appointment) []string {
	out := make([]string, len(a.Segments))
	for i, g := range a.Segments {
		out[i] = g.CalcomUID
	}
	return out
}
