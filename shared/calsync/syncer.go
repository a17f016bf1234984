// Package calsync keeps our appointments in step with Cal.com: the
// calcom-webhook function applies Cal.com's booking webhooks, and the
// reconcile job repairs what webhooks missed (Cal.com delivers at most once).
//
// Both paths feed the same apply step, which is idempotent and ordered by
// Cal.com's own timestamps: an event older than the state we hold
// (appointments.calcom_updated_at) never overwrites it, and an ended booking
// (cancelled, rejected) is never revived. Every lookup is scoped to the
// tenant that owns the event type, so an event can only touch that tenant.
//
// Webhook bodies and Cal.com bookings carry personal data (attendee name,
// email, phone): nothing here logs them or puts them in errors.
package calsync

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/mysql"
	"github.com/telefonagent/gateway/shared/phone"
	"github.com/telefonagent/gateway/shared/queue"
)

// Provider is the webhook_receipts provider of Cal.com events.
const Provider = "calcom"

// Actor names the audit trail's author of changes made from Cal.com's side.
const Actor = "calcom"

// Metadata keys the in-call functions send to Cal.com (incall.book).
const (
	MetaIdempotencyKey = "idempotency_key"
	MetaTenant         = "tenant"
	MetaCallID         = "retell_call_id"
	MetaSegment        = "segment"
)

// Store is what the sync needs of the database; *mysql.Store implements it.
type Store interface {
	ServiceByEventType(ctx context.Context, eventTypeID int64) (string, booking.Service, error)
	LoadTenantConfig(ctx context.Context, tenantID string) (*booking.TenantConfig, error)
	AppointmentByCalcomUID(ctx context.Context, tenantID, uid string) (*booking.Appointment, error)
	AppointmentByIdempotencyKey(ctx context.Context, tenantID, key string) (*booking.Appointment, error)
	CreateAppointment(ctx context.Context, a booking.Appointment) (*booking.Appointment, error)
	UpdateAppointmentWithChanges(ctx context.Context, tenantID string, id int64,
		fn func(*booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error)) (*booking.Appointment, error)
	FindCustomerByPhone(ctx context.Context, tenantID, e164 string) (*booking.Customer, error)
	FindCustomerByEmail(ctx context.Context, tenantID, email string) (*booking.Customer, error)
	CreateCustomer(ctx context.Context, c booking.Customer) (*booking.Customer, error)
	RecordReceipt(ctx context.Context, provider, eventKey, tenantID string) (bool, error)
	ReceiptSeen(ctx context.Context, provider, eventKey string) (bool, error)
	ReceiptKeysWithPrefix(ctx context.Context, provider, prefix string) ([]string, error)
}

var _ Store = (*mysql.Store)(nil)

// Invalidator drops cached availability; *redis.AvailabilityCache is one.
type Invalidator interface {
	Invalidate(ctx context.Context, tenantID string, eventTypeID int64, days ...string) error
}

// Metrics is the part of platform.Metrics the sync uses.
type Metrics interface {
	Count(name string, n int, dims ...string)
}

type noMetrics struct{}

func (noMetrics) Count(string, int, ...string) {}

// Syncer applies Cal.com booking events to our appointments.
type Syncer struct {
	Store   Store
	Cache   Invalidator     // nil: no cache to invalidate
	Queue   queue.Publisher // where webhooks go when the database is unreachable
	Clock   booking.Clock   // default system clock
	Logger  *slog.Logger    // default slog.Default()
	Metrics Metrics         // default none
}

// Result says what an event did.
type Result string

const (
	ResultCreated   Result = "created"   // a booking we did not know: new appointment (source calcom)
	ResultLinked    Result = "linked"    // our pending row got its Cal.com booking / confirmation
	ResultMoved     Result = "moved"     // new uid and/or times
	ResultCancelled Result = "cancelled" // cancelled or rejected
	ResultUpdated   Result = "updated"   // other state taken over (status, times)
	ResultUnchanged Result = "unchanged" // already in that state
	ResultStale     Result = "stale"     // older than the state we hold
	ResultDuplicate Result = "duplicate" // this exact event was applied before
	ResultIgnored   Result = "ignored"   // not a booking event, unknown event type, foreign uid, …
)

