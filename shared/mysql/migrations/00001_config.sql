-- +goose Up
-- Tenant configuration, written only by `scripts/tenant apply`.
-- Every table carries tenant_id in its primary key so no query can address
-- another tenant's rows without naming that tenant.
CREATE TABLE tenants (
  id            VARCHAR(64)  NOT NULL,
  name          VARCHAR(200) NOT NULL,
  locale        VARCHAR(8)   NOT NULL DEFAULT 'de',
  config        JSON         NOT NULL, -- policy, pricing, retention, flags, calcom key ref
  created_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE branches (
  tenant_id          VARCHAR(64)  NOT NULL,
  id                 VARCHAR(64)  NOT NULL,
  name               VARCHAR(200) NOT NULL,
  time_zone          VARCHAR(64)  NOT NULL,
  opening_hours      JSON         NOT NULL,
  min_notice_minutes INT          NOT NULL DEFAULT 0,
  policy             JSON         NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT fk_branches_tenant FOREIGN KEY (tenant_id) REFERENCES tenants(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A dialled number belongs to exactly one branch worldwide.
CREATE TABLE phone_numbers (
  e164       VARCHAR(20) NOT NULL,
  tenant_id  VARCHAR(64) NOT NULL,
  branch_id  VARCHAR(64) NOT NULL,
  agent_id   VARCHAR(128) NOT NULL DEFAULT '',
  PRIMARY KEY (e164),
  KEY idx_phone_numbers_tenant (tenant_id, branch_id),
  CONSTRAINT fk_phone_numbers_branch FOREIGN KEY (tenant_id, branch_id) REFERENCES branches(tenant_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE services (
  tenant_id        VARCHAR(64)  NOT NULL,
  id               VARCHAR(64)  NOT NULL,
  branch_id        VARCHAR(64)  NOT NULL DEFAULT '', -- '' = every branch
  name             VARCHAR(200) NOT NULL,
  synonyms         JSON         NOT NULL,
  category         VARCHAR(100) NOT NULL DEFAULT '',
  duration_minutes INT          NOT NULL,
  event_type_id    BIGINT       NOT NULL DEFAULT 0, -- 0 for composite services
  price_cents      BIGINT       NOT NULL DEFAULT 0,
  priority         INT          NOT NULL DEFAULT 100,
  is_default       TINYINT(1)   NOT NULL DEFAULT 0,
  policy           JSON         NOT NULL,
  active           TINYINT(1)   NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id),
  KEY idx_services_event_type (event_type_id),
  CONSTRAINT fk_services_tenant FOREIGN KEY (tenant_id) REFERENCES tenants(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE service_segments (
  tenant_id         VARCHAR(64)  NOT NULL,
  service_id        VARCHAR(64)  NOT NULL,
  position          INT          NOT NULL,
  name              VARCHAR(200) NOT NULL,
  duration_minutes  INT          NOT NULL,
  event_type_id     BIGINT       NOT NULL,
  gap_after_minutes INT          NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, service_id, position),
  KEY idx_service_segments_event_type (event_type_id),
  CONSTRAINT fk_segments_service FOREIGN KEY (tenant_id, service_id) REFERENCES services(tenant_id, id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE staff (
  tenant_id      VARCHAR(64)  NOT NULL,
  id             VARCHAR(64)  NOT NULL,
  branch_id      VARCHAR(64)  NOT NULL,
  name           VARCHAR(200) NOT NULL,
  calcom_user_id BIGINT       NOT NULL DEFAULT 0,
  service_ids    JSON         NOT NULL,
  policy         JSON         NOT NULL,
  active         TINYINT(1)   NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT fk_staff_branch FOREIGN KEY (tenant_id, branch_id) REFERENCES branches(tenant_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE staff;
DROP TABLE service_segments;
DROP TABLE services;
DROP TABLE phone_numbers;
DROP TABLE branches;
DROP TABLE tenants;
