-- +goose Up
-- Keys for privacy export/erasure and the daily retention purge (additive
-- only: old code keeps working). Retention works per tenant by age in small
-- batches; these keys let each batch find its rows without a table scan.
ALTER TABLE calls ADD KEY idx_calls_created (tenant_id, created_at);
ALTER TABLE callback_requests ADD KEY idx_callback_customer (tenant_id, customer_id);
ALTER TABLE idempotency_records ADD KEY idx_idempotency_tenant_created (tenant_id, created_at);
ALTER TABLE webhook_receipts ADD KEY idx_webhook_receipts_tenant (tenant_id, received_at);

-- +goose Down
ALTER TABLE webhook_receipts DROP KEY idx_webhook_receipts_tenant;
ALTER TABLE idempotency_records DROP KEY idx_idempotency_tenant_created;
ALTER TABLE callback_requests DROP KEY idx_callback_customer;
ALTER TABLE calls DROP KEY idx_calls_created;
