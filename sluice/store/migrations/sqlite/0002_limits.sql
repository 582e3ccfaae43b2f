-- Rate and size limits per tenant, user or key. A NULL column means no limit of that kind.
-- scope_id is the tenant's, user's or key's id (each unique store-wide), tenant_id its owner.
CREATE TABLE limits (
    scope_kind       TEXT NOT NULL CHECK (scope_kind IN ('tenant', 'user', 'key')),
    scope_id         TEXT NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    rpm              INTEGER,
    tpm              INTEGER,
    max_concurrent   INTEGER,
    max_tokens       INTEGER,
    max_input_tokens INTEGER,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);
CREATE INDEX limits_by_tenant ON limits (tenant_id);
