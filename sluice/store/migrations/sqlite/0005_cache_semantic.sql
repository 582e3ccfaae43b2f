-- The embedded semantic index's copy for restarts: the process searches in memory and writes here
-- in batches. embedding is the prompt's unit vector as little-endian float32: rows of another
-- length than the configured embedding's are dropped at start. No foreign key, as in cache_exact.
CREATE TABLE cache_semantic (
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
    embedding         BLOB NOT NULL,
    PRIMARY KEY (tenant_id, exact_key)
);
