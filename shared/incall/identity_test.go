package incall_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/app"
	"github.com/telefonagent/gateway/shared/app/apptest"
	"github.com/telefonagent/gateway/shared/calls"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/retell"
)

// Who is calling is only what Retell signed: the call object of the
// envelope, or, for args-only bodies, our record of the call written from
// Retell's signed call webhooks. These tests attack that through the
// signed HTTP path.

// argsOnlyTenant is the demo tenant with args-only tools switched on.
func argsOnlyTenant(t testing.TB, base []byte) []byte {
	out := bytes.Replace(base, []byte("\nfeatures:\n"), []byte("\nfeatures:\n  retell_args_only: true\n"), 1)
	if bytes.Equal(out, base) {
		t.Fatal("tenant file has no features: block to edit")
	}
	return out
}

// countingMetrics records counts by name and outcome.
type countingMetrics struct {
	platform.NopMetrics
	mu sync.Mutex
	n  map[string]int
}

func (m *countingMetrics) Count(name string, n int, dims ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	key := name
	for i := 0; i+1 < len(dims); i += 2 {
		key += "/" + dims[i+1]
	}
	m.n[key] += n
}

func (m *countingMetrics) get(key string) int { m.mu.Lock(); defer m.mu.Unlock(); return m.n[key] }

// callEvent posts a signed Retell call webhook (call_started or
// call_ended) for an inbound call from `from` ("" = withheld) through the
// real events handler.
func (s *sys) callEvent(event, callID, from string) {
	s.t.Helper()
	c := map[string]any{"call_type": "phone_call", "call_id": callID, "agent_id": "agent_demo", "direction": "inbound",
		"call_status": "ongoing", "to_number": apptest.DemoNumber, "start_timestamp": s.e.Clock.Now().Add(-time.Minute).UnixMilli()}
	if from != "" {
		c["from_number"] = from
	} else {
		c["from_number"] = "anonymous"
	}
	if event == retell.EventCallEnded {
		c["call_status"], c["end_timestamp"], c["disconnection_reason"] = "ended", s.e.Clock.Now().UnixMilli(), "user_hangup"
	}
	body, _ := json.Marshal(map[string]any{"event": event, "call": c})
	h := apigw.Wrap("retell-events", app.HTTPHandlers(s.e.Deps)["retell-events"], s.e.Deps.WrapOptions("retell-events"))
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Path: "/webhooks/retell/events",
		Resource: "/webhooks/retell/events", Headers: map[string]string{retell.SignatureHeader: s.e.Sign(body)}, Body: string(body)})
	if err != nil || resp.StatusCode != http.StatusNoContent {
		s.t.Fatalf("%s: %v %d %s", event, err, resp.StatusCode, resp.Body)
	}
}

// post sends a body with a given signature and extra headers, as anyone
// who captured it could.
func (s *sys) post(fn string, body []byte, sig string, headers map[string]string) (int, string) {
	s.t.Helper()
	h := map[string]string{"Content-Type": "application/json", retell.SignatureHeader: sig}
	for k, v := range headers {
		h[k] = v
	}
	resp, err := s.handlers[fn](context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost,
		Path: "/functions/" + fn, Resource: "/functions/" + fn, Headers: h, Body: string(body)})
	if err != nil {
		s.t.Fatalf("lambda handler returned an error: %v", err)
	}
	return resp.StatusCode, resp.Body
}

// postOK posts and decodes the 200 answer.
func (s *sys) postOK(what, fn string, body []byte, sig string, headers map[string]string) incall.Answer {
	s.t.Helper()
	status, out := s.post(fn, body, sig, headers)
	return s.ok200(what, status, out)
}

// ok200 decodes a 200 answer.
func (s *sys) ok200(what string, status int, body string) incall.Answer {
	s.t.Helper()
	if status != http.StatusOK {
		s.t.Fatalf("%s: status %d: %s", what, status, body)
	}
	return s.decode(body)
}

