-- Vector stores (/v1/vector_stores). Every row names its owner ("tenant:<id>" or "key:<name>"),
-- and every query names it too. vector_store_files is also the ingestion queue: a row
-- in_progress is work, claimed by one replica's worker (FOR UPDATE SKIP LOCKED) with a lease
-- (lease_until) and attempts counted, so a restart resumes it. Full text: a generated tsvector
-- with a GIN index. Embeddings are float32 bytes (scanned by the gateway without pgvector;
-- 0015 adds a pgvector column and index where the extension is available).
CREATE TABLE vector_stores (
    owner           TEXT NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT,
    created_at      BIGINT NOT NULL,
    last_active_at  BIGINT NOT NULL,
    metadata        TEXT NOT NULL,
    expires_after   TEXT,
    expires_at      BIGINT,
    PRIMARY KEY (owner, id)
);
CREATE INDEX vector_stores_by_owner_created ON vector_stores (owner, created_at, id);
CREATE TABLE vector_store_files (
    owner           TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    file_id         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL,
    chunking        TEXT NOT NULL,
    attributes      TEXT NOT NULL,
    batch_id        TEXT,
    usage_bytes     BIGINT NOT NULL DEFAULT 0,
    error_code      TEXT,
    error_message   TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     DOUBLE PRECISION,
    PRIMARY KEY (owner, store_id, file_id)
);
CREATE INDEX vector_store_files_by_created ON vector_store_files (owner, store_id, created_at, file_id);
CREATE INDEX vector_store_files_by_file ON vector_store_files (owner, file_id);
CREATE INDEX vector_store_files_pending ON vector_store_files (status, lease_until);
CREATE TABLE chunks (
    id              BIGSERIAL PRIMARY KEY,
    owner           TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    file_id         TEXT NOT NULL,
    idx             INTEGER NOT NULL,
    start_offset    INTEGER NOT NULL,
    end_offset      INTEGER NOT NULL,
    text            TEXT NOT NULL,
    embedding       BYTEA,
    tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    UNIQUE (owner, store_id, file_id, idx)
);
CREATE INDEX chunks_tsv ON chunks USING GIN (tsv);
