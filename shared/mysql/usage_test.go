package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestMinutesUsed(t *testing.T) {
	s, _, _ := newTestStore(t, 3)
	ctx := context.Background()
	mustApply(t, s, demoConfig("t1", "+4930111111", 1000))
	mustApply(t, s, demoConfig("t2", "+4930222222", 2000))

	month := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	put := func(tenant, id string, start time.Time, durMS int64) {
		t.Helper()
		st := start
		c := booking.Call{TenantID: tenant, CallID: id, Status: booking.CallEnded, DurationMS: durMS, StartedAt: &st}
		if _, err := s.UpsertCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	put("t1", "call_feb", month.Add(-time.Hour), 10*60_000)           // last month: never counted
	put("t1", "call_a", month.Add(time.Hour), 61_000)                 // 2 started minutes
	put("t1", "call_b", month.Add(2*time.Hour), 60_000)               // exactly 1
	put("t1", "call_c", month.Add(2*time.Hour), 1)                    // same start as b, 1 minute
	put("t1", "call_d", month.Add(3*time.Hour), 0)                    // not connected: 0
	put("t2", "call_other_tenant", month.Add(time.Hour), 30*60_000)   // other tenant
	put("t1", "call_huge", month.Add(4*time.Hour), 40*24*3600*1000-1) // capped at 31 days

	got, err := s.MinutesUsedSince(ctx, "t1", "call_b", month)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 + 1 + 31*24*60; got != want {
		t.Errorf("MinutesUsedSince = %d, want %d", got, want)
	}

	for _, tc := range []struct {
		id    string
		start time.Time
		want  int
	}{
		{"call_a", month.Add(time.Hour), 0},
		{"call_b", month.Add(2 * time.Hour), 2},     // a only; c has a larger id
		{"call_c", month.Add(2 * time.Hour), 2 + 1}, // a and b (same ms, smaller id)
		{"call_x", month.Add(5 * time.Hour), 2 + 1 + 1 + 31*24*60},
	} {
		got, err := s.MinutesUsedBefore(ctx, "t1", tc.id, month, tc.start)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("MinutesUsedBefore(%s) = %d, want %d", tc.id, got, tc.want)
		}
	}
	// Recomputing after later calls arrived gives the same answer.
	put("t1", "call_later", month.Add(time.Minute+time.Hour), 5*60_000)
	if got, _ := s.MinutesUsedBefore(ctx, "t1", "call_a", month, month.Add(time.Hour)); got != 0 {
		t.Errorf("MinutesUsedBefore(call_a) after a later call = %d, want 0", got)
	}
	_, err = s.MinutesUsedSince(ctx, "", "x", month)
	wantKind(t, err, booking.KindInvalid, "empty tenant")
}
