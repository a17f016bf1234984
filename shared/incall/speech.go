package incall

import (
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/spoken"
)

// maxWords is the longest answer a caller hears in one go; only the lists
// of several appointments or services may be longer.
const maxWords = 30

// wordCount counts spoken words: whitespace-separated tokens with a letter
// or digit ("8." and "Dezember," count, a lone "–" does not).
func wordCount(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			n++
		}
	}
	return n
}

// voice renders instants for one answer: the branch's zone, the tenant's
// language and the day the caller speaks from (which decides the year).
type voice struct {
	locale string
	loc    *time.Location
	ref    time.Time
}

func (sc *scope) voice() voice { return voice{locale: sc.locale, loc: sc.loc, ref: sc.now} }

func (v voice) en() bool                { return v.locale == "en" }
func (v voice) when(t time.Time) string { return spoken.DateTime(t, v.loc, v.locale, v.ref) }
func (v voice) day(t time.Time) string  { return spoken.Day(t, v.loc, v.locale, v.ref) }
func (v voice) clock(t time.Time) string {
	return spoken.SpokenTime(t, v.loc, v.locale)
}

// dayAfter names day t after the day prev was named: German drops the
// month and year when they repeat ("am Mittwoch, den 9. Dezember … oder am
// Donnerstag, den 10."), as a receptionist does.
func (v voice) dayAfter(t, prev time.Time) string {
	full := v.day(t)
	if v.en() || prev.IsZero() {
		return full
	}
	d, p := spoken.DateOf(t, v.loc), spoken.DateOf(prev, v.loc)
	if d.Year != p.Year || d.Month != p.Month || strings.HasSuffix(full, itoa(d.Year)) {
		return full
	}
	return strings.TrimSuffix(full, " "+germanMonthOf(full))
}

// germanMonthOf is the last word of a German day phrase ("Dezember").
func germanMonthOf(phrase string) string {
	f := strings.Fields(phrase)
	return f[len(f)-1]
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	return spoken.DateOf(a, loc) == spoken.DateOf(b, loc)
}

// dayGroup is the offered times of one day, in time order.
type dayGroup struct{ times []time.Time }

func groupByDay(ts []time.Time, loc *time.Location) []dayGroup {
	sorted := append([]time.Time(nil), ts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	var out []dayGroup
	for _, t := range sorted {
		if n := len(out); n > 0 && sameDay(out[n-1].times[0], t, loc) {
			out[n-1].times = append(out[n-1].times, t)
			continue
		}
		out = append(out, dayGroup{times: []time.Time{t}})
	}
	return out
}

// offerText is the sentence offering alts, grouped by day in time order:
// "Am Dienstag, den 8. Dezember kann ich Ihnen zwölf Uhr, halb eins oder
// halb zwei anbieten." namesDay tells whether it names the requested day
// itself (then the sentence before it names only the time). Several days:
// "Ich kann Ihnen am selben Tag um zwölf Uhr oder am Mittwoch, den 9., um
// halb eins anbieten."
func (v voice) offerText(requested time.Time, alts []time.Time) (text string, namesDay bool) {
	groups := groupByDay(alts, v.loc)
	if len(groups) == 0 {
		return "", false
	}
	if len(groups) == 1 {
		g := groups[0]
		times := make([]string, len(g.times))
		for i, t := range g.times {
			times[i] = v.clock(t)
		}
		namesDay = !requested.IsZero() && sameDay(g.times[0], requested, v.loc)
		return say(v.locale, msgOfferDay, v.day(g.times[0]), joinOr(v.locale, times)), namesDay
	}
	if same := sameClock(groups, v.loc); same && (requested.IsZero() || !sameDay(groups[0].times[0], requested, v.loc)) {
		// One time on each of several days: "am Mittwoch, den 3. März,
		// Donnerstag, den 4., oder Freitag, den 5., jeweils um vierzehn Uhr".
		days := make([]string, len(groups))
		prev := requested
		for i, g := range groups {
			if v.en() {
				days[i] = v.day(g.times[0])
			} else {
				days[i] = v.dayAfter(g.times[0], prev)
			}
			prev = g.times[0]
		}
		if v.en() {
			return say(v.locale, msgOfferDays, joinOr(v.locale, days)+", each at "+v.clock(groups[0].times[0])), false
		}
		return say(v.locale, msgOfferDays, "am "+joinOr(v.locale, days)+", jeweils um "+v.clock(groups[0].times[0])), false
	}
	items := make([]string, 0, len(groups))
	prev := requested
	for _, g := range groups {
		times := make([]string, len(g.times))
		for i, t := range g.times {
			times[i] = v.clock(t)
		}
		at := joinAnd(v.locale, times)
		var label string
		switch {
		case !requested.IsZero() && sameDay(g.times[0], requested, v.loc) && v.en():
			label = "the same day"
		case !requested.IsZero() && sameDay(g.times[0], requested, v.loc):
			label = "am selben Tag"
		case v.en():
			label = v.day(g.times[0])
		default:
			label = "am " + v.dayAfter(g.times[0], prev) + ","
		}
		prev = g.times[0]
		if v.en() {
			items = append(items, label+" at "+at)
		} else {
			items = append(items, label+" um "+at)
		}
	}
	return say(v.locale, msgOfferDays, joinOr(v.locale, items)), false
}

var germanMonthNames = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
	"September", "Oktober", "November", "Dezember"}

