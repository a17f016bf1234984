package privacy

import (
	"context"
	"errors"
	"log/slog"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/mysql"
)

// Periods are retention periods in days.
type Periods struct {
	TranscriptDays       int // transcripts, summaries, recording links
	InactiveCustomerDays int // customers (and unlinked caller numbers) without activity: erased
	ReceiptDays          int // idempotency records and webhook receipts: deleted
	AuditDays            int // audit log rows: deleted (≥ mysql.MinAuditRetentionDays)
}

// DefaultPeriods are the system defaults: one year of transcripts, three
// years of inactivity, 90 days of dedupe records, seven years of audit.
var DefaultPeriods = Periods{
	TranscriptDays:       365,
	InactiveCustomerDays: 3 * 365,
	ReceiptDays:          90,
	AuditDays:            mysql.MinAuditRetentionDays,
}

// For returns the periods of a tenant: its overrides (non-zero fields of
// booking.Tenant.Retention) over p. The audit period has no per-tenant
// override.
func (p Periods) For(t booking.Retention) Periods {
	if t.TranscriptDays > 0 {
		p.TranscriptDays = t.TranscriptDays
	}
	if t.InactiveCustomerDays > 0 {
		p.InactiveCustomerDays = t.InactiveCustomerDays
	}
	if t.ReceiptDays > 0 {
		p.ReceiptDays = t.ReceiptDays
	}
	return p
}

// overlay returns p with the non-zero fields of o.
func (p Periods) overlay(o Periods) Periods {
	p = p.For(booking.Retention{TranscriptDays: o.TranscriptDays, InactiveCustomerDays: o.InactiveCustomerDays, ReceiptDays: o.ReceiptDays})
	if o.AuditDays > 0 {
		p.AuditDays = o.AuditDays
	}
	return p
}

// Retention is the daily purge. "Now" is the Store's clock (inject it with
// mysql.NewStore).
type Retention struct {
	Store    *mysql.Store
	Defaults Periods      // zero fields: DefaultPeriods
	Batch    int          // rows per statement; 0: mysql.DefaultRetentionBatch
	Logger   *slog.Logger // one line per tenant, counts only; nil discards
}

// TenantReport counts what one run changed in one tenant ("" = webhook
// receipts not yet attributed to a tenant).
type TenantReport struct {
	TenantID          string `json:"tenant_id"`
	CallContent       int64  `json:"call_content"`       // calls whose transcript/summary/recording link went
	CallersAnonymized int64  `json:"callers_anonymized"` // unlinked calls whose from-number went
	CallbacksCleared  int64  `json:"callbacks_cleared"`
	CustomersErased   int64  `json:"customers_erased"`
	Idempotency       int64  `json:"idempotency_records"`
	Receipts          int64  `json:"webhook_receipts"`
	AuditRows         int64  `json:"audit_rows"`
	Error             string `json:"error,omitempty"` // PII-free message of the first failure
}

// Report is the result of one run.
type Report struct {
	Tenants []TenantReport `json:"tenants"`
}

// Run purges every tenant by its periods. A failing tenant does not stop
// the others; the error returned joins the failures (KindTransient ones
// are simply retried by the next daily run).
func (r *Retention) Run(ctx context.Context) (Report, error) {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	def := DefaultPeriods.overlay(r.Defaults)
	tenants, err := r.Store.ListTenants(ctx)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	var errs []error
	for _, t := range tenants {
		tr, err := r.runTenant(ctx, t.ID, def.For(t.Retention))
		if err != nil {
			tr.Error = booking.MessageOf(err)
			errs = append(errs, err)
		}
		rep.Tenants = append(rep.Tenants, tr)
		logReport(ctx, log, tr)
	}
	// Receipts recorded before their tenant was known use the defaults.
	tr := TenantReport{TenantID: ""}
	if tr.Receipts, err = r.Store.PurgeWebhookReceipts(ctx, "", def.ReceiptDays, r.Batch); err != nil {
		tr.Error = booking.MessageOf(err)
		errs = append(errs, err)
	}
	rep.Tenants = append(rep.Tenants, tr)
	logReport(ctx, log, tr)
	return rep, errors.Join(errs...)
}

func (r *Retention) runTenant(ctx context.Context, tenantID string, p Periods) (TenantReport, error) {
	tr := TenantReport{TenantID: tenantID}
	var err error
	if tr.CallContent, err = r.Store.PurgeCallContent(ctx, tenantID, p.TranscriptDays, r.Batch); err != nil {
		return tr, err
	}
	if tr.CustomersErased, err = r.eraseInactive(ctx, tenantID, p.InactiveCustomerDays); err != nil {
		return tr, err
	}
	if tr.CallersAnonymized, tr.CallbacksCleared, err = r.Store.AnonymizeOldCallers(ctx, tenantID, p.InactiveCustomerDays, r.Batch); err != nil {
		return tr, err
	}
	if tr.Idempotency, err = r.Store.PurgeIdempotencyRecords(ctx, tenantID, p.ReceiptDays, r.Batch); err != nil {
		return tr, err
	}
	if tr.Receipts, err = r.Store.PurgeWebhookReceipts(ctx, tenantID, p.ReceiptDays, r.Batch); err != nil {
		return tr, err
	}
	if tr.AuditRows, err = r.Store.PurgeExpiredAudit(ctx, tenantID, p.AuditDays, r.Batch); err != nil {
		return tr, err
	}
	return tr, nil
}

// eraseInactive erases inactive customers batch by batch, each customer in
// its own short transaction with its own audit row.
func (r *Retention) eraseInactive(ctx context.Context, tenantID string, days int) (int64, error) {
	batch := r.Batch
	if batch <= 0 {
		batch = mysql.DefaultRetentionBatch
	}
	var n int64
	for {
		ids, err := r.Store.InactiveCustomers(ctx, tenantID, days, batch)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			e, err := r.Store.EraseCustomer(ctx, tenantID, id, ActorRetention, "retention: no activity for the retention period")
			if err != nil {
				return n, err
			}
			if !e.AlreadyErased {
				n++
			}
		}
		if len(ids) < batch {
			return n, nil
		}
	}
}

func logReport(ctx context.Context, log *slog.Logger, tr TenantReport) {
	attrs := []slog.Attr{slog.String("tenant", tr.TenantID),
		slog.Int64("call_content", tr.CallContent), slog.Int64("callers_anonymized", tr.CallersAnonymized),
		slog.Int64("callbacks_cleared", tr.CallbacksCleared), slog.Int64("customers_erased", tr.CustomersErased),
		slog.Int64("idempotency_records", tr.Idempotency), slog.Int64("webhook_receipts", tr.Receipts),
		slog.Int64("audit_rows", tr.AuditRows)}
	level := slog.LevelInfo
	if tr.Error != "" {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", tr.Error))
	}
	log.LogAttrs(ctx, level, "retention", attrs...)
}
