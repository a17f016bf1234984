package incall

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
)

// CreateBookingJob is the payload of a calcom.create_booking job: finish a
// booking whose outcome was unknown (find it by our idempotency key in
// Cal.com's metadata, or create it).
type CreateBookingJob struct {
	AppointmentID int64                          `json:"appointment_id"`
	Requests      []booking.CreateBookingRequest `json:"requests"`
}

// CompensateJob cancels Cal.com bookings of a composite appointment that
// could not be booked completely.
type CompensateJob struct {
	AppointmentID int64    `json:"appointment_id"`
	UIDs          []string `json:"uids"`
}

// contact works out how the calendar reaches the caller: the calling
// number (never an invented email), else a number or email they spelled.
func contact(call Call, args Args) (phoneE164, email string, anonymous bool) {
	anonymous = phone.IsAnonymous(call.FromNumber)
	if !anonymous {
		if n, err := phone.NormalizeE164(call.FromNumber, "DE"); err == nil {
			phoneE164 = n
		} else {
			anonymous = true
		}
	}
	if phoneE164 == "" && strings.TrimSpace(args.CustomerPhone) != "" {
		if n, err := phone.NormalizeE164(args.CustomerPhone, "DE"); err == nil {
			phoneE164 = n
		}
	}
	email = cleanEmail(args.CustomerEmail)
	return phoneE164, email, anonymous
}

// cleanEmail removes the spaces speech-to-text puts into addresses
// ("max  mustermann@test.de") and drops anything that is not an address.
func cleanEmail(s string) string {
	s = strings.Join(strings.Fields(s), "")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "(at)", "@"), "[at]", "@")
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.IndexByte(s, '@')+1:], ".") {
		return ""
	}
	return s
}

// Book books the requested time exactly once per (tenant, call, service,
// start): repeats return the stored answer and never a second booking.
func (s *Scheduler) Book(ctx context.Context, call Call, args Args) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	sc, ans, err := s.resolveScope(ctx, call)
	if err != nil || ans != nil {
		return deref(ans), err
	}
	t, ans := s.resolveTarget(sc, args.Service, args.Date, args.Time, args.TimePreference)
	if ans != nil {
		return *ans, nil
	}
	if t.start.IsZero() {
		return fail(ReasonUnclearTime, say(sc.locale, msgUnclearTime)), nil
	}
	name := strings.Join(strings.Fields(args.CustomerName), " ")
	phoneE164, email, _ := contact(call, args)
	if phoneE164 == "" && email == "" {
		return fail(ReasonContactNeeded, say(sc.locale, msgContactNeeded)), nil
	}
	if name == "" {
		if c, err := s.Customers.FindCustomerByPhone(ctx, sc.tenant.ID, phoneE164); err == nil && c.Name != "" && phoneE164 != "" {
			name = c.Name
		} else {
			return fail(ReasonContactNeeded, say(sc.locale, msgNameNeeded)), nil
		}
	}

	key := idempotencyKey(sc.tenant.ID, call.CallID, "book", t.service.ID, t.start.UTC().Format(time.RFC3339))
	state, stored, err := s.Idempotency.Begin(ctx, sc.tenant.ID, key, "book", idemTTL)
	if err != nil {
		return fail(ReasonCalendarUnavailable, say(sc.locale, msgTemporarilyUnavailable)), s.noteUnavailable(ctx, sc, err)
	}
	switch state {
	case booking.IdemComplete:
		return s.replayBooking(ctx, sc, t, stored, name, phoneE164)
	case booking.IdemInProgress:
		return s.waitForOther(ctx, sc, key, "book")
	}

	// We own the key. Anything that ends before a booking exists releases
	// it, so the caller may try again; anything after stores the answer.
	a, final := s.book(ctx, sc, t, key, name, phoneE164, email, strings.TrimSpace(args.Notes))
	bctx, bcancel := detached(ctx)
	defer bcancel()
	if final {
		body, _ := json.Marshal(storedBooking{Answer: a, NameTag: nameTag(sc.tenant.ID, call.CallID, name)})
		if err := s.Idempotency.Complete(bctx, sc.tenant.ID, key, body); err != nil {
			s.log().ErrorContext(ctx, "could not store idempotent answer", "tenant", sc.tenant.ID, "call_id", call.CallID, "error_kind", string(booking.KindOf(err)))
			s.metrics().Count("IdempotencyStoreFailures", 1)
		}
	} else if err := s.Idempotency.Abandon(bctx, sc.tenant.ID, key); err != nil {
		s.log().ErrorContext(ctx, "could not release idempotency key", "tenant", sc.tenant.ID, "call_id", call.CallID, "error_kind", string(booking.KindOf(err)))
	}
	s.metrics().Count("BookingOutcome", 1, "Outcome", outcome(a))
	return a, nil
}

