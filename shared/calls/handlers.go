package calls

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/retell"
)

var jsonHeaders = map[string]string{"Content-Type": "application/json"}

// InboundHandler serves POST /webhooks/retell/inbound. Signed, valid
// call_inbound events always get 200: the routed answer or the fallback.
// Other event types (chat_inbound) get 200 {} (Retell's defaults).
func InboundHandler(in *Inbound, sig retell.Guard) apigw.Handler {
	return func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
		if err := sig.Check(ctx, r.Body, r.Header(retell.SignatureHeader)); err != nil {
			return nil, err
		}
		ev, err := retell.Decoder{Clock: in.Clock}.ParseInbound(r.Body)
		if err != nil {
			return nil, err
		}
		if !ev.Known() {
			apigw.AddLogAttrs(ctx, slog.String("outcome", OutcomeIgnored))
			return &apigw.Response{Status: http.StatusOK, Headers: jsonHeaders, Body: []byte(`{}`)}, nil
		}
		res := in.Answer(ctx, ev.CallInbound)
		apigw.AddLogAttrs(ctx, slog.String("outcome", res.Outcome), slog.String("tenant", res.TenantID), slog.String("branch", res.BranchID))
		return &apigw.Response{Status: http.StatusOK, Headers: jsonHeaders, Body: res.Body}, nil
	}
}

// EventsHandler serves POST /webhooks/retell/events: 204 when the event
// was stored, deferred to the retry queue or is one we ignore; 400/413 for
// bad bodies; 401 unsigned; 503 when neither database nor queue took it.
func EventsHandler(rec *Recorder, sig retell.Guard) apigw.Handler {
	return func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
		if err := sig.Check(ctx, r.Body, r.Header(retell.SignatureHeader)); err != nil {
			return nil, err
		}
		res, err := rec.Accept(ctx, r.Body)
		if res.Event != "" {
			apigw.AddLogAttrs(ctx, slog.String("event", res.Event), slog.String("call_id", res.CallID),
				slog.String("tenant", res.TenantID), slog.String("outcome", res.Outcome))
		}
		if err != nil {
			return nil, err
		}
		return apigw.NoContent(), nil
	}
}
