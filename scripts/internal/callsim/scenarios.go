package callsim

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/retell"
)

// Scenarios, in the order "all" plays them.
var Scenarios = []string{"book", "reschedule", "cancel", "anonymous", "composite"}

// Services of the demo tenant the scenarios ask for.
const (
	ServiceMen       = "Herrenhaarschnitt"
	ServiceColouring = "Färben"
)

// Observer looks into the calendar behind an in-process gateway; remote
// runs have none and judge by the answers alone.
type Observer interface {
	// ActiveCalcomBookings counts the bookings that block time in Cal.com.
	ActiveCalcomBookings() int
}

// Session plays scenarios against one gateway.
type Session struct {
	T       Transport
	APIKey  string
	To      string // the dialled number (the demo tenant's)
	AgentID string
	Loc     *time.Location   // the branch's zone (Europe/Berlin)
	Now     func() time.Time // default time.Now
	// Observer, when set, checks Cal.com directly (no second booking).
	Observer Observer
	// AfterGreeting runs after call_started: in-process, the retry worker
	// runs the availability prefetch there, as it would while the agent
	// greets. nil: nothing.
	AfterGreeting func(ctx context.Context) error
	// OnStep sees every step as it happens (the printed script).
	OnStep func(Step)
}

// Booked is an appointment a scenario made, with what it must look like at
// the end of the scenario.
type Booked struct {
	Scenario      string `json:"scenario"`
	CallID        string `json:"call_id"` // the call that booked it
	Phone         string `json:"-"`       // the caller's number ("" when withheld); never printed in clear
	AppointmentID int64  `json:"appointment_id"`
	Service       string `json:"service"`
	Start         string `json:"start"`
	WantStatus    string `json:"want_status"`   // confirmed | cancelled
	WantSegments  int    `json:"want_segments"` // Cal.com bookings behind it
	Answer        string `json:"answer"`        // the booking's spoken confirmation
}

