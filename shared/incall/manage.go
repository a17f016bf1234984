package incall

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
	"github.com/telefonagent/gateway/shared/spoken"
)

// CancelJob / RescheduleJob finish a Cal.com change whose outcome was unknown.
type CancelJob struct {
	AppointmentID int64    `json:"appointment_id"`
	UIDs          []string `json:"uids"`
	Reason        string   `json:"reason"`
}

type RescheduleJob struct {
	AppointmentID int64     `json:"appointment_id"`
	UIDs          []string  `json:"uids"`
	NewStart      time.Time `json:"new_start"`
}

// caller identifies the calling customer by the exact E.164 number.
// Anonymous callers get a callback request instead of access.
func (s *Scheduler) caller(ctx context.Context, sc *scope) (*booking.Customer, *Answer, error) {
	if phone.IsAnonymous(sc.call.FromNumber) {
		s.recordCallback(ctx, sc, nil, ReasonAnonymousCaller)
		a := fail(ReasonAnonymousCaller, say(sc.locale, msgAnonymous))
		return nil, &a, nil
	}
	n, err := phone.NormalizeE164(sc.call.FromNumber, "DE")
	if err != nil {
		s.recordCallback(ctx, sc, nil, ReasonAnonymousCaller)
		a := fail(ReasonAnonymousCaller, say(sc.locale, msgAnonymous))
		return nil, &a, nil
	}
	c, err := s.Customers.FindCustomerByPhone(ctx, sc.tenant.ID, n)
	if err != nil {
		if booking.KindOf(err) == booking.KindNotFound {
			a := fail(ReasonNotFound, say(sc.locale, msgNoAppointments))
			return nil, &a, nil
		}
		return nil, nil, err
	}
	return c, nil, nil
}

func (s *Scheduler) serviceByID(sc *scope, id string) booking.Service {
	for _, sv := range sc.services {
		if sv.ID == id {
			return sv
		}
	}
	return booking.Service{ID: id, Name: id}
}

func (s *Scheduler) view(sc *scope, a booking.Appointment) AppointmentView {
	sv := s.serviceByID(sc, a.ServiceID)
	return AppointmentView{ID: a.ID, Start: a.Start.In(sc.loc).Format(time.RFC3339), End: a.End.In(sc.loc).Format(time.RFC3339),
		Service: sv.Name, Status: string(a.Status), Spoken: sc.voice().when(a.Start)}
}

// describe names an appointment for speech: "Herrenhaarschnitt am
// Dienstag, den 2. März, um vierzehn Uhr".
func (s *Scheduler) describe(sc *scope, a booking.Appointment) string {
	return say(sc.locale, msgAppointment, s.serviceByID(sc, a.ServiceID).Name, sc.voice().when(a.Start))
}

// requestText is what a change request asks for, resolved, so the same
// request in other words ("Donnerstag" / "4.3.") has the same idempotency
// key. Unresolvable text is kept folded; it answers unclear anyway.
func requestText(sc *scope, date, clock string) string {
	if strings.TrimSpace(date) == "" && strings.TrimSpace(clock) == "" {
		return ""
	}
	req, err := spoken.Resolve(date, clock, sc.now, sc.loc, sc.locale)
	if err != nil {
		return "raw:" + fold(date) + "|" + fold(clock)
	}
	out := fmt.Sprintf("%04d-%02d-%02d", req.Date.Year, req.Date.Month, req.Date.Day)
	if req.HasTime {
		out += fmt.Sprintf("T%02d:%02d", req.Hour, req.Minute)
	}
	if req.Preference != nil {
		out += "/" + req.Preference.Name
	}
	return out
}

