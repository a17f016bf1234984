package retell

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// FunctionCall is one custom-function request (NOTES §A3).
//
// Retell sends either the default envelope
//
//	{"name": "book_appointment", "call": {…call object…}, "args": {…}}
//
// or, with the tool's "Payload: args only" (args_at_root) switch, the
// argument object alone. ParseFunctionCall accepts both: a body is an
// envelope when it has a top-level "call" or "args" key (none of our tool
// parameters is named so), otherwise the whole body is the arguments and
// Call is nil; headers or query parameters may then only name the call
// (CallRefFrom), whose caller the gateway takes from its own record.
type FunctionCall struct {
	Name     string          // function name, version suffix (_v17) stripped; "" if not sent
	RawName  string          // the name as sent
	Call     *Call           // nil for args-only bodies
	Args     json.RawMessage // always a JSON object ("{}" when absent)
	ArgsOnly bool
}

var versionSuffix = regexp.MustCompile(`_v[0-9]+$`)

// StripVersion removes a trailing _v<digits> ("check_availability_v17" →
// "check_availability"), so tools can be versioned in Retell without
// changing our routes.
func StripVersion(name string) string { return versionSuffix.ReplaceAllString(name, "") }

// ParseFunctionCall decodes a custom-function body (see FunctionCall).
func (d Decoder) ParseFunctionCall(body []byte) (FunctionCall, error) {
	const op = "retell.ParseFunctionCall"
	var top map[string]json.RawMessage
	if err := decodeObject(op, body, &top); err != nil {
		return FunctionCall{}, err
	}
	_, hasCall := top["call"]
	_, hasArgs := top["args"]
	if !hasCall && !hasArgs {
		return FunctionCall{Args: json.RawMessage(bytes.TrimSpace(body)), ArgsOnly: true}, nil
	}
	var fc FunctionCall
	if raw, ok := top["name"]; ok && !isNull(raw) {
		if err := decodeField(op, "name", raw, &fc.RawName); err != nil {
			return FunctionCall{}, err
		}
		if !validToolName(fc.RawName) {
			return FunctionCall{}, invalid(op, "name is not a valid function name")
		}
		fc.Name = StripVersion(fc.RawName)
	}
	fc.Args = json.RawMessage("{}")
	if raw := top["args"]; !isNull(raw) {
		if !isObject(raw) {
			return FunctionCall{}, invalid(op, "args must be an object")
		}
		fc.Args = bytes.TrimSpace(raw)
	}
	if raw := top["call"]; !isNull(raw) {
		if !isObject(raw) {
			return FunctionCall{}, invalid(op, "call must be an object")
		}
		var c Call
		if err := decodeField(op, "call", raw, &c); err != nil {
			return FunctionCall{}, err
		}
		if err := validateCall(op, "call", &c, d.nowMS()); err != nil {
			return FunctionCall{}, err
		}
		fc.Call = &c
	}
	return fc, nil
}

// DecodeArgs decodes the arguments into v (a struct pointer) with
// PII-free KindInvalid errors.
func (fc FunctionCall) DecodeArgs(v any) error {
	return decodeField("retell.DecodeArgs", "args", fc.Args, v)
}

// StringArgs returns the arguments as strings. LLMs sometimes send 14
// instead of "14" or true instead of "true": numbers and booleans are
// converted to their JSON text, nulls are dropped; objects and arrays are
// an error.
func (fc FunctionCall) StringArgs() (map[string]string, error) {
	const op = "retell.StringArgs"
	var m map[string]json.RawMessage
	if err := decodeField(op, "args", fc.Args, &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		t := bytes.TrimSpace(raw)
		switch {
		case isNull(t):
		case t[0] == '"':
			var s string
			if err := json.Unmarshal(t, &s); err != nil {
				return nil, invalid(op, "args contain an invalid string")
			}
			out[k] = s
		case t[0] == '{' || t[0] == '[':
			return nil, invalid(op, "args.%s must be a string", safeKey(k))
		default: // number or boolean
			out[k] = string(t)
		}
	}
	return out, nil
}

