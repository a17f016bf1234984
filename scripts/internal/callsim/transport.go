// Package callsim plays simulated Retell phone calls against the gateway:
// every payload is built and signed exactly as Retell builds and signs it,
// and sent through a Transport — HTTP to a base URL, or straight into the
// apigw-wrapped Lambda handlers in-process. The call simulator
// (scripts/simulate-call), the benchmark (scripts/bench) and the load test
// (scripts/loadtest) share it, so all three play the same calls.
package callsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/apigw"
)

// Request is one HTTP request to the gateway.
type Request struct {
	Method string
	Path   string // e.g. /functions/check-availability
	Body   []byte
	Header http.Header
}

// Response is the gateway's answer. Elapsed is measured by the transport
// around the exchange only (building and signing the body is excluded).
type Response struct {
	Status  int
	Body    []byte
	Elapsed time.Duration
}

// Transport delivers requests to the gateway.
type Transport interface {
	Do(ctx context.Context, r Request) (Response, error)
}

// HTTPTransport talks to a gateway over HTTP(S).
type HTTPTransport struct {
	BaseURL string       // no trailing slash
	Client  *http.Client // nil = a client with a 10 s timeout
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Do sends r and reads the whole answer.
func (t HTTPTransport) Do(ctx context.Context, r Request) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimRight(t.BaseURL, "/")+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return Response{}, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	c := t.Client
	if c == nil {
		c = defaultClient
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	elapsed := time.Since(start)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Body: body, Elapsed: elapsed}, nil
}

// LambdaTransport invokes the apigw-wrapped Lambda handlers directly with
// the proxy event API Gateway would send: the gateway without HTTP noise.
type LambdaTransport struct {
	routes map[string]apigw.LambdaHandler // "POST /functions/book-appointment"
	// Around, when set, runs each invocation (the benchmark measures
	// Cal.com time and allocations there). It must call invoke exactly once.
	Around func(ctx context.Context, r Request, invoke func(context.Context)) // optional
}

// NewLambdaTransport mounts routes (app.Routes) by method and literal path.
func NewLambdaTransport(routes []apigw.Route) *LambdaTransport {
	t := &LambdaTransport{routes: map[string]apigw.LambdaHandler{}}
	for _, r := range routes {
		t.routes[strings.ToUpper(r.Method)+" "+r.Path] = r.Func
	}
	return t
}

// Do builds the proxy event, then times only the handler.
func (t *LambdaTransport) Do(ctx context.Context, r Request) (Response, error) {
	h, ok := t.routes[strings.ToUpper(r.Method)+" "+r.Path]
	if !ok {
		return Response{Status: http.StatusNotFound, Body: []byte(`{"message":"Missing Authentication Token"}`)}, nil
	}
	ev := proxyEvent(r)
	var out events.APIGatewayProxyResponse
	var err error
	var elapsed time.Duration
	invoke := func(ctx context.Context) {
		start := time.Now()
		out, err = h(ctx, ev)
		elapsed = time.Since(start)
	}
	if t.Around != nil {
		t.Around(ctx, r, invoke)
	} else {
		invoke(ctx)
	}
	if err != nil {
		return Response{}, err
	}
	return Response{Status: out.StatusCode, Body: []byte(out.Body), Elapsed: elapsed}, nil
}

func proxyEvent(r Request) events.APIGatewayProxyRequest {
	hdr := map[string]string{"Content-Type": "application/json", "User-Agent": "callsim"}
	multi := map[string][]string{}
	for k, vs := range r.Header {
		if len(vs) > 0 {
			hdr[k] = vs[len(vs)-1]
		}
	}
	for k, v := range hdr {
		multi[k] = []string{v}
	}
	return events.APIGatewayProxyRequest{
		Resource: r.Path, Path: r.Path, HTTPMethod: strings.ToUpper(r.Method),
		Headers: hdr, MultiValueHeaders: multi, Body: string(r.Body),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "000000000000", APIID: "local", Stage: "local", RequestID: RandomID(16),
			ResourcePath: r.Path, Path: r.Path, HTTPMethod: strings.ToUpper(r.Method),
			RequestTimeEpoch: time.Now().UnixMilli(),
			Identity:         events.APIGatewayRequestIdentity{SourceIP: "127.0.0.1", UserAgent: "callsim"},
		},
	}
}

// CheckTarget accepts https URLs, and plain http only on loopback: signed
// calls with a real API key never travel unencrypted over a network.
func CheckTarget(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("target %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("refusing plain http to %s: use https (plain http is allowed on loopback only)", u.Hostname())
	}
	return fmt.Errorf("target scheme %q is not https", u.Scheme)
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RandomID returns n random bytes, hex-encoded.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