// outcome is the Outcome dimension of the BookingOutcome metric; the
// failure-rate alarm in infra/ lists exactly these values.
func outcome(a Answer) string {
	switch {
	case a.OK:
		return "booked"
	case a.Reason == ReasonPendingConfirmation:
		return "pending"
	case a.Reason == ReasonCalendarUnavailable:
		return "failed"
	}
	return "declined"
}

// storedBooking is the stored answer of a booking plus a short tag of the
// name it was booked under, so that the same slot asked for again in the
// same call under another name is not answered "gebucht".
type storedBooking struct {
	Answer
	NameTag string `json:"name_tag,omitempty"`
}

// nameTag is a short keyed hash of the name (not the name: the stored
// answer holds no personal data beyond the caller's own words).
func nameTag(tenantID, callID, name string) string {
	h := sha256.Sum256([]byte(tenantID + "\x00" + callID + "\x00" + fold(name)))
	return hex.EncodeToString(h[:6])
}

// replayBooking repeats a stored booking answer, unless it was booked in
// this call under another name: then it says whose booking exists.
func (s *Scheduler) replayBooking(ctx context.Context, sc *scope, t *target, stored []byte, name, phoneE164 string) (Answer, error) {
	var sb storedBooking
	if err := json.Unmarshal(stored, &sb); err != nil || sb.NameTag == "" || sb.NameTag == nameTag(sc.tenant.ID, sc.call.CallID, name) || !sb.OK {
		return s.replay(ctx, sc, stored)
	}
	s.metrics().Count("IdempotentReplay", 1)
	when := capitalize(sc.voice().when(t.start))
	msg := say(sc.locale, msgBookedOtherUnnamed, when, name)
	if phoneE164 != "" {
		// The customer record of this number carries the name of its last
		// booking; say it only when it is the name this slot was booked under.
		if c, err := s.Customers.FindCustomerByPhone(ctx, sc.tenant.ID, phoneE164); err == nil && c.Name != "" &&
			nameTag(sc.tenant.ID, sc.call.CallID, c.Name) == sb.NameTag {
			msg = say(sc.locale, msgBookedOther, when, c.Name, name)
		}
	}
	a := fail(ReasonSlotTaken, msg)
	a.Available, a.Requested = boolPtr(false), sb.Requested
	return a, nil
}

func (s *Scheduler) noteUnavailable(ctx context.Context, sc *scope, err error) error {
	s.log().WarnContext(ctx, "idempotency store unavailable", "tenant", sc.tenant.ID, "call_id", sc.call.CallID, "error_kind", string(booking.KindOf(err)))
	s.recordCallback(ctx, sc, nil, ReasonCalendarUnavailable)
	return nil
}

func (s *Scheduler) replay(ctx context.Context, sc *scope, stored []byte) (Answer, error) {
	var a Answer
	if err := json.Unmarshal(stored, &a); err != nil {
		return Answer{}, booking.Wrap(booking.KindInternal, "incall.replay", err, "stored answer unreadable")
	}
	s.metrics().Count("IdempotentReplay", 1)
	return a, nil
}