func argsOnlyHeaders(callID, claimedFrom string) map[string]string {
	h := map[string]string{retell.HeaderCallID: callID, retell.HeaderToNumber: apptest.DemoNumber}
	if claimedFrom != "" {
		// What the old args-only mode trusted; it must change nothing now.
		h["X-Retell-From-Number"] = claimedFrom
		h["X-Retell-Start-Timestamp"] = "1577836800000"
	}
	return h
}

func TestArgsOnlyIsOffByDefault(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{})
	s.callEvent(retell.EventCallStarted, "call_default", caller)
	body := []byte(`{"service":"Herrenhaarschnitt","date":"2027-03-02","time":"14:00","customer_name":"Erika Mustermann"}`)
	for _, fn := range functions {
		status, out := s.post(fn, body, s.e.Sign(body), argsOnlyHeaders("call_default", caller))
		if status != http.StatusBadRequest || !strings.Contains(out, "default payload") || !strings.Contains(out, "retell_args_only") {
			t.Errorf("%s: %d %s, want 400 saying how to switch to the default payload", fn, status, out)
		}
		if strings.Contains(out, caller) {
			t.Errorf("%s: the 400 echoes a number", fn)
		}
	}
	// An envelope with args but without the call object is no way around it.
	env := []byte(`{"name":"find_appointments","args":{}}`)
	if status, _ := s.post("find-appointments", env, s.e.Sign(env), argsOnlyHeaders("call_default", caller)); status != http.StatusBadRequest {
		t.Errorf("envelope without call object: status %d, want 400", status)
	}
	if n := len(activeBookings(s.e.Sandbox)); n != 0 {
		t.Errorf("%d bookings from refused requests", n)
	}
}

