package events_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/events"
	"github.com/telefonagent/gateway/shared/retell"
)

var update = flag.Bool("update", false, "rewrite the events/*.json fixtures from fixtureSpecs")

// Our own example bodies (fictional numbers and people). The fixtures are
// generated from these, so signatures and bodies always agree:
//
//	go test ./events -run TestFixturesUpToDate -update
const (
	callerNumber = "+4915112345678"
	branchNumber = "+493012345670"
	callStartMS  = events.TestTimestamp - 60_000
)

func fixtureCall() map[string]any {
	return map[string]any{
		"call_type": "phone_call", "call_id": "call_fixture_0001", "agent_id": "agent_fixture_0001", "agent_version": 2,
		"call_status": "ongoing", "direction": "inbound", "from_number": callerNumber, "to_number": branchNumber,
		"start_timestamp":              callStartMS,
		"metadata":                     map[string]any{"tenant_id": "salon-sonnenschein", "branch_id": "mitte"},
		"retell_llm_dynamic_variables": map[string]string{"business_name": "Salon Sonnenschein", "caller_known": "false"},
		"transcript":                   "Agent: Salon Sonnenschein, guten Tag!\nUser: Hallo, ich hätte gern morgen um halb drei einen Herrenhaarschnitt.\n",
	}
}

type fixtureSpec struct {
	name  string
	build func(t *testing.T) any
}

func signedProxy(method, path string, extra map[string]string, body []byte, b64 bool) lambdaevents.APIGatewayProxyRequest {
	h := map[string]string{"X-Retell-Signature": retell.Sign(body, events.TestAPIKey, events.TestTimestamp), "User-Agent": "axios/1.7.7"}
	for k, v := range extra {
		h[k] = v
	}
	return events.ProxyEvent(method, path, h, body, b64)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var fixtureSpecs = []fixtureSpec{
	{"retell_inbound", func(t *testing.T) any {
		body := mustJSON(t, map[string]any{"event": "call_inbound", "event_timestamp": events.TestTimestamp,
			"call_inbound": map[string]any{"agent_id": "agent_fixture_0001", "agent_version": 2, "from_number": callerNumber, "to_number": branchNumber}})
		return signedProxy("POST", "/webhooks/retell/inbound", nil, body, false)
	}},
	{"retell_inbound_anonymous", func(t *testing.T) any {
		body := mustJSON(t, map[string]any{"event": "call_inbound", "event_timestamp": events.TestTimestamp,
			"call_inbound": map[string]any{"from_number": "anonymous", "to_number": branchNumber}})
		return signedProxy("POST", "/webhooks/retell/inbound", nil, body, false)
	}},
	{"retell_call_ended_base64", func(t *testing.T) any {
		c := fixtureCall()
		c["call_status"], c["end_timestamp"], c["duration_ms"], c["disconnection_reason"] = "ended", events.TestTimestamp, 60_000, "user_hangup"
		c["call_cost"] = map[string]any{"combined_cost": 14.5, "product_costs": []any{map[string]any{"product": "retell_platform", "cost": 14.5}}, "total_duration_seconds": 60}
		body := mustJSON(t, map[string]any{"event": "call_ended", "call": c})
		return signedProxy("POST", "/webhooks/retell/events", nil, body, true)
	}},
	{"function_check_availability", func(t *testing.T) any {
		body := mustJSON(t, map[string]any{"name": "check_availability", "call": fixtureCall(),
			"args": map[string]string{"service": "Herrenhaarschnitt", "date": "morgen", "time": "halb drei"}})
		return signedProxy("POST", "/functions/check-availability", nil, body, false)
	}},
	{"function_args_only", func(t *testing.T) any {
		body := mustJSON(t, map[string]string{"category": "Herren"})
		return signedProxy("POST", "/functions/list-services", map[string]string{
			"X-Retell-Call-Id": "call_fixture_0001", "X-Retell-To-Number": branchNumber,
		}, body, false)
	}},
	{"health_get", func(t *testing.T) any {
		return events.ProxyEvent("GET", "/health", map[string]string{"Accept": "application/json"}, nil, false)
	}},
	{"sqs_job", func(t *testing.T) any {
		job := mustJSON(t, map[string]any{"v": 1, "id": "job_fixture_0001", "type": "availability.prefetch", "tenant_id": "salon-sonnenschein",
			"attempt": 0, "payload": map[string]string{"branch_id": "mitte"}, "created_at": events.TestTime().Format(time.RFC3339)})
		sum := md5.Sum(job)
		return lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{
			MessageId: "5f0b6c1e-0000-4000-8000-000000000001", ReceiptHandle: "AQEBfixture==", Body: string(job),
			Md5OfBody: hex.EncodeToString(sum[:]),
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1803888000000",
				"SenderId": "AIDAFIXTURE", "ApproximateFirstReceiveTimestamp": "1803888000100"},
			MessageAttributes: map[string]lambdaevents.SQSMessageAttribute{"type": {StringValue: ptr("availability.prefetch"), DataType: "String"}},
			EventSourceARN:    "arn:aws:sqs:eu-central-1:123456789012:gateway-retry", EventSource: "aws:sqs", AWSRegion: "eu-central-1",
		}}}
	}},
	{"schedule_retention", func(t *testing.T) any {
		return lambdaevents.EventBridgeEvent{Version: "0", ID: "f1a2b3c4-0000-4000-8000-000000000002", DetailType: "Scheduled Event",
			Source: "aws.events", AccountID: "123456789012", Time: time.Date(2027, 3, 1, 3, 15, 0, 0, time.UTC), Region: "eu-central-1",
			Resources: []string{"arn:aws:events:eu-central-1:123456789012:rule/gateway-retention"}, Detail: json.RawMessage(`{}`)}
	}},
	{"codedeploy_hook", func(t *testing.T) any {
		return events.CodeDeployHookEvent{DeploymentID: "d-FIXTURE01", LifecycleEventHookExecutionID: "eyJ2ZXJzaW9uIjoiMSJ9fixture"}
	}},
}

func ptr[T any](v T) *T { return &v }

func render(t *testing.T, v any) []byte {
	t.Helper()
	// Pin the request ids so regeneration is deterministic.
	if r, ok := v.(lambdaevents.APIGatewayProxyRequest); ok {
		r.RequestContext.RequestID = "fixture-request"
		v = r
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// The committed fixtures are exactly what fixtureSpecs generates.
func TestFixturesUpToDate(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range fixtureSpecs {
		seen[s.name] = true
		want := render(t, s.build(t))
		if *update {
			if err := os.WriteFile(s.name+".json", want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := events.Raw(s.name)
		if err != nil {
			t.Fatalf("%v (run: go test ./events -run TestFixturesUpToDate -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.json is out of date (run: go test ./events -run TestFixturesUpToDate -update)", s.name)
		}
	}
	if *update {
		return
	}
	for _, n := range events.Names() {
		if !seen[n] {
			t.Errorf("fixture %s.json has no spec", n)
		}
	}
}
