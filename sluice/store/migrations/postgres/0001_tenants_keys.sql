-- Tenants, their users and API keys, and admin credentials. Times are Unix seconds.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    metadata    JSONB NOT NULL DEFAULT '{}'
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    external_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    metadata    JSONB NOT NULL DEFAULT '{}',
    UNIQUE (tenant_id, external_id)
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    user_id        TEXT REFERENCES users(id),
    name           TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    secret_sha256  TEXT NOT NULL UNIQUE,
    allowed_models JSONB,
    metadata       JSONB NOT NULL DEFAULT '{}',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    revoked_at     BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

CREATE TABLE admin_credentials (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    secret_sha256  TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
