package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
	"github.com/telefonagent/gateway/shared/pii"
)

// Call ciphertexts are bound to their row: (tenant, calls, column, call_id).
func callAAD(tenantID, callID, column string) []byte {
	return pii.AAD(tenantID, "calls", column, callID)
}

// callRow is a calls row as stored (ciphertexts still sealed).
type callRow struct {
	tenantID, callID, branchID, agentID, direction string
	fromIdx, fromEnc                               []byte
	toNumber, status                               string
	startedAt, endedAt                             sql.NullTime
	durationMS                                     int64
	disconnectionReason                            string
	transcriptEnc, summaryEnc                      []byte
	recordingURL, sentiment                        string
	callSuccessful                                 sql.NullBool
	customAnalysis, transfers                      []byte // customAnalysis: plaintext JSON in memory
	customAnalysisEnc                              []byte // what the column holds (sealed)
	dataStorageSetting                             string
	customerID                                     sql.NullInt64
	retellUSDCents, platformEURCents               int64
	customerEURCents                               int64
	exchangeRate                                   float64
	billedMinutes                                  int
	createdAt, updatedAt                           time.Time
}

const callCols = `tenant_id, call_id, branch_id, agent_id, direction, from_idx, from_enc, to_number, status,
	started_at, ended_at, duration_ms, disconnection_reason, transcript_enc, summary_enc, recording_url, sentiment,
	call_successful, custom_analysis, transfers, data_storage_setting, customer_id,
	retell_cost_usd_cents, platform_cost_eur_cents, customer_cost_eur_cents, exchange_rate, billed_minutes,
	created_at, updated_at`

func scanCallRow(sc interface{ Scan(...any) error }) (*callRow, error) {
	var r callRow
	err := sc.Scan(&r.tenantID, &r.callID, &r.branchID, &r.agentID, &r.direction, &r.fromIdx, &r.fromEnc, &r.toNumber, &r.status,
		&r.startedAt, &r.endedAt, &r.durationMS, &r.disconnectionReason, &r.transcriptEnc, &r.summaryEnc, &r.recordingURL, &r.sentiment,
		&r.callSuccessful, &r.customAnalysisEnc, &r.transfers, &r.dataStorageSetting, &r.customerID,
		&r.retellUSDCents, &r.platformEURCents, &r.customerEURCents, &r.exchangeRate, &r.billedMinutes,
		&r.createdAt, &r.updatedAt)
	return &r, err
}

// call decrypts a row into the domain type.
func (s *Store) call(r *callRow) (booking.Call, error) {
	c := booking.Call{
		TenantID: r.tenantID, CallID: r.callID, BranchID: r.branchID, AgentID: r.agentID, Direction: r.direction,
		ToNumber: r.toNumber, Status: booking.CallStatus(r.status),
		StartedAt: timePtr(r.startedAt), EndedAt: timePtr(r.endedAt), DurationMS: r.durationMS,
		DisconnectionReason: r.disconnectionReason, RecordingURL: r.recordingURL, Sentiment: r.sentiment,
		DataStorageSetting: r.dataStorageSetting, CustomerID: int64Ptr(r.customerID),
		Cost: booking.CallCost{RetellUSDCents: r.retellUSDCents, PlatformEURCents: r.platformEURCents,
			CustomerEURCents: r.customerEURCents, ExchangeRate: r.exchangeRate, BilledMinutes: r.billedMinutes},
	}
	if r.callSuccessful.Valid {
		v := r.callSuccessful.Bool
		c.CallSuccessful = &v
	}
	if err := s.openCustomAnalysis(r); err != nil {
		return c, err
	}
	if len(r.customAnalysis) > 0 {
		c.CustomAnalysis = json.RawMessage(r.customAnalysis)
	}
	if len(r.transfers) > 0 {
		c.Transfers = json.RawMessage(r.transfers)
	}
	var err error
	if c.FromNumber, err = s.keys.OpenString(r.fromEnc, callAAD(r.tenantID, r.callID, "from_enc")); err != nil {
		return c, err
	}
	if c.Transcript, err = s.keys.OpenString(r.transcriptEnc, callAAD(r.tenantID, r.callID, "transcript_enc")); err != nil {
		return c, err
	}
	if c.Summary, err = s.keys.OpenString(r.summaryEnc, callAAD(r.tenantID, r.callID, "summary_enc")); err != nil {
		return c, err
	}
	return c, nil
}

