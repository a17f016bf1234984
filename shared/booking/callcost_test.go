package booking

import (
	"math"
	"testing"
)

// The reference system's cost rules (original-system.md §10) ported as
// cases, minus its bugs:
//   - "month-to-date minutes < included → the whole call costs 0": a call
//     crossing the allowance is charged for the minutes beyond it;
//   - estimated Retell/Twilio/LLM costs (and LLM cents without FX): we never
//     invent a platform cost; it stays 0 (RetellCostKnown=false) until
//     Retell reports one, and the recomputation replaces it;
//   - duplicate cost rows on webhook retries / profits from estimates: the
//     computation is a pure function of its input, recomputing replaces;
//   - the 0.856 fallback rate: the configured default is 0.92 (issue 3);
//   - "no plan → 15 cents per started minute": a tenant without prices is
//     charged nothing (prices come only from the tenant file);
//   - reseller markups and profit margins are out of scope.
func TestComputeCallCost(t *testing.T) {
	cases := []struct {
		name string
		in   CallCostInput
		want CallCost
		bd   func(t *testing.T, b CallCostBreakdown)
	}{
		{
			name: "sample call_ended: 21.62 USD cents, 89.5 s, default rate",
			in:   CallCostInput{CombinedCostUSDCents: 21.62, DurationMS: 89500, Pricing: Pricing{PerMinuteCents: 39}},
			// 21.62 × 0.92 = 19.8904 → 20; 2 started minutes × 39
			want: CallCost{RetellUSDCents: 22, PlatformEURCents: 20, CustomerEURCents: 78, ExchangeRate: 0.92, BilledMinutes: 2},
		},
		{
			name: "configured rate is used, eur = round(usd × rate)",
			in:   CallCostInput{CombinedCostUSDCents: 100, DurationMS: 60000, USDToEUR: 0.856},
			want: CallCost{RetellUSDCents: 100, PlatformEURCents: 86, ExchangeRate: 0.856, BilledMinutes: 1},
		},
		{
			name: "half cent rounds up",
			in:   CallCostInput{CombinedCostUSDCents: 50, DurationMS: 1000, USDToEUR: 0.91},
			// 45.5 exactly (binary floats would give 45.499…) → 46
			want: CallCost{RetellUSDCents: 50, PlatformEURCents: 46, ExchangeRate: 0.91, BilledMinutes: 1},
		},
		{
			name: "USD cents round half up too",
			in:   CallCostInput{CombinedCostUSDCents: 12.5, DurationMS: 1000},
			want: CallCost{RetellUSDCents: 13, PlatformEURCents: 12, ExchangeRate: 0.92, BilledMinutes: 1}, // 11.5 → 12
		},
		{
			name: "per started minute: exactly 60 s is one minute",
			in:   CallCostInput{DurationMS: 60000, Pricing: Pricing{PerMinuteCents: 15}},
			want: CallCost{CustomerEURCents: 15, ExchangeRate: 0.92, BilledMinutes: 1},
		},
		{
			name: "per started minute: 60.001 s is two",
			in:   CallCostInput{DurationMS: 60001, Pricing: Pricing{PerMinuteCents: 15}},
			want: CallCost{CustomerEURCents: 30, ExchangeRate: 0.92, BilledMinutes: 2},
		},
		{
			name: "per minute and per call add up",
			in:   CallCostInput{DurationMS: 150000, Pricing: Pricing{PerMinuteCents: 20, PerCallCents: 50}},
			want: CallCost{CustomerEURCents: 3*20 + 50, ExchangeRate: 0.92, BilledMinutes: 3},
		},
		{
			name: "inside the allowance: minutes free, per-call fee still due",
			in:   CallCostInput{DurationMS: 180000, MinutesUsedThisMonth: 10, Pricing: Pricing{PerMinuteCents: 20, PerCallCents: 50, IncludedMinutesPerMonth: 100}},
			want: CallCost{CustomerEURCents: 50, ExchangeRate: 0.92, BilledMinutes: 3},
			bd: func(t *testing.T, b CallCostBreakdown) {
				if b.IncludedMinutesApplied != 3 || b.ChargeableMinutes != 0 || b.IncludedLeftAfterCall != 87 {
					t.Errorf("breakdown %+v", b)
				}
			},
		},
		{
			name: "crossing the allowance charges only the overage (original charged 0)",
			in:   CallCostInput{DurationMS: 5 * 60000, MinutesUsedThisMonth: 98, Pricing: Pricing{PerMinuteCents: 20, IncludedMinutesPerMonth: 100}},
			want: CallCost{CustomerEURCents: 3 * 20, ExchangeRate: 0.92, BilledMinutes: 5},
			bd: func(t *testing.T, b CallCostBreakdown) {
				if b.IncludedMinutesApplied != 2 || b.ChargeableMinutes != 3 || b.MinuteChargeEURCents != 60 || b.IncludedLeftAfterCall != 0 {
					t.Errorf("breakdown %+v", b)
				}
			},
		},
		{
			name: "allowance used up",
			in:   CallCostInput{DurationMS: 61000, MinutesUsedThisMonth: 250, Pricing: Pricing{PerMinuteCents: 20, IncludedMinutesPerMonth: 100}},
			want: CallCost{CustomerEURCents: 40, ExchangeRate: 0.92, BilledMinutes: 2},
		},
		{
			name: "not connected: nothing billed, Retell's cost still counted",
			in:   CallCostInput{CombinedCostUSDCents: 1.2, Pricing: Pricing{PerMinuteCents: 20, PerCallCents: 50}},
			want: CallCost{RetellUSDCents: 1, PlatformEURCents: 1, ExchangeRate: 0.92}, // 1.104 → 1
		},
		{
			name: "no Retell cost yet: platform 0, never estimated",
			in:   CallCostInput{DurationMS: 90000, Pricing: Pricing{PerMinuteCents: 10}},
			want: CallCost{CustomerEURCents: 20, ExchangeRate: 0.92, BilledMinutes: 2},
			bd: func(t *testing.T, b CallCostBreakdown) {
				if b.RetellCostKnown {
					t.Error("RetellCostKnown = true without a cost")
				}
			},
		},
		{
			name: "no prices: customer pays nothing (original defaulted to 15 ct/min)",
			in:   CallCostInput{CombinedCostUSDCents: 30, DurationMS: 120000},
			want: CallCost{RetellUSDCents: 30, PlatformEURCents: 28, ExchangeRate: 0.92, BilledMinutes: 2}, // 27.6 → 28
		},
		{
			name: "garbage in: NaN cost, negative duration, implausible rate, negative prices",
			in: CallCostInput{CombinedCostUSDCents: math.NaN(), DurationMS: -5, USDToEUR: 500,
				MinutesUsedThisMonth: -3, Pricing: Pricing{PerMinuteCents: -1, PerCallCents: -1, IncludedMinutesPerMonth: -10}},
			want: CallCost{ExchangeRate: 0.92},
		},
		{
			name: "infinite cost and absurd duration stay bounded",
			in:   CallCostInput{CombinedCostUSDCents: math.Inf(1), DurationMS: math.MaxInt64, Pricing: Pricing{PerMinuteCents: 1}},
			want: CallCost{ExchangeRate: 0.92, BilledMinutes: 31 * 24 * 60, CustomerEURCents: 31 * 24 * 60},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, bd := ComputeCallCostBreakdown(tc.in)
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			if again := ComputeCallCost(tc.in); again != got {
				t.Fatalf("not deterministic: %+v vs %+v", again, got)
			}
			if bd.BilledMinutes != got.BilledMinutes || bd.ExchangeRate != got.ExchangeRate ||
				bd.MinuteChargeEURCents+bd.PerCallChargeEURCents != got.CustomerEURCents ||
				bd.IncludedMinutesApplied+bd.ChargeableMinutes != bd.BilledMinutes {
				t.Fatalf("breakdown does not add up: %+v vs %+v", bd, got)
			}
			if tc.bd != nil {
				tc.bd(t, bd)
			}
		})
	}
}