func (s *Syncer) clock() booking.Clock {
	if s.Clock == nil {
		return booking.SystemClock
	}
	return s.Clock
}

func (s *Syncer) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Syncer) metrics() Metrics {
	if s.Metrics == nil {
		return noMetrics{}
	}
	return s.Metrics
}

// ProcessRaw parses and applies one webhook body whose signature was
// already checked (the worker's calcom.event jobs). Errors keep their kind:
// KindTransient is worth retrying, KindInvalid never is.
func (s *Syncer) ProcessRaw(ctx context.Context, body []byte) error {
	ev, err := calcom.ParseWebhook(body)
	if err != nil {
		return err
	}
	_, err = s.Process(ctx, ev)
	return err
}

// EventKey is the dedupe key of an event: trigger, uid and Cal.com's createdAt.
func EventKey(ev calcom.WebhookEvent) string {
	return ev.TriggerEvent + ":" + ev.Payload.UID + ":" + ev.CreatedAt.UTC().Format(time.RFC3339Nano)
}

// Process applies one parsed event. The receipt is recorded only after the
// change committed; a crash in between re-applies the (idempotent) change.
func (s *Syncer) Process(ctx context.Context, ev calcom.WebhookEvent) (Result, error) {
	if !ev.IsBookingLifecycle() {
		return ResultIgnored, nil
	}
	p := ev.Payload
	if p.EventTypeID <= 0 {
		s.log().InfoContext(ctx, "cal.com event without event type ignored", "trigger", ev.TriggerEvent, "uid", p.UID)
		return ResultIgnored, nil
	}
	key := EventKey(ev)
	seen, err := s.Store.ReceiptSeen(ctx, Provider, key)
	if err != nil {
		return "", err
	}
	if seen {
		return ResultDuplicate, nil
	}
	tenantID, svc, err := s.Store.ServiceByEventType(ctx, p.EventTypeID)
	switch booking.KindOf(err) {
	case "":
	case booking.KindNotFound:
		s.log().InfoContext(ctx, "cal.com event for an unknown event type ignored", "trigger", ev.TriggerEvent, "event_type_id", p.EventTypeID)
		return ResultIgnored, nil
	case booking.KindConflict:
		s.log().ErrorContext(ctx, "cal.com event type claimed by several tenants; event ignored", "event_type_id", p.EventTypeID)
		return ResultIgnored, nil
	default:
		return "", err
	}
	obs := observation{trigger: ev.TriggerEvent, at: ev.CreatedAt, uid: p.UID, prevUID: p.RescheduleUID,
		eventTypeID: p.EventTypeID, start: p.StartTime, end: p.EndTime, metadata: p.Metadata}
	if len(p.Attendees) > 0 {
		a := p.Attendees[0]
		obs.attendee = &a
	}
	res, err := s.apply(ctx, tenantID, svc, obs)
	if err != nil {
		return "", err
	}
	if _, err := s.Store.RecordReceipt(ctx, Provider, key, tenantID); err != nil {
		return "", err
	}
	s.log().InfoContext(ctx, "cal.com event applied", "tenant", tenantID, "trigger", ev.TriggerEvent, "uid", p.UID, "result", string(res))
	return res, nil
}

// observation is one fact about a Cal.com booking, from a webhook or from
// reconciliation, normalised to what apply needs.
type observation struct {
	trigger     string    // calcom.Trigger*: what happened
	at          time.Time // Cal.com's time of it (webhook createdAt, booking updatedAt)
	uid         string    // the booking (the new one of a reschedule)
	prevUID     string    // the old booking of a reschedule
	eventTypeID int64
	start, end  time.Time
	metadata    map[string]string
	attendee    *calcom.Attendee
	quiet       bool // reconciliation: write only material changes
}

