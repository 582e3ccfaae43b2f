-- Token and USD budgets per tenant, user or key, one row per period ('day' or 'month', UTC).
-- A NULL cap means no cap of that kind. Spend itself lives in the ledger (memory or Redis).
CREATE TABLE budgets (
    scope_kind      TEXT NOT NULL CHECK (scope_kind IN ('tenant', 'user', 'key')),
    scope_id        TEXT NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    period          TEXT NOT NULL CHECK (period IN ('day', 'month')),
    max_tokens      BIGINT,
    max_cost_micros BIGINT,
    on_exceed       TEXT NOT NULL CHECK (on_exceed IN ('reject', 'downgrade')),
    downgrade_to    TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id, period)
);
CREATE INDEX budgets_by_tenant ON budgets (tenant_id);
