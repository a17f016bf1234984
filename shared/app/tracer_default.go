//go:build !xray

package app

import "github.com/telefonagent/gateway/shared/platform"

// newTracer: by default the functions carry no tracing SDK. Lambda's
// active tracing still records every invocation in X-Ray; build with
// `make build TRACING=xray` to add subsegments for MySQL, Redis and Cal.com
// calls. The X-Ray SDK adds about 16 MB to every binary (measured:
// 16.5 MB → 32.7 MB arm64), which breaks the 32 MB budget, and AWS ends its
// support on 2027-02-25 (successor: OpenTelemetry behind the same interface).
func newTracer() platform.Tracer { return platform.NopTracer{} }
