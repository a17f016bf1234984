-- +goose Up
-- Pricing a call sums the billed minutes of the tenant's earlier calls this
-- month on every call event; this index covers that query (no row reads).
CREATE INDEX idx_calls_usage ON calls (tenant_id, started_at, duration_ms, call_id);

-- +goose Down
DROP INDEX idx_calls_usage ON calls;