// safeKey keeps argument names printable in messages without echoing
// anything that could be personal data (argument names are ours).
func safeKey(k string) string {
	if isToken(strings.ToLower(k), 64) {
		return k
	}
	return "?"
}

// CallContext is what a function handler needs to know about the call:
// which call (idempotency, audit), who is calling (ownership, customer),
// which number was dialled (tenant and branch) and when the caller spoke
// (relative dates).
type CallContext struct {
	CallID         string
	FromNumber     string // PII; "" or "anonymous" for suppressed numbers
	ToNumber       string // E.164
	AgentID        string
	StartTimestamp int64 // Unix ms; 0 = unknown (the handler then uses its clock)
}

// Anonymous reports whether the caller suppressed the number.
func (c CallContext) Anonymous() bool { return IsAnonymousNumber(c.FromNumber) }

// Headers that name the call of an args-only function call. They are not
// covered by X-Retell-Signature, so they may only *point at* a call: who is
// calling is never read from a header or query parameter, only from the
// signed envelope or from our own record of the call (written from Retell's
// signed call webhooks).
const (
	HeaderCallID   = "X-Retell-Call-Id"
	HeaderToNumber = "X-Retell-To-Number"
)

// CallRef is what an args-only function call may say about its call: which
// call (to look up our record of it) and which number was dialled (to find
// the tenant whose records to look in). Neither identifies the caller.
type CallRef struct {
	CallID   string
	ToNumber string // E.164
}

// CallRefFrom reads the call reference of an args-only function call.
//
// With "Payload: args only" Retell sends no call object, so the operator
// configures the tool to name the call in its `headers` (or
// `query_params`) using Retell's system dynamic variables:
//
//	headers:      X-Retell-Call-Id: {{call_id}}
//	              X-Retell-To-Number: {{agent_number}}
//	query_params: call_id={{call_id}}&to_number={{agent_number}}
//
// Headers win over query parameters; get must look header names up
// case-insensitively and may be nil. A value that still contains "{{" was
// not substituted by Retell and counts as absent. Anything else a header
// or parameter says about the call (a caller's number, a start time) is
// ignored: the caller comes from the signed call webhooks only.
func CallRefFrom(get func(string) string, query map[string]string) (CallRef, error) {
	const op = "retell.CallRefFrom"
	read := func(header, param string) string {
		v := ""
		if get != nil {
			v = get(header)
		}
		if strings.TrimSpace(v) == "" && query != nil {
			v = query[param]
			// An unencoded '+' in a query string arrives as a space.
			if strings.HasPrefix(v, " ") && isDigits(strings.TrimSpace(v)) {
				v = "+" + strings.TrimSpace(v)
			}
		}
		v = strings.TrimSpace(v)
		if strings.Contains(v, "{{") {
			return ""
		}
		return v
	}
	c := CallRef{CallID: read(HeaderCallID, "call_id"), ToNumber: read(HeaderToNumber, "to_number")}
	switch {
	case c.CallID == "":
		return CallRef{}, invalid(op, "call context missing: no call object and no %s header or call_id parameter", HeaderCallID)
	case !isID(c.CallID):
		return CallRef{}, invalid(op, "call id is not a valid id")
	case c.ToNumber == "":
		return CallRef{}, invalid(op, "call context missing: no %s header or to_number parameter", HeaderToNumber)
	case !IsE164(c.ToNumber):
		return CallRef{}, invalid(op, "to number is not E.164")
	}
	return c, nil
}

// SignatureID names one signature in a canonical form ("<ts>.<hex digest>",
// lower case, no leading zeros), so every spelling Verify accepts as the
// same signature (case, leading zeros) gets the same name. ok is false for
// a header Verify would reject as malformed.
func SignatureID(header string) (id string, ok bool) {
	ts, digest, ok := parseHeader(strings.TrimSpace(header))
	if !ok {
		return "", false
	}
	return strconv.FormatInt(ts, 10) + "." + hex.EncodeToString(digest[:]), true
}

// HeaderGetter adapts an API Gateway header map to a case-insensitive get.
func HeaderGetter(headers map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := headers[name]; ok {
			return v
		}
		for k, v := range headers {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validToolName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
