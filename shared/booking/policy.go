package booking

import (
	"sort"
	"time"
)

// ResolvePolicy merges policy levels from the most specific to the most general
// (staff, service, branch, tenant): the first level that sets a field wins.
func ResolvePolicy(levels ...Policy) Policy {
	var out Policy
	for _, p := range levels {
		if out.CancelNoticeHours == nil {
			out.CancelNoticeHours = p.CancelNoticeHours
		}
		if out.RescheduleNoticeHours == nil {
			out.RescheduleNoticeHours = p.RescheduleNoticeHours
		}
		if out.MaxReschedulesPerAppointment == nil {
			out.MaxReschedulesPerAppointment = p.MaxReschedulesPerAppointment
		}
		if out.MaxCancellationsPerMonth == nil {
			out.MaxCancellationsPerMonth = p.MaxCancellationsPerMonth
		}
		if len(out.FeeTiers) == 0 && len(p.FeeTiers) > 0 {
			out.FeeTiers = p.FeeTiers
		}
	}
	return out
}

// Rules a decision can name.
const (
	RuleNone           = ""
	RuleNotice         = "notice"
	RuleMaxReschedules = "max_reschedules"
	RuleMonthlyQuota   = "monthly_quota"
	RulePast           = "past"
)

// PolicyDecision is the outcome of the policy engine for one change.
type PolicyDecision struct {
	Allowed     bool
	Rule        string  // which rule denied it (RuleNone when allowed)
	HoursBefore float64 // how far ahead of the appointment the change is asked
	NoticeHours int     // the notice the rule requires
	Limit, Used int     // for quota rules
	FeeCents    int64   // fee due if allowed (or that would be due if forced)
}

// CancellationWindow is how far back cancellations count toward the
// monthly quota (a rolling 30 days, so the count never resets at a month
// boundary in the caller's favour or against it).
const CancellationWindow = 30 * 24 * time.Hour

// DecideCancel applies notice, quota and fee rules to a cancellation.
// Exactly the required notice is enough (the boundary is inclusive).
func DecideCancel(p Policy, start, now time.Time, cancellationsInWindow int) PolicyDecision {
	d := PolicyDecision{Allowed: true, HoursBefore: start.Sub(now).Hours()}
	d.FeeCents = Fee(p, d.HoursBefore)
	if !start.After(now) {
		d.Allowed, d.Rule = false, RulePast
		return d
	}
	if p.CancelNoticeHours != nil && d.HoursBefore < float64(*p.CancelNoticeHours) {
		d.Allowed, d.Rule, d.NoticeHours = false, RuleNotice, *p.CancelNoticeHours
		return d
	}
	if p.MaxCancellationsPerMonth != nil && cancellationsInWindow >= *p.MaxCancellationsPerMonth {
		d.Allowed, d.Rule = false, RuleMonthlyQuota
		d.Limit, d.Used = *p.MaxCancellationsPerMonth, cancellationsInWindow
	}
	return d
}

// DecideReschedule applies notice, the per-appointment reschedule limit and
// fee rules to moving an appointment.
func DecideReschedule(p Policy, start, now time.Time, rescheduleCount int) PolicyDecision {
	d := PolicyDecision{Allowed: true, HoursBefore: start.Sub(now).Hours()}
	d.FeeCents = Fee(p, d.HoursBefore)
	if !start.After(now) {
		d.Allowed, d.Rule = false, RulePast
		return d
	}
	notice := p.RescheduleNoticeHours
	if notice == nil {
		notice = p.CancelNoticeHours // moving frees the old time like a cancellation
	}
	if notice != nil && d.HoursBefore < float64(*notice) {
		d.Allowed, d.Rule, d.NoticeHours = false, RuleNotice, *notice
		return d
	}
	if p.MaxReschedulesPerAppointment != nil && rescheduleCount >= *p.MaxReschedulesPerAppointment {
		d.Allowed, d.Rule = false, RuleMaxReschedules
		d.Limit, d.Used = *p.MaxReschedulesPerAppointment, rescheduleCount
	}
	return d
}

// Fee returns the fee of the highest tier whose threshold the change meets.
// Without tiers a change is free.
func Fee(p Policy, hoursBefore float64) int64 {
	tiers := append([]FeeTier(nil), p.FeeTiers...)
	sort.Slice(tiers, func(i, j int) bool { return tiers[i].MinHoursBefore > tiers[j].MinHoursBefore })
	for _, t := range tiers {
		if hoursBefore >= float64(t.MinHoursBefore) {
			return t.FeeCents
		}
	}
	return 0
}

// IntPtr is a small helper for building policies.
func IntPtr(v int) *int { return &v }
