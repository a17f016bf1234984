package app

import (
	"context"
	"encoding/json"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calsync"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/privacy"
	"github.com/telefonagent/gateway/shared/queue"
	"github.com/telefonagent/gateway/shared/worker"
)

func init() {
	extraHTTP["calcom-webhook"] = func(d *Deps) apigw.Handler {
		return d.Syncer().WebhookHandler(calsync.WebhookOptions{
			Secrets: d.calcomWebhookSecrets,
			Metrics: d.Metrics,
		})
	}
	extraHTTP["privacy"] = func(d *Deps) apigw.Handler {
		return privacy.Handler(d.Privacy(), d.Config.Stage, d.AdminToken)
	}
	lambdaWrappers["privacy"] = privacy.WithCallerIdentity
	for typ := range worker.NewHandlers(worker.Deps{}) {
		typ := typ
		jobHandlers[typ] = func(d *Deps) queue.HandlerFunc { return d.WorkerHandlers()[typ] }
	}
	onFinalFailure = func(d *Deps) func(ctx context.Context, j queue.Job, err error) { return d.Worker().OnFinalFailure }
	onResult = func(d *Deps) func(queue.Result) { return d.Worker().OnResult }
	invocations["retention"] = func(ctx context.Context, d *Deps, _ json.RawMessage) (any, error) {
		return (&privacy.Retention{Store: d.Store, Logger: d.Logger}).Run(ctx)
	}
	invocations["reconcile"] = func(ctx context.Context, d *Deps, raw json.RawMessage) (any, error) {
		var ev struct {
			TenantID string `json:"tenant_id"` // on demand: one tenant; scheduled: all
		}
		_ = json.Unmarshal(raw, &ev)
		r := d.Reconciler()
		if ev.TenantID != "" {
			return r.Run(ctx, ev.TenantID)
		}
		return r.RunAll(ctx)
	}
}

// Syncer applies Cal.com booking events to our appointments.
func (d *Deps) Syncer() *calsync.Syncer {
	s := &calsync.Syncer{Store: d.Store, Queue: d.Publisher, Clock: d.Clock, Logger: d.Logger, Metrics: d.Metrics}
	if c := d.SlotCache(); c != nil {
		s.Cache = c
	}
	return s
}

// Reconciler repairs differences between Cal.com and our appointments.
func (d *Deps) Reconciler() *calsync.Reconciler {
	return &calsync.Reconciler{Syncer: d.Syncer(), Store: d.Store, ClientFor: d.CalcomClient}
}

// Worker is the retry worker's dependency set.
func (d *Deps) Worker() worker.Deps {
	w := worker.Deps{Store: d.Store, ClientFor: d.CalcomClient, Syncer: d.Syncer(), Queue: d.Publisher,
		Clock: d.Clock, Logger: d.Logger, Metrics: d.Metrics}
	if d.Store != nil {
		w.RecordRaw = d.Recorder().RecordRaw
	}
	if c := d.SlotCache(); c != nil {
		w.Cache = c
	}
	return w
}

// WorkerHandlers are the retry worker's job handlers.
func (d *Deps) WorkerHandlers() map[string]queue.HandlerFunc { return worker.NewHandlers(d.Worker()) }

// Privacy is the GDPR export/erasure service.
func (d *Deps) Privacy() *privacy.Service {
	svc := &privacy.Service{Store: d.Store, Logger: d.Logger}
	if d.Calendar != nil {
		svc.Calendar = d.Calendar
	}
	return svc
}

var _ = booking.KindInvalid
var _ = platform.StageDev
