package spoken

import (
	"fmt"
	"time"
)

// Date is a civil (calendar) date without a zone. Arithmetic on it is done
// in UTC so that DST never shifts a day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(orUTC(loc)).Date()
	return Date{y, m, d}
}

func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Valid reports whether the date exists (31.2. does not).
func (d Date) Valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	n := d.utc()
	return n.Day() == d.Day && n.Month() == d.Month
}

// In returns local midnight of the date in loc (the first instant of the day
// if midnight falls into a DST gap).
func (d Date) In(loc *time.Location) time.Time { return LocalTime(d, 0, 0, orUTC(loc)) }

// Weekday is the day of the week of the date.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// AddDays returns the date n days later (earlier for n < 0).
func (d Date) AddDays(n int) Date {
	t := d.utc().AddDate(0, 0, n)
	return Date{t.Year(), t.Month(), t.Day()}
}

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool { return d.utc().Before(o.utc()) }

// DaysUntil is the number of days from d to o (negative when o is earlier).
func (d Date) DaysUntil(o Date) int { return int(o.utc().Sub(d.utc()).Hours() / 24) }

// String formats the date as ISO 8601 (2027-03-02).
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// mondayOf returns the Monday of d's Monday-based week.
func (d Date) mondayOf() Date { return d.AddDays(-isoIndex(d.Weekday())) }

// isoIndex is 0 for Monday … 6 for Sunday.
func isoIndex(w time.Weekday) int { return (int(w) + 6) % 7 }

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// LocalTime returns the instant at which the wall clock in loc shows
// hour:minute on day d.
//
// DST: when the wall time occurs twice (autumn fall-back, e.g. 02:30 on
// 31.10.2027 in Europe/Berlin) the FIRST occurrence (summer time) is
// returned. When it does not occur at all (spring-forward gap, e.g. 02:30 on
// 28.03.2027) the instant is shifted forward by the length of the gap
// (02:30 → 03:30 CEST), i.e. the wall time read with the offset in force
// before the change. We shift rather than fail because the caller then sees
// an ordinary time that the opening-hours and slot checks judge as usual;
// LocalTimeExists tells whether that happened. Go's time.Date leaves both
// choices unspecified, so they are made explicitly here.
func LocalTime(d Date, hour, minute int, loc *time.Location) time.Time {
	loc = orUTC(loc)
	naive := time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, time.UTC)
	var best time.Time
	found := false
	for _, off := range candidateOffsets(naive, loc) {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if wallEquals(t, naive) && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	if found {
		return best
	}
	// Gap: read the wall time with the offset that was in force before.
	_, before := naive.Add(-36 * time.Hour).In(loc).Zone()
	return naive.Add(-time.Duration(before) * time.Second).In(loc)
}

// LocalTimeExists reports whether the wall clock in loc ever shows
// hour:minute on day d (false inside a spring-forward gap).
func LocalTimeExists(d Date, hour, minute int, loc *time.Location) bool {
	loc = orUTC(loc)
	naive := time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, time.UTC)
	for _, off := range candidateOffsets(naive, loc) {
		if wallEquals(naive.Add(-time.Duration(off)*time.Second).In(loc), naive) {
			return true
		}
	}
	return false
}

// candidateOffsets are the UTC offsets loc uses around a wall time; a day
// and a half either side covers every real-world transition.
func candidateOffsets(naive time.Time, loc *time.Location) []int {
	var offs []int
	for _, shift := range []time.Duration{-36 * time.Hour, 0, 36 * time.Hour} {
		_, off := naive.Add(shift).In(loc).Zone()
		dup := false
		for _, o := range offs {
			dup = dup || o == off
		}
		if !dup {
			offs = append(offs, off)
		}
	}
	return offs
}

func wallEquals(t, naive time.Time) bool {
	y, m, d := t.Date()
	return y == naive.Year() && m == naive.Month() && d == naive.Day() &&
		t.Hour() == naive.Hour() && t.Minute() == naive.Minute()
}