func (o observation) key(tenantID string) string {
	k := o.metadata[MetaIdempotencyKey]
	if t := o.metadata[MetaTenant]; t != "" && t != tenantID {
		return "" // metadata of another tenant: never look it up here
	}
	return k
}

func (o observation) segmentIndex() (int, bool) {
	v, ok := o.metadata[MetaSegment]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// apply dispatches on what happened.
func (s *Syncer) apply(ctx context.Context, tenantID string, svc booking.Service, o observation) (Result, error) {
	switch o.trigger {
	case calcom.TriggerBookingCreated:
		return s.applyActive(ctx, tenantID, svc, o, booking.StatusConfirmed)
	case calcom.TriggerBookingRequested:
		return s.applyActive(ctx, tenantID, svc, o, booking.StatusPending)
	case calcom.TriggerBookingRescheduled:
		return s.applyMove(ctx, tenantID, svc, o)
	case calcom.TriggerBookingCancelled:
		return s.applyEnd(ctx, tenantID, o, booking.StatusCancelled)
	case calcom.TriggerBookingRejected:
		return s.applyEnd(ctx, tenantID, o, booking.StatusRejected)
	}
	return ResultIgnored, nil
}

// find looks an appointment up in the tenant by idempotency key, then by
// each uid; nil when none matches.
func (s *Syncer) find(ctx context.Context, tenantID, key string, uids ...string) (*booking.Appointment, error) {
	if key != "" {
		a, err := s.Store.AppointmentByIdempotencyKey(ctx, tenantID, key)
		if err == nil {
			return a, nil
		}
		if booking.KindOf(err) != booking.KindNotFound {
			return nil, err
		}
	}
	for _, uid := range uids {
		if uid == "" {
			continue
		}
		a, err := s.Store.AppointmentByCalcomUID(ctx, tenantID, uid)
		if err == nil {
			return a, nil
		}
		if booking.KindOf(err) != booking.KindNotFound {
			return nil, err
		}
	}
	return nil, nil
}

// endedAs reports whether a cancel or reject of uid already arrived (an
// event older than it may still come in: Cal.com does not order webhooks).
func (s *Syncer) endedAs(ctx context.Context, uid string) (booking.AppointmentStatus, time.Time, error) {
	for _, c := range []struct {
		trigger string
		status  booking.AppointmentStatus
	}{{calcom.TriggerBookingCancelled, booking.StatusCancelled}, {calcom.TriggerBookingRejected, booking.StatusRejected}} {
		prefix := c.trigger + ":" + uid + ":"
		keys, err := s.Store.ReceiptKeysWithPrefix(ctx, Provider, prefix)
		if err != nil {
			return "", time.Time{}, err
		}
		for _, k := range keys {
			at, _ := time.Parse(time.RFC3339Nano, strings.TrimPrefix(k, prefix))
			return c.status, at, nil
		}
	}
	return "", time.Time{}, nil
}

func stale(a *booking.Appointment, at time.Time) bool {
	return a.CalcomUpdatedAt != nil && at.Before(*a.CalcomUpdatedAt)
}

func ended(st booking.AppointmentStatus) bool {
	return st == booking.StatusCancelled || st == booking.StatusRejected || st == booking.StatusFailed
}

func later(cur *time.Time, at time.Time) *time.Time {
	if cur != nil && cur.After(at) {
		return cur
	}
	t := at.UTC()
	return &t
}

// segmentFor picks the segment an observation is about: the one holding
// one of the uids, else the one metadata names, else the only one.
func segmentFor(a *booking.Appointment, o observation, uids ...string) int {
	for i, g := range a.Segments {
		for _, u := range uids {
			if u != "" && g.CalcomUID == u {
				return i
			}
		}
	}
	if idx, ok := o.segmentIndex(); ok {
		for i, g := range a.Segments {
			if g.Index == idx {
				return i
			}
		}
	}
	if len(a.Segments) == 1 {
		return 0
	}
	return -1
}

// settle derives the appointment's uid, span and status from its segments.
// A composite appointment is confirmed when every segment is.
func settle(a *booking.Appointment) {
	if len(a.Segments) == 0 {
		return
	}
	a.CalcomUID = a.Segments[0].CalcomUID
	a.Start, a.End = a.Segments[0].Start, a.Segments[0].End
	all := true
	for _, g := range a.Segments {
		if g.Start.Before(a.Start) {
			a.Start = g.Start
		}
		if g.End.After(a.End) {
			a.End = g.End
		}
		if g.CalcomUID == "" || g.Status != booking.StatusConfirmed {
			all = false
		}
	}
	if ended(a.Status) {
		return
	}
	if all {
		a.Status = booking.StatusConfirmed
	} else {
		a.Status = booking.StatusPending
	}
}

func material(before, after *booking.Appointment) bool {
	if before.Status != after.Status || before.CalcomUID != after.CalcomUID || !before.Start.Equal(after.Start) ||
		!before.End.Equal(after.End) || before.NeedsAttention != after.NeedsAttention || len(before.Segments) != len(after.Segments) {
		return true
	}
	for i := range before.Segments {
		x, y := before.Segments[i], after.Segments[i]
		if x.CalcomUID != y.CalcomUID || x.Status != y.Status || !x.Start.Equal(y.Start) || !x.End.Equal(y.End) {
			return true
		}
	}
	return false
}

func snapshot(a *booking.Appointment) mysql.AppointmentState { return mysql.SnapshotOf(a) }

// update runs one guarded change of an appointment: stale events and ended
// appointments are left alone, and nothing is written when fn changes
// nothing (a repeated event is a no-op).
func (s *Syncer) update(ctx context.Context, tenantID string, id int64, o observation,
	fn func(a *booking.Appointment) (Result, []booking.AppointmentChange)) (Result, *booking.Appointment, *booking.Appointment, error) {
	res := ResultUnchanged
	var before *booking.Appointment
	after, err := s.Store.UpdateAppointmentWithChanges(ctx, tenantID, id, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		res = ResultUnchanged
		b := *a
		b.Segments = append([]booking.AppointmentSegment(nil), a.Segments...)
		before = &b
		if stale(a, o.at) {
			res = ResultStale
			return nil, nil, nil
		}
		r, changes := fn(a)
		changed := material(&b, a)
		newer := a.CalcomUpdatedAt == nil || o.at.After(*a.CalcomUpdatedAt)
		if !changed && (o.quiet || !newer) {
			return nil, nil, nil
		}
		a.CalcomUpdatedAt = later(a.CalcomUpdatedAt, o.at)
		if changed {
			res = r
		}
		return a, changes, nil
	})
	if err != nil {
		return "", nil, nil, err
	}
	return res, before, after, nil
}

