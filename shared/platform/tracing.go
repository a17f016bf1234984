package platform

import (
	"context"
	"net/http"
)

// Tracer opens a span (an X-Ray subsegment) around a piece of work. The
// returned func ends it, recording err if non-nil. It is the only tracing
// type the rest of the code sees, so X-Ray (in maintenance since 2026-02)
// can be swapped for OpenTelemetry by writing one more implementation.
type Tracer interface {
	Start(ctx context.Context, name string) (context.Context, func(err error))
}

// NopTracer traces nothing.
type NopTracer struct{}

func (NopTracer) Start(ctx context.Context, _ string) (context.Context, func(error)) {
	return ctx, func(error) {}
}

// TracerFunc adapts a function to Tracer (fakes in tests).
type TracerFunc func(ctx context.Context, name string) (context.Context, func(error))

func (f TracerFunc) Start(ctx context.Context, name string) (context.Context, func(error)) {
	return f(ctx, name)
}

// HTTPInstrumenter is implemented by tracers that can trace outgoing HTTP
// calls (Cal.com) themselves.
type HTTPInstrumenter interface {
	InstrumentHTTPClient(c *http.Client) *http.Client
}

// InstrumentHTTPClient returns c traced by t when t can do that, else c.
func InstrumentHTTPClient(t Tracer, c *http.Client) *http.Client {
	if hi, ok := t.(HTTPInstrumenter); ok {
		return hi.InstrumentHTTPClient(c)
	}
	return c
}
