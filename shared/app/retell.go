package app

import (
	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/calls"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/retell"
)

func init() {
	extraHTTP["retell-inbound"] = func(d *Deps) apigw.Handler { return calls.InboundHandler(d.Inbound(), d.retellSignature()) }
	extraHTTP["retell-events"] = func(d *Deps) apigw.Handler { return calls.EventsHandler(d.Recorder(), d.retellSignature()) }
	// Retell's call events carry whole transcripts (tens of KB, more for
	// long calls): they get Retell's own limit instead of the default.
	maxBody["retell-events"] = retell.MaxBodyBytes
	maxBody["retell-inbound"] = retell.MaxBodyBytes
}

func (d *Deps) retellSignature() calls.Signature {
	return calls.Signature{Verifier: retell.Verifier{APIKey: d.RetellAPIKey, Clock: d.Clock}, Enforce: d.Flags.SignatureEnforcement, Metrics: d.Metrics}
}

// Inbound is the call_inbound use case.
func (d *Deps) Inbound() *calls.Inbound {
	in := &calls.Inbound{Directory: d.Directory(), Customers: d.Store, Appointments: d.Store, Queue: d.Enqueuer(),
		Prefetch: d.Flags.AvailabilityPrefetch, Fallback: d.InboundFallback, Clock: d.Clock, Logger: d.Logger, Metrics: d.Metrics}
	if d.Redis != nil {
		in.AllowPrefetch = calls.PrefetchGate(&redis.Gate{Client: d.Redis}, d.Keys, calls.PrefetchPeriod)
	}
	return in
}

// Recorder stores Retell call events.
func (d *Deps) Recorder() *calls.Recorder {
	return &calls.Recorder{Directory: d.Directory(), Calls: d.Store, Customers: d.Store, Queue: d.Enqueuer(),
		USDToEUR: d.Config.USDToEUR, Clock: d.Clock, Logger: d.Logger, Metrics: d.Metrics}
}
