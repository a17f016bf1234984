package worker

import (
	"context"
	"errors"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/queue"
)

// findWindow is how far around the requested start a booking made under
// our idempotency key is searched for.
const findWindow = 24 * time.Hour

// ourBooking finds the Cal.com booking made for segment idx under key.
// active is false when only a cancelled one exists.
func ourBooking(ctx context.Context, c *calcom.Client, rq booking.CreateBookingRequest, key string, idx int) (calcom.Booking, bool, bool, error) {
	list, err := c.ListBookings(ctx, calcom.ListBookingsFilter{EventTypeIDs: []int64{rq.EventTypeID},
		AfterStart: rq.Start.Add(-time.Minute), BeforeEnd: rq.Start.Add(findWindow)})
	if err != nil {
		return calcom.Booking{}, false, false, err
	}
	var ended *calcom.Booking
	for i, b := range list {
		if b.Metadata["idempotency_key"] != key {
			continue
		}
		if seg, ok := b.Metadata["segment"]; ok && seg != itoa(idx) {
			continue
		}
		if b.Active() {
			return b, true, true, nil
		}
		if ended == nil {
			ended = &list[i]
		}
	}
	if ended != nil {
		return *ended, true, false, nil
	}
	return calcom.Booking{}, false, false, nil
}

// createBooking finishes a booking whose outcome was unknown: each segment
// is found in Cal.com by our idempotency key or created, then the row is
// confirmed. If the slot went meanwhile, the caller (told "pending") needs a
// human: the row is failed with needs_attention and a callback is recorded.
func (d Deps) createBooking(ctx context.Context, j queue.Job) error {
	const op = "worker.create_booking"
	if err := requireTenant(op, j); err != nil {
		return err
	}
	var p incall.CreateBookingJob
	if err := decode(op, j, &p); err != nil {
		return err
	}
	if p.AppointmentID <= 0 || len(p.Requests) == 0 {
		return booking.Errorf(booking.KindInvalid, op, "appointment id or requests missing")
	}
	a, err := d.Store.GetAppointment(ctx, j.TenantID, p.AppointmentID)
	if err != nil {
		return err
	}
	key := a.IdempotencyKey
	if key == "" {
		key = j.IdempotencyKey
	}
	if a.Status == booking.StatusCancelled && key != "" {
		// The caller cancelled while the create's outcome was unknown: if
		// Cal.com did book it after all, that booking must go too, or it
		// blocks the slot for nobody.
		_, c, err := d.client(ctx, j.TenantID)
		if err != nil {
			return err
		}
		for i, rq := range p.Requests {
			b, found, active, err := ourBooking(ctx, c, rq, key, i)
			if err != nil {
				return err
			}
			if found && active {
				if err := cancelDone(ctx, c, b.UID, "cancelled by the caller before confirmation"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if a.Status != booking.StatusPending {
		return nil // confirmed (by a webhook or an earlier run) or failed: nothing left to do
	}
	if key == "" {
		return booking.Errorf(booking.KindInvalid, op, "no idempotency key to find the booking by")
	}
	cfg, c, err := d.client(ctx, j.TenantID)
	if err != nil {
		return err
	}
	uids := make([]string, len(p.Requests))
	var made []string // uids this run created or found, to undo on failure
	for i, rq := range p.Requests {
		if i < len(a.Segments) && a.Segments[i].CalcomUID != "" {
			uids[i] = a.Segments[i].CalcomUID
			continue
		}
		b, found, active, err := ourBooking(ctx, c, rq, key, i)
		if err != nil {
			return err
		}
		switch {
		case found && active:
			uids[i] = b.UID
			made = append(made, b.UID)
			continue
		case found:
			// Someone cancelled it in Cal.com already: never book it again.
			d.undo(ctx, j, a, append(made, linked(a)...))
			_, err := d.finish(ctx, cfg, j.TenantID, a.ID, booking.StatusCancelled, ReasonCancelledElsewhere, "cancelled")
			return err
		}
		meta := rq.Metadata
		if meta == nil {
			meta = map[string]string{}
		}
		if meta["idempotency_key"] == "" {
			meta["idempotency_key"] = key
		}
		nb, err := c.CreateBooking(ctx, calcom.CreateBookingInput{EventTypeID: rq.EventTypeID, Start: rq.Start, Metadata: meta,
			Attendee: calcom.Attendee{Name: rq.Name, Email: rq.Email, PhoneNumber: rq.Phone, TimeZone: rq.TimeZone, Language: rq.Language}})
		switch {
		case err == nil:
			uids[i] = nb.UID
			made = append(made, nb.UID)
		case calcom.IsSlotTaken(err):
			// SQS delivers at least once: a concurrent delivery of this very
			// job may have booked the slot since we looked. Ours, then.
			if b, found, active, ferr := ourBooking(ctx, c, rq, key, i); ferr != nil {
				return ferr
			} else if found && active {
				uids[i] = b.UID
				made = append(made, b.UID)
				continue
			}
			d.undo(ctx, j, a, append(made, linked(a)...))
			changed, err := d.finish(ctx, cfg, j.TenantID, a.ID, booking.StatusFailed, ReasonSlotTakenCreate, "failed")
			if err != nil || !changed {
				return err // not pending any more (confirmed meanwhile): no one to call back
			}
			return d.callback(ctx, a, rq.Phone)
		default:
			return err // unknown outcome again or Cal.com down: transient, retried; the next run finds it
		}
	}
	before := *a
	after, err := d.Store.UpdateAppointmentWithChanges(ctx, j.TenantID, a.ID, func(x *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		if x.Status != booking.StatusPending {
			return nil, nil, nil
		}
		for i := range x.Segments {
			if i < len(uids) {
				x.Segments[i].CalcomUID, x.Segments[i].Status = uids[i], booking.StatusConfirmed
			}
		}
		x.CalcomUID, x.Status = uids[0], booking.StatusConfirmed
		return x, []booking.AppointmentChange{{Action: "confirmed", Actor: Actor,
			Before: map[string]any{"status": booking.StatusPending}, After: map[string]any{"status": booking.StatusConfirmed, "calcom_uid": uids[0]}}}, nil
	})
	if err != nil {
		return err
	}
	d.invalidate(ctx, cfg, &before, after)
	return nil
}

func linked(a *booking.Appointment) []string {
	var out []string
	for _, g := range a.Segments {
		if g.CalcomUID != "" {
			out = append(out, g.CalcomUID)
		}
	}
	return out
}

// undo cancels bookings of a composite appointment that cannot be
// completed; what cannot be cancelled now goes to a compensate job.
func (d Deps) undo(ctx context.Context, j queue.Job, a *booking.Appointment, uids []string) {
	_, c, err := d.client(ctx, j.TenantID)
	var left []string
	for _, uid := range uids {
		if err == nil {
			if cerr := cancelDone(ctx, c, uid, "composite booking incomplete"); cerr == nil {
				continue
			}
		}
		left = append(left, uid)
	}
	if len(left) == 0 {
		return
	}
	if d.Queue != nil {
		cj, jerr := queue.NewJob(queue.TypeCompensate, j.TenantID, "compensate:"+itoa(int(a.ID)), incall.CompensateJob{AppointmentID: a.ID, UIDs: left}, d.clock().Now())
		if jerr == nil && d.Queue.Publish(ctx, cj) == nil {
			return
		}
	}
	d.log().ErrorContext(ctx, "segments could not be cancelled nor queued", "job_id", j.ID, "tenant_id", j.TenantID, "appointment_id", a.ID, "count", len(left))
	d.metrics().Count("CompensationFailures", 1)
}

// cancelDone cancels uid; already cancelled or gone counts as done.
func cancelDone(ctx context.Context, c *calcom.Client, uid, reason string) error {
	_, err := c.CancelBooking(ctx, uid, reason)
	if err == nil || errors.Is(err, calcom.ErrAlreadyCancelled) || booking.KindOf(err) == booking.KindNotFound {
		return nil
	}
	return err
}

// finish ends a pending appointment the worker could not complete. A
// failed row gives its idempotency key up (as the in-call path does), so a
// later booking under the same key is a new attempt. changed is false when
// the row was no longer pending (another run or a webhook finished it).
func (d Deps) finish(ctx context.Context, cfg *booking.TenantConfig, tenantID string, id int64, st booking.AppointmentStatus, reason, action string) (changed bool, err error) {
	after, err := d.Store.UpdateAppointmentWithChanges(ctx, tenantID, id, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		changed = false // the transaction may run again after a deadlock
		if a.Status != booking.StatusPending {
			return nil, nil, nil
		}
		changed = true
		prev := a.Status
		a.Status, a.NeedsAttention = st, reason
		if st == booking.StatusFailed {
			a.IdempotencyKey = ""
		}
		for i := range a.Segments {
			a.Segments[i].Status = st
		}
		return a, []booking.AppointmentChange{{Action: action, Actor: Actor, Before: map[string]any{"status": prev}, After: map[string]any{"status": st}}}, nil
	})
	if err != nil {
		return false, err
	}
	d.invalidate(ctx, cfg, after)
	return changed, nil
}

// callback records that a human must call the customer back.
func (d Deps) callback(ctx context.Context, a *booking.Appointment, phoneE164 string) error {
	if phoneE164 == "" && a.CustomerID != nil {
		if c, err := d.Store.GetCustomer(ctx, a.TenantID, *a.CustomerID); err == nil {
			phoneE164 = c.Phone
		}
	}
	return d.Store.RecordCallback(ctx, a.TenantID, a.BranchID, a.CallID, a.CustomerID, phoneE164, CallbackSlotTaken)
}

// cancel finishes a cancellation whose outcome was unknown. Already
// cancelled (or gone) in Cal.com is done.
func (d Deps) cancel(ctx context.Context, j queue.Job) error {
	const op = "worker.cancel"
	if err := requireTenant(op, j); err != nil {
		return err
	}
	var p incall.CancelJob
	if err := decode(op, j, &p); err != nil {
		return err
	}
	a, err := d.Store.GetAppointment(ctx, j.TenantID, p.AppointmentID)
	if err != nil {
		return err
	}
	cfg, c, err := d.client(ctx, j.TenantID)
	if err != nil {
		return err
	}
	reason := p.Reason
	if reason == "" {
		reason = "cancelled by caller on the phone"
	}
	for _, uid := range p.UIDs {
		if err := cancelDone(ctx, c, uid, reason); err != nil {
			return err
		}
	}
	after, err := d.Store.UpdateAppointmentWithChanges(ctx, j.TenantID, a.ID, func(x *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		if !x.Status.Active() {
			return nil, nil, nil // the in-call function (or a webhook) already recorded it
		}
		prev := x.Status
		x.Status = booking.StatusCancelled
		for i := range x.Segments {
			x.Segments[i].Status = booking.StatusCancelled
		}
		return x, []booking.AppointmentChange{{Action: "cancelled", Actor: Actor, Before: map[string]any{"status": prev}, After: map[string]any{"status": booking.StatusCancelled}}}, nil
	})
	if err != nil {
		return err
	}
	d.invalidate(ctx, cfg, after)
	return nil
}

// reschedule finishes a move whose outcome was unknown: each old booking
// that Cal.com already moved is followed to its successor, the others are
// moved now; then the row takes the new uids and times. Already moved = done.
func (d Deps) reschedule(ctx context.Context, j queue.Job) error {
	const op = "worker.reschedule"
	if err := requireTenant(op, j); err != nil {
		return err
	}
	var p incall.RescheduleJob
	if err := decode(op, j, &p); err != nil {
		return err
	}
	if p.NewStart.IsZero() || len(p.UIDs) == 0 {
		return booking.Errorf(booking.KindInvalid, op, "new start or uids missing")
	}
	a, err := d.Store.GetAppointment(ctx, j.TenantID, p.AppointmentID)
	if err != nil {
		return err
	}
	if !a.Status.Active() {
		return nil
	}
	target := p.NewStart.UTC()
	old := map[string]bool{}
	for _, u := range p.UIDs {
		old[u] = true
	}
	moved := a.Start.Equal(target)
	for _, u := range linked(a) {
		if old[u] {
			moved = false
		}
	}
	if moved {
		return nil // a webhook or an earlier run already moved the row
	}
	cfg, c, err := d.client(ctx, j.TenantID)
	if err != nil {
		return err
	}
	newUIDs := make([]string, len(p.UIDs))
	for i, uid := range p.UIDs {
		off := time.Duration(0)
		if i < len(a.Segments) {
			off = a.Segments[i].Start.Sub(a.Start)
		}
		b, err := c.GetBooking(ctx, uid)
		if err != nil {
			return err
		}
		switch {
		case b.Status == calcom.StatusCancelled && b.RescheduledToUID != "":
			newUIDs[i] = b.RescheduledToUID
		case b.Active():
			nb, err := c.RescheduleBooking(ctx, uid, target.Add(off), "moved by caller on the phone")
			if calcom.IsSlotTaken(err) {
				if _, uerr := d.Store.UpdateAppointmentWithChanges(ctx, j.TenantID, a.ID, func(x *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
					x.NeedsAttention = ReasonSlotTakenReschedule
					return x, nil, nil
				}); uerr != nil {
					return uerr
				}
				return d.callback(ctx, a, "")
			}
			if err != nil {
				return err
			}
			newUIDs[i] = nb.UID
		default:
			_, err := d.Store.UpdateAppointmentWithChanges(ctx, j.TenantID, a.ID, func(x *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
				x.NeedsAttention = ReasonCancelledElsewhere
				return x, nil, nil
			})
			return err
		}
	}
	before := *a
	after, err := d.Store.UpdateAppointmentWithChanges(ctx, j.TenantID, a.ID, func(x *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		shift := target.Sub(x.Start)
		oldStart := x.Start
		for i := range x.Segments {
			if i < len(newUIDs) && newUIDs[i] != "" {
				x.Segments[i].CalcomUID = newUIDs[i]
			}
			x.Segments[i].Start, x.Segments[i].End = x.Segments[i].Start.Add(shift), x.Segments[i].End.Add(shift)
		}
		x.CalcomUID = newUIDs[0]
		x.Start, x.End = x.Start.Add(shift), x.End.Add(shift)
		var changes []booking.AppointmentChange
		if shift != 0 {
			x.RescheduleCount++
			changes = append(changes, booking.AppointmentChange{Action: "rescheduled", Actor: Actor,
				Before: map[string]any{"start": oldStart}, After: map[string]any{"start": x.Start}})
		}
		return x, changes, nil
	})
	if err != nil {
		return err
	}
	d.invalidate(ctx, cfg, &before, after)
	return nil
}

// compensate cancels the listed bookings of a composite appointment that
// could not be completed. Already cancelled = done; anything else is
// returned (transient errors are retried until done or the DLQ).
func (d Deps) compensate(ctx context.Context, j queue.Job) error {
	const op = "worker.compensate"
	if err := requireTenant(op, j); err != nil {
		return err
	}
	var p incall.CompensateJob
	if err := decode(op, j, &p); err != nil {
		return err
	}
	_, c, err := d.client(ctx, j.TenantID)
	if err != nil {
		return err
	}
	for _, uid := range p.UIDs {
		if err := cancelDone(ctx, c, uid, "composite booking incomplete"); err != nil {
			return err
		}
	}
	return nil
}

// retellEvent stores a Retell webhook that could not be stored inline.
func (d Deps) retellEvent(ctx context.Context, j queue.Job) error {
	if d.RecordRaw == nil {
		return booking.Errorf(booking.KindInternal, "worker.retell_event", "no Retell event recorder configured")
	}
	if len(j.Payload) == 0 {
		return booking.Errorf(booking.KindInvalid, "worker.retell_event", "payload missing")
	}
	return d.RecordRaw(ctx, j.Payload)
}

// calcomEvent applies a Cal.com webhook that could not be stored inline.
func (d Deps) calcomEvent(ctx context.Context, j queue.Job) error {
	if d.Syncer == nil {
		return booking.Errorf(booking.KindInternal, "worker.calcom_event", "no Cal.com syncer configured")
	}
	if len(j.Payload) == 0 {
		return booking.Errorf(booking.KindInvalid, "worker.calcom_event", "payload missing")
	}
	return d.Syncer.ProcessRaw(ctx, j.Payload)
}

// PrefetchJob is the payload of availability.prefetch.
type PrefetchJob struct {
	TenantID string `json:"tenant_id"`
	BranchID string `json:"branch_id"`
}

// prefetch warms the availability cache of a branch's services for the
// next PrefetchDays local days: one slots read per event type over the
// whole range, cached per day (days without slots as empty lists, the way
// the in-call functions fill it). Rate limiting (one per branch per minute)
// is the publisher's job (redis.Gate with Keys.PrefetchGate).
func (d Deps) prefetch(ctx context.Context, j queue.Job) error {
	const op = "worker.prefetch"
	var p PrefetchJob
	if err := decode(op, j, &p); err != nil {
		return err
	}
	if p.TenantID == "" {
		p.TenantID = j.TenantID
	}
	if p.TenantID == "" || p.BranchID == "" {
		return booking.Errorf(booking.KindInvalid, op, "tenant or branch missing")
	}
	if d.Cache == nil {
		return nil // nothing to warm
	}
	cfg, c, err := d.client(ctx, p.TenantID)
	if err != nil {
		return err
	}
	var br *booking.Branch
	for i := range cfg.Branches {
		if cfg.Branches[i].ID == p.BranchID {
			br = &cfg.Branches[i]
		}
	}
	if br == nil {
		return booking.Errorf(booking.KindNotFound, op, "branch not found")
	}
	loc, err := time.LoadLocation(br.TimeZone)
	if err != nil {
		return booking.Errorf(booking.KindInvalid, op, "branch time zone invalid")
	}
	svcs, err := d.Store.Services(ctx, p.TenantID, p.BranchID)
	if err != nil {
		return err
	}
	days := d.PrefetchDays
	if days <= 0 {
		days = 7
	}
	y, m, dd := d.clock().Now().In(loc).Date()
	first := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	end := first.AddDate(0, 0, days)
	done := map[int64]bool{}
	for _, sv := range svcs {
		ets := []int64{sv.EventTypeID}
		for _, g := range sv.Segments {
			ets = append(ets, g.EventTypeID)
		}
		for _, et := range ets {
			if et <= 0 || done[et] {
				continue
			}
			done[et] = true
			slots, err := c.Slots(ctx, et, first, end, br.TimeZone)
			if err != nil {
				return err
			}
			byDay := map[string][]time.Time{}
			for _, s := range slots {
				k := booking.DayString(s, loc)
				byDay[k] = append(byDay[k], s)
			}
			for i := 0; i < days; i++ {
				day := booking.DayString(first.AddDate(0, 0, i), loc)
				if err := d.Cache.Put(ctx, p.TenantID, et, day, byDay[day]); err != nil {
					// Redis down: prefetching is optional work, do not retry it.
					d.log().WarnContext(ctx, "prefetch could not write the cache", "job_id", j.ID, "tenant_id", p.TenantID, "error_kind", string(booking.KindOf(err)))
					return nil
				}
			}
		}
	}
	return nil
}
