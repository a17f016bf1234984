package retell

import (
	"encoding/json"
	"time"
)

// Event types of call webhooks (NOTES §A2). Anything else is parsed with
// Known() == false: acknowledged and ignored by callers.
const (
	EventCallStarted       = "call_started"
	EventCallEnded         = "call_ended"
	EventCallAnalyzed      = "call_analyzed"
	EventTranscriptUpdated = "transcript_updated"
	EventTransferStarted   = "transfer_started"
	EventTransferBridged   = "transfer_bridged"
	EventTransferCancelled = "transfer_cancelled"
	EventTransferEnded     = "transfer_ended"
	EventCallInbound       = "call_inbound"
)

var knownWebhookEvents = map[string]bool{
	EventCallStarted: true, EventCallEnded: true, EventCallAnalyzed: true,
	EventTranscriptUpdated: true, EventTransferStarted: true, EventTransferBridged: true,
	EventTransferCancelled: true, EventTransferEnded: true,
}

// Call is Retell's call object (retell-sdk PhoneCallResponse/WebCallResponse)
// as far as the gateway reads it. Fields we only store or pass on are kept
// as raw JSON. Timestamps are Unix milliseconds; 0 means absent.
// FromNumber, Transcript, TranscriptObject and the analysis are personal data.
type Call struct {
	CallID              string `json:"call_id"`
	AgentID             string `json:"agent_id,omitempty"`
	AgentVersion        int64  `json:"agent_version,omitempty"`
	AgentName           string `json:"agent_name,omitempty"`
	CallType            string `json:"call_type,omitempty"`   // phone_call | web_call
	CallStatus          string `json:"call_status,omitempty"` // registered | not_connected | ongoing | ended | error (open)
	Direction           string `json:"direction,omitempty"`   // inbound | outbound
	FromNumber          string `json:"from_number,omitempty"` // E.164, or "", "anonymous", ... (see Anonymous)
	ToNumber            string `json:"to_number,omitempty"`   // E.164
	StartTimestamp      int64  `json:"start_timestamp,omitempty"`
	EndTimestamp        int64  `json:"end_timestamp,omitempty"`
	DurationMS          int64  `json:"duration_ms,omitempty"`
	DisconnectionReason string `json:"disconnection_reason,omitempty"` // open enum

	Transcript               string          `json:"transcript,omitempty"`
	TranscriptObject         json.RawMessage `json:"transcript_object,omitempty"`
	TranscriptWithToolCalls  json.RawMessage `json:"transcript_with_tool_calls,omitempty"`
	RecordingURL             string          `json:"recording_url,omitempty"`
	RecordingMultiChannelURL string          `json:"recording_multi_channel_url,omitempty"`
	PublicLogURL             string          `json:"public_log_url,omitempty"`

	CallAnalysis *CallAnalysis `json:"call_analysis,omitempty"`
	CallCost     *CallCostData `json:"call_cost,omitempty"`

	Metadata                  json.RawMessage   `json:"metadata,omitempty"`
	RetellLLMDynamicVariables json.RawMessage   `json:"retell_llm_dynamic_variables,omitempty"` // object of strings
	CollectedDynamicVariables json.RawMessage   `json:"collected_dynamic_variables,omitempty"`
	CustomSIPHeaders          map[string]string `json:"custom_sip_headers,omitempty"`
	DataStorageSetting        string            `json:"data_storage_setting,omitempty"` // everything | everything_except_pii | basic_attributes_only
	OptInSignedURL            *bool             `json:"opt_in_signed_url,omitempty"`
	TelephonyIdentifier       json.RawMessage   `json:"telephony_identifier,omitempty"`
	TransferDestination       json.RawMessage   `json:"transfer_destination,omitempty"`
	TransferEndTimestamp      int64             `json:"transfer_end_timestamp,omitempty"`
	Latency                   json.RawMessage   `json:"latency,omitempty"`
	LLMTokenUsage             json.RawMessage   `json:"llm_token_usage,omitempty"`
}

// CallAnalysis is Retell's post-call analysis (call_analyzed only).
type CallAnalysis struct {
	CallSummary        string          `json:"call_summary,omitempty"`
	UserSentiment      string          `json:"user_sentiment,omitempty"` // Negative | Positive | Neutral | Unknown
	CallSuccessful     *bool           `json:"call_successful,omitempty"`
	InVoicemail        *bool           `json:"in_voicemail,omitempty"`
	CustomAnalysisData json.RawMessage `json:"custom_analysis_data,omitempty"`
}

