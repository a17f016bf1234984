package incall_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom/calcomtest"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/spoken"
	"github.com/telefonagent/gateway/shared/tenantfile"
)

// The in-call functions are tested as Retell calls them: a signed
// {name, call, args} envelope through apigw.Wrap and app.InCallHandler,
// against the real system of apptest (MariaDB, Redis, the Cal.com sandbox).

const (
	tenantID = "salon-sonnenschein"
	// caller is a German mobile number in E.164; other is another caller.
	caller = "+4915112345678"
	other  = "+4917698765432"
)

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall time in Berlin.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, berlin)
}

// sys is the system under test plus the HTTP handlers of the six functions.
type sys struct {
	t        testing.TB
	e        *apptest.Env
	sched    *incall.Scheduler
	handlers map[string]apigw.LambdaHandler
	jobs     *apptest.JobRecorder
}

var dbNameChars = regexp.MustCompile(`[^a-z0-9]+`)

// dbName gives every test its own database, so tests may run in parallel.
func dbName(t testing.TB) string {
	n := dbNameChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(n) > 30 {
		sum := sha256.Sum256([]byte(n))
		n = n[:22] + "_" + hex.EncodeToString(sum[:])[:7]
	}
	return "incall_" + n
}

func newSys(t testing.TB, o apptest.Options) *sys {
	t.Helper()
	if o.DBName == "" {
		o.DBName = dbName(t)
	}
	e := apptest.New(t, o)
	rec := &apptest.JobRecorder{Next: e.Deps.Publisher}
	e.Deps.Publisher = rec
	s := &sys{t: t, e: e, jobs: rec}
	s.rebuild()
	return s
}

// rebuild wires scheduler and handlers again after Deps changed.
func (s *sys) rebuild() {
	s.sched = s.e.Deps.Scheduler()
	s.handlers = map[string]apigw.LambdaHandler{}
	for name, op := range app.InCallOps(s.sched) {
		s.handlers[name] = apigw.Wrap(name, app.InCallHandler(s.e.Deps, op), s.e.Deps.WrapOptions(name))
	}
}

// englishTenant is the demo tenant speaking English.
func englishTenant(t testing.TB) []byte {
	b := tenantfile.Demo()
	out := bytes.Replace(b, []byte("\nlocale: de "), []byte("\nlocale: en "), 1)
	if bytes.Equal(out, b) {
		t.Fatal("demo tenant file has no `locale: de` line to edit")
	}
	return out
}

// callCtx is the call a function runs in.
type callCtx struct {
	ID      string
	From    string // "" = anonymous
	StartMS int64  // 0 = the env clock
}

func (s *sys) call(id string) callCtx { return callCtx{ID: id, From: caller} }

// envelope builds Retell's custom-function body.
func (s *sys) envelope(fn string, c callCtx, args any) []byte {
	start := c.StartMS
	if start == 0 {
		start = s.e.Clock.Now().Add(-time.Minute).UnixMilli()
	}
	call := map[string]any{
		"call_id": c.ID, "agent_id": "agent_demo", "call_type": "phone_call", "direction": "inbound",
		"call_status": "ongoing", "to_number": apptest.DemoNumber, "start_timestamp": start,
	}
	if c.From != "" {
		call["from_number"] = c.From
	}
	b, err := json.Marshal(map[string]any{"name": retell.ToolName(fn), "call": call, "args": args})
	if err != nil {
		s.t.Fatalf("envelope: %v", err)
	}
	return b
}

// raw sends body to function fn with the given signature header ("" = sign
// it correctly) and returns status and body.
func (s *sys) raw(fn string, body []byte, sig string) (int, string) {
	s.t.Helper()
	h, ok := s.handlers[fn]
	if !ok {
		s.t.Fatalf("no handler %q", fn)
	}
	if sig == "" {
		sig = s.e.Sign(body)
	}
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodPost, Path: "/functions/" + fn, Resource: "/functions/" + fn,
		Headers: map[string]string{"Content-Type": "application/json", retell.SignatureHeader: sig},
		Body:    string(body),
	}
	resp, err := h(context.Background(), ev)
	if err != nil {
		s.t.Fatalf("lambda handler returned an error: %v", err)
	}
	return resp.StatusCode, resp.Body
}

// do calls fn like Retell and decodes the answer, checking the properties
// every answer must have.
func (s *sys) do(fn string, c callCtx, args map[string]any) incall.Answer {
	s.t.Helper()
	status, body := s.raw(fn, s.envelope(fn, c, args), "")
	if status != http.StatusOK {
		s.t.Fatalf("%s: status %d: %s", fn, status, body)
	}
	return s.decode(body)
}

func (s *sys) decode(body string) incall.Answer {
	s.t.Helper()
	if len(body) >= 2048 {
		s.t.Errorf("answer is %d bytes, want < 2 KB", len(body))
	}
	var a incall.Answer
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		s.t.Fatalf("answer is not an Answer: %v: %s", err, body)
	}
	checkAnswer(s.t, a)
	return a
}

var (
	germanSpoken  = regexp.MustCompile(`(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), den \d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember), um [a-zäöüß ]+`)
	englishSpoken = regexp.MustCompile(`(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (January|February|March|April|May|June|July|August|September|October|November|December) \d{1,2}, at \d{1,2}(:\d{2})? (AM|PM)`)
	digitsTime    = regexp.MustCompile(`\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}`)
	englishClock  = regexp.MustCompile(`\d{1,2}:\d{2} (AM|PM)`)
)

