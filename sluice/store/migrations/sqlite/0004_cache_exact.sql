-- The embedded exact cache's copy for restarts: the process serves from memory and writes here in
-- batches. No foreign key: static config keys cache under tenant '-', which has no tenants row.
-- last_used (Unix seconds) starts at created_at and follows hits lazily: restarts rebuild the
-- least-recently-used order from it.
CREATE TABLE cache_exact (
    tenant_id         TEXT NOT NULL,
    exact_key         TEXT NOT NULL,
    model             TEXT NOT NULL,
    partition         TEXT NOT NULL,
    key_prefix        TEXT NOT NULL,
    prompt            TEXT NOT NULL,
    response          BLOB NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_micros       INTEGER NOT NULL,
    created_at        REAL NOT NULL,
    expires_at        REAL NOT NULL,
    last_used         REAL NOT NULL,
    PRIMARY KEY (tenant_id, exact_key)
);
