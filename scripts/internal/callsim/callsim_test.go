package callsim

import (
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/spoken"
)

func TestCheckTarget(t *testing.T) {
	for target, ok := range map[string]bool{
		"https://api.example.com/prod": true, "http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:80": true,
		"http://example.com": false, "http://10.1.2.3": false, "ftp://example.com": false, "example.com": false, "": false,
	} {
		if err := CheckTarget(target); (err == nil) != ok {
			t.Errorf("CheckTarget(%q) = %v", target, err)
		}
	}
}

// ScenarioDay must be a Tuesday to Friday at least 3 days ahead, whatever
// day the simulator runs, and the words for it must resolve to it.
func TestScenarioDayEveryWeekday(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	for i := 0; i < 14; i++ {
		now := time.Date(2027, 3, 1, 23, 59, 0, 0, loc).AddDate(0, 0, i)
		d := ScenarioDay(now, loc)
		if d.Weekday() < time.Tuesday || d.Weekday() > time.Friday {
			t.Errorf("%s: %s is a %s", now.Weekday(), d.Format(time.DateOnly), d.Weekday())
		}
		if at := d.Add(9 * time.Hour); at.Sub(now) < 48*time.Hour {
			t.Errorf("%s: %s 09:00 is less than 48 h ahead", now.Weekday(), d.Format(time.DateOnly))
		}
		at := d.Add(14*time.Hour + 30*time.Minute)
		r, err := spoken.Resolve(DateWords(at, loc), TimeWords(at, loc), now, loc, "de")
		if err != nil || !r.HasTime || !r.Start(loc).Equal(at) {
			t.Errorf("%q %q did not resolve to %s: %v", DateWords(at, loc), TimeWords(at, loc), at, err)
		}
	}
}

func TestRandomMobileIsE164(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		n := RandomMobile()
		if !retell.IsE164(n) || len(n) != 14 {
			t.Fatalf("%q is not a German mobile number in E.164", n)
		}
		seen[n] = true
	}
	if len(seen) < 95 {
		t.Errorf("only %d distinct numbers in 100", len(seen))
	}
}
