// Package spectest validates Cal.com API traffic against the official
// OpenAPI spec (testdata/contracts/calcom-v2-openapi.json) with
// kin-openapi. Only tests import it.
//
// The saved spec has documented defects (NOTES §B2, §B4); they are patched
// in memory, each in one place below, and everything else is checked as
// written:
//   - request bodies: top-level oneOf → anyOf, exactly what
//     shared/contracts/prism-patch-openapi.mjs does (a regular booking
//     matches CreateBookingInput and CreateRecurringBookingInput, which lack
//     additionalProperties:false);
//   - booking responses: the data oneOf has the same defect (a regular
//     booking matches BookingOutput and GetSeatedBookingOutput), so it
//     becomes anyOf too — and to stay strict, data is additionally validated
//     against BookingOutput_2024_08_13 alone (the only shape we use);
//   - GET /v2/bookings status: comma-separated (explode=false), as the
//     spec's own example and Cal.com's parser have it;
//   - GET /v2/slots: the response schema lacks the {status, data} wrapper
//     and its "time" branch declares string items while the real items are
//     {start} objects; the body is checked for the wrapper and data is
//     validated against the schema as written (the range branch matches).
package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/telefonagent/gateway/shared/testenv"
)

// Spec is the loaded, patched document with its router.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

var (
	once    sync.Once
	loaded  *Spec
	loadErr error
)

// SpecPath is where the spec lives below testdata/contracts.
const SpecPath = "/calcom-v2-openapi.json"

// Load reads and patches the spec once per test binary.
func Load(t testing.TB) *Spec {
	t.Helper()
	path := testenv.ContractsDir(t) + SpecPath
	once.Do(func() { loaded, loadErr = load(path) })
	if loadErr != nil {
		t.Fatalf("loading the Cal.com spec %s: %v", path, loadErr)
	}
	return loaded
}

// UsedPaths are the Cal.com paths the gateway calls.
var UsedPaths = []string{"/v2/slots", "/v2/bookings", "/v2/bookings/{bookingUid}", "/v2/bookings/{bookingUid}/cancel", "/v2/bookings/{bookingUid}/reschedule"}

// bookingOutputs hold the response data oneOf that needs the anyOf patch.
var bookingOutputs = []string{
	"CreateBookingOutput_2024_08_13", "GetBookingOutput_2024_08_13", "CancelBookingOutput_2024_08_13",
	"RescheduleBookingOutput_2024_08_13", "GetBookingsOutput_2024_08_13",
}

func load(path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	patched := 0
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, media := range op.RequestBody.Value.Content {
				if s := media.Schema; s != nil && s.Value != nil && len(s.Value.OneOf) > 0 {
					s.Value.AnyOf, s.Value.OneOf = s.Value.OneOf, nil
					patched++
				}
			}
		}
	}
	if patched != 4 { // the patch script reports exactly 4 (NOTES §B4)
		return nil, fmt.Errorf("expected 4 request-body oneOf to patch, found %d: has the spec changed?", patched)
	}
	// GET /v2/bookings?status: the spec declares an array with the default
	// form/explode=true style (status=a&status=b), but its own example and
	// Cal.com's input parser use one comma-separated value
	// (?status=upcoming,past). Declare explode=false, which means exactly that.
	statusParam := doc.Paths.Value("/v2/bookings").Get.Parameters.GetByInAndName("query", "status")
	if statusParam == nil {
		return nil, fmt.Errorf("GET /v2/bookings has no status parameter: has the spec changed?")
	}
	no := false
	statusParam.Style, statusParam.Explode = "form", &no
	for _, name := range bookingOutputs {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil || ref.Value.Properties["data"] == nil {
			return nil, fmt.Errorf("schema %s missing", name)
		}
		data := ref.Value.Properties["data"].Value
		if data.Items != nil { // list: data is an array of oneOf
			data = data.Items.Value
		}
		if len(data.OneOf) == 0 {
			return nil, fmt.Errorf("schema %s: data has no oneOf to patch: has the spec changed?", name)
		}
		data.AnyOf, data.OneOf = data.OneOf, nil
	}
	// The router validates the whole document first, and paths we never
	// call have their own defects (e.g. a team event-type path missing a
	// path parameter). Route only the paths the gateway uses; their
	// operations and every component stay as published.
	used := openapi3.NewPaths()
	for _, p := range UsedPaths {
		item := doc.Paths.Value(p)
		if item == nil {
			return nil, fmt.Errorf("path %s missing from the spec", p)
		}
		used.Set(p, item)
	}
	doc.Paths = used
	// Defaults are not validated: unrelated component schemas carry
	// defaults of the wrong type ("default": false on type object).
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation())
	if err != nil {
		return nil, err
	}
	return &Spec{Doc: doc, router: router}, nil
}

// Schema returns a component schema by name.
func (s *Spec) Schema(name string) *openapi3.Schema {
	ref := s.Doc.Components.Schemas[name]
	if ref == nil {
		return nil
	}
	return ref.Value
}