// pick selects the appointment the caller means: the one at date/time if
// given (the time may be omitted: then the one on that day), else the
// single upcoming one. A date is looked up with a query for that day, so
// an appointment is found however many others come before it.
func (s *Scheduler) pick(ctx context.Context, sc *scope, cust *booking.Customer, date, clock string) (*booking.Appointment, *Answer, error) {
	now := s.realNow(sc)
	// The next three: enough to tell "one", "none" and "several" apart, and
	// what a caller is told they have when the date matches nothing.
	next, err := s.Appointments.UpcomingAppointments(ctx, sc.tenant.ID, cust.ID, now, 3)
	if err != nil {
		return nil, nil, err
	}
	if len(next) == 0 {
		a := fail(ReasonNotFound, say(sc.locale, msgNoAppointments))
		return nil, &a, nil
	}
	describeAll := func(l []booking.Appointment) (string, []AppointmentView) {
		var words []string
		var views []AppointmentView
		for i, ap := range l {
			if i == 3 {
				break
			}
			words = append(words, s.describe(sc, ap))
			views = append(views, s.view(sc, ap))
		}
		return joinAnd(sc.locale, words), views
	}
	list := next
	if date != "" || clock != "" {
		req, err := spoken.Resolve(date, clock, sc.now, sc.loc, sc.locale)
		if err != nil {
			reason, id := ReasonUnclearDate, msgUnclearDate
			if spoken.Reason(err) == spoken.ReasonUnclearTime {
				reason, id = ReasonUnclearTime, msgUnclearTime
			}
			a := fail(reason, say(sc.locale, id))
			return nil, &a, nil
		}
		dayStart := time.Date(req.Date.Year, req.Date.Month, req.Date.Day, 0, 0, 0, 0, sc.loc)
		from := dayStart
		if from.Before(now) {
			from = now // only appointments still ahead can be changed
		}
		day, err := s.Appointments.AppointmentsBetween(ctx, sc.tenant.ID, cust.ID, from, dayStart.AddDate(0, 0, 1))
		if err != nil {
			return nil, nil, err
		}
		var match []booking.Appointment
		for _, ap := range day {
			l := ap.Start.In(sc.loc)
			if l.Year() != req.Date.Year || l.Month() != req.Date.Month || l.Day() != req.Date.Day {
				continue
			}
			if req.HasTime && (l.Hour() != req.Hour || l.Minute() != req.Minute) {
				continue
			}
			match = append(match, ap)
		}
		switch len(match) {
		case 1:
			return &match[0], nil, nil
		case 0:
			words, views := describeAll(next)
			a := fail(ReasonNotFound, say(sc.locale, msgNotFoundAt, sc.voice().day(req.Date.In(sc.loc)), words))
			a.Appointments = views
			return nil, &a, nil
		}
		list = match
	}
	if len(list) == 1 {
		return &list[0], nil, nil
	}
	words, views := describeAll(list)
	a := fail(ReasonMultipleFound, say(sc.locale, msgMultiple, words))
	a.Appointments = views
	return nil, &a, nil
}

func (s *Scheduler) policyFor(sc *scope, ap booking.Appointment) booking.Policy {
	sv := s.serviceByID(sc, ap.ServiceID)
	return booking.ResolvePolicy(sv.Policy, sc.branch.Policy, sc.tenant.Policy)
}

// denied answers a refused cancel or move truthfully and actionably: which
// rule, for which action, and that the team has been told (a
// needs_attention note on the appointment and a callback request), never
// "contact us" to a caller who is on the phone with us, and no fee for a
// cancellation that did not happen.
func (s *Scheduler) denied(ctx context.Context, sc *scope, ap booking.Appointment, d booking.PolicyDecision, moving bool) Answer {
	what := "am " + sc.voice().when(ap.Start)
	if sc.locale == "en" {
		what = "on " + sc.voice().when(ap.Start)
	}
	var msg string
	notify := true
	switch d.Rule {
	case booking.RuleNotice:
		id := msgDeniedNoticeCancel
		if moving {
			id = msgDeniedNoticeMove
		}
		msg = say(sc.locale, id, what, hoursText(sc.locale, d.NoticeHours*60))
	case booking.RuleMonthlyQuota:
		msg = say(sc.locale, msgDeniedQuota, d.Used)
	case booking.RuleMaxReschedules:
		msg = say(sc.locale, msgDeniedMaxReschedules, what, d.Used)
	default:
		notify = false // it has begun: nothing anyone can do any more
		id := msgDeniedPastCancel
		if moving {
			id = msgDeniedPastMove
		}
		msg = say(sc.locale, id, what)
	}
	if notify {
		s.noteForStaff(ctx, sc, ap, d, moving)
		msg += " " + say(sc.locale, msgStaffNotified)
	}
	a := fail(ReasonPolicyDenied, msg)
	v := s.view(sc, ap)
	a.Appointment = &v
	return a
}