// A later event with better numbers replaces the earlier result; the
// earlier result leaves no trace (no accumulation across recomputations).
func TestComputeCallCostRecomputeReplaces(t *testing.T) {
	p := Pricing{PerMinuteCents: 25, PerCallCents: 10, IncludedMinutesPerMonth: 30}
	early := ComputeCallCost(CallCostInput{DurationMS: 89500, Pricing: p, MinutesUsedThisMonth: 29}) // call_ended without cost
	late := ComputeCallCost(CallCostInput{CombinedCostUSDCents: 21.62, DurationMS: 89500, Pricing: p, MinutesUsedThisMonth: 29})
	if early.PlatformEURCents != 0 || late.PlatformEURCents != 20 {
		t.Fatalf("platform cost early=%d late=%d", early.PlatformEURCents, late.PlatformEURCents)
	}
	if early.CustomerEURCents != late.CustomerEURCents || late.CustomerEURCents != 25+10 {
		t.Fatalf("customer price changed with Retell's cost: %d vs %d", early.CustomerEURCents, late.CustomerEURCents)
	}
	for i := 0; i < 3; i++ {
		if again := ComputeCallCost(CallCostInput{CombinedCostUSDCents: 21.62, DurationMS: 89500, Pricing: p, MinutesUsedThisMonth: 29}); again != late {
			t.Fatalf("recompute %d differs: %+v", i, again)
		}
	}
}

// The fixed-point conversion agrees with exact decimal arithmetic on a grid
// of costs and rates (half up), where naive float rounding would not.
func TestComputeCallCostRoundingGrid(t *testing.T) {
	for usdHundredths := int64(0); usdHundredths <= 20000; usdHundredths += 7 {
		for _, rateMicro := range []int64{500000, 856000, 920000, 915500, 1000000, 1234567} {
			// exact: usd = h/100 cents, rate = r/1e6; eur = h·r / 1e8, half up
			num := usdHundredths * rateMicro
			want := (num + 5e7) / 1e8
			got := ComputeCallCost(CallCostInput{CombinedCostUSDCents: float64(usdHundredths) / 100, USDToEUR: float64(rateMicro) / 1e6})
			if got.PlatformEURCents != want {
				t.Fatalf("usd %d/100 rate %d/1e6: got %d want %d", usdHundredths, rateMicro, got.PlatformEURCents, want)
			}
		}
	}
}
