package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
)

// JSON forms of the configuration columns. They have explicit names so a
// renamed Go field never silently loses stored settings.

type policyJSON struct {
	CancelNoticeHours            *int          `json:"cancel_notice_hours,omitempty"`
	RescheduleNoticeHours        *int          `json:"reschedule_notice_hours,omitempty"`
	MaxReschedulesPerAppointment *int          `json:"max_reschedules_per_appointment,omitempty"`
	MaxCancellationsPerMonth     *int          `json:"max_cancellations_per_month,omitempty"`
	FeeTiers                     []feeTierJSON `json:"fee_tiers,omitempty"`
}

type feeTierJSON struct {
	MinHoursBefore int   `json:"min_hours_before"`
	FeeCents       int64 `json:"fee_cents"`
}

func toPolicyJSON(p booking.Policy) policyJSON {
	j := policyJSON{CancelNoticeHours: p.CancelNoticeHours, RescheduleNoticeHours: p.RescheduleNoticeHours,
		MaxReschedulesPerAppointment: p.MaxReschedulesPerAppointment, MaxCancellationsPerMonth: p.MaxCancellationsPerMonth}
	for _, t := range p.FeeTiers {
		j.FeeTiers = append(j.FeeTiers, feeTierJSON(t))
	}
	return j
}

func (j policyJSON) policy() booking.Policy {
	p := booking.Policy{CancelNoticeHours: j.CancelNoticeHours, RescheduleNoticeHours: j.RescheduleNoticeHours,
		MaxReschedulesPerAppointment: j.MaxReschedulesPerAppointment, MaxCancellationsPerMonth: j.MaxCancellationsPerMonth}
	for _, t := range j.FeeTiers {
		p.FeeTiers = append(p.FeeTiers, booking.FeeTier(t))
	}
	return p
}

type tenantJSON struct {
	Policy          policyJSON      `json:"policy"`
	Pricing         pricingJSON     `json:"pricing"`
	Retention       retentionJSON   `json:"retention"`
	Flags           map[string]bool `json:"flags,omitempty"`
	CalcomAPIKeyRef string          `json:"calcom_api_key_ref,omitempty"`
}

type pricingJSON struct {
	PerMinuteCents          int64 `json:"per_minute_cents"`
	PerCallCents            int64 `json:"per_call_cents"`
	IncludedMinutesPerMonth int   `json:"included_minutes_per_month"`
}

type retentionJSON struct {
	TranscriptDays       int `json:"transcript_days,omitempty"`
	InactiveCustomerDays int `json:"inactive_customer_days,omitempty"`
	ReceiptDays          int `json:"receipt_days,omitempty"`
}

// timeRangeJSON is [start, end) in minutes after local midnight.
type timeRangeJSON [2]int

var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func openingHoursJSON(h booking.OpeningHours) map[string][]timeRangeJSON {
	out := map[string][]timeRangeJSON{}
	for day, ranges := range h {
		if day < 0 || int(day) > 6 {
			continue
		}
		for _, r := range ranges {
			out[weekdayKeys[day]] = append(out[weekdayKeys[day]], timeRangeJSON{r.Start, r.End})
		}
	}
	return out
}

func openingHoursFromJSON(m map[string][]timeRangeJSON) booking.OpeningHours {
	h := booking.OpeningHours{}
	for i, key := range weekdayKeys {
		for _, r := range m[key] {
			h[time.Weekday(i)] = append(h[time.Weekday(i)], booking.TimeRange{Start: r[0], End: r[1]})
		}
	}
	return h
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data types are marshalled here
	}
	return b
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validateConfig checks what the database cannot: every row belongs to the
// tenant being applied and phone numbers are E.164. (scripts/tenant does the
// full, line-numbered validation before calling ApplyTenantConfig.)
func validateConfig(op string, c *booking.TenantConfig) error {
	tid := c.Tenant.ID
	if err := requireTenant(op, tid); err != nil {
		return err
	}
	bad := func(what, id string) error {
		return booking.Errorf(booking.KindInvalid, op, "%s %q belongs to another tenant than %q", what, id, tid)
	}
	for _, b := range c.Branches {
		if b.TenantID != "" && b.TenantID != tid {
			return bad("branch", b.ID)
		}
		if b.ID == "" {
			return booking.Errorf(booking.KindInvalid, op, "a branch has no id")
		}
	}
	for _, p := range c.PhoneNumbers {
		if p.TenantID != "" && p.TenantID != tid {
			return bad("phone number", p.E164)
		}
		if !phone.IsE164(p.E164) {
			return booking.Errorf(booking.KindInvalid, op, "phone number of branch %q is not E.164", p.BranchID)
		}
	}
	for _, sv := range c.Services {
		if sv.TenantID != "" && sv.TenantID != tid {
			return bad("service", sv.ID)
		}
		if sv.ID == "" {
			return booking.Errorf(booking.KindInvalid, op, "a service has no id")
		}
	}
	for _, st := range c.Staff {
		if st.TenantID != "" && st.TenantID != tid {
			return bad("staff", st.ID)
		}
		if st.ID == "" {
			return booking.Errorf(booking.KindInvalid, op, "a staff member has no id")
		}
	}
	return nil
}

