package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
)

func loadEvent(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// echo answers what the handler saw, so tests can check the adapter.
type echoed struct {
	Method, Path, Resource, RequestID, SourceIP string
	Signature, ContentType, Accept              string
	Query, PathParams                           map[string]string
	Body                                        []byte
}

func echo(_ context.Context, r *Request) (*Response, error) {
	return JSON(200, echoed{
		Method: r.Method, Path: r.Path, Resource: r.Resource, RequestID: r.RequestID, SourceIP: r.SourceIP,
		Signature: r.Header("x-retell-signature") + r.Header("X-CAL-SIGNATURE-256"), ContentType: r.Header("content-type"),
		Accept: r.Header("accept"), Query: r.Query, PathParams: r.PathParams, Body: r.Body,
	}), nil
}

func invokeEvent(t testing.TB, h LambdaHandler, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, echoed) {
	t.Helper()
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatalf("wrapped handler returned an error: %v", err)
	}
	var e echoed
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
			t.Fatalf("%v: %s", err, resp.Body)
		}
	}
	return resp, e
}

func TestFixturesRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) < 4 {
		t.Fatalf("fixtures missing: %v", files)
	}
	h := Wrap("echo", echo, Options{})
	for _, f := range files {
		ev := loadEvent(t, filepath.Base(f))
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var again events.APIGatewayProxyRequest
		if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(ev, again) {
			t.Fatalf("%s does not round-trip: %v", f, err)
		}
		resp, got := invokeEvent(t, h, ev)
		if resp.StatusCode != 200 || got.Method != ev.HTTPMethod || got.Path != ev.Path || got.Resource != ev.Resource ||
			got.RequestID != ev.RequestContext.RequestID || got.SourceIP != "100.20.30.40" ||
			resp.Headers["X-Request-Id"] != ev.RequestContext.RequestID {
			t.Fatalf("%s: %+v %+v", f, resp, got)
		}
	}
}

func TestBase64BodyIsDecoded(t *testing.T) {
	ev := loadEvent(t, "calcom_webhook_base64.json")
	_, got := invokeEvent(t, Wrap("calcom-webhook", echo, Options{}), ev)
	want, _ := base64.StdEncoding.DecodeString(ev.Body)
	if !bytes.Equal(got.Body, want) || !bytes.Contains(got.Body, []byte("Färben")) {
		t.Fatalf("body %q", got.Body)
	}
	if got.Signature != "9f8e" {
		t.Fatalf("header lookup: %q", got.Signature)
	}
	ev.Body = "!!not base64!!"
	resp, _ := invokeEvent(t, Wrap("calcom-webhook", echo, Options{}), ev)
	if resp.StatusCode != 400 {
		t.Fatalf("bad base64: %d", resp.StatusCode)
	}
}

func TestHeadersAreCaseInsensitive(t *testing.T) {
	for _, name := range []string{"x-retell-signature", "X-Retell-Signature", "X-RETELL-SIGNATURE", "x-ReTeLl-sIgNaTuRe"} {
		ev := loadEvent(t, "retell_function_call.json")
		ev.Headers = map[string]string{name: "v=1,d=ff"}
		ev.MultiValueHeaders = nil
		_, got := invokeEvent(t, Wrap("f", echo, Options{}), ev)
		if got.Signature != "v=1,d=ff" {
			t.Errorf("sent as %s: got %q", name, got.Signature)
		}
	}
	// Multi-value headers are complete; the first value is the one returned.
	ev := loadEvent(t, "health_get.json")
	_, got := invokeEvent(t, Wrap("health", echo, Options{}), ev)
	if got.Accept != "text/html" || got.Query["verbose"] != "1" {
		t.Fatalf("accept %q query %v", got.Accept, got.Query)
	}
	ev = loadEvent(t, "privacy_export.json")
	_, got = invokeEvent(t, Wrap("privacy", echo, Options{}), ev)
	if got.PathParams["tenant"] != "salon-sonnenschein" || got.PathParams["id"] != "cus_42" {
		t.Fatalf("path params %v", got.PathParams)
	}
}

