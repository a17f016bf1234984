package booking

import (
	"sort"
	"time"
)

// RankAlternatives orders candidate starts by closeness to what the caller
// asked for (design §6): first the same local day, nearest first; then the
// same clock time on the following days, earliest day first; then every
// other candidate after the request, earliest first. Candidates must
// already be filtered to bookable starts (opening hours, notice, the
// caller's time-of-day preference); the requested start itself is never
// offered. At most max are returned.
func RankAlternatives(requested time.Time, candidates []time.Time, loc *time.Location, max int) []time.Time {
	if max <= 0 || len(candidates) == 0 {
		return nil
	}
	req := requested.In(loc)
	reqDay := dayKey(req)
	reqClock := req.Hour()*60 + req.Minute()

	seen := make(map[int64]bool, len(candidates))
	var sameDay, sameTime, later []time.Time
	for _, c := range candidates {
		if seen[c.UnixMilli()] || c.Equal(requested) {
			continue
		}
		seen[c.UnixMilli()] = true
		lc := c.In(loc)
		switch {
		case dayKey(lc) == reqDay:
			sameDay = append(sameDay, c)
		case lc.After(req) && lc.Hour()*60+lc.Minute() == reqClock:
			sameTime = append(sameTime, c)
		case c.After(requested):
			later = append(later, c)
		}
	}
	dist := func(t time.Time) time.Duration {
		d := t.Sub(requested)
		if d < 0 {
			return -d
		}
		return d
	}
	sort.SliceStable(sameDay, func(i, j int) bool {
		di, dj := dist(sameDay[i]), dist(sameDay[j])
		if di != dj {
			return di < dj
		}
		return sameDay[i].Before(sameDay[j])
	})
	byTime := func(s []time.Time) { sort.Slice(s, func(i, j int) bool { return s[i].Before(s[j]) }) }
	byTime(sameTime)
	byTime(later)

	out := make([]time.Time, 0, max)
	for _, group := range [][]time.Time{sameDay, sameTime, later} {
		for _, c := range group {
			if len(out) == max {
				return out
			}
			out = append(out, c)
		}
	}
	return out
}

func dayKey(t time.Time) int { y, m, d := t.Date(); return y*10000 + int(m)*100 + d }

// DayString is the local calendar day of t in loc as YYYY-MM-DD, the key of
// cached availability.
func DayString(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }
