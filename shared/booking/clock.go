package booking

import "time"

// Clock is injected everywhere "now" matters so tests can pin it.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the real clock.
var SystemClock Clock = ClockFunc(time.Now)

// FixedClock returns a clock that always answers t.
func FixedClock(t time.Time) Clock { return ClockFunc(func() time.Time { return t }) }
