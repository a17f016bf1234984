package calls

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/retell"
)

// DefaultRecordBudget bounds the database work of one event, so Retell
// (10 s timeout) gets its answer, or a deferral, well in time.
const DefaultRecordBudget = 5 * time.Second

// deferBudget bounds the enqueue after the database failed.
const deferBudget = 2 * time.Second

// RetellEventJob is the payload of a retell.event job: a call webhook that
// could not be stored when it arrived. Body is the raw body as received
// (base64 in JSON); it was verified on receipt, so Recorder.RecordRaw
// replays it without a signature.
type RetellEventJob struct {
	Body []byte `json:"body"`
}

// Recorder keeps one row per call from Retell's call webhooks.
type Recorder struct {
	Directory booking.Directory // our number → tenant, branch, pricing
	Calls     CallStore
	Customers CustomerUpserter // nil: calls are never linked to customers
	Queue     booking.Enqueuer // nil: a database outage answers 503
	USDToEUR  float64          // 0 = booking.DefaultUSDToEUR
	Budget    time.Duration    // 0 = DefaultRecordBudget
	Clock     booking.Clock
	Logger    *slog.Logger
	Metrics   Metrics
}

// Recorder outcomes (log attribute "outcome").
const (
	OutcomeRecorded     = "recorded"
	OutcomeAcknowledged = "acknowledged"  // transcript_updated: nothing to store
	OutcomeDeferred     = "deferred"      // database down: on the retry queue
	OutcomeUnroutable   = "unroutable"    // no number of ours on the call (web call, foreign number)
	OutcomeRejected     = "rejected"      // the call id belongs to another tenant
	OutcomeUnknownEvent = "ignored_event" // an event type we do not handle
)

// RecordResult says what happened to one event.
type RecordResult struct {
	Outcome  string
	Event    string
	CallID   string
	TenantID string
	Call     booking.Call // the merged row when Outcome is OutcomeRecorded
}

func (r *Recorder) decoder() retell.Decoder { return retell.Decoder{Clock: r.Clock} }

// Accept is the webhook path: decode, record, and when the database is
// unavailable put the raw body on the retry queue. An error is KindInvalid
// or KindTooLarge for bad bodies (nothing was written), KindTransient when
// neither the database nor the queue took the event (answer 503 so Retell
// retries), KindInternal for bugs.
func (r *Recorder) Accept(ctx context.Context, body []byte) (RecordResult, error) {
	ev, err := r.decoder().ParseWebhook(body)
	if err != nil {
		return RecordResult{}, err
	}
	res, err := r.Record(ctx, ev)
	if booking.KindOf(err) != booking.KindTransient {
		return res, err
	}
	logOr(r.Logger).WarnContext(ctx, "database unavailable; deferring the call event",
		slog.String("event", ev.Event), slog.String("call_id", ev.Call.CallID), kindAttr(err), errAttr(err))
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deferBudget)
	defer cancel()
	if qerr := r.deferEvent(dctx, ev, body, res.TenantID); qerr != nil {
		logOr(r.Logger).ErrorContext(ctx, "call event neither stored nor queued",
			slog.String("event", ev.Event), slog.String("call_id", ev.Call.CallID), kindAttr(qerr), errAttr(qerr))
		return res, booking.Wrap(booking.KindTransient, "calls.Accept", qerr, "database and retry queue unavailable")
	}
	metricsOr(r.Metrics).Count(MetricEventsDeferred, 1, platform.DimEventType, ev.Event)
	res.Outcome = OutcomeDeferred
	return res, nil
}

// RecordRaw replays a retell.event job's body (RetellEventJob.Body) for the
// retry worker. The signature was checked on receipt and is not checked
// again. KindTransient errors mean "try again later"; KindInvalid ones
// never succeed.
func (r *Recorder) RecordRaw(ctx context.Context, body []byte) error {
	ev, err := r.decoder().ParseWebhook(body)
	if err != nil {
		return err
	}
	_, err = r.Record(ctx, ev)
	return err
}

