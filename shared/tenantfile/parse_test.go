package tenantfile

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
)

func mustParse(t *testing.T, data []byte) *booking.TenantConfig {
	t.Helper()
	cfg, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, ProblemsOf(err).Format("file.yaml"))
	}
	return cfg
}

func TestDemoParsesToExpectedValues(t *testing.T) {
	cfg := mustParse(t, Demo())
	const tid = "salon-sonnenschein"
	weekday := []booking.TimeRange{{Start: 9 * 60, End: 18 * 60}}
	want := &booking.TenantConfig{
		Tenant: booking.Tenant{
			ID: tid, Name: "Salon Sonnenschein", Locale: "de",
			Policy: booking.Policy{
				CancelNoticeHours:            booking.IntPtr(24),
				MaxReschedulesPerAppointment: booking.IntPtr(2),
				FeeTiers: []booking.FeeTier{
					{MinHoursBefore: 48, FeeCents: 0},
					{MinHoursBefore: 24, FeeCents: 1000},
					{MinHoursBefore: 0, FeeCents: 1500},
				},
			},
			Pricing:   booking.Pricing{PerMinuteCents: 29, PerCallCents: 0, IncludedMinutesPerMonth: 300},
			Retention: booking.Retention{TranscriptDays: 90, InactiveCustomerDays: 730},
			Flags:     map[string]bool{"alternatives": true, "composite_services": true},
		},
		Branches: []booking.Branch{{
			TenantID: tid, ID: "berlin-mitte", Name: "Berlin Mitte", TimeZone: "Europe/Berlin",
			MinNoticeMinutes: 30,
			OpeningHours: booking.OpeningHours{
				time.Monday: weekday, time.Tuesday: weekday, time.Wednesday: weekday,
				time.Thursday: weekday, time.Friday: weekday,
				time.Saturday: {{Start: 9 * 60, End: 14 * 60}},
			},
		}},
		PhoneNumbers: []booking.PhoneNumber{{E164: "+4930123456", TenantID: tid, BranchID: "berlin-mitte", AgentID: "agent_demo"}},
		Services: []booking.Service{
			{
				TenantID: tid, ID: "herrenhaarschnitt", Name: "Herrenhaarschnitt",
				Synonyms: []string{"Haarschnitt Herren", "Männerhaarschnitt", "Herrenschnitt"},
				Category: "Haarschnitt", DurationMinutes: 30, EventTypeID: 1001, PriceCents: 2800, Priority: 100,
			},
			{
				TenantID: tid, ID: "damenhaarschnitt", Name: "Damenhaarschnitt",
				Synonyms: []string{"Haarschnitt Damen", "Frauenhaarschnitt", "Damenschnitt"},
				Category: "Haarschnitt", DurationMinutes: 60, EventTypeID: 1002, PriceCents: 4550, Priority: 100,
			},
			{
				TenantID: tid, ID: "faerben", Name: "Färben",
				Synonyms: []string{"Haare färben", "Colorieren", "Coloration", "Farbe"},
				Category: "Farbe", DurationMinutes: 120, PriceCents: 7900, Priority: 100,
				Segments: []booking.Segment{
					{Name: "Farbe auftragen", DurationMinutes: 45, EventTypeID: 1003, GapAfterMinutes: 45},
					{Name: "Waschen und Föhnen", DurationMinutes: 30, EventTypeID: 1004},
				},
			},
		},
		Staff: []booking.Staff{
			{TenantID: tid, ID: "anna", BranchID: "berlin-mitte", Name: "Anna Becker", CalcomUserID: 501,
				ServiceIDs: []string{"herrenhaarschnitt", "damenhaarschnitt", "faerben"}},
			{TenantID: tid, ID: "mehmet", BranchID: "berlin-mitte", Name: "Mehmet Yilmaz", CalcomUserID: 502,
				ServiceIDs: []string{"herrenhaarschnitt"}},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("demo config differs from the expected one:\n%s", strings.Join(Diff(want, cfg), "\n"))
		if d := Diff(want, cfg); len(d) == 0 {
			t.Errorf("(not visible in Diff)\ngot  %#v\nwant %#v", cfg, want)
		}
	}
	// What the issue prescribes, stated once more in its own words.
	if !cfg.Branches[0].OpeningHours.Contains(time.Saturday, 13*60+30, 30) || cfg.Branches[0].OpeningHours.Contains(time.Sunday, 10*60, 30) {
		t.Error("Saturday 13:30–14:00 must be open and Sunday closed")
	}
	if got := booking.Fee(cfg.Tenant.Policy, 30); got != 1000 {
		t.Errorf("fee 30 h ahead = %d, want 1000", got)
	}
	if got := booking.Fee(cfg.Tenant.Policy, 3); got != 1500 {
		t.Errorf("fee 3 h ahead = %d, want 1500", got)
	}
}

func TestDemoFileInSync(t *testing.T) {
	disk, err := os.ReadFile("../../scripts/tenant/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, Demo()) {
		t.Fatal("scripts/tenant/demo.yaml and shared/tenantfile/demo.yaml differ: " +
			"edit scripts/tenant/demo.yaml, then cp scripts/tenant/demo.yaml shared/tenantfile/demo.yaml")
	}
}

func TestErrorNamesFileLineAndField(t *testing.T) {
	doc := strings.Replace(string(Demo()), "time_zone: Europe/Berlin ", "time_zone: Europe/Berln  ", 1)
	_, err := Parse([]byte(doc))
	if booking.KindOf(err) != booking.KindInvalid {
		t.Fatalf("kind = %q, want invalid (err %v)", booking.KindOf(err), err)
	}
	line := 1 + strings.Count(doc[:strings.Index(doc, "Europe/Berln")], "\n")
	want := "demo.yaml:" + strconv.Itoa(line) + `: branches[0].time_zone: unknown IANA zone "Europe/Berln" (e.g. Europe/Berlin)` + "\n"
	if got := ProblemsOf(err).Format("demo.yaml"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// base is a small valid file; each case below breaks one thing on the line
// marked "#!".
const base = `id: t1
name: Tenant
branches:
  - id: b1
    name: Branch
    time_zone: Europe/Berlin
    opening_hours:
      mon-fri: 09:00-18:00
    phone_numbers:
      - number: "+4930123456"
services:
  - id: s1
    name: Schnitt
    duration_minutes: 30
    event_type_id: 1
staff:
  - id: p1
    name: P
    services: [s1]
`

func TestBaseIsValid(t *testing.T) { mustParse(t, []byte(base)) }

// edit replaces old by new in base (old must occur exactly once).
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(base, old) != 1 {
		t.Fatalf("edit: %q occurs %d times in base", old, strings.Count(base, old))
	}
	return strings.Replace(base, old, new, 1)
}

func TestInvalidFilesNameTheLine(t *testing.T) {
	cases := []struct {
		name        string
		doc         func(t *testing.T) string
		path, inMsg string
	}{
		{"unknown top-level key", func(t *testing.T) string { return edit(t, "name: Tenant\n", "name: Tenant\nlocal: de #!\n") },
			"local", `unknown key (did you mean "locale"?)`},
		{"typo in branch key", func(t *testing.T) string {
			return edit(t, "    time_zone: Europe/Berlin", "    time_zon: Europe/Berlin #!")
		}, "branches[0].time_zon", `did you mean "time_zone"`},
		{"unknown zone", func(t *testing.T) string { return edit(t, "time_zone: Europe/Berlin", "time_zone: Europe/Berln #!") },
			"branches[0].time_zone", `unknown IANA zone "Europe/Berln"`},
		{"zone abbreviation", func(t *testing.T) string { return edit(t, "time_zone: Europe/Berlin", "time_zone: CET #!") },
			"branches[0].time_zone", "unknown IANA zone"},
		{"tenant slug", func(t *testing.T) string { return edit(t, "id: t1", "id: Salon_X #!") },
			"id", "must be a slug"},
		{"locale", func(t *testing.T) string { return edit(t, "name: Tenant\n", "name: Tenant\nlocale: fr #!\n") },
			"locale", "must be de or en"},
		{"number not E.164", func(t *testing.T) string { return edit(t, `"+4930123456"`, `"030 123456" #!`) },
			"branches[0].phone_numbers[0].number", "E.164"},
		{"number too short for its country", func(t *testing.T) string { return edit(t, `"+4930123456"`, `"+49301" #!`) },
			"branches[0].phone_numbers[0].number", "E.164"},
		{"number twice", func(t *testing.T) string {
			return edit(t, "      - number: \"+4930123456\"\n", "      - number: \"+4930123456\"\n      - number: \"+4930123456\" #!\n")
		}, "branches[0].phone_numbers[1].number", "already used on line 10"},
		{"agent id", func(t *testing.T) string {
			return edit(t, "      - number: \"+4930123456\"\n", "      - number: \"+4930123456\"\n        retell_agent_id: agent demo #!\n")
		}, "branches[0].phone_numbers[0].retell_agent_id", "Retell agent id"},
		{"hours overlap", func(t *testing.T) string {
			return edit(t, "mon-fri: 09:00-18:00", "mon-fri: 09:00-13:00, 12:00-18:00 #!")
		},
			"branches[0].opening_hours.mon-fri", "overlaps"},
		{"hours out of order", func(t *testing.T) string {
			return edit(t, "mon-fri: 09:00-18:00", "mon-fri: [\"13:00-18:00\", \"09:00-12:00\"] #!")
		}, "branches[0].opening_hours.mon-fri", "in order"},
		{"hours malformed", func(t *testing.T) string { return edit(t, "mon-fri: 09:00-18:00", "mon-fri: 9-18 #!") },
			"branches[0].opening_hours.mon-fri", "HH:MM"},
		{"hours end before start", func(t *testing.T) string { return edit(t, "mon-fri: 09:00-18:00", "mon-fri: 18:00-09:00 #!") },
			"branches[0].opening_hours.mon-fri", "must end after it starts"},
		{"hours past midnight", func(t *testing.T) string { return edit(t, "mon-fri: 09:00-18:00", "mon-fri: 09:00-24:30 #!") },
			"branches[0].opening_hours.mon-fri", "HH:MM"},
		{"day given twice", func(t *testing.T) string {
			return edit(t, "      mon-fri: 09:00-18:00\n", "      mon-fri: 09:00-18:00\n      wed: 10:00-12:00 #!\n")
		}, "branches[0].opening_hours.wed", "already given on line 8"},
		{"unknown day", func(t *testing.T) string {
			return edit(t, "      mon-fri: 09:00-18:00\n", "      mon-fri: 09:00-18:00\n      so: closed #!\n")
		}, "branches[0].opening_hours.so", "unknown day"},
		{"never open", func(t *testing.T) string {
			return edit(t, "    opening_hours:\n      mon-fri: 09:00-18:00", "    opening_hours:\n      mon-sun: closed #!")
		},
			"branches[0].opening_hours", "never open"},
		{"negative notice", func(t *testing.T) string {
			return edit(t, "    time_zone: Europe/Berlin\n", "    time_zone: Europe/Berlin\n    min_notice_minutes: -5 #!\n")
		}, "branches[0].min_notice_minutes", "between 0 and"},
		{"duration zero", func(t *testing.T) string { return edit(t, "duration_minutes: 30", "duration_minutes: 0 #!") },
			"services[0].duration_minutes", "between 1 and"},
		{"duration off grid", func(t *testing.T) string { return edit(t, "duration_minutes: 30", "duration_minutes: 32 #!") },
			"services[0].duration_minutes", "multiple of 5"},
		{"duration fractional", func(t *testing.T) string { return edit(t, "duration_minutes: 30", "duration_minutes: 30.5 #!") },
			"services[0].duration_minutes", "whole number"},
		{"event type zero", func(t *testing.T) string { return edit(t, "event_type_id: 1", "event_type_id: 0 #!") },
			"services[0].event_type_id", "between 1 and"},
		{"event type missing", func(t *testing.T) string {
			return edit(t, "  - id: s1\n    name: Schnitt\n    duration_minutes: 30\n    event_type_id: 1\n", "  - id: s1 #! a missing key is reported where its mapping starts\n    name: Schnitt\n    duration_minutes: 30\n")
		},
			"services[0].event_type_id", "required"},
		{"event type reused", func(t *testing.T) string {
			return edit(t, "    event_type_id: 1\n", "    event_type_id: 1\n  - id: s2\n    name: Farbe\n    duration_minutes: 30\n    event_type_id: 1 #!\n")
		}, "services[1].event_type_id", "event type 1 is already used on line 15"},
		{"service id reused", func(t *testing.T) string {
			return edit(t, "    event_type_id: 1\n", "    event_type_id: 1\n  - id: s1 #!\n    name: Farbe\n    duration_minutes: 30\n    event_type_id: 2\n")
		}, "services[1].id", "already used on line 12"},
		{"synonym names another service", func(t *testing.T) string {
			return edit(t, "    event_type_id: 1\n", "    event_type_id: 1\n  - id: s2\n    name: Farbe\n    synonyms: [schnitt] #!\n    duration_minutes: 30\n    event_type_id: 2\n")
		}, "services[1].synonyms[0]", `already names service "s1"`},
		{"composite with own event type", func(t *testing.T) string {
			return edit(t, "    event_type_id: 1\n", "    event_type_id: 1 #!\n    segments:\n      - {name: A, duration_minutes: 30, event_type_id: 2}\n      - {name: B, duration_minutes: 30, event_type_id: 3}\n")
		}, "services[0].event_type_id", "not its own"},
		{"composite segment without event type", func(t *testing.T) string {
			return edit(t, "    duration_minutes: 30\n    event_type_id: 1\n", "    segments:\n      - name: A #!\n        duration_minutes: 30\n      - {name: B, duration_minutes: 30, event_type_id: 3}\n")
		}, "services[0].segments[0].event_type_id", "required"},
		{"composite negative gap", func(t *testing.T) string {
			return edit(t, "    duration_minutes: 30\n    event_type_id: 1\n", "    segments:\n      - {name: A, duration_minutes: 30, event_type_id: 2, gap_after_minutes: -15} #!\n      - {name: B, duration_minutes: 30, event_type_id: 3}\n")
		}, "services[0].segments[0].gap_after_minutes", "between 0 and"},
		{"composite gap after last", func(t *testing.T) string {
			return edit(t, "    duration_minutes: 30\n    event_type_id: 1\n", "    segments:\n      - {name: A, duration_minutes: 30, event_type_id: 2}\n      - {name: B, duration_minutes: 30, event_type_id: 3, gap_after_minutes: 15} #!\n")
		}, "services[0].segments[1].gap_after_minutes", "last segment"},
		{"composite total mismatch", func(t *testing.T) string {
			return edit(t, "    duration_minutes: 30\n    event_type_id: 1\n", "    duration_minutes: 90 #!\n    segments:\n      - {name: A, duration_minutes: 30, event_type_id: 2, gap_after_minutes: 15}\n      - {name: B, duration_minutes: 30, event_type_id: 3}\n")
		}, "services[0].duration_minutes", "add up to 75"},
		{"composite single segment", func(t *testing.T) string {
			return edit(t, "    duration_minutes: 30\n    event_type_id: 1\n", "    segments: #!\n      - {name: A, duration_minutes: 30, event_type_id: 2}\n")
		}, "services[0].segments", "at least 2 segments"},
		{"service at unknown branch", func(t *testing.T) string {
			return edit(t, "    name: Schnitt\n", "    name: Schnitt\n    branch: b2 #!\n")
		}, "services[0].branch", `no branch with id "b2"`},
		{"staff offers unknown service", func(t *testing.T) string { return edit(t, "services: [s1]", "services: [s1, s9] #!") },
			"staff[0].services[1]", `no service with id "s9"`},
		{"staff at unknown branch", func(t *testing.T) string { return edit(t, "    name: P\n", "    name: P\n    branch: b9 #!\n") },
			"staff[0].branch", `no branch with id "b9"`},
		{"negative cancel notice", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\npolicy:\n  cancel_notice_hours: -1 #!\n")
		}, "policy.cancel_notice_hours", "between 0 and"},
		{"negative max reschedules", func(t *testing.T) string {
			return edit(t, "    name: P\n", "    name: P\n    policy: {max_reschedules_per_appointment: -1} #!\n")
		}, "staff[0].policy.max_reschedules_per_appointment", "between 0 and"},
		{"fee tiers out of order", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\npolicy:\n  fee_tiers:\n    - {min_hours_before: 24, fee_eur: 0}\n    - {min_hours_before: 48, fee_eur: 10} #!\n    - {min_hours_before: 0, fee_eur: 15}\n")
		}, "policy.fee_tiers[1].min_hours_before", "most to fewest"},
		{"fee decreasing", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\npolicy:\n  fee_tiers:\n    - {min_hours_before: 48, fee_eur: 10}\n    - {min_hours_before: 0, fee_eur: 5} #!\n")
		}, "policy.fee_tiers[1].fee_eur", "cannot cost less"},
		{"fee tiers leave late changes free", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\npolicy:\n  fee_tiers:\n    - min_hours_before: 24 #!\n      fee_eur: 10\n")
		}, "policy.fee_tiers[0]", "min_hours_before: 0"},
		{"euro with comma", func(t *testing.T) string {
			return edit(t, "    event_type_id: 1\n", "    event_type_id: 1\n    price_eur: 10,50 #!\n")
		}, "services[0].price_eur", "use a dot"},
		{"euro with three decimals", func(t *testing.T) string {
			return edit(t, "    event_type_id: 1\n", "    event_type_id: 1\n    price_eur: 10.505 #!\n")
		}, "services[0].price_eur", "like 10 or 10.50"},
		{"negative retention", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\nretention:\n  transcript_days: -1 #!\n")
		}, "retention.transcript_days", "between 0 and"},
		{"unknown feature flag", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\nfeatures:\n  signatur_enforcement: false #!\n")
		}, "features.signatur_enforcement", `did you mean "signature_enforcement"`},
		{"feature flag not a bool", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\nfeatures:\n  metrics: yes #!\n")
		}, "features.metrics", "true or false"},
		{"api key instead of its name", func(t *testing.T) string {
			return edit(t, "name: Tenant\n", "name: Tenant\ncalcom_api_key_ref: cal_live_0123456789 #!\n")
		}, "calcom_api_key_ref", "looks like an API key"},
		{"duplicate key", func(t *testing.T) string { return edit(t, "name: Tenant\n", "name: Tenant\nname: Other #!\n") },
			"name", "given twice (first on line 2)"},
		{"branch is not a mapping", func(t *testing.T) string {
			return edit(t, "  - id: b1\n    name: Branch\n    time_zone: Europe/Berlin\n    opening_hours:\n      mon-fri: 09:00-18:00\n    phone_numbers:\n      - number: \"+4930123456\"\n", "  - b1 #!\n")
		}, "branches[0]", "expected a mapping"},
		{"yaml syntax", func(t *testing.T) string { return edit(t, "    name: P\n", "    name: P\n   bad: [x #!\n") },
			"", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.doc(t)
			mark := strings.Index(doc, "#!")
			if mark < 0 {
				t.Fatal("case has no #! marker")
			}
			wantLine := 1 + strings.Count(doc[:mark], "\n")
			cfg, err := Parse([]byte(doc))
			if err == nil || cfg != nil {
				t.Fatalf("accepted:\n%s", doc)
			}
			if booking.KindOf(err) != booking.KindInvalid {
				t.Errorf("kind = %q, want invalid", booking.KindOf(err))
			}
			ps := ProblemsOf(err)
			for _, p := range ps {
				if p.Line == wantLine && p.Path == c.path && strings.Contains(p.Message, c.inMsg) {
					return
				}
			}
			if c.path == "" && c.inMsg == "" && len(ps) == 1 && ps[0].Line > 0 && ps[0].Line <= wantLine+1 {
				return // a YAML syntax error: the parser reports where it noticed
			}
			t.Errorf("want a problem at line %d, %s: …%s…; got:\n%s", wantLine, c.path, c.inMsg, ps.Format("f.yaml"))
		})
	}
}

