package calls

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/spoken"
)

// DefaultFallback lets Retell use the number's own agent unchanged.
var DefaultFallback = json.RawMessage(`{"call_inbound":{}}`)

// DefaultInboundBudget bounds the work done while the phone rings. Retell
// waits 10 s and retries; the call should ring through long before that,
// so a dependency slower than this is treated as absent.
const DefaultInboundBudget = 3 * time.Second

// PrefetchJob is the payload of an availability.prefetch job: warm the
// branch's availability cache while the caller is still being greeted.
type PrefetchJob struct {
	TenantID string `json:"tenant_id"`
	BranchID string `json:"branch_id"`
}

// Inbound answers Retell's call_inbound webhook.
type Inbound struct {
	Directory    booking.Directory // dialled number → tenant and branch (Redis-cached)
	Customers    CustomerFinder    // nil: callers are never recognised
	Appointments UpcomingLister    // nil: no next_appointment_spoken
	// Queue receives the availability prefetch; nil or Prefetch false: none.
	Queue    booking.Enqueuer
	Prefetch bool // platform.Flags.AvailabilityPrefetch; a tenant's own flag overrides it
	// AllowPrefetch lets at most one prefetch per branch per minute
	// through (PrefetchGate). nil: every call enqueues one.
	AllowPrefetch func(ctx context.Context, tenantID, branchID string) bool
	// Fallback is the tenant-independent answer for numbers we do not
	// serve (a JSON object; empty or invalid = DefaultFallback).
	Fallback json.RawMessage
	Budget   time.Duration // 0 = DefaultInboundBudget
	Clock    booking.Clock
	Logger   *slog.Logger
	Metrics  Metrics
}

// Inbound outcomes (log attribute "outcome", metric dimension).
const (
	OutcomeRouted               = "routed"
	OutcomeUnknownNumber        = "unknown_number"
	OutcomeDirectoryUnavailable = "directory_unavailable"
	OutcomeIgnored              = "ignored"
)

// InboundResult is the answer to one call_inbound.
type InboundResult struct {
	Outcome  string
	TenantID string
	BranchID string
	// Response is the answer when Outcome is OutcomeRouted.
	Response retell.InboundResponse
	// Body is the JSON to send: Response encoded, or the fallback.
	Body []byte
}

// FallbackBody returns the configured fallback, or DefaultFallback when it
// is missing or not a JSON object.
func (in *Inbound) FallbackBody() []byte {
	var probe map[string]json.RawMessage
	if len(in.Fallback) == 0 || json.Unmarshal(in.Fallback, &probe) != nil {
		return DefaultFallback
	}
	return in.Fallback
}

// Answer routes a ringing call. It never fails: every problem ends in the
// fallback answer (the call must ring through) and a log line. Caller
// recognition and the prefetch are best effort on top of a routed answer.
func (in *Inbound) Answer(ctx context.Context, ci retell.CallInbound) InboundResult {
	budget := in.Budget
	if budget <= 0 {
		budget = DefaultInboundBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	log, metrics := logOr(in.Logger), metricsOr(in.Metrics)

	num, tenant, branch, err := in.Directory.ResolveNumber(ctx, ci.ToNumber)
	if err != nil {
		switch booking.KindOf(err) {
		case booking.KindNotFound, booking.KindInvalid:
			log.WarnContext(ctx, "inbound call to a number no tenant serves; answering the fallback")
			metrics.Count(MetricInboundFallback, 1, platform.DimOutcome, OutcomeUnknownNumber)
			return InboundResult{Outcome: OutcomeUnknownNumber, Body: in.FallbackBody()}
		default:
			log.ErrorContext(ctx, "inbound routing failed; answering the fallback", kindAttr(err), errAttr(err))
			metrics.Count(MetricInboundFallback, 1, platform.DimOutcome, OutcomeDirectoryUnavailable)
			return InboundResult{Outcome: OutcomeDirectoryUnavailable, Body: in.FallbackBody()}
		}
	}
	if num.AgentID != "" && ci.AgentID != "" && num.AgentID != ci.AgentID {
		log.WarnContext(ctx, "inbound agent differs from the number's configured agent",
			slog.String("tenant", tenant.ID), slog.String("branch", branch.ID))
	}

	// The prefetch runs beside the caller lookup; both end before we answer
	// (a Lambda may freeze as soon as the answer is returned).
	prefetch := in.Prefetch
	if v, ok := tenant.Flags[platform.FlagAvailabilityPrefetch]; ok {
		prefetch = v // the tenant file overrides the stage's flag
	}
	var wg sync.WaitGroup
	if prefetch && in.Queue != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.prefetch(ctx, tenant.ID, branch.ID)
		}()
	}
	vars := in.variables(ctx, ci, tenant, branch)
	wg.Wait()

	resp := retell.InboundResponse{CallInbound: retell.InboundConfig{
		DynamicVariables: vars,
		Metadata:         map[string]any{"tenant_id": tenant.ID, "branch_id": branch.ID},
	}}
	body, err := json.Marshal(resp)
	if err != nil { // plain strings cannot fail to encode
		return InboundResult{Outcome: OutcomeDirectoryUnavailable, Body: in.FallbackBody()}
	}
	metrics.Count(platform.MetricWebhookEvents, 1, platform.DimEventType, retell.EventCallInbound)
	return InboundResult{Outcome: OutcomeRouted, TenantID: tenant.ID, BranchID: branch.ID, Response: resp, Body: body}
}

