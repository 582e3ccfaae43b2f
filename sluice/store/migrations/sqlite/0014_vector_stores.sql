-- Vector stores (/v1/vector_stores). Every row names its owner ("tenant:<id>" or "key:<name>"),
-- and every query names it too. vector_store_files is also the ingestion queue: a row
-- in_progress is work, claimed by a worker with a lease (lease_until) and attempts counted, so a
-- restart resumes it. chunk_text is the FTS5 full-text index of chunks (external content,
-- keyed by the chunk's rowid, never reused, so (count, max rowid) changes with every change of a
-- store's chunks; the store adds and deletes its entries with the chunks').
CREATE TABLE vector_stores (
    owner           TEXT NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT,
    created_at      INTEGER NOT NULL,
    last_active_at  INTEGER NOT NULL,
    metadata        TEXT NOT NULL,
    expires_after   TEXT,
    expires_at      INTEGER,
    PRIMARY KEY (owner, id)
);
CREATE INDEX vector_stores_by_owner_created ON vector_stores (owner, created_at, id);
CREATE TABLE vector_store_files (
    owner           TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    file_id         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL,
    chunking        TEXT NOT NULL,
    attributes      TEXT NOT NULL,
    batch_id        TEXT,
    usage_bytes     INTEGER NOT NULL DEFAULT 0,
    error_code      TEXT,
    error_message   TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     REAL,
    PRIMARY KEY (owner, store_id, file_id)
);
CREATE INDEX vector_store_files_by_created ON vector_store_files (owner, store_id, created_at, file_id);
CREATE INDEX vector_store_files_by_file ON vector_store_files (owner, file_id);
CREATE INDEX vector_store_files_pending ON vector_store_files (status, lease_until);
CREATE TABLE chunks (
    rowid           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner           TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    file_id         TEXT NOT NULL,
    idx             INTEGER NOT NULL,
    start_offset    INTEGER NOT NULL,
    end_offset      INTEGER NOT NULL,
    text            TEXT NOT NULL,
    embedding       BLOB,
    UNIQUE (owner, store_id, file_id, idx)
);
CREATE VIRTUAL TABLE chunk_text USING fts5(text, content='chunks', content_rowid='rowid');
