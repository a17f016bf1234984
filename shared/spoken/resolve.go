package spoken

import (
	"time"
)

// Request is what the caller asked for: a civil date, and either an exact
// wall-clock time (HasTime) or a time-of-day preference, or neither.
type Request struct {
	Date         Date
	HasTime      bool
	Hour, Minute int
	Preference   *Window
	// Unsure: the words fit this date but callers split on them ("nächsten
	// Samstag" said on a Friday: tomorrow or in eight days?). The agent
	// confirms the date before acting on it.
	Unsure bool
}

// Start is the instant the request denotes in loc: the wall time on Date,
// or local midnight when there is no time. DST is handled by LocalTime: the
// first occurrence of a repeated hour, a time in the spring-forward gap
// shifted forward by the gap (02:30 → 03:30).
func (r Request) Start(loc *time.Location) time.Time {
	if !r.HasTime {
		return r.Date.In(loc)
	}
	return LocalTime(r.Date, r.Hour, r.Minute, loc)
}

// Exists reports whether the requested wall time exists in loc (false for
// a time in a spring-forward gap, where Start shifted it).
func (r Request) Exists(loc *time.Location) bool {
	return !r.HasTime || LocalTimeExists(r.Date, r.Hour, r.Minute, loc)
}

// Resolve understands a spoken or written date and time. ref is the instant
// the caller speaks from, loc the branch's zone, locale "de" (default) or
// "en". Either text may carry the date, the time or both; timeText may also
// be a preference ("nachmittags"). It returns an error whose Reason is
// ReasonUnclearDate or ReasonUnclearTime when something was not understood;
// it never falls back to a default and never moves a past time.
func Resolve(dateText, timeText string, ref time.Time, loc *time.Location, locale string) (Request, error) {
	loc = orUTC(loc)
	today := DateOf(ref, loc)
	primary, secondary := vocabFor(locale)
	df, ok := parseEither(dateText, false, primary, secondary, today, loc)
	if !ok {
		if df.noSuch != nil {
			return Request{}, noSuchDate(*df.noSuch)
		}
		return Request{}, unclearDate()
	}
	tf, ok := parseEither(timeText, true, primary, secondary, today, loc)
	if !ok {
		if tf.noSuch != nil {
			return Request{}, noSuchDate(*tf.noSuch)
		}
		return Request{}, unclearTime()
	}
	all := fieldResult{
		dates:   append(append([]dateExpr{}, df.dates...), tf.dates...),
		offsets: append(append([]int{}, df.offsets...), tf.offsets...),
		times:   append(append([]clockExpr{}, df.times...), tf.times...),
		parts:   append(append([]daypart{}, df.parts...), tf.parts...),
		ranges:  append(append([]rangeExpr{}, df.ranges...), tf.ranges...),
	}
	// An ISO midnight without offset is a padded date ("2027-03-02T00:00:00"),
	// not a wish for midnight.
	strong := all.times[:0]
	for _, c := range all.times {
		if !c.weak {
			strong = append(strong, c)
		}
	}
	all.times = strong
	d, ok := combineDates(all, today)
	if !ok {
		return Request{}, unclearDate()
	}
	req := Request{Date: d, Unsure: df.unsure || tf.unsure}
	if len(all.times) == 0 && len(all.parts) == 0 && len(all.ranges) == 0 {
		if !tf.empty {
			// Something was said about the time but none of it was a time.
			return Request{}, unclearTime()
		}
		return req, nil
	}
	if len(all.times) > 0 {
		h, m, ok := combineTimes(all)
		if !ok {
			return Request{}, unclearTime()
		}
		req.HasTime, req.Hour, req.Minute = true, h, m
		return req, nil
	}
	w, ok := combineWindow(all.parts, all.ranges)
	if !ok {
		return Request{}, unclearTime()
	}
	req.Preference = &w
	return req, nil
}