// TestOneSignedBodyCannotActForTwoCallers is the attack of the issue: one
// captured signed body, posted again with other headers, must never answer
// for (or change the appointments of) a second caller, in either mode.
func TestOneSignedBodyCannotActForTwoCallers(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"envelope", "args-only"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := newSys(t, apptest.Options{TenantFile: argsOnlyTenant(t, demoTenant())})
			metrics := &countingMetrics{}
			s.e.Deps.Metrics = metrics
			s.rebuild()
			mon := at(2027, 3, 8, 10, 0)
			victim := s.book(s.call("call_victim_booked"), "Herrenhaarschnitt", mon)
			// Both callers are on the line now (the records the args-only mode reads).
			s.callEvent(retell.EventCallStarted, "call_victim", caller)
			s.callEvent(retell.EventCallStarted, "call_attacker", other)

			// The attacker's own signed request, as Retell sent it.
			var body []byte
			var first map[string]string
			if mode == "envelope" {
				body = s.envelope("find-appointments", callCtx{ID: "call_attacker", From: other}, map[string]any{})
				first = map[string]string{}
			} else {
				body = []byte(`{}`)
				first = argsOnlyHeaders("call_attacker", "")
			}
			sig := s.e.Sign(body)
			a := s.postOK("attacker's own request", "find-appointments", body, sig, first)
			if a.OK || a.Reason != incall.ReasonNotFound {
				t.Fatalf("attacker's own request: %+v", a)
			}
			// The same signature again, now claiming the victim: by number
			// (header) and, where a header can name the call, by call id.
			replays := []map[string]string{
				{"X-Retell-From-Number": caller},
				argsOnlyHeaders("call_victim", caller),
				{retell.HeaderCallID: "call_victim", retell.HeaderToNumber: apptest.DemoNumber, "X-Retell-From-Number": caller},
			}
			for i, h := range replays {
				status, out := s.post("find-appointments", body, sig, h)
				if status == http.StatusBadRequest && mode == "args-only" && h[retell.HeaderCallID] == "" {
					continue // no call named: refused before anything is read
				}
				r := s.ok200("replay", status, out)
				if r.OK || len(r.Appointments) > 0 || strings.Contains(r.Message, "Herrenhaarschnitt") {
					t.Fatalf("replay %d read the victim's appointments: %+v", i, r)
				}
				want := incall.ReasonNotFound // envelope: still the attacker, who has none
				if mode == "args-only" && h[retell.HeaderCallID] == "call_victim" {
					want = incall.ReasonCallUnverified // the signature belongs to the attacker's call
				}
				if r.Reason != want {
					t.Errorf("replay %d: reason %q, want %q", i, r.Reason, want)
				}
			}

			// A captured cancel body: used once for the attacker, then
			// aimed at the victim. The victim's appointment stays.
			var cancelBody []byte
			if mode == "envelope" {
				cancelBody = s.envelope("cancel-appointment", callCtx{ID: "call_attacker", From: other}, map[string]any{"date": "2027-03-08", "time": "10:00"})
			} else {
				cancelBody = []byte(`{"date":"2027-03-08","time":"10:00"}`)
			}
			csig := s.e.Sign(cancelBody)
			if c := s.postOK("attacker cancels", "cancel-appointment", cancelBody, csig, first); c.OK {
				t.Fatalf("attacker cancelled: %+v", c)
			}
			for _, h := range replays {
				status, out := s.post("cancel-appointment", cancelBody, csig, h)
				if status == http.StatusBadRequest && mode == "args-only" && h[retell.HeaderCallID] == "" {
					continue
				}
				if c := s.ok200("cancel replay", status, out); c.OK {
					t.Fatalf("replayed cancel succeeded: %+v", c)
				}
			}
			if st := rowByID(t, s, victim.Appointment.ID).Status; st != "confirmed" || s.changes("cancelled") != 0 {
				t.Fatalf("victim's appointment is %s after the replays", st)
			}
			if mode == "args-only" {
				if n := metrics.get(platform.MetricCallUnverified + "/" + calls.UnverifiedSignatureReused); n == 0 {
					t.Error("refused replays were not counted")
				}
				if logs := s.e.Logs.String(); !strings.Contains(logs, "args-only function call not tied to a live call") || strings.Contains(logs, caller) || strings.Contains(logs, other) {
					t.Error("refusal not logged, or logged with a phone number")
				}
			}

			// The victim's own request, signed for the victim, still works;
			// and repeating it (same signature, same call) repeats the answer.
			var own []byte
			var ownH map[string]string
			if mode == "envelope" {
				own, ownH = s.envelope("find-appointments", callCtx{ID: "call_victim", From: caller}, map[string]any{}), map[string]string{}
			} else {
				// Not `{}`: the test clock stands still, and the same body
				// signed in the same millisecond is the same signature,
				// already spent on the attacker's call.
				own, ownH = []byte(`{ }`), argsOnlyHeaders("call_victim", "")
			}
			osig := s.e.Sign(own)
			for i := 0; i < 2; i++ {
				v := s.postOK("victim", "find-appointments", own, osig, ownH)
				if !v.OK || len(v.Appointments) != 1 || v.Appointments[0].ID != victim.Appointment.ID {
					t.Fatalf("victim's own request %d: %+v", i, v)
				}
				mentionsWhen(t, v.Message, mon, s)
			}
			// ... but that signature, too, acts for nobody else.
			if mode == "args-only" {
				r := s.postOK("victim replay", "find-appointments", own, osig, argsOnlyHeaders("call_attacker", ""))
				if r.Reason != incall.ReasonCallUnverified {
					t.Fatalf("the victim's signature acted for another call: %+v", r)
				}
			}
		})
	}
}