func errorBody(t testing.TB, resp events.APIGatewayProxyResponse) ErrorBody {
	t.Helper()
	var b ErrorBody
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatalf("error body is not JSON: %q", resp.Body)
	}
	return b
}

func TestBodyLimit(t *testing.T) {
	h := Wrap("f", echo, Options{MaxBody: 1024})
	ev := loadEvent(t, "retell_function_call.json")
	for _, tc := range []struct {
		size   int
		base64 bool
		status int
	}{{1024, false, 200}, {1025, false, 413}, {1024, true, 200}, {1025, true, 413}, {1 << 20, true, 413}} {
		body := bytes.Repeat([]byte("a"), tc.size)
		ev.Body, ev.IsBase64Encoded = string(body), tc.base64
		if tc.base64 {
			ev.Body = base64.StdEncoding.EncodeToString(body)
		}
		resp, got := invokeEvent(t, h, ev)
		if resp.StatusCode != tc.status {
			t.Errorf("%d bytes (base64 %v): status %d want %d", tc.size, tc.base64, resp.StatusCode, tc.status)
		}
		if tc.status == 413 && errorBody(t, resp).Error.Kind != booking.KindTooLarge {
			t.Errorf("413 body %s", resp.Body)
		}
		if tc.status == 200 && len(got.Body) != tc.size {
			t.Errorf("body cut to %d", len(got.Body))
		}
	}
	resp, _ := invokeEvent(t, Wrap("f", echo, Options{}), func() events.APIGatewayProxyRequest {
		ev.Body, ev.IsBase64Encoded = strings.Repeat("x", DefaultMaxBody+1), false
		return ev
	}())
	if resp.StatusCode != 413 {
		t.Fatalf("default limit not 256 KiB: %d", resp.StatusCode)
	}
}

func TestPanicBecomesLogged500(t *testing.T) {
	var logs, emf bytes.Buffer
	h := Wrap("book-appointment", func(ctx context.Context, r *Request) (*Response, error) {
		var m map[string]int
		m["caller +4930123456"]++ // nil map write: a real runtime panic
		return nil, nil
	}, Options{Logger: platform.NewLogger(&logs, slog.LevelInfo), Metrics: platform.NewMetrics(&emf, platform.Namespace, nil)})
	for range 2 { // the process survives and serves again
		resp, err := h(context.Background(), loadEvent(t, "retell_function_call.json"))
		if err != nil || resp.StatusCode != 500 || errorBody(t, resp).Error.Kind != booking.KindInternal {
			t.Fatalf("%v %+v", err, resp)
		}
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), `"status":500`) {
		t.Fatalf("panic not logged: %s", logs.String())
	}
	if !strings.Contains(emf.String(), `"Panics":1`) || !strings.Contains(emf.String(), `"Http5xx":1`) {
		t.Fatalf("panic not counted: %s", emf.String())
	}
}

