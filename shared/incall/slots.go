package incall

import (
	"context"
	"sort"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// dayStart is local midnight of t's day in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// eventSlots returns Cal.com's free starts of one event type for the local
// days [first, first+days). Cached days are served from the cache; if any
// is missing, the whole search horizon from first on is read with ONE
// request and every day of it cached (days without slots as empty lists),
// so a call costs at most one slots read and later questions about the
// following days are cache hits. A cache outage only costs speed.
func (s *Scheduler) eventSlots(ctx context.Context, sc *scope, eventTypeID int64, first time.Time, days int) ([]time.Time, error) {
	first = dayStart(first, sc.loc)
	if uid := sc.moving[eventTypeID]; uid != "" {
		if rs, ok := s.Calendar.(booking.RescheduleSlots); ok {
			return rs.SlotsExcluding(ctx, sc.tenant, eventTypeID, first, first.AddDate(0, 0, days), sc.branch.TimeZone, uid)
		}
	}
	var out []time.Time
	complete := s.Cache != nil
	if s.Cache != nil {
		for i := 0; i < days; i++ {
			day := booking.DayString(first.AddDate(0, 0, i), sc.loc)
			slots, ok, err := s.Cache.Get(ctx, sc.tenant.ID, eventTypeID, day)
			if err != nil {
				s.metrics().Count("CacheErrors", 1)
				complete = false
				break
			}
			if !ok {
				complete = false
				break
			}
			out = append(out, slots...)
		}
	}
	if complete {
		s.metrics().Count("CacheHit", 1)
		return out, nil
	}
	s.metrics().Count("CacheMiss", 1)
	fetch := max(days, searchDays+2)
	end := first.AddDate(0, 0, fetch)
	slots, err := s.Calendar.Slots(ctx, sc.tenant, eventTypeID, first, end, sc.branch.TimeZone)
	if err != nil {
		return nil, err
	}
	if s.Cache != nil {
		byDay := make(map[string][]time.Time, fetch)
		for _, sl := range slots {
			d := booking.DayString(sl, sc.loc)
			byDay[d] = append(byDay[d], sl)
		}
		for i := 0; i < fetch; i++ {
			day := booking.DayString(first.AddDate(0, 0, i), sc.loc)
			if err := s.Cache.Put(ctx, sc.tenant.ID, eventTypeID, day, byDay[day]); err != nil {
				s.metrics().Count("CacheErrors", 1)
				break
			}
		}
	}
	limit := first.AddDate(0, 0, days)
	out = slots[:0:0]
	for _, sl := range slots {
		if sl.Before(limit) {
			out = append(out, sl)
		}
	}
	return out, nil
}

// freeStarts returns the starts at which the whole service can be booked
// in [first, first+days): for a composite service every segment's event
// type must offer a slot exactly at its offset.
func (s *Scheduler) freeStarts(ctx context.Context, sc *scope, sv booking.Service, first time.Time, days int) ([]time.Time, error) {
	segs := plan(sv)
	base, err := s.eventSlots(ctx, sc, segs[0].EventTypeID, first, days)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 {
		return sortedUnique(base), nil
	}
	sets := make([]map[int64]bool, len(segs))
	for i := 1; i < len(segs); i++ {
		// A later segment may start the next day only in theory; read one day more.
		sl, err := s.eventSlots(ctx, sc, segs[i].EventTypeID, first, days+1)
		if err != nil {
			return nil, err
		}
		sets[i] = make(map[int64]bool, len(sl))
		for _, t := range sl {
			sets[i][t.Unix()] = true
		}
	}
	var out []time.Time
	for _, st := range base {
		ok := true
		for i := 1; i < len(segs) && ok; i++ {
			ok = sets[i][st.Add(segs[i].Offset).Unix()]
		}
		if ok {
			out = append(out, st)
		}
	}
	return sortedUnique(out), nil
}

func sortedUnique(ts []time.Time) []time.Time {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	out := ts[:0:0]
	for i, t := range ts {
		if i == 0 || !t.Equal(ts[i-1]) {
			out = append(out, t)
		}
	}
	return out
}

// bookable tells whether start can be offered: inside opening hours for
// the whole duration and not earlier than now + minimum notice.
func bookable(sc *scope, sv booking.Service, start, now time.Time) bool {
	if start.Before(now.Add(time.Duration(sc.branch.MinNoticeMinutes) * time.Minute)) {
		return false
	}
	return withinHours(sc, sv, start)
}

func withinHours(sc *scope, sv booking.Service, start time.Time) bool {
	l := start.In(sc.loc)
	end := start.Add(totalDuration(sv)).In(sc.loc)
	if end.YearDay() != l.YearDay() && !(end.Hour() == 0 && end.Minute() == 0) {
		return false
	}
	minute := l.Hour()*60 + l.Minute()
	return sc.branch.OpeningHours.Contains(l.Weekday(), minute, int(end.Sub(start)/time.Minute))
}

// inWindow tells whether start lies in the caller's time-of-day preference.
func inWindow(sc *scope, start time.Time, startMinute, endMinute int) bool {
	l := start.In(sc.loc)
	m := l.Hour()*60 + l.Minute()
	return m >= startMinute && m < endMinute
}
