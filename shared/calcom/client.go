// Package calcom is the gateway's Cal.com API v2 client (slots and
// bookings), the Cal.com webhook envelope and its X-Cal-Signature-256
// verification. testdata/contracts/NOTES.md §B (at the repository root) is the contract.
//
// Every error returned is a *booking.Error whose kind decides what the
// caller does (retry, answer "slot taken", ...). Errors and log values never
// contain attendee names, emails or phone numbers, nor Cal.com's free-text
// messages (which may echo them).
package calcom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/telefonagent/gateway/shared/booking"
)

// DefaultBaseURL is Cal.com's hosted API.
const DefaultBaseURL = "https://api.cal.com"

// Default timeouts follow the in-call budget (design §8): reads must leave
// time to answer the caller, writes may take longer but end in the
// unknown-outcome path when they do not finish.
const (
	DefaultReadTimeout  = 1500 * time.Millisecond
	DefaultWriteTimeout = 3 * time.Second
)

// maxResponseBytes bounds what we read from Cal.com.
const maxResponseBytes = 4 << 20

// Endpoint names one Cal.com operation. Its API version is pinned in the
// endpoints table below: Cal.com silently falls back to the old 2024-04-15
// contract when the header is missing or unknown (NOTES §B1).
type Endpoint string

const (
	EndpointSlots             Endpoint = "slots"
	EndpointCreateBooking     Endpoint = "create_booking"
	EndpointListBookings      Endpoint = "list_bookings"
	EndpointGetBooking        Endpoint = "get_booking"
	EndpointCancelBooking     Endpoint = "cancel_booking"
	EndpointRescheduleBooking Endpoint = "reschedule_booking"
)

type endpoint struct {
	method  string
	path    string // "{uid}" is replaced by the escaped booking uid
	version string // cal-api-version
	write   bool   // a write whose outcome may be unknown after sending
}

var endpoints = map[Endpoint]endpoint{
	EndpointSlots:             {http.MethodGet, "/v2/slots", "2024-09-04", false},
	EndpointCreateBooking:     {http.MethodPost, "/v2/bookings", "2024-08-13", true},
	EndpointListBookings:      {http.MethodGet, "/v2/bookings", "2024-08-13", false},
	EndpointGetBooking:        {http.MethodGet, "/v2/bookings/{uid}", "2024-08-13", false},
	EndpointCancelBooking:     {http.MethodPost, "/v2/bookings/{uid}/cancel", "2024-08-13", true},
	EndpointRescheduleBooking: {http.MethodPost, "/v2/bookings/{uid}/reschedule", "2024-08-13", true},
}

// APIVersion returns the cal-api-version pinned for an endpoint ("" if unknown).
func APIVersion(e Endpoint) string { return endpoints[e].version }

// Config configures a Client. Only APIKey is required.
type Config struct {
	BaseURL      string // default DefaultBaseURL
	APIKey       string // "cal_…"; sent as Authorization: Bearer
	HTTPClient   *http.Client
	ReadTimeout  time.Duration // GET requests; default DefaultReadTimeout
	WriteTimeout time.Duration // POST requests; default DefaultWriteTimeout
	Clock        booking.Clock // for rate-limit resets given as epoch; default system clock
	Breaker      BreakerSettings
	// Observe, when set, is called after every request (metrics). It gets
	// no personal data.
	Observe func(Observation)
}

// Observation describes one finished request, for metrics.
type Observation struct {
	Endpoint Endpoint
	Status   int // 0 when no response arrived
	Kind     booking.Kind
	Duration time.Duration
}

// Client talks to one Cal.com account (one API key). It is safe for
// concurrent use; clients built for the same key share one circuit breaker.
type Client struct {
	base    string
	key     string
	http    *http.Client
	read    time.Duration
	write   time.Duration
	clock   booking.Clock
	breaker *gobreaker.CircuitBreaker[any]
	observe func(Observation)
}

// New builds a client. A missing API key is a configuration error.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, booking.Errorf(booking.KindInvalid, "calcom.New", "no API key configured")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, booking.Errorf(booking.KindInvalid, "calcom.New", "base URL must be an absolute http(s) URL")
	}
	c := &Client{
		base:    base,
		key:     cfg.APIKey,
		http:    cfg.HTTPClient,
		read:    cfg.ReadTimeout,
		write:   cfg.WriteTimeout,
		clock:   cfg.Clock,
		observe: cfg.Observe,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.read <= 0 {
		c.read = DefaultReadTimeout
	}
	if c.write <= 0 {
		c.write = DefaultWriteTimeout
	}
	if c.clock == nil {
		c.clock = booking.SystemClock
	}
	c.breaker = cfg.Breaker.breakerFor(base, cfg.APIKey)
	return c, nil
}

// BreakerState reports the state of this key's circuit breaker
// ("closed", "half-open", "open"), for health checks and tests.
func (c *Client) BreakerState() string { return c.breaker.State().String() }

