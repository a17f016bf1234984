//go:build xray

package app

import (
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/platform/xraytracer"
)

func newTracer() platform.Tracer { return xraytracer.New() }
