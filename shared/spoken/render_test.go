package spoken

import (
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func berlinAt(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlin)
}

func TestRender(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"issue example", SpokenDateTime(berlinAt(2027, 3, 2, 14, 30), berlin, "de"), "Dienstag, den 2. März, um halb drei"},
		{"english datetime", SpokenDateTime(berlinAt(2027, 3, 2, 14, 30), berlin, "en"), "Tuesday, March 2, at 2:30 PM"},
		{"utc instant in berlin", SpokenDateTime(time.Date(2027, 3, 2, 13, 30, 0, 0, time.UTC), berlin, "de"), "Dienstag, den 2. März, um halb drei"},
		{"late utc is next day", SpokenDateTime(time.Date(2027, 3, 1, 23, 15, 0, 0, time.UTC), berlin, "de"), "Dienstag, den 2. März, um viertel nach zwölf nachts"},
		{"date", SpokenDate(berlinAt(2027, 3, 1, 9, 0), berlin, "de"), "Montag, 1. März 2027"},
		{"date en", SpokenDate(berlinAt(2027, 3, 1, 9, 0), berlin, "en"), "Monday, March 1, 2027"},
		{"date en-GB", SpokenDate(berlinAt(2027, 12, 31, 9, 0), berlin, "en-GB"), "Friday, December 31, 2027"},
		{"date unknown locale is german", SpokenDate(berlinAt(2027, 5, 1, 9, 0), berlin, "fr"), "Samstag, 1. Mai 2027"},
		{"dst autumn first 02:30", SpokenTime(time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC), berlin, "de"), "halb drei nachts"},
		{"dst autumn second 02:30", SpokenTime(time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC), berlin, "de"), "halb drei nachts"},
		{"dst spring 03:00", SpokenTime(time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC), berlin, "de"), "drei Uhr nachts"},
	}
	clock := []struct {
		h, m   int
		de, en string
	}{
		{14, 0, "vierzehn Uhr", "2 PM"},
		{9, 0, "neun Uhr", "9 AM"},
		{1, 0, "ein Uhr nachts", "1 AM"},
		{7, 0, "sieben Uhr morgens", "7 AM"},
		{0, 0, "null Uhr", "12 AM"},
		{12, 0, "zwölf Uhr", "12 PM"},
		{14, 30, "halb drei", "2:30 PM"},
		{7, 30, "halb acht morgens", "7:30 AM"},
		{19, 30, "halb acht", "7:30 PM"},
		{20, 15, "viertel nach acht abends", "8:15 PM"},
		{9, 15, "viertel nach neun", "9:15 AM"},
		{10, 45, "viertel vor elf", "10:45 AM"},
		{0, 30, "halb eins nachts", "12:30 AM"},
		{12, 30, "halb eins", "12:30 PM"},
		{23, 45, "viertel vor zwölf abends", "11:45 PM"},
		{14, 10, "vierzehn Uhr zehn", "2:10 PM"},
		{9, 5, "neun Uhr fünf", "9:05 AM"},
		{15, 55, "fünfzehn Uhr fünfundfünfzig", "3:55 PM"},
		{3, 20, "drei Uhr zwanzig nachts", "3:20 AM"},
		{16, 1, "sechzehn Uhr eins", "4:01 PM"},
		{13, 31, "dreizehn Uhr einunddreißig", "1:31 PM"},
	}
	for _, c := range clock {
		ti := berlinAt(2027, 3, 2, c.h, c.m)
		cases = append(cases,
			struct{ name, got, want string }{"de " + c.de, SpokenTime(ti, berlin, "de"), c.de},
			struct{ name, got, want string }{"en " + c.en, SpokenTime(ti, berlin, "en"), c.en})
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

// Whatever we say, we understand back as the same time: the agent may echo
// our words as the next function call's argument.
func TestSpokenTimeRoundTrip(t *testing.T) {
	for _, locale := range []string{"de", "en"} {
		for min := 0; min < 24*60; min++ {
			ti := berlinAt(2027, 3, 2, min/60, min%60)
			said := SpokenTime(ti, berlin, locale)
			r, err := Resolve("2027-03-02", said, mar01, berlin, locale)
			if err != nil || !r.HasTime || r.Hour*60+r.Minute != min {
				t.Fatalf("%s %02d:%02d said %q came back as %+v %v", locale, min/60, min%60, said, r, err)
			}
			// And the full confirmation sentence, as the date argument.
			full := SpokenDateTime(ti, berlin, locale)
			r, err = Resolve(full, "", mar01, berlin, locale)
			if err != nil || !r.Start(berlin).Equal(ti) {
				t.Fatalf("%s: %q came back as %+v %v", locale, full, r, err)
			}
		}
	}
}

func TestSpokenOpeningHours(t *testing.T) {
	week := booking.OpeningHours{}
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []booking.TimeRange{{Start: 9 * 60, End: 18 * 60}}
	}
	week[time.Saturday] = []booking.TimeRange{{Start: 9 * 60, End: 14 * 60}}

	split := booking.OpeningHours{
		time.Monday:    {{Start: 14 * 60, End: 18 * 60}, {Start: 9 * 60, End: 12 * 60}},
		time.Tuesday:   {{Start: 8*60 + 30, End: 17*60 + 30}},
		time.Wednesday: {{Start: 9 * 60, End: 12 * 60}, {Start: 14 * 60, End: 18 * 60}},
		time.Friday:    {{Start: 10 * 60, End: 24 * 60}},
	}
	daily := booking.OpeningHours{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		daily[d] = []booking.TimeRange{{Start: 10 * 60, End: 20 * 60}}
	}
	cases := []struct {
		h      booking.OpeningHours
		locale string
		want   string
	}{
		{week, "de", "Montag bis Freitag 9 bis 18 Uhr, Samstag 9 bis 14 Uhr, Sonntag geschlossen"},
		{week, "en", "Monday to Friday 9 AM to 6 PM, Saturday 9 AM to 2 PM, Sunday closed"},
		{split, "de", "Montag 9 bis 12 Uhr und 14 bis 18 Uhr, Dienstag 8 Uhr 30 bis 17 Uhr 30, Mittwoch 9 bis 12 Uhr und 14 bis 18 Uhr, Donnerstag geschlossen, Freitag 10 bis 24 Uhr, Samstag und Sonntag geschlossen"},
		{split, "en", "Monday 9 AM to 12 PM and 2 PM to 6 PM, Tuesday 8:30 AM to 5:30 PM, Wednesday 9 AM to 12 PM and 2 PM to 6 PM, Thursday closed, Friday 10 AM to midnight, Saturday and Sunday closed"},
		{daily, "de", "täglich 10 bis 20 Uhr"},
		{daily, "en", "daily 10 AM to 8 PM"},
		{booking.OpeningHours{}, "de", "an allen Tagen geschlossen"},
		{nil, "en", "closed every day"},
	}
	for _, c := range cases {
		if got := SpokenOpeningHours(c.h, c.locale); got != c.want {
			t.Errorf("SpokenOpeningHours(%s):\n got %q\nwant %q", c.locale, got, c.want)
		}
	}
}

