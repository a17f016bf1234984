package retell

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

// decoderAt pins "now" to the samples' start (2026-03-02T14:05:12.345Z).
var decoderAt = Decoder{Clock: booking.FixedClock(time.UnixMilli(sampleTS + 120_000))}

func TestParseWebhookSamples(t *testing.T) {
	for _, name := range []string{"call_started", "call_ended", "call_analyzed"} {
		t.Run(name, func(t *testing.T) {
			ev, err := decoderAt.ParseWebhook(readSample(t, "retell/"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Call
			if ev.Event != name || !ev.Known() {
				t.Fatalf("event %q known=%v", ev.Event, ev.Known())
			}
			if c.CallID != "call_0b8f4c2a6d9e41f7a3c5e2d1b7f9a604" || c.AgentID != "agent_5f2c9d1e7a3b48c6b0e4d2f1a9c8e7b3" || c.AgentVersion != 3 {
				t.Fatalf("ids: %+v", c)
			}
			if c.FromNumber != "+14155550123" || c.ToNumber != "+14155550199" || c.Anonymous() || c.Direction != "inbound" || c.CallType != "phone_call" {
				t.Fatalf("numbers/direction: %q %q %q", c.FromNumber, c.ToNumber, c.Direction)
			}
			if st, ok := c.Started(); !ok || !st.Equal(time.UnixMilli(sampleTS)) {
				t.Fatalf("start %v", st)
			}
			if string(c.Metadata) == "" || !json.Valid(c.Metadata) || !strings.Contains(string(c.Metadata), "clinic-sf-01") {
				t.Fatalf("metadata %s", c.Metadata)
			}
			if dv := c.DynamicVariables(); dv["business_time_zone"] != "America/Los_Angeles" {
				t.Fatalf("dynamic variables %v", dv)
			}
			if c.DataStorageSetting != "everything" {
				t.Fatalf("data storage %q", c.DataStorageSetting)
			}
			switch name {
			case "call_started":
				if c.CallStatus != "ongoing" || c.EndTimestamp != 0 || c.CallCost != nil || c.Transcript != "" {
					t.Fatalf("call_started carries end data: %+v", c)
				}
			default:
				if c.CallStatus != "ended" || c.DurationMS != 89500 || c.EndTimestamp != 1772460401845 || c.DisconnectionReason != "user_hangup" {
					t.Fatalf("end data: %+v", c)
				}
				if c.CallCost == nil || c.CallCost.CombinedCost != 21.62 || len(c.CallCost.ProductCosts) != 3 || c.CallCost.TotalDurationSeconds != 90 {
					t.Fatalf("cost: %+v", c.CallCost)
				}
				if !strings.HasPrefix(c.Transcript, "Agent: ") || !isArray(c.TranscriptObject) || !isArray(c.TranscriptWithToolCalls) {
					t.Fatal("transcript fields missing")
				}
				if c.RecordingURL == "" || c.PublicLogURL == "" {
					t.Fatal("urls missing")
				}
			}
			if name == "call_analyzed" {
				a := c.CallAnalysis
				if a == nil || a.CallSummary == "" || a.UserSentiment == "" || a.CallSuccessful == nil || a.InVoicemail == nil {
					t.Fatalf("analysis: %+v", a)
				}
			} else if c.CallAnalysis != nil {
				t.Fatalf("%s has call_analysis", name)
			}
		})
	}
}

func TestParseFunctionCallSample(t *testing.T) {
	fc, err := decoderAt.ParseFunctionCall(readSample(t, "retell/custom_function_book_appointment.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fc.Name != "book_appointment" || fc.ArgsOnly || fc.Call == nil || fc.Call.CallID != "call_0b8f4c2a6d9e41f7a3c5e2d1b7f9a604" {
		t.Fatalf("%+v", fc)
	}
	args, err := fc.StringArgs()
	if err != nil || args["notes"] != "Annual check-up" || args["time_zone"] != "America/Los_Angeles" {
		t.Fatalf("args %v %v", args, err)
	}
	ctx := fc.Call.Context()
	if ctx.CallID != fc.Call.CallID || ctx.ToNumber != "+14155550199" || ctx.StartTimestamp != sampleTS {
		t.Fatalf("context %+v", ctx)
	}
}

// piiNumber appears in the bad bodies; no error message may repeat it.
const piiNumber = "+491701234567"

func webhookBody(call string) string {
	return `{"event":"call_ended","call":{` + call + `}}`
}

const okCall = `"call_id":"call_abc","call_type":"phone_call","from_number":"` + piiNumber + `","to_number":"+4930123456","start_timestamp":1772460312345`

func TestParseWebhookBadInput(t *testing.T) {
	cases := []struct {
		name, body, want string
		kind             booking.Kind
	}{
		{"not JSON", `{"event":`, "not valid JSON", booking.KindInvalid},
		{"garbage", `hello ` + piiNumber, "not valid JSON", booking.KindInvalid},
		{"empty", ``, "empty", booking.KindInvalid},
		{"array", `[1,2]`, "JSON object", booking.KindInvalid},
		{"string", `"` + piiNumber + `"`, "JSON object", booking.KindInvalid},
		{"no event", `{"call":{` + okCall + `}}`, "event missing", booking.KindInvalid},
		{"event not a string", `{"event":5,"call":{}}`, "event has the wrong type", booking.KindInvalid},
		{"event with spaces", `{"event":"call ended"}`, "not a valid event name", booking.KindInvalid},
		{"no call", `{"event":"call_started"}`, "call missing", booking.KindInvalid},
		{"call null", `{"event":"call_started","call":null}`, "call missing", booking.KindInvalid},
		{"call is a string", `{"event":"call_started","call":"x"}`, "call has the wrong type", booking.KindInvalid},
		{"missing call_id", webhookBody(`"to_number":"+4930123456"`), "call.call_id missing", booking.KindInvalid},
		{"call_id number", webhookBody(`"call_id":12,"to_number":"+4930123456"`), "call.call_id has the wrong type", booking.KindInvalid},
		{"call_id with spaces", webhookBody(`"call_id":"a b","to_number":"+4930123456"`), "call.call_id is not a valid id", booking.KindInvalid},
		{"start_timestamp string", webhookBody(okCall + `,"end_timestamp":"1772460312345"`), "call.end_timestamp has the wrong type", booking.KindInvalid},
		{"start_timestamp float", webhookBody(`"call_id":"c","to_number":"+4930123456","start_timestamp":1.5`), "call.start_timestamp has the wrong type", booking.KindInvalid},
		{"timestamp in seconds", webhookBody(`"call_id":"c","to_number":"+4930123456","start_timestamp":1772460312`), "before 2020", booking.KindInvalid},
		{"timestamp far future", webhookBody(`"call_id":"c","to_number":"+4930123456","start_timestamp":1872460312345`), "future", booking.KindInvalid},
		{"huge number", webhookBody(`"call_id":"c","to_number":"+4930123456","duration_ms":1e400`), "call.duration_ms has the wrong type", booking.KindInvalid},
		{"end before start", webhookBody(okCall + `,"end_timestamp":1772460312000`), "before", booking.KindInvalid},
		{"negative duration", webhookBody(okCall + `,"duration_ms":-1`), "duration_ms is out of range", booking.KindInvalid},
		{"from not E.164", webhookBody(`"call_id":"c","to_number":"+4930123456","from_number":"01701234567"`), "from_number is not E.164", booking.KindInvalid},
		{"from with letters", webhookBody(`"call_id":"c","to_number":"+4930123456","from_number":"+49170abc"`), "from_number is not E.164", booking.KindInvalid},
		{"to missing", webhookBody(`"call_id":"c","from_number":"` + piiNumber + `"`), "to_number missing", booking.KindInvalid},
		{"to not E.164", webhookBody(`"call_id":"c","to_number":"4930123456"`), "to_number is not E.164", booking.KindInvalid},
		{"bad direction", webhookBody(okCall + `,"direction":"sideways"`), "direction", booking.KindInvalid},
		{"bad call_type", webhookBody(okCall + `,"call_type":"fax"`), "call_type", booking.KindInvalid},
		{"status not a token", webhookBody(okCall + `,"call_status":"Ended!"`), "call_status", booking.KindInvalid},
		{"negative cost", webhookBody(okCall + `,"call_cost":{"combined_cost":-3}`), "combined_cost is out of range", booking.KindInvalid},
		{"cost as string", webhookBody(okCall + `,"call_cost":{"combined_cost":"3"}`), "call.call_cost.combined_cost has the wrong type", booking.KindInvalid},
		{"recording url not http", webhookBody(okCall + `,"recording_url":"javascript:alert(1)"`), "recording_url", booking.KindInvalid},
		{"transcript_object not array", webhookBody(okCall + `,"transcript_object":"x"`), "must be an array", booking.KindInvalid},
		{"dynamic variables not object", webhookBody(okCall + `,"retell_llm_dynamic_variables":[1]`), "must be an object", booking.KindInvalid},
		{"successful not bool", webhookBody(okCall + `,"call_analysis":{"call_successful":"yes"}`), "call.call_analysis.call_successful has the wrong type", booking.KindInvalid},
		{"transfer_destination not object", `{"event":"transfer_started","transfer_destination":"x","call":{` + okCall + `}}`, "transfer_destination must be an object", booking.KindInvalid},
		{"too large", `{"event":"call_ended","call":{"transcript":"` + strings.Repeat("a", MaxBodyBytes) + `"}}`, "larger than", booking.KindTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decoderAt.ParseWebhook([]byte(tc.body))
			if booking.KindOf(err) != tc.kind {
				t.Fatalf("kind %q, want %q (err %v)", booking.KindOf(err), tc.kind, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err.Error(), tc.want)
			}
			if strings.Contains(err.Error(), "1701234567") || strings.Contains(err.Error(), "alert") {
				t.Fatalf("error echoes input: %q", err.Error())
			}
		})
	}
}

func TestParseWebhookAcceptsAnonymousAndUnknown(t *testing.T) {
	for _, from := range []string{"", "anonymous", "Anonymous", "unknown", "private", "withheld", "restricted"} {
		ev, err := decoderAt.ParseWebhook([]byte(webhookBody(`"call_id":"c","to_number":"+4930123456","from_number":"` + from + `"`)))
		if err != nil || !ev.Call.Anonymous() {
			t.Errorf("from %q: err %v anonymous %v", from, err, ev.Call.Anonymous())
		}
	}
	// A web call has no numbers.
	if _, err := decoderAt.ParseWebhook([]byte(webhookBody(`"call_id":"c","call_type":"web_call"`))); err != nil {
		t.Errorf("web call: %v", err)
	}
	// Unknown event types are acknowledged, whatever their content.
	for _, body := range []string{`{"event":"chat_started","chat":{"x":1}}`, `{"event":"call_summarised","call":"not an object"}`} {
		ev, err := decoderAt.ParseWebhook([]byte(body))
		if err != nil || ev.Known() {
			t.Errorf("%s: err %v known %v", body, err, ev.Known())
		}
	}
	// Open enums: a new disconnection reason is accepted.
	ev, err := decoderAt.ParseWebhook([]byte(webhookBody(okCall + `,"disconnection_reason":"brand_new_reason","call_status":"not_connected","extra_future_field":{"a":1}`)))
	if err != nil || ev.Call.DisconnectionReason != "brand_new_reason" {
		t.Errorf("open enum: %v", err)
	}
	// Transfer events keep their destination.
	ev, err = decoderAt.ParseWebhook([]byte(`{"event":"transfer_started","transfer_destination":{"number":"+4930999"},"call":{` + okCall + `}}`))
	if err != nil || !strings.Contains(string(ev.TransferDestination), "4930999") || ev.TransferOption != nil {
		t.Errorf("transfer: %v %s", err, ev.TransferDestination)
	}
	// One day of clock skew is tolerated.
	if _, err := decoderAt.ParseWebhook([]byte(webhookBody(`"call_id":"c","to_number":"+4930123456","start_timestamp":` + itoa64(sampleTS+23*3600*1000)))); err != nil {
		t.Errorf("23 h ahead: %v", err)
	}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

const inboundSample = `{"event":"call_inbound","event_timestamp":1772460312345,
 "call_inbound":{"agent_id":"agent_12345","agent_version":1,"from_number":"` + piiNumber + `","to_number":"+4930123456",
 "custom_sip_headers":{"x-my-header":"my-value"}}}`

func TestParseInbound(t *testing.T) {
	ev, err := decoderAt.ParseInbound([]byte(inboundSample))
	if err != nil {
		t.Fatal(err)
	}
	ci := ev.CallInbound
	if !ev.Known() || ci.ToNumber != "+4930123456" || ci.FromNumber != piiNumber || ci.AgentID != "agent_12345" || ci.AgentVersion != 1 ||
		ci.CustomSIPHeaders["x-my-header"] != "my-value" || ev.EventTimestamp != 1772460312345 || ci.Anonymous() {
		t.Fatalf("%+v", ev)
	}
	anon, err := decoderAt.ParseInbound([]byte(`{"event":"call_inbound","call_inbound":{"from_number":"anonymous","to_number":"+4930123456"}}`))
	if err != nil || !anon.CallInbound.Anonymous() {
		t.Fatalf("anonymous: %v", err)
	}
	chat, err := decoderAt.ParseInbound([]byte(`{"event":"chat_inbound","chat_inbound":{}}`))
	if err != nil || chat.Known() {
		t.Fatalf("chat_inbound: %v %v", err, chat.Known())
	}
	bad := []struct{ body, want string }{
		{`{"event":"call_inbound"}`, "call_inbound missing"},
		{`{"event":"call_inbound","call_inbound":{"from_number":"` + piiNumber + `"}}`, "to_number missing"},
		{`{"event":"call_inbound","call_inbound":{"to_number":"030123456"}}`, "to_number is not E.164"},
		{`{"event":"call_inbound","call_inbound":{"to_number":"+4930123456","from_number":"0170 1234567"}}`, "from_number is not E.164"},
		{`{"event":"call_inbound","call_inbound":{"to_number":"+4930123456","agent_version":"1"}}`, "call_inbound.agent_version has the wrong type"},
		{`{"event":"call_inbound","event_timestamp":12,"call_inbound":{"to_number":"+4930123456"}}`, "event_timestamp is before 2020"},
		{`{"event":"call_inbound","call_inbound":[]}`, "call_inbound has the wrong type"},
		{`{"call_inbound":{}}`, "event missing"},
		{`not json`, "not valid JSON"},
	}
	for _, b := range bad {
		_, err := decoderAt.ParseInbound([]byte(b.body))
		if booking.KindOf(err) != booking.KindInvalid || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v (want %q)", b.body, err, b.want)
		}
		if err != nil && strings.Contains(err.Error(), "1701234567") {
			t.Errorf("error echoes the number: %v", err)
		}
	}
}

func TestInboundResponseJSON(t *testing.T) {
	b, _ := json.Marshal(InboundResponse{})
	if string(b) != `{"call_inbound":{}}` {
		t.Fatalf("fallback: %s", b)
	}
	v := int64(2)
	b, _ = json.Marshal(InboundResponse{CallInbound: InboundConfig{
		OverrideAgentID: "agent_1", OverrideAgentVersion: &v,
		DynamicVariables: map[string]string{"caller_known": "false", "business_name": "Salon Sonne"},
		Metadata:         map[string]any{"tenant_id": "salon"},
	}})
	want := `{"call_inbound":{"override_agent_id":"agent_1","override_agent_version":2,"dynamic_variables":{"business_name":"Salon Sonne","caller_known":"false"},"metadata":{"tenant_id":"salon"}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(InboundResponse{CallInbound: InboundConfig{Reject: true}})
	if string(b) != `{"call_inbound":{"reject":true}}` {
		t.Fatalf("reject: %s", b)
	}
}

func TestParseFunctionCallShapes(t *testing.T) {
	envelope := `{"name":"check_availability_v17","call":{` + okCall + `},"args":{"service":"Haarschnitt","date":"morgen","time":14}}`
	fc, err := decoderAt.ParseFunctionCall([]byte(envelope))
	if err != nil || fc.Name != "check_availability" || fc.RawName != "check_availability_v17" || fc.ArgsOnly || fc.Call == nil {
		t.Fatalf("envelope: %+v %v", fc, err)
	}
	args, err := fc.StringArgs()
	if err != nil || args["time"] != "14" || args["date"] != "morgen" {
		t.Fatalf("string args %v %v", args, err)
	}
	var typed struct {
		Service string `json:"service"`
		Time    string `json:"time"`
	}
	if err := fc.DecodeArgs(&typed); booking.KindOf(err) != booking.KindInvalid || !strings.Contains(err.Error(), "args.time") {
		t.Fatalf("typed decode of a number into a string: %v", err)
	}

	argsOnly := `{"service":"Haarschnitt","date":"2027-03-15","name":"not the function name"}`
	fc, err = decoderAt.ParseFunctionCall([]byte(argsOnly))
	if err != nil || !fc.ArgsOnly || fc.Call != nil || fc.Name != "" || string(fc.Args) != argsOnly {
		t.Fatalf("args-only: %+v %v", fc, err)
	}
	fc, err = decoderAt.ParseFunctionCall([]byte(`{}`))
	if err != nil || !fc.ArgsOnly || string(fc.Args) != "{}" {
		t.Fatalf("empty args-only: %+v %v", fc, err)
	}
	fc, err = decoderAt.ParseFunctionCall([]byte(`{"name":"find_appointments","call":{` + okCall + `}}`))
	if err != nil || string(fc.Args) != "{}" {
		t.Fatalf("envelope without args: %+v %v", fc, err)
	}
	fc, err = decoderAt.ParseFunctionCall([]byte(`{"name":"list_services","args":{"category":null},"call":null}`))
	if err != nil || fc.Call != nil || fc.ArgsOnly {
		t.Fatalf("envelope without call: %+v %v", fc, err)
	}
	if a, _ := fc.StringArgs(); len(a) != 0 {
		t.Fatalf("null arg kept: %v", a)
	}

	bad := []struct{ body, want string }{
		{``, "empty"},
		{`[]`, "JSON object"},
		{`{"name":"x y","args":{}}`, "not a valid function name"},
		{`{"name":7,"args":{}}`, "name has the wrong type"},
		{`{"name":"` + strings.Repeat("a", 65) + `","args":{}}`, "not a valid function name"},
		{`{"name":"f","args":"date=morgen"}`, "args must be an object"},
		{`{"name":"f","args":{},"call":[]}`, "call must be an object"},
		{`{"name":"f","args":{},"call":{"to_number":"+4930123456"}}`, "call.call_id missing"},
		{`{"name":"f","args":{},"call":{"call_id":"c","to_number":"+4930123456","from_number":"12345"}}`, "call.from_number is not E.164"},
		{`{"name":"f","args":{},"call":{"call_id":"c","to_number":"+4930123456","start_timestamp":99}}`, "before 2020"},
	}
	for _, b := range bad {
		_, err := decoderAt.ParseFunctionCall([]byte(b.body))
		if booking.KindOf(err) != booking.KindInvalid || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v (want %q)", b.body, err, b.want)
		}
	}
	fc, _ = decoderAt.ParseFunctionCall([]byte(`{"date":{"day":1}}`))
	if _, err := fc.StringArgs(); booking.KindOf(err) != booking.KindInvalid || !strings.Contains(err.Error(), "args.date") {
		t.Errorf("object arg: %v", err)
	}
}

func TestStripVersion(t *testing.T) {
	for in, want := range map[string]string{
		"check_availability_v17": "check_availability", "book_appointment": "book_appointment",
		"x_v": "x_v", "x_v1_v2": "x_v1", "v17": "v17", "a_V17": "a_V17",
	} {
		if got := StripVersion(in); got != want {
			t.Errorf("%s: %s want %s", in, got, want)
		}
	}
}

func TestCallRefFrom(t *testing.T) {
	// A caller's number or start time in headers is ignored: only the call
	// id and the dialled number are read.
	h := map[string]string{"x-retell-call-id": "call_1", "X-Retell-From-Number": piiNumber, "X-RETELL-TO-NUMBER": "+4930123456",
		"X-Retell-Start-Timestamp": "1772460312345"}
	c, err := CallRefFrom(HeaderGetter(h), map[string]string{"call_id": "call_from_query", "from_number": piiNumber})
	if err != nil || c != (CallRef{CallID: "call_1", ToNumber: "+4930123456"}) {
		t.Fatalf("headers: %+v %v", c, err)
	}
	// Query parameters; an unencoded '+' arrives as a space.
	c, err = CallRefFrom(nil, map[string]string{"call_id": "call_2", "to_number": " 4930123456"})
	if err != nil || c != (CallRef{CallID: "call_2", ToNumber: "+4930123456"}) {
		t.Fatalf("query: %+v %v", c, err)
	}
	bad := []struct {
		h    map[string]string
		q    map[string]string
		want string
	}{
		{nil, nil, "call context missing"},
		{map[string]string{"X-Retell-Call-Id": "{{call_id}}", "X-Retell-To-Number": "+4930123456"}, nil, "call context missing"},
		{map[string]string{"X-Retell-Call-Id": "c"}, nil, "call context missing"},
		{map[string]string{"X-Retell-Call-Id": "c", "X-Retell-To-Number": "{{agent_number}}"}, nil, "call context missing"},
		{map[string]string{"X-Retell-Call-Id": "c d", "X-Retell-To-Number": "+4930123456"}, nil, "call id is not a valid id"},
		{map[string]string{"X-Retell-Call-Id": "c", "X-Retell-To-Number": "030123"}, nil, "to number is not E.164"},
	}
	for i, b := range bad {
		_, err := CallRefFrom(HeaderGetter(b.h), b.q)
		if booking.KindOf(err) != booking.KindInvalid || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%d: %v (want %q)", i, err, b.want)
		}
	}
}

func TestSignatureID(t *testing.T) {
	body := []byte(`{}`)
	sig := Sign(body, "key_x", sampleTS)
	id, ok := SignatureID(sig)
	if !ok || !strings.HasPrefix(id, "1772460312345.") || len(id) != len("1772460312345.")+64 {
		t.Fatalf("SignatureID(%q) = %q %v", sig, id, ok)
	}
	// Every spelling Verify accepts as this signature has the same id.
	v := Verifier{Keys: []string{"key_x"}, Clock: booking.FixedClock(time.UnixMilli(sampleTS))}
	for _, alt := range []string{" " + sig + " ", "V=" + sig[2:], "v=000" + sig[2:], strings.ToUpper(sig[:len(sig)-64]) + strings.ToUpper(sig[len(sig)-64:])} {
		if err := v.Verify(body, strings.TrimSpace(alt)); err != nil {
			t.Fatalf("%q does not verify: %v", alt, err)
		}
		if got, ok := SignatureID(alt); !ok || got != id {
			t.Errorf("SignatureID(%q) = %q, want %q", alt, got, id)
		}
	}
	if id2, _ := SignatureID(Sign(body, "key_x", sampleTS+1)); id2 == id {
		t.Error("another timestamp, same id")
	}
	if _, ok := SignatureID("v=1,d=zz"); ok {
		t.Error("malformed header got an id")
	}
}

func TestIsE164(t *testing.T) {
	for s, want := range map[string]bool{
		"+4930123456": true, "+14155550123": true, "+491701234567": true, "+123456789012345": true,
		"+1234567": true, "+123456": false, "+1234567890123456": false, "+0301234567": false,
		"4930123456": false, "+49 30 123456": false, "+49-30-123456": false, "": false, "+": false,
	} {
		if IsE164(s) != want {
			t.Errorf("IsE164(%q) = %v", s, !want)
		}
	}
}

func BenchmarkParseWebhook30KB(b *testing.B) {
	body := []byte(webhookBody(okCall + `,"transcript":"` + strings.Repeat("Agent: Guten Tag, möchten Sie einen Termin? ", 700) + `"`))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decoderAt.ParseWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}
