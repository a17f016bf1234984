package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/catalog"
)

func TestHTTPBridge(t *testing.T) {
	var last events.APIGatewayProxyRequest
	record := func(h LambdaHandler) LambdaHandler {
		return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			last = ev
			return h(ctx, ev)
		}
	}
	wrapped := record(Wrap("echo", echo, Options{}))
	health, _ := catalog.Lookup("health")
	privacy, _ := catalog.Lookup("privacy")
	routes := append(RoutesFor(health, wrapped), RoutesFor(privacy, wrapped)...)
	routes = append(routes,
		Route{Method: "POST", Path: "/functions/check-availability", Func: wrapped},
		Route{Method: "GET", Path: "/admin/tenants/{tenant}/customers/special/export", Func: wrapped},
		Route{Method: "GET", Path: "/files/{key+}", Func: wrapped},
		Route{Method: "POST", Path: "/broken", Func: func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("lambda error")
		}},
		Route{Method: "POST", Path: "/panics", Func: func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			panic("unwrapped")
		}},
	)
	srv := httptest.NewServer(NewHTTPHandler(routes))
	defer srv.Close()

	do := func(method, path string, body []byte, hdr map[string][]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		for k, vs := range hdr {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	// Body, headers (multi-value, any case), query, request context.
	resp, b := do("POST", "/functions/check-availability?x=1&x=2&y=%C3%A4", []byte(`{"a":1}`),
		map[string][]string{"x-retell-signature": {"v=1,d=aa"}, "Accept": {"a", "b"}})
	var got echoed
	json.Unmarshal(b, &got)
	if resp.StatusCode != 200 || string(got.Body) != `{"a":1}` || got.Signature != "v=1,d=aa" || got.Query["x"] != "2" || got.Query["y"] != "ä" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if len(last.MultiValueHeaders["Accept"]) != 2 || len(last.MultiValueQueryStringParameters["x"]) != 2 ||
		last.Resource != "/functions/check-availability" || last.RequestContext.RequestID == "" ||
		last.RequestContext.Identity.SourceIP != "127.0.0.1" || resp.Header.Get("X-Request-Id") != last.RequestContext.RequestID {
		t.Fatalf("event: %+v", last)
	}

	// Binary bodies travel base64 encoded, like API Gateway with binary media types.
	bin := []byte{0xff, 0xfe, 0x00, 'x'}
	_, b = do("POST", "/functions/check-availability", bin, nil)
	json.Unmarshal(b, &got)
	if !last.IsBase64Encoded || !bytes.Equal(got.Body, bin) {
		t.Fatalf("binary body: %v %v", last.IsBase64Encoded, got.Body)
	}

	// Path parameters; the literal route wins over the template.
	_, b = do("GET", "/admin/tenants/salon-sonnenschein/customers/cus_42/export", nil, nil)
	json.Unmarshal(b, &got)
	if got.PathParams["tenant"] != "salon-sonnenschein" || got.PathParams["id"] != "cus_42" || got.Resource != "/admin/tenants/{tenant}/customers/{id}/export" {
		t.Fatalf("params %+v", got)
	}
	_, b = do("GET", "/admin/tenants/t1/customers/special/export", nil, nil)
	json.Unmarshal(b, &got)
	if got.Resource != "/admin/tenants/{tenant}/customers/special/export" {
		t.Fatalf("specific route lost: %s", got.Resource)
	}
	_, b = do("GET", "/files/a/b/c.json", nil, nil)
	json.Unmarshal(b, &got)
	if got.PathParams["key"] != "a/b/c.json" {
		t.Fatalf("greedy param: %v", got.PathParams)
	}
	for _, p := range []string{"/health", "/readiness", "/liveness", "/ping"} {
		if resp, _ := do("GET", p, nil, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}

	// Unknown path 404, wrong method 405 with Allow, both JSON.
	resp, b = do("GET", "/nope", nil, nil)
	if resp.StatusCode != 404 || !json.Valid(b) {
		t.Fatalf("unknown route: %d %s", resp.StatusCode, b)
	}
	resp, b = do("DELETE", "/health", nil, nil)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" || !json.Valid(b) {
		t.Fatalf("wrong method: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	resp, _ = do("GET", "/admin/tenants/t1/customers//export", nil, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("empty path parameter matched: %d", resp.StatusCode)
	}

	// A failing or panicking Lambda is a 502, as on API Gateway; the server lives on.
	for _, p := range []string{"/broken", "/panics"} {
		resp, b = do("POST", p, nil, nil)
		if resp.StatusCode != 502 || !strings.Contains(string(b), "Internal server error") {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, b)
		}
	}

	// The same Wrap'd handler enforces the body limit behind the bridge.
	resp, b = do("POST", "/functions/check-availability", bytes.Repeat([]byte("a"), DefaultMaxBody+1), nil)
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"too_large"`) {
		t.Fatalf("413 through bridge: %d %s", resp.StatusCode, b)
	}
}

// The bridge builds the same event shape the fixtures (captured from API
// Gateway) have, so handlers cannot tell local from AWS.
func TestBridgeEventMatchesFixtureShape(t *testing.T) {
	fix := loadEvent(t, "privacy_export.json")
	req := httptest.NewRequest("GET", fix.Path, nil)
	req.Header.Set("Authorization", fix.Headers["Authorization"])
	ev := ToEvent(req, fix.Resource, map[string]string{"tenant": "salon-sonnenschein", "id": "cus_42"}, nil)
	if ev.Resource != fix.Resource || ev.Path != fix.Path || ev.HTTPMethod != fix.HTTPMethod ||
		ev.PathParameters["id"] != fix.PathParameters["id"] || ev.Headers["Authorization"] != fix.Headers["Authorization"] ||
		ev.RequestContext.ResourcePath != fix.RequestContext.ResourcePath || ev.QueryStringParameters != nil {
		t.Fatalf("%+v", ev)
	}
}
