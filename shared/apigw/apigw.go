// Package apigw adapts API Gateway REST proxy events (v1) to small handlers
// and back. Everything every HTTP function must do the same way lives here,
// once: base64 bodies, the body limit, panics, the error kind → status
// mapping, the per-request log line and the request metrics.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
)

// Request is what a handler sees of an API Gateway proxy event.
type Request struct {
	Method     string
	Path       string // the concrete path, e.g. /admin/tenants/t1/customers/42/export
	Resource   string // the route template, e.g. /admin/tenants/{tenant}/customers/{id}/export
	Headers    http.Header
	Query      map[string]string
	PathParams map[string]string
	Body       []byte // raw bytes as sent (base64 already decoded): signatures are computed over these
	RequestID  string
	SourceIP   string
}

// Header returns the first value of a header, whatever the case of name or
// of the header as sent.
func (r *Request) Header(name string) string { return r.Headers.Get(name) }

// Response is what a handler answers.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// Handler is one HTTP function's logic.
type Handler func(ctx context.Context, r *Request) (*Response, error)

// JSON answers v as JSON. A value that cannot be encoded is a bug: 500.
func JSON(status int, v any) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Error(booking.Wrap(booking.KindInternal, "apigw.JSON", err, "response could not be encoded"))
	}
	return &Response{Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}
}

// NoContent answers 204.
func NoContent() *Response { return &Response{Status: http.StatusNoContent} }

// statusByKind is THE mapping from error kind to HTTP status (design §8).
var statusByKind = map[booking.Kind]int{
	booking.KindInvalid:      http.StatusBadRequest,
	booking.KindNotFound:     http.StatusNotFound,
	booking.KindConflict:     http.StatusConflict,
	booking.KindUnauthorized: http.StatusUnauthorized,
	booking.KindTooLarge:     http.StatusRequestEntityTooLarge,
	booking.KindTransient:    http.StatusServiceUnavailable,
	booking.KindInternal:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error's kind (200 for nil).
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if s, ok := statusByKind[booking.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON every error answer has.
type ErrorBody struct {
	Error struct {
		Kind    booking.Kind `json:"kind"`
		Message string       `json:"message"`
	} `json:"error"`
}

// Error answers err as {"error":{"kind":…,"message":…}}. The message is the
// PII-free message of the outermost booking.Error, run through the redactor
// once more; foreign and internal errors say only "internal error".
func Error(err error) *Response {
	kind := booking.KindOf(err)
	if kind == "" || statusByKind[kind] == 0 {
		kind = booking.KindInternal
	}
	var body ErrorBody
	body.Error.Kind = kind
	body.Error.Message = "internal error"
	if kind != booking.KindInternal {
		body.Error.Message = platform.RedactText(booking.MessageOf(err))
	}
	b, _ := json.Marshal(body) // cannot fail: two strings
	return &Response{Status: statusByKind[kind], Headers: map[string]string{"Content-Type": "application/json"}, Body: b}
}

// toEvent renders a Response as API Gateway expects it. Bodies that are not
// UTF-8 go base64 encoded.
func (r *Response) toEvent(requestID string) events.APIGatewayProxyResponse {
	out := events.APIGatewayProxyResponse{StatusCode: r.Status, Headers: make(map[string]string, len(r.Headers)+1)}
	for k, v := range r.Headers {
		out.Headers[k] = v
	}
	if requestID != "" {
		out.Headers["X-Request-Id"] = requestID
	}
	if utf8.Valid(r.Body) {
		out.Body = string(r.Body)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(r.Body)
		out.IsBase64Encoded = true
	}
	return out
}

// fromEvent builds a Request. The body is decoded and checked against
// maxBody before anything else looks at it.
func fromEvent(ev *events.APIGatewayProxyRequest, maxBody int) (*Request, error) {
	const op = "apigw.Request"
	r := &Request{
		Method: ev.HTTPMethod, Path: ev.Path, Resource: ev.Resource,
		Headers:    make(http.Header, len(ev.Headers)+len(ev.MultiValueHeaders)),
		Query:      make(map[string]string, len(ev.QueryStringParameters)),
		PathParams: ev.PathParameters,
		RequestID:  ev.RequestContext.RequestID,
		SourceIP:   ev.RequestContext.Identity.SourceIP,
	}
	if r.PathParams == nil {
		r.PathParams = map[string]string{}
	}
	// API Gateway fills both header maps; the multi-value one is complete,
	// the single-value one holds the last value of each header.
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			r.Headers.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if len(r.Headers.Values(k)) == 0 {
			r.Headers.Set(k, v)
		}
	}
	for k, vs := range ev.MultiValueQueryStringParameters {
		if len(vs) > 0 {
			r.Query[k] = vs[len(vs)-1]
		}
	}
	for k, v := range ev.QueryStringParameters {
		r.Query[k] = v
	}

	if ev.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(ev.Body)) > maxBody+3 {
			return r, tooLarge(maxBody)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ev.Body))
		if err != nil {
			return r, booking.Errorf(booking.KindInvalid, op, "body is not valid base64")
		}
		r.Body = b
	} else {
		r.Body = []byte(ev.Body)
	}
	if len(r.Body) > maxBody {
		return r, tooLarge(maxBody)
	}
	return r, nil
}

func tooLarge(maxBody int) error {
	return booking.Errorf(booking.KindTooLarge, "apigw.Request", "body is larger than %d bytes", maxBody)
}

// logAttrsKey carries the per-request attribute bag.
type logAttrsKey struct{}

type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// AddLogAttrs adds attributes (tenant, call_id, outcome, …) to the one log
// line of the current request. Outside Wrap it does nothing. Values pass
// through the redacting logger like any other attribute.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
		la.mu.Lock()
		la.attrs = append(la.attrs, attrs...)
		la.mu.Unlock()
	}
}

type requestIDKey struct{}

// RequestID returns the API Gateway request id of the current request.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
