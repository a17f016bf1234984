package spoken

import "testing"

func TestParsePreference(t *testing.T) {
	cases := []struct {
		text, locale string
		want         Window
		ok           bool
	}{
		{"nachmittags", "de", Afternoon, true},
		{"Nachmittag", "de", Afternoon, true},
		{"am Vormittag", "de", Morning, true},
		{"morgens", "de", Morning, true},
		{"früh", "de", Morning, true},
		{"mittags", "de", Midday, true},
		{"abends", "de", Evening, true},
		{"gerne abends", "de", Evening, true},
		{"morgen nachmittag", "de", Afternoon, true}, // the date is not the preference's business
		{"in the evening", "en", Evening, true},
		{"afternoon", "en", Afternoon, true},
		{"afternoon", "de", Afternoon, true},
		{"ab 15 Uhr", "de", Window{15 * 60, endOfDay, "range"}, true},
		{"zwischen 14 und 16 Uhr", "de", Window{14 * 60, 16 * 60, "range"}, true},
		{"von 9 bis 11", "de", Window{9 * 60, 11 * 60, "range"}, true},
		{"bis 12", "de", Window{0, 12 * 60, "range"}, true},
		{"zwischen 18 und 22 Uhr abends", "de", Window{18 * 60, 21 * 60, "range"}, true},
		{"from 9 to 11 am", "en", Window{9 * 60, 11 * 60, "range"}, true},
		{"before noon", "en", Window{0, 12 * 60, "range"}, true},
		{"14 Uhr", "de", Window{}, false},
		{"", "de", Window{}, false},
		{"blah", "de", Window{}, false},
		{"nachts", "de", Window{}, false},
		{"pm", "en", Window{}, false},
		{"vormittags oder nachmittags", "de", Window{}, false},
		{"zwischen 14 Uhr", "de", Window{}, false},
		{"ab 20 Uhr morgens", "de", Window{}, false},
	}
	for _, c := range cases {
		got, ok := ParsePreference(c.text, c.locale)
		if ok != c.ok || got != c.want {
			t.Errorf("ParsePreference(%q, %s) = %+v %v, want %+v %v", c.text, c.locale, got, ok, c.want, c.ok)
		}
	}
	if !Afternoon.Contains(12*60) || Afternoon.Contains(18*60) {
		t.Fatal("windows are [start, end)")
	}
}