// waitForOther waits briefly for a concurrent identical request to finish
// and returns its answer; if it does not finish in time, the caller is
// told honestly that the request is still being processed.
func (s *Scheduler) waitForOther(ctx context.Context, sc *scope, key, op string) (Answer, error) {
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return fail(ReasonPendingConfirmation, say(sc.locale, msgInProgress)), nil
		case <-time.After(50 * time.Millisecond):
		}
		state, stored, err := s.Idempotency.Begin(ctx, sc.tenant.ID, key, op, idemTTL)
		if err != nil {
			break
		}
		switch state {
		case booking.IdemComplete:
			return s.replay(ctx, sc, stored)
		case booking.IdemNew:
			// The other request gave up before booking anything; we now own
			// the key, but rather than book on a stale decision, release it
			// and let the agent ask again.
			bctx, cancel := detached(ctx)
			_ = s.Idempotency.Abandon(bctx, sc.tenant.ID, key)
			cancel()
			return fail(ReasonPendingConfirmation, say(sc.locale, msgInProgress)), nil
		}
	}
	return fail(ReasonPendingConfirmation, say(sc.locale, msgInProgress)), nil
}

// book does the work behind Book. final=false means nothing was booked and
// the idempotency key is released.
func (s *Scheduler) book(ctx context.Context, sc *scope, t *target, key, name, phoneE164, email, notes string) (Answer, bool) {
	avail, err := s.availability(ctx, sc, t)
	if err != nil {
		return s.unavailable(ctx, sc, err), false
	}
	if !avail.OK {
		return avail, false
	}
	segs := plan(t.service)

	// Short slot locks: two callers racing for one slot don't both reach
	// Cal.com. Redis being down only removes this optimisation.
	if s.Locker != nil {
		for _, sg := range segs {
			release, ok, err := s.Locker.Lock(ctx, sc.tenant.ID, sg.EventTypeID, t.start.Add(sg.Offset), key, slotLockTTL)
			if err != nil {
				s.metrics().Count("LockErrors", 1)
				continue
			}
			if !ok {
				return s.takenNow(ctx, sc, t), false
			}
			defer release()
		}
	}

	// Each bookkeeping step gets its own short deadline, counted from when
	// it starts: a slow Cal.com must not eat the time of the writes after it.
	bctx, bcancel := detached(ctx)
	var customer *booking.Customer
	if phoneE164 != "" {
		customer, err = s.Customers.UpsertCustomerByPhone(bctx, sc.tenant.ID, phoneE164, name, email)
	} else {
		customer, err = s.Customers.CreateCustomer(bctx, booking.Customer{TenantID: sc.tenant.ID, Name: name, Email: email, Source: "phone"})
	}
	if err != nil {
		bcancel()
		return s.unavailable(ctx, sc, err), false
	}
	appt := booking.Appointment{
		TenantID: sc.tenant.ID, BranchID: sc.branch.ID, ServiceID: t.service.ID, CustomerID: &customer.ID,
		CallID: sc.call.CallID, Status: booking.StatusPending, Source: "phone",
		Start: t.start.UTC(), End: t.start.Add(totalDuration(t.service)).UTC(), Notes: notes, IdempotencyKey: key,
	}
	for i, sg := range segs {
		appt.Segments = append(appt.Segments, booking.AppointmentSegment{Index: i, EventTypeID: sg.EventTypeID,
			Start: t.start.Add(sg.Offset).UTC(), End: t.start.Add(sg.Offset + sg.Length).UTC(), Status: booking.StatusPending})
	}
	row, err := s.Appointments.CreateAppointment(bctx, appt)
	bcancel()
	if err != nil {
		return s.unavailable(ctx, sc, err), false
	}

	lang := sc.locale
	reqs := make([]booking.CreateBookingRequest, len(segs))
	for i, sg := range segs {
		reqs[i] = booking.CreateBookingRequest{EventTypeID: sg.EventTypeID, Start: t.start.Add(sg.Offset).UTC(), Name: name, Email: email,
			Phone: phoneE164, TimeZone: sc.branch.TimeZone, Language: lang,
			Metadata: map[string]string{"retell_call_id": sc.call.CallID, "tenant": sc.tenant.ID, "idempotency_key": key, "segment": itoa(i)}}
	}
	var made []booking.CalendarBooking
	for i, rq := range reqs {
		b, err := s.Calendar.Create(ctx, sc.tenant, rq)
		if err == nil {
			made = append(made, b)
			continue
		}
		switch {
		case s.Calendar.UnknownOutcome(err) || (booking.KindOf(err) == booking.KindTransient && ctx.Err() != nil):
			// We do not know whether Cal.com booked it: never say "booked"
			// or "failed". The worker finds it by our key or creates it.
			s.enqueue(ctx, sc, booking.JobCreateBooking, key, CreateBookingJob{AppointmentID: row.ID, Requests: reqs})
			return Answer{OK: false, Reason: ReasonPendingConfirmation, Requested: avail.Requested,
				Message: say(sc.locale, msgPending, sc.voice().when(t.start))}, true
		case booking.KindOf(err) == booking.KindConflict:
			s.compensate(ctx, sc, row.ID, made)
			s.markFailed(ctx, sc, row.ID, "slot taken in calendar")
			return s.takenNow(ctx, sc, t), false
		default:
			s.compensate(ctx, sc, row.ID, made)
			s.markFailed(ctx, sc, row.ID, "calendar error: "+string(booking.KindOf(err)))
			_ = i
			return s.unavailable(ctx, sc, err), false
		}
	}

	fctx, fcancel := detached(ctx)
	defer fcancel()
	confirmed, err := s.Appointments.UpdateAppointment(fctx, sc.tenant.ID, row.ID, func(a *booking.Appointment) (*booking.Appointment, error) {
		a.Status = booking.StatusConfirmed
		a.CalcomUID = made[0].UID
		for i := range a.Segments {
			if i < len(made) {
				a.Segments[i].CalcomUID = made[i].UID
				a.Segments[i].Status = booking.StatusConfirmed
			}
		}
		return a, nil
	})
	if err != nil {
		// Cal.com has the booking; our row says pending with the key in
		// Cal.com's metadata. The completion job links them.
		s.enqueue(ctx, sc, booking.JobCreateBooking, key, CreateBookingJob{AppointmentID: row.ID, Requests: reqs})
		confirmed = row
	}
	s.invalidate(ctx, sc, segs, t.start)
	_ = s.Appointments.RecordChange(fctx, booking.AppointmentChange{TenantID: sc.tenant.ID, AppointmentID: row.ID, Action: "booked",
		Actor: "call:" + sc.call.CallID, After: map[string]any{"start": t.start.UTC(), "service": t.service.ID, "status": "confirmed"}, At: s.clock()})
	when := sc.voice().when(t.start)
	return Answer{OK: true, Requested: avail.Requested, Message: s.bookedText(sc, t, when),
		Appointment: &AppointmentView{ID: confirmed.ID, Start: t.start.In(sc.loc).Format(time.RFC3339),
			End: t.start.Add(totalDuration(t.service)).In(sc.loc).Format(time.RFC3339), Service: t.service.Name,
			Status: string(booking.StatusConfirmed), Spoken: when}}, true
}