// HandleJob runs a retell.event job payload (for the worker's handler map).
func (r *Recorder) HandleJob(ctx context.Context, payload json.RawMessage) error {
	var j RetellEventJob
	if err := json.Unmarshal(payload, &j); err != nil || len(j.Body) == 0 {
		return booking.Errorf(booking.KindInvalid, "calls.HandleJob", "retell.event payload is not {\"body\": base64}")
	}
	return r.RecordRaw(ctx, j.Body)
}

// JobHandler is HandleJob as a retry-worker handler for booking.JobRetellEvent.
func (r *Recorder) JobHandler() queue.HandlerFunc {
	return func(ctx context.Context, j queue.Job) error { return r.HandleJob(ctx, j.Payload) }
}

// Record stores one decoded event. Unknown events and transcript_updated
// write nothing. Calls whose number is not ours are acknowledged without
// a row (there is no tenant to store them under).
func (r *Recorder) Record(ctx context.Context, ev retell.WebhookEvent) (RecordResult, error) {
	res := RecordResult{Event: ev.Event, CallID: ev.Call.CallID}
	switch {
	case !ev.Known():
		res.Outcome = OutcomeUnknownEvent
		return res, nil
	case ev.Event == retell.EventTranscriptUpdated:
		res.Outcome = OutcomeAcknowledged
		metricsOr(r.Metrics).Count(platform.MetricWebhookEvents, 1, platform.DimEventType, ev.Event)
		return res, nil
	}
	budget := r.Budget
	if budget <= 0 {
		budget = DefaultRecordBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	log := logOr(r.Logger)
	c := &ev.Call

	ours, other := c.ToNumber, c.FromNumber
	if c.Direction == "outbound" {
		ours, other = c.FromNumber, c.ToNumber
	}
	if !retell.IsE164(ours) {
		log.WarnContext(ctx, "call event without a number of ours; acknowledged, not stored",
			slog.String("event", ev.Event), slog.String("call_id", c.CallID))
		res.Outcome = OutcomeUnroutable
		return res, nil
	}
	_, tenant, branch, err := r.Directory.ResolveNumber(ctx, ours)
	if err != nil {
		if k := booking.KindOf(err); k == booking.KindNotFound || k == booking.KindInvalid {
			log.WarnContext(ctx, "call event for a number no tenant serves; acknowledged, not stored",
				slog.String("event", ev.Event), slog.String("call_id", c.CallID))
			res.Outcome = OutcomeUnroutable
			return res, nil
		}
		return res, err
	}
	res.TenantID = tenant.ID

	call := toCall(ev, tenant.ID, branch.ID)
	if c.Direction == "outbound" {
		// The other party is the customer: their number must not land in
		// the plaintext to_number column. The customer link carries them.
		call.FromNumber, call.ToNumber = ours, ""
	}
	if r.Customers != nil && !retell.IsAnonymousNumber(other) {
		cust, err := r.Customers.UpsertCustomerByPhone(ctx, tenant.ID, other, "", "")
		switch booking.KindOf(err) {
		case "":
			call.CustomerID = &cust.ID
		case booking.KindInvalid: // not a dialable number: nobody to link
		default:
			return res, err
		}
	}
	if err := r.price(ctx, &call, c, tenant, branch); err != nil {
		return res, err
	}
	if isTransfer(ev.Event) {
		if err := r.addTransfer(ctx, &call, ev); err != nil {
			return res, err
		}
	}
	out, err := r.Calls.UpsertCall(ctx, call)
	if err != nil {
		if booking.KindOf(err) == booking.KindConflict {
			log.ErrorContext(ctx, "call id already stored for another tenant; event dropped",
				slog.String("tenant", tenant.ID), slog.String("call_id", c.CallID))
			res.Outcome = OutcomeRejected
			return res, nil
		}
		return res, err
	}
	metricsOr(r.Metrics).Count(platform.MetricWebhookEvents, 1, platform.DimEventType, ev.Event)
	res.Outcome, res.Call = OutcomeRecorded, out
	return res, nil
}

// toCall maps Retell's call object onto our row. Personal content is left
// out when the agent's data_storage_setting says Retell keeps none.
func toCall(ev retell.WebhookEvent, tenantID, branchID string) booking.Call {
	c := &ev.Call
	out := booking.Call{
		TenantID: tenantID, CallID: c.CallID, BranchID: branchID, AgentID: c.AgentID,
		Direction: c.Direction, FromNumber: c.FromNumber, ToNumber: c.ToNumber,
		Status: statusOf(ev), DurationMS: durationOf(c), DisconnectionReason: c.DisconnectionReason,
		Transcript: c.Transcript, RecordingURL: c.RecordingURL, DataStorageSetting: c.DataStorageSetting,
	}
	if out.Direction == "" && c.CallType != "web_call" {
		out.Direction = "inbound"
	}
	if retell.IsAnonymousNumber(out.FromNumber) {
		out.FromNumber = ""
	}
	if out.RecordingURL == "" {
		out.RecordingURL = c.RecordingMultiChannelURL
	}
	if t, ok := c.Started(); ok {
		out.StartedAt = &t
	}
	if t, ok := c.Ended(); ok {
		out.EndedAt = &t
	}
	if a := c.CallAnalysis; a != nil {
		out.Summary, out.Sentiment, out.CallSuccessful = a.CallSummary, a.UserSentiment, a.CallSuccessful
		if len(a.CustomAnalysisData) > 0 {
			out.CustomAnalysis = a.CustomAnalysisData
		}
	}
	if !storesContent(c.DataStorageSetting) {
		out.Transcript, out.Summary, out.RecordingURL = "", "", ""
	}
	return out
}

// storesContent: Retell's everything_except_pii and basic_attributes_only
// mean the business chose not to keep call content; neither do we.
func storesContent(setting string) bool {
	return setting != "everything_except_pii" && setting != "basic_attributes_only"
}

// statusOf maps the event (and for transfers the call's status) onto our
// forward-only status.
func statusOf(ev retell.WebhookEvent) booking.CallStatus {
	switch ev.Event {
	case retell.EventCallStarted:
		return booking.CallOngoing
	case retell.EventCallEnded:
		return booking.CallEnded
	case retell.EventCallAnalyzed:
		return booking.CallAnalyzed
	}
	switch ev.Call.CallStatus {
	case "registered":
		return booking.CallRegistered
	case "ended", "not_connected", "error":
		return booking.CallEnded
	}
	return booking.CallOngoing
}

func durationOf(c *retell.Call) int64 {
	if c.DurationMS > 0 {
		return c.DurationMS
	}
	if c.StartTimestamp > 0 && c.EndTimestamp > c.StartTimestamp {
		return c.EndTimestamp - c.StartTimestamp
	}
	return 0
}

// price computes the call's cost when the event brings a duration or
// Retell's cost. The month's minutes already used are those of the
// tenant's calls that started earlier in the same (branch-local) month, so
// recomputing with a later event gives the same price.
func (r *Recorder) price(ctx context.Context, call *booking.Call, c *retell.Call, tenant booking.Tenant, branch booking.Branch) error {
	var usd float64
	if c.CallCost != nil {
		usd = c.CallCost.CombinedCost
	}
	if call.DurationMS <= 0 && usd <= 0 {
		return nil
	}
	in := booking.CallCostInput{CombinedCostUSDCents: usd, DurationMS: call.DurationMS, USDToEUR: r.USDToEUR, Pricing: tenant.Pricing}
	if call.DurationMS > 0 && call.StartedAt != nil {
		loc, err := loadLocation(branch.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		start := call.StartedAt.In(loc)
		month := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)
		used, err := r.Calls.MinutesUsedBefore(ctx, tenant.ID, call.CallID, month, *call.StartedAt)
		if err != nil {
			return err
		}
		in.MinutesUsedThisMonth = used
	}
	call.Cost = booking.ComputeCallCost(in)
	return nil
}

// Transfer is one entry of a call's Transfers JSON.
type Transfer struct {
	Event       string          `json:"event"`
	Destination json.RawMessage `json:"destination,omitempty"`
	Timestamp   int64           `json:"timestamp"` // Unix ms: transfer_end_timestamp, else when we received it
}

func isTransfer(event string) bool {
	switch event {
	case retell.EventTransferStarted, retell.EventTransferBridged, retell.EventTransferCancelled, retell.EventTransferEnded:
		return true
	}
	return false
}

// addTransfer appends the event to the stored transfers (a repeat of the
// same event and destination is not appended again). When the stored row
// has already moved past the status this event maps to, only the transfer
// list is written, so an early transfer event arriving late cannot replace
// what the later events stored.
func (r *Recorder) addTransfer(ctx context.Context, call *booking.Call, ev retell.WebhookEvent) error {
	dest := ev.TransferDestination
	if len(dest) == 0 {
		dest = ev.Call.TransferDestination
	}
	if len(dest) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, dest) == nil {
			dest = buf.Bytes()
		}
	}
	var list []Transfer
	stored, err := r.Calls.GetCall(ctx, call.TenantID, call.CallID)
	switch booking.KindOf(err) {
	case "":
		if len(stored.Transfers) > 0 && json.Unmarshal(stored.Transfers, &list) != nil {
			list = nil // unreadable history: start over rather than fail the event
		}
	case booking.KindNotFound:
	default:
		return err
	}
	for _, t := range list {
		if t.Event == ev.Event && bytes.Equal(t.Destination, dest) {
			if stored.Status.Rank() > call.Status.Rank() {
				*call = booking.Call{TenantID: call.TenantID, CallID: call.CallID, Status: stored.Status}
			}
			return nil
		}
	}
	ts := ev.Call.TransferEndTimestamp
	if ev.Event != retell.EventTransferEnded || ts == 0 {
		ts = clockOr(r.Clock).Now().UnixMilli()
	}
	list = append(list, Transfer{Event: ev.Event, Destination: dest, Timestamp: ts})
	raw, err := json.Marshal(list)
	if err != nil {
		return booking.Wrap(booking.KindInternal, "calls.addTransfer", err, "transfers not encodable")
	}
	if stored.Status.Rank() > call.Status.Rank() {
		*call = booking.Call{TenantID: call.TenantID, CallID: call.CallID, Status: stored.Status}
	}
	call.Transfers = raw
	return nil
}

