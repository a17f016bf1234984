package spoken

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// The phrases below are the one date style of every answer: "Dienstag, den
// 8. Dezember" / "Tuesday, December 8". The year is said only when it is
// not the caller's current year or the day is more than about six months
// ahead: a date that far out is easily misheard by a year, a date this
// season never is.

// yearHorizonDays is "about six months": beyond it a date carries its year.
const yearHorizonDays = 183

// NeedsYear tells whether day d, said on day ref, is read with its year.
func NeedsYear(d, ref Date) bool {
	return d.Year != ref.Year || ref.DaysUntil(d) > yearHorizonDays
}

// Day renders the day of t in loc as said on ref: "Dienstag, den 8.
// Dezember" ("… 8. Dezember 2027" with the year) / "Tuesday, December 8"
// ("…, 2027").
func Day(t time.Time, loc *time.Location, locale string, ref time.Time) string {
	d := DateOf(t, loc)
	withYear := NeedsYear(d, DateOf(ref, loc))
	if isEnglish(locale) {
		s := fmt.Sprintf("%s, %s %d", d.Weekday(), d.Month, d.Day)
		if withYear {
			s += fmt.Sprintf(", %d", d.Year)
		}
		return s
	}
	s := fmt.Sprintf("%s, den %d. %s", germanWeekdays[d.Weekday()], d.Day, germanMonths[d.Month])
	if withYear {
		s += fmt.Sprintf(" %d", d.Year)
	}
	return s
}

// DateTime renders day and time as said on ref: "Dienstag, den 8.
// Dezember, um zwölf Uhr" / "Tuesday, December 8, at 12 PM".
func DateTime(t time.Time, loc *time.Location, locale string, ref time.Time) string {
	if isEnglish(locale) {
		return Day(t, loc, locale, ref) + ", at " + SpokenTime(t, loc, locale)
	}
	return Day(t, loc, locale, ref) + ", um " + SpokenTime(t, loc, locale)
}

// Relative is "heute"/"morgen" ("today"/"tomorrow") for those days as
// seen from ref, "" for any other.
func Relative(t time.Time, loc *time.Location, locale string, ref time.Time) string {
	switch DateOf(ref, loc).DaysUntil(DateOf(t, loc)) {
	case 0:
		if isEnglish(locale) {
			return "today"
		}
		return "heute"
	case 1:
		if isEnglish(locale) {
			return "tomorrow"
		}
		return "morgen"
	}
	return ""
}

// SpokenDayHours renders one weekday's opening hours: "9 bis 18 Uhr",
// "9 bis 12 Uhr und 13 bis 18 Uhr" / "9 AM to 6 PM"; "" when closed.
func SpokenDayHours(h booking.OpeningHours, wd time.Weekday, locale string) string {
	en := isEnglish(locale)
	rs := append([]booking.TimeRange(nil), h[wd]...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	var parts []string
	for _, r := range rs {
		if r.End > r.Start {
			parts = append(parts, rangeText(r, en))
		}
	}
	if en {
		return strings.Join(parts, " and ")
	}
	return strings.Join(parts, " und ")
}
