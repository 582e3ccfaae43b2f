-- requires extension: vector
-- The distributed semantic cache's entries, shared by every replica; optional, as pgvector is
-- (see migrations/__init__.py): without it the semantic layer reports itself off. embedding holds
-- any dimension: the index for the configured one is made by PgSemanticIndex.start (partial to
-- rows of that dimension), so a change of embedding model needs no migration. IF NOT EXISTS:
-- before this migration the index made the table itself.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS cache_semantic (
    tenant_id         TEXT NOT NULL,
    exact_key         TEXT NOT NULL,
    model             TEXT NOT NULL,
    partition         TEXT NOT NULL,
    key_prefix        TEXT NOT NULL,
    prompt            TEXT NOT NULL,
    response          BYTEA NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_micros       BIGINT NOT NULL,
    created_at        DOUBLE PRECISION NOT NULL,
    expires_at        DOUBLE PRECISION NOT NULL,
    embedding         vector NOT NULL,
    PRIMARY KEY (tenant_id, exact_key)
);
CREATE INDEX IF NOT EXISTS cache_semantic_by_partition ON cache_semantic (tenant_id, model, partition);
CREATE INDEX IF NOT EXISTS cache_semantic_by_age ON cache_semantic (tenant_id, created_at);
