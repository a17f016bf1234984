// Package tenantfile reads tenant files: the YAML that configures one
// business (branches, phone numbers, services with their Cal.com event
// types, staff, opening hours, policies), validates every value, and says
// which line is wrong. `scripts/tenant apply` and the dev gateway use it;
// scripts/tenant/demo.yaml documents the format.
package tenantfile

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	// Zones must resolve on Lambda's provided.al2023 image and in slim
	// containers, which have no /usr/share/zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/telefonagent/gateway/shared/booking"
)

// MaxFileSize bounds what Parse reads; real tenant files are a few KB.
const MaxFileSize = 1 << 20

// FlagNames are the feature flags a tenant file may set: the stage's
// flags it may override, and FlagRetellArgsOnly, which exists per tenant
// only. Whether an override is allowed in a stage (signature enforcement
// may be off only in dev) is decided where flags are resolved, not here.
var FlagNames = []string{
	"signature_enforcement",
	"availability_prefetch",
	"alternatives",
	"composite_services",
	"detailed_logging",
	"metrics",
	FlagRetellArgsOnly,
}

// FlagRetellArgsOnly lets the tenant's Retell tools use "Payload: args
// only" (no call object in the body). Off by default: such a body then
// gets 400. When on, the request names its call in a header and the caller
// is taken from our record of that call (see the README).
const FlagRetellArgsOnly = "retell_args_only"

// Limits of the values a file may contain.
const (
	maxNameLen      = 200 // VARCHAR(200) in the schema
	maxSlugLen      = 64  // VARCHAR(64)
	maxHours        = 24 * 365
	maxCount        = 1000
	maxDuration     = 24 * 60
	maxNoticeMin    = 30 * 24 * 60
	maxRetention    = 100 * 365
	defaultPriority = 100 // the schema's default
	durationStep    = 5   // Cal.com slot grids are multiples of 5 minutes
)

var (
	slugPattern  = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
	agentPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	refPattern   = regexp.MustCompile(`^[A-Za-z0-9/_+=.@:-]{1,256}$`)
)

// Parse reads and validates a tenant file. On any problem it returns a
// *booking.Error of kind Invalid wrapping Problems (every problem found,
// each with its line), and no config.
func Parse(data []byte) (*booking.TenantConfig, error) {
	cfg, problems := parse(data)
	if len(problems) > 0 {
		problems = problems.sorted()
		msg := "1 problem in the tenant file"
		if len(problems) > 1 {
			msg = strconv.Itoa(len(problems)) + " problems in the tenant file"
		}
		return nil, booking.Wrap(booking.KindInvalid, "tenantfile.Parse", problems, msg)
	}
	return cfg, nil
}

// ProblemsOf extracts the problems from an error returned by Parse.
func ProblemsOf(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return nil
}

var yamlLine = regexp.MustCompile(`line ([0-9]+)`)