// bookedText confirms a booking. When the cancel or reschedule notice
// already binds (booked 19 h ahead under a 24 h rule), it says so now, not
// only when the caller later tries to cancel.
func (s *Scheduler) bookedText(sc *scope, t *target, when string) string {
	p := booking.ResolvePolicy(t.service.Policy, sc.branch.Policy, sc.tenant.Policy)
	now := s.realNow(sc)
	c := booking.DecideCancel(p, t.start, now, 0)
	m := booking.DecideReschedule(p, t.start, now, 0)
	cb, mb := c.Rule == booking.RuleNotice, m.Rule == booking.RuleNotice
	var action string
	hours := max(c.NoticeHours, m.NoticeHours)
	switch {
	case cb && mb:
		action = byLocale(sc.locale, "Absagen oder Verschieben", "Cancelling or moving")
	case cb:
		action, hours = byLocale(sc.locale, "Absagen", "Cancelling"), c.NoticeHours
	case mb:
		action, hours = byLocale(sc.locale, "Verschieben", "Moving"), m.NoticeHours
	default:
		return say(sc.locale, msgBooked, t.service.Name, when)
	}
	return say(sc.locale, msgBookedBound, t.service.Name, when, action, hoursText(sc.locale, hours*60))
}

func byLocale(locale, de, en string) string {
	if locale == "en" {
		return en
	}
	return de
}

