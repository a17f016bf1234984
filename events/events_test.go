package events_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/events"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/testenv"
)

// typeOf says which aws-lambda-go type a fixture is.
func typeOf(name string) any {
	switch {
	case strings.HasPrefix(name, "sqs_"):
		return &lambdaevents.SQSEvent{}
	case strings.HasPrefix(name, "schedule_"):
		return &lambdaevents.EventBridgeEvent{}
	case strings.HasPrefix(name, "codedeploy_"):
		return &events.CodeDeployHookEvent{}
	}
	return &lambdaevents.APIGatewayProxyRequest{}
}

// Every fixture decodes strictly into its aws-lambda-go type and re-encodes
// without losing a field or changing a value.
func TestFixturesRoundTrip(t *testing.T) {
	names := events.Names()
	if len(names) < 7 {
		t.Fatalf("only %d fixtures", len(names))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			raw, err := events.Raw(name)
			if err != nil {
				t.Fatal(err)
			}
			v := typeOf(name)
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("does not decode into %T: %v", v, err)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var orig, back any
			if err := json.Unmarshal(raw, &orig); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &back); err != nil {
				t.Fatal(err)
			}
			if path, ok := subset(orig, back, ""); !ok {
				t.Fatalf("round trip lost or changed %s", path)
			}
		})
	}
}

// subset reports whether every value of a is present and equal in b.
func subset(a, b any, path string) (string, bool) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path, false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := subset(x, y, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return path, false
		}
		for i := range av {
			if p, ok := subset(av[i], bv[i], path+"[]"); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(a, b)
}

// Signed fixtures verify with the fixture key at the fixture time, their
// bodies pass our decoders, and the SQS job body is what the queue expects.
func TestFixturesContent(t *testing.T) {
	v := retell.Verifier{Keys: []string{events.TestAPIKey}, Clock: booking.FixedClock(events.TestTime())}
	dec := retell.Decoder{Clock: booking.FixedClock(events.TestTime())}
	for _, name := range events.Names() {
		if _, ok := typeOf(name).(*lambdaevents.APIGatewayProxyRequest); !ok {
			continue
		}
		req, err := events.Proxy(name)
		if err != nil {
			t.Fatal(err)
		}
		body, err := events.Body(req)
		if err != nil {
			t.Fatal(err)
		}
		sig := retell.SignatureFrom(req.Headers)
		switch {
		case strings.HasPrefix(req.Path, "/webhooks/retell/"), strings.HasPrefix(req.Path, "/functions/"):
			if err := v.Verify(body, sig); err != nil {
				t.Errorf("%s: signature: %v", name, err)
			}
			if req.RequestContext.HTTPMethod != req.HTTPMethod || req.RequestContext.ResourcePath != req.Path {
				t.Errorf("%s: request context does not match", name)
			}
		default:
			if sig != "" {
				t.Errorf("%s: unexpected signature", name)
			}
		}
		switch req.Path {
		case "/webhooks/retell/inbound":
			ev, err := dec.ParseInbound(body)
			if err != nil || !ev.Known() {
				t.Errorf("%s: %v", name, err)
			}
		case "/webhooks/retell/events":
			ev, err := dec.ParseWebhook(body)
			if err != nil || !ev.Known() || ev.Call.CallCost == nil {
				t.Errorf("%s: %v", name, err)
			}
			if !req.IsBase64Encoded {
				t.Errorf("%s: expected a base64 body", name)
			}
		case "/functions/check-availability", "/functions/list-services":
			fc, err := dec.ParseFunctionCall(body)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// The envelope carries the call; an args-only body names it in headers.
			ref := retell.CallRef{}
			if fc.Call != nil {
				ref = retell.CallRef{CallID: fc.Call.CallID, ToNumber: fc.Call.ToNumber}
			} else if ref, err = retell.CallRefFrom(retell.HeaderGetter(req.Headers), req.QueryStringParameters); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if ref.CallID != "call_fixture_0001" || ref.ToNumber != branchNumber {
				t.Errorf("%s: call %+v", name, ref)
			}
		case "/health":
			if req.HTTPMethod != "GET" || req.Body != "" {
				t.Errorf("%s: not a bodiless GET", name)
			}
		default:
			t.Errorf("%s: no content check for path %s", name, req.Path)
		}
	}
	var sqs lambdaevents.SQSEvent
	if err := events.Load("sqs_job", &sqs); err != nil || len(sqs.Records) != 1 {
		t.Fatalf("sqs: %v", err)
	}
	var job struct {
		V    int    `json:"v"`
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(sqs.Records[0].Body), &job); err != nil || job.V != 1 || job.ID == "" || job.Type != "availability.prefetch" {
		t.Fatalf("sqs job body: %+v %v", job, err)
	}
}

