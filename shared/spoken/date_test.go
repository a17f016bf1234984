package spoken

import (
	"testing"
	"time"
)

func TestDateHelpers(t *testing.T) {
	d := Date{2027, time.March, 27}
	if got := d.AddDays(1); got != (Date{2027, time.March, 28}) {
		t.Fatalf("AddDays across DST = %v", got)
	}
	if got := (Date{2026, time.December, 31}).AddDays(1); got != (Date{2027, time.January, 1}) {
		t.Fatalf("AddDays across year end = %v", got)
	}
	if got := (Date{2028, time.March, 1}).AddDays(-1); got != (Date{2028, time.February, 29}) {
		t.Fatalf("AddDays into leap day = %v", got)
	}
	if (Date{2027, time.March, 2}).Weekday() != time.Tuesday {
		t.Fatal("2.3.2027 is a Tuesday")
	}
	if got := (Date{2027, time.March, 28}).In(berlin).Format(time.RFC3339); got != "2027-03-28T00:00:00+01:00" {
		t.Fatalf("In = %s", got)
	}
	if got := (Date{2027, time.October, 31}).In(berlin).Format(time.RFC3339); got != "2027-10-31T00:00:00+02:00" {
		t.Fatalf("In = %s", got)
	}
	if (Date{2027, time.February, 29}).Valid() || !(Date{2028, time.February, 29}).Valid() || (Date{2027, 13, 1}).Valid() {
		t.Fatal("Valid")
	}
	if !(Date{2026, 12, 31}).Before(Date{2027, 1, 1}) || (Date{2027, 1, 1}).Before(Date{2027, 1, 1}) {
		t.Fatal("Before")
	}
	if n := (Date{2027, 3, 27}).DaysUntil(Date{2027, 3, 29}); n != 2 {
		t.Fatalf("DaysUntil across DST = %d", n)
	}
	if got := DateOf(time.Date(2027, 3, 1, 23, 30, 0, 0, time.UTC), berlin); got != (Date{2027, 3, 2}) {
		t.Fatalf("DateOf = %v", got)
	}
}

func TestLocalTimeDST(t *testing.T) {
	spring := Date{2027, time.March, 28}
	autumn := Date{2027, time.October, 31}
	cases := []struct {
		d      Date
		h, m   int
		want   string
		exists bool
	}{
		{spring, 1, 59, "2027-03-28T01:59:00+01:00", true},
		{spring, 2, 0, "2027-03-28T03:00:00+02:00", false}, // gap: shifted by one hour
		{spring, 2, 30, "2027-03-28T03:30:00+02:00", false},
		{spring, 3, 0, "2027-03-28T03:00:00+02:00", true},
		{autumn, 1, 59, "2027-10-31T01:59:00+02:00", true},
		{autumn, 2, 0, "2027-10-31T02:00:00+02:00", true}, // first of two occurrences
		{autumn, 2, 59, "2027-10-31T02:59:00+02:00", true},
		{autumn, 3, 0, "2027-10-31T03:00:00+01:00", true},
		{Date{2027, time.March, 14}, 2, 30, "2027-03-14T03:30:00-04:00", false}, // New York's gap
	}
	for _, c := range cases {
		loc := berlin
		if c.d.Day == 14 {
			loc = mustZone("America/New_York")
		}
		got := LocalTime(c.d, c.h, c.m, loc)
		if got.Format(time.RFC3339) != c.want {
			t.Errorf("LocalTime(%v %02d:%02d) = %s, want %s", c.d, c.h, c.m, got.Format(time.RFC3339), c.want)
		}
		if LocalTimeExists(c.d, c.h, c.m, loc) != c.exists {
			t.Errorf("LocalTimeExists(%v %02d:%02d) != %v", c.d, c.h, c.m, c.exists)
		}
		r := Request{Date: c.d, HasTime: true, Hour: c.h, Minute: c.m}
		if !r.Start(loc).Equal(got) || r.Exists(loc) != c.exists {
			t.Errorf("Request.Start/Exists disagree with LocalTime for %v", c)
		}
	}
	// The two autumn occurrences of 02:30 are an hour apart; we pick the first.
	first := LocalTime(autumn, 2, 30, berlin)
	if second := first.Add(time.Hour); second.In(berlin).Hour() != 2 || second.In(berlin).Minute() != 30 {
		t.Fatalf("02:30 should repeat an hour later, got %s", second.In(berlin))
	}
}

// Every wall time of the two DST days maps back to itself (or is in the gap).
func TestLocalTimeRoundTripDSTDays(t *testing.T) {
	for _, d := range []Date{{2027, 3, 28}, {2027, 10, 31}, {2026, 3, 29}, {2026, 10, 25}} {
		for min := 0; min < 24*60; min++ {
			h, m := min/60, min%60
			got := LocalTime(d, h, m, berlin)
			inGap := d.Month == time.March && h == 2
			if LocalTimeExists(d, h, m, berlin) == inGap {
				t.Fatalf("%v %02d:%02d exists=%v", d, h, m, !inGap)
			}
			if !inGap && (got.Hour() != h || got.Minute() != m || DateOf(got, berlin) != d) {
				t.Fatalf("%v %02d:%02d → %s", d, h, m, got)
			}
			if inGap && (got.Hour() != 3 || got.Minute() != m) {
				t.Fatalf("gap %v %02d:%02d → %s", d, h, m, got)
			}
		}
	}
}

func TestRequestStartWithoutTime(t *testing.T) {
	r := Request{Date: Date{2027, 3, 28}}
	if got := r.Start(berlin).Format(time.RFC3339); got != "2027-03-28T00:00:00+01:00" {
		t.Fatalf("Start = %s", got)
	}
}