// applyActive takes over a created or requested booking.
func (s *Syncer) applyActive(ctx context.Context, tenantID string, svc booking.Service, o observation, status booking.AppointmentStatus) (Result, error) {
	key := o.key(tenantID)
	row, err := s.find(ctx, tenantID, key, o.uid)
	if err != nil {
		return "", err
	}
	endedStatus, endedAt, err := s.endedAs(ctx, o.uid)
	if err != nil {
		return "", err
	}
	if row == nil {
		if key != "" {
			// Ours, but the row is gone or was given up (a composite booking
			// that failed and is being compensated): never resurrect it.
			s.log().WarnContext(ctx, "cal.com booking carries our idempotency key but has no appointment", "tenant", tenantID, "uid", o.uid)
			return ResultIgnored, nil
		}
		if endedStatus != "" {
			return ResultIgnored, nil // cancelled before we heard of it
		}
		return s.create(ctx, tenantID, svc, o, status)
	}
	res, before, after, err := s.update(ctx, tenantID, row.ID, o, func(a *booking.Appointment) (Result, []booking.AppointmentChange) {
		if ended(a.Status) {
			return ResultUnchanged, nil
		}
		wasPending := a.Status == booking.StatusPending
		i := segmentFor(a, o, o.uid)
		if i < 0 {
			a.NeedsAttention = "cal.com booking does not match a segment"
			return ResultUpdated, nil
		}
		g := &a.Segments[i]
		g.CalcomUID, g.Status, g.Start, g.End = o.uid, status, o.start.UTC(), o.end.UTC()
		settle(a)
		var changes []booking.AppointmentChange
		res := ResultUpdated
		if endedStatus != "" && !endedAt.Before(o.at) {
			res = ResultCancelled
			changes = append(changes, s.end(a, endedStatus))
		} else if wasPending && a.Status == booking.StatusConfirmed {
			res = ResultLinked
			changes = append(changes, booking.AppointmentChange{Action: "confirmed", Actor: Actor,
				Before: map[string]any{"status": booking.StatusPending}, After: map[string]any{"status": booking.StatusConfirmed, "calcom_uid": a.CalcomUID}})
		} else if wasPending {
			res = ResultLinked
		}
		return res, changes
	})
	if err != nil {
		return "", err
	}
	s.invalidate(ctx, tenantID, before, after)
	if after != nil && after.CustomerID == nil && after.Source == "calcom" {
		if err := s.attachCustomer(ctx, tenantID, after.ID, o.attendee); err != nil {
			return "", err
		}
	}
	return res, nil
}

