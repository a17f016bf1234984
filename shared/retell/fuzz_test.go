package retell

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
)

// The fuzz seeds are our own bodies (the corpus under testdata/fuzz is kept
// in the repository, so it must not contain the reference samples).
var webhookSeeds = []string{
	webhookBody(okCall),
	webhookBody(okCall + `,"end_timestamp":1772460401845,"duration_ms":89500,"call_status":"ended","disconnection_reason":"user_hangup","transcript":"Agent: Hallo\nUser: Grüß Gott\n","transcript_object":[{"role":"agent","content":"Hallo","words":[]}],"call_cost":{"combined_cost":21.62,"product_costs":[{"product":"tts","cost":10.4}],"total_duration_seconds":90}`),
	`{"event":"call_analyzed","call":{` + okCall + `,"call_analysis":{"call_summary":"Termin gebucht","user_sentiment":"Positive","call_successful":true,"custom_analysis_data":{"x":1}}}}`,
	`{"event":"transfer_started","transfer_destination":{"number":"+4930999"},"transfer_option":{},"call":{` + okCall + `}}`,
	`{"event":"call_started","call":{"call_id":"c","call_type":"web_call","metadata":null}}`,
	`{"event":"unknown_future","call":5}`,
	`{"event":"call_started","call":{"call_id":"c","to_number":"+4930123456","from_number":"anonymous"}}`,
	`[]`, `{`, ``, `null`, `{"event":null}`,
}

var inboundSeeds = []string{
	inboundSample,
	`{"event":"call_inbound","call_inbound":{"from_number":"","to_number":"+4930123456"}}`,
	`{"event":"chat_inbound","chat_inbound":{"from_number":"+4930123456"}}`,
	`{"event":"call_inbound","event_timestamp":1,"call_inbound":{}}`,
	`{}`, `"x"`,
}

var functionSeeds = []string{
	`{"name":"book_appointment_v3","call":{` + okCall + `},"args":{"service":"Färben","date":"übermorgen","time":"halb drei","customer_name":"Jörg Müller"}}`,
	`{"name":"find_appointments","call":{` + okCall + `},"args":{}}`,
	`{"service":"Haarschnitt","date":"2027-03-15","time":14}`,
	`{}`, `{"args":null}`, `{"call":{}}`, `{"name":"","args":[]}`,
}

// checkErr asserts the error contract shared by all decoders.
func checkErr(t *testing.T, err error) {
	t.Helper()
	k := booking.KindOf(err)
	if k != booking.KindInvalid && k != booking.KindTooLarge {
		t.Fatalf("error of kind %q: %v", k, err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, `"+@{`) || len(msg) > 200 {
		t.Fatalf("error message may echo input: %q", msg)
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range webhookSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decoderAt.ParseWebhook(body)
		if err != nil {
			checkErr(t, err)
			return
		}
		if !ev.Known() {
			return
		}
		if ev.Call.CallID == "" || (ev.Call.ToNumber != "" && !IsE164(ev.Call.ToNumber)) {
			t.Fatalf("accepted an invalid call: %+v", ev.Call)
		}
		// What we accepted, re-encoded, is accepted again unchanged.
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		ev2, err := decoderAt.ParseWebhook(again)
		if err != nil {
			t.Fatalf("re-parse of accepted event failed: %v", err)
		}
		b2, _ := json.Marshal(ev2)
		if string(b2) != string(again) {
			t.Fatalf("parse is not stable:\n%s\n%s", again, b2)
		}
	})
}

func FuzzParseInbound(f *testing.F) {
	for _, s := range inboundSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decoderAt.ParseInbound(body)
		if err != nil {
			checkErr(t, err)
			return
		}
		if ev.Known() && !IsE164(ev.CallInbound.ToNumber) {
			t.Fatalf("accepted to_number that is not E.164")
		}
		if ev.Known() && !IsE164(ev.CallInbound.FromNumber) && !ev.CallInbound.Anonymous() {
			t.Fatalf("accepted from_number that is neither E.164 nor anonymous")
		}
	})
}

func FuzzParseFunctionCall(f *testing.F) {
	for _, s := range functionSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fc, err := decoderAt.ParseFunctionCall(body)
		if err != nil {
			checkErr(t, err)
			return
		}
		var args map[string]json.RawMessage
		if json.Unmarshal(fc.Args, &args) != nil || !isObject(fc.Args) {
			t.Fatalf("args are not an object: %q", fc.Args)
		}
		if fc.Call != nil && fc.Call.CallID == "" {
			t.Fatal("call without call_id accepted")
		}
		if fc.ArgsOnly && (fc.Call != nil || fc.Name != "") {
			t.Fatal("args-only body with call or name")
		}
		if fc.Name != "" && (!validToolName(fc.Name) || !strings.HasPrefix(fc.RawName, fc.Name)) {
			t.Fatalf("bad name %q", fc.Name)
		}
		if _, err := fc.StringArgs(); err != nil {
			checkErr(t, err)
		}
	})
}