// Notes a refused change leaves for the staff: appointments.needs_attention
// (PII-free) and a callback request, which the operator view lists.
const (
	AttentionCancelRefused = "caller asked to cancel; refused by policy"
	AttentionMoveRefused   = "caller asked to reschedule; refused by policy"
	CallbackCancelRefused  = "cancel_refused_by_policy"
	CallbackMoveRefused    = "reschedule_refused_by_policy"
)

func (s *Scheduler) noteForStaff(ctx context.Context, sc *scope, ap booking.Appointment, d booking.PolicyDecision, moving bool) {
	note, cb := AttentionCancelRefused, CallbackCancelRefused
	if moving {
		note, cb = AttentionMoveRefused, CallbackMoveRefused
	}
	note += " (" + d.Rule + ")"
	bctx, cancel := detached(ctx)
	defer cancel()
	if _, err := s.Appointments.UpdateAppointment(bctx, sc.tenant.ID, ap.ID, func(a *booking.Appointment) (*booking.Appointment, error) {
		a.NeedsAttention = note
		return a, nil
	}); err != nil {
		s.log().ErrorContext(ctx, "could not leave a note for the staff", "tenant", sc.tenant.ID, "appointment_id", ap.ID, "error_kind", string(booking.KindOf(err)))
		s.metrics().Count("BookkeepingFailures", 1)
	}
	s.recordCallback(ctx, sc, ap.CustomerID, cb)
}

// uids lists the Cal.com bookings of an appointment (one per segment).
func uids(ap booking.Appointment) []string {
	var out []string
	for _, sg := range ap.Segments {
		if sg.CalcomUID != "" {
			out = append(out, sg.CalcomUID)
		}
	}
	if len(out) == 0 && ap.CalcomUID != "" {
		out = append(out, ap.CalcomUID)
	}
	return out
}

// once runs op exactly once per key and stores its final answer.
func (s *Scheduler) once(ctx context.Context, sc *scope, key, op string, run func() (Answer, bool)) (Answer, error) {
	state, stored, err := s.Idempotency.Begin(ctx, sc.tenant.ID, key, op, idemTTL)
	if err != nil {
		return s.unavailable(ctx, sc, err), nil
	}
	switch state {
	case booking.IdemComplete:
		return s.replay(ctx, sc, stored)
	case booking.IdemInProgress:
		return s.waitForOther(ctx, sc, key, op)
	}
	a, final := run()
	bctx, cancel := detached(ctx)
	defer cancel()
	if final {
		body, _ := json.Marshal(a)
		if err := s.Idempotency.Complete(bctx, sc.tenant.ID, key, body); err != nil {
			s.log().ErrorContext(ctx, "could not store idempotent answer", "tenant", sc.tenant.ID, "op", op, "error_kind", string(booking.KindOf(err)))
		}
	} else {
		_ = s.Idempotency.Abandon(bctx, sc.tenant.ID, key)
	}
	return a, nil
}

// Cancel cancels the caller's appointment under the policy: Cal.com first,
// then our row, then the audit row. The idempotency key is the request
// (call, what was asked for), taken before the appointment is looked up, so
// a repeat after success replays the same answer instead of "not found".
func (s *Scheduler) Cancel(ctx context.Context, call Call, args Args) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	sc, cust, ans, err := s.callerScope(ctx, call)
	if err != nil || ans != nil {
		return s.callbackNumber(ctx, sc, args, deref(ans)), err
	}
	key := idempotencyKey(sc.tenant.ID, call.CallID, "cancel", requestText(sc, args.Date, args.Time))
	return s.once(ctx, sc, key, "cancel", func() (Answer, bool) {
		ap, ans, err := s.pick(ctx, sc, cust, args.Date, args.Time)
		if err != nil {
			return s.unavailable(ctx, sc, err), false
		}
		if ans != nil {
			return *ans, false // the caller clarifies; nothing happened
		}
		return s.cancel(ctx, sc, cust, *ap, args.Reason)
	})
}

