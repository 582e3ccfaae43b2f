-- Rate and size limits per tenant, user or key. A NULL column means no limit of that kind.
-- scope_id is the tenant's, user's or key's id (each unique store-wide), tenant_id its owner.
CREATE TABLE limits (
    scope_kind       TEXT NOT NULL CHECK (scope_kind IN ('tenant', 'user', 'key')),
    scope_id         TEXT NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    rpm              BIGINT,
    tpm              BIGINT,
    max_concurrent   BIGINT,
    max_tokens       BIGINT,
    max_input_tokens BIGINT,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);
CREATE INDEX limits_by_tenant ON limits (tenant_id);