// jsonPresent: a JSON value worth storing (not empty, not null).
func jsonPresent(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// mergeCall folds an incoming event into the stored row. Rules, which make
// the result independent of arrival order and repeats:
//   - status moves forward only (CallStatus.Rank);
//   - an empty incoming field never erases a stored one;
//   - where both have a value, the event of the higher-or-equal status wins
//     (call_analyzed knows more than call_started);
//   - the from-number, once stored, is never replaced;
//   - cost fields overwrite when the event provides them (non-zero).
//
// It reports whether anything changed.
func (s *Store) mergeCall(r *callRow, in *booking.Call) (bool, error) {
	prefer := in.Status.Rank() >= booking.CallStatus(r.status).Rank()
	changed := false
	str := func(dst *string, v string) {
		if v != "" && *dst != v && (*dst == "" || prefer) {
			*dst, changed = v, true
		}
	}
	str(&r.branchID, in.BranchID)
	str(&r.agentID, in.AgentID)
	str(&r.direction, in.Direction)
	str(&r.toNumber, in.ToNumber)
	str(&r.disconnectionReason, in.DisconnectionReason)
	str(&r.recordingURL, in.RecordingURL)
	str(&r.sentiment, in.Sentiment)
	str(&r.dataStorageSetting, in.DataStorageSetting)
	if in.Status.Rank() > booking.CallStatus(r.status).Rank() {
		r.status, changed = string(in.Status), true
	}
	tm := func(dst *sql.NullTime, v *time.Time) {
		if v == nil || v.IsZero() {
			return
		}
		t := utcMS(*v)
		if !dst.Valid || (prefer && !dst.Time.Equal(t)) {
			*dst, changed = sql.NullTime{Time: t, Valid: true}, true
		}
	}
	tm(&r.startedAt, in.StartedAt)
	tm(&r.endedAt, in.EndedAt)
	if in.DurationMS > 0 && r.durationMS != in.DurationMS && (r.durationMS == 0 || prefer) {
		r.durationMS, changed = in.DurationMS, true
	}
	if in.CallSuccessful != nil && (!r.callSuccessful.Valid || (prefer && r.callSuccessful.Bool != *in.CallSuccessful)) {
		r.callSuccessful, changed = sql.NullBool{Bool: *in.CallSuccessful, Valid: true}, true
	}
	js := func(dst *[]byte, v json.RawMessage) {
		if jsonPresent(v) && (len(*dst) == 0 || (prefer && !bytes.Equal(*dst, v))) {
			*dst, changed = []byte(v), true
		}
	}
	before := changed
	changed = false
	js(&r.customAnalysis, in.CustomAnalysis)
	if changed {
		enc, err := s.keys.Seal(r.customAnalysis, callAAD(r.tenantID, r.callID, "custom_analysis"))
		if err != nil {
			return false, err
		}
		r.customAnalysisEnc = enc
	}
	changed = changed || before
	js(&r.transfers, in.Transfers)
	if in.CustomerID != nil && (!r.customerID.Valid || (prefer && r.customerID.Int64 != *in.CustomerID)) {
		r.customerID, changed = sql.NullInt64{Int64: *in.CustomerID, Valid: true}, true
	}
	i64 := func(dst *int64, v int64) {
		if v != 0 && *dst != v {
			*dst, changed = v, true
		}
	}
	i64(&r.retellUSDCents, in.Cost.RetellUSDCents)
	i64(&r.platformEURCents, in.Cost.PlatformEURCents)
	i64(&r.customerEURCents, in.Cost.CustomerEURCents)
	if in.Cost.ExchangeRate != 0 && r.exchangeRate != in.Cost.ExchangeRate {
		r.exchangeRate, changed = in.Cost.ExchangeRate, true
	}
	if in.Cost.BilledMinutes != 0 && r.billedMinutes != in.Cost.BilledMinutes {
		r.billedMinutes, changed = in.Cost.BilledMinutes, true
	}

	// Personal data: seal only what is taken, and keep the stored
	// ciphertext when the plaintext is the same (a repeat changes nothing).
	if in.FromNumber != "" && len(r.fromEnc) == 0 {
		enc, err := s.keys.SealString(in.FromNumber, callAAD(r.tenantID, r.callID, "from_enc"))
		if err != nil {
			return false, err
		}
		r.fromEnc, r.fromIdx, changed = enc, s.keys.Index(pii.IndexPhone, r.tenantID, in.FromNumber), true
	}
	secret := func(dst *[]byte, v, col string) error {
		if v == "" || (len(*dst) > 0 && !prefer) {
			return nil
		}
		aad := callAAD(r.tenantID, r.callID, col)
		if len(*dst) > 0 {
			old, err := s.keys.OpenString(*dst, aad)
			if err != nil {
				return err
			}
			if old == v {
				return nil
			}
		}
		enc, err := s.keys.SealString(v, aad)
		if err != nil {
			return err
		}
		*dst, changed = enc, true
		return nil
	}
	if err := secret(&r.transcriptEnc, in.Transcript, "transcript_enc"); err != nil {
		return false, err
	}
	if err := secret(&r.summaryEnc, in.Summary, "summary_enc"); err != nil {
		return false, err
	}
	return changed, nil
}

// UpsertCall merges one call event into the call's single row (keyed by the
// Retell call_id) and returns the merged call. Any arrival order and any
// number of repeats give the same row (see mergeCall). The first event
// inserts the row in one statement; later ones lock it with SELECT … FOR
// UPDATE while merging; deadlocks and lock waits under concurrent
// deliveries are retried internally. A call id that already
// belongs to another tenant is KindConflict.
//
// The from-number is stored sealed with a blind index; transcript and
// summary are sealed. What to store at all (Retell's data_storage_setting)
// is the caller's decision: pass empty fields to store nothing.
func (s *Store) UpsertCall(ctx context.Context, in booking.Call) (booking.Call, error) {
	const op = "mysql.UpsertCall"
	if err := requireTenant(op, in.TenantID); err != nil {
		return booking.Call{}, err
	}
	if in.CallID == "" || len(in.CallID) > 128 {
		return booking.Call{}, booking.Errorf(booking.KindInvalid, op, "call id is missing or too long")
	}
	if in.Status.Rank() == 0 {
		return booking.Call{}, booking.Errorf(booking.KindInvalid, op, "unknown call status %q", in.Status)
	}
	if in.FromNumber != "" {
		if phone.IsAnonymous(in.FromNumber) {
			in.FromNumber = "" // nothing to store or index
		} else if n, err := phone.NormalizeE164(in.FromNumber, phone.DefaultRegion); err == nil {
			in.FromNumber = n
		}
	}
	if jsonPresent(in.CustomAnalysis) && !json.Valid(in.CustomAnalysis) || jsonPresent(in.Transfers) && !json.Valid(in.Transfers) {
		return booking.Call{}, booking.Errorf(booking.KindInvalid, op, "custom analysis or transfers is not valid JSON")
	}
	now := s.now()

	// Fast path, the first event of a call: insert the complete row in one
	// statement (one round trip, one commit).
	fresh := &callRow{tenantID: in.TenantID, callID: in.CallID, createdAt: now, updatedAt: now}
	if _, err := s.mergeCall(fresh, &in); err != nil {
		return booking.Call{}, mapErr(op, err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO calls (`+callCols+`)
		VALUES (`+placeholders(29)+`)`, fresh.args()...)
	if err == nil {
		out, err := s.call(fresh)
		return out, mapErr(op, err)
	}
	if !isDuplicate(err) {
		return booking.Call{}, mapErr(op, err)
	}

	// The call exists: lock it, merge, write what changed.
	var out booking.Call
	err = s.inTx(ctx, op, func(tx *sql.Tx) error {
		r, err := scanCallRow(tx.QueryRowContext(ctx, `SELECT `+callCols+` FROM calls WHERE tenant_id = ? AND call_id = ? FOR UPDATE`,
			in.TenantID, in.CallID))
		if err == sql.ErrNoRows {
			return booking.Errorf(booking.KindConflict, op, "call id belongs to another tenant")
		}
		if err != nil {
			return err
		}
		if err := s.openCustomAnalysis(r); err != nil {
			return err
		}
		changed, err := s.mergeCall(r, &in)
		if err != nil {
			return err
		}
		if changed {
			r.updatedAt = now
			if _, err := tx.ExecContext(ctx, `UPDATE calls SET branch_id = ?, agent_id = ?, direction = ?, from_idx = ?, from_enc = ?,
					to_number = ?, status = ?, started_at = ?, ended_at = ?, duration_ms = ?, disconnection_reason = ?,
					transcript_enc = ?, summary_enc = ?, recording_url = ?, sentiment = ?, call_successful = ?,
					custom_analysis = ?, transfers = ?, data_storage_setting = ?, customer_id = ?,
					retell_cost_usd_cents = ?, platform_cost_eur_cents = ?, customer_cost_eur_cents = ?, exchange_rate = ?,
					billed_minutes = ?, updated_at = ?
				WHERE tenant_id = ? AND call_id = ?`, append(r.args()[2:27], r.updatedAt, r.tenantID, r.callID)...); err != nil {
				return err
			}
		}
		out, err = s.call(r)
		return err
	})
	if err != nil {
		return booking.Call{}, err
	}
	return out, nil
}

// args lists the row's values in callCols order.
func (r *callRow) args() []any {
	return []any{r.tenantID, r.callID, r.branchID, r.agentID, r.direction, nullBytes(r.fromIdx), nullBytes(r.fromEnc), r.toNumber, r.status,
		r.startedAt, r.endedAt, r.durationMS, r.disconnectionReason, nullBytes(r.transcriptEnc), nullBytes(r.summaryEnc), r.recordingURL, r.sentiment,
		r.callSuccessful, nullBytes(r.customAnalysisEnc), nullBytes(r.transfers), r.dataStorageSetting, r.customerID,
		r.retellUSDCents, r.platformEURCents, r.customerEURCents, r.exchangeRate, r.billedMinutes,
		r.createdAt, r.updatedAt}
}

// GetCall reads one of the tenant's calls.
func (s *Store) GetCall(ctx context.Context, tenantID, callID string) (booking.Call, error) {
	const op = "mysql.GetCall"
	if err := requireTenant(op, tenantID); err != nil {
		return booking.Call{}, err
	}
	r, err := scanCallRow(s.db.QueryRowContext(ctx, `SELECT `+callCols+` FROM calls WHERE tenant_id = ? AND call_id = ?`, tenantID, callID))
	if err != nil {
		return booking.Call{}, mapErr(op, err)
	}
	c, err := s.call(r)
	return c, mapErr(op, err)
}

// openCustomAnalysis decrypts the custom analysis column into memory. Rows
// from before it was sealed hold plain JSON and are read as they are.
func (s *Store) openCustomAnalysis(r *callRow) error {
	if len(r.customAnalysis) > 0 || len(r.customAnalysisEnc) == 0 {
		return nil
	}
	if b := r.customAnalysisEnc[0]; b == '{' || b == '[' {
		r.customAnalysis = r.customAnalysisEnc
		return nil
	}
	pt, err := s.keys.Open(r.customAnalysisEnc, callAAD(r.tenantID, r.callID, "custom_analysis"))
	if err != nil {
		return err
	}
	r.customAnalysis = pt
	return nil
}