func TestArgsOnlyUnknownOrEndedCall(t *testing.T) {
	t.Parallel()
	for _, locale := range []string{"de", "en"} {
		t.Run(locale, func(t *testing.T) {
			t.Parallel()
			base := demoTenant()
			if locale == "en" {
				base = englishTenant(t)
			}
			s := newSys(t, apptest.Options{TenantFile: argsOnlyTenant(t, base)})
			metrics := &countingMetrics{}
			s.e.Deps.Metrics = metrics
			s.rebuild()
			b := s.book(s.call("call_booked"), "Herrenhaarschnitt", at(2027, 3, 4, 10, 0))
			s.callEvent(retell.EventCallStarted, "call_over", caller)
			s.callEvent(retell.EventCallEnded, "call_over", caller)
			// A call whose call_ended never came stops counting as live.
			s.callEvent(retell.EventCallStarted, "call_old", caller)
			s.e.Clock.Advance(calls.MaxCallAge + time.Minute) // call_ended never came

			want := map[string]int{}
			for _, c := range []struct{ id, why string }{
				{"call_never_seen", calls.UnverifiedUnknownCall},
				{"call_over", calls.UnverifiedNotLive},
				{"call_old", calls.UnverifiedNotLive},
			} {
				for _, fn := range functions {
					body := []byte(`{"date":"2027-03-04","time":"10:00","service":"Herrenhaarschnitt","customer_name":"Erika Mustermann"}`)
					a := s.postOK(fn, fn, body, s.e.Sign(body), argsOnlyHeaders(c.id, caller))
					if a.OK || a.Reason != incall.ReasonCallUnverified || len(a.Appointments) > 0 || a.Appointment != nil {
						t.Fatalf("%s for %s: %+v", fn, c.id, a)
					}
					wantWords := "noch einmal an"
					if locale == "en" {
						wantWords = "call again"
					}
					if !strings.Contains(a.Message, wantWords) {
						t.Errorf("%s: message %q does not ask to call again", fn, a.Message)
					}
				}
				want[c.why] += len(functions)
				if n := metrics.get(platform.MetricCallUnverified + "/" + c.why); n != want[c.why] {
					t.Errorf("%s: counted %d refusals as %s, want %d", c.id, n, c.why, want[c.why])
				}
			}
			// Nothing changed: one booking, no cancellation, no callback.
			if n := len(activeBookings(s.e.Sandbox)); n != 1 || rowByID(t, s, b.Appointment.ID).Status != "confirmed" || s.changes("cancelled") != 0 {
				t.Fatalf("refused requests changed something: %d bookings", n)
			}
			if s.count(`SELECT COUNT(*) FROM callback_requests`) != 0 {
				t.Error("refused requests recorded callbacks")
			}
		})
	}
}

// TestArgsOnlyCallerFromOurRecord: with args-only switched on, a tool sends
// only the call id; the caller is the one Retell's signed call_started
// named, whatever the headers claim.
func TestArgsOnlyCallerFromOurRecord(t *testing.T) {
	t.Parallel()
	s := newSys(t, apptest.Options{TenantFile: argsOnlyTenant(t, demoTenant())})
	s.callEvent(retell.EventCallStarted, "call_args", caller)
	body := []byte(`{"service":"Herrenhaarschnitt","datum":"2027-03-02","uhrzeit":14,"customer_name":"Erika Mustermann"}`)
	// A query parameter names the call as well as a header does; the
	// numbers in the header and the query are ignored.
	resp, err := s.handlers["book-appointment"](context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost,
		Path: "/functions/book-appointment", Resource: "/functions/book-appointment",
		Headers:               map[string]string{retell.SignatureHeader: s.e.Sign(body), retell.HeaderToNumber: apptest.DemoNumber, "X-Retell-From-Number": other},
		QueryStringParameters: map[string]string{"call_id": "call_args", "from_number": other}, Body: string(body)})
	if err != nil {
		t.Fatal(err)
	}
	a := s.ok200("book", resp.StatusCode, resp.Body)
	if !a.OK || a.Appointment.Start != "2027-03-02T14:00:00+01:00" {
		t.Fatalf("got %+v", a)
	}
	// Booked for the caller of the record, not for the number in the header.
	if own := s.do("find-appointments", s.call("call_env"), map[string]any{}); !own.OK || len(own.Appointments) != 1 {
		t.Fatalf("the recorded caller does not own the booking: %+v", own)
	}
	if theirs := s.do("find-appointments", callCtx{ID: "call_other", From: other}, map[string]any{}); theirs.OK {
		t.Fatalf("the header's number owns the booking: %+v", theirs)
	}
	// A withheld number stays withheld: no access, whatever the header says.
	s.callEvent(retell.EventCallStarted, "call_anon", "")
	empty := []byte(`{}`)
	if x := s.postOK("anonymous", "find-appointments", empty, s.e.Sign(empty), argsOnlyHeaders("call_anon", caller)); x.Reason != incall.ReasonAnonymousCaller {
		t.Fatalf("withheld caller: %+v", x)
	}
}