// Outcome is one played scenario.
type Outcome struct {
	Scenario string   `json:"scenario"`
	Steps    []Step   `json:"steps"`
	Booked   []Booked `json:"booked"`
	CallIDs  []string `json:"call_ids"` // calls with call_started/ended events
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether every step behaved.
func (o Outcome) OK() bool { return len(o.Problems) == 0 }

// Play runs one scenario. Misbehaviour is recorded in the outcome; an
// error means the gateway could not be reached at all.
func (s *Session) Play(ctx context.Context, scenario string) (Outcome, error) {
	p := &play{s: s, o: Outcome{Scenario: scenario}}
	var err error
	switch scenario {
	case "book":
		err = p.book(ctx)
	case "reschedule":
		err = p.reschedule(ctx)
	case "cancel":
		err = p.cancel(ctx)
	case "anonymous":
		err = p.anonymous(ctx)
	case "composite":
		err = p.composite(ctx)
	default:
		return p.o, fmt.Errorf("unknown scenario %q (one of %s, all)", scenario, strings.Join(Scenarios, ", "))
	}
	if err != nil {
		p.o.Problems = append(p.o.Problems, "aborted: "+err.Error())
	}
	return p.o, nil
}

// errStop ends a scenario whose next steps would make no sense.
type errStop struct{ why string }

func (e errStop) Error() string { return e.why }

type play struct {
	s          *Session
	o          Outcome
	transcript map[string]*strings.Builder
}

func (p *play) now() time.Time {
	if p.s.Now != nil {
		return p.s.Now()
	}
	return time.Now()
}

func (p *play) newCall(from string) *Call {
	return &Call{T: p.s.T, APIKey: p.s.APIKey, ID: NewCallID("call_sim"), From: from, To: p.s.To,
		AgentID: p.s.AgentID, Start: p.now(), Now: p.s.Now}
}

func (p *play) say(c *Call, who, line string) {
	if p.transcript == nil {
		p.transcript = map[string]*strings.Builder{}
	}
	b := p.transcript[c.ID]
	if b == nil {
		b = &strings.Builder{}
		p.transcript[c.ID] = b
	}
	if line != "" {
		fmt.Fprintf(b, "%s: %s\n", who, line)
	}
}

func (p *play) record(st Step, said, expect, problem string) {
	st.Scenario, st.Said, st.Expect = p.o.Scenario, said, expect
	if st.Problem == "" {
		st.Problem = problem
	}
	if st.Problem != "" {
		p.o.Problems = append(p.o.Problems, fmt.Sprintf("%s (%s): %s", st.Function, st.CallID, st.Problem))
	}
	p.o.Steps = append(p.o.Steps, st)
	if p.s.OnStep != nil {
		p.s.OnStep(st)
	}
}

// fn calls a function, records the step and judges it with check ("" = fine).
func (p *play) fn(ctx context.Context, c *Call, name, said, expect string, args map[string]string, check func(a incall.Answer) string) (incall.Answer, bool, error) {
	p.say(c, "User", said)
	a, st, err := c.Function(ctx, name, args)
	if err != nil {
		p.record(st, said, expect, "no answer: "+err.Error())
		return a, false, err
	}
	problem := ""
	if st.Status != http.StatusOK {
		problem = fmt.Sprintf("HTTP %d: %s", st.Status, truncate(st.Message, 200))
	} else if st.Problem == "" && check != nil {
		problem = check(a)
	}
	p.say(c, "Agent", a.Message)
	p.record(st, said, expect, problem)
	return a, problem == "" && st.Problem == "", nil
}

func (p *play) webhook(st Step, err error, said, expect string, want int) error {
	if err != nil {
		p.record(st, said, expect, "no answer: "+err.Error())
		return err
	}
	problem := ""
	if st.Status != want {
		problem = fmt.Sprintf("HTTP %d, want %d", st.Status, want)
	}
	p.record(st, said, expect, problem)
	return nil
}

// greet plays call_inbound and call_started. known: whether the gateway
// must recognise the caller.
func (p *play) greet(ctx context.Context, c *Call, known bool) error {
	resp, st, err := c.Inbound(ctx)
	if err != nil {
		p.record(st, "", "routed", "no answer: "+err.Error())
		return err
	}
	vars := resp.CallInbound.DynamicVariables
	expect := "routed to the tenant, caller unknown"
	if known {
		expect = "routed, caller recognised with the next appointment"
	}
	problem := ""
	switch {
	case st.Status != http.StatusOK:
		problem = fmt.Sprintf("HTTP %d", st.Status)
	case vars["tenant_id"] == "" || vars["business_name"] == "":
		problem = "the dialled number was not routed to a tenant (fallback answer)"
	case known && (vars["caller_known"] != "true" || vars["next_appointment_spoken"] == ""):
		problem = "the caller was not recognised with their next appointment"
	case !known && vars["caller_known"] != "false":
		problem = "an unknown caller was recognised"
	}
	st.Message = greeting(vars)
	p.record(st, "(klingelt)", expect, problem)
	p.say(c, "Agent", st.Message)
	p.o.CallIDs = append(p.o.CallIDs, c.ID)
	st2, err := c.Started(ctx)
	if err := p.webhook(st2, err, "", "stored (204)", http.StatusNoContent); err != nil {
		return err
	}
	if p.s.AfterGreeting != nil {
		if err := p.s.AfterGreeting(ctx); err != nil {
			return fmt.Errorf("after greeting: %w", err)
		}
	}
	return nil
}

func greeting(vars map[string]string) string {
	name := vars["business_name"]
	if name == "" {
		name = "(unbekannt)"
	}
	g := name + ", guten Tag"
	if vars["caller_known"] == "true" && vars["caller_first_name"] != "" {
		g += ", " + vars["caller_first_name"]
	}
	g += "! Wie kann ich helfen?"
	if n := vars["next_appointment_spoken"]; n != "" {
		g += " (Ihr nächster Termin: " + n + ")"
	}
	return g
}

// hangUp plays call_ended with the transcript and call_analyzed.
func (p *play) hangUp(ctx context.Context, c *Call, summary string) error {
	p.say(c, "Agent", "Vielen Dank für Ihren Anruf, auf Wiederhören!")
	tr := ""
	if b := p.transcript[c.ID]; b != nil {
		tr = b.String()
	}
	st, err := c.Ended(ctx, tr)
	if err := p.webhook(st, err, "(legt auf)", "stored with the transcript (204)", http.StatusNoContent); err != nil {
		return err
	}
	st, err = c.Analyzed(ctx, tr, summary)
	return p.webhook(st, err, "", "analysis stored (204)", http.StatusNoContent)
}

// dayOptions asks for a day without a time and returns the offered starts.
func (p *play) dayOptions(ctx context.Context, c *Call, service string, day time.Time) ([]time.Time, error) {
	said := fmt.Sprintf("Haben Sie am %s etwas frei für einen %s?", DateWords(day, p.s.Loc), service)
	if service == ServiceColouring {
		said = fmt.Sprintf("Ich möchte mir die Haare färben lassen, am %s. Wann ginge das?", DateWords(day, p.s.Loc))
	}
	a, ok, err := p.fn(ctx, c, "check-availability", said, "ok with free times that day", map[string]string{"service": service, "date": DateWords(day, p.s.Loc)},
		func(a incall.Answer) string {
			if !a.OK || len(a.Alternatives) == 0 {
				return fmt.Sprintf("want free times, got ok=%v reason=%q", a.OK, a.Reason)
			}
			return ""
		})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errStop{"no free times offered"}
	}
	return starts(a.Alternatives)
}

