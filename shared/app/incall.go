package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/retell"
)

// InCallOp is one in-call use case of the Scheduler.
type InCallOp func(ctx context.Context, call incall.Call, args incall.Args) (incall.Answer, error)

// InCallOps maps catalogued function names to use cases.
func InCallOps(s *incall.Scheduler) map[string]InCallOp {
	return map[string]InCallOp{
		"check-availability":     s.CheckAvailability,
		"book-appointment":       s.Book,
		"cancel-appointment":     s.Cancel,
		"reschedule-appointment": s.Reschedule,
		"find-appointments":      s.FindAppointments,
		"list-services":          s.ListServices,
	}
}

// VerifyRetell checks X-Retell-Signature on the raw body unless signature
// enforcement is off (allowed only in the dev stage; platform refuses it
// elsewhere). A failure is counted and answered 401.
func VerifyRetell(d *Deps, r *apigw.Request) error {
	if !d.Flags.SignatureEnforcement {
		return nil
	}
	v := retell.Verifier{APIKey: d.RetellAPIKey, Clock: d.Clock}
	// Whitespace around the header value is no forgery (reference scenario 4).
	if err := v.Verify(r.Body, strings.TrimSpace(r.Header(retell.SignatureHeader))); err != nil {
		d.Metrics.Count(platform.MetricWebhookSignatureFailures, 1)
		return err
	}
	return nil
}

// InCallHandler is the HTTP side of an in-call function: signature,
// envelope, arguments, use case, answer. Only a broken envelope (400) or a
// bad signature (401) is an HTTP error; everything else is a 200 answer the
// agent can say.
func InCallHandler(d *Deps, op InCallOp) apigw.Handler {
	return func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
		if err := VerifyRetell(d, r); err != nil {
			return nil, err
		}
		// The injected clock bounds call.start_timestamp, like the signature
		// window: the system clock would reject replays and tests alike.
		fc, err := retell.Decoder{Clock: d.Clock}.ParseFunctionCall(r.Body)
		if err != nil {
			return nil, err
		}
		cc, err := retell.ResolveContext(fc, r.Header, r.Query)
		if err != nil {
			return nil, err
		}
		if cc.ToNumber == "" {
			return nil, booking.Errorf(booking.KindInvalid, "incall", "the call context has no to_number (send the envelope, or X-Retell-To-Number)")
		}
		args, err := incall.DecodeArgs(fc.Args)
		if err != nil {
			return nil, err
		}
		apigw.AddLogAttrs(ctx, slog.String("call_id", cc.CallID))
		call := incall.Call{CallID: cc.CallID, FromNumber: cc.FromNumber, ToNumber: cc.ToNumber, AgentID: cc.AgentID, StartMS: cc.StartTimestamp}
		ans, err := op(ctx, call, args)
		if err != nil {
			// A store or directory outage before anything happened: say so
			// honestly rather than failing the call with a 5xx.
			d.Logger.WarnContext(ctx, "in-call dependency failure", "call_id", cc.CallID, "error_kind", string(booking.KindOf(err)), "error", booking.MessageOf(err))
			ans = incall.Answer{OK: false, Reason: incall.ReasonCalendarUnavailable,
				Message: "Ich komme gerade nicht an unsere Termindaten. Bitte versuchen Sie es in ein paar Minuten noch einmal, oder wir rufen Sie zurück."}
		}
		outcome := "ok"
		if !ans.OK {
			outcome = ans.Reason
		}
		apigw.AddLogAttrs(ctx, slog.String("outcome", outcome))
		return apigw.JSON(http.StatusOK, ans), nil
	}
}