// CallCostData is Retell's call_cost. Costs are USD cents (fractional).
type CallCostData struct {
	CombinedCost           float64       `json:"combined_cost"`
	ProductCosts           []ProductCost `json:"product_costs,omitempty"`
	TotalDurationSeconds   float64       `json:"total_duration_seconds,omitempty"`
	TotalDurationUnitPrice float64       `json:"total_duration_unit_price,omitempty"`
}

// ProductCost is one line of call_cost.product_costs.
type ProductCost struct {
	Product           string   `json:"product"`
	Cost              float64  `json:"cost"`
	UnitPrice         *float64 `json:"unit_price,omitempty"`
	IsTransferLegCost bool     `json:"is_transfer_leg_cost,omitempty"`
}

// Anonymous reports whether the caller's number is suppressed or unknown
// ("", "anonymous", "unknown", "private", ...). Such callers are never
// looked up and never get a customer record.
func (c Call) Anonymous() bool { return IsAnonymousNumber(c.FromNumber) }

// Started returns the call's start instant, if Retell sent one.
func (c Call) Started() (time.Time, bool) { return msTime(c.StartTimestamp) }

// Ended returns the call's end instant, if Retell sent one.
func (c Call) Ended() (time.Time, bool) { return msTime(c.EndTimestamp) }

// DynamicVariables returns retell_llm_dynamic_variables as strings. Retell
// documents string values only; anything else is kept as its JSON text.
func (c Call) DynamicVariables() map[string]string {
	return stringMap(c.RetellLLMDynamicVariables)
}

// Context is the call context a function handler needs.
func (c Call) Context() CallContext {
	return CallContext{
		CallID: c.CallID, FromNumber: c.FromNumber, ToNumber: c.ToNumber,
		AgentID: c.AgentID, StartTimestamp: c.StartTimestamp,
	}
}

// WebhookEvent is the body of a call webhook: {"event": ..., "call": {...}}
// plus, for transfer events, transfer_destination and transfer_option.
type WebhookEvent struct {
	Event               string          `json:"event"`
	Call                Call            `json:"call"`
	TransferDestination json.RawMessage `json:"transfer_destination,omitempty"`
	TransferOption      json.RawMessage `json:"transfer_option,omitempty"`
}

// Known reports whether the event type is one we handle. Unknown types are
// acknowledged (2xx) and ignored; their call object is not validated.
func (e WebhookEvent) Known() bool { return knownWebhookEvents[e.Event] }

// InboundEvent is the inbound call webhook (NOTES §A2b). It has no call
// object and no call_id: the call does not exist yet.
type InboundEvent struct {
	Event          string      `json:"event"` // call_inbound
	EventTimestamp int64       `json:"event_timestamp,omitempty"`
	CallInbound    CallInbound `json:"call_inbound"`
}

// Known reports whether this is a call_inbound event (chat_inbound and
// anything else are acknowledged and ignored).
func (e InboundEvent) Known() bool { return e.Event == EventCallInbound }

// CallInbound is the ringing call.
type CallInbound struct {
	AgentID          string            `json:"agent_id,omitempty"`
	AgentVersion     int64             `json:"agent_version,omitempty"`
	FromNumber       string            `json:"from_number"` // PII; may be anonymous
	ToNumber         string            `json:"to_number"`   // our number, E.164
	CustomSIPHeaders map[string]string `json:"custom_sip_headers,omitempty"`
}

// Anonymous reports whether the caller suppressed the number.
func (c CallInbound) Anonymous() bool { return IsAnonymousNumber(c.FromNumber) }

// InboundResponse is our answer to call_inbound. Every field is optional;
// the zero value marshals to {"call_inbound":{}}, which lets Retell use the
// number's own agent unchanged.
type InboundResponse struct {
	CallInbound InboundConfig `json:"call_inbound"`
}

// InboundConfig is the content of the inbound answer.
type InboundConfig struct {
	OverrideAgentID      string            `json:"override_agent_id,omitempty"`
	OverrideAgentVersion *int64            `json:"override_agent_version,omitempty"`
	DynamicVariables     map[string]string `json:"dynamic_variables,omitempty"` // Retell accepts string values only
	Metadata             map[string]any    `json:"metadata,omitempty"`
	// Reject hangs up; only boolean true rejects and it beats any override.
	Reject bool `json:"reject,omitempty"`
}

func msTime(ms int64) (time.Time, bool) {
	if ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

func stringMap(raw json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v)
		}
	}
	return out
}
