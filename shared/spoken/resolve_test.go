package spoken

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is 10:00 Berlin time on the given day: the instant a caller speaks from.
func at(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, berlin) }

var (
	sat18  = at(2025, 10, 18) // scenarios 18–20
	sun19  = at(2025, 10, 19)
	mon20  = at(2025, 10, 20)
	tue21  = at(2025, 10, 21)
	wed15  = at(2025, 10, 15)
	fri17  = at(2025, 10, 17)
	mon13  = at(2025, 10, 13) // scenario 22
	fri05  = at(2025, 12, 5)  // scenario 21
	sat20  = at(2025, 12, 20)
	sat15  = at(2025, 11, 15)
	mar01  = at(2027, 3, 1)   // a Monday; "Dienstag, den 2. März" of the issue
	spring = at(2027, 3, 26)  // Friday before the spring-forward Sunday 28.03.2027
	autumn = at(2027, 10, 29) // Friday before the fall-back Sunday 31.10.2027
	nye    = at(2026, 12, 31) // a Thursday
	// 00:30 on the spring-forward Sunday in Berlin, still the 27th in UTC.
	earlySun = time.Date(2027, 3, 27, 23, 30, 0, 0, time.UTC)
)

type resolveCase struct {
	ref        time.Time
	date, time string
	locale     string // "" = de
	want       string // reason, "YYYY-MM-DD", RFC 3339 start, or "YYYY-MM-DD ~window"
	loc        *time.Location
}