// Exchange is one validated request/response pair.
type Exchange struct {
	OperationID string
	Status      int
}

// Recorder validates every exchange that passes through its transport and
// remembers what it saw, so tests can assert coverage.
type Recorder struct {
	spec *Spec
	t    testing.TB
	base http.RoundTripper

	mu   sync.Mutex
	seen []Exchange
}

// Transport returns a RoundTripper that validates requests and responses.
// Violations fail the test (t.Errorf is safe from any goroutine).
func (s *Spec) Transport(t testing.TB, base http.RoundTripper) *Recorder {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Recorder{spec: s, t: t, base: base}
}

// Seen returns the exchanges validated so far.
func (r *Recorder) Seen() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.seen...)
}

// Count returns how many responses with the given operation and status were validated.
func (r *Recorder) Count(operationID string, status int) int {
	n := 0
	for _, e := range r.Seen() {
		if e.OperationID == operationID && e.Status == status {
			n++
		}
	}
	return n
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	route, params, err := r.spec.router.FindRoute(req)
	if err != nil {
		r.t.Errorf("spec: %s %s is not in the Cal.com spec: %v", req.Method, req.URL.Path, err)
		return r.base.RoundTrip(req)
	}
	opID := route.Operation.OperationID
	in := &openapi3filter.RequestValidationInput{
		Request: cloneWithBody(req, reqBody), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		r.t.Errorf("spec: request %s (%s) violates the spec: %v", opID, req.URL.RequestURI(), err)
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil // a cut-off answer is the client's business (unknown outcome tests)
	}
	r.checkResponse(opID, in, resp, body)
	r.mu.Lock()
	r.seen = append(r.seen, Exchange{OperationID: opID, Status: resp.StatusCode})
	r.mu.Unlock()
	return resp, nil
}

func cloneWithBody(req *http.Request, body []byte) *http.Request {
	c := req.Clone(context.Background())
	if body != nil {
		c.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c
}

const slotsOp = "SlotsController_2024_09_04_getAvailableSlots"

func (r *Recorder) checkResponse(opID string, in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	if resp.StatusCode >= 300 {
		// The spec documents no error answers; check Cal.com's envelope (NOTES §B1).
		if err := CheckErrorEnvelope(body); err != nil {
			r.t.Errorf("spec: %s answered %d without Cal.com's error envelope: %v", opID, resp.StatusCode, err)
		}
		return
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: opID == slotsOp},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		r.t.Errorf("spec: response of %s (%d) violates the spec: %v", opID, resp.StatusCode, err)
	}
	if opID == slotsOp {
		if err := r.spec.CheckSlotsBody(in.Route.Operation, resp.StatusCode, body); err != nil {
			r.t.Errorf("spec: slots response: %v", err)
		}
		return
	}
	if strings.HasPrefix(opID, "BookingsController_2024_08_13_") {
		if err := r.spec.CheckBookingData(body); err != nil {
			r.t.Errorf("spec: %s data is not a plain BookingOutput_2024_08_13: %v", opID, err)
		}
	}
}

// CheckSlotsBody validates a slots answer: the {status:"success", data}
// wrapper the spec forgot, and data against the documented schema.
func (s *Spec) CheckSlotsBody(op *openapi3.Operation, status int, body []byte) error {
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Status != "success" || env.Data == nil {
		return fmt.Errorf("no {status:\"success\", data} wrapper")
	}
	var data any
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return err
	}
	if m, ok := data.(map[string]any); ok && len(m) == 0 {
		return nil // "If no slots are available, the data field will be an empty object {}"; {} matches both oneOf branches
	}
	schema := op.Responses.Status(status).Value.Content.Get("application/json").Schema.Value
	return schema.VisitJSON(data)
}

// CheckBookingData validates data (or each item of a list) against
// BookingOutput_2024_08_13 alone.
func (s *Spec) CheckBookingData(body []byte) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	var data any
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return err
	}
	items, isList := data.([]any)
	if !isList {
		items = []any{data}
	}
	schema := s.Schema("BookingOutput_2024_08_13")
	for _, it := range items {
		if err := schema.VisitJSON(it, openapi3.MultiErrors()); err != nil {
			return err
		}
	}
	return nil
}

// CheckErrorEnvelope checks Cal.com's error body:
// {"status":"error","timestamp","path","error":{"code","message"}}.
// Prism answers problem+json instead; callers that talk to Prism skip it.
func CheckErrorEnvelope(body []byte) error {
	var env struct {
		Status    string `json:"status"`
		Timestamp string `json:"timestamp"`
		Path      string `json:"path"`
		Error     *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	switch {
	case env.Status != "error":
		return fmt.Errorf("status %q", env.Status)
	case env.Timestamp == "" || env.Path == "":
		return fmt.Errorf("timestamp or path missing")
	case env.Error == nil || env.Error.Code == "" || env.Error.Message == "":
		return fmt.Errorf("error.code or error.message missing")
	}
	return nil
}
