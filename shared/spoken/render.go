package spoken

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// Renderings are what the agent's TTS voice reads out as is. Choices:
//
//   - German clock times are words, not "14:30": TTS engines read "14:30"
//     variously as "vierzehn dreißig", "vierzehn Uhr dreißig" or digit by
//     digit, while words are read one way only. Full hours use the 24-hour
//     word ("vierzehn Uhr") which needs no qualifier; quarter and half hours
//     use the colloquial form of the example ("um halb drei") that a
//     receptionist says, with "morgens"/"abends"/"nachts" added exactly when
//     the listener's default reading (hours 1–7 in the afternoon, 8–12 in the
//     morning) would be wrong. Other minutes use "vierzehn Uhr zehn".
//     Every rendering parses back to the same time (tested).
//   - German dates keep the digit ordinal of the example
//     ("den 2. März"): German TTS expands "2. März" to "zweiter März", and
//     weekday names are always said so the caller can confirm.
//   - English uses "2:30 PM" and "March 2": a.m./p.m. makes the 12-hour
//     clock unambiguous and TTS reads it reliably.

var germanWeekdays = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}
var germanMonths = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
	"September", "Oktober", "November", "Dezember"}

func isEnglish(locale string) bool { return strings.HasPrefix(strings.ToLower(locale), "en") }

// germanNumber is the spelled German number 0–59 ("fünf", "dreißig").
func germanNumber(n int) string { return umlauts.Replace(germanCardinal(n)) }

var umlauts = strings.NewReplacer("ue", "ü", "oe", "ö", "ss", "ß")

// SpokenDate renders the day: "Montag, 1. März 2027" / "Monday, March 1, 2027".
func SpokenDate(t time.Time, loc *time.Location, locale string) string {
	t = t.In(orUTC(loc))
	if isEnglish(locale) {
		return fmt.Sprintf("%s, %s %d, %d", t.Weekday(), t.Month(), t.Day(), t.Year())
	}
	return fmt.Sprintf("%s, %d. %s %d", germanWeekdays[t.Weekday()], t.Day(), germanMonths[t.Month()], t.Year())
}

// SpokenDateTime renders day and time for confirmation:
// "Dienstag, den 2. März, um halb drei" / "Tuesday, March 2, at 2:30 PM".
func SpokenDateTime(t time.Time, loc *time.Location, locale string) string {
	t = t.In(orUTC(loc))
	if isEnglish(locale) {
		return fmt.Sprintf("%s, %s %d, at %s", t.Weekday(), t.Month(), t.Day(), SpokenTime(t, loc, locale))
	}
	return fmt.Sprintf("%s, den %d. %s, um %s", germanWeekdays[t.Weekday()], t.Day(), germanMonths[t.Month()],
		SpokenTime(t, loc, locale))
}

// SpokenTime renders the wall-clock time in loc: "halb drei", "vierzehn Uhr",
// "viertel nach acht abends" / "2:30 PM".
func SpokenTime(t time.Time, loc *time.Location, locale string) string {
	t = t.In(orUTC(loc))
	if isEnglish(locale) {
		return englishClock(t.Hour(), t.Minute())
	}
	return germanClock(t.Hour(), t.Minute())
}

func germanClock(h, m int) string {
	hourWord := func(n int) string { // before "Uhr": "ein Uhr"
		if n == 1 {
			return "ein"
		}
		return germanNumber(n)
	}
	var s string
	switch m {
	case 0:
		s = hourWord(h) + " Uhr"
	case 15, 30, 45:
		named := h
		if m != 15 {
			named = h + 1
		}
		named %= 12
		if named == 0 {
			named = 12
		}
		word := germanNumber(named)
		switch m {
		case 15:
			s = "viertel nach " + word
		case 30:
			s = "halb " + word
		default:
			s = "viertel vor " + word
		}
		switch {
		case h <= 4:
			return s + " nachts"
		case h <= 7:
			return s + " morgens"
		case h >= 20:
			return s + " abends"
		}
		return s
	default:
		s = hourWord(h) + " Uhr " + germanNumber(m)
	}
	// 24-hour words are unambiguous except 1–7, which would be heard as p.m.
	switch {
	case h >= 1 && h <= 4:
		return s + " nachts"
	case h >= 5 && h <= 7:
		return s + " morgens"
	}
	return s
}

