package retell

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// MaxBodyBytes bounds every Retell body we decode. A long call's
// transcript_object with word timings runs to a few hundred KB; Lambda's
// synchronous payload limit is 6 MB, so nothing larger can reach us anyway.
const MaxBodyBytes = 6 << 20

// Plausible timestamps: Retell's ms epochs must lie between 2020-01-01 UTC
// (before Retell existed) and one day after the decoder's clock (tolerates
// clock skew and time zone mistakes, rejects seconds-vs-ms confusions and
// garbage). The upper bound is relative to an injectable clock so tests
// and replays of old events stay deterministic.
const (
	minTimestampMS = 1577836800000 // 2020-01-01T00:00:00Z
	maxFutureSkew  = 24 * time.Hour
	maxDuration    = 24 * time.Hour
	maxCombinedUSD = 10_000_000 // cents; $100,000 per call is not a real call
)

// Decoder validates Retell payloads. The zero value uses the system clock.
type Decoder struct {
	Clock booking.Clock
}

// ParseWebhook decodes and validates a call webhook with the system clock.
func ParseWebhook(body []byte) (WebhookEvent, error) { return Decoder{}.ParseWebhook(body) }

// ParseInbound decodes and validates a call_inbound webhook with the system clock.
func ParseInbound(body []byte) (InboundEvent, error) { return Decoder{}.ParseInbound(body) }

// ParseFunctionCall decodes a custom-function body with the system clock.
func ParseFunctionCall(body []byte) (FunctionCall, error) { return Decoder{}.ParseFunctionCall(body) }

func (d Decoder) nowMS() int64 {
	if d.Clock == nil {
		return booking.SystemClock.Now().UnixMilli()
	}
	return d.Clock.Now().UnixMilli()
}

// ParseWebhook decodes {"event", "call", ...}. Unknown event types return
// the event with Known() == false and no error; known ones must carry a
// valid call object. Errors are KindInvalid (KindTooLarge for oversize
// bodies) with PII-free messages.
func (d Decoder) ParseWebhook(body []byte) (WebhookEvent, error) {
	const op = "retell.ParseWebhook"
	var wire struct {
		Event               *string         `json:"event"`
		Call                json.RawMessage `json:"call"`
		TransferDestination json.RawMessage `json:"transfer_destination"`
		TransferOption      json.RawMessage `json:"transfer_option"`
	}
	if err := decodeObject(op, body, &wire); err != nil {
		return WebhookEvent{}, err
	}
	if wire.Event == nil {
		return WebhookEvent{}, invalid(op, "event missing")
	}
	if !isToken(*wire.Event, 64) {
		return WebhookEvent{}, invalid(op, "event is not a valid event name")
	}
	ev := WebhookEvent{Event: *wire.Event}
	if !ev.Known() {
		return ev, nil
	}
	if isNull(wire.Call) {
		return WebhookEvent{}, invalid(op, "call missing")
	}
	if err := decodeField(op, "call", wire.Call, &ev.Call); err != nil {
		return WebhookEvent{}, err
	}
	if err := validateCall(op, "call", &ev.Call, d.nowMS()); err != nil {
		return WebhookEvent{}, err
	}
	for _, r := range []namedRaw{{"transfer_destination", wire.TransferDestination}, {"transfer_option", wire.TransferOption}} {
		if !isNull(r.raw) && !isObject(r.raw) {
			return WebhookEvent{}, invalid(op, "%s must be an object", r.name)
		}
	}
	if !isNull(wire.TransferDestination) {
		ev.TransferDestination = wire.TransferDestination
	}
	if !isNull(wire.TransferOption) {
		ev.TransferOption = wire.TransferOption
	}
	return ev, nil
}

