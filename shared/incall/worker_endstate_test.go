// The end state of an unknown booking outcome once the retry worker
// (shared/worker, wired in shared/app) has run.

package incall_test

import (
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
)

func TestBookUnknownOutcomeCompletedByWorker(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		fault func(sb *calcomtest.Sandbox)
	}{
		{"booked but the answer was lost", func(sb *calcomtest.Sandbox) { sb.TimeoutAfterCreate(10 * time.Second) }},
		{"500 without booking", func(sb *calcomtest.Sandbox) { sb.FailNext(calcomtest.RouteCreate, 1, 500) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSys(t, apptest.Options{})
			when := at(2027, 3, 4, 15, 0)
			c.fault(s.e.Sandbox)
			a := s.do("book-appointment", s.call("call_unknown"), bookArgs("Herrenhaarschnitt", when))
			if a.Reason != "pending_confirmation" {
				t.Fatalf("got %+v", a)
			}
			s.e.Drain()
			bs := activeAt(s, etHerren, when)
			if len(bs) != 1 {
				t.Fatalf("%d bookings in Cal.com after the worker, want exactly 1", len(bs))
			}
			rows := s.appointments()
			if len(rows) != 1 || rows[0].Status != "confirmed" || rows[0].UID != bs[0].UID {
				t.Fatalf("row after the worker: %+v (Cal.com uid %s)", rows, bs[0].UID)
			}
			if n := len(s.e.Queue.DLQ()); n != 0 || s.e.Queue.Depth() != 0 {
				t.Fatalf("queue not drained: depth %d, dead %d", s.e.Queue.Depth(), n)
			}
		})
	}
}
