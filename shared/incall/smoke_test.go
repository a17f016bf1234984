package incall_test

import (
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/app/apptest"
)

func TestSmoke(t *testing.T) {
	t0 := time.Now()
	s := newSys(t, apptest.Options{})
	t.Logf("setup %v", time.Since(t0))
	a := s.do("check-availability", s.call("call_smoke_1"), isoArgs("Herrenhaarschnitt", at(2027, 3, 2, 14, 0)))
	t.Logf("%+v", a)
	b := s.book(s.call("call_smoke_1"), "Herrenhaarschnitt", at(2027, 3, 2, 14, 0))
	t.Logf("%+v %+v", b, b.Appointment)
	t.Logf("requests %v", s.e.Sandbox.Requests())
}
