package incall

import (
	"context"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/spoken"
)

// target is a resolved request: which service, when, and with which
// time-of-day preference.
type target struct {
	service booking.Service
	req     spoken.Request
	start   time.Time // zero when no time was given
	window  *spoken.Window
}

// resolveTarget turns the caller's words into a service and a time. It
// answers (never errors) for anything the caller must clarify.
func (s *Scheduler) resolveTarget(sc *scope, serviceName, date, clock, preference string) (*target, *Answer) {
	sv, ok := findService(sc.services, serviceName)
	if !ok {
		// "Haarschnitt" fits Damen- and Herrenhaarschnitt: ask which one.
		if cands := serviceCandidates(sc.services, serviceName); len(cands) > 1 {
			a := fail(ReasonUnknownService, say(sc.locale, msgWhichOf, capitalize(whichOf(sc.locale, cands))))
			return nil, &a
		}
		id := msgUnknownService
		if serviceName == "" {
			id = msgWhichService
		}
		a := fail(ReasonUnknownService, say(sc.locale, id, serviceNames(sc.services, sc.locale)))
		return nil, &a
	}
	if sv.Composite() && !s.flag(sc, "composite_services", s.CompositeServices) {
		a := fail(ReasonUnknownService, say(sc.locale, msgUnknownService, serviceNames(simpleOnly(sc.services), sc.locale)))
		return nil, &a
	}
	req, err := spoken.Resolve(date, clock, sc.now, sc.loc, sc.locale)
	if err != nil {
		if spoken.Reason(err) == spoken.ReasonUnclearTime {
			a := fail(ReasonUnclearTime, say(sc.locale, msgUnclearTime))
			return nil, &a
		}
		if d, ok := spoken.NoSuchDate(err); ok {
			a := fail(ReasonUnclearDate, sc.voice().noSuchDay(d))
			return nil, &a
		}
		a := fail(ReasonUnclearDate, say(sc.locale, msgUnclearDate))
		return nil, &a
	}
	if req.Unsure {
		// "nächsten Samstag" said on a Friday: confirm the date rather
		// than decide silently between tomorrow and next week.
		day := req.Date.In(sc.loc)
		v := sc.voice()
		words := v.day(day)
		if rel := spoken.Relative(day, sc.loc, sc.locale, sc.now); rel != "" {
			words = rel + ", " + words
		}
		a := fail(ReasonUnclearDate, say(sc.locale, msgConfirmDate, words))
		return nil, &a
	}
	t := &target{service: sv, req: req, window: req.Preference}
	if preference != "" && t.window == nil {
		if w, ok := spoken.ParsePreference(preference, sc.locale); ok {
			t.window = &w
		}
	}
	if req.HasTime {
		// A time in the spring-forward gap does not exist on the wall clock;
		// rather than book the shifted time silently, ask again.
		if !req.Exists(sc.loc) {
			a := fail(ReasonUnclearTime, say(sc.locale, msgUnclearTime))
			return nil, &a
		}
		t.start = req.Start(sc.loc)
	}
	return t, nil
}

func simpleOnly(svcs []booking.Service) []booking.Service {
	var out []booking.Service
	for _, s := range svcs {
		if !s.Composite() {
			out = append(out, s)
		}
	}
	return out
}

// CheckAvailability answers whether the requested time is free and offers
// up to three alternatives when it is not.
func (s *Scheduler) CheckAvailability(ctx context.Context, call Call, args Args) (Answer, error) {
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
	a, err := s.availability(ctx, sc, t)
	if err != nil {
		return s.unavailable(ctx, sc, err), nil
	}
	return a, nil
}

func deref(a *Answer) Answer {
	if a == nil {
		return Answer{}
	}
	return *a
}

// availability is shared by check-availability, booking and rescheduling.
func (s *Scheduler) availability(ctx context.Context, sc *scope, t *target) (Answer, error) {
	now := s.realNow(sc)
	if t.start.IsZero() {
		return s.dayOptions(ctx, sc, t, now)
	}
	reason := ""
	switch {
	case t.start.Before(now):
		reason = ReasonPast
	case t.start.Before(now.Add(time.Duration(sc.branch.MinNoticeMinutes) * time.Minute)):
		reason = ReasonTooSoon
	case !withinHours(sc, t.service, t.start):
		reason = ReasonClosed
	}
	if reason == "" {
		// The requested day alone answers "free" (one cached day to read);
		// only a "no" needs the days after it for alternatives.
		day, err := s.freeStarts(ctx, sc, t.service, t.start, 1)
		if err != nil {
			return Answer{}, err
		}
		for _, f := range day {
			if f.Equal(t.start) { // exactly a slot start: no "close enough"
				when := sc.voice().when(t.start)
				return Answer{OK: true, Available: boolPtr(true), Requested: t.start.In(sc.loc).Format(time.RFC3339),
					Message: say(sc.locale, msgAvailable, capitalize(when))}, nil
			}
		}
		reason = ReasonSlotTaken
	}
	from := t.start
	if from.Before(now) {
		from = now // a past request is answered, never moved: alternatives start now
	}
	free, err := s.freeStarts(ctx, sc, t.service, from, searchDays+1)
	if err != nil {
		return Answer{}, err
	}
	return s.notAvailable(sc, t, reason, free, now), nil
}