// ApplyTenantConfig makes the database hold exactly cfg for its tenant, in
// one transaction: upserts the tenant, branches, phone numbers, services
// (with segments) and staff; deletes the tenant's rows no longer in cfg —
// services, staff and branches still referenced by appointments (or, for
// branches, by remaining staff) are marked inactive instead. Other tenants'
// rows are never touched: a phone number owned by another tenant fails the
// whole apply with KindConflict.
func (s *Store) ApplyTenantConfig(ctx context.Context, cfg booking.TenantConfig) error {
	const op = "mysql.ApplyTenantConfig"
	if err := validateConfig(op, &cfg); err != nil {
		return err
	}
	tid := cfg.Tenant.ID
	now := s.now()
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		t := cfg.Tenant
		locale := t.Locale
		if locale == "" {
			locale = "de"
		}
		tcfg := mustJSON(tenantJSON{Policy: toPolicyJSON(t.Policy), Pricing: pricingJSON(t.Pricing),
			Retention: retentionJSON(t.Retention), Flags: t.Flags, CalcomAPIKeyRef: t.CalcomAPIKeyRef})
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, name, locale, config, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON DUPLICATE KEY UPDATE name = ?, locale = ?, config = ?, updated_at = ?`,
			tid, t.Name, locale, tcfg, now, now, t.Name, locale, tcfg, now); err != nil {
			return err
		}

		for _, b := range cfg.Branches {
			oh := mustJSON(openingHoursJSON(b.OpeningHours))
			pol := mustJSON(toPolicyJSON(b.Policy))
			if _, err := tx.ExecContext(ctx, `INSERT INTO branches (tenant_id, id, name, time_zone, opening_hours, min_notice_minutes, policy, active)
				VALUES (?, ?, ?, ?, ?, ?, ?, 1)
				ON DUPLICATE KEY UPDATE name = ?, time_zone = ?, opening_hours = ?, min_notice_minutes = ?, policy = ?, active = 1`,
				tid, b.ID, b.Name, b.TimeZone, oh, b.MinNoticeMinutes, pol,
				b.Name, b.TimeZone, oh, b.MinNoticeMinutes, pol); err != nil {
				return err
			}
		}

		// Phone numbers: drop the tenant's numbers that left the file, then
		// claim the listed ones.
		numbers := make([]any, 0, len(cfg.PhoneNumbers)+1)
		numbers = append(numbers, tid)
		for _, p := range cfg.PhoneNumbers {
			numbers = append(numbers, p.E164)
		}
		del := `DELETE FROM phone_numbers WHERE tenant_id = ?`
		if len(numbers) > 1 {
			del += ` AND e164 NOT IN (` + placeholders(len(numbers)-1) + `)`
		}
		if _, err := tx.ExecContext(ctx, del, numbers...); err != nil {
			return err
		}
		for _, p := range cfg.PhoneNumbers {
			_, err := tx.ExecContext(ctx, `INSERT INTO phone_numbers (e164, tenant_id, branch_id, agent_id) VALUES (?, ?, ?, ?)`,
				p.E164, tid, p.BranchID, p.AgentID)
			if err == nil {
				continue
			}
			if !isDuplicate(err) {
				return err
			}
			var owned int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM phone_numbers WHERE e164 = ? AND tenant_id = ?`, p.E164, tid).Scan(&owned); err != nil {
				return err
			}
			if owned == 0 {
				return booking.Errorf(booking.KindConflict, op, "phone number %s is already assigned to another tenant", p.E164)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE phone_numbers SET branch_id = ?, agent_id = ? WHERE e164 = ? AND tenant_id = ?`,
				p.BranchID, p.AgentID, p.E164, tid); err != nil {
				return err
			}
		}

		for _, sv := range cfg.Services {
			syn := mustJSON(emptyIfNil(sv.Synonyms))
			pol := mustJSON(toPolicyJSON(sv.Policy))
			if _, err := tx.ExecContext(ctx, `INSERT INTO services (tenant_id, id, branch_id, name, synonyms, category, duration_minutes,
					event_type_id, price_cents, priority, is_default, policy, active)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
				ON DUPLICATE KEY UPDATE branch_id = ?, name = ?, synonyms = ?, category = ?, duration_minutes = ?,
					event_type_id = ?, price_cents = ?, priority = ?, is_default = ?, policy = ?, active = 1`,
				tid, sv.ID, sv.BranchID, sv.Name, syn, sv.Category, sv.DurationMinutes, sv.EventTypeID, sv.PriceCents, sv.Priority, sv.IsDefault, pol,
				sv.BranchID, sv.Name, syn, sv.Category, sv.DurationMinutes, sv.EventTypeID, sv.PriceCents, sv.Priority, sv.IsDefault, pol); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM service_segments WHERE tenant_id = ? AND service_id = ?`, tid, sv.ID); err != nil {
				return err
			}
			for i, g := range sv.Segments {
				if _, err := tx.ExecContext(ctx, `INSERT INTO service_segments (tenant_id, service_id, position, name, duration_minutes, event_type_id, gap_after_minutes)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, tid, sv.ID, i, g.Name, g.DurationMinutes, g.EventTypeID, g.GapAfterMinutes); err != nil {
					return err
				}
			}
		}

		for _, st := range cfg.Staff {
			ids := mustJSON(emptyIfNil(st.ServiceIDs))
			pol := mustJSON(toPolicyJSON(st.Policy))
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff (tenant_id, id, branch_id, name, calcom_user_id, service_ids, policy, active)
				VALUES (?, ?, ?, ?, ?, ?, ?, 1)
				ON DUPLICATE KEY UPDATE branch_id = ?, name = ?, calcom_user_id = ?, service_ids = ?, policy = ?, active = 1`,
				tid, st.ID, st.BranchID, st.Name, st.CalcomUserID, ids, pol,
				st.BranchID, st.Name, st.CalcomUserID, ids, pol); err != nil {
				return err
			}
		}

		return removeStale(ctx, tx, &cfg)
	})
}

