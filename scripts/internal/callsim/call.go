package callsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/retell"
)

// Step is one exchange of a simulated call: what the caller said, which
// function or webhook Retell sent, and what the gateway answered.
type Step struct {
	Scenario  string  `json:"scenario"`
	CallID    string  `json:"call_id"`
	Said      string  `json:"said,omitempty"` // the caller's words that made the agent call the function
	Function  string  `json:"function"`       // catalogued function or webhook event
	Status    int     `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
	OK        *bool   `json:"ok,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	Message   string  `json:"message,omitempty"` // what the agent says
	Expect    string  `json:"expect"`            // what the step must show
	Problem   string  `json:"problem,omitempty"` // "" = behaved as expected
}

// Call is one simulated phone call. Its fields are the call object Retell
// sends with every webhook and function call.
type Call struct {
	T       Transport
	APIKey  string // the Retell API key: signs every request
	ID      string // call_id
	From    string // caller; "anonymous" for a suppressed number
	To      string // the dialled number
	AgentID string
	Start   time.Time        // start_timestamp ("morgen" resolves against it)
	Now     func() time.Time // signing clock (default time.Now)
}

func (c *Call) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// callObject is the call as Retell sends it in this state.
func (c *Call) callObject(status string) retell.Call {
	rc := retell.Call{CallID: c.ID, AgentID: c.AgentID, AgentVersion: 1, CallType: "phone_call", CallStatus: status,
		Direction: "inbound", FromNumber: c.From, ToNumber: c.To, StartTimestamp: c.Start.UnixMilli()}
	return rc
}

// send signs body at the current time and posts it.
func (c *Call) send(ctx context.Context, path string, body []byte) (Response, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(retell.SignatureHeader, retell.Sign(body, c.APIKey, c.now().UnixMilli()))
	return c.T.Do(ctx, Request{Method: http.MethodPost, Path: path, Body: body, Header: h})
}

func step(callID, fn string, r Response) Step {
	return Step{CallID: callID, Function: fn, Status: r.Status, LatencyMS: float64(r.Elapsed.Microseconds()) / 1000}
}

// Inbound sends call_inbound (the phone is ringing; there is no call id yet).
func (c *Call) Inbound(ctx context.Context) (retell.InboundResponse, Step, error) {
	ev := retell.InboundEvent{Event: retell.EventCallInbound, EventTimestamp: c.now().UnixMilli(),
		CallInbound: retell.CallInbound{AgentID: c.AgentID, AgentVersion: 1, FromNumber: c.From, ToNumber: c.To}}
	body, _ := json.Marshal(ev)
	r, err := c.send(ctx, "/webhooks/retell/inbound", body)
	if err != nil {
		return retell.InboundResponse{}, Step{CallID: c.ID, Function: "call_inbound"}, err
	}
	s := step(c.ID, "call_inbound", r)
	var out retell.InboundResponse
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			s.Problem = "inbound answer is not JSON"
		}
	}
	return out, s, nil
}

// Started sends call_started.
func (c *Call) Started(ctx context.Context) (Step, error) {
	return c.event(ctx, retell.EventCallStarted, c.callObject("ongoing"))
}

// Ended sends call_ended with the transcript.
func (c *Call) Ended(ctx context.Context, transcript string) (Step, error) {
	rc := c.callObject("ended")
	c.finish(&rc, transcript)
	return c.event(ctx, retell.EventCallEnded, rc)
}

// Analyzed sends call_analyzed with the post-call analysis.
func (c *Call) Analyzed(ctx context.Context, transcript, summary string) (Step, error) {
	rc := c.callObject("ended")
	c.finish(&rc, transcript)
	ok := true
	rc.CallAnalysis = &retell.CallAnalysis{CallSummary: summary, UserSentiment: "Positive", CallSuccessful: &ok}
	return c.event(ctx, retell.EventCallAnalyzed, rc)
}

func (c *Call) finish(rc *retell.Call, transcript string) {
	end := c.now()
	if end.Before(c.Start) {
		end = c.Start
	}
	rc.EndTimestamp = end.UnixMilli()
	rc.DurationMS = end.Sub(c.Start).Milliseconds()
	rc.DisconnectionReason = "user_hangup"
	rc.Transcript = transcript
	rc.CallCost = &retell.CallCostData{CombinedCost: 7.5, TotalDurationSeconds: float64(rc.DurationMS) / 1000,
		ProductCosts: []retell.ProductCost{{Product: "retell_platform", Cost: 7.5}}}
}

func (c *Call) event(ctx context.Context, name string, rc retell.Call) (Step, error) {
	body, _ := json.Marshal(retell.WebhookEvent{Event: name, Call: rc})
	r, err := c.send(ctx, "/webhooks/retell/events", body)
	if err != nil {
		return Step{CallID: c.ID, Function: name}, err
	}
	return step(c.ID, name, r), nil
}

// Function calls a custom function (path /functions/<fn>) with the
// default envelope {"name", "call", "args"}, as Retell sends it.
func (c *Call) Function(ctx context.Context, fn string, args map[string]string) (incall.Answer, Step, error) {
	env := struct {
		Name string            `json:"name"`
		Call retell.Call       `json:"call"`
		Args map[string]string `json:"args"`
	}{Name: strings.ReplaceAll(fn, "-", "_"), Call: c.callObject("ongoing"), Args: args}
	if env.Args == nil {
		env.Args = map[string]string{}
	}
	body, _ := json.Marshal(env)
	r, err := c.send(ctx, "/functions/"+fn, body)
	if err != nil {
		return incall.Answer{}, Step{CallID: c.ID, Function: fn}, err
	}
	s := step(c.ID, fn, r)
	var a incall.Answer
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &a); err != nil {
			s.Problem = "answer is not JSON"
			return a, s, nil
		}
		ok := a.OK
		s.OK, s.Reason, s.Message = &ok, a.Reason, a.Message
	} else {
		s.Message = strings.TrimSpace(string(r.Body))
	}
	return a, s, nil
}

// NewCallID looks like Retell's call ids.
func NewCallID(prefix string) string { return prefix + "_" + RandomID(10) }

// RandomMobile is a German mobile number nobody has (the 0151 range with
// random digits): each simulated caller is new unless a scenario reuses it.
func RandomMobile() string {
	b := RandomID(4)
	var n uint64
	for _, ch := range b {
		n = n*16 + uint64(strings.IndexRune("0123456789abcdef", ch))
	}
	return fmt.Sprintf("+49151%08d", n%100000000)
}
