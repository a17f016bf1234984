package spoken

import (
	"fmt"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzResolve: no input panics, every error is one of the two reasons, and
// every answer is a real date/time that we can say and understand back.
func FuzzResolve(f *testing.F) {
	for _, c := range resolveCases {
		f.Add(c.date, c.time, c.ref.Unix(), c.locale == "en")
	}
	f.Fuzz(func(t *testing.T, date, tm string, refUnix int64, en bool) {
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("HANG %q | %q | %d %v", date, tm, refUnix, en))
			}
		}()
		defer close(done)
		// Keep the reference within years Go can format (roughly 0–9999).
		ref := time.Unix(refUnix%(200*365*86400)+1_000_000_000, 0)
		locale := "de"
		if en {
			locale = "en"
		}
		r, err := Resolve(date, tm, ref, berlin, locale)
		if err != nil {
			if reason := Reason(err); reason != ReasonUnclearDate && reason != ReasonUnclearTime {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if !r.Date.Valid() {
			t.Fatalf("invalid date %v", r.Date)
		}
		if r.HasTime && (r.Hour < 0 || r.Hour > 23 || r.Minute < 0 || r.Minute > 59 || r.Preference != nil) {
			t.Fatalf("bad time %+v", r)
		}
		if w := r.Preference; w != nil && (w.StartMinute < 0 || w.EndMinute > endOfDay || w.StartMinute >= w.EndMinute) {
			t.Fatalf("bad window %+v", *w)
		}
		start := r.Start(berlin)
		said := SpokenDateTime(start, berlin, locale)
		if !utf8.ValidString(said) {
			t.Fatalf("invalid UTF-8 rendering %q", said)
		}
		if r.HasTime && r.Exists(berlin) && r.Date.Year >= 1000 && r.Date.Year <= 9999 {
			back, err := Resolve(r.Date.String(), SpokenTime(start, berlin, locale), ref, berlin, locale)
			if err != nil || back.Hour != r.Hour || back.Minute != r.Minute {
				t.Fatalf("%+v said as %q came back as %+v %v", r, SpokenTime(start, berlin, locale), back, err)
			}
		}
	})
}
