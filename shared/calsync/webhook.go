package calsync

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calcom"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/queue"
)

// WebhookOptions configure the calcom-webhook handler.
type WebhookOptions struct {
	// Secrets returns the webhook secrets that verify (from Secrets
	// Manager): the one configured in Cal.com, during a rotation also the
	// previous one. An error or none answers 500: our misconfiguration, loudly.
	Secrets func(ctx context.Context) ([]string, error)
	// Metrics for the signature-failure and event counters (base dimension
	// Function is the writer's); nil = none.
	Metrics Metrics
}

// WebhookHandler is POST /webhooks/calcom. It verifies X-Cal-Signature-256
// over the raw body before looking at anything (401 and a metric when it is
// missing, "no-secret-provided" or wrong), answers PING with 200 and stores
// nothing, applies booking lifecycle events and answers 200 for every other
// trigger. When the database is unreachable the raw body goes to the retry
// queue as a calcom.event job (200); when the queue is unreachable too the
// answer is 503 (Cal.com does not retry; reconciliation repairs).
func (s *Syncer) WebhookHandler(o WebhookOptions) apigw.Handler {
	m := o.Metrics
	if m == nil {
		m = noMetrics{}
	}
	return func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
		var secrets []string
		var err error
		if o.Secrets != nil {
			secrets, err = o.Secrets(ctx)
		}
		if err == nil && len(secrets) == 0 {
			err = booking.Errorf(booking.KindInternal, "calsync.webhook", "no webhook secret configured")
		}
		if err != nil {
			return nil, booking.Wrap(booking.KindInternal, "calsync.webhook", err, "webhook secret unavailable")
		}
		if err := calcom.VerifySignature(r.Body, r.Header(calcom.SignatureHeader), secrets...); err != nil {
			m.Count(platform.MetricWebhookSignatureFailures, 1)
			return nil, err
		}
		ev, err := calcom.ParseWebhook(r.Body)
		if err != nil {
			return nil, err // 400: signed but unreadable; retrying cannot help
		}
		apigw.AddLogAttrs(ctx, slog.String("trigger", ev.TriggerEvent))
		m.Count(platform.MetricWebhookEvents, 1, platform.DimEventType, ev.TriggerEvent)
		if ev.TriggerEvent == calcom.TriggerPing || !ev.IsBookingLifecycle() {
			return ok("ignored"), nil
		}
		apigw.AddLogAttrs(ctx, slog.String("uid", ev.Payload.UID))
		res, err := s.Process(ctx, ev)
		if err == nil {
			apigw.AddLogAttrs(ctx, slog.String("result", string(res)))
			return ok(string(res)), nil
		}
		if booking.KindOf(err) != booking.KindTransient {
			return nil, err
		}
		// The database is unreachable (or busy): keep the event for the worker.
		if qerr := s.enqueueRaw(ctx, r.Body); qerr != nil {
			s.log().ErrorContext(ctx, "cal.com webhook neither stored nor queued", "trigger", ev.TriggerEvent, "uid", ev.Payload.UID,
				"error_kind", string(booking.KindOf(err)), "queue_error_kind", string(booking.KindOf(qerr)))
			return nil, booking.Wrap(booking.KindTransient, "calsync.webhook", qerr, "event could not be stored or queued")
		}
		s.log().WarnContext(ctx, "cal.com webhook queued: database unavailable", "trigger", ev.TriggerEvent, "uid", ev.Payload.UID,
			"error_kind", string(booking.KindOf(err)))
		m.Count(platform.MetricWebhookEventsDeferred, 1, platform.DimEventType, ev.TriggerEvent)
		apigw.AddLogAttrs(ctx, slog.String("result", "queued"))
		return ok("queued"), nil
	}
}

// enqueueRaw publishes the verified body as a calcom.event job. The tenant
// is not known without the database, so the job has none.
func (s *Syncer) enqueueRaw(ctx context.Context, body []byte) error {
	if s.Queue == nil {
		return booking.Errorf(booking.KindTransient, "calsync.enqueue", "no retry queue configured")
	}
	if !json.Valid(body) {
		return booking.Errorf(booking.KindInvalid, "calsync.enqueue", "body is not JSON")
	}
	j, err := queue.NewJob(queue.TypeCalcomEvent, "", "", json.RawMessage(body), s.clock().Now())
	if err != nil {
		return err
	}
	return s.Queue.Publish(ctx, j)
}

func ok(result string) *apigw.Response {
	r := apigw.JSON(http.StatusOK, map[string]string{"result": result})
	return r
}
