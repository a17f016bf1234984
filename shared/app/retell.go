package app

import (
	"context"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/calls"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/redis"
	"github.com/telefonagent/gateway/shared/retell"
)

func init() {
	extraHTTP["retell-inbound"] = func(d *Deps) apigw.Handler { return calls.InboundHandler(d.Inbound(), d.RetellGuard()) }
	extraHTTP["retell-events"] = func(d *Deps) apigw.Handler { return calls.EventsHandler(d.Recorder(), d.RetellGuard()) }
	// Retell's call events carry whole transcripts (tens of KB, more for
	// long calls): they get Retell's own limit instead of the default.
	maxBody["retell-events"] = retell.MaxBodyBytes
	maxBody["retell-inbound"] = retell.MaxBodyBytes
}

// RetellGuard is the X-Retell-Signature check of every Retell route
// (inbound, events, in-call functions). Signature enforcement is off only
// in the dev stage (platform refuses it elsewhere); a refusal is counted
// and answered 401.
func (d *Deps) RetellGuard() retell.Guard {
	return retell.Guard{
		Keys: func(ctx context.Context) ([]string, error) {
			return d.rotatingSecret(ctx, d.Config.RetellAPIKeySecret, d.RetellAPIKey)
		},
		Clock: d.Clock, Enforce: d.Flags.SignatureEnforcement,
		Rejected: func() { d.Metrics.Count(platform.MetricWebhookSignatureFailures, 1) },
	}
}

// calcomWebhookSecrets are the Cal.com webhook secrets that verify.
func (d *Deps) calcomWebhookSecrets(ctx context.Context) ([]string, error) {
	return d.rotatingSecret(ctx, d.Config.CalcomWebhookSecret, d.CalcomWebhookSecret)
}

// rotatingSecret returns the values of a verification secret, current
// first: read through d.Secrets (cached) when set, else the fixed value.
func (d *Deps) rotatingSecret(ctx context.Context, id, fixed string) ([]string, error) {
	v := fixed
	if d.Secrets != nil && id != "" {
		var err error
		if v, err = d.Secrets.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	return platform.ParseRotatingSecret(v)
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
