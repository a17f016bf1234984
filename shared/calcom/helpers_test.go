package calcom_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/calcom/internal/spectest"
)

// testClock is a settable clock shared by the sandbox and the client.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// The demo salon: weekdays 9–18, Saturday 9–14; two services sharing one host.
var weekdays = booking.OpeningHours{
	time.Monday: {{Start: 9 * 60, End: 18 * 60}}, time.Tuesday: {{Start: 9 * 60, End: 18 * 60}},
	time.Wednesday: {{Start: 9 * 60, End: 18 * 60}}, time.Thursday: {{Start: 9 * 60, End: 18 * 60}},
	time.Friday: {{Start: 9 * 60, End: 18 * 60}}, time.Saturday: {{Start: 9 * 60, End: 14 * 60}},
}

type env struct {
	sb     *calcomtest.Sandbox
	client *calcom.Client
	rec    *spectest.Recorder
	clock  *testClock
}

// at is a wall-clock time in Berlin on 2027-03-dd.
func at(day, hour, min int) time.Time { return time.Date(2027, 3, day, hour, min, 0, 0, berlin) }

// newEnv starts a sandbox with the demo event types at Monday 2027-03-01
// 08:00 Berlin and a client whose every exchange is validated against
// the official spec.
func newEnv(t *testing.T, opts calcomtest.Options, cfg calcom.Config) *env {
	t.Helper()
	clock := &testClock{t: at(1, 8, 0)}
	if opts.Clock == nil {
		opts.Clock = clock
	}
	sb := calcomtest.New(opts)
	t.Cleanup(sb.Close)
	for _, et := range []calcomtest.EventType{
		{ID: 1001, Slug: "herrenhaarschnitt", Title: "Herrenhaarschnitt", LengthMinutes: 30, TimeZone: "Europe/Berlin", Schedule: weekdays, HostID: 7, MinimumNoticeMinutes: 30},
		{ID: 1002, Slug: "damenhaarschnitt", Title: "Damenhaarschnitt", LengthMinutes: 60, TimeZone: "Europe/Berlin", Schedule: weekdays, HostID: 7, SlotIntervalMinutes: 30},
		{ID: 2001, LengthMinutes: 30, TimeZone: "Europe/Berlin", Schedule: weekdays, HostID: 8},
	} {
		if err := sb.AddEventType(et); err != nil {
			t.Fatal(err)
		}
	}
	rec := spectest.Load(t).Transport(t, http.DefaultTransport)
	cfg.BaseURL = sb.URL()
	if cfg.APIKey == "" {
		cfg.APIKey = calcomtest.DefaultAPIKey
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: rec}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	if cfg.Breaker.Registry == nil {
		cfg.Breaker.Registry = calcom.NewBreakerRegistry()
	}
	c, err := calcom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, client: c, rec: rec, clock: clock}
}

var maria = calcom.Attendee{Name: "Maria Rossi", Email: "maria.rossi@example.com", PhoneNumber: "+4915112345678", TimeZone: "Europe/Berlin", Language: "de"}

func contains(ts []time.Time, x time.Time) bool {
	for _, t := range ts {
		if t.Equal(x) {
			return true
		}
	}
	return false
}