var resolveCases = []resolveCase{
	// relative days and weekdays (scenarios 18–20), said on Saturday 18.10.2025
	{ref: sat18, date: "heute", want: "2025-10-18"},
	{ref: sat18, date: "morgen", want: "2025-10-19"},
	{ref: sat18, date: "übermorgen", want: "2025-10-20"},
	{ref: sat18, date: "uebermorgen", want: "2025-10-20"},
	{ref: sat18, date: "UEBERMORGEN", want: "2025-10-20"},
	{ref: sat18, date: "ubermorgen", want: "2025-10-20"},
	{ref: sat18, date: "nächster Dienstag", want: "2025-10-21"},
	{ref: sat18, date: "nächsten Dienstag", want: "2025-10-21"},
	{ref: sat18, date: "naechsten dienstag", want: "2025-10-21"},
	{ref: sat18, date: "nächster Sonntag", want: "2025-10-19"},
	{ref: sat18, date: "dieser Dienstag", want: "2025-10-21"},
	{ref: sat18, date: "Montag", want: "2025-10-20"},
	{ref: sat18, date: "montag", want: "2025-10-20"},
	{ref: sat18, date: "am Montag", want: "2025-10-20"},
	{ref: sat18, date: "kommenden Freitag", want: "2025-10-24"},
	{ref: sat18, date: "Samstag", want: "2025-10-25"},
	{ref: sat18, date: "diesen Samstag", want: "2025-10-18"},
	{ref: sat18, date: "Sonnabend", want: "2025-10-25"},
	{ref: sat18, date: "nächste Woche Mittwoch", want: "2025-10-22"},
	{ref: sat18, date: "Mittwoch nächste Woche", want: "2025-10-22"},
	{ref: sat18, date: "Mittwoch der nächsten Woche", want: "2025-10-22"},
	{ref: sat18, date: "nächste Woche am Freitag", want: "2025-10-24"},
	{ref: sat18, date: "in der nächsten Woche am Freitag", want: "2025-10-24"},
	{ref: sat18, date: "diese Woche Mittwoch", want: "2025-10-15"},
	{ref: sat18, date: "übernächste Woche Montag", want: "2025-10-27"},
	{ref: sat18, date: "übernächsten Montag", want: "2025-10-27"},
	{ref: sat18, date: "in 3 Tagen", want: "2025-10-21"},
	{ref: sat18, date: "in drei Tagen", want: "2025-10-21"},
	{ref: sat18, date: "in einer Woche", want: "2025-10-25"},
	{ref: sat18, date: "in zwei Wochen", want: "2025-11-01"},
	{ref: sat18, date: "in 2 Wochen", want: "2025-11-01"},
	{ref: sat18, date: "in acht Tagen", want: "2025-10-25"},
	{ref: sat18, date: "heute in acht Tagen", want: "2025-10-25"},
	{ref: sat18, date: "heute in einer Woche", want: "2025-10-25"},
	{ref: sat18, date: "in 14 Tagen", want: "2025-11-01"},
	{ref: sat18, date: "in einem Tag", want: "2025-10-19"},
	{ref: sat18, date: "Dienstagnachmittag", want: "2025-10-21 ~afternoon"},
	{ref: sat18, date: "Freitagabend", want: "2025-10-24 ~evening"},
	{ref: sat18, date: "nächste Woche", want: ReasonUnclearDate},
	{ref: sat18, date: "diese Woche", want: ReasonUnclearDate},
	{ref: sat18, date: "blabla", want: ReasonUnclearDate},
	{ref: sat18, date: "", want: ReasonUnclearDate},
	{ref: sat18, date: "nicht morgen", want: ReasonUnclearDate},
	{ref: sat18, date: "morgen oder übermorgen", want: ReasonUnclearDate},
	{ref: sat18, date: "irgendwann", want: ReasonUnclearDate},
	{ref: sat18, date: "morgen", time: "", want: "2025-10-19"},
	{ref: sat18, date: "Montag", time: "14 Uhr", want: "2025-10-20T14:00:00+02:00"},
	{ref: sat18, date: "heute", time: "um 15 Uhr", want: "2025-10-18T15:00:00+02:00"},
	{ref: sat18, date: "heute", time: "8 Uhr", want: "2025-10-18T08:00:00+02:00"}, // past: resolved, not moved
	{ref: sat18, date: "Wochenende", want: ReasonUnclearDate},
	{ref: sun19, date: "morgen", want: "2025-10-20"},
	{ref: sun19, date: "nächsten Montag", want: "2025-10-20"},
	{ref: sun19, date: "Montag nächste Woche", want: "2025-10-20"},
	{ref: tue21, date: "nächster Dienstag", want: "2025-10-28"},
	{ref: tue21, date: "Dienstag", want: "2025-10-28"},
	{ref: tue21, date: "dieser Dienstag", want: "2025-10-21"},
	{ref: fri17, date: "nächste Woche Montag", want: "2025-10-20"},
	{ref: wed15, date: "nächste Woche Mittwoch", want: "2025-10-22"},
	{ref: mon20, date: "nächste Woche Mittwoch", want: "2025-10-29"}, // always the next Monday-based week
	{ref: mon20, date: "diese Woche Mittwoch", want: "2025-10-22"},
	{ref: mon20, date: "Mittwoch", want: "2025-10-22"},
	{ref: mon20, date: "diese Woche Sonntag", want: "2025-10-26"},
	// day and month (scenario 21)
	{ref: fri05, date: "7. November", want: "2026-11-07"},
	{ref: sat20, date: "25. Januar", want: "2026-01-25"},
	{ref: sat15, date: "13 Dezember", want: "2025-12-13"},
	{ref: sat20, date: "15. Dezember", want: "2026-12-15"},
	{ref: sat20, date: "19. Dezember", want: "2026-12-19"},
	{ref: sat20, date: "20. Dezember", want: "2025-12-20"},
	{ref: sat18, date: "1. Januar", want: "2026-01-01"},
	{ref: sat18, date: "1. Februar", want: "2026-02-01"},
	{ref: sat18, date: "1. März", want: "2026-03-01"},
	{ref: sat18, date: "1. MÄRZ", want: "2026-03-01"},
	{ref: sat18, date: "1. Marz", want: "2026-03-01"},
	{ref: sat18, date: "1. april", want: "2026-04-01"},
	{ref: sat18, date: "1. Mai", want: "2026-05-01"},
	{ref: sat18, date: "1. Juni", want: "2026-06-01"},
	{ref: sat18, date: "1. Juli", want: "2026-07-01"},
	{ref: sat18, date: "1. August", want: "2026-08-01"},
	{ref: sat18, date: "1. September", want: "2026-09-01"},
	{ref: sat18, date: "1. Oktober", want: "2026-10-01"},
	{ref: sat18, date: "1. November", want: "2025-11-01"},
	{ref: sat18, date: "1. Dezember", want: "2025-12-01"},
	{ref: sat18, date: "3. Okt.", want: "2026-10-03"},
	// short numeric forms (scenario 22, said on Monday 13.10.2025)
	{ref: mon13, date: "15.1", want: "2026-01-15"}, // no "15.10" guessing
	{ref: mon13, date: "5.11", want: "2025-11-05"},
	{ref: mon13, date: "1.1", want: "2026-01-01"},
	{ref: mon13, date: "5.10", want: "2026-10-05"}, // past day-month → next year
	{ref: mon13, date: "20.12", want: "2025-12-20"},
	{ref: mon13, date: "31.2", want: ReasonUnclearDate},
	{ref: mon13, date: "31.2.", want: ReasonUnclearDate},
	{ref: mon13, date: "13.10.", want: "2025-10-13"},
	{ref: mon13, date: "15.3.", want: "2026-03-15"},
	{ref: mon13, date: "15.03.2027", want: "2027-03-15"},
	{ref: mon13, date: "15.3.2027", want: "2027-03-15"},
	{ref: mon13, date: "15.03.27", want: "2027-03-15"},
	{ref: mon13, date: "1.10.2025", want: "2025-10-01"}, // explicit year kept
	{ref: mon13, date: "31.04.", want: ReasonUnclearDate},
	// 29.2. said in October 2025: next February (2026) has no 29th. Asked
	// about, never moved to 2028 where the caller could not notice.
	{ref: mon13, date: "29.2.", want: ReasonUnclearDate},
	{ref: at(2027, 10, 4), date: "29.2.", want: "2028-02-29"},
	{ref: at(2027, 2, 10), date: "am 29. Februar", want: ReasonUnclearDate},
	// Days without a date in the calendar: the clear ones resolve.
	{ref: mon13, date: "an Silvester", want: "2025-12-31"},
	{ref: mon13, date: "Heiligabend", want: "2025-12-24"},
	{ref: mon13, date: "am heiligen Abend", want: "2025-12-24"},
	{ref: at(2026, 1, 2), date: "Silvester", want: "2026-12-31"},
	{ref: mon13, date: "Weihnachten", want: ReasonUnclearDate},
	{ref: mon13, locale: "en", date: "on christmas eve", want: "2025-12-24"},
	{ref: mon13, locale: "en", date: "new year's eve", want: "2025-12-31"},
	{ref: mon13, date: "nächsten Monat am Fünften", want: "2025-11-05"},
	{ref: mon13, date: "am Fünften nächsten Monats", want: "2025-11-05"},
	{ref: mon13, date: "kommenden Monat am 5.", want: "2025-11-05"},
	{ref: mon13, locale: "en", date: "next month on the fifth", want: "2025-11-05"},
	{ref: mon13, locale: "en", date: "the 5th of next month", want: "2025-11-05"},
	{ref: at(2025, 12, 20), date: "nächsten Monat am Fünften", want: "2026-01-05"},
	{ref: at(2025, 10, 13), date: "nächsten Monat am 31.", want: ReasonUnclearDate},
	{ref: mon13, date: "nächsten Monat", want: ReasonUnclearDate},
	{ref: mon13, date: "29.02.2027", want: ReasonUnclearDate},
	{ref: mon13, date: "32.1.", want: ReasonUnclearDate},
	{ref: mon13, date: "15.13.", want: ReasonUnclearDate},
	{ref: mon13, date: "15.03.1850", want: ReasonUnclearDate},
	{ref: mon13, date: "am 15. März", want: "2026-03-15"},
	{ref: mon13, date: "fünfzehnter März", want: "2026-03-15"},
	{ref: mon13, date: "am fünfzehnten März 2027", want: "2027-03-15"},
	{ref: mon13, date: "am 15ten März", want: "2026-03-15"},
	{ref: mon13, date: "am 15.", want: "2025-10-15"},
	{ref: mon13, date: "am 10.", want: "2025-11-10"},
	{ref: mon13, date: "am 31.", want: "2025-10-31"},
	{ref: mon13, date: "am einunddreißigsten Oktober", want: "2025-10-31"},
	{ref: mon13, date: "Dienstag, den 14. Oktober", want: "2025-10-14"},
	{ref: mon13, date: "Mittwoch, den 14. Oktober", want: ReasonUnclearDate}, // weekday does not fit
	{ref: mon13, date: "morgen, den 14. Oktober", want: "2025-10-14"},
	{ref: mon13, date: "morgen, den 15. Oktober", want: ReasonUnclearDate},
	{ref: mon13, date: "15. März in zwei Wochen", want: ReasonUnclearDate},
	{ref: mon13, date: "2027-03-02", want: "2027-03-02"},
	{ref: mon13, date: "2027-13-02", want: ReasonUnclearDate},
	// clock times, said on Monday 1.3.2027 about tomorrow
	{ref: mar01, date: "morgen", time: "14 Uhr", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "14:30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "14:30:00", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "14.30 Uhr", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "14.30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "halb drei", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "viertel nach neun", want: "2027-03-02T09:15:00+01:00"},
	{ref: mar01, date: "morgen", time: "viertel vor elf", want: "2027-03-02T10:45:00+01:00"},
	{ref: mar01, date: "morgen", time: "drei viertel elf", want: "2027-03-02T10:45:00+01:00"},
	{ref: mar01, date: "morgen", time: "dreiviertel elf", want: "2027-03-02T10:45:00+01:00"},
	{ref: mar01, date: "morgen", time: "viertel drei", want: "2027-03-02T14:15:00+01:00"},
	{ref: mar01, date: "morgen", time: "zehn Uhr dreißig", want: "2027-03-02T10:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "zehn uhr dreissig", want: "2027-03-02T10:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "9 Uhr morgens", want: "2027-03-02T09:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "3 Uhr nachmittags", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "nachmittags um 3", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "um 3", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "14 Uhr 30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "14 30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "um 7", want: "2027-03-02T19:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "um 8", want: "2027-03-02T08:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "um 12", want: "2027-03-02T12:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "um 1", want: "2027-03-02T13:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "7 Uhr morgens", want: "2027-03-02T07:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "8 Uhr abends", want: "2027-03-02T20:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "10 Uhr abends", want: "2027-03-02T22:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "halb acht", want: "2027-03-02T19:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "halb acht morgens", want: "2027-03-02T07:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "halb neun", want: "2027-03-02T08:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "halb eins", want: "2027-03-02T12:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "halb 3", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "viertel vor acht", want: "2027-03-02T19:45:00+01:00"},
	{ref: mar01, date: "morgen", time: "fünf nach drei", want: "2027-03-02T15:05:00+01:00"},
	{ref: mar01, date: "morgen", time: "zehn vor vier", want: "2027-03-02T15:50:00+01:00"},
	{ref: mar01, date: "morgen", time: "fünf vor halb vier", want: "2027-03-02T15:25:00+01:00"},
	{ref: mar01, date: "morgen", time: "fünf nach halb vier", want: "2027-03-02T15:35:00+01:00"},
	{ref: mar01, date: "morgen", time: "07:30", want: "2027-03-02T07:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "7:30", want: "2027-03-02T19:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "so gegen 3", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "ungefähr um halb drei, bitte", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "ähm, so gegen halb drei vielleicht", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "morgen", time: "gegen 14 Uhr", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "zwölf Uhr mittags", want: "2027-03-02T12:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "1 Uhr mittags", want: "2027-03-02T13:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "vierzehn Uhr", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "ein Uhr", want: "2027-03-02T13:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "14h", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "14uhr", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "Mitternacht", want: "2027-03-02T00:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "15", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "morgen", time: "25 Uhr", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "24:00", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "14:75", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "20 Uhr morgens", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "9 Uhr nachmittags", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "blah", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "bitte", want: "2027-03-02"},     // politeness only = no time said
	{ref: mar01, date: "morgen", time: "drei", want: ReasonUnclearTime}, // a lone number word could be anything
	{ref: mar01, date: "morgen", time: "14 oder 15 Uhr", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "irgendwann", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen um 15 Uhr", time: "14 Uhr", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen um 14 Uhr", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen um 14 Uhr", time: "14:00", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "morgen 14.30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "Morgen um 10!!!", want: "2027-03-02T10:00:00+01:00"},
	{ref: mar01, date: "MORGEN UM HALB DREI", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "um 3 am Dienstag", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "ich hätte gern einen Termin morgen", time: "um drei", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, date: "Dienstag", time: "nach 15 Uhr", want: "2027-03-02 ~15:00-24:00"},
	{ref: mar01, date: "morgen früh", time: "um 8", want: "2027-03-02T08:00:00+01:00"},
	{ref: mar01, date: "morgen früh", time: "um 3", want: "2027-03-02T03:00:00+01:00"},
	{ref: mar01, date: "heute abend", time: "um 8", want: "2027-03-01T20:00:00+01:00"},
	{ref: mar01, date: "", time: "morgen 14 Uhr", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, date: "", time: "14 Uhr", want: ReasonUnclearDate}, // no "today or tomorrow" guess
	{ref: mar01, date: "Dienstag, den 2. März", time: "um halb drei", want: "2027-03-02T14:30:00+01:00"},
	// ISO
	{ref: mar01, date: "2027-03-02T14:30:00+01:00", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-03-02T13:30:00Z", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-03-02T08:30:00-05:00", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-03-02 14:30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-03-02T00:00:00", time: "14:30", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-03-02T00:00:00", want: "2027-03-02"},
	{ref: mar01, date: "2027-03-02T00:00:00+01:00", want: "2027-03-02T00:00:00+01:00"},
	{ref: mar01, date: "2027-03-02T00:00:00", time: "nachmittags", want: "2027-03-02 ~afternoon"},
	{ref: mar01, date: "2027-03-02T09:00:00", time: "nachmittags", want: ReasonUnclearTime},
	{ref: mar01, date: "2027-03-02T14:30:00+01:00", time: "nachmittags", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-07-02T12:30:00Z", want: "2027-07-02T14:30:00+02:00"},
	{ref: mar01, date: "2027-03-02T23:30:00Z", want: "2027-03-03T00:30:00+01:00"},
	{ref: mar01, date: "2027-03-02T25:30:00", want: ReasonUnclearDate},
	{ref: mar01, date: "2027-03-02", time: "2027-03-02T14:30:00+01:00", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, date: "2027-03-03", time: "2027-03-02T14:30:00+01:00", want: ReasonUnclearDate},
	// preferences
	{ref: mar01, date: "morgen", time: "nachmittags", want: "2027-03-02 ~afternoon"},
	{ref: mar01, date: "morgen", time: "am Nachmittag", want: "2027-03-02 ~afternoon"},
	{ref: mar01, date: "morgen", time: "vormittags", want: "2027-03-02 ~morning"},
	{ref: mar01, date: "morgen", time: "mittags", want: "2027-03-02 ~midday"},
	{ref: mar01, date: "morgen", time: "abends", want: "2027-03-02 ~evening"},
	{ref: mar01, date: "morgen früh", want: "2027-03-02 ~morning"},
	{ref: mar01, date: "morgen", time: "ab 15 Uhr", want: "2027-03-02 ~15:00-24:00"},
	{ref: mar01, date: "morgen", time: "nach 15 Uhr", want: "2027-03-02 ~15:00-24:00"},
	{ref: mar01, date: "morgen", time: "zwischen 14 und 16 Uhr", want: "2027-03-02 ~14:00-16:00"},
	{ref: mar01, date: "morgen", time: "zwischen 2 und 4", want: "2027-03-02 ~14:00-16:00"},
	{ref: mar01, date: "morgen", time: "nachmittags ab 3", want: "2027-03-02 ~15:00-18:00"},
	{ref: mar01, date: "morgen", time: "vor 11", want: "2027-03-02 ~00:00-11:00"},
	{ref: mar01, date: "morgen", time: "zwischen 16 und 14 Uhr", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "nachts", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "vormittags oder nachmittags", want: ReasonUnclearTime},
	{ref: mar01, date: "morgen", time: "vormittags nachmittags", want: ReasonUnclearTime},
	{ref: mar01, date: "heute abend", want: "2027-03-01 ~evening"},
	{ref: mar01, date: "Montagmorgen", want: "2027-03-08 ~morning"},
	// DST: spring forward on Sunday 28.03.2027 02:00 → 03:00
	{ref: spring, date: "Sonntag", time: "halb drei", want: "2027-03-28T14:30:00+02:00"},
	{ref: spring, date: "Sonntag", time: "9 Uhr", want: "2027-03-28T09:00:00+02:00"},
	{ref: spring, date: "Samstag", time: "9 Uhr", want: "2027-03-27T09:00:00+01:00"},
	{ref: spring, date: "nächste Woche Montag", time: "10 Uhr", want: "2027-03-29T10:00:00+02:00"},
	{ref: spring, date: "in 2 Tagen", time: "um 8", want: "2027-03-28T08:00:00+02:00"},
	{ref: spring, date: "Sonntag", time: "02:30", want: "2027-03-28T03:30:00+02:00"}, // gap: shifted
	{ref: spring, date: "Sonntag", time: "01:59", want: "2027-03-28T01:59:00+01:00"},
	{ref: spring, date: "Sonntag", time: "03:00", want: "2027-03-28T03:00:00+02:00"},
	{ref: spring, date: "diese Woche Montag", want: "2027-03-22"},
	{ref: earlySun, date: "heute", want: "2027-03-28"},
	{ref: earlySun, date: "morgen", time: "halb drei", want: "2027-03-29T14:30:00+02:00"},
	// DST: fall back on Sunday 31.10.2027 03:00 → 02:00
	{ref: autumn, date: "Sonntag", time: "02:30", want: "2027-10-31T02:30:00+02:00"}, // first occurrence
	{ref: autumn, date: "Sonntag", time: "halb drei", want: "2027-10-31T14:30:00+01:00"},
	{ref: autumn, date: "Samstag", time: "halb drei", want: "2027-10-30T14:30:00+02:00"},
	{ref: autumn, date: "morgen", time: "01:30", want: "2027-10-30T01:30:00+02:00"},
	{ref: autumn, date: "übermorgen", time: "03:00", want: "2027-10-31T03:00:00+01:00"},
	{ref: autumn, date: "nächste Woche Montag", time: "9 Uhr", want: "2027-11-01T09:00:00+01:00"},
	// year end, said on Thursday 31.12.2026
	{ref: nye, date: "morgen", want: "2027-01-01"},
	{ref: nye, date: "übermorgen", want: "2027-01-02"},
	{ref: nye, date: "Montag", want: "2027-01-04"},
	{ref: nye, date: "nächste Woche Montag", want: "2027-01-04"},
	{ref: nye, date: "diese Woche Montag", want: "2026-12-28"},
	{ref: nye, date: "in zwei Wochen", want: "2027-01-14"},
	{ref: nye, date: "15.1.", want: "2027-01-15"},
	{ref: nye, date: "30. Dezember", want: "2027-12-30"},
	{ref: nye, date: "31.12.", want: "2026-12-31"},
	{ref: nye, date: "am 2.", want: "2027-01-02"},
	{ref: nye, date: "Freitag, den 1. Januar", want: "2027-01-01"},
	{ref: nye, date: "1. Januar 2027", want: "2027-01-01"},
	{ref: nye, date: "heute", time: "23:30", want: "2026-12-31T23:30:00+01:00"},
	// other zones: the day is the branch's day, not the server's
	{ref: time.Date(2027, 3, 2, 3, 0, 0, 0, time.UTC), date: "heute", want: "2027-03-01", loc: mustZone("America/New_York")},
	{ref: time.Date(2027, 3, 2, 3, 0, 0, 0, time.UTC), date: "morgen", time: "9 Uhr", want: "2027-03-02T09:00:00-05:00", loc: mustZone("America/New_York")},
	// English
	{ref: mar01, locale: "en", date: "today", want: "2027-03-01"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "3 pm", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, locale: "en", date: "the day after tomorrow", want: "2027-03-03"},
	{ref: mar01, locale: "en", date: "next Tuesday", want: "2027-03-02"},
	{ref: mar01, locale: "en", date: "on Friday", want: "2027-03-05"},
	{ref: mar01, locale: "en", date: "Monday", want: "2027-03-08"},
	{ref: mar01, locale: "en", date: "this Monday", want: "2027-03-01"},
	{ref: mar01, locale: "en", date: "this coming Monday", want: "2027-03-08"},
	{ref: mar01, locale: "en", date: "Monday next week", want: "2027-03-08"},
	{ref: mar01, locale: "en", date: "next week Wednesday", want: "2027-03-10"},
	{ref: mar01, locale: "en", date: "this week Friday", want: "2027-03-05"},
	{ref: mar01, locale: "en", date: "in 3 days", want: "2027-03-04"},
	{ref: mar01, locale: "en", date: "in a week", want: "2027-03-08"},
	{ref: mar01, locale: "en", date: "two weeks from today", want: "2027-03-15"},
	{ref: mar01, locale: "en", date: "March 15th", want: "2027-03-15"},
	{ref: mar01, locale: "en", date: "15th of March", want: "2027-03-15"},
	{ref: mar01, locale: "en", date: "the fifteenth of March 2028", want: "2028-03-15"},
	{ref: mar01, locale: "en", date: "February 1", want: "2028-02-01"},
	{ref: mar01, locale: "en", date: "twenty-first of March", want: "2027-03-21"},
	{ref: mar01, locale: "en", date: "Tuesday, March 2nd", want: "2027-03-02"},
	{ref: mar01, locale: "en", date: "on the 15th", want: "2027-03-15"},
	{ref: mar01, locale: "en", date: "tomorrow at 10", want: "2027-03-02T10:00:00+01:00"},
	{ref: mar01, locale: "en", date: "May 5", want: "2027-05-05"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "half past two", want: "2027-03-02T14:30:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "quarter to eleven", want: "2027-03-02T10:45:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "a quarter past nine", want: "2027-03-02T09:15:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "ten thirty", want: "2027-03-02T10:30:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "ten oh five", want: "2027-03-02T10:05:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "at 3", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "9 in the morning", want: "2027-03-02T09:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "3 in the afternoon", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "7 pm", want: "2027-03-02T19:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "7 a.m.", want: "2027-03-02T07:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "12 pm", want: "2027-03-02T12:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "12 am", want: "2027-03-02T00:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "3:30pm", want: "2027-03-02T15:30:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "3 o'clock", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "noon", want: "2027-03-02T12:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "ten to four", want: "2027-03-02T15:50:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "around 2 ish", want: "2027-03-02T14:00:00+01:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "afternoon", want: "2027-03-02 ~afternoon"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "in the morning", want: "2027-03-02 ~morning"},
	{ref: mar01, locale: "en", date: "tonight", want: "2027-03-01 ~evening"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "between 2 and 4 pm", want: "2027-03-02 ~14:00-16:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "after 3 pm", want: "2027-03-02 ~15:00-24:00"},
	{ref: mar01, locale: "en", date: "tomorrow", time: "blah", want: ReasonUnclearTime},
	{ref: mar01, locale: "en", date: "tomorrow", time: "25:00", want: ReasonUnclearTime},
	{ref: mar01, locale: "en", date: "tomorrow", time: "15 pm", want: ReasonUnclearTime},
	{ref: mar01, locale: "en", date: "someday", want: ReasonUnclearDate},
	{ref: mar01, locale: "en", date: "next week", want: ReasonUnclearDate},
	{ref: mar01, locale: "en", date: "February 30", want: ReasonUnclearDate},
	{ref: mar01, locale: "en", date: "not tomorrow", want: ReasonUnclearDate},
	// the other language is understood too
	{ref: mar01, locale: "de", date: "tomorrow", time: "3 pm", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, locale: "de", date: "morgen", time: "3 am", want: "2027-03-02T03:00:00+01:00"},
	{ref: mar01, locale: "en", date: "morgen", time: "15 Uhr", want: "2027-03-02T15:00:00+01:00"},
	{ref: mar01, locale: "en-US", date: "2027-03-02", time: "14:30", want: "2027-03-02T14:30:00+01:00"},
}

func render(r Request, loc *time.Location) string {
	switch {
	case r.HasTime:
		return r.Start(loc).Format(time.RFC3339)
	case r.Preference == nil:
		return r.Date.String()
	case r.Preference.Name == "range":
		w := r.Preference
		return fmt.Sprintf("%s ~%02d:%02d-%02d:%02d", r.Date, w.StartMinute/60, w.StartMinute%60, w.EndMinute/60, w.EndMinute%60)
	}
	return r.Date.String() + " ~" + r.Preference.Name
}

func TestResolve(t *testing.T) {
	for _, c := range resolveCases {
		loc := c.loc
		if loc == nil {
			loc = berlin
		}
		name := fmt.Sprintf("%s|%s|%s|%s", c.ref.In(loc).Format("2006-01-02"), c.locale, c.date, c.time)
		t.Run(name, func(t *testing.T) {
			locale := c.locale
			if locale == "" {
				locale = "de"
			}
			r, err := Resolve(c.date, c.time, c.ref, loc, locale)
			var got string
			if err != nil {
				got = Reason(err)
				if got == "" {
					t.Fatalf("error without reason: %v", err)
				}
				if booking.KindOf(err) != booking.KindInvalid || booking.MessageOf(err) != got {
					t.Fatalf("error %v is not KindInvalid with message %q", err, got)
				}
			} else {
				got = render(r, loc)
			}
			if got != c.want {
				t.Errorf("Resolve(%q, %q) = %s, want %s", c.date, c.time, got, c.want)
			}
		})
	}
}

// A day the calendar lacks says which day it is, so the agent can ask.
func TestNoSuchDate(t *testing.T) {
	for _, c := range []struct {
		ref  time.Time
		date string
		want Date
	}{
		{mon13, "29.2.", Date{2026, 2, 29}},
		{at(2027, 2, 10), "29. Februar", Date{2027, 2, 29}},
		{mon13, "31. April", Date{2026, 4, 31}},
		{mon13, "nächsten Monat am 31.", Date{2025, 11, 31}},
	} {
		_, err := Resolve(c.date, "", c.ref, berlin, "de")
		d, ok := NoSuchDate(err)
		if Reason(err) != ReasonUnclearDate || !ok || d != c.want {
			t.Errorf("%q: got %v %+v %v, want %+v", c.date, err, d, ok, c.want)
		}
	}
	if _, ok := NoSuchDate(unclearDate()); ok {
		t.Error("a plain unclear_date is not a missing day")
	}
}

// "nächsten <Wochentag>" within the current week is resolved but marked
// unsure: said on a Friday, "nächsten Samstag" is tomorrow to some callers
// and next week's to others.
func TestUnsureWeekday(t *testing.T) {
	for _, c := range []struct {
		ref    time.Time
		date   string
		want   string
		unsure bool
	}{
		{fri17, "nächsten Samstag", "2025-10-18", true},
		{fri17, "kommenden Sonntag", "2025-10-19", true},
		{fri17, "Samstag", "2025-10-18", false},
		{fri17, "am Samstag", "2025-10-18", false},
		{fri17, "nächsten Montag", "2025-10-20", false},
		{fri17, "Samstag nächste Woche", "2025-10-25", false},
		{fri17, "next saturday", "2025-10-18", true},
		{mon13, "nächsten Mittwoch", "2025-10-15", true},
	} {
		r, err := Resolve(c.date, "", c.ref, berlin, "de")
		if err != nil || r.Date.String() != c.want || r.Unsure != c.unsure {
			t.Errorf("%q: got %+v %v, want %s unsure=%v", c.date, r, err, c.want, c.unsure)
		}
	}
}

func TestResolveCaseCount(t *testing.T) {
	if n := len(resolveCases); n < 150 {
		t.Fatalf("%d resolve cases, the spec asks for at least 150", n)
	}
	reasons := map[string]int{}
	for _, c := range resolveCases {
		reasons[c.want]++
	}
	if reasons[ReasonUnclearDate] < 10 || reasons[ReasonUnclearTime] < 10 {
		t.Fatalf("too few unclear cases: %v date, %v time", reasons[ReasonUnclearDate], reasons[ReasonUnclearTime])
	}
	t.Logf("%d resolve cases", len(resolveCases))
}

func TestReason(t *testing.T) {
	if Reason(nil) != "" || Reason(errors.New("unclear_date")) != "" {
		t.Fatal("foreign errors must have no reason")
	}
	if Reason(booking.Errorf(booking.KindInvalid, "x", "something else")) != "" {
		t.Fatal("other invalid errors must have no reason")
	}
	_, err := Resolve("morgen", "blah", mar01, berlin, "de")
	wrapped := fmt.Errorf("handler: %w", err)
	if Reason(wrapped) != ReasonUnclearTime {
		t.Fatalf("Reason(wrapped) = %q", Reason(wrapped))
	}
	if booking.Retryable(err) {
		t.Fatal("unclear input must not be retryable")
	}
}

// The error never repeats what the caller said (it may be personal).
func TestErrorHasNoInput(t *testing.T) {
	_, err := Resolve("Herr Müller kommt morgen", "", mar01, berlin, "de")
	if err == nil {
		t.Fatal("expected unclear_date")
	}
	if s := err.Error(); s != "spoken.Resolve: invalid: unclear_date" {
		t.Fatalf("error text %q", s)
	}
}

func TestResolveNilLocationIsUTC(t *testing.T) {
	r, err := Resolve("morgen", "14 Uhr", time.Date(2027, 3, 1, 23, 30, 0, 0, time.UTC), nil, "de")
	if err != nil || r.Start(nil).Format(time.RFC3339) != "2027-03-02T14:00:00Z" {
		t.Fatalf("got %+v %v", r, err)
	}
}

func TestTooLongInput(t *testing.T) {
	long := "morgen"
	for len(long) < 300 {
		long += " bitte"
	}
	if _, err := Resolve(long, "", mar01, berlin, "de"); Reason(err) != ReasonUnclearDate {
		t.Fatalf("got %v", err)
	}
	if _, err := Resolve("morgen", long, mar01, berlin, "de"); Reason(err) != ReasonUnclearTime {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkResolve(b *testing.B) {
	inputs := [][2]string{
		{"nächste Woche Mittwoch", "so gegen halb drei"},
		{"2027-03-02T14:30:00+01:00", ""},
		{"am 15. März", "viertel vor elf"},
		{"morgen", "nachmittags"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in := inputs[i%len(inputs)]
		if _, err := Resolve(in[0], in[1], mar01, berlin, "de"); err != nil {
			b.Fatal(err)
		}
	}
}
