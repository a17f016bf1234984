package apigw

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
)

// DefaultMaxBody is the body limit unless Options say otherwise (design §8).
const DefaultMaxBody = 256 << 10

// Options are the dependencies of Wrap; zero values do nothing.
type Options struct {
	Logger  *slog.Logger
	Metrics platform.Metrics
	Tracer  platform.Tracer
	MaxBody int // bytes after base64 decoding; default DefaultMaxBody
	Clock   booking.Clock
	// DetailedLogging (the detailed_logging flag) adds body size and user
	// agent to the request line; never bodies, never personal data.
	DetailedLogging bool
}

// LambdaHandler is what lambda.Start and the local gateway are given.
type LambdaHandler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Wrap turns a Handler into a Lambda handler for REST proxy events. The
// returned function never returns an error (API Gateway would answer 502
// with no body) and never lets a panic escape.
func Wrap(name string, h Handler, opts Options) LambdaHandler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With(slog.String("function", name))
	metrics := opts.Metrics
	if metrics == nil {
		metrics = platform.NopMetrics{}
	}
	tracer := opts.Tracer
	if tracer == nil {
		tracer = platform.NopTracer{}
	}
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	clock := opts.Clock
	if clock == nil {
		clock = booking.SystemClock
	}

	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		start := clock.Now()
		ctx, endSpan := tracer.Start(ctx, name)
		bag := &logAttrs{}
		ctx = context.WithValue(ctx, logAttrsKey{}, bag)
		ctx = context.WithValue(ctx, requestIDKey{}, ev.RequestContext.RequestID)

		var resp *Response
		req, err := fromEvent(&ev, maxBody)
		panicked := false
		if err == nil {
			resp, err, panicked = call(ctx, h, req, log)
		}
		if err == nil && resp == nil {
			err = booking.Errorf(booking.KindInternal, "apigw.Wrap", "handler returned neither response nor error")
		}
		if err != nil {
			resp = Error(err)
		}
		if resp.Status == 0 {
			resp.Status = 200
		}
		latency := clock.Now().Sub(start)
		endSpan(err)

		attrs := make([]slog.Attr, 0, 8+len(bag.attrs))
		attrs = append(attrs,
			slog.String("method", ev.HTTPMethod),
			slog.String("route", ev.Resource),
			slog.String("path", ev.Path),
			slog.Int("status", resp.Status),
			slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
			slog.String("request_id", ev.RequestContext.RequestID),
		)
		if opts.DetailedLogging {
			attrs = append(attrs, slog.Int("body_bytes", len(ev.Body)), slog.String("user_agent", ev.RequestContext.Identity.UserAgent))
		}
		level := slog.LevelInfo
		if err != nil {
			attrs = append(attrs, slog.String("error_kind", string(booking.KindOf(err))))
			if resp.Status >= 500 {
				level = slog.LevelError
				// The full chain helps with 5xx; the redacting handler
				// masks phone numbers and emails a foreign cause might hold.
				attrs = append(attrs, slog.String("error", err.Error()))
			} else {
				level = slog.LevelWarn
				attrs = append(attrs, slog.String("error", booking.MessageOf(err)))
			}
		}
		bag.mu.Lock()
		attrs = append(attrs, bag.attrs...)
		bag.mu.Unlock()
		log.LogAttrs(ctx, level, "request", attrs...)

		metrics.Count(platform.MetricRequests, 1, platform.DimFunction, name)
		metrics.Duration(platform.MetricLatency, latency, platform.DimFunction, name)
		switch {
		case resp.Status >= 500:
			metrics.Count(platform.Metric5xx, 1, platform.DimFunction, name)
		case resp.Status >= 400:
			metrics.Count(platform.Metric4xx, 1, platform.DimFunction, name)
		}
		if panicked {
			metrics.Count(platform.MetricPanics, 1, platform.DimFunction, name)
		}
		if ferr := metrics.Flush(); ferr != nil {
			log.Warn("metrics flush failed", slog.String("error", ferr.Error()))
		}
		return resp.toEvent(ev.RequestContext.RequestID), nil
	}
}

// call runs the handler and turns a panic into an internal error.
func call(ctx context.Context, h Handler, req *Request, log *slog.Logger) (resp *Response, err error, panicked bool) {
	defer func() {
		if rec := recover(); rec != nil {
			// The panic value may hold anything; the logger redacts it.
			log.ErrorContext(ctx, "handler panicked",
				slog.String("panic", fmt.Sprint(rec)), slog.String("stack", string(debug.Stack())),
				slog.String("request_id", req.RequestID))
			resp, err, panicked = nil, booking.Errorf(booking.KindInternal, "apigw.Wrap", "handler panicked"), true
		}
	}()
	resp, err = h(ctx, req)
	return resp, err, false
}