// deferEvent puts the event on the retry queue. The raw body goes as it
// came; one too large for a queue message is re-encoded without the parts
// we never store (word timings, tool-call transcript, latency).
func (r *Recorder) deferEvent(ctx context.Context, ev retell.WebhookEvent, body []byte, tenantID string) error {
	if r.Queue == nil {
		return booking.Errorf(booking.KindTransient, "calls.defer", "no retry queue configured")
	}
	const envelope = 4 << 10
	if base64.StdEncoding.EncodedLen(len(body))+envelope > queue.MaxBodyBytes {
		slim := ev
		slim.Call.TranscriptObject, slim.Call.TranscriptWithToolCalls = nil, nil
		slim.Call.Latency, slim.Call.LLMTokenUsage = nil, nil
		slim.Call.CollectedDynamicVariables, slim.Call.RetellLLMDynamicVariables = nil, nil
		b, err := json.Marshal(slim)
		if err != nil {
			return booking.Wrap(booking.KindInternal, "calls.defer", err, "event not encodable")
		}
		body = b
	}
	key := ev.Event + ":" + ev.Call.CallID
	if len(key) > 128 {
		sum := sha256.Sum256([]byte(ev.Call.CallID))
		key = ev.Event + ":" + hex.EncodeToString(sum[:16])
	}
	return r.Queue.Enqueue(ctx, booking.JobRetellEvent, tenantID, key, RetellEventJob{Body: body})
}