func TestProxyEvent(t *testing.T) {
	body := []byte("{\"a\":\"Grüße\"}\n")
	for _, b64 := range []bool{false, true} {
		req := events.ProxyEvent("POST", "/functions/find-appointments?call_id=c1&to_number=%2B493012345670&x=1&x=2", map[string]string{"x-retell-signature": "v=1,d=00"}, body, b64)
		raw, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var back lambdaevents.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		got, err := events.Body(back)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("b64=%v body %q %v", b64, got, err)
		}
		if back.IsBase64Encoded != b64 || (b64 && back.Body == string(body)) {
			t.Fatalf("b64=%v not encoded as asked", b64)
		}
		if back.Path != "/functions/find-appointments" || back.QueryStringParameters["to_number"] != "+493012345670" ||
			back.QueryStringParameters["x"] != "2" || len(back.MultiValueQueryStringParameters["x"]) != 2 {
			t.Fatalf("path/query: %s %v", back.Path, back.QueryStringParameters)
		}
		if retell.SignatureFrom(back.Headers) != "v=1,d=00" || back.Headers["Content-Type"] != "application/json" ||
			back.MultiValueHeaders["x-retell-signature"][0] != "v=1,d=00" {
			t.Fatalf("headers: %v", back.Headers)
		}
	}
	if _, err := events.Body(lambdaevents.APIGatewayProxyRequest{Body: "%%%", IsBase64Encoded: true}); err == nil {
		t.Fatal("bad base64 accepted")
	}
	a := events.ProxyEvent("GET", "/health", nil, nil, false)
	b := events.ProxyEvent("GET", "/health", nil, nil, false)
	if a.RequestContext.RequestID == b.RequestContext.RequestID {
		t.Fatal("request ids repeat")
	}
	if _, ok := a.Headers["Content-Type"]; ok {
		t.Fatal("content type added to a bodiless request")
	}
}

// Each sample body of testdata/contracts (the files exactly as published, never
// rewritten) wrapped in a proxy event arrives byte for byte, plain and
// base64, and its known-answer signature still verifies.
func TestWrapSharedSamples(t *testing.T) {
	dir := testenv.ContractsDir(t)
	retellSigs := map[string]string{
		"call_started.json":                     "v=1772460312345,d=e6cd146e2e9d66f7660eb39f984f6e528f13399426bf6be59366e248a9f4ad8f",
		"call_ended.json":                       "v=1772460312345,d=863c7aedafa4690bd854c32f567d835728fb08fc8519dca17285cae432a99fd6",
		"call_analyzed.json":                    "v=1772460312345,d=f9fbc63c352deb9dc76ae95df3a9be80f8635fb8b41b8ff508508db25fd8e215",
		"custom_function_book_appointment.json": "v=1772460312345,d=5a9a0ae1e7ca75302b0df6222d8a562d394cca58d40b7bb5efbfdd7f1db848bf",
	}
	calcomSigs := map[string]string{
		"booking_created.json":   "7ccc6b83f9341b3a462bfa2cc24771d9c9ef5c2555ba9850377e1976035b5c8b",
		"booking_cancelled.json": "13f294bca22e0bd512846738eab8e72140b9c088be68658996c95f27f12974c2",
		"ping.json":              "e83ed9a9100ef524d858d49c7c5146ebd0bc46f11a4751f7bd3fe1bd1a625f95",
	}
	rv := retell.Verifier{Keys: []string{"test_webhook_key_123"}, Clock: booking.FixedClock(time.UnixMilli(1772460312345))}
	count := 0
	for sub, sigs := range map[string]map[string]string{"retell": retellSigs, "calcom": calcomSigs} {
		files, err := filepath.Glob(filepath.Join(dir, sub, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no samples in %s", sub)
		}
		for _, f := range files {
			base := filepath.Base(f)
			want, ok := sigs[base]
			if !ok {
				t.Errorf("sample %s/%s has no known signature in this test", sub, base)
				continue
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, b64 := range []bool{false, true} {
				var req lambdaevents.APIGatewayProxyRequest
				if sub == "retell" {
					p := "/webhooks/retell/events"
					if strings.HasPrefix(base, "custom_function") {
						p = "/functions/book-appointment"
					}
					req = events.ProxyEvent("POST", p, map[string]string{"x-retell-signature": want}, body, b64)
				} else {
					req = events.ProxyEvent("POST", "/webhooks/calcom", map[string]string{"X-Cal-Signature-256": want}, body, b64)
				}
				raw, _ := json.Marshal(req)
				var back lambdaevents.APIGatewayProxyRequest
				if err := json.Unmarshal(raw, &back); err != nil {
					t.Fatal(err)
				}
				got, err := events.Body(back)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("%s b64=%v: body changed in transit", base, b64)
				}
				if sub == "retell" {
					if err := rv.Verify(got, retell.SignatureFrom(back.Headers)); err != nil {
						t.Errorf("%s b64=%v: %v", base, b64, err)
					}
				} else {
					m := hmac.New(sha256.New, []byte("whsec_test_calcom_123"))
					m.Write(got)
					if hex.EncodeToString(m.Sum(nil)) != retell.HeaderGetter(back.Headers)("x-cal-signature-256") {
						t.Errorf("%s b64=%v: Cal.com signature no longer matches", base, b64)
					}
				}
				count++
			}
		}
	}
	if count != 2*(len(retellSigs)+len(calcomSigs)) {
		t.Fatalf("wrapped %d sample events, want %d", count, 2*(len(retellSigs)+len(calcomSigs)))
	}
}