func (s *Scheduler) cancel(ctx context.Context, sc *scope, cust *booking.Customer, ap booking.Appointment, reason string) (Answer, bool) {
	now := s.realNow(sc)
	used, err := s.Appointments.CountCancellationsSince(ctx, sc.tenant.ID, cust.ID, now.Add(-booking.CancellationWindow))
	if err != nil {
		return s.unavailable(ctx, sc, err), false
	}
	d := booking.DecideCancel(s.policyFor(sc, ap), ap.Start, now, used)
	if !d.Allowed {
		s.recordPolicy(ctx, sc, ap, "cancel_denied", d)
		return s.denied(ctx, sc, ap, d, false), true
	}
	if reason == "" {
		reason = "cancelled by caller on the phone"
	}
	for _, uid := range uids(ap) {
		if err := s.Calendar.Cancel(ctx, sc.tenant, uid, reason); err != nil {
			if booking.KindOf(err) == booking.KindNotFound {
				continue // already gone in Cal.com: our row follows below
			}
			if s.Calendar.UnknownOutcome(err) {
				// Cancelling is retried until done (an already cancelled
				// booking counts as done), so the caller may hear "cancelled".
				s.enqueue(ctx, sc, booking.JobCancel, "cancel:"+strconv.FormatInt(ap.ID, 10), CancelJob{AppointmentID: ap.ID, UIDs: uids(ap), Reason: reason})
				break
			}
			return s.unavailable(ctx, sc, err), false
		}
	}
	bctx, bcancel := detached(ctx)
	defer bcancel()
	before := ap.Status
	if _, err := s.Appointments.UpdateAppointment(bctx, sc.tenant.ID, ap.ID, func(a *booking.Appointment) (*booking.Appointment, error) {
		a.Status = booking.StatusCancelled
		for i := range a.Segments {
			a.Segments[i].Status = booking.StatusCancelled
		}
		return a, nil
	}); err != nil {
		s.log().ErrorContext(ctx, "cancelled in Cal.com but row not updated", "tenant", sc.tenant.ID, "appointment_id", ap.ID, "error_kind", string(booking.KindOf(err)))
		s.enqueue(ctx, sc, booking.JobCancel, "cancel:"+strconv.FormatInt(ap.ID, 10), CancelJob{AppointmentID: ap.ID, UIDs: uids(ap), Reason: reason})
	}
	s.recordChange(bctx, sc, booking.AppointmentChange{TenantID: sc.tenant.ID, AppointmentID: ap.ID, Action: "cancelled",
		Actor: "call:" + sc.call.CallID, PolicyOutcome: "allowed", FeeCents: d.FeeCents,
		Before: map[string]any{"status": before}, After: map[string]any{"status": booking.StatusCancelled}, At: s.clock()})
	s.invalidateAppointment(ctx, sc, ap)
	what := s.describe(sc, ap)
	a := Answer{OK: true, Message: say(sc.locale, msgCancelled, what)}
	if d.FeeCents > 0 {
		a.Message = say(sc.locale, msgCancelledFee, what, euros(sc.locale, d.FeeCents))
		a.FeeCents = &d.FeeCents
	}
	v := s.view(sc, ap)
	v.Status = string(booking.StatusCancelled)
	a.Appointment = &v
	return a, true
}

// recordChange writes an audit row; a failure is loud, never silent.
func (s *Scheduler) recordChange(ctx context.Context, sc *scope, c booking.AppointmentChange) {
	if err := s.Appointments.RecordChange(ctx, c); err != nil {
		s.log().ErrorContext(ctx, "could not write audit row", "tenant", sc.tenant.ID, "appointment_id", c.AppointmentID, "action", c.Action, "error_kind", string(booking.KindOf(err)))
		s.metrics().Count("BookkeepingFailures", 1)
	}
}

func (s *Scheduler) recordPolicy(ctx context.Context, sc *scope, ap booking.Appointment, action string, d booking.PolicyDecision) {
	bctx, cancel := detached(ctx)
	defer cancel()
	s.recordChange(bctx, sc, booking.AppointmentChange{TenantID: sc.tenant.ID, AppointmentID: ap.ID, Action: action,
		Actor: "call:" + sc.call.CallID, PolicyOutcome: "denied:" + d.Rule, FeeCents: d.FeeCents, At: s.clock()})
}

func (s *Scheduler) invalidateAppointment(ctx context.Context, sc *scope, ap booking.Appointment) {
	var segs []segmentPlan
	for _, sg := range ap.Segments {
		segs = append(segs, segmentPlan{EventTypeID: sg.EventTypeID, Offset: sg.Start.Sub(ap.Start)})
	}
	s.invalidate(ctx, sc, segs, ap.Start)
}