func starts(alts []incall.Alternative) ([]time.Time, error) {
	var out []time.Time
	for _, al := range alts {
		t, err := time.Parse(time.RFC3339, al.Start)
		if err != nil {
			return nil, errStop{"alternative start is not RFC 3339"}
		}
		out = append(out, t)
	}
	return out, nil
}

func bookArgs(service string, at time.Time, loc *time.Location, name string) map[string]string {
	return map[string]string{"service": service, "date": DateWords(at, loc), "time": TimeWords(at, loc), "customer_name": name}
}

// checkBooked judges a book-appointment answer.
func checkBooked(at time.Time) func(incall.Answer) string {
	return func(a incall.Answer) string {
		switch {
		case !a.OK:
			return fmt.Sprintf("not booked: reason=%q", a.Reason)
		case a.Appointment == nil || a.Appointment.ID == 0:
			return "no appointment in the answer"
		case a.Appointment.Status != "confirmed":
			return "appointment status " + a.Appointment.Status
		case !sameInstant(a.Appointment.Start, at):
			return "booked " + a.Appointment.Start + ", asked for " + at.Format(time.RFC3339)
		}
		return ""
	}
}

func sameInstant(rfc string, t time.Time) bool {
	u, err := time.Parse(time.RFC3339, rfc)
	return err == nil && u.Equal(t)
}

// bookAt books service at `at` in call c and, as Retell does after a
// timeout, sends the identical request again: the same answer, and no
// second booking in Cal.com.
func (p *play) bookAt(ctx context.Context, c *Call, service string, at time.Time, name string) (incall.Answer, error) {
	args := bookArgs(service, at, p.s.Loc, name)
	said := fmt.Sprintf("Ja, bitte buchen Sie %s. Mein Name ist %s.", TimeWords(at, p.s.Loc), name)
	a, ok, err := p.fn(ctx, c, "book-appointment", said, "booked and confirmed", args, checkBooked(at))
	if err != nil {
		return a, err
	}
	if !ok {
		return a, errStop{"booking failed"}
	}
	before := -1
	if p.s.Observer != nil {
		before = p.s.Observer.ActiveCalcomBookings()
	}
	_, _, err = p.fn(ctx, c, "book-appointment", "(Retell wiederholt die Anfrage nach einer Zeitüberschreitung)",
		"the same answer again, no second booking", args, func(b incall.Answer) string {
			if !reflect.DeepEqual(a, b) {
				return "the retry got a different answer"
			}
			if before >= 0 {
				if after := p.s.Observer.ActiveCalcomBookings(); after != before {
					return fmt.Sprintf("Cal.com has %d bookings after the retry, %d before", after, before)
				}
			}
			return ""
		})
	if err != nil {
		return a, err
	}
	p.o.Booked = append(p.o.Booked, Booked{Scenario: p.o.Scenario, CallID: c.ID, Phone: phoneOf(c), AppointmentID: a.Appointment.ID,
		Service: service, Start: a.Appointment.Start, WantStatus: "confirmed", WantSegments: 1, Answer: a.Message})
	return a, nil
}

func phoneOf(c *Call) string {
	if retell.IsAnonymousNumber(c.From) {
		return ""
	}
	return c.From
}