// parseEither reads a field with the locale's vocabulary, then with the
// other language's. A blank field is an empty result.
func parseEither(text string, timeField bool, primary, secondary *vocab, today Date, loc *time.Location) (fieldResult, bool) {
	r, ok := parseField(text, timeField, primary, today, loc)
	if ok {
		return r, true
	}
	r2, ok := parseField(text, timeField, secondary, today, loc)
	if !ok && r2.noSuch == nil {
		r2.noSuch = r.noSuch
	}
	return r2, ok
}

func combineDates(all fieldResult, today Date) (Date, bool) {
	var explicit *Date
	for _, e := range all.dates {
		if e.explicit {
			if explicit != nil && *explicit != e.d {
				return Date{}, false
			}
			d := e.d
			explicit = &d
		}
	}
	if explicit != nil {
		if len(all.offsets) > 0 {
			return Date{}, false
		}
		for _, e := range all.dates {
			switch {
			case e.explicit:
			case e.weekdayd:
				// "Dienstag, den 2. März": the weekday must fit the date.
				if e.weekday != explicit.Weekday() {
					return Date{}, false
				}
			case e.d != *explicit: // "morgen, den 2. März" said on another day
				return Date{}, false
			}
		}
		return *explicit, true
	}
	if len(all.offsets) > 1 {
		return Date{}, false
	}
	base, hasBase := today, false
	for _, e := range all.dates {
		if hasBase && e.d != base {
			return Date{}, false
		}
		base, hasBase = e.d, true
	}
	if len(all.offsets) == 1 {
		return base.AddDays(all.offsets[0]), true
	}
	return base, hasBase
}

// combineTimes applies qualifiers (or the afternoon rule) to every time
// said; all of them must agree.
func combineTimes(all fieldResult) (h, m int, ok bool) {
	if len(all.ranges) > 0 {
		return 0, 0, false
	}
	first := true
	for _, c := range all.times {
		hh, ok := qualify(c, all.parts)
		if !ok || (!first && (hh != h || c.m != m)) {
			return 0, 0, false
		}
		h, m, first = hh, c.m, false
	}
	return h, m, true
}

// qualify turns a clock time as said into a 24-hour hour. Without a
// qualifier an hour said 1–7 is in the afternoon, 8–12 in the morning/noon.
func qualify(c clockExpr, parts []daypart) (int, bool) {
	if len(parts) == 0 {
		if c.ambiguous && c.h >= 1 && c.h <= 7 {
			return c.h + 12, true
		}
		return c.h, true
	}
	h := -1
	for _, dp := range parts {
		hh, ok := qualifyOne(c, dp)
		if !ok || (h >= 0 && hh != h) {
			return 0, false
		}
		h = hh
	}
	return h, true
}

func qualifyOne(c clockExpr, dp daypart) (int, bool) {
	h := c.h
	if c.ambiguous {
		switch dp {
		case dpMorning:
			return h, h <= 11
		case dpAM:
			return h % 12, true
		case dpMidday:
			if h == 11 || h == 12 {
				return h, true
			}
			return h + 12, h <= 3
		case dpAfternoon:
			if h == 12 {
				return 12, true
			}
			return h + 12, h <= 7
		case dpPM:
			if h == 12 {
				return 12, true
			}
			return h + 12, true
		case dpEvening:
			return h + 12, h >= 4 && h <= 11
		case dpNight:
			switch {
			case h == 12:
				return 0, true
			case h <= 5:
				return h, true
			case h >= 9:
				return h + 12, true
			}
			return 0, false
		}
		return 0, false
	}
	// Said the 24-hour way: the qualifier must merely fit.
	switch dp {
	case dpMorning:
		return h, h >= 4 && h <= 11
	case dpMidday:
		return h, h >= 11 && h <= 14
	case dpAfternoon:
		return h, h >= 12 && h <= 19
	case dpEvening:
		return h, h >= 16 && h <= 23
	case dpNight:
		return h, h >= 21 || h <= 5
	case dpAM:
		return h, h <= 11
	}
	return 0, false // "14:30 pm"
}
