// Package events holds the Lambda trigger events the tests, the dev
// gateway and deploy-check feed to the functions: API Gateway REST proxy
// events (v1) built by ProxyEvent, and the JSON fixtures in this folder
// (our own example bodies; the contract samples stay in testdata/contracts — tests wrap
// those samples at run time with ProxyEvent).
//
// Fixtures that carry X-Retell-Signature are signed with TestAPIKey at
// TestTimestamp; verify them with a clock pinned to TestTime().
package events

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// TestAPIKey is the Retell API key the fixtures are signed with.
const TestAPIKey = "events_fixture_retell_key"

// TestTimestamp (Unix ms) is when the fixtures were "sent":
// Monday, 1 March 2027, 09:00 in Berlin.
const TestTimestamp int64 = 1803888000000

// TestTime is TestTimestamp as a time.
func TestTime() time.Time { return time.UnixMilli(TestTimestamp).UTC() }

//go:embed *.json
var fixtures embed.FS

// Names lists the fixtures (file names without .json), sorted.
func Names() []string {
	entries, _ := fixtures.ReadDir(".")
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	sort.Strings(out)
	return out
}

// Raw returns a fixture's bytes.
func Raw(name string) ([]byte, error) {
	b, err := fixtures.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("events: no fixture %q", name)
	}
	return b, nil
}

// Load decodes fixture name into v (e.g. *events.APIGatewayProxyRequest).
func Load(name string, v any) error {
	b, err := Raw(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("events: fixture %s: %w", name, err)
	}
	return nil
}

// Proxy loads an API Gateway proxy fixture.
func Proxy(name string) (lambdaevents.APIGatewayProxyRequest, error) {
	var r lambdaevents.APIGatewayProxyRequest
	return r, Load(name, &r)
}

// CodeDeployHookEvent is what CodeDeploy passes to a Lambda lifecycle hook
// (BeforeAllowTraffic); aws-lambda-go has no type for it.
type CodeDeployHookEvent struct {
	DeploymentID                  string `json:"DeploymentId"`
	LifecycleEventHookExecutionID string `json:"LifecycleEventHookExecutionId"`
}

var requestSeq atomic.Int64

// ProxyEvent builds the API Gateway REST (v1) proxy event that a request
// with this method, path (an optional ?query is split into the query
// parameters), headers and raw body produces. With base64 the body is
// carried base64-encoded and IsBase64Encoded is set, as API Gateway does
// for binary media types; handlers must decode it before verifying a
// signature. Headers are kept as given (names not canonicalised, as API
// Gateway passes them) and mirrored into MultiValueHeaders; a JSON
// Content-Type is added for a non-empty body without one.
func ProxyEvent(method, rawPath string, headers map[string]string, body []byte, base64Body bool) lambdaevents.APIGatewayProxyRequest {
	p, rawQuery, _ := strings.Cut(rawPath, "?")
	h := make(map[string]string, len(headers)+1)
	for k, v := range headers {
		h[k] = v
	}
	if len(body) > 0 && !hasHeader(h, "Content-Type") {
		h["Content-Type"] = "application/json"
	}
	mvh := make(map[string][]string, len(h))
	for k, v := range h {
		mvh[k] = []string{v}
	}
	var qs map[string]string
	var mvqs map[string][]string
	if rawQuery != "" {
		if q, err := url.ParseQuery(rawQuery); err == nil && len(q) > 0 {
			qs, mvqs = map[string]string{}, map[string][]string{}
			for k, vs := range q {
				qs[k] = vs[len(vs)-1] // API Gateway keeps the last value
				mvqs[k] = vs
			}
		}
	}
	req := lambdaevents.APIGatewayProxyRequest{
		Resource:                        p,
		Path:                            p,
		HTTPMethod:                      method,
		Headers:                         h,
		MultiValueHeaders:               mvh,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mvqs,
		RequestContext: lambdaevents.APIGatewayProxyRequestContext{
			AccountID:    "123456789012",
			ResourceID:   "test",
			Stage:        "test",
			DomainName:   "api.example.test",
			DomainPrefix: "api",
			RequestID:    fmt.Sprintf("test-request-%06d", requestSeq.Add(1)),
			Protocol:     "HTTP/1.1",
			Identity:     lambdaevents.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "events.ProxyEvent"},
			ResourcePath: p,
			Path:         path.Join("/test", p),
			HTTPMethod:   method,
			APIID:        "testapi",
		},
		Body:            string(body),
		IsBase64Encoded: base64Body,
	}
	if base64Body {
		req.Body = base64.StdEncoding.EncodeToString(body)
	}
	return req
}

// Body returns the raw body bytes of a proxy event (base64-decoded when
// IsBase64Encoded): the bytes a signature is computed over.
func Body(req lambdaevents.APIGatewayProxyRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fmt.Errorf("events: body is not valid base64")
	}
	return b, nil
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