// ParseInbound decodes the call_inbound webhook. Other event names
// (chat_inbound, future ones) return Known() == false and no error.
func (d Decoder) ParseInbound(body []byte) (InboundEvent, error) {
	const op = "retell.ParseInbound"
	var wire struct {
		Event          *string         `json:"event"`
		EventTimestamp int64           `json:"event_timestamp"`
		CallInbound    json.RawMessage `json:"call_inbound"`
	}
	if err := decodeObject(op, body, &wire); err != nil {
		return InboundEvent{}, err
	}
	if wire.Event == nil {
		return InboundEvent{}, invalid(op, "event missing")
	}
	if !isToken(*wire.Event, 64) {
		return InboundEvent{}, invalid(op, "event is not a valid event name")
	}
	ev := InboundEvent{Event: *wire.Event, EventTimestamp: wire.EventTimestamp}
	if !ev.Known() {
		return ev, nil
	}
	now := d.nowMS()
	if err := checkTimestamp(op, "event_timestamp", wire.EventTimestamp, now); err != nil {
		return InboundEvent{}, err
	}
	if isNull(wire.CallInbound) {
		return InboundEvent{}, invalid(op, "call_inbound missing")
	}
	if err := decodeField(op, "call_inbound", wire.CallInbound, &ev.CallInbound); err != nil {
		return InboundEvent{}, err
	}
	ci := &ev.CallInbound
	if ci.AgentID != "" && !isID(ci.AgentID) {
		return InboundEvent{}, invalid(op, "call_inbound.agent_id is not a valid id")
	}
	if ci.AgentVersion < 0 {
		return InboundEvent{}, invalid(op, "call_inbound.agent_version is negative")
	}
	if ci.ToNumber == "" {
		return InboundEvent{}, invalid(op, "call_inbound.to_number missing")
	}
	if !IsE164(ci.ToNumber) {
		return InboundEvent{}, invalid(op, "call_inbound.to_number is not E.164")
	}
	if !IsE164(ci.FromNumber) && !IsAnonymousNumber(ci.FromNumber) {
		return InboundEvent{}, invalid(op, "call_inbound.from_number is not E.164")
	}
	if len(ci.CustomSIPHeaders) > 64 {
		return InboundEvent{}, invalid(op, "call_inbound.custom_sip_headers has too many entries")
	}
	return ev, nil
}

// validateCall checks every field of a call object the gateway uses.
// path prefixes the field names in messages ("call.to_number").
func validateCall(op, path string, c *Call, nowMS int64) error {
	f := func(name string) string { return path + "." + name }
	switch {
	case c.CallID == "":
		return invalid(op, "%s missing", f("call_id"))
	case !isID(c.CallID):
		return invalid(op, "%s is not a valid id", f("call_id"))
	case c.AgentID != "" && !isID(c.AgentID):
		return invalid(op, "%s is not a valid id", f("agent_id"))
	case c.AgentVersion < 0:
		return invalid(op, "%s is negative", f("agent_version"))
	case c.CallType != "" && c.CallType != "phone_call" && c.CallType != "web_call":
		return invalid(op, "%s is not phone_call or web_call", f("call_type"))
	case c.Direction != "" && c.Direction != "inbound" && c.Direction != "outbound":
		return invalid(op, "%s is not inbound or outbound", f("direction"))
	case c.CallStatus != "" && !isToken(c.CallStatus, 64):
		return invalid(op, "%s is not a valid status", f("call_status"))
	case c.DisconnectionReason != "" && !isToken(c.DisconnectionReason, 64):
		return invalid(op, "%s is not a valid reason", f("disconnection_reason"))
	case c.DataStorageSetting != "" && !isToken(c.DataStorageSetting, 64):
		return invalid(op, "%s is not a valid setting", f("data_storage_setting"))
	}
	// Numbers: a phone call always has our number; the caller's may be
	// suppressed. A web call has neither.
	if c.CallType != "web_call" {
		if c.ToNumber == "" {
			return invalid(op, "%s missing", f("to_number"))
		}
	}
	if c.ToNumber != "" && !IsE164(c.ToNumber) {
		return invalid(op, "%s is not E.164", f("to_number"))
	}
	if !IsE164(c.FromNumber) && !IsAnonymousNumber(c.FromNumber) {
		return invalid(op, "%s is not E.164", f("from_number"))
	}
	for _, ts := range []struct {
		name string
		v    int64
	}{{"start_timestamp", c.StartTimestamp}, {"end_timestamp", c.EndTimestamp}, {"transfer_end_timestamp", c.TransferEndTimestamp}} {
		if err := checkTimestamp(op, f(ts.name), ts.v, nowMS); err != nil {
			return err
		}
	}
	if c.StartTimestamp != 0 && c.EndTimestamp != 0 && c.EndTimestamp < c.StartTimestamp {
		return invalid(op, "%s is before %s", f("end_timestamp"), f("start_timestamp"))
	}
	if c.DurationMS < 0 || c.DurationMS > maxDuration.Milliseconds() {
		return invalid(op, "%s is out of range", f("duration_ms"))
	}
	for _, u := range []struct{ name, v string }{
		{"recording_url", c.RecordingURL}, {"recording_multi_channel_url", c.RecordingMultiChannelURL},
		{"public_log_url", c.PublicLogURL},
	} {
		if u.v != "" && !isHTTPURL(u.v) {
			return invalid(op, "%s is not an http(s) URL", f(u.name))
		}
	}
	for _, r := range []namedRaw{
		{"retell_llm_dynamic_variables", c.RetellLLMDynamicVariables},
		{"collected_dynamic_variables", c.CollectedDynamicVariables},
		{"telephony_identifier", c.TelephonyIdentifier},
		{"latency", c.Latency},
		{"llm_token_usage", c.LLMTokenUsage},
	} {
		if !isNull(r.raw) && !isObject(r.raw) {
			return invalid(op, "%s must be an object", f(r.name))
		}
	}
	for _, r := range []namedRaw{
		{"transcript_object", c.TranscriptObject},
		{"transcript_with_tool_calls", c.TranscriptWithToolCalls},
	} {
		if !isNull(r.raw) && !isArray(r.raw) {
			return invalid(op, "%s must be an array", f(r.name))
		}
	}
	if a := c.CallAnalysis; a != nil && len(a.UserSentiment) > 32 {
		return invalid(op, "%s is too long", f("call_analysis.user_sentiment"))
	}
	if cc := c.CallCost; cc != nil {
		if cc.CombinedCost < 0 || cc.CombinedCost > maxCombinedUSD {
			return invalid(op, "%s is out of range", f("call_cost.combined_cost"))
		}
		if cc.TotalDurationSeconds < 0 {
			return invalid(op, "%s is negative", f("call_cost.total_duration_seconds"))
		}
		for _, p := range cc.ProductCosts {
			if p.Cost < 0 || p.Cost > maxCombinedUSD {
				return invalid(op, "%s is out of range", f("call_cost.product_costs.cost"))
			}
		}
	}
	// Drop JSON nulls so stored raw fields are either absent or real values.
	for _, raw := range []*json.RawMessage{
		&c.TranscriptObject, &c.TranscriptWithToolCalls, &c.Metadata, &c.RetellLLMDynamicVariables,
		&c.CollectedDynamicVariables, &c.TelephonyIdentifier, &c.TransferDestination, &c.Latency, &c.LLMTokenUsage,
	} {
		if isNull(*raw) {
			*raw = nil
		}
	}
	if c.CallAnalysis != nil && isNull(c.CallAnalysis.CustomAnalysisData) {
		c.CallAnalysis.CustomAnalysisData = nil
	}
	return nil
}