func englishClock(h, m int) string {
	suffix := "AM"
	if h >= 12 {
		suffix = "PM"
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	if m == 0 {
		return fmt.Sprintf("%d %s", h12, suffix)
	}
	return fmt.Sprintf("%d:%02d %s", h12, m, suffix)
}

// SpokenWindow renders a preference: "nachmittags", "zwischen 14 und 16 Uhr"
// / "in the afternoon", "between 2 PM and 4 PM".
func SpokenWindow(w Window, locale string) string {
	en := isEnglish(locale)
	names := map[string][2]string{
		"morning": {"vormittags", "in the morning"}, "midday": {"mittags", "around midday"},
		"afternoon": {"nachmittags", "in the afternoon"}, "evening": {"abends", "in the evening"},
	}
	if n, ok := names[w.Name]; ok {
		if en {
			return n[1]
		}
		return n[0]
	}
	from, to := w.StartMinute > 0, w.EndMinute < endOfDay
	switch {
	case en && from && to:
		return "between " + englishHours(w.StartMinute) + " and " + englishHours(w.EndMinute)
	case en && from:
		return "after " + englishHours(w.StartMinute)
	case en && to:
		return "before " + englishHours(w.EndMinute)
	case en:
		return "any time"
	case from && to:
		return "zwischen " + germanHours(w.StartMinute, false) + " und " + germanHours(w.EndMinute, true)
	case from:
		return "ab " + germanHours(w.StartMinute, true)
	case to:
		return "bis " + germanHours(w.EndMinute, true)
	}
	return "jederzeit"
}

// germanHours renders minutes after midnight for opening hours: "9", "18 Uhr",
// "9 Uhr 30". Digits are fine here: "9 bis 18 Uhr" is read one way only.
func germanHours(minute int, withUhr bool) string {
	h, m := minute/60, minute%60
	if m != 0 {
		return fmt.Sprintf("%d Uhr %d", h, m)
	}
	if withUhr {
		return fmt.Sprintf("%d Uhr", h)
	}
	return fmt.Sprintf("%d", h)
}

func englishHours(minute int) string {
	if minute == endOfDay {
		return "midnight"
	}
	return englishClock(minute/60, minute%60)
}

func rangeText(r booking.TimeRange, en bool) string {
	if en {
		return englishHours(r.Start) + " to " + englishHours(r.End)
	}
	return germanHours(r.Start, r.Start%60 != 0) + " bis " + germanHours(r.End, true)
}

// SpokenOpeningHours renders the week from Monday, grouping days with the
// same hours: "Montag bis Freitag 9 bis 18 Uhr, Samstag 9 bis 14 Uhr,
// Sonntag geschlossen" / "Monday to Friday 9 AM to 6 PM, …".
func SpokenOpeningHours(h booking.OpeningHours, locale string) string {
	en := isEnglish(locale)
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	hoursOf := func(d time.Weekday) string {
		rs := append([]booking.TimeRange(nil), h[d]...)
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
		var parts []string
		for _, r := range rs {
			if r.End > r.Start {
				parts = append(parts, rangeText(r, en))
			}
		}
		if len(parts) == 0 {
			if en {
				return "closed"
			}
			return "geschlossen"
		}
		if en {
			return strings.Join(parts, " and ")
		}
		return strings.Join(parts, " und ")
	}
	dayName := func(d time.Weekday) string {
		if en {
			return d.String()
		}
		return germanWeekdays[d]
	}
	var groups []string
	for i := 0; i < len(order); {
		j := i
		for j+1 < len(order) && hoursOf(order[j+1]) == hoursOf(order[i]) {
			j++
		}
		text := hoursOf(order[i])
		var days string
		switch {
		case i == 0 && j == 6 && len(h) == 0 && en, i == 0 && j == 6 && text == "closed":
			return "closed every day"
		case i == 0 && j == 6 && text == "geschlossen":
			return "an allen Tagen geschlossen"
		case i == 0 && j == 6 && en:
			days = "daily"
		case i == 0 && j == 6:
			days = "täglich"
		case i == j:
			days = dayName(order[i])
		case j == i+1 && en:
			days = dayName(order[i]) + " and " + dayName(order[j])
		case j == i+1:
			days = dayName(order[i]) + " und " + dayName(order[j])
		case en:
			days = dayName(order[i]) + " to " + dayName(order[j])
		default:
			days = dayName(order[i]) + " bis " + dayName(order[j])
		}
		groups = append(groups, days+" "+text)
		i = j + 1
	}
	return strings.Join(groups, ", ")
}

// SpokenDuration renders a length: "eine Stunde", "eineinhalb Stunden",
// "45 Minuten", "2 Stunden und 15 Minuten" / "1 hour", "an hour and a half".
// Words for one and the halves because TTS would say "ein Stunde" for
// "1 Stunde"; digits otherwise, which every voice reads right.
func SpokenDuration(minutes int, locale string) string {
	if minutes < 0 {
		minutes = 0
	}
	h, m := minutes/60, minutes%60
	if isEnglish(locale) {
		switch minutes {
		case 30:
			return "half an hour"
		case 90:
			return "an hour and a half"
		}
		plural := func(n int, unit string) string {
			if n == 1 {
				return "1 " + unit
			}
			return fmt.Sprintf("%d %ss", n, unit)
		}
		switch {
		case h == 0:
			return plural(m, "minute")
		case m == 0:
			return plural(h, "hour")
		}
		return plural(h, "hour") + " and " + plural(m, "minute")
	}
	switch minutes {
	case 30:
		return "eine halbe Stunde"
	case 90:
		return "eineinhalb Stunden"
	}
	mins := func(n int) string {
		if n == 1 {
			return "eine Minute"
		}
		return fmt.Sprintf("%d Minuten", n)
	}
	hours := func(n int) string {
		if n == 1 {
			return "eine Stunde"
		}
		return fmt.Sprintf("%d Stunden", n)
	}
	switch {
	case h == 0:
		return mins(m)
	case m == 0:
		return hours(h)
	}
	return hours(h) + " und " + mins(m)
}
