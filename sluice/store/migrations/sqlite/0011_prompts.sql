-- The prompt registry. A version is immutable once created; version numbers count up from 1 per
-- (tenant_id, name), assigned in the inserting statement. Labels point at versions, and every
-- move is an appended prompt_label_events row written in the label's own transaction. Every
-- lookup names the tenant: the primary keys lead with tenant_id and serve every lookup
-- (a version, a prompt's versions, a tenant's prompts, a prompt's labels, its history in order).
-- messages, variables and params are JSON text.
CREATE TABLE prompt_versions (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    messages    TEXT NOT NULL,
    variables   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    author      TEXT NOT NULL,
    model       TEXT,
    params      TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);
CREATE TABLE prompt_labels (
    tenant_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    label       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, label),
    FOREIGN KEY (tenant_id, name, version) REFERENCES prompt_versions (tenant_id, name, version)
);
CREATE TABLE prompt_label_events (
    tenant_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    label         TEXT NOT NULL,
    from_version  INTEGER,
    to_version    INTEGER,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    at            INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, seq)
);