// end sets an appointment and its segments to an ended status and returns
// the audit row ("cancelled" rows count against the monthly quota).
func (s *Syncer) end(a *booking.Appointment, st booking.AppointmentStatus) booking.AppointmentChange {
	prev := a.Status
	a.Status = st
	for i := range a.Segments {
		a.Segments[i].Status = st
	}
	action := "cancelled"
	if st == booking.StatusRejected {
		action = "rejected"
	}
	return booking.AppointmentChange{Action: action, Actor: Actor, Before: map[string]any{"status": prev}, After: map[string]any{"status": st}}
}

// applyMove takes over a reschedule: uid is the new booking, prevUID the old.
func (s *Syncer) applyMove(ctx context.Context, tenantID string, svc booking.Service, o observation) (Result, error) {
	oldRow, err := s.find(ctx, tenantID, "", o.prevUID)
	if err != nil {
		return "", err
	}
	newRow, err := s.find(ctx, tenantID, "", o.uid)
	if err != nil {
		return "", err
	}
	row := oldRow
	if newRow != nil {
		if oldRow != nil && oldRow.ID != newRow.ID {
			// Two rows for one chain (events arrived out of order): the old
			// one is superseded by the row that already has the new booking.
			if _, _, _, err := s.update(ctx, tenantID, oldRow.ID, o, func(a *booking.Appointment) (Result, []booking.AppointmentChange) {
				if ended(a.Status) {
					return ResultUnchanged, nil
				}
				c := s.end(a, booking.StatusCancelled)
				c.Action = "superseded"
				return ResultCancelled, []booking.AppointmentChange{c}
			}); err != nil {
				return "", err
			}
		}
		row = newRow
	}
	if row == nil {
		row, err = s.find(ctx, tenantID, o.key(tenantID))
		if err != nil {
			return "", err
		}
	}
	endedStatus, endedAt, err := s.endedAs(ctx, o.uid)
	if err != nil {
		return "", err
	}
	if row == nil {
		if o.key(tenantID) != "" || endedStatus != "" {
			return ResultIgnored, nil
		}
		return s.create(ctx, tenantID, svc, o, booking.StatusConfirmed)
	}
	res, before, after, err := s.update(ctx, tenantID, row.ID, o, func(a *booking.Appointment) (Result, []booking.AppointmentChange) {
		if ended(a.Status) {
			return ResultUnchanged, nil
		}
		i := segmentFor(a, o, o.prevUID, o.uid)
		if i < 0 {
			a.NeedsAttention = "cal.com reschedule does not match a segment"
			return ResultUpdated, nil
		}
		oldStart := a.Start
		g := &a.Segments[i]
		moved := !g.Start.Equal(o.start.UTC())
		g.CalcomUID, g.Status, g.Start, g.End = o.uid, booking.StatusConfirmed, o.start.UTC(), o.end.UTC()
		settle(a)
		var changes []booking.AppointmentChange
		if moved {
			a.RescheduleCount++
			if len(a.Segments) > 1 {
				a.NeedsAttention = "segment moved in cal.com"
			}
			changes = append(changes, booking.AppointmentChange{Action: "rescheduled", Actor: Actor,
				Before: map[string]any{"start": oldStart}, After: map[string]any{"start": a.Start, "calcom_uid": o.uid}})
		}
		if endedStatus != "" && !endedAt.Before(o.at) {
			changes = append(changes, s.end(a, endedStatus))
			return ResultCancelled, changes
		}
		return ResultMoved, changes
	})
	if err != nil {
		return "", err
	}
	s.invalidate(ctx, tenantID, before, after)
	return res, nil
}