// noSuchDay asks about a day the calendar lacks: "Den 29. Februar gibt es
// 2027 nicht. Meinen Sie Sonntag, den 28. Februar, oder Montag, den 1. März?"
func (v voice) noSuchDay(d spoken.Date) string {
	first := time.Date(d.Year, d.Month, 1, 12, 0, 0, 0, v.loc)
	last := first.AddDate(0, 1, -1)
	next := first.AddDate(0, 1, 0)
	named := itoa(d.Day) + ". " + germanMonthNames[d.Month]
	if v.en() {
		named = d.Month.String() + " " + itoa(d.Day)
	}
	a, b := v.day(last)+",", v.day(next)
	if d.Month == time.February && d.Day == 29 {
		return say(v.locale, msgNoSuchDayYear, named, d.Year, a, b)
	}
	return say(v.locale, msgNoSuchDay, named, a, b)
}

// serviceCandidates are the services a partial name fits equally well
// ("Haarschnitt": Damen- and Herrenhaarschnitt).
func serviceCandidates(svcs []booking.Service, name string) []booking.Service {
	q := fold(name)
	if q == "" {
		return nil
	}
	var partial []booking.Service
	for _, sv := range svcs {
		for _, n := range append([]string{sv.Name}, sv.Synonyms...) {
			fn := fold(n)
			if strings.Contains(fn, q) || strings.Contains(q, fn) {
				partial = append(partial, sv)
				break
			}
		}
	}
	sort.SliceStable(partial, func(i, j int) bool { return partial[i].Priority < partial[j].Priority })
	var out []booking.Service
	for _, sv := range partial {
		if sv.Priority == partial[0].Priority {
			out = append(out, sv)
		}
	}
	return out
}

// whichOf asks between services: "Damen- oder Herrenhaarschnitt" when the
// German names share the word said, else "Färben oder Tönen".
func whichOf(locale string, svcs []booking.Service) string {
	names := make([]string, len(svcs))
	for i, sv := range svcs {
		names[i] = sv.Name
	}
	if locale != "en" && len(names) > 1 {
		suffix := commonSuffix(names)
		// Only a whole word part ("haarschnitt"), not a shared "en".
		if k := strings.IndexFunc(suffix, unicode.IsUpper); k >= 0 {
			suffix = suffix[k:]
		} else if len(suffix) >= 4 {
			for len(suffix) > 0 && !startsWord(names, suffix) {
				_, size := firstRune(suffix)
				suffix = suffix[size:]
			}
		} else {
			suffix = ""
		}
		if len(suffix) >= 4 {
			heads := make([]string, len(names))
			for i, n := range names {
				heads[i] = strings.TrimSuffix(n, suffix)
				if heads[i] == "" {
					return joinOr(locale, names)
				}
			}
			for i := 0; i < len(heads)-1; i++ {
				heads[i] += "-"
			}
			heads[len(heads)-1] += suffix
			return joinOr(locale, heads)
		}
	}
	return joinOr(locale, names)
}

// startsWord: the suffix begins a German compound part in every name, i.e.
// what precedes it ends a word part (the common "en" of "Damen"/"Herren"
// belongs to the heads). Heuristic: the suffix starts with a consonant
// followed by a vowel, or with a vowel after a consonant-ending head.
func startsWord(names []string, suffix string) bool {
	r, _ := firstRune(suffix)
	return strings.ContainsRune("bcdfghjklmnpqrstvwxzß", unicode.ToLower(r)) && len(suffix) > 1 &&
		strings.ContainsRune("aeiouäöü", unicode.ToLower([]rune(suffix)[1]))
}

func firstRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

func commonSuffix(ss []string) string {
	suf := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasSuffix(s, suf) {
			_, size := firstRune(suf)
			suf = suf[size:]
		}
	}
	return suf
}

// sameClock: every day offers exactly one time, the same on each.
func sameClock(groups []dayGroup, loc *time.Location) bool {
	for _, g := range groups {
		if len(g.times) != 1 {
			return false
		}
		a, b := g.times[0].In(loc), groups[0].times[0].In(loc)
		if a.Hour() != b.Hour() || a.Minute() != b.Minute() {
			return false
		}
	}
	return true
}