// notAvailable answers why the requested start cannot be booked and offers
// up to three alternatives from free (the requested start never among them).
// An answer that would run past maxWords offers fewer: the lowest-ranked
// alternative goes first.
func (s *Scheduler) notAvailable(sc *scope, t *target, reason string, free []time.Time, now time.Time) Answer {
	alts := s.alternatives(sc, t, free, now)
	a := Answer{Reason: reason, Available: boolPtr(false), Requested: t.start.In(sc.loc).Format(time.RFC3339)}
	for {
		a.Message = s.refusal(sc, t.start, reason, alts)
		if wordCount(a.Message) <= maxWords || len(alts) <= 1 {
			break
		}
		alts = alts[:len(alts)-1]
	}
	if len(alts) > 0 {
		a.Alternatives = alts
	}
	return a
}

// refusal is the answer to a start that cannot be booked: why, then the
// offer. The requested day is named once: in the offer when the
// alternatives are all on that day, else in the reason.
func (s *Scheduler) refusal(sc *scope, start time.Time, reason string, alts []Alternative) string {
	v := sc.voice()
	times := make([]time.Time, 0, len(alts))
	for _, a := range alts {
		if t, err := time.Parse(time.RFC3339, a.Start); err == nil {
			times = append(times, t)
		}
	}
	offer, namesDay := v.offerText(start, times)
	if offer == "" {
		offer = s.noOffer(sc)
	}
	return v.why(sc, start, reason, namesDay) + " " + offer
}

// why says why start cannot be booked; timeOnly when the day is named in
// the offer that follows.
func (v voice) why(sc *scope, start time.Time, reason string, timeOnly bool) string {
	when := capitalize(v.when(start))
	clock := v.clock(start)
	hours := spoken.SpokenDayHours(sc.branch.OpeningHours, start.In(v.loc).Weekday(), v.locale)
	switch reason {
	case ReasonPast:
		if timeOnly {
			return say(v.locale, msgPastAt, capitalize(clock))
		}
		return say(v.locale, msgPast, when)
	case ReasonTooSoon:
		if timeOnly {
			return say(v.locale, msgTooSoonAt, clock, hoursText(v.locale, sc.branch.MinNoticeMinutes))
		}
		return say(v.locale, msgTooSoon, when, hoursText(v.locale, sc.branch.MinNoticeMinutes))
	case ReasonClosed:
		switch {
		case hours == "":
			return say(v.locale, msgClosedDay, v.day(start))
		case timeOnly:
			return say(v.locale, msgClosedAt, clock, hours)
		}
		return say(v.locale, msgClosed, when, hours)
	}
	if timeOnly {
		return say(v.locale, msgTakenAt, clock)
	}
	return say(v.locale, msgTaken, when)
}

// noOffer is the sentence after a "no" without alternatives.
func (s *Scheduler) noOffer(sc *scope) string {
	if !s.flag(sc, "alternatives", s.Alternatives) {
		return say(sc.locale, msgAskOther)
	}
	return say(sc.locale, msgNoAlternatives)
}

// alternatives filters free starts to bookable ones in the caller's
// preference and ranks them by closeness to the request.
func (s *Scheduler) alternatives(sc *scope, t *target, free []time.Time, now time.Time) []Alternative {
	if !s.flag(sc, "alternatives", s.Alternatives) {
		return nil
	}
	var cands []time.Time
	for _, f := range free {
		if !bookable(sc, t.service, f, now) {
			continue
		}
		if t.window != nil && !inWindow(sc, f, t.window.StartMinute, t.window.EndMinute) {
			continue
		}
		cands = append(cands, f)
	}
	ranked := booking.RankAlternatives(t.start, cands, sc.loc, maxAlternative)
	out := make([]Alternative, 0, len(ranked))
	for _, r := range ranked {
		out = append(out, Alternative{Start: r.In(sc.loc).Format(time.RFC3339), Spoken: sc.voice().when(r)})
	}
	return out
}

