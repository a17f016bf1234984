package callsim

import (
	"fmt"
	"time"
)

var weekdaysDE = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}
var monthsDE = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

// DateWords says a day the way a caller does: "Dienstag, den 1. Dezember".
func DateWords(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	return fmt.Sprintf("%s, den %d. %s", weekdaysDE[l.Weekday()], l.Day(), monthsDE[l.Month()])
}

// TimeWords says a clock time: "14 Uhr", "14:30 Uhr" (24-hour digits, which
// the gateway takes literally from 8 o'clock on).
func TimeWords(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	if l.Minute() == 0 {
		return fmt.Sprintf("%d Uhr", l.Hour())
	}
	return fmt.Sprintf("%d:%02d Uhr", l.Hour(), l.Minute())
}

// ScenarioDay is the first Tuesday to Friday at least three days after now
// (in loc): open all day in the demo tenant on any day the simulator runs,
// and far enough ahead that cancelling and moving are allowed without a fee
// (the demo policy wants 24 h notice and charges below 48 h).
func ScenarioDay(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 3)
	for d.Weekday() < time.Tuesday || d.Weekday() > time.Friday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}