// removeStale deletes (or deactivates, when referenced) the tenant's
// services, staff and branches that are not in cfg.
func removeStale(ctx context.Context, tx *sql.Tx, cfg *booking.TenantConfig) error {
	tid := cfg.Tenant.ID
	keep := func(ids []string) map[string]bool {
		m := make(map[string]bool, len(ids))
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	var svcIDs, staffIDs, branchIDs []string
	for _, x := range cfg.Services {
		svcIDs = append(svcIDs, x.ID)
	}
	for _, x := range cfg.Staff {
		staffIDs = append(staffIDs, x.ID)
	}
	for _, x := range cfg.Branches {
		branchIDs = append(branchIDs, x.ID)
	}

	stale := func(table string, keepIDs map[string]bool) ([]string, error) {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM `+table+` WHERE tenant_id = ?`, tid)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			if !keepIDs[id] {
				out = append(out, id)
			}
		}
		return out, rows.Err()
	}
	count := func(q string, args ...any) (int, error) {
		var n int
		err := tx.QueryRowContext(ctx, q, args...).Scan(&n)
		return n, err
	}

	svcs, err := stale("services", keep(svcIDs))
	if err != nil {
		return err
	}
	for _, id := range svcs {
		n, err := count(`SELECT COUNT(*) FROM appointments WHERE tenant_id = ? AND service_id = ?`, tid, id)
		if err != nil {
			return err
		}
		if n > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE services SET active = 0 WHERE tenant_id = ? AND id = ?`, tid, id); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM service_segments WHERE tenant_id = ? AND service_id = ?`, tid, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM services WHERE tenant_id = ? AND id = ?`, tid, id); err != nil {
			return err
		}
	}

	staff, err := stale("staff", keep(staffIDs))
	if err != nil {
		return err
	}
	for _, id := range staff {
		n, err := count(`SELECT COUNT(*) FROM appointments WHERE tenant_id = ? AND staff_id = ?`, tid, id)
		if err != nil {
			return err
		}
		q := `DELETE FROM staff WHERE tenant_id = ? AND id = ?`
		if n > 0 {
			q = `UPDATE staff SET active = 0 WHERE tenant_id = ? AND id = ?`
		}
		if _, err := tx.ExecContext(ctx, q, tid, id); err != nil {
			return err
		}
	}

	branches, err := stale("branches", keep(branchIDs))
	if err != nil {
		return err
	}
	for _, id := range branches {
		n1, err := count(`SELECT COUNT(*) FROM appointments WHERE tenant_id = ? AND branch_id = ?`, tid, id)
		if err != nil {
			return err
		}
		n2, err := count(`SELECT COUNT(*) FROM staff WHERE tenant_id = ? AND branch_id = ?`, tid, id)
		if err != nil {
			return err
		}
		q := `DELETE FROM branches WHERE tenant_id = ? AND id = ?`
		if n1+n2 > 0 {
			q = `UPDATE branches SET active = 0 WHERE tenant_id = ? AND id = ?`
		}
		if _, err := tx.ExecContext(ctx, q, tid, id); err != nil {
			return err
		}
	}
	return nil
}