// dayOptions answers a date without a time: up to three free times that
// day, or on the next day that has any. A day before today is past.
func (s *Scheduler) dayOptions(ctx context.Context, sc *scope, t *target, now time.Time) (Answer, error) {
	day := t.req.Date.In(sc.loc)
	v := sc.voice()
	dayWords := v.day(day)
	if day.AddDate(0, 0, 1).Before(now) || day.AddDate(0, 0, 1).Equal(now) {
		return Answer{OK: false, Reason: ReasonPast, Available: boolPtr(false),
			Message: say(sc.locale, msgDayPast, dayWords)}, nil
	}
	from := day
	if from.Before(now) {
		from = now
	}
	free, err := s.freeStarts(ctx, sc, t.service, from, searchDays+1)
	if err != nil {
		return Answer{}, err
	}
	var picked []time.Time
	var pickedDay string
	for _, f := range free {
		if f.Before(day) || !bookable(sc, t.service, f, now) {
			continue
		}
		if t.window != nil && !inWindow(sc, f, t.window.StartMinute, t.window.EndMinute) {
			continue
		}
		d := booking.DayString(f, sc.loc)
		if pickedDay == "" {
			pickedDay = d
		}
		if d != pickedDay {
			break
		}
		picked = append(picked, f)
	}
	if len(picked) == 0 {
		return Answer{OK: false, Reason: ReasonSlotTaken, Available: boolPtr(false), Message: say(sc.locale, msgDayNoOptions, dayWords)}, nil
	}
	picked = spread(picked, maxAlternative)
	a := Answer{OK: true, Available: boolPtr(true)}
	for _, p := range picked {
		a.Alternatives = append(a.Alternatives, Alternative{Start: p.In(sc.loc).Format(time.RFC3339), Spoken: v.when(p)})
	}
	a.Message = v.dayOptionsText(day, picked)
	return a, nil
}

// dayOptionsText offers the free times of one day; when that is not the
// day asked for, it first says the asked day has nothing.
func (v voice) dayOptionsText(asked time.Time, picked []time.Time) string {
	times := make([]string, 0, len(picked))
	for _, p := range picked {
		times = append(times, v.clock(p))
	}
	if !sameDay(picked[0], asked, v.loc) {
		return say(v.locale, msgDayOtherOptions, v.day(asked), v.dayAfter(picked[0], asked), joinOr(v.locale, times))
	}
	return say(v.locale, msgDayOptions, v.day(picked[0]), joinOr(v.locale, times))
}

// spread picks n times spread over the day (first, middle, last) instead
// of three neighbouring quarter hours.
func spread(ts []time.Time, n int) []time.Time {
	if len(ts) <= n {
		return ts
	}
	out := make([]time.Time, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, ts[i*(len(ts)-1)/(n-1)])
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r)
}

// unavailable turns a dependency failure into an honest answer and records
// a callback request so nobody is forgotten.
func (s *Scheduler) unavailable(ctx context.Context, sc *scope, err error) Answer {
	s.log().WarnContext(ctx, "dependency unavailable during call", "tenant", sc.tenant.ID, "call_id", sc.call.CallID, "error_kind", string(booking.KindOf(err)), "error", booking.MessageOf(err))
	s.metrics().Count("CalendarUnavailable", 1)
	s.recordCallback(ctx, sc, nil, ReasonCalendarUnavailable)
	return fail(ReasonCalendarUnavailable, say(sc.locale, msgCalendarDown))
}

func (s *Scheduler) recordCallback(ctx context.Context, sc *scope, customerID *int64, reason string) {
	s.recordCallbackTo(ctx, sc, customerID, sc.call.FromNumber, reason)
}

// recordCallbackTo records a callback to phone (the calling number, or one
// the caller gave).
func (s *Scheduler) recordCallbackTo(ctx context.Context, sc *scope, customerID *int64, phone, reason string) {
	if s.Callbacks == nil {
		return
	}
	bctx, cancel := detached(ctx)
	defer cancel()
	if err := s.Callbacks.RecordCallback(bctx, sc.tenant.ID, sc.branch.ID, sc.call.CallID, customerID, phone, reason); err != nil {
		// Visible, not swallowed: an error log and a metric.
		s.log().ErrorContext(ctx, "could not record callback request", "tenant", sc.tenant.ID, "call_id", sc.call.CallID, "reason", reason, "error_kind", string(booking.KindOf(err)))
		s.metrics().Count("CallbackRecordFailures", 1)
	}
}
