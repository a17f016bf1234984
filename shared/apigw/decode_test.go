package apigw

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

type bookArgs struct {
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	Phone   string    `json:"phone"`
	Count   int       `json:"count"`
	Nested  struct {
		Minutes int `json:"minutes"`
	} `json:"nested"`
	Policy policyValue `json:"policy"`
}

type policyValue string

func (p *policyValue) UnmarshalJSON(b []byte) error {
	if string(b) != `"strict"` && string(b) != `"lenient"` && string(b) != `""` {
		return booking.Errorf(booking.KindInvalid, "policy", "policy must be strict or lenient")
	}
	*p = policyValue(strings.Trim(string(b), `"`))
	return nil
}

func TestDecodeStrict(t *testing.T) {
	cases := []struct {
		name, body string
		ok         bool
		msg        string // part of the message
		lenientOK  bool
	}{
		{"valid", `{"service":"Färben","count":2,"nested":{"minutes":30}}`, true, "", true},
		{"trailing spaces", "{\"service\":\"x\"}\n  \t", true, "", true},
		{"empty", "", false, "empty", false},
		{"only spaces", "   ", false, "empty", false},
		{"unknown field", `{"service":"x","colour":"rot"}`, false, `unknown field "colour"`, true},
		{"unknown nested field", `{"nested":{"minutes":1,"hours":2}}`, false, `unknown field "hours"`, true},
		{"unknown field holding a phone number as name", `{"+4930123456":1}`, false, "unknown field", true},
		{"trailing object", `{"service":"x"}{"service":"y"}`, false, "after the JSON value", false},
		{"trailing garbage", `{"service":"x"} x`, false, "after the JSON value", false},
		{"not JSON", `service=x`, false, "invalid JSON at offset", false},
		{"truncated", `{"service":"x"`, false, "ends too early", false},
		{"array for object", `[1,2]`, false, "must be an object, not a JSON array", false},
		{"string for number", `{"count":"2"}`, false, `field "count" must be a whole number, not a JSON string`, false},
		{"nested type", `{"nested":{"minutes":"halb"}}`, false, `field "nested.minutes" must be a whole number`, false},
		{"number overflow echoes nothing", `{"count":4930123456789012345678}`, false, `field "count"`, false},
		{"phone number as number in string field", `{"phone":4930123456}`, false, `field "phone" must be a string, not a JSON number`, false},
		{"bad time keeps value out", `{"start":"morgen um 0171 1234567"}`, false, "invalid value", false},
		{"own UnmarshalJSON message", `{"policy":"loose"}`, false, "policy must be strict or lenient", false},
		{"null", `null`, true, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, strict := range []bool{true, false} {
				var v bookArgs
				var err error
				wantOK := c.ok
				if strict {
					err = DecodeStrict([]byte(c.body), &v)
				} else {
					err = DecodeLenient([]byte(c.body), &v)
					wantOK = c.lenientOK || c.ok
				}
				if wantOK {
					if err != nil {
						t.Fatalf("strict=%v: %v", strict, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("strict=%v: accepted %q", strict, c.body)
				}
				if booking.KindOf(err) != booking.KindInvalid {
					t.Fatalf("strict=%v: kind %s: %v", strict, booking.KindOf(err), err)
				}
				msg := booking.MessageOf(err)
				if c.msg != "" && strict && !strings.Contains(msg, c.msg) {
					t.Fatalf("message %q does not contain %q", msg, c.msg)
				}
				for _, leak := range []string{"4930123456", "0171", "1234567", "morgen", "loose"} {
					if strings.Contains(msg, leak) {
						t.Fatalf("message %q echoes input %q", msg, leak)
					}
				}
			}
		})
	}
	var v bookArgs
	if err := DecodeStrict([]byte(`{}`), v); booking.KindOf(err) != booking.KindInternal {
		t.Fatalf("non-pointer target is a bug: %v", err)
	}
}

// Fuzz: any input either decodes or fails as KindInvalid with a short
// message that never echoes the input; decoded values re-encode and decode
// to the same value.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"service":"x","count":1}`, `{"nested":{"minutes":2}}`, `{"policy":"strict"}`, `[]`, `{"a":1}`,
		`{"count":1e3}`, `{"service":"\u00e4"}`, `{} {}`, `"x"`, ``, `{"start":"2026-11-05T10:00:00Z"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v bookArgs
		err := DecodeStrict(body, &v)
		if err != nil {
			var be *booking.Error
			if !errors.As(err, &be) || be.Kind != booking.KindInvalid {
				t.Fatalf("error of wrong kind: %v", err)
			}
			if len(be.Message) > 200 {
				t.Fatalf("message too long: %q", be.Message)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		var w bookArgs
		if err := DecodeStrict(again, &w); err != nil {
			t.Fatalf("re-encoded value does not decode: %v (%s)", err, again)
		}
		if !w.Start.Equal(v.Start) {
			t.Fatal("start changed")
		}
		w.Start, v.Start = time.Time{}, time.Time{}
		if w != v {
			t.Fatalf("round trip changed value: %+v != %+v", w, v)
		}
	})
}