const tenantCols = `t.id, t.name, t.locale, t.config`

func scanTenant(sc interface{ Scan(...any) error }, t *booking.Tenant) error {
	var cfg []byte
	if err := sc.Scan(&t.ID, &t.Name, &t.Locale, &cfg); err != nil {
		return err
	}
	var j tenantJSON
	if err := json.Unmarshal(cfg, &j); err != nil {
		return booking.Wrap(booking.KindInternal, "mysql.scanTenant", err, "tenant config column is not valid")
	}
	t.Policy = j.Policy.policy()
	t.Pricing = booking.Pricing(j.Pricing)
	t.Retention = booking.Retention(j.Retention)
	t.Flags = j.Flags
	t.CalcomAPIKeyRef = j.CalcomAPIKeyRef
	return nil
}

const branchCols = `b.tenant_id, b.id, b.name, b.time_zone, b.opening_hours, b.min_notice_minutes, b.policy`

func scanBranch(sc interface{ Scan(...any) error }, b *booking.Branch) error {
	var oh, pol []byte
	if err := sc.Scan(&b.TenantID, &b.ID, &b.Name, &b.TimeZone, &oh, &b.MinNoticeMinutes, &pol); err != nil {
		return err
	}
	var ohj map[string][]timeRangeJSON
	var pj policyJSON
	if json.Unmarshal(oh, &ohj) != nil || json.Unmarshal(pol, &pj) != nil {
		return booking.Errorf(booking.KindInternal, "mysql.scanBranch", "branch JSON columns are not valid")
	}
	b.OpeningHours = openingHoursFromJSON(ohj)
	b.Policy = pj.policy()
	return nil
}

