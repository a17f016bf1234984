package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/scripts/internal/devstack"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
)

// StoredAppointment is an appointment as the store and Cal.com hold it
// after a scenario (remote: as the API answered).
type StoredAppointment struct {
	Scenario      string   `json:"scenario"`
	AppointmentID int64    `json:"appointment_id"`
	Service       string   `json:"service"`
	Start         string   `json:"start"`
	Status        string   `json:"status"`
	Customer      string   `json:"customer,omitempty"` // id and masked number
	CalcomUIDs    []string `json:"calcom_uids,omitempty"`
	CalcomStatus  []string `json:"calcom_status,omitempty"`
}

// StoredCall is a call record after a scenario.
type StoredCall struct {
	Scenario        string `json:"scenario"`
	CallID          string `json:"call_id"`
	Status          string `json:"status"`
	TranscriptChars int    `json:"transcript_chars"`
	Summary         bool   `json:"summary"`
	CustomerLinked  bool   `json:"customer_linked"`
}

// inProcess is the dev gateway started by the simulator.
type inProcess struct {
	st   *devstack.Stack
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func startInProcess(ctx context.Context, cfg Config) (*inProcess, error) {
	o := cfg.Stack
	if o.ListenAddr == "" {
		o.ListenAddr = "127.0.0.1:0"
	}
	o.NoWorker = true // jobs run when the script drains the queue, so the output is deterministic
	p := &inProcess{logs: &lockedBuffer{}}
	if cfg.Logs {
		o.LogOutput = os.Stderr
	} else {
		o.LogOutput = p.logs
	}
	st, err := devstack.Start(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("dev gateway: %w", err)
	}
	p.st = st
	return p, nil
}

func (p *inProcess) close() { p.st.Close() }

// ActiveCalcomBookings implements callsim.Observer.
func (p *inProcess) ActiveCalcomBookings() int {
	n := 0
	for _, b := range p.st.Sandbox.Bookings() {
		if b.Active() {
			n++
		}
	}
	return n
}

// settle lets webhooks and queued jobs finish before the store is read.
func (p *inProcess) settle(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.st.Sandbox.FlushWebhooks(fctx); err != nil {
		return err
	}
	return p.st.Drain(fctx)
}

// inspect reads what a scenario left in the store and in Cal.com and
// checks it against what the scenario booked.
func (p *inProcess) inspect(ctx context.Context, o callsim.Outcome) ([]StoredAppointment, []StoredCall, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if err := p.settle(ctx); err != nil {
		bad("settling webhooks and jobs: %v", err)
	}
	store, tenant := p.st.Deps.Store, p.st.Tenant.Tenant.ID
	var apps []StoredAppointment
	for _, b := range o.Booked {
		ap, err := store.GetAppointment(ctx, tenant, b.AppointmentID)
		if err != nil {
			bad("appointment %d not in the store: %v", b.AppointmentID, err)
			continue
		}
		sa := StoredAppointment{Scenario: o.Scenario, AppointmentID: ap.ID, Service: ap.ServiceID,
			Start: ap.Start.In(p.loc()).Format(time.RFC3339), Status: string(ap.Status)}
		if string(ap.Status) != b.WantStatus {
			bad("appointment %d is %s, want %s", ap.ID, ap.Status, b.WantStatus)
		}
		if want, _ := time.Parse(time.RFC3339, b.Start); !ap.Start.Equal(want) {
			bad("appointment %d starts %s, the caller was told %s", ap.ID, ap.Start.Format(time.RFC3339), b.Start)
		}
		if ap.CustomerID == nil {
			bad("appointment %d has no customer", ap.ID)
		} else if c, err := store.GetCustomer(ctx, tenant, *ap.CustomerID); err != nil {
			bad("customer %d: %v", *ap.CustomerID, err)
		} else {
			sa.Customer = fmt.Sprintf("#%d %s", c.ID, mask(c.Phone))
			if b.Phone != "" && c.Phone != b.Phone {
				bad("appointment %d belongs to another number", ap.ID)
			}
		}
		if len(ap.Segments) != b.WantSegments {
			bad("appointment %d has %d segments, want %d", ap.ID, len(ap.Segments), b.WantSegments)
		}
		for _, sg := range ap.Segments {
			sa.CalcomUIDs = append(sa.CalcomUIDs, sg.CalcomUID)
			cb, ok := p.st.Sandbox.Booking(sg.CalcomUID)
			if !ok {
				bad("segment %d of appointment %d: no Cal.com booking %q", sg.Index, ap.ID, sg.CalcomUID)
				continue
			}
			sa.CalcomStatus = append(sa.CalcomStatus, cb.Status)
			wantActive := b.WantStatus == "confirmed"
			if cb.Active() != wantActive {
				bad("Cal.com booking of segment %d of appointment %d is %s", sg.Index, ap.ID, cb.Status)
			}
			if !cb.Start.Equal(sg.Start) {
				bad("Cal.com booking of segment %d starts %s, ours %s", sg.Index, cb.Start.Format(time.RFC3339), sg.Start.Format(time.RFC3339))
			}
			if cb.Metadata["retell_call_id"] == "" && cb.Status == calcom.StatusAccepted && cb.RescheduledFromUID == "" {
				bad("Cal.com booking of segment %d carries no call id", sg.Index)
			}
		}
		apps = append(apps, sa)
	}
	var calls []StoredCall
	for _, id := range o.CallIDs {
		c, err := store.GetCall(ctx, tenant, id)
		if err != nil {
			bad("call %s not stored: %v", id, err)
			continue
		}
		sc := StoredCall{Scenario: o.Scenario, CallID: id, Status: string(c.Status), TranscriptChars: len(c.Transcript),
			Summary: c.Summary != "", CustomerLinked: c.CustomerID != nil}
		if c.Status != booking.CallAnalyzed {
			bad("call %s is %s, want %s", id, c.Status, booking.CallAnalyzed)
		}
		if c.Transcript == "" {
			bad("call %s has no transcript", id)
		}
		if c.Summary == "" {
			bad("call %s has no analysis", id)
		}
		calls = append(calls, sc)
	}
	return apps, calls, problems
}

// answered is what a remote API told the caller was booked.
func answered(o callsim.Outcome) []StoredAppointment {
	var out []StoredAppointment
	for _, b := range o.Booked {
		out = append(out, StoredAppointment{Scenario: o.Scenario, AppointmentID: b.AppointmentID, Service: b.Service,
			Start: b.Start, Status: b.WantStatus + " (as answered)"})
	}
	return out
}

// mask keeps a phone number recognisable without printing it.
func mask(phone string) string {
	if len(phone) < 6 {
		return "(no number)"
	}
	return phone[:4] + strings.Repeat("•", len(phone)-7) + phone[len(phone)-3:]
}

var _ io.Writer = (*lockedBuffer)(nil)

// loc is the branch's zone, for printing.
func (p *inProcess) loc() *time.Location {
	if len(p.st.Tenant.Branches) > 0 {
		if l, err := time.LoadLocation(p.st.Tenant.Branches[0].TimeZone); err == nil {
			return l
		}
	}
	return time.UTC
}
