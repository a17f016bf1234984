// Package xraytracer is the AWS X-Ray implementation of platform.Tracer. It
// is a package of its own so that only wiring code imports the X-Ray SDK
// (which adds megabytes to a binary and is in maintenance mode).
package xraytracer

import (
	"context"
	"net/http"

	"github.com/aws/aws-xray-sdk-go/xray"
)

// Tracer opens X-Ray subsegments under the segment in the context: on Lambda
// the facade segment derived from the invocation's trace header. Outside a
// segment it does nothing (with AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR, or the
// Config below, no error is logged either).
type Tracer struct{}

// New returns the X-Ray tracer.
func New() Tracer { return Tracer{} }

// Start begins a subsegment called name.
func (Tracer) Start(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return ctx, func(error) {}
	}
	return ctx, func(err error) { seg.Close(err) }
}

// InstrumentHTTPClient records outgoing requests as subsegments.
func (Tracer) InstrumentHTTPClient(c *http.Client) *http.Client {
	return xray.Client(c)
}