// Reschedule moves the caller's appointment to a new free time under the
// policy. Cal.com issues a new uid per moved booking; we store it. Keyed by
// the request like Cancel.
func (s *Scheduler) Reschedule(ctx context.Context, call Call, args Args) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	sc, cust, ans, err := s.callerScope(ctx, call)
	if err != nil || ans != nil {
		return s.callbackNumber(ctx, sc, args, deref(ans)), err
	}
	key := idempotencyKey(sc.tenant.ID, call.CallID, "reschedule", requestText(sc, args.Date, args.Time),
		requestText(sc, args.NewDate, args.NewTime), fold(args.TimePreference))
	return s.once(ctx, sc, key, "reschedule", func() (Answer, bool) {
		ap, ans, err := s.pick(ctx, sc, cust, args.Date, args.Time)
		if err != nil {
			return s.unavailable(ctx, sc, err), false
		}
		if ans != nil {
			return *ans, false
		}
		sv := s.serviceByID(sc, ap.ServiceID)
		t, ans := s.resolveTarget(sc, sv.ID, args.NewDate, args.NewTime, args.TimePreference)
		if ans != nil {
			return *ans, false
		}
		if t.start.IsZero() {
			a, err := s.availability(ctx, sc, t) // offer times that day
			if err != nil {
				return s.unavailable(ctx, sc, err), false
			}
			if a.OK {
				a.OK, a.Reason = false, ReasonUnclearTime
			}
			return a, false
		}
		return s.reschedule(ctx, sc, *ap, sv, t)
	})
}

func (s *Scheduler) reschedule(ctx context.Context, sc *scope, ap booking.Appointment, sv booking.Service, t *target) (Answer, bool) {
	now := s.realNow(sc)
	d := booking.DecideReschedule(s.policyFor(sc, ap), ap.Start, now, ap.RescheduleCount)
	if !d.Allowed {
		s.recordPolicy(ctx, sc, ap, "reschedule_denied", d)
		return s.denied(ctx, sc, ap, d, true), true
	}
	// The appointment's own time must count as free while it moves (e.g.
	// 30 minutes later for a 60-minute service).
	sc.moving = map[int64]string{}
	for _, sg := range ap.Segments {
		if sg.CalcomUID != "" {
			sc.moving[sg.EventTypeID] = sg.CalcomUID
		}
	}
	if len(sc.moving) == 0 && ap.CalcomUID != "" && len(plan(sv)) == 1 {
		sc.moving[plan(sv)[0].EventTypeID] = ap.CalcomUID
	}
	avail, err := s.availability(ctx, sc, t)
	sc.moving = nil
	if err != nil {
		return s.unavailable(ctx, sc, err), false
	}
	if !avail.OK {
		return avail, false
	}
	segs := plan(sv)
	old := uids(ap)
	cur := append([]string(nil), old...) // the live uid of each segment as we go
	offset := func(i int) time.Duration {
		if i < len(segs) {
			return segs[i].Offset
		}
		return 0
	}
	for i, uid := range old {
		b, err := s.Calendar.Reschedule(ctx, sc.tenant, uid, t.start.Add(offset(i)).UTC(), "moved by caller on the phone")
		if err == nil {
			cur[i] = b.UID
			continue
		}
		if s.Calendar.UnknownOutcome(err) {
			s.enqueue(ctx, sc, booking.JobReschedule, "reschedule:"+strconv.FormatInt(ap.ID, 10)+":"+t.start.UTC().Format(time.RFC3339),
				RescheduleJob{AppointmentID: ap.ID, UIDs: cur, NewStart: t.start.UTC()})
			return Answer{OK: false, Reason: ReasonPendingConfirmation, Requested: avail.Requested,
				Message: say(sc.locale, msgPending, sc.voice().when(t.start))}, true
		}
		// A later segment failed: move the ones already moved back, so the
		// appointment stays whole at its old time.
		s.revertMoved(ctx, sc, ap, cur[:i], offset)
		if booking.KindOf(err) == booking.KindConflict {
			return s.takenNow(ctx, sc, t), false
		}
		return s.unavailable(ctx, sc, err), false
	}
	bctx, cancel := detached(ctx)
	defer cancel()
	oldStart := ap.Start
	updated, err := s.Appointments.UpdateAppointment(bctx, sc.tenant.ID, ap.ID, func(a *booking.Appointment) (*booking.Appointment, error) {
		dur := a.End.Sub(a.Start)
		shift := t.start.UTC().Sub(a.Start)
		a.Start, a.End = t.start.UTC(), t.start.UTC().Add(dur)
		a.RescheduleCount++
		for i := range a.Segments {
			a.Segments[i].Start = a.Segments[i].Start.Add(shift)
			a.Segments[i].End = a.Segments[i].End.Add(shift)
			if i < len(cur) && cur[i] != "" {
				a.Segments[i].CalcomUID = cur[i]
			}
		}
		if len(cur) > 0 && cur[0] != "" {
			a.CalcomUID = cur[0]
		}
		return a, nil
	})
	if err != nil {
		s.log().ErrorContext(ctx, "rescheduled in Cal.com but row not updated", "tenant", sc.tenant.ID, "appointment_id", ap.ID, "error_kind", string(booking.KindOf(err)))
		s.metrics().Count("BookkeepingFailures", 1)
		moved := ap
		moved.Start, moved.End = t.start.UTC(), t.start.UTC().Add(ap.End.Sub(ap.Start))
		updated = &moved
	}
	s.recordChange(bctx, sc, booking.AppointmentChange{TenantID: sc.tenant.ID, AppointmentID: ap.ID, Action: "rescheduled",
		Actor: "call:" + sc.call.CallID, PolicyOutcome: "allowed", FeeCents: d.FeeCents,
		Before: map[string]any{"start": oldStart}, After: map[string]any{"start": t.start.UTC()}, At: s.clock()})
	s.invalidateAppointment(ctx, sc, ap)
	s.invalidate(ctx, sc, segs, t.start)
	when := sc.voice().when(t.start)
	a := Answer{OK: true, Requested: avail.Requested, Message: say(sc.locale, msgRescheduled, when)}
	if d.FeeCents > 0 {
		a.Message = say(sc.locale, msgRescheduledFee, when, euros(sc.locale, d.FeeCents))
		a.FeeCents = &d.FeeCents
	}
	v := s.view(sc, *updated)
	a.Appointment = &v
	return a, true
}