// LoadTenantConfig reads back what ApplyTenantConfig wrote (active rows
// only, ordered by id). NotFound when the tenant does not exist.
func (s *Store) LoadTenantConfig(ctx context.Context, tenantID string) (*booking.TenantConfig, error) {
	const op = "mysql.LoadTenantConfig"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	var cfg booking.TenantConfig
	row := s.db.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants t WHERE t.id = ?`, tenantID)
	if err := scanTenant(row, &cfg.Tenant); err != nil {
		return nil, mapErr(op, err)
	}

	rows, err := s.db.QueryContext(ctx, `SELECT `+branchCols+` FROM branches b WHERE b.tenant_id = ? AND b.active = 1 ORDER BY b.id`, tenantID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	for rows.Next() {
		var b booking.Branch
		if err := scanBranch(rows, &b); err != nil {
			rows.Close()
			return nil, mapErr(op, err)
		}
		cfg.Branches = append(cfg.Branches, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}

	rows, err = s.db.QueryContext(ctx, `SELECT e164, tenant_id, branch_id, agent_id FROM phone_numbers WHERE tenant_id = ? ORDER BY e164`, tenantID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	for rows.Next() {
		var p booking.PhoneNumber
		if err := rows.Scan(&p.E164, &p.TenantID, &p.BranchID, &p.AgentID); err != nil {
			rows.Close()
			return nil, mapErr(op, err)
		}
		cfg.PhoneNumbers = append(cfg.PhoneNumbers, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}

	svcs, err := s.loadServices(ctx, s.db, tenantID, `active = 1`)
	if err != nil {
		return nil, mapErr(op, err)
	}
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].ID < svcs[j].ID })
	cfg.Services = svcs

	rows, err = s.db.QueryContext(ctx, `SELECT tenant_id, id, branch_id, name, calcom_user_id, service_ids, policy
		FROM staff WHERE tenant_id = ? AND active = 1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st booking.Staff
		var ids, pol []byte
		if err := rows.Scan(&st.TenantID, &st.ID, &st.BranchID, &st.Name, &st.CalcomUserID, &ids, &pol); err != nil {
			return nil, mapErr(op, err)
		}
		var pj policyJSON
		if json.Unmarshal(ids, &st.ServiceIDs) != nil || json.Unmarshal(pol, &pj) != nil {
			return nil, booking.Errorf(booking.KindInternal, op, "staff JSON columns are not valid")
		}
		st.Policy = pj.policy()
		cfg.Staff = append(cfg.Staff, st)
	}
	return &cfg, mapErr(op, rows.Err())
}

