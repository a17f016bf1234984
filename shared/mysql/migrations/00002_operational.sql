-- +goose Up
-- Operational data. All instants are UTC DATETIME(3). Columns ending in _enc
-- hold AES-256-GCM ciphertext (key id inside); _idx columns hold HMAC-SHA256
-- blind indexes used for equality lookups. Plain personal data is never stored.
CREATE TABLE customers (
  tenant_id    VARCHAR(64)   NOT NULL,
  id           BIGINT        NOT NULL AUTO_INCREMENT,
  phone_idx    VARBINARY(32) NULL,
  email_idx    VARBINARY(32) NULL,
  name_enc     VARBINARY(1024) NULL,
  phone_enc    VARBINARY(512)  NULL,
  email_enc    VARBINARY(1024) NULL,
  source       VARCHAR(32)   NOT NULL DEFAULT 'phone',
  erased_at    DATETIME(3)   NULL,
  created_at   DATETIME(3)   NOT NULL,
  last_seen_at DATETIME(3)   NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_phone (tenant_id, phone_idx),
  KEY idx_customers_email (tenant_id, email_idx),
  KEY idx_customers_last_seen (tenant_id, last_seen_at),
  CONSTRAINT fk_customers_tenant FOREIGN KEY (tenant_id) REFERENCES tenants(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE calls (
  tenant_id            VARCHAR(64)  NOT NULL,
  call_id              VARCHAR(128) NOT NULL,
  branch_id            VARCHAR(64)  NOT NULL DEFAULT '',
  agent_id             VARCHAR(128) NOT NULL DEFAULT '',
  direction            VARCHAR(16)  NOT NULL DEFAULT '',
  from_idx             VARBINARY(32) NULL,
  from_enc             VARBINARY(512) NULL,
  to_number            VARCHAR(20)  NOT NULL DEFAULT '',
  status               VARCHAR(16)  NOT NULL,
  started_at           DATETIME(3)  NULL,
  ended_at             DATETIME(3)  NULL,
  duration_ms          BIGINT       NOT NULL DEFAULT 0,
  disconnection_reason VARCHAR(64)  NOT NULL DEFAULT '',
  transcript_enc       MEDIUMBLOB   NULL,
  summary_enc          BLOB         NULL,
  recording_url        VARCHAR(1024) NOT NULL DEFAULT '',
  sentiment            VARCHAR(16)  NOT NULL DEFAULT '',
  call_successful      TINYINT(1)   NULL,
  custom_analysis      JSON         NULL,
  transfers            JSON         NULL,
  data_storage_setting VARCHAR(32)  NOT NULL DEFAULT '',
  customer_id          BIGINT       NULL,
  retell_cost_usd_cents   BIGINT NOT NULL DEFAULT 0,
  platform_cost_eur_cents BIGINT NOT NULL DEFAULT 0,
  customer_cost_eur_cents BIGINT NOT NULL DEFAULT 0,
  exchange_rate        DECIMAL(10,6) NOT NULL DEFAULT 0,
  billed_minutes       INT          NOT NULL DEFAULT 0,
  created_at           DATETIME(3)  NOT NULL,
  updated_at           DATETIME(3)  NOT NULL,
  PRIMARY KEY (call_id),
  KEY idx_calls_tenant_started (tenant_id, started_at),
  KEY idx_calls_customer (tenant_id, customer_id),
  CONSTRAINT fk_calls_tenant FOREIGN KEY (tenant_id) REFERENCES tenants(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE appointments (
  tenant_id         VARCHAR(64)  NOT NULL,
  id                BIGINT       NOT NULL AUTO_INCREMENT,
  branch_id         VARCHAR(64)  NOT NULL,
  service_id        VARCHAR(64)  NOT NULL,
  staff_id          VARCHAR(64)  NOT NULL DEFAULT '',
  customer_id       BIGINT       NULL,
  call_id           VARCHAR(128) NOT NULL DEFAULT '',
  calcom_uid        VARCHAR(64)  NULL,
  status            VARCHAR(16)  NOT NULL,
  source            VARCHAR(16)  NOT NULL,
  starts_at         DATETIME(3)  NOT NULL,
  ends_at           DATETIME(3)  NOT NULL,
  notes_enc         BLOB         NULL,
  reschedule_count  INT          NOT NULL DEFAULT 0,
  idempotency_key   VARCHAR(64)  NULL,
  needs_attention   VARCHAR(255) NOT NULL DEFAULT '',
  calcom_updated_at DATETIME(3)  NULL,
  created_at        DATETIME(3)  NOT NULL,
  updated_at        DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_appointments_calcom_uid (calcom_uid),
  UNIQUE KEY uq_appointments_idempotency (tenant_id, idempotency_key),
  KEY idx_appointments_customer (tenant_id, customer_id, starts_at),
  KEY idx_appointments_start (tenant_id, branch_id, starts_at),
  CONSTRAINT fk_appointments_tenant FOREIGN KEY (tenant_id) REFERENCES tenants(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE appointment_segments (
  tenant_id      VARCHAR(64) NOT NULL,
  appointment_id BIGINT      NOT NULL,
  position       INT         NOT NULL,
  event_type_id  BIGINT      NOT NULL,
  calcom_uid     VARCHAR(64) NULL,
  starts_at      DATETIME(3) NOT NULL,
  ends_at        DATETIME(3) NOT NULL,
  status         VARCHAR(16) NOT NULL,
  PRIMARY KEY (appointment_id, position),
  UNIQUE KEY uq_appointment_segments_uid (calcom_uid),
  KEY idx_appointment_segments_tenant (tenant_id, appointment_id),
  CONSTRAINT fk_segments_appointment FOREIGN KEY (appointment_id) REFERENCES appointments(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Audit of every change to an appointment (who, what, policy outcome, fee). No PII.
CREATE TABLE appointment_changes (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  tenant_id      VARCHAR(64)  NOT NULL,
  appointment_id BIGINT       NOT NULL,
  action         VARCHAR(32)  NOT NULL, -- booked, cancelled, rescheduled, confirmed, synced
  actor          VARCHAR(128) NOT NULL, -- call:<id>, calcom, admin:<principal>, worker
  policy_outcome VARCHAR(64)  NOT NULL DEFAULT '',
  fee_cents      BIGINT       NOT NULL DEFAULT 0,
  before_state   JSON         NULL,
  after_state    JSON         NULL,
  created_at     DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  KEY idx_appointment_changes (tenant_id, appointment_id, created_at),
  KEY idx_appointment_changes_action (tenant_id, action, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Exactly-once: one row per (tenant, key). The row is inserted IN_PROGRESS
-- before any side effect; a repeat finds it and replays the stored answer.
CREATE TABLE idempotency_records (
  tenant_id   VARCHAR(64)  NOT NULL,
  idem_key    VARCHAR(64)  NOT NULL,
  operation   VARCHAR(32)  NOT NULL,
  status      VARCHAR(16)  NOT NULL, -- in_progress, complete
  response    MEDIUMBLOB   NULL,
  expires_at  DATETIME(3)  NOT NULL,
  created_at  DATETIME(3)  NOT NULL,
  updated_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (tenant_id, idem_key),
  KEY idx_idempotency_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Webhook dedupe: provider + event key (e.g. retell call_ended:<call_id>,
-- calcom BOOKING_CREATED:<uid>:<createdAt>).
CREATE TABLE webhook_receipts (
  provider    VARCHAR(16)  NOT NULL,
  event_key   VARCHAR(255) NOT NULL,
  tenant_id   VARCHAR(64)  NOT NULL DEFAULT '',
  received_at DATETIME(3)  NOT NULL,
  PRIMARY KEY (provider, event_key),
  KEY idx_webhook_receipts_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE callback_requests (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  tenant_id   VARCHAR(64)  NOT NULL,
  branch_id   VARCHAR(64)  NOT NULL DEFAULT '',
  call_id     VARCHAR(128) NOT NULL DEFAULT '',
  customer_id BIGINT       NULL,
  phone_enc   VARBINARY(512) NULL,
  reason      VARCHAR(64)  NOT NULL,
  status      VARCHAR(16)  NOT NULL DEFAULT 'open',
  created_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_callback_call_reason (tenant_id, call_id, reason),
  KEY idx_callback_tenant (tenant_id, status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Append-only: the code has no UPDATE or DELETE on this table except the
-- retention of rows past their period.
CREATE TABLE audit_log (
  id         BIGINT       NOT NULL AUTO_INCREMENT,
  tenant_id  VARCHAR(64)  NOT NULL,
  actor      VARCHAR(128) NOT NULL,
  action     VARCHAR(64)  NOT NULL,
  subject    VARCHAR(128) NOT NULL DEFAULT '',
  reason     VARCHAR(255) NOT NULL DEFAULT '',
  detail     JSON         NULL,
  created_at DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  KEY idx_audit_tenant (tenant_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE audit_log;
DROP TABLE callback_requests;
DROP TABLE webhook_receipts;
DROP TABLE idempotency_records;
DROP TABLE appointment_changes;
DROP TABLE appointment_segments;
DROP TABLE appointments;
DROP TABLE calls;
DROP TABLE customers;