// applyEnd takes over a cancellation or rejection.
func (s *Syncer) applyEnd(ctx context.Context, tenantID string, o observation, st booking.AppointmentStatus) (Result, error) {
	row, err := s.find(ctx, tenantID, "", o.uid)
	if err != nil {
		return "", err
	}
	if row == nil {
		// Not (yet) ours. The receipt Process records is the tombstone an
		// older create or reschedule of this uid will find.
		return ResultIgnored, nil
	}
	res, before, after, err := s.update(ctx, tenantID, row.ID, o, func(a *booking.Appointment) (Result, []booking.AppointmentChange) {
		i := segmentFor(a, o, o.uid)
		if ended(a.Status) {
			// e.g. compensation of a failed composite booking: keep the
			// appointment's status, note the segment's, count nothing.
			if i >= 0 {
				a.Segments[i].Status = st
			}
			return ResultUnchanged, nil
		}
		if i >= 0 && len(a.Segments) > 1 {
			a.Segments[i].Status = st
			for _, g := range a.Segments {
				if !ended(g.Status) {
					a.NeedsAttention = "segment cancelled in cal.com"
					return ResultUpdated, nil
				}
			}
		}
		return ResultCancelled, []booking.AppointmentChange{s.end(a, st)}
	})
	if err != nil {
		return "", err
	}
	s.invalidate(ctx, tenantID, before, after)
	return res, nil
}

// create stores a booking made outside the phone agent (online, by staff).
// The customer is attached afterwards, so an event whose uid belongs to
// another tenant leaves no trace at all.
func (s *Syncer) create(ctx context.Context, tenantID string, svc booking.Service, o observation, status booking.AppointmentStatus) (Result, error) {
	cfg, err := s.Store.LoadTenantConfig(ctx, tenantID)
	if err != nil {
		return "", err
	}
	branch := svc.BranchID
	if branch == "" && len(cfg.Branches) > 0 {
		branch = cfg.Branches[0].ID
	}
	at := o.at.UTC()
	a := booking.Appointment{TenantID: tenantID, BranchID: branch, ServiceID: svc.ID, CalcomUID: o.uid, Status: status,
		Source: "calcom", Start: o.start.UTC(), End: o.end.UTC(), CalcomUpdatedAt: &at,
		Segments: []booking.AppointmentSegment{{Index: 0, EventTypeID: o.eventTypeID, CalcomUID: o.uid, Start: o.start.UTC(), End: o.end.UTC(), Status: status}}}
	row, err := s.Store.CreateAppointment(ctx, a)
	res := ResultCreated
	switch {
	case err == nil:
	case errors.Is(err, mysql.ErrDuplicate) && row != nil:
		res = ResultUnchanged // a repeat: the row exists
	case errors.Is(err, mysql.ErrDuplicate):
		s.log().ErrorContext(ctx, "cal.com uid belongs to another tenant; event ignored", "tenant", tenantID, "uid", o.uid)
		s.metrics().Count("WebhookTenantMismatch", 1)
		return ResultIgnored, nil
	default:
		return "", err
	}
	if row.CustomerID == nil {
		if err := s.attachCustomer(ctx, tenantID, row.ID, o.attendee); err != nil {
			return "", err
		}
	}
	if res == ResultCreated {
		s.invalidate(ctx, tenantID, nil, row)
	}
	return res, nil
}

