package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/catalog"
)

// Route mounts one Lambda-style handler on a method and an API Gateway
// resource path ("/admin/tenants/{tenant}/customers/{id}/export"; a last
// segment "{name+}" takes the rest of the path).
type Route struct {
	Method string
	Path   string
	Func   LambdaHandler
}

// RoutesFor mounts h on every route of a catalogued HTTP function.
func RoutesFor(fn catalog.Function, h LambdaHandler) []Route {
	out := make([]Route, 0, len(fn.Routes))
	for _, r := range fn.Routes {
		out = append(out, Route{Method: r.Method, Path: r.Path, Func: h})
	}
	return out
}

// MaxGatewayBody is API Gateway's own payload limit; the bridge refuses
// larger requests like API Gateway does, before any handler runs.
const MaxGatewayBody = 10 << 20

// NewHTTPHandler serves routes over net/http the way API Gateway invokes a
// Lambda: each request becomes an events.APIGatewayProxyRequest and the
// handler's events.APIGatewayProxyResponse is written back. The local dev
// gateway uses it, so the code path below the event is the one on AWS.
func NewHTTPHandler(routes []Route) http.Handler {
	b := &bridge{}
	for _, r := range routes {
		b.routes = append(b.routes, compiledRoute{Route: r, method: strings.ToUpper(r.Method), segs: splitPath(r.Path)})
	}
	// The most specific template wins: more literal segments first.
	sort.SliceStable(b.routes, func(i, j int) bool { return b.routes[i].literals() > b.routes[j].literals() })
	return b
}

type bridge struct{ routes []compiledRoute }

type compiledRoute struct {
	Route
	method string
	segs   []string
}

func (c compiledRoute) literals() int {
	n := 0
	for _, s := range c.segs {
		if !strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the path parameters if path fits the template.
func (c compiledRoute) match(segs []string) (map[string]string, bool) {
	var params map[string]string
	for i, t := range c.segs {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(segs) {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[t[1:len(t)-2]] = strings.Join(segs[i:], "/")
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, len(segs) == len(c.segs)
}

func (b *bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := splitPath(r.URL.Path)
	var allowed []string
	for _, rt := range b.routes {
		params, ok := rt.match(segs)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		b.serve(w, r, rt, params)
		return
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeGatewayError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	writeGatewayError(w, http.StatusNotFound, "Not Found")
}

func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

func (b *bridge) serve(w http.ResponseWriter, r *http.Request, rt compiledRoute, params map[string]string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxGatewayBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Too Long")
			return
		}
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	ev := ToEvent(r, rt.Path, params, body)
	resp, err := invoke(r.Context(), rt.Func, ev)
	if err != nil || resp.StatusCode == 0 {
		// What API Gateway answers when the Lambda fails or answers garbage.
		writeGatewayError(w, http.StatusBadGateway, "Internal server error")
		return
	}
	WriteResponse(w, resp)
}

// invoke calls the handler like the Lambda runtime would: a panic is an
// invocation error, not a dead dev server.
func invoke(ctx context.Context, f LambdaHandler, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = errors.New("lambda handler panicked")
		}
	}()
	return f(ctx, ev)
}

// ToEvent builds the proxy event API Gateway would send for r matched to
// the resource template with params.
func ToEvent(r *http.Request, resource string, params map[string]string, body []byte) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource:       resource,
		Path:           r.URL.Path,
		HTTPMethod:     r.Method,
		PathParameters: params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        "000000000000",
			APIID:            "local",
			Stage:            "local",
			RequestID:        newRequestID(),
			ResourcePath:     resource,
			Path:             r.URL.Path,
			HTTPMethod:       r.Method,
			Protocol:         r.Proto,
			RequestTimeEpoch: time.Now().UnixMilli(),
			Identity:         events.APIGatewayRequestIdentity{SourceIP: remoteIP(r.RemoteAddr), UserAgent: r.UserAgent()},
		},
	}
	if len(r.Header) > 0 || r.Host != "" {
		ev.Headers = make(map[string]string, len(r.Header)+1)
		ev.MultiValueHeaders = make(map[string][]string, len(r.Header)+1)
		for k, vs := range r.Header {
			ev.Headers[k] = vs[len(vs)-1]
			ev.MultiValueHeaders[k] = append([]string(nil), vs...)
		}
		if r.Host != "" {
			ev.Headers["Host"] = r.Host
			ev.MultiValueHeaders["Host"] = []string{r.Host}
		}
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		ev.MultiValueQueryStringParameters = make(map[string][]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
			ev.MultiValueQueryStringParameters[k] = vs
		}
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	}
	return ev
}

// WriteResponse writes a proxy response to w.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		w.Header().Del(k)
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeGatewayError(w, http.StatusBadGateway, "Internal server error")
			return
		}
		body = b
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// newRequestID looks like API Gateway's (a UUID).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
