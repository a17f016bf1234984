package app

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/calls"
	"github.com/telefonagent/gateway/shared/incall"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/tenantfile"
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

// InCallHandler is the HTTP side of an in-call function: signature,
// envelope, arguments, who is calling, use case, answer. Only a broken
// envelope (400) or a bad signature (401) is an HTTP error; everything
// else is a 200 answer the agent can say.
//
// Who is calling comes from signed data only: the call object of Retell's
// default envelope, or, for an args-only body (a tenant must opt in), our
// record of the call the request names, written from Retell's signed call
// webhooks (see argsOnlyCall). No header or query parameter can name a
// caller.
func InCallHandler(d *Deps, op InCallOp) apigw.Handler {
	return func(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
		if err := d.RetellGuard().Check(ctx, r.Body, r.Header(retell.SignatureHeader)); err != nil {
			return nil, err
		}
		// The injected clock bounds call.start_timestamp, like the signature
		// window: the system clock would reject replays and tests alike.
		fc, err := retell.Decoder{Clock: d.Clock}.ParseFunctionCall(r.Body)
		if err != nil {
			return nil, err
		}
		args, err := incall.DecodeArgs(fc.Args)
		if err != nil {
			return nil, err
		}
		var call incall.Call
		if fc.Call != nil {
			cc := fc.Call.Context()
			if cc.ToNumber == "" {
				return nil, booking.Errorf(booking.KindInvalid, "incall", "the call object has no to_number")
			}
			call = incall.Call{CallID: cc.CallID, FromNumber: cc.FromNumber, ToNumber: cc.ToNumber, AgentID: cc.AgentID, StartMS: cc.StartTimestamp}
		} else {
			c, refused, err := argsOnlyCall(ctx, d, r)
			if err != nil {
				return nil, err
			}
			if refused != nil {
				apigw.AddLogAttrs(ctx, slog.String("outcome", refused.Reason))
				return apigw.JSON(http.StatusOK, *refused), nil
			}
			call = c
		}
		apigw.AddLogAttrs(ctx, slog.String("call_id", call.CallID))
		ans, err := op(ctx, call, args)
		if err != nil {
			// A store or directory outage before anything happened: say so
			// honestly rather than failing the call with a 5xx.
			d.Logger.WarnContext(ctx, "in-call dependency failure", "call_id", call.CallID, "error_kind", string(booking.KindOf(err)), "error", booking.MessageOf(err))
			ans = dependencyFailure()
		}
		outcome := "ok"
		if !ans.OK {
			outcome = ans.Reason
		}
		apigw.AddLogAttrs(ctx, slog.String("outcome", outcome))
		return apigw.JSON(http.StatusOK, ans), nil
	}
}

func dependencyFailure() incall.Answer {
	return incall.Answer{OK: false, Reason: incall.ReasonCalendarUnavailable,
		Message: "Ich komme gerade nicht an unsere Termindaten. Bitte versuchen Sie es in ein paar Minuten noch einmal, oder wir rufen Sie zurück."}
}

// argsOnlyHelp is how to fix a tool that sends no call object.
const argsOnlyHelp = "keep Retell's default payload ({name, call, args}) for this tool (switch \"Payload: args only\" off), " +
	"or set features." + tenantfile.FlagRetellArgsOnly + ": true in the tenant file and send the headers " +
	retell.HeaderCallID + ": {{call_id}} and " + retell.HeaderToNumber + ": {{agent_number}}"

// argsOnlyCall finds the call of a body without Retell's call object.
// The request may only name its call (X-Retell-Call-Id) and the dialled
// number (X-Retell-To-Number, to find the tenant): neither is signed, so
// the caller's number, the dialled number and the start are taken from our
// own record of that call, which only Retell's signed call_started/
// call_ended webhooks write. The signature is bound to the first call it
// is used for, so a captured body cannot act for another caller under
// another call id. A call we do not know as a live call of the tenant gets
// the honest "please call again" answer (refused), logged and counted, and
// nothing runs. A tenant that has not opted in gets a 400.
func argsOnlyCall(ctx context.Context, d *Deps, r *apigw.Request) (incall.Call, *incall.Answer, error) {
	const op = "incall.argsOnly"
	ref, err := retell.CallRefFrom(r.Header, r.Query)
	if err != nil {
		return incall.Call{}, nil, booking.Errorf(booking.KindInvalid, op, "the body has no call object (%s): %s", booking.MessageOf(err), argsOnlyHelp)
	}
	refuse := func(tenantID, locale, why string) (incall.Call, *incall.Answer, error) {
		d.Logger.WarnContext(ctx, "args-only function call not tied to a live call; nothing done",
			"call_id", ref.CallID, "tenant", tenantID, "outcome", why)
		d.Metrics.Count(platform.MetricCallUnverified, 1, platform.DimOutcome, why)
		a := incall.CallUnverified(locale)
		return incall.Call{}, &a, nil
	}
	_, tenant, _, err := d.Directory().ResolveNumber(ctx, ref.ToNumber)
	switch booking.KindOf(err) {
	case "":
	case booking.KindNotFound, booking.KindInvalid:
		return refuse("", "de", calls.UnverifiedUnknownNumber)
	default:
		d.Logger.WarnContext(ctx, "in-call dependency failure", "call_id", ref.CallID, "error_kind", string(booking.KindOf(err)), "error", booking.MessageOf(err))
		a := dependencyFailure()
		return incall.Call{}, &a, nil
	}
	if !tenant.Flags[tenantfile.FlagRetellArgsOnly] {
		return incall.Call{}, nil, booking.Errorf(booking.KindInvalid, op, "the body has no call object, and args-only function calls are off for this tenant: %s", argsOnlyHelp)
	}
	sigID := ""
	if d.Flags.SignatureEnforcement {
		sigID, _ = retell.SignatureID(r.Header(retell.SignatureHeader)) // verified above
	}
	id := calls.Identity{Calls: d.Store, Signatures: d.Store, Clock: d.Clock}
	c, why, err := id.Resolve(ctx, tenant.ID, ref.CallID, sigID)
	if err != nil {
		d.Logger.WarnContext(ctx, "in-call dependency failure", "call_id", ref.CallID, "error_kind", string(booking.KindOf(err)), "error", booking.MessageOf(err))
		a := dependencyFailure()
		return incall.Call{}, &a, nil
	}
	if why != "" {
		return refuse(tenant.ID, tenant.Locale, why)
	}
	from := c.FromNumber
	if from == "" {
		from = "anonymous" // suppressed numbers are stored as none
	}
	return incall.Call{CallID: c.CallID, FromNumber: from, ToNumber: c.ToNumber, AgentID: c.AgentID, StartMS: c.StartedAt.UnixMilli()}, nil, nil
}