type namedRaw struct {
	name string
	raw  json.RawMessage
}

func checkTimestamp(op, name string, ms, nowMS int64) error {
	if ms == 0 {
		return nil
	}
	if ms < minTimestampMS {
		return invalid(op, "%s is before 2020 (not Unix milliseconds?)", name)
	}
	if ms > nowMS+maxFutureSkew.Milliseconds() {
		return invalid(op, "%s is more than a day in the future", name)
	}
	return nil
}

// decodeObject decodes a whole body that must be one JSON object.
func decodeObject(op string, body []byte, v any) error {
	if len(body) > MaxBodyBytes {
		return booking.Errorf(booking.KindTooLarge, op, "body larger than %d bytes", MaxBodyBytes)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return invalid(op, "body is empty")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return invalid(op, "body is not valid JSON")
		}
		return invalid(op, "body must be a JSON object")
	}
	return decodeField(op, "", trimmed, v)
}

// decodeField turns encoding/json errors into messages that name the field
// and the expected type but never quote the input.
func decodeField(op, path string, raw []byte, v any) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid(op, "body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if path != "" && field != "" {
			field = path + "." + field
		} else if field == "" {
			field = path
		}
		if field == "" {
			return invalid(op, "body must be a JSON object")
		}
		return invalid(op, "%s has the wrong type or is out of range (want %s)", safePath(field), jsonKind(typ.Type.String()))
	}
	return invalid(op, "body could not be decoded")
}

// safePath keeps a field path printable; map keys from the input (SIP
// header names, argument names) could carry anything, so odd characters
// are masked.
func safePath(p string) string {
	if len(p) > 120 {
		p = p[:120]
	}
	b := []byte(p)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '?'
		}
	}
	return string(b)
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "integer"
	case strings.HasPrefix(goType, "float"):
		return "number"
	case goType == "string":
		return "string"
	case goType == "bool", goType == "*bool":
		return "boolean"
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "*[]"):
		return "array"
	}
	return "object"
}

func invalid(op, format string, args ...any) error {
	return booking.Errorf(booking.KindInvalid, op, format, args...)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

func isArray(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '['
}

// isID accepts Retell-style ids (call_…, agent_…): ASCII letters, digits
// and _ . : -, at most 128 characters. They go into keys and logs.
func isID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// isToken accepts enum-like values: lower-case letters, digits, _ and -.
func isToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isHTTPURL(s string) bool {
	if len(s) > 4096 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// IsE164 reports whether s is an E.164 number: '+', a non-zero digit and
// 7 to 15 digits in all.
func IsE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// anonymousNumbers are the values carriers and Retell use for a suppressed
// caller id (case-insensitive); "" counts too.
var anonymousNumbers = map[string]bool{
	"anonymous": true, "unknown": true, "private": true, "blocked": true,
	"withheld": true, "restricted": true, "unavailable": true,
}

// IsAnonymousNumber reports whether a from_number means "no caller id".
func IsAnonymousNumber(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > 16 {
		return false
	}
	return anonymousNumbers[strings.ToLower(s)]
}