// call sends one request through the circuit breaker and decodes the
// success envelope's data into out (nil: ignore the body).
func (c *Client) call(ctx context.Context, name Endpoint, uid string, query url.Values, body any, out any) error {
	ep := endpoints[name]
	op := "calcom." + string(name)
	_, err := c.breaker.Execute(func() (any, error) {
		return nil, c.roundTrip(ctx, name, ep, op, uid, query, body, out)
	})
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		err = &booking.Error{Kind: booking.KindTransient, Op: op, Message: "circuit open: Cal.com failed repeatedly, not calling it",
			Err: &APIError{Endpoint: name, CircuitOpen: true}}
		c.report(name, 0, err, 0)
	}
	return err
}

func (c *Client) report(name Endpoint, status int, err error, d time.Duration) {
	if c.observe != nil {
		c.observe(Observation{Endpoint: name, Status: status, Kind: booking.KindOf(err), Duration: d})
	}
}

func (c *Client) roundTrip(ctx context.Context, name Endpoint, ep endpoint, op, uid string, query url.Values, body any, out any) (err error) {
	started := time.Now()
	status := 0
	defer func() { c.report(name, status, err, time.Since(started)) }()

	timeout := c.read
	if ep.write {
		timeout = c.write
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	path := ep.path
	if strings.Contains(path, "{uid}") {
		path = strings.Replace(path, "{uid}", url.PathEscape(uid), 1)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, mErr := json.Marshal(body)
		if mErr != nil {
			return booking.Wrap(booking.KindInternal, op, mErr, "cannot encode request")
		}
		rd = bytes.NewReader(b)
	}
	var wrote atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	req, rErr := http.NewRequestWithContext(rctx, ep.method, u, rd)
	if rErr != nil {
		return booking.Wrap(booking.KindInternal, op, rErr, "cannot build request")
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("cal-api-version", ep.version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, dErr := c.http.Do(req)
	if dErr != nil {
		return c.transportError(ctx, name, ep, op, dErr, wrote.Load())
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.statusError(name, ep, op, resp, raw)
	}
	if readErr != nil {
		// The answer was cut off: for a write it happened, but we do not
		// know its result.
		return c.transportError(ctx, name, ep, op, readErr, true)
	}
	if out == nil {
		return nil
	}
	var env struct {
		Status     string          `json:"status"`
		Data       json.RawMessage `json:"data"`
		Pagination *pagination     `json:"pagination"`
	}
	if jErr := json.Unmarshal(raw, &env); jErr != nil || env.Status != "success" || len(env.Data) == 0 {
		if ep.write {
			return &booking.Error{Kind: booking.KindTransient, Op: op, Message: "unreadable success response; outcome unknown",
				Err: &APIError{Endpoint: name, Status: resp.StatusCode, UnknownOutcome: true}}
		}
		return &booking.Error{Kind: booking.KindTransient, Op: op, Message: "unreadable success response",
			Err: &APIError{Endpoint: name, Status: resp.StatusCode}}
	}
	if p, ok := out.(*bookingPage); ok {
		p.pagination = env.Pagination
	}
	if dErr := decodeData(env.Data, out); dErr != nil {
		kind := booking.KindTransient
		apiErr := &APIError{Endpoint: name, Status: resp.StatusCode, UnknownOutcome: ep.write}
		return &booking.Error{Kind: kind, Op: op, Message: "unexpected response shape: " + dErr.Error(), Err: apiErr}
	}
	return nil
}

// decodeData decodes the envelope's data; out may implement its own decoding.
func decodeData(data json.RawMessage, out any) error {
	if d, ok := out.(interface{ decode(json.RawMessage) error }); ok {
		return d.decode(data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return errors.New("data does not match the expected type")
	}
	return nil
}

// transportError classifies a failure without an HTTP status.
func (c *Client) transportError(ctx context.Context, name Endpoint, ep endpoint, op string, cause error, sent bool) error {
	apiErr := &APIError{Endpoint: name, Timeout: errors.Is(cause, context.DeadlineExceeded) || isTimeout(cause)}
	if ctx.Err() == context.Canceled {
		apiErr.Canceled = true
	}
	msg := "network error"
	if apiErr.Timeout {
		msg = "timed out"
	}
	if apiErr.Canceled {
		msg = "canceled by caller"
	}
	if ep.write && sent {
		apiErr.UnknownOutcome = true
		msg += " after sending; outcome unknown"
	} else if ep.write {
		msg += " before sending"
	}
	// The cause's text can contain the URL (with a booking uid, never PII)
	// but not the body, so it is safe to keep for operators.
	return &booking.Error{Kind: booking.KindTransient, Op: op, Message: msg, Err: &wrapped{apiErr, cause}}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// wrapped keeps both our classification and the transport cause in the chain.
type wrapped struct {
	api   *APIError
	cause error
}

func (w *wrapped) Error() string   { return w.api.Error() + ": " + w.cause.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.api, w.cause} }
