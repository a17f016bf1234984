package booking

import (
	"testing"
	"time"
)

func demoPolicy() Policy {
	return Policy{
		CancelNoticeHours:            IntPtr(24),
		MaxReschedulesPerAppointment: IntPtr(2),
		FeeTiers:                     []FeeTier{{48, 0}, {24, 1000}, {0, 1500}},
	}
}

func TestDecideCancel(t *testing.T) {
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	p := demoPolicy()
	cases := []struct {
		name    string
		ahead   time.Duration
		used    int
		quota   *int
		allowed bool
		rule    string
		fee     int64
	}{
		{"50h ahead is free", 50 * time.Hour, 0, nil, true, RuleNone, 0},
		{"exactly 48h is free", 48 * time.Hour, 0, nil, true, RuleNone, 0},
		{"36h ahead costs 10 EUR", 36 * time.Hour, 0, nil, true, RuleNone, 1000},
		{"exactly 24h is allowed", 24 * time.Hour, 0, nil, true, RuleNone, 1000},
		{"one minute short of 24h is denied", 24*time.Hour - time.Minute, 0, nil, false, RuleNotice, 1500},
		{"12h ahead denied, fee if forced 15", 12 * time.Hour, 0, nil, false, RuleNotice, 1500},
		{"already started", -time.Minute, 0, nil, false, RulePast, 0},
		{"quota reached", 72 * time.Hour, 3, IntPtr(3), false, RuleMonthlyQuota, 0},
		{"quota not reached", 72 * time.Hour, 2, IntPtr(3), true, RuleNone, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pp := p
			pp.MaxCancellationsPerMonth = c.quota
			d := DecideCancel(pp, now.Add(c.ahead), now, c.used)
			if d.Allowed != c.allowed || d.Rule != c.rule || d.FeeCents != c.fee {
				t.Fatalf("got allowed=%v rule=%q fee=%d, want %v %q %d", d.Allowed, d.Rule, d.FeeCents, c.allowed, c.rule, c.fee)
			}
		})
	}
}

func TestDecideReschedule(t *testing.T) {
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	p := demoPolicy()
	if d := DecideReschedule(p, now.Add(50*time.Hour), now, 0); !d.Allowed {
		t.Fatalf("first reschedule 50h ahead must be allowed: %+v", d)
	}
	if d := DecideReschedule(p, now.Add(50*time.Hour), now, 1); !d.Allowed {
		t.Fatalf("second reschedule must be allowed: %+v", d)
	}
	d := DecideReschedule(p, now.Add(50*time.Hour), now, 2)
	if d.Allowed || d.Rule != RuleMaxReschedules || d.Limit != 2 || d.Used != 2 {
		t.Fatalf("third reschedule must be denied by the limit: %+v", d)
	}
	if d := DecideReschedule(p, now.Add(10*time.Hour), now, 0); d.Allowed || d.Rule != RuleNotice {
		t.Fatalf("reschedule inside the cancellation notice must be denied: %+v", d)
	}
}

func TestResolvePolicyHierarchy(t *testing.T) {
	staff := Policy{CancelNoticeHours: IntPtr(48)}
	service := Policy{MaxReschedulesPerAppointment: IntPtr(1), CancelNoticeHours: IntPtr(12)}
	branch := Policy{FeeTiers: []FeeTier{{0, 500}}}
	tenant := demoPolicy()
	got := ResolvePolicy(staff, service, branch, tenant)
	if *got.CancelNoticeHours != 48 || *got.MaxReschedulesPerAppointment != 1 || len(got.FeeTiers) != 1 || got.FeeTiers[0].FeeCents != 500 {
		t.Fatalf("hierarchy not applied: %+v", got)
	}
	empty := ResolvePolicy(Policy{}, Policy{})
	if d := DecideCancel(empty, time.Now().Add(time.Hour), time.Now(), 99); !d.Allowed || d.FeeCents != 0 {
		t.Fatalf("no policy at all must allow without fee: %+v", d)
	}
}