func TestEveryKindMapsToOneStatus(t *testing.T) {
	want := map[booking.Kind]int{
		booking.KindInvalid: 400, booking.KindNotFound: 404, booking.KindConflict: 409, booking.KindUnauthorized: 401,
		booking.KindTooLarge: 413, booking.KindTransient: 503, booking.KindInternal: 500,
	}
	for kind, status := range want {
		h := Wrap("f", func(context.Context, *Request) (*Response, error) {
			return nil, booking.Errorf(kind, "test.Op", "slot for +4930123456 is %s", "gone")
		}, Options{})
		resp, _ := invokeEvent(t, h, loadEvent(t, "retell_function_call.json"))
		b := errorBody(t, resp)
		if resp.StatusCode != status || b.Error.Kind != kind || StatusOf(booking.Errorf(kind, "", "")) != status {
			t.Errorf("%s: status %d body %s", kind, resp.StatusCode, resp.Body)
		}
		if strings.Contains(resp.Body, "4930123456") || strings.Contains(resp.Body, "test.Op") {
			t.Errorf("%s: body leaks: %s", kind, resp.Body)
		}
	}
	// A foreign error is internal and says nothing about itself.
	h := Wrap("f", func(context.Context, *Request) (*Response, error) {
		return nil, errors.New("dial tcp 10.0.0.1:3306: secret detail")
	}, Options{})
	resp, _ := invokeEvent(t, h, loadEvent(t, "retell_function_call.json"))
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "secret detail") || errorBody(t, resp).Error.Message != "internal error" {
		t.Fatalf("foreign error: %d %s", resp.StatusCode, resp.Body)
	}
	if StatusOf(nil) != 200 {
		t.Fatal("nil error")
	}
}

func TestOneLogLinePerRequest(t *testing.T) {
	var logs, emf bytes.Buffer
	var spans []string
	var spanErr error
	tracer := platform.TracerFunc(func(ctx context.Context, name string) (context.Context, func(error)) {
		spans = append(spans, name)
		return ctx, func(err error) { spanErr = err }
	})
	h := Wrap("book-appointment", func(ctx context.Context, r *Request) (*Response, error) {
		AddLogAttrs(ctx, slog.String("tenant", "salon-sonnenschein"), slog.String("call_id", "call_fixture_1"))
		AddLogAttrs(ctx, slog.String("outcome", "conflict"), slog.String("customer_name", "Maria Schneider"))
		if RequestID(ctx) != r.RequestID {
			t.Error("request id not in context")
		}
		return nil, booking.Errorf(booking.KindConflict, "book", "slot taken")
	}, Options{Logger: platform.NewLogger(&logs, slog.LevelInfo), Metrics: platform.NewMetrics(&emf, platform.Namespace, nil), Tracer: tracer})
	ev := loadEvent(t, "retell_function_call.json")
	h(context.Background(), ev)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 line, got %d: %s", len(lines), logs.String())
	}
	var line map[string]any
	json.Unmarshal([]byte(lines[0]), &line)
	for k, v := range map[string]any{"function": "book-appointment", "method": "POST", "route": "/functions/check-availability",
		"status": 409.0, "error_kind": "conflict", "request_id": ev.RequestContext.RequestID, "tenant": "salon-sonnenschein",
		"call_id": "call_fixture_1", "outcome": "conflict", "level": "WARN"} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["latency_ms"].(float64); !ok {
		t.Error("latency_ms missing")
	}
	if _, ok := line["body_bytes"]; ok {
		t.Error("detail logged without the flag")
	}
	if strings.Contains(logs.String(), "Herrenhaarschnitt") || strings.Contains(logs.String(), "Maria") {
		t.Fatalf("body or PII logged: %s", logs.String())
	}
	if len(spans) != 1 || spans[0] != "book-appointment" || booking.KindOf(spanErr) != booking.KindConflict {
		t.Fatalf("span %v %v", spans, spanErr)
	}
	for _, want := range []string{`"Requests":1`, `"Latency":`, `"Http4xx":1`, `"Function":"book-appointment"`} {
		if !strings.Contains(emf.String(), want) {
			t.Errorf("metrics lack %s: %s", want, emf.String())
		}
	}
}

func TestDetailedLogging(t *testing.T) {
	var logs bytes.Buffer
	h := Wrap("f", echo, Options{Logger: platform.NewLogger(&logs, slog.LevelInfo), DetailedLogging: true})
	ev := loadEvent(t, "retell_function_call.json")
	h(context.Background(), ev)
	if !strings.Contains(logs.String(), `"user_agent":"axios/1.7.2"`) || !strings.Contains(logs.String(), `"body_bytes":`) {
		t.Fatalf("detail missing: %s", logs.String())
	}
	if strings.Contains(logs.String(), "Herrenhaarschnitt") {
		t.Fatal("body logged")
	}
}