func parse(data []byte) (*booking.TenantConfig, Problems) {
	if len(data) > MaxFileSize {
		return nil, Problems{{Message: "file too large (at most 1 MB)"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, Problems{{Message: "file is empty"}}
		}
		pr := Problem{Message: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			pr.Line, _ = strconv.Atoi(m[1])
		}
		return nil, Problems{pr}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := extra.Line
		if err != nil {
			line = 0
		}
		return nil, Problems{{Line: line, Message: "one tenant per file: a second YAML document (---) is not allowed"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, Problems{{Message: "file is empty"}}
		}
		root = root.Content[0]
	}
	p := &parser{}
	cfg := p.file(root)
	return cfg, p.problems
}

// Where cross-references were written, checked once everything is read.
type refs struct {
	branches   map[string]*yaml.Node // id -> id node
	services   map[string]serviceRef
	eventTypes map[int64]*yaml.Node
	numbers    map[string]*yaml.Node
	names      map[string]string // normalised name/synonym -> service id
}

type serviceRef struct {
	node   *yaml.Node
	branch string
}

func (p *parser) file(root *yaml.Node) *booking.TenantConfig {
	f, ok := p.mapping(root, "",
		"id", "name", "locale", "calcom_api_key_ref",
		"policy", "pricing", "retention", "features",
		"branches", "services", "staff")
	if !ok {
		return nil
	}
	cfg := &booking.TenantConfig{}
	t := &cfg.Tenant
	t.ID = p.slug(f, "id", true)
	t.Name = p.str(f, "name", true, maxNameLen)
	t.Locale = "de"
	if f.has("locale") {
		t.Locale = p.str(f, "locale", true, 8)
		if t.Locale != "de" && t.Locale != "en" {
			p.add(f.get("locale"), "locale", "must be de or en, found %q", clip(t.Locale))
		}
	}
	if f.has("calcom_api_key_ref") {
		ref := p.str(f, "calcom_api_key_ref", true, 256)
		switch {
		case strings.HasPrefix(ref, "cal_"):
			p.add(f.get("calcom_api_key_ref"), "calcom_api_key_ref",
				"this looks like an API key itself: store the key in Secrets Manager (or an environment variable) and name it here")
		case ref != "" && !refPattern.MatchString(ref):
			p.add(f.get("calcom_api_key_ref"), "calcom_api_key_ref", "must be a secret id, ARN or environment variable name")
		}
		t.CalcomAPIKeyRef = ref
	}
	t.Policy = p.policy(f.vals["policy"], "policy")
	t.Pricing = p.pricing(f.vals["pricing"], "pricing")
	t.Retention = p.retention(f.vals["retention"], "retention")
	t.Flags = p.features(f.vals["features"], "features")

	r := &refs{
		branches:   map[string]*yaml.Node{},
		services:   map[string]serviceRef{},
		eventTypes: map[int64]*yaml.Node{},
		numbers:    map[string]*yaml.Node{},
		names:      map[string]string{},
	}
	branchNodes := p.sequence(f.vals["branches"], "branches")
	if len(branchNodes) == 0 {
		p.add(f.at("branches"), "branches", "at least one branch is required")
	}
	for i, n := range branchNodes {
		b, numbers := p.branch(n, index("branches", i), t.ID, r)
		cfg.Branches = append(cfg.Branches, b)
		cfg.PhoneNumbers = append(cfg.PhoneNumbers, numbers...)
	}
	serviceNodes := p.sequence(f.vals["services"], "services")
	if len(serviceNodes) == 0 {
		p.add(f.at("services"), "services", "at least one service is required")
	}
	defaults := map[string]*yaml.Node{}
	for i, n := range serviceNodes {
		s, defNode := p.service(n, index("services", i), t.ID, r)
		if s.IsDefault {
			if first := defaults[s.BranchID]; first != nil {
				p.add(defNode, index("services", i)+".default",
					"only one default service per branch (another is marked on line %d)", first.Line)
			} else {
				defaults[s.BranchID] = defNode
			}
		}
		cfg.Services = append(cfg.Services, s)
	}
	staffIDs := map[string]*yaml.Node{}
	for i, n := range p.sequence(f.vals["staff"], "staff") {
		cfg.Staff = append(cfg.Staff, p.staff(n, index("staff", i), t.ID, cfg, r, staffIDs))
	}
	return cfg
}

func (p *parser) slug(f fields, key string, required bool) string {
	s := p.str(f, key, required, maxSlugLen)
	if s != "" && !slugPattern.MatchString(s) {
		p.add(f.get(key), join(f.path, key), "must be a slug: lower-case letters, digits and dashes (e.g. berlin-mitte), found %q", clip(s))
	}
	return s
}

// unique reports a repeated id, naming where it was first used.
func (p *parser) unique(seen map[string]*yaml.Node, id string, n *yaml.Node, path, what string) {
	if id == "" {
		return
	}
	if first := seen[id]; first != nil {
		p.add(n, path, "%s %q is already used on line %d", what, id, first.Line)
		return
	}
	seen[id] = n
}

func (p *parser) features(n *yaml.Node, path string) map[string]bool {
	if isNull(n) {
		return nil
	}
	f, ok := p.mapping(n, path, FlagNames...)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for _, name := range FlagNames {
		if v := f.get(name); v != nil {
			if b, ok := p.boolean(v, join(path, name)); ok {
				out[name] = b
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (p *parser) pricing(n *yaml.Node, path string) booking.Pricing {
	if isNull(n) {
		return booking.Pricing{}
	}
	f, ok := p.mapping(n, path, "per_minute_eur", "per_call_eur", "included_minutes_per_month")
	if !ok {
		return booking.Pricing{}
	}
	return booking.Pricing{
		PerMinuteCents:          p.euros(f, "per_minute_eur"),
		PerCallCents:            p.euros(f, "per_call_eur"),
		IncludedMinutesPerMonth: int(p.integer(f, "included_minutes_per_month", 0, 0, 1_000_000)),
	}
}

func (p *parser) retention(n *yaml.Node, path string) booking.Retention {
	if isNull(n) {
		return booking.Retention{}
	}
	f, ok := p.mapping(n, path, "transcript_days", "inactive_customer_days", "receipt_days")
	if !ok {
		return booking.Retention{}
	}
	return booking.Retention{
		TranscriptDays:       int(p.integer(f, "transcript_days", 0, 0, maxRetention)),
		InactiveCustomerDays: int(p.integer(f, "inactive_customer_days", 0, 0, maxRetention)),
		ReceiptDays:          int(p.integer(f, "receipt_days", 0, 0, maxRetention)),
	}
}

func (p *parser) optInt(f fields, key string, max int64) *int {
	if !f.has(key) {
		return nil
	}
	v := int(p.integer(f, key, 0, 0, max))
	return &v
}

func (p *parser) policy(n *yaml.Node, path string) booking.Policy {
	if isNull(n) {
		return booking.Policy{}
	}
	f, ok := p.mapping(n, path,
		"cancel_notice_hours", "reschedule_notice_hours",
		"max_reschedules_per_appointment", "max_cancellations_per_month", "fee_tiers")
	if !ok {
		return booking.Policy{}
	}
	pol := booking.Policy{
		CancelNoticeHours:            p.optInt(f, "cancel_notice_hours", maxHours),
		RescheduleNoticeHours:        p.optInt(f, "reschedule_notice_hours", maxHours),
		MaxReschedulesPerAppointment: p.optInt(f, "max_reschedules_per_appointment", maxCount),
		MaxCancellationsPerMonth:     p.optInt(f, "max_cancellations_per_month", maxCount),
	}
	tiersPath := join(path, "fee_tiers")
	var prev *booking.FeeTier
	var last *yaml.Node
	for i, tn := range p.sequence(f.vals["fee_tiers"], tiersPath) {
		tp := index(tiersPath, i)
		tf, ok := p.mapping(tn, tp, "min_hours_before", "fee_eur")
		if !ok {
			continue
		}
		if p.require(tf, "min_hours_before") == nil || p.require(tf, "fee_eur") == nil {
			continue
		}
		tier := booking.FeeTier{
			MinHoursBefore: int(p.integer(tf, "min_hours_before", 0, 0, maxHours)),
			FeeCents:       p.euros(tf, "fee_eur"),
		}
		if prev != nil {
			if tier.MinHoursBefore >= prev.MinHoursBefore {
				p.add(tf.get("min_hours_before"), tp+".min_hours_before",
					"tiers must go from most to fewest hours before the appointment: %d follows %d", tier.MinHoursBefore, prev.MinHoursBefore)
			}
			if tier.FeeCents < prev.FeeCents {
				p.add(tf.get("fee_eur"), tp+".fee_eur",
					"a later change cannot cost less than an earlier one (%s after %s)", euroText(tier.FeeCents), euroText(prev.FeeCents))
			}
		}
		pol.FeeTiers = append(pol.FeeTiers, tier)
		prev, last = &pol.FeeTiers[len(pol.FeeTiers)-1], tn
	}
	if prev != nil && prev.MinHoursBefore > 0 && prev.FeeCents > 0 {
		p.add(last, index(tiersPath, len(pol.FeeTiers)-1),
			"the last tier must start at min_hours_before: 0, otherwise a change less than %d hours before would be free", prev.MinHoursBefore)
	}
	return pol
}

func euroText(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "." + twoDigits(cents%100) + " €"
}

func twoDigits(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

func (p *parser) branch(n *yaml.Node, path, tenantID string, r *refs) (booking.Branch, []booking.PhoneNumber) {
	b := booking.Branch{TenantID: tenantID}
	f, ok := p.mapping(n, path, "id", "name", "time_zone", "min_notice_minutes", "opening_hours", "phone_numbers", "policy")
	if !ok {
		return b, nil
	}
	b.ID = p.slug(f, "id", true)
	p.unique(r.branches, b.ID, f.get("id"), join(path, "id"), "branch id")
	b.Name = p.str(f, "name", true, maxNameLen)
	if tz := p.str(f, "time_zone", true, 64); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" || !strings.Contains(tz, "/") && tz != "UTC" {
			p.add(f.get("time_zone"), join(path, "time_zone"), "unknown IANA zone %q (e.g. Europe/Berlin)", clip(tz))
		}
		b.TimeZone = tz
	}
	b.MinNoticeMinutes = int(p.integer(f, "min_notice_minutes", 0, 0, maxNoticeMin))
	if oh := p.require(f, "opening_hours"); oh != nil {
		b.OpeningHours = p.openingHours(oh, join(path, "opening_hours"))
	}
	b.Policy = p.policy(f.vals["policy"], join(path, "policy"))

	var numbers []booking.PhoneNumber
	numbersPath := join(path, "phone_numbers")
	for i, nn := range p.sequence(f.vals["phone_numbers"], numbersPath) {
		np := index(numbersPath, i)
		nf, ok := p.mapping(nn, np, "number", "retell_agent_id")
		if !ok {
			continue
		}
		num := booking.PhoneNumber{TenantID: tenantID, BranchID: b.ID}
		num.E164 = p.str(nf, "number", true, 20)
		if num.E164 != "" {
			if !validE164(num.E164) {
				// The value is not echoed: the message may end up in logs.
				p.add(nf.get("number"), join(np, "number"), "must be an E.164 number: + and country code, no spaces (e.g. +4930123456)")
			} else {
				p.unique(r.numbers, num.E164, nf.get("number"), join(np, "number"), "phone number")
			}
		}
		if nf.has("retell_agent_id") {
			num.AgentID = p.str(nf, "retell_agent_id", true, 128)
			if num.AgentID != "" && !agentPattern.MatchString(num.AgentID) {
				p.add(nf.get("retell_agent_id"), join(np, "retell_agent_id"), "must be a Retell agent id like agent_abc123")
			}
		}
		numbers = append(numbers, num)
	}
	return b, numbers
}

// Day keys of opening_hours, in week order starting Monday.
var dayKeys = []struct {
	key string
	day time.Weekday
}{
	{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday},
	{"thu", time.Thursday}, {"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday},
}

func dayIndex(key string) int {
	for i, d := range dayKeys {
		if d.key == key {
			return i
		}
	}
	return -1
}

// openingHours reads
//
//	mon-fri: 09:00-18:00
//	sat: 09:00-12:00, 13:00-16:00     (or a list of ranges)
//	sun: closed
//
// Days not listed are closed.
func (p *parser) openingHours(n *yaml.Node, path string) booking.OpeningHours {
	n = p.resolve(n, path)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, path, "expected days with hours, e.g. \"mon-fri: 09:00-18:00\", found %s", describe(n))
		return nil
	}
	hours := booking.OpeningHours{}
	setBy := map[time.Weekday]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := p.resolve(n.Content[i], path), n.Content[i+1]
		if kn == nil || kn.Kind != yaml.ScalarNode {
			p.add(n.Content[i], path, "keys must be days like mon or mon-fri")
			continue
		}
		kp := join(path, kn.Value)
		from, to, ok := parseDays(kn.Value)
		if !ok {
			p.add(kn, kp, "unknown day: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri")
			continue
		}
		ranges, ok := p.ranges(vn, kp)
		for d := from; d <= to; d++ {
			day := dayKeys[d].day
			if first := setBy[day]; first != nil {
				p.add(kn, kp, "%s is already given on line %d", dayKeys[d].key, first.Line)
				continue
			}
			setBy[day] = kn
			if ok && len(ranges) > 0 {
				hours[day] = append([]booking.TimeRange(nil), ranges...)
			}
		}
	}
	if len(hours) == 0 && len(setBy) > 0 {
		p.add(n, path, "the branch is never open")
	}
	return hours
}

func parseDays(s string) (from, to int, ok bool) {
	a, b, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	from = dayIndex(strings.TrimSpace(a))
	to = from
	if isRange {
		to = dayIndex(strings.TrimSpace(b))
	}
	return from, to, from >= 0 && to >= from
}

// ranges reads "closed", "09:00-18:00", "09:00-12:00, 13:00-18:00" or a
// list of such ranges; they must be in order and must not overlap.
func (p *parser) ranges(n *yaml.Node, path string) ([]booking.TimeRange, bool) {
	n = p.resolve(n, path)
	if n == nil {
		return nil, false
	}
	var parts []string
	var nodes []*yaml.Node
	switch {
	case isNull(n):
		p.add(n, path, "give hours like 09:00-18:00, or closed")
		return nil, false
	case n.Kind == yaml.ScalarNode:
		for _, part := range strings.Split(n.Value, ",") {
			parts, nodes = append(parts, part), append(nodes, n)
		}
	case n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			s, ok := p.scalar(c, path)
			if !ok {
				return nil, false
			}
			parts, nodes = append(parts, s), append(nodes, c)
		}
	default:
		p.add(n, path, "expected hours like 09:00-18:00, found %s", describe(n))
		return nil, false
	}
	if len(parts) == 1 && strings.EqualFold(strings.TrimSpace(parts[0]), "closed") {
		return nil, true
	}
	var out []booking.TimeRange
	ok := true
	for i, part := range parts {
		tr, err := parseRange(part)
		if err != "" {
			p.add(nodes[i], path, "%s", err)
			ok = false
			continue
		}
		if len(out) > 0 {
			prev := out[len(out)-1]
			if tr.Start < prev.End {
				p.add(nodes[i], path, "%s overlaps or comes before %s: list ranges in order without overlap",
					strings.TrimSpace(part), rangeText(prev))
				ok = false
				continue
			}
		}
		out = append(out, tr)
	}
	return out, ok
}

func parseRange(s string) (booking.TimeRange, string) {
	s = strings.TrimSpace(s)
	a, b, found := strings.Cut(s, "-")
	if !found {
		return booking.TimeRange{}, "expected a range like 09:00-18:00 (or closed), found " + strconv.Quote(clip(s))
	}
	start, ok1 := clockMinutes(a)
	end, ok2 := clockMinutes(b)
	if !ok1 || !ok2 {
		return booking.TimeRange{}, "times must be HH:MM between 00:00 and 24:00, found " + strconv.Quote(clip(s))
	}
	if end <= start {
		return booking.TimeRange{}, "a range must end after it starts, found " + strconv.Quote(clip(s))
	}
	return booking.TimeRange{Start: start, End: end}, ""
}

func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

func rangeText(r booking.TimeRange) string {
	return clockText(r.Start) + "-" + clockText(r.End)
}

func clockText(min int) string {
	return twoDigits(int64(min/60)) + ":" + twoDigits(int64(min%60))
}

func (p *parser) service(n *yaml.Node, path, tenantID string, r *refs) (booking.Service, *yaml.Node) {
	s := booking.Service{TenantID: tenantID, Priority: defaultPriority}
	f, ok := p.mapping(n, path,
		"id", "name", "synonyms", "category", "branch",
		"duration_minutes", "event_type_id", "segments",
		"price_eur", "priority", "default", "policy")
	if !ok {
		return s, nil
	}
	s.ID = p.slug(f, "id", true)
	if s.ID != "" {
		if first, dup := r.services[s.ID]; dup {
			p.add(f.get("id"), join(path, "id"), "service id %q is already used on line %d", s.ID, first.node.Line)
		}
	}
	s.Name = p.str(f, "name", true, maxNameLen)
	p.spokenName(r, s.ID, s.Name, f.get("name"), join(path, "name"))
	synPath := join(path, "synonyms")
	for i, sn := range p.sequence(f.vals["synonyms"], synPath) {
		sp := index(synPath, i)
		v, ok := p.scalar(sn, sp)
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || len([]rune(v)) > maxNameLen {
			p.add(sn, sp, "must be a non-empty phrase of at most %d characters", maxNameLen)
			continue
		}
		p.spokenName(r, s.ID, v, sn, sp)
		s.Synonyms = append(s.Synonyms, v)
	}
	if f.has("category") {
		s.Category = p.str(f, "category", true, 100)
	}
	if f.has("branch") {
		s.BranchID = p.slug(f, "branch", true)
		if s.BranchID != "" && r.branches[s.BranchID] == nil {
			p.add(f.get("branch"), join(path, "branch"), "no branch with id %q in this file", s.BranchID)
		}
	}
	if s.ID != "" {
		r.services[s.ID] = serviceRef{node: f.get("id"), branch: s.BranchID}
	}
	s.PriceCents = p.euros(f, "price_eur")
	s.Priority = int(p.integer(f, "priority", defaultPriority, 0, 10_000))
	if v := f.get("default"); v != nil {
		s.IsDefault, _ = p.boolean(v, join(path, "default"))
	}
	s.Policy = p.policy(f.vals["policy"], join(path, "policy"))

	segNodes := p.sequence(f.vals["segments"], join(path, "segments"))
	switch {
	case f.has("segments") && f.has("event_type_id"):
		p.add(f.get("event_type_id"), join(path, "event_type_id"),
			"a composite service has event types per segment, not its own: remove event_type_id or segments")
	case f.has("segments"):
		s.Segments, s.DurationMinutes = p.segments(segNodes, join(path, "segments"), r)
		if len(segNodes) == 1 {
			p.add(f.at("segments"), join(path, "segments"),
				"a composite service needs at least 2 segments; for one, use duration_minutes and event_type_id")
		}
		if f.has("duration_minutes") && len(s.Segments) == len(segNodes) {
			d := int(p.duration(f, "duration_minutes"))
			if d != s.DurationMinutes {
				p.add(f.get("duration_minutes"), join(path, "duration_minutes"),
					"is %d but the segments and gaps add up to %d (leave it out to use the sum)", d, s.DurationMinutes)
			}
		}
	default:
		if p.require(f, "duration_minutes") != nil {
			s.DurationMinutes = int(p.duration(f, "duration_minutes"))
		}
		s.EventTypeID = p.eventType(f, path, r)
	}
	return s, f.get("default")
}

// spokenName rejects a name or synonym that already names another
// service: the agent could not tell which one the caller means.
func (p *parser) spokenName(r *refs, serviceID, name string, n *yaml.Node, path string) {
	key := normalName(name)
	if key == "" {
		return
	}
	if other, ok := r.names[key]; ok {
		if other != serviceID {
			p.add(n, path, "%q already names service %q: callers could not be told apart", clip(name), other)
		} else {
			p.add(n, path, "%q is given twice for this service", clip(name))
		}
		return
	}
	r.names[key] = serviceID
}

func normalName(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// duration reads a positive number of minutes on the 5-minute grid.
func (p *parser) duration(f fields, key string) int64 {
	v := p.integer(f, key, 0, 1, maxDuration)
	if v > 0 && v%durationStep != 0 {
		p.add(f.get(key), join(f.path, key), "must be a multiple of %d minutes, found %d", durationStep, v)
	}
	return v
}

func (p *parser) eventType(f fields, path string, r *refs) int64 {
	n := p.require(f, "event_type_id")
	if n == nil {
		return 0
	}
	id := p.integer(f, "event_type_id", 0, 1, 1<<53)
	if id > 0 {
		if first := r.eventTypes[id]; first != nil {
			p.add(n, join(path, "event_type_id"), "event type %d is already used on line %d: each service or segment needs its own", id, first.Line)
		} else {
			r.eventTypes[id] = n
		}
	}
	return id
}

func (p *parser) segments(nodes []*yaml.Node, path string, r *refs) ([]booking.Segment, int) {
	var out []booking.Segment
	total := 0
	for i, n := range nodes {
		sp := index(path, i)
		f, ok := p.mapping(n, sp, "name", "duration_minutes", "event_type_id", "gap_after_minutes")
		if !ok {
			continue
		}
		seg := booking.Segment{Name: p.str(f, "name", true, maxNameLen)}
		if p.require(f, "duration_minutes") != nil {
			seg.DurationMinutes = int(p.duration(f, "duration_minutes"))
		}
		seg.EventTypeID = p.eventType(f, sp, r)
		if f.has("gap_after_minutes") {
			seg.GapAfterMinutes = int(p.integer(f, "gap_after_minutes", 0, 0, maxDuration))
			if seg.GapAfterMinutes%durationStep != 0 {
				p.add(f.get("gap_after_minutes"), join(sp, "gap_after_minutes"),
					"must be a multiple of %d minutes, or the next segment would start off Cal.com's slot grid", durationStep)
			}
			if i == len(nodes)-1 && seg.GapAfterMinutes > 0 {
				p.add(f.get("gap_after_minutes"), join(sp, "gap_after_minutes"), "the last segment cannot have a gap after it")
			}
		}
		total += seg.DurationMinutes + seg.GapAfterMinutes
		out = append(out, seg)
	}
	if total > maxDuration {
		p.add(nil, path, "segments add up to more than a day")
	}
	return out, total
}

func (p *parser) staff(n *yaml.Node, path, tenantID string, cfg *booking.TenantConfig, r *refs, seen map[string]*yaml.Node) booking.Staff {
	st := booking.Staff{TenantID: tenantID}
	f, ok := p.mapping(n, path, "id", "name", "branch", "calcom_user_id", "services", "policy")
	if !ok {
		return st
	}
	st.ID = p.slug(f, "id", true)
	p.unique(seen, st.ID, f.get("id"), join(path, "id"), "staff id")
	st.Name = p.str(f, "name", true, maxNameLen)
	switch {
	case f.has("branch"):
		st.BranchID = p.slug(f, "branch", true)
		if st.BranchID != "" && r.branches[st.BranchID] == nil {
			p.add(f.get("branch"), join(path, "branch"), "no branch with id %q in this file", st.BranchID)
		}
	case len(cfg.Branches) == 1:
		st.BranchID = cfg.Branches[0].ID // the only branch: no need to repeat it
	default:
		p.add(f.at("branch"), join(path, "branch"), "required when the tenant has several branches")
	}
	st.CalcomUserID = p.integer(f, "calcom_user_id", 0, 1, 1<<53)
	svcPath := join(path, "services")
	svcNodes := p.sequence(f.vals["services"], svcPath)
	if len(svcNodes) == 0 {
		p.add(f.at("services"), svcPath, "list the services this person offers (ids from services)")
	}
	offered := map[string]bool{}
	for i, sn := range svcNodes {
		sp := index(svcPath, i)
		id, ok := p.scalar(sn, sp)
		if !ok {
			continue
		}
		ref, exists := r.services[id]
		switch {
		case !exists:
			p.add(sn, sp, "no service with id %q in this file", clip(id))
		case offered[id]:
			p.add(sn, sp, "service %q is listed twice", id)
		case ref.branch != "" && st.BranchID != "" && ref.branch != st.BranchID:
			p.add(sn, sp, "service %q is only offered at branch %q, not at %q", id, ref.branch, st.BranchID)
		}
		offered[id] = true
		st.ServiceIDs = append(st.ServiceIDs, id)
	}
	st.Policy = p.policy(f.vals["policy"], join(path, "policy"))
	return st
}
