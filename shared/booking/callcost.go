package booking

import "math"

// DefaultUSDToEUR is the exchange rate used when none is configured.
const DefaultUSDToEUR = 0.92

// Bounds that keep the fixed-point arithmetic far from int64 overflow:
// 1e7 USD cents ($100,000) per call and a 31-day call are not real calls.
const (
	maxUSDCents   = 1e7
	maxDurationMS = 31 * 24 * 3600 * 1000
)

// CallCostInput is everything the price of one call depends on.
type CallCostInput struct {
	// CombinedCostUSDCents is Retell's call_cost.combined_cost: USD cents,
	// fractional. 0 when Retell has not reported it yet.
	CombinedCostUSDCents float64
	DurationMS           int64
	USDToEUR             float64 // 0 (or implausible) = DefaultUSDToEUR
	Pricing              Pricing
	// MinutesUsedThisMonth are the billed minutes of the tenant's OTHER
	// calls this month that started before this one. Excluding this call
	// makes recomputation idempotent: the same call always gets the same
	// price, however often its events arrive.
	MinutesUsedThisMonth int
}

// CallCostBreakdown explains a CallCost (stored with it as JSON).
type CallCostBreakdown struct {
	RetellCostKnown        bool    `json:"retell_cost_known"` // false: no (usable) Retell cost yet, platform cost is 0
	RetellUSDCentsExact    float64 `json:"retell_usd_cents_exact"`
	ExchangeRate           float64 `json:"exchange_rate"`
	BilledMinutes          int     `json:"billed_minutes"`            // started minutes of this call
	IncludedMinutesApplied int     `json:"included_minutes_applied"`  // of those, covered by the monthly allowance
	ChargeableMinutes      int     `json:"chargeable_minutes"`        // billed - included
	PerMinuteCents         int64   `json:"per_minute_cents"`          // tenant price per started minute
	MinuteChargeEURCents   int64   `json:"minute_charge_eur_cents"`   // chargeable × per minute
	PerCallChargeEURCents  int64   `json:"per_call_charge_eur_cents"` // flat fee (connected calls only)
	IncludedLeftAfterCall  int     `json:"included_left_after_call"`
}

// ComputeCallCost prices one call. See ComputeCallCostBreakdown.
func ComputeCallCost(in CallCostInput) CallCost {
	c, _ := ComputeCallCostBreakdown(in)
	return c
}

// ComputeCallCostBreakdown prices one call and explains the result. It is
// a pure function of its input: recomputing with better numbers (a later
// event with Retell's real cost) simply replaces the earlier result.
//
//   - Platform cost: Retell's combined cost converted to EUR cents,
//     rounded half up. Computed in fixed point (1e-4 cents, rate to 6
//     decimals as stored) so equal inputs give equal cents on every machine.
//   - Billed minutes: started minutes, ceil(duration / 60 s); 0 s = 0.
//   - Included minutes are consumed first; only the rest is charged at
//     the tenant's per-minute price (a call that crosses the allowance is
//     charged for the part beyond it).
//   - The per-call fee applies to every connected call (duration > 0), the
//     allowance covers minutes only.
//
// Negative, NaN, infinite or absurd inputs count as 0 (durations are
// capped at 31 days).
func ComputeCallCostBreakdown(in CallCostInput) (CallCost, CallCostBreakdown) {
	rate := in.USDToEUR
	if !(rate > 0.1 && rate < 10) { // also catches NaN
		rate = DefaultUSDToEUR
	}
	rateMicro := int64(math.Round(rate * 1e6))
	usd := in.CombinedCostUSDCents
	if !(usd > 0 && usd <= maxUSDCents) { // NaN, ±Inf, negative and absurd values
		usd = 0
	}
	known := usd > 0
	usdTenThousandths := int64(math.Round(usd * 1e4)) // 1e-4 cents
	// EUR cents = usd × rate, half up: (a·b + ½·1e10) / 1e10.
	const scale = int64(1e4 * 1e6)
	platform := (usdTenThousandths*rateMicro + scale/2) / scale
	retellUSD := (usdTenThousandths + 5000) / 10000

	var billed int
	if d := min(in.DurationMS, maxDurationMS); d > 0 {
		billed = int((d + 59_999) / 60_000)
	}
	used := max(in.MinutesUsedThisMonth, 0)
	left := max(in.Pricing.IncludedMinutesPerMonth-used, 0)
	included := min(billed, left)
	chargeable := billed - included
	perMinute := max(in.Pricing.PerMinuteCents, 0)
	minuteCharge := int64(chargeable) * perMinute
	var perCall int64
	if in.DurationMS > 0 {
		perCall = max(in.Pricing.PerCallCents, 0)
	}

	cost := CallCost{
		RetellUSDCents:   retellUSD,
		PlatformEURCents: platform,
		CustomerEURCents: minuteCharge + perCall,
		ExchangeRate:     float64(rateMicro) / 1e6,
		BilledMinutes:    billed,
	}
	return cost, CallCostBreakdown{
		RetellCostKnown:        known,
		RetellUSDCentsExact:    float64(usdTenThousandths) / 1e4,
		ExchangeRate:           cost.ExchangeRate,
		BilledMinutes:          billed,
		IncludedMinutesApplied: included,
		ChargeableMinutes:      chargeable,
		PerMinuteCents:         perMinute,
		MinuteChargeEURCents:   minuteCharge,
		PerCallChargeEURCents:  perCall,
		IncludedLeftAfterCall:  left - included,
	}
}