func TestResponses(t *testing.T) {
	h := Wrap("f", func(_ context.Context, r *Request) (*Response, error) {
		switch r.Path {
		case "/nocontent":
			return NoContent(), nil
		case "/binary":
			return &Response{Status: 200, Headers: map[string]string{"Content-Type": "application/octet-stream"}, Body: []byte{0xff, 0x00, 0xfe}}, nil
		case "/nil":
			return nil, nil
		case "/unencodable":
			return JSON(200, map[string]any{"f": func() {}}), nil
		}
		return JSON(201, map[string]string{"ok": "ja"}), nil
	}, Options{})
	for path, check := range map[string]func(events.APIGatewayProxyResponse) bool{
		"/json": func(r events.APIGatewayProxyResponse) bool {
			return r.StatusCode == 201 && r.Body == `{"ok":"ja"}` && r.Headers["Content-Type"] == "application/json"
		},
		"/nocontent": func(r events.APIGatewayProxyResponse) bool { return r.StatusCode == 204 && r.Body == "" },
		"/binary": func(r events.APIGatewayProxyResponse) bool {
			return r.IsBase64Encoded && r.Body == base64.StdEncoding.EncodeToString([]byte{0xff, 0, 0xfe})
		},
		"/nil":         func(r events.APIGatewayProxyResponse) bool { return r.StatusCode == 500 },
		"/unencodable": func(r events.APIGatewayProxyResponse) bool { return r.StatusCode == 500 },
	} {
		ev := loadEvent(t, "health_get.json")
		ev.Path = path
		resp, err := h(context.Background(), ev)
		if err != nil || !check(resp) {
			t.Errorf("%s: %+v %v", path, resp, err)
		}
	}
}

func BenchmarkWrap(b *testing.B) {
	ev := loadEvent(b, "retell_function_call.json")
	type args struct {
		Service string `json:"service"`
		When    string `json:"when"`
	}
	type body struct {
		Name string          `json:"name"`
		Call json.RawMessage `json:"call"`
		Args args            `json:"args"`
	}
	handler := func(_ context.Context, r *Request) (*Response, error) {
		var in body
		if err := DecodeStrict(r.Body, &in); err != nil {
			return nil, err
		}
		return JSON(200, map[string]any{"result": "frei", "service": in.Args.Service}), nil
	}
	b.Run("bare-handler", func(b *testing.B) {
		req := &Request{Body: []byte(ev.Body)}
		b.ReportAllocs()
		for b.Loop() {
			handler(context.Background(), req)
		}
	})
	b.Run("wrapped", func(b *testing.B) {
		h := Wrap("check-availability", handler, Options{
			Logger:  platform.NewLogger(io.Discard, slog.LevelInfo),
			Metrics: platform.NewMetrics(io.Discard, platform.Namespace, nil),
			Tracer:  platform.NopTracer{},
		})
		b.ReportAllocs()
		for b.Loop() {
			if resp, _ := h(context.Background(), ev); resp.StatusCode != 200 {
				b.Fatal(resp.Body)
			}
		}
	})
	b.Run("http-bridge", func(b *testing.B) {
		h := Wrap("check-availability", handler, Options{
			Logger:  platform.NewLogger(io.Discard, slog.LevelInfo),
			Metrics: platform.NewMetrics(io.Discard, platform.Namespace, nil),
		})
		srv := NewHTTPHandler([]Route{{Method: "POST", Path: "/functions/check-availability", Func: h}})
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest("POST", "/functions/check-availability", strings.NewReader(ev.Body))
			w := &discardWriter{h: http.Header{}}
			srv.ServeHTTP(w, req)
			if w.status != 200 {
				b.Fatal(w.status)
			}
		}
	})
}

type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(s int)           { d.status = s }
