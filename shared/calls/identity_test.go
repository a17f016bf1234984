package calls

import (
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func TestLive(t *testing.T) {
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	started := now.Add(-5 * time.Minute)
	base := booking.Call{CallID: "call_1", Direction: "inbound", ToNumber: "+4930123456", Status: booking.CallOngoing, StartedAt: &started}
	if !live(base, now) {
		t.Fatal("an ongoing inbound call is live")
	}
	old := now.Add(-MaxCallAge - time.Second)
	ended := now.Add(-time.Minute)
	for name, mut := range map[string]func(c *booking.Call){
		"ended":             func(c *booking.Call) { c.Status = booking.CallEnded },
		"analyzed":          func(c *booking.Call) { c.Status = booking.CallAnalyzed },
		"end time known":    func(c *booking.Call) { c.EndedAt = &ended },
		"never started":     func(c *booking.Call) { c.StartedAt = nil },
		"older than a call": func(c *booking.Call) { c.StartedAt = &old },
		"outbound":          func(c *booking.Call) { c.Direction = "outbound" },
		"no number of ours": func(c *booking.Call) { c.ToNumber = "" },
	} {
		c := base
		mut(&c)
		if live(c, now) {
			t.Errorf("%s: counted as live", name)
		}
	}
}