// attachCustomer finds or creates the attendee as the tenant's customer
// (by E.164 phone, else by email) and links it to the appointment.
func (s *Syncer) attachCustomer(ctx context.Context, tenantID string, apptID int64, att *calcom.Attendee) error {
	if att == nil {
		return nil
	}
	c, err := s.customerFor(ctx, tenantID, *att)
	if err != nil || c == nil {
		return err
	}
	_, err = s.Store.UpdateAppointmentWithChanges(ctx, tenantID, apptID, func(a *booking.Appointment) (*booking.Appointment, []booking.AppointmentChange, error) {
		if a.CustomerID != nil {
			return nil, nil, nil
		}
		a.CustomerID = &c.ID
		return a, nil, nil
	})
	return err
}

func (s *Syncer) customerFor(ctx context.Context, tenantID string, att calcom.Attendee) (*booking.Customer, error) {
	name := strings.Join(strings.Fields(att.Name), " ")
	if att.PhoneNumber != "" && !phone.IsAnonymous(att.PhoneNumber) {
		if num, err := phone.NormalizeE164(att.PhoneNumber, phone.DefaultRegion); err == nil {
			c, err := s.Store.FindCustomerByPhone(ctx, tenantID, num)
			if booking.KindOf(err) != booking.KindNotFound {
				return c, err
			}
			c, err = s.Store.CreateCustomer(ctx, booking.Customer{TenantID: tenantID, Name: name, Phone: num, Email: att.Email, Source: "calcom"})
			if errors.Is(err, mysql.ErrDuplicate) { // created meanwhile
				return s.Store.FindCustomerByPhone(ctx, tenantID, num)
			}
			return c, err
		}
	}
	if att.Email == "" {
		return nil, nil
	}
	c, err := s.Store.FindCustomerByEmail(ctx, tenantID, att.Email)
	if booking.KindOf(err) != booking.KindNotFound {
		return c, err
	}
	return s.Store.CreateCustomer(ctx, booking.Customer{TenantID: tenantID, Name: name, Email: att.Email, Source: "calcom"})
}

// invalidate drops the cached days an appointment occupied before and
// after a change (per segment event type, in the branch's time zone).
// Failures only cost freshness until the cache TTL: logged, not returned.
func (s *Syncer) invalidate(ctx context.Context, tenantID string, before, after *booking.Appointment) {
	if s.Cache == nil || after == nil {
		return
	}
	loc := time.UTC
	if cfg, err := s.Store.LoadTenantConfig(ctx, tenantID); err == nil {
		for _, b := range cfg.Branches {
			if b.ID == after.BranchID || loc == time.UTC {
				if l, err := time.LoadLocation(b.TimeZone); err == nil {
					loc = l
				}
			}
		}
	}
	days := map[int64]map[string]bool{}
	add := func(a *booking.Appointment) {
		if a == nil {
			return
		}
		for _, g := range a.Segments {
			if days[g.EventTypeID] == nil {
				days[g.EventTypeID] = map[string]bool{}
			}
			days[g.EventTypeID][booking.DayString(g.Start, loc)] = true
		}
	}
	add(before)
	add(after)
	for et, set := range days {
		list := make([]string, 0, len(set))
		for d := range set {
			list = append(list, d)
		}
		if err := s.Cache.Invalidate(ctx, tenantID, et, list...); err != nil {
			s.log().WarnContext(ctx, "availability cache not invalidated", "tenant", tenantID, "event_type_id", et, "error_kind", string(booking.KindOf(err)))
		}
	}
}
