package booking

import (
	"testing"
	"time"
)

func TestRankAlternatives(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2027, 3, d, h, m, 0, 0, loc) }
	req := at(2, 14, 0)
	cands := []time.Time{
		at(5, 9, 0),   // later, other time
		at(3, 14, 0),  // next day, same time
		at(2, 16, 0),  // same day, 2h after
		at(2, 13, 30), // same day, 30 min before
		at(2, 14, 0),  // the request itself: never offered
		at(4, 14, 0),  // two days later, same time
		at(1, 14, 0),  // before the requested day: not an alternative
	}
	got := RankAlternatives(req, cands, loc, 3)
	want := []time.Time{at(2, 13, 30), at(2, 16, 0), at(3, 14, 0)}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("rank %d: got %v want %v", i, got[i], want[i])
		}
	}
	// Without same-day candidates the same time on later days comes first, then the rest.
	got = RankAlternatives(req, []time.Time{at(5, 9, 0), at(4, 14, 0), at(3, 14, 0)}, loc, 3)
	if !got[0].Equal(at(3, 14, 0)) || !got[1].Equal(at(4, 14, 0)) || !got[2].Equal(at(5, 9, 0)) {
		t.Fatalf("got %v", got)
	}
	if RankAlternatives(req, nil, loc, 3) != nil {
		t.Fatal("no candidates must give no alternatives")
	}
	if n := len(RankAlternatives(req, cands, loc, 1)); n != 1 {
		t.Fatalf("max not honoured: %d", n)
	}
}