func TestSpokenDuration(t *testing.T) {
	cases := []struct {
		min    int
		de, en string
	}{
		{1, "eine Minute", "1 minute"},
		{15, "15 Minuten", "15 minutes"},
		{30, "eine halbe Stunde", "half an hour"},
		{45, "45 Minuten", "45 minutes"},
		{60, "eine Stunde", "1 hour"},
		{75, "eine Stunde und 15 Minuten", "1 hour and 15 minutes"},
		{90, "eineinhalb Stunden", "an hour and a half"},
		{120, "2 Stunden", "2 hours"},
		{121, "2 Stunden und eine Minute", "2 hours and 1 minute"},
		{150, "2 Stunden und 30 Minuten", "2 hours and 30 minutes"},
		{0, "0 Minuten", "0 minutes"},
		{-5, "0 Minuten", "0 minutes"},
	}
	for _, c := range cases {
		if got := SpokenDuration(c.min, "de"); got != c.de {
			t.Errorf("SpokenDuration(%d, de) = %q, want %q", c.min, got, c.de)
		}
		if got := SpokenDuration(c.min, "en"); got != c.en {
			t.Errorf("SpokenDuration(%d, en) = %q, want %q", c.min, got, c.en)
		}
	}
}

func TestSpokenWindow(t *testing.T) {
	cases := []struct {
		w      Window
		de, en string
	}{
		{Afternoon, "nachmittags", "in the afternoon"},
		{Morning, "vormittags", "in the morning"},
		{Midday, "mittags", "around midday"},
		{Evening, "abends", "in the evening"},
		{Window{14 * 60, 16 * 60, "range"}, "zwischen 14 und 16 Uhr", "between 2 PM and 4 PM"},
		{Window{15 * 60, endOfDay, "range"}, "ab 15 Uhr", "after 3 PM"},
		{Window{0, 11*60 + 30, "range"}, "bis 11 Uhr 30", "before 11:30 AM"},
	}
	for _, c := range cases {
		if got := SpokenWindow(c.w, "de"); got != c.de {
			t.Errorf("SpokenWindow(%v, de) = %q, want %q", c.w, got, c.de)
		}
		if got := SpokenWindow(c.w, "en"); got != c.en {
			t.Errorf("SpokenWindow(%v, en) = %q, want %q", c.w, got, c.en)
		}
		// What we say about a range we understand back.
		if back, ok := ParsePreference(SpokenWindow(c.w, "de"), "de"); !ok || back.StartMinute != c.w.StartMinute || back.EndMinute != c.w.EndMinute {
			t.Errorf("ParsePreference(%q) = %v %v", SpokenWindow(c.w, "de"), back, ok)
		}
	}
}