// findExpect checks that find-appointments lists exactly want (ids).
func (p *play) find(ctx context.Context, c *Call, said string, want ...int64) error {
	expect := "the caller's upcoming appointments"
	if len(want) == 0 {
		expect = "no upcoming appointment (not_found)"
	}
	_, _, err := p.fn(ctx, c, "find-appointments", said, expect, nil, func(a incall.Answer) string {
		if len(want) == 0 {
			if a.OK || a.Reason != incall.ReasonNotFound {
				return fmt.Sprintf("want not_found, got ok=%v reason=%q", a.OK, a.Reason)
			}
			return ""
		}
		if !a.OK {
			return "reason " + a.Reason
		}
		have := map[int64]bool{}
		for _, ap := range a.Appointments {
			have[ap.ID] = true
		}
		for _, id := range want {
			if !have[id] {
				return fmt.Sprintf("appointment %d is not listed", id)
			}
		}
		if len(a.Appointments) != len(want) {
			return fmt.Sprintf("%d appointments listed, want %d", len(a.Appointments), len(want))
		}
		return ""
	})
	return err
}

// --- scenarios ---

// book: a slot someone else just took, the alternatives, booking one of
// them, Retell's retry, and the caller asking what is booked.
func (p *play) book(ctx context.Context) error {
	loc := p.s.Loc
	day := ScenarioDay(p.now(), loc)

	// Another caller books first, so the slot our caller wants is taken.
	other := p.newCall(RandomMobile())
	opts, err := p.dayOptions(ctx, other, ServiceMen, day)
	if err != nil {
		return err
	}
	taken := opts[len(opts)/2]
	if _, err := p.bookAt(ctx, other, ServiceMen, taken, "Petra Schulz"); err != nil {
		return err
	}
	p.o.Booked = p.o.Booked[:0] // the other caller's booking is only the setting

	c := p.newCall(RandomMobile())
	if err := p.greet(ctx, c, false); err != nil {
		return err
	}
	if _, _, err := p.fn(ctx, c, "list-services", "Was kann ich bei Ihnen denn alles buchen?", "the services with durations", nil,
		func(a incall.Answer) string {
			for _, sv := range a.Services {
				if sv.Name == ServiceMen {
					return ""
				}
			}
			return "Herrenhaarschnitt is not offered"
		}); err != nil {
		return err
	}
	said := fmt.Sprintf("Ich hätte gern einen Herrenhaarschnitt am %s um %s.", DateWords(taken, loc), TimeWords(taken, loc))
	a, ok, err := p.fn(ctx, c, "check-availability", said, "slot_taken with alternatives",
		map[string]string{"service": ServiceMen, "date": DateWords(taken, loc), "time": TimeWords(taken, loc)},
		func(a incall.Answer) string {
			switch {
			case a.OK || a.Reason != incall.ReasonSlotTaken:
				return fmt.Sprintf("want slot_taken, got ok=%v reason=%q", a.OK, a.Reason)
			case !sameInstant(a.Requested, taken):
				return "requested " + a.Requested + " is not the time asked for"
			case len(a.Alternatives) == 0:
				return "no alternatives offered"
			}
			for _, al := range a.Alternatives {
				if sameInstant(al.Start, taken) {
					return "the taken slot is offered as an alternative"
				}
			}
			return ""
		})
	if err != nil {
		return err
	}
	if !ok {
		return errStop{"the taken slot was not refused"}
	}
	alts, err := starts(a.Alternatives)
	if err != nil {
		return err
	}
	alt := alts[0]
	said = fmt.Sprintf("Dann nehme ich %s. Geht das?", a.Alternatives[0].Spoken)
	if _, ok, err = p.fn(ctx, c, "check-availability", said, "available",
		map[string]string{"service": ServiceMen, "date": DateWords(alt, loc), "time": TimeWords(alt, loc)},
		func(a incall.Answer) string {
			if !a.OK || a.Available == nil || !*a.Available {
				return fmt.Sprintf("an offered alternative is not available: reason=%q", a.Reason)
			}
			return ""
		}); err != nil {
		return err
	}
	if !ok {
		return errStop{"offered alternative not available"}
	}
	b, err := p.bookAt(ctx, c, ServiceMen, alt, "Max Mustermann")
	if err != nil {
		return err
	}
	if err := p.find(ctx, c, "Und welche Termine habe ich jetzt bei Ihnen?", b.Appointment.ID); err != nil {
		return err
	}
	return p.hangUp(ctx, c, "Der Anrufer hat einen Herrenhaarschnitt gebucht; die Wunschzeit war vergeben.")
}