// takenNow answers slot_taken with fresh alternatives: someone else holds
// the slot (our lock or Cal.com's refusal), even if a slots read still
// shows it free. The cache is dropped first: it was evidently stale.
func (s *Scheduler) takenNow(ctx context.Context, sc *scope, t *target) Answer {
	s.invalidate(ctx, sc, plan(t.service), t.start)
	now := s.realNow(sc)
	from := t.start
	if from.Before(now) {
		from = now
	}
	free, err := s.freeStarts(ctx, sc, t.service, from, searchDays+1)
	if err != nil {
		free = nil // the refusal is certain; only the alternatives are missing
	}
	return s.notAvailable(sc, t, ReasonSlotTaken, free, now)
}

func (s *Scheduler) invalidate(ctx context.Context, sc *scope, segs []segmentPlan, start time.Time) {
	if s.Cache == nil {
		return
	}
	bctx, cancel := detached(ctx)
	defer cancel()
	for _, sg := range segs {
		if err := s.Cache.Invalidate(bctx, sc.tenant.ID, sg.EventTypeID, booking.DayString(start.Add(sg.Offset), sc.loc)); err != nil {
			s.metrics().Count("CacheErrors", 1)
		}
	}
}

// compensate cancels the segments already booked; if that fails, a job
// keeps trying until it is done.
func (s *Scheduler) compensate(ctx context.Context, sc *scope, apptID int64, made []booking.CalendarBooking) {
	var left []string
	for _, b := range made {
		cctx, cancel := detached(ctx)
		err := s.Calendar.Cancel(cctx, sc.tenant, b.UID, "composite booking incomplete")
		cancel()
		if err != nil {
			left = append(left, b.UID)
		}
	}
	if len(left) > 0 {
		s.enqueue(ctx, sc, booking.JobCompensate, "compensate:"+itoa64(apptID), CompensateJob{AppointmentID: apptID, UIDs: left})
	}
}

func (s *Scheduler) markFailed(ctx context.Context, sc *scope, id int64, why string) {
	bctx, cancel := detached(ctx)
	defer cancel()
	_, err := s.Appointments.UpdateAppointment(bctx, sc.tenant.ID, id, func(a *booking.Appointment) (*booking.Appointment, error) {
		a.Status = booking.StatusFailed
		a.IdempotencyKey = "" // a later, separate attempt may use the same key
		for i := range a.Segments {
			a.Segments[i].Status = booking.StatusFailed
		}
		return a, nil
	})
	if err != nil {
		s.log().ErrorContext(ctx, "could not mark appointment failed", "tenant", sc.tenant.ID, "appointment_id", id, "why", why, "error_kind", string(booking.KindOf(err)))
		s.metrics().Count("BookkeepingFailures", 1)
	}
}

func (s *Scheduler) enqueue(ctx context.Context, sc *scope, jobType, key string, payload any) {
	if s.Queue == nil {
		return
	}
	bctx, cancel := detached(ctx)
	defer cancel()
	if err := s.Queue.Enqueue(bctx, jobType, sc.tenant.ID, key, payload); err != nil {
		// The pending row stays visible to reconciliation; make it loud.
		s.log().ErrorContext(ctx, "could not enqueue job", "tenant", sc.tenant.ID, "call_id", sc.call.CallID, "job_type", jobType, "error_kind", string(booking.KindOf(err)))
		s.metrics().Count("EnqueueFailures", 1)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func itoa64(i int64) string { return strconv.FormatInt(i, 10) }