// revertMoved moves segments already moved back to their old times; what
// cannot be moved back is handed to the retry worker.
func (s *Scheduler) revertMoved(ctx context.Context, sc *scope, ap booking.Appointment, moved []string, offset func(int) time.Duration) {
	var left []string
	for i, uid := range moved {
		cctx, cancel := detached(ctx)
		_, err := s.Calendar.Reschedule(cctx, sc.tenant, uid, ap.Start.Add(offset(i)).UTC(), "reverting an incomplete move")
		cancel()
		if err != nil {
			left = append(left, uid)
		}
	}
	if len(left) > 0 {
		s.enqueue(ctx, sc, booking.JobReschedule, "revert:"+strconv.FormatInt(ap.ID, 10),
			RescheduleJob{AppointmentID: ap.ID, UIDs: left, NewStart: ap.Start.UTC()})
	}
}

// FindAppointments reads out the caller's next three appointments and,
// when there are more, says how many there are.
func (s *Scheduler) FindAppointments(ctx context.Context, call Call, args Args) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	sc, cust, ans, err := s.callerScope(ctx, call)
	if err != nil || ans != nil {
		return s.callbackNumber(ctx, sc, args, deref(ans)), err
	}
	now := s.realNow(sc)
	list, err := s.Appointments.UpcomingAppointments(ctx, sc.tenant.ID, cust.ID, now, 3)
	if err != nil {
		return s.unavailable(ctx, sc, err), nil
	}
	if len(list) == 0 {
		return fail(ReasonNotFound, say(sc.locale, msgNoAppointments)), nil
	}
	total := len(list)
	if total == 3 { // there may be more: say how many
		if total, err = s.Appointments.CountUpcomingAppointments(ctx, sc.tenant.ID, cust.ID, now); err != nil {
			return s.unavailable(ctx, sc, err), nil
		}
	}
	a := Answer{OK: true}
	var words []string
	for _, ap := range list {
		a.Appointments = append(a.Appointments, s.view(sc, ap))
		words = append(words, s.describe(sc, ap))
	}
	a.Message = say(sc.locale, msgUpcoming, joinAnd(sc.locale, words))
	if total > len(list) {
		a.Message = say(sc.locale, msgMoreAppointments, total, joinAnd(sc.locale, words))
	}
	return a, nil
}

