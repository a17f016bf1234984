package app

import (
	"context"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/catalog"
	"github.com/telefonagent/gateway/shared/queue"
)

// HTTPHandlers returns the handler of every catalogued HTTP function that
// is implemented, keyed by function name. The dev gateway mounts all of
// them; a Lambda takes its own.
func HTTPHandlers(d *Deps) map[string]apigw.Handler {
	hs := map[string]apigw.Handler{"health": HealthHandler(d)}
	for name, op := range InCallOps(d.Scheduler()) {
		hs[name] = InCallHandler(d, op)
	}
	for name, mk := range extraHTTP {
		hs[name] = mk(d)
	}
	return hs
}

// extraHTTP lets other files register handlers (Retell and Cal.com
// webhooks, privacy) without this file knowing their packages.
var extraHTTP = map[string]func(*Deps) apigw.Handler{}

// maxBody overrides the default body limit per function.
var maxBody = map[string]int{}

type queueHandler = queue.HandlerFunc

// WrapOptions are the apigw options for function name.
func (d *Deps) WrapOptions(name string) apigw.Options {
	return apigw.Options{Logger: d.Logger, Metrics: d.Metrics, Tracer: d.Tracer, Clock: d.Clock, DetailedLogging: d.Flags.DetailedLogging, MaxBody: maxBody[name]}
}

// Routes mounts every implemented HTTP function on its catalogued routes
// through the same Wrap as on Lambda.
func Routes(d *Deps) []apigw.Route {
	hs := HTTPHandlers(d)
	var out []apigw.Route
	for _, fn := range catalog.HTTP() {
		h, ok := hs[fn.Name]
		if !ok {
			continue
		}
		out = append(out, apigw.RoutesFor(fn, apigw.Wrap(fn.Name, h, d.WrapOptions(fn.Name)))...)
	}
	return out
}

// NewProcessor builds the retry-worker processor with every registered job
// handler. o carries the queue-specific parts (visibility, dead letters).
func NewProcessor(d *Deps, o queue.ProcessorOptions) *queue.Processor {
	hs := map[string]queue.HandlerFunc{}
	for typ, mk := range jobHandlers {
		hs[typ] = mk(d)
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Clock == nil {
		o.Clock = d.Clock
	}
	if o.OnFinalFailure == nil && onFinalFailure != nil {
		o.OnFinalFailure = onFinalFailure(d)
	}
	if o.OnResult == nil && onResult != nil {
		o.OnResult = onResult(d)
	}
	return queue.NewProcessor(hs, o)
}

// onFinalFailure is registered by the worker wiring.
var onFinalFailure func(*Deps) func(ctx context.Context, j queue.Job, err error)

var onResult func(*Deps) func(queue.Result)

// jobHandlers lets other files register worker job handlers.
var jobHandlers = map[string]func(*Deps) queue.HandlerFunc{}