// loadServices reads a tenant's services matching where (a fixed SQL
// condition plus args), with their segments, ordered by priority then id.
func (s *Store) loadServices(ctx context.Context, q queryer, tenantID, where string, args ...any) ([]booking.Service, error) {
	rows, err := q.QueryContext(ctx, `SELECT tenant_id, id, branch_id, name, synonyms, category, duration_minutes, event_type_id,
			price_cents, priority, is_default, policy
		FROM services WHERE tenant_id = ? AND `+where+` ORDER BY priority, id`, append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	var svcs []booking.Service
	index := map[string]int{}
	for rows.Next() {
		var sv booking.Service
		var syn, pol []byte
		if err := rows.Scan(&sv.TenantID, &sv.ID, &sv.BranchID, &sv.Name, &syn, &sv.Category, &sv.DurationMinutes, &sv.EventTypeID,
			&sv.PriceCents, &sv.Priority, &sv.IsDefault, &pol); err != nil {
			rows.Close()
			return nil, err
		}
		var pj policyJSON
		if json.Unmarshal(syn, &sv.Synonyms) != nil || json.Unmarshal(pol, &pj) != nil {
			rows.Close()
			return nil, booking.Errorf(booking.KindInternal, "mysql.loadServices", "service JSON columns are not valid")
		}
		sv.Policy = pj.policy()
		index[sv.ID] = len(svcs)
		svcs = append(svcs, sv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return svcs, nil
	}
	rows, err = q.QueryContext(ctx, `SELECT service_id, name, duration_minutes, event_type_id, gap_after_minutes
		FROM service_segments WHERE tenant_id = ? ORDER BY service_id, position`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sid string
		var g booking.Segment
		if err := rows.Scan(&sid, &g.Name, &g.DurationMinutes, &g.EventTypeID, &g.GapAfterMinutes); err != nil {
			return nil, err
		}
		if i, ok := index[sid]; ok {
			svcs[i].Segments = append(svcs[i].Segments, g)
		}
	}
	return svcs, rows.Err()
}

// ResolveNumber finds the phone number, tenant and branch a dialled number
// belongs to. NotFound for an unknown number.
func (s *Store) ResolveNumber(ctx context.Context, e164 string) (booking.PhoneNumber, booking.Tenant, booking.Branch, error) {
	const op = "mysql.ResolveNumber"
	var (
		p booking.PhoneNumber
		t booking.Tenant
		b booking.Branch
	)
	num, err := phone.NormalizeE164(e164, phone.DefaultRegion)
	if err != nil {
		return p, t, b, booking.Errorf(booking.KindNotFound, op, "dialled number is not a phone number")
	}
	row := s.db.QueryRowContext(ctx, `SELECT p.e164, p.tenant_id, p.branch_id, p.agent_id, `+tenantCols+`, `+branchCols+`
		FROM phone_numbers p
		JOIN tenants t ON t.id = p.tenant_id
		JOIN branches b ON b.tenant_id = p.tenant_id AND b.id = p.branch_id
		WHERE p.e164 = ?`, num)
	var cfg, oh, pol []byte
	err = row.Scan(&p.E164, &p.TenantID, &p.BranchID, &p.AgentID,
		&t.ID, &t.Name, &t.Locale, &cfg,
		&b.TenantID, &b.ID, &b.Name, &b.TimeZone, &oh, &b.MinNoticeMinutes, &pol)
	if err != nil {
		return p, t, b, mapErr(op, err)
	}
	var tj tenantJSON
	var ohj map[string][]timeRangeJSON
	var pj policyJSON
	if json.Unmarshal(cfg, &tj) != nil || json.Unmarshal(oh, &ohj) != nil || json.Unmarshal(pol, &pj) != nil {
		return p, t, b, booking.Errorf(booking.KindInternal, op, "configuration JSON columns are not valid")
	}
	t.Policy, t.Pricing, t.Retention, t.Flags, t.CalcomAPIKeyRef = tj.Policy.policy(), booking.Pricing(tj.Pricing), booking.Retention(tj.Retention), tj.Flags, tj.CalcomAPIKeyRef
	b.OpeningHours, b.Policy = openingHoursFromJSON(ohj), pj.policy()
	return p, t, b, nil
}

// Services lists the active services bookable at a branch (branch-specific
// ones and those offered at every branch), by priority.
func (s *Store) Services(ctx context.Context, tenantID, branchID string) ([]booking.Service, error) {
	const op = "mysql.Services"
	if err := requireTenant(op, tenantID); err != nil {
		return nil, err
	}
	svcs, err := s.loadServices(ctx, s.db, tenantID, `active = 1 AND (branch_id = '' OR branch_id = ?)`, branchID)
	return svcs, mapErr(op, err)
}

// ServiceByEventType finds the tenant and active service a Cal.com event type
// belongs to, as the service's own event type or one of its segments'. It is
// how a Cal.com webhook finds its tenant. NotFound when unknown; Conflict
// when two tenants claim the event type (a configuration error).
func (s *Store) ServiceByEventType(ctx context.Context, eventTypeID int64) (string, booking.Service, error) {
	const op = "mysql.ServiceByEventType"
	if eventTypeID <= 0 {
		return "", booking.Service{}, booking.Errorf(booking.KindInvalid, op, "event type id must be positive")
	}
	type match struct {
		tenant, service string
		rank            int
	}
	var matches []match
	for rank, q := range []string{
		`SELECT tenant_id, id FROM services WHERE event_type_id = ? AND active = 1 ORDER BY tenant_id, priority, id`,
		`SELECT s.tenant_id, s.id FROM service_segments g JOIN services s ON s.tenant_id = g.tenant_id AND s.id = g.service_id
			WHERE g.event_type_id = ? AND s.active = 1 ORDER BY s.tenant_id, s.priority, s.id`,
	} {
		rows, err := s.db.QueryContext(ctx, q, eventTypeID)
		if err != nil {
			return "", booking.Service{}, mapErr(op, err)
		}
		for rows.Next() {
			var m match
			if err := rows.Scan(&m.tenant, &m.service); err != nil {
				rows.Close()
				return "", booking.Service{}, mapErr(op, err)
			}
			m.rank = rank
			matches = append(matches, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", booking.Service{}, mapErr(op, err)
		}
	}
	if len(matches) == 0 {
		return "", booking.Service{}, booking.Errorf(booking.KindNotFound, op, "no service has event type %d", eventTypeID)
	}
	for _, m := range matches[1:] {
		if m.tenant != matches[0].tenant {
			return "", booking.Service{}, booking.Errorf(booking.KindConflict, op, "event type %d is configured for several tenants", eventTypeID)
		}
	}
	tid := matches[0].tenant
	svcs, err := s.loadServices(ctx, s.db, tid, `id = ?`, matches[0].service)
	if err != nil {
		return "", booking.Service{}, mapErr(op, err)
	}
	if len(svcs) != 1 {
		return "", booking.Service{}, booking.Errorf(booking.KindNotFound, op, "service of event type %d vanished", eventTypeID)
	}
	return tid, svcs[0], nil
}

// itoa is strconv.FormatInt for ids in messages.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
