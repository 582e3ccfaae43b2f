-- Spend policies (sluice.budgets.spend) of a tenant or one of its users: the policy as JSON
-- (policies.SpendPolicy) and, for a tenant, the UTC day an operator ended its emergency mode for.
CREATE TABLE spend_policies (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    scope_kind      TEXT NOT NULL CHECK (scope_kind IN ('tenant', 'user')),
    scope_id        TEXT NOT NULL,
    policy          TEXT NOT NULL,
    emergency_ended TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope_kind, scope_id)
);
-- What a spend policy did to a request, and the switch it made (sluice.obs.record).
ALTER TABLE request_log ADD COLUMN spend TEXT;
ALTER TABLE request_log ADD COLUMN spend_event TEXT;
-- Plans (policies.Plan as JSON): named tiers of default limits, budgets, models and spend policy;
-- a tenant and a user may be on one.
CREATE TABLE plans (
    name       TEXT PRIMARY KEY,
    plan       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
ALTER TABLE tenants ADD COLUMN plan TEXT;
ALTER TABLE users ADD COLUMN plan TEXT;
