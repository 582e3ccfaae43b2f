-- The prompt registry. A version is immutable once created; version numbers count up from 1 per
-- (tenant_id, name), assigned under a transaction-scoped advisory lock on the prompt, which also
-- serializes its label moves. Every move is an appended prompt_label_events row written in the
-- label's own transaction. Every lookup names the tenant: the primary keys lead with tenant_id
-- and serve every lookup (a version, a prompt's versions, a tenant's prompts, a prompt's labels,
-- its history in order).
CREATE TABLE prompt_versions (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    messages    JSONB NOT NULL,
    variables   JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    author      TEXT NOT NULL,
    model       TEXT,
    params      JSONB NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);
CREATE TABLE prompt_labels (
    tenant_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    label       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name, label),
    FOREIGN KEY (tenant_id, name, version) REFERENCES prompt_versions (tenant_id, name, version)
);
CREATE TABLE prompt_label_events (
    tenant_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    label         TEXT NOT NULL,
    from_version  BIGINT,
    to_version    BIGINT,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    at            BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name, seq)
);