func TestAllProblemsAreCollected(t *testing.T) {
	doc := strings.NewReplacer(
		"time_zone: Europe/Berlin", "time_zone: Mars/Olympus",
		"duration_minutes: 30", "duration_minutes: 31",
		"services: [s1]", "services: [nope]",
	).Replace(base)
	_, err := Parse([]byte(doc))
	ps := ProblemsOf(err)
	if len(ps) != 3 {
		t.Fatalf("want 3 problems, got %d:\n%s", len(ps), ps.Format("f.yaml"))
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Line < ps[i-1].Line {
			t.Errorf("problems not ordered by line:\n%s", ps.Format("f.yaml"))
		}
	}
}

func TestWholeFileProblems(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":         "",
		"comments only": "# nothing\n",
		"not a mapping": "- a\n- b\n",
		"two documents": base + "---\n" + base,
		"too large":     strings.Repeat("#", MaxFileSize+1),
		"no branches":   "id: t\nname: T\nservices: []\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse([]byte(doc))
			if err == nil || cfg != nil || len(ProblemsOf(err)) == 0 {
				t.Fatalf("accepted (err %v)", err)
			}
		})
	}
}

func TestOpeningHoursForms(t *testing.T) {
	doc := edit(t, "      mon-fri: 09:00-18:00\n",
		"      mon: 09:00-12:00, 13:00-18:00\n      tue-thu: [\"08:00-12:00\", \"12:00-20:00\"]\n      fri: 9:30-24:00\n      sat: closed\n")
	cfg := mustParse(t, []byte(doc))
	got := cfg.Branches[0].OpeningHours
	want := booking.OpeningHours{
		time.Monday:    {{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 18 * 60}},
		time.Tuesday:   {{Start: 8 * 60, End: 12 * 60}, {Start: 12 * 60, End: 20 * 60}},
		time.Wednesday: {{Start: 8 * 60, End: 12 * 60}, {Start: 12 * 60, End: 20 * 60}},
		time.Thursday:  {{Start: 8 * 60, End: 12 * 60}, {Start: 12 * 60, End: 20 * 60}},
		time.Friday:    {{Start: 9*60 + 30, End: 24 * 60}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestStaffNeedsBranchWithSeveralBranches(t *testing.T) {
	doc := edit(t, "services:\n", "  - id: b2\n    name: Zweite\n    time_zone: Europe/Vienna\n    opening_hours: {sat: 10:00-12:00}\nservices:\n")
	_, err := Parse([]byte(doc))
	ps := ProblemsOf(err)
	if len(ps) != 1 || ps[0].Path != "staff[0].branch" {
		t.Fatalf("want one problem at staff[0].branch, got:\n%s", ps.Format("f.yaml"))
	}
}

func TestStaffServiceAtOtherBranch(t *testing.T) {
	doc := edit(t, "services:\n", "  - id: b2\n    name: Zweite\n    time_zone: Europe/Vienna\n    opening_hours: {sat: 10:00-12:00}\nservices:\n")
	doc = strings.Replace(doc, "    name: Schnitt\n", "    name: Schnitt\n    branch: b2\n", 1)
	doc = strings.Replace(doc, "    name: P\n", "    name: P\n    branch: b1\n", 1)
	_, err := Parse([]byte(doc))
	ps := ProblemsOf(err)
	if len(ps) != 1 || ps[0].Path != "staff[0].services[0]" || !strings.Contains(ps[0].Message, `only offered at branch "b2"`) {
		t.Fatalf("got:\n%s", ps.Format("f.yaml"))
	}
}

func TestEuros(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "10": 1000, "10.5": 1050, "10.50": 1050, "0.29": 29, "1234567.99": 123456799} {
		doc := edit(t, "    event_type_id: 1\n", "    event_type_id: 1\n    price_eur: "+in+"\n")
		if got := mustParse(t, []byte(doc)).Services[0].PriceCents; got != want {
			t.Errorf("%s € = %d cents, want %d", in, got, want)
		}
	}
}

func TestAliasesResolve(t *testing.T) {
	doc := edit(t, "      mon-fri: 09:00-18:00\n", "      mon-fri: &h 09:00-18:00\n      sat: *h\n")
	cfg := mustParse(t, []byte(doc))
	if got := cfg.Branches[0].OpeningHours[time.Saturday]; len(got) != 1 || got[0].End != 18*60 {
		t.Errorf("saturday = %v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Demo())
	f.Add([]byte(base))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("id: x\nbranches: [{opening_hours: {mon-sun: \"00:00-24:00, 25:00-26:00\"}}]\n"))
	f.Add([]byte("services: [{segments: [{}, {gap_after_minutes: 99999999999999999999}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("exactly one of config and error must be set: cfg=%v err=%v", cfg != nil, err)
		}
		if err != nil && len(ProblemsOf(err)) == 0 {
			t.Fatalf("error without problems: %v", err)
		}
		if cfg != nil {
			if d := Diff(cfg, cfg); len(d) != 0 {
				t.Fatalf("config differs from itself: %v", d)
			}
		}
	})
}