// checkAnswer asserts what holds for every answer: a message, a reason
// exactly when not ok, at most 3 alternatives in RFC 3339 with the
// branch's offset and spoken with weekday, date and time.
func checkAnswer(t testing.TB, a incall.Answer) {
	t.Helper()
	if strings.TrimSpace(a.Message) == "" {
		t.Errorf("answer without message: %+v", a)
	}
	if a.OK != (a.Reason == "") {
		t.Errorf("ok=%v with reason %q", a.OK, a.Reason)
	}
	if len(a.Alternatives) > 3 {
		t.Errorf("%d alternatives, want ≤ 3", len(a.Alternatives))
	}
	if a.Requested != "" {
		checkRFC3339(t, a.Requested)
	}
	for _, alt := range a.Alternatives {
		checkRFC3339(t, alt.Start)
		if !germanSpoken.MatchString(alt.Spoken) && !englishSpoken.MatchString(alt.Spoken) {
			t.Errorf("alternative not spoken with weekday, date and time: %q", alt.Spoken)
		}
	}
	if a.Appointment != nil {
		checkRFC3339(t, a.Appointment.Start)
		checkRFC3339(t, a.Appointment.End)
	}
	if digitsTime.MatchString(englishClock.ReplaceAllString(a.Message, "")) {
		t.Errorf("message speaks digits instead of words: %q", a.Message)
	}
	// A caller listens to at most 30 words at a time; only a list of
	// several appointments or services may be longer.
	if n := len(strings.Fields(a.Message)); n > 30 && len(a.Appointments) < 2 && len(a.Services) < 2 {
		t.Errorf("%d words: %q", n, a.Message)
	}
}

func checkRFC3339(t testing.TB, s string) {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Errorf("%q is not RFC 3339: %v", s, err)
		return
	}
	_, want := ts.In(berlin).Zone()
	if _, off := ts.Zone(); off != want {
		t.Errorf("%q does not carry the branch's offset", s)
	}
}

// mentionsWhen asserts the message names t with weekday, date and time in words.
func mentionsWhen(t testing.TB, msg string, when time.Time, sc *sys) {
	t.Helper()
	words := spokenDE(when)
	if sc != nil && sc.e.Tenant.Tenant.Locale == "en" {
		words = spokenEN(when)
	}
	if !strings.Contains(msg, words) && !strings.Contains(msg, capitalizeFirst(words)) {
		t.Errorf("message %q does not say %q", msg, words)
	}
}

func spokenDE(t time.Time) string { return spoken.SpokenDateTime(t, berlin, "de") }
func spokenEN(t time.Time) string { return spoken.SpokenDateTime(t, berlin, "en") }

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sandbox helpers

func activeBookings(sb *calcomtest.Sandbox) []calcomtest.Booking {
	var out []calcomtest.Booking
	for _, b := range sb.Bookings() {
		if b.Active() {
			out = append(out, b)
		}
	}
	return out
}

func (s *sys) requests(route string) int { return s.e.Sandbox.Requests()[route] }

// appointments reads the tenant's appointment rows.
type apptRow struct {
	ID       int64
	Status   string
	UID      string
	Start    time.Time
	Key      string
	CallID   string
	Resched  int
	Customer int64
}

func (s *sys) appointments() []apptRow {
	s.t.Helper()
	rows, err := s.e.Store.DB().Query(`SELECT id, status, COALESCE(calcom_uid, ''), starts_at, COALESCE(idempotency_key, ''), call_id,
		reschedule_count, COALESCE(customer_id, 0) FROM appointments WHERE tenant_id = ? ORDER BY id`, tenantID)
	if err != nil {
		s.t.Fatalf("appointments: %v", err)
	}
	defer rows.Close()
	var out []apptRow
	for rows.Next() {
		var r apptRow
		if err := rows.Scan(&r.ID, &r.Status, &r.UID, &r.Start, &r.Key, &r.CallID, &r.Resched, &r.Customer); err != nil {
			s.t.Fatalf("scan: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func (s *sys) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.e.Store.DB().QueryRow(query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (s *sys) callbacks(reason string) int {
	return s.count(`SELECT COUNT(*) FROM callback_requests WHERE tenant_id = ? AND reason = ?`, tenantID, reason)
}

func (s *sys) changes(action string) int {
	return s.count(`SELECT COUNT(*) FROM appointment_changes WHERE tenant_id = ? AND action = ?`, tenantID, action)
}

// book books through the HTTP function and requires success.
func (s *sys) book(c callCtx, service string, when time.Time) incall.Answer {
	s.t.Helper()
	a := s.do("book-appointment", c, map[string]any{
		"service": service, "date": when.In(berlin).Format("2006-01-02"), "time": when.In(berlin).Format("15:04"),
		"customer_name": "Erika Mustermann",
	})
	if !a.OK || a.Appointment == nil {
		s.t.Fatalf("booking %s at %s: %+v", service, when, a)
	}
	return a
}

func isoArgs(service string, when time.Time) map[string]any {
	return map[string]any{"service": service, "date": when.In(berlin).Format("2006-01-02"), "time": when.In(berlin).Format("15:04")}
}

// invalidateSlots drops every cached day, as a Cal.com webhook about an
// outside booking would.
func (s *sys) invalidateSlots() {
	s.t.Helper()
	if s.sched.Cache == nil {
		return
	}
	var days []string
	for d := s.e.Clock.Now().AddDate(0, 0, -7); d.Before(s.e.Clock.Now().AddDate(0, 0, 40)); d = d.AddDate(0, 0, 1) {
		days = append(days, booking.DayString(d, berlin))
	}
	for _, et := range []int64{etHerren, etDamen, etFarbe, etWaesch} {
		if err := s.sched.Cache.Invalidate(context.Background(), tenantID, et, days...); err != nil {
			s.t.Fatalf("invalidate: %v", err)
		}
	}
}

func demoTenant() []byte { return tenantfile.Demo() }
