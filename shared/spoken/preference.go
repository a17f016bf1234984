package spoken

// Window is a time-of-day preference: [StartMinute, EndMinute) after local
// midnight. Name is a stable code: "morning", "midday", "afternoon",
// "evening" for the day-part words, "range" for "ab 15 Uhr",
// "zwischen 14 und 16 Uhr" and the like.
type Window struct {
	StartMinute, EndMinute int
	Name                   string
}

// The one definition of each day part (the original system had three
// different "nachmittags"). They overlap on purpose: "mittags" lies between
// the morning and the afternoon, and whoever says "abends" at 17:30 means it.
var (
	Morning   = Window{8 * 60, 12 * 60, "morning"}    // vormittags, morgens, früh, morning
	Midday    = Window{11*60 + 30, 14 * 60, "midday"} // mittags, midday, lunchtime
	Afternoon = Window{12 * 60, 18 * 60, "afternoon"} // nachmittags, afternoon
	Evening   = Window{17 * 60, 21 * 60, "evening"}   // abends, evening, tonight
)

const endOfDay = 24 * 60

// Contains reports whether minute (after local midnight) lies in the window.
func (w Window) Contains(minute int) bool { return minute >= w.StartMinute && minute < w.EndMinute }

func partWindow(dp daypart) (Window, bool) {
	switch dp {
	case dpMorning:
		return Morning, true
	case dpMidday:
		return Midday, true
	case dpAfternoon:
		return Afternoon, true
	case dpEvening:
		return Evening, true
	}
	return Window{}, false // night, a.m., p.m. alone are no usable preference
}

// ParsePreference reads a time-of-day preference ("nachmittags",
// "vormittags", "ab 15 Uhr", "zwischen 14 und 16 Uhr", "in the evening").
// Dates in the text are ignored; an exact time is not a preference.
func ParsePreference(text, locale string) (Window, bool) {
	primary, secondary := vocabFor(locale)
	// Dates are ignored, so any reference day will do.
	f, ok := parseEither(text, true, primary, secondary, Date{2000, 1, 3}, nil)
	if !ok || len(f.times) > 0 {
		return Window{}, false
	}
	return combineWindow(f.parts, f.ranges)
}

func combineWindow(parts []daypart, ranges []rangeExpr) (Window, bool) {
	var dp daypart
	for _, p := range parts {
		if dp != dpNone && p != dp {
			return Window{}, false
		}
		dp = p
	}
	if len(ranges) > 1 || dp == dpNone && len(ranges) == 0 {
		return Window{}, false
	}
	pw, hasPart := partWindow(dp)
	if dp != dpNone && !hasPart && len(ranges) == 0 {
		return Window{}, false
	}
	if len(ranges) == 0 {
		return pw, true
	}
	r := ranges[0]
	bound := func(c clockExpr) int {
		if dp != dpNone {
			if h, ok := qualifyOne(c, dp); ok {
				return h*60 + c.m
			}
		}
		h, _ := qualify(c, nil)
		return h*60 + c.m
	}
	w := Window{0, endOfDay, "range"}
	if r.hasFrom {
		w.StartMinute = bound(r.from)
	}
	if r.hasTo {
		w.EndMinute = bound(r.to)
		if w.EndMinute == 0 && r.to.h == 0 && !r.to.ambiguous {
			w.EndMinute = endOfDay // "bis Mitternacht"
		}
	}
	if hasPart {
		w.StartMinute = max(w.StartMinute, pw.StartMinute)
		w.EndMinute = min(w.EndMinute, pw.EndMinute)
	}
	if w.EndMinute <= w.StartMinute || w.StartMinute < 0 || w.EndMinute > endOfDay {
		return Window{}, false
	}
	return w, true
}