// bookingCall is the first call of reschedule and cancel: a plain booking.
func (p *play) bookingCall(ctx context.Context, from, service, name string) (incall.Answer, time.Time, error) {
	c := p.newCall(from)
	if err := p.greet(ctx, c, false); err != nil {
		return incall.Answer{}, time.Time{}, err
	}
	opts, err := p.dayOptions(ctx, c, service, ScenarioDay(p.now(), p.s.Loc))
	if err != nil {
		return incall.Answer{}, time.Time{}, err
	}
	at := opts[0]
	a, err := p.bookAt(ctx, c, service, at, name)
	if err != nil {
		return a, at, err
	}
	return a, at, p.hangUp(ctx, c, "Termin gebucht.")
}

// reschedule: a second call from the same number moves the appointment.
func (p *play) reschedule(ctx context.Context) error {
	loc := p.s.Loc
	from := RandomMobile()
	first, at, err := p.bookingCall(ctx, from, ServiceMen, "Jonas Weber")
	if err != nil {
		return err
	}
	c := p.newCall(from)
	if err := p.greet(ctx, c, true); err != nil {
		return err
	}
	if err := p.find(ctx, c, "Ich habe doch einen Termin bei Ihnen, oder?", first.Appointment.ID); err != nil {
		return err
	}
	opts, err := p.dayOptions(ctx, c, ServiceMen, at.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	to := opts[len(opts)-1]
	said := fmt.Sprintf("Können wir den auf %s um %s verschieben?", DateWords(to, loc), TimeWords(to, loc))
	args := map[string]string{"new_date": DateWords(to, loc), "new_time": TimeWords(to, loc)}
	moved, ok, err := p.fn(ctx, c, "reschedule-appointment", said, "moved, same appointment", args, func(a incall.Answer) string {
		switch {
		case !a.OK:
			return fmt.Sprintf("not moved: reason=%q", a.Reason)
		case a.Appointment == nil || a.Appointment.ID != first.Appointment.ID:
			return "a different appointment in the answer"
		case !sameInstant(a.Appointment.Start, to):
			return "moved to " + a.Appointment.Start
		case a.FeeCents != nil && *a.FeeCents > 0:
			return "a fee was charged more than 48 h ahead"
		}
		return ""
	})
	if err != nil {
		return err
	}
	if ok {
		p.o.Booked[len(p.o.Booked)-1].Start = moved.Appointment.Start
	}
	if err := p.find(ctx, c, "Dann ist jetzt nur noch der neue Termin eingetragen?", first.Appointment.ID); err != nil {
		return err
	}
	return p.hangUp(ctx, c, "Der Anrufer hat seinen Termin verschoben.")
}

// cancel: a second call from the same number cancels; Retell's retry gets
// the same answer; nothing is left.
func (p *play) cancel(ctx context.Context) error {
	loc := p.s.Loc
	from := RandomMobile()
	first, at, err := p.bookingCall(ctx, from, ServiceMen, "Sabine Krüger")
	if err != nil {
		return err
	}
	c := p.newCall(from)
	if err := p.greet(ctx, c, true); err != nil {
		return err
	}
	args := map[string]string{"date": DateWords(at, loc), "reason": "krank"}
	said := fmt.Sprintf("Ich muss meinen Termin am %s leider absagen, ich bin krank.", DateWords(at, loc))
	a, ok, err := p.fn(ctx, c, "cancel-appointment", said, "cancelled free of charge", args, func(a incall.Answer) string {
		switch {
		case !a.OK:
			return fmt.Sprintf("not cancelled: reason=%q", a.Reason)
		case a.Appointment == nil || a.Appointment.ID != first.Appointment.ID || a.Appointment.Status != "cancelled":
			return "the answer does not show the appointment cancelled"
		case a.FeeCents != nil && *a.FeeCents > 0:
			return "a fee was charged more than 48 h ahead"
		}
		return ""
	})
	if err != nil {
		return err
	}
	if ok {
		p.o.Booked[len(p.o.Booked)-1].WantStatus = "cancelled"
	}
	if _, _, err := p.fn(ctx, c, "cancel-appointment", "(Retell wiederholt die Anfrage)", "the same answer again", args, func(b incall.Answer) string {
		if !reflect.DeepEqual(a, b) {
			return "the retry got a different answer"
		}
		return ""
	}); err != nil {
		return err
	}
	if err := p.find(ctx, c, "Habe ich sonst noch etwas bei Ihnen?"); err != nil {
		return err
	}
	return p.hangUp(ctx, c, "Der Anrufer hat seinen Termin abgesagt.")
}

// anonymous: a withheld number must give a number to book, and may not
// cancel by phone.
func (p *play) anonymous(ctx context.Context) error {
	loc := p.s.Loc
	c := p.newCall("anonymous")
	if err := p.greet(ctx, c, false); err != nil {
		return err
	}
	opts, err := p.dayOptions(ctx, c, ServiceMen, ScenarioDay(p.now(), loc))
	if err != nil {
		return err
	}
	at := opts[len(opts)/2]
	args := bookArgs(ServiceMen, at, loc, "Lena Vogel")
	if _, _, err := p.fn(ctx, c, "book-appointment", fmt.Sprintf("Dann bitte %s, auf Lena Vogel.", TimeWords(at, loc)),
		"contact_needed (the number is withheld)", args, func(a incall.Answer) string {
			if a.OK || a.Reason != incall.ReasonContactNeeded {
				return fmt.Sprintf("want contact_needed, got ok=%v reason=%q", a.OK, a.Reason)
			}
			return ""
		}); err != nil {
		return err
	}
	args["customer_phone"] = "0171 2345678"
	a, ok, err := p.fn(ctx, c, "book-appointment", "Meine Nummer ist null eins sieben eins, zwei drei vier fünf sechs sieben acht.",
		"booked with the number given", args, checkBooked(at))
	if err != nil {
		return err
	}
	if ok {
		p.o.Booked = append(p.o.Booked, Booked{Scenario: p.o.Scenario, CallID: c.ID, Phone: "+491712345678", AppointmentID: a.Appointment.ID,
			Service: ServiceMen, Start: a.Appointment.Start, WantStatus: "confirmed", WantSegments: 1, Answer: a.Message})
	}
	if _, _, err := p.fn(ctx, c, "cancel-appointment", "Ach, und einen anderen Termin wollte ich noch absagen.",
		"anonymous_caller (no cancelling without a number)", map[string]string{}, func(a incall.Answer) string {
			if a.OK || a.Reason != incall.ReasonAnonymousCaller {
				return fmt.Sprintf("want anonymous_caller, got ok=%v reason=%q", a.OK, a.Reason)
			}
			return ""
		}); err != nil {
		return err
	}
	return p.hangUp(ctx, c, "Anonymer Anrufer hat einen Termin mit Rückrufnummer gebucht.")
}

// composite: colouring is two Cal.com bookings with a gap between them.
func (p *play) composite(ctx context.Context) error {
	c := p.newCall(RandomMobile())
	if err := p.greet(ctx, c, false); err != nil {
		return err
	}
	opts, err := p.dayOptions(ctx, c, ServiceColouring, ScenarioDay(p.now(), p.s.Loc))
	if err != nil {
		return err
	}
	a, err := p.bookAt(ctx, c, ServiceColouring, opts[0], "Clara Neumann")
	if err != nil {
		return err
	}
	p.o.Booked[len(p.o.Booked)-1].WantSegments = 2
	if !sameEnd(a, 120*time.Minute) {
		p.o.Problems = append(p.o.Problems, "composite appointment does not last 120 minutes")
	}
	if err := p.find(ctx, c, "Wie lange dauert das dann insgesamt?", a.Appointment.ID); err != nil {
		return err
	}
	return p.hangUp(ctx, c, "Färben gebucht.")
}

func sameEnd(a incall.Answer, d time.Duration) bool {
	if a.Appointment == nil {
		return false
	}
	s, err1 := time.Parse(time.RFC3339, a.Appointment.Start)
	e, err2 := time.Parse(time.RFC3339, a.Appointment.End)
	return err1 == nil && err2 == nil && e.Sub(s) == d
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