// ListServices lists the branch's bookable services with durations.
func (s *Scheduler) ListServices(ctx context.Context, call Call, args Args) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	sc, ans, err := s.resolveScope(ctx, call)
	if err != nil || ans != nil {
		return deref(ans), err
	}
	svcs := sc.services
	if !s.flag(sc, "composite_services", s.CompositeServices) {
		svcs = simpleOnly(svcs)
	}
	if strings.TrimSpace(args.Service) != "" {
		// "Wie lange dauert ein Herrenhaarschnitt?": the duration of that
		// service, not a list.
		if sv, ok := findService(svcs, args.Service); ok {
			return s.serviceInfo(sc, sv), nil
		}
		if cands := serviceCandidates(svcs, args.Service); len(cands) > 1 {
			svcs = cands
		}
	}
	var picked []booking.Service
	for _, sv := range svcs {
		if inCategory(sv, args.Category) {
			picked = append(picked, sv)
		}
	}
	if len(picked) == 0 {
		return fail(ReasonNotFound, say(sc.locale, msgServicesNone, serviceNames(svcs, sc.locale))), nil
	}
	a := Answer{OK: true}
	var words []string
	for _, sv := range picked {
		a.Services = append(a.Services, ServiceView{ID: sv.ID, Name: sv.Name, DurationMinutes: int(totalDuration(sv) / time.Minute), Category: sv.Category, PriceCents: sv.PriceCents})
		words = append(words, sv.Name+" ("+spoken.SpokenDuration(int(totalDuration(sv)/time.Minute), sc.locale)+")")
	}
	a.Message = say(sc.locale, msgServices, joinAnd(sc.locale, words))
	return a, nil
}

// inCategory: the category as the caller says it matches the service's
// category, or a part of its name or synonyms ("Herren" finds
// Herrenhaarschnitt even when its category is "Haarschnitt").
func inCategory(sv booking.Service, category string) bool {
	q := fold(category)
	if q == "" || fold(sv.Category) == q {
		return true
	}
	for _, n := range append([]string{sv.Name, sv.Category}, sv.Synonyms...) {
		if fn := fold(n); fn != "" && (strings.Contains(fn, q) || strings.Contains(q, fn)) {
			return true
		}
	}
	return false
}

// serviceInfo answers a question about one service: its duration and price.
func (s *Scheduler) serviceInfo(sc *scope, sv booking.Service) Answer {
	minutes := int(totalDuration(sv) / time.Minute)
	a := Answer{OK: true, Services: []ServiceView{{ID: sv.ID, Name: sv.Name, DurationMinutes: minutes, Category: sv.Category, PriceCents: sv.PriceCents}}}
	if sv.PriceCents > 0 {
		a.Message = say(sc.locale, msgDurationPrice, sv.Name, spoken.SpokenDuration(minutes, sc.locale), euros(sc.locale, sv.PriceCents))
	} else {
		a.Message = say(sc.locale, msgDuration, sv.Name, spoken.SpokenDuration(minutes, sc.locale))
	}
	return a
}

// callbackNumber takes the number a withheld-number caller gives to be
// called back on (customer_phone): validated as E.164, stored sealed with
// the callback request. Any other answer passes through unchanged.
func (s *Scheduler) callbackNumber(ctx context.Context, sc *scope, args Args, a Answer) Answer {
	if sc == nil || a.Reason != ReasonAnonymousCaller || strings.TrimSpace(args.CustomerPhone) == "" {
		return a
	}
	n, err := phone.NormalizeE164(args.CustomerPhone, phone.DefaultRegion)
	if err != nil || phone.IsAnonymous(n) {
		return fail(ReasonContactNeeded, say(sc.locale, msgPhoneUnclear))
	}
	s.recordCallbackTo(ctx, sc, nil, n, ReasonAnonymousCaller)
	return fail(ReasonAnonymousCaller, say(sc.locale, msgCallbackNoted))
}

// callerScope resolves the call's tenant and the calling customer: the
// start of every use case that acts on the caller's own appointments.
func (s *Scheduler) callerScope(ctx context.Context, call Call) (*scope, *booking.Customer, *Answer, error) {
	sc, ans, err := s.resolveScope(ctx, call)
	if err != nil || ans != nil {
		return nil, nil, ans, err
	}
	cust, ans, err := s.caller(ctx, sc)
	if err != nil {
		a := s.unavailable(ctx, sc, err)
		return sc, nil, &a, nil
	}
	return sc, cust, ans, nil
}
