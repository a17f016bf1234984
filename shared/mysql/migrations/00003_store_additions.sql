-- +goose Up
-- Additions made when the Store was written (backward compatible: the new
-- column has a default, the new key only speeds up lookups).
-- Branches removed from a tenant file but still referenced (staff,
-- appointments) are deactivated instead of deleted, like services and staff.
ALTER TABLE branches ADD COLUMN active TINYINT(1) NOT NULL DEFAULT 1;
-- Privacy export/erasure finds the calls of a number that never became a
-- customer (anonymous statistics keep the row, erasure clears from_*).
ALTER TABLE calls ADD KEY idx_calls_from (tenant_id, from_idx);

-- +goose Down
ALTER TABLE calls DROP KEY idx_calls_from;
ALTER TABLE branches DROP COLUMN active;