// variables builds the dynamic variables. Retell accepts strings only.
func (in *Inbound) variables(ctx context.Context, ci retell.CallInbound, tenant booking.Tenant, branch booking.Branch) map[string]string {
	log := logOr(in.Logger)
	locale := localeOf(tenant)
	loc, err := loadLocation(branch.TimeZone)
	if err != nil {
		log.ErrorContext(ctx, "branch time zone unknown; using UTC", slog.String("tenant", tenant.ID), slog.String("branch", branch.ID))
		loc = time.UTC
	}
	now := clockOr(in.Clock).Now().In(loc)
	vars := map[string]string{
		"business_name":           tenant.Name,
		"branch_name":             branch.Name,
		"tenant_id":               tenant.ID,
		"branch_id":               branch.ID,
		"time_zone":               loc.String(),
		"language":                locale,
		"current_date_iso":        now.Format(time.DateOnly),
		"current_datetime_iso":    now.Format(time.RFC3339),
		"current_date_spoken":     spoken.SpokenDate(now, loc, locale),
		"current_time_spoken":     spoken.SpokenTime(now, loc, locale),
		"opening_hours_spoken":    spoken.SpokenOpeningHours(branch.OpeningHours, locale),
		"caller_known":            "false",
		"caller_first_name":       "",
		"next_appointment_spoken": "",
		"next_appointment_iso":    "",
	}
	if ci.Anonymous() || in.Customers == nil {
		return vars
	}
	cust, err := in.Customers.FindCustomerByPhone(ctx, tenant.ID, ci.FromNumber)
	if err != nil {
		if k := booking.KindOf(err); k != booking.KindNotFound && k != booking.KindInvalid {
			log.WarnContext(ctx, "caller lookup failed; answering as unknown caller", slog.String("tenant", tenant.ID), kindAttr(err), errAttr(err))
		}
		return vars
	}
	vars["caller_known"] = "true"
	vars["caller_first_name"] = cust.FirstName()
	if in.Appointments == nil {
		return vars
	}
	appts, err := in.Appointments.UpcomingAppointments(ctx, tenant.ID, cust.ID, now, 1)
	if err != nil {
		log.WarnContext(ctx, "upcoming appointments unavailable", slog.String("tenant", tenant.ID), kindAttr(err), errAttr(err))
		return vars
	}
	if len(appts) == 0 {
		return vars
	}
	a := appts[0]
	when := spoken.SpokenDateTime(a.Start, loc, locale)
	vars["next_appointment_iso"] = a.Start.In(loc).Format(time.RFC3339)
	vars["next_appointment_spoken"] = when
	if name := in.serviceName(ctx, tenant.ID, branch.ID, a.ServiceID); name != "" {
		if locale == "en" {
			vars["next_appointment_spoken"] = name + " on " + when
		} else {
			vars["next_appointment_spoken"] = name + " am " + when
		}
	}
	return vars
}

// serviceName finds the spoken name of a service; "" when unknown.
func (in *Inbound) serviceName(ctx context.Context, tenantID, branchID, serviceID string) string {
	if serviceID == "" {
		return ""
	}
	svcs, err := in.Directory.Services(ctx, tenantID, branchID)
	if err != nil {
		return ""
	}
	for _, s := range svcs {
		if s.ID == serviceID {
			return s.Name
		}
	}
	return ""
}

// prefetch enqueues the branch's availability prefetch, at most once per
// branch per minute. Optional work: failures are logged and forgotten.
func (in *Inbound) prefetch(ctx context.Context, tenantID, branchID string) {
	if in.AllowPrefetch != nil && !in.AllowPrefetch(ctx, tenantID, branchID) {
		return
	}
	minute := clockOr(in.Clock).Now().Unix() / 60
	key := "prefetch:" + branchID + ":" + strconv.FormatInt(minute, 10)
	if err := in.Queue.Enqueue(ctx, booking.JobPrefetch, tenantID, key, PrefetchJob{TenantID: tenantID, BranchID: branchID}); err != nil {
		logOr(in.Logger).WarnContext(ctx, "availability prefetch not enqueued", slog.String("tenant", tenantID), kindAttr(err), errAttr(err))
	}
}
