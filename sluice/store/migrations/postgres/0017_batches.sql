-- Batches (/v1/batches) run by the gateway itself. owner is "tenant:<id>" or "key:<name>", as
-- for files; every client lookup names it. The caller's identity (tenant, user, key id or the
-- static key's name; never a secret) is kept so each line runs as the batch's creator. A row in
-- batches is also work for the batch worker while it validates or finishes (claimed with a lease:
-- lease_until, attempts); each line is a row of batch_lines, claimed with a lease the same way,
-- and its result is written once (result_status set only while it is NULL).
CREATE TABLE batches (
    owner              TEXT NOT NULL,
    id                 TEXT NOT NULL,
    endpoint           TEXT NOT NULL,
    input_file_id      TEXT NOT NULL,
    completion_window  TEXT NOT NULL,
    status             TEXT NOT NULL,
    ending             TEXT,
    model              TEXT,
    metadata           TEXT,
    errors             TEXT,
    output_file_id     TEXT,
    error_file_id      TEXT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    in_progress_at     BIGINT,
    finalizing_at      BIGINT,
    completed_at       BIGINT,
    failed_at          BIGINT,
    expired_at         BIGINT,
    cancelling_at      BIGINT,
    cancelled_at       BIGINT,
    total              BIGINT NOT NULL DEFAULT 0,
    tenant_id          TEXT,
    user_id            TEXT,
    key_id             TEXT,
    key_name           TEXT NOT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    lease_until        DOUBLE PRECISION,
    PRIMARY KEY (owner, id)
);
CREATE UNIQUE INDEX batches_by_id ON batches (id);
CREATE INDEX batches_by_owner_created ON batches (owner, created_at, id);
CREATE INDEX batches_by_status ON batches (status, lease_until);
CREATE TABLE batch_lines (
    batch_id       TEXT NOT NULL,
    custom_id      TEXT NOT NULL,
    line_no        INTEGER NOT NULL,
    id             TEXT NOT NULL,
    body           TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    lease_until    DOUBLE PRECISION,
    status_code    INTEGER,
    request_id     TEXT,
    response       TEXT,
    error_code     TEXT,
    error_message  TEXT,
    input_tokens   BIGINT NOT NULL DEFAULT 0,
    output_tokens  BIGINT NOT NULL DEFAULT 0,
    cached_tokens  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX batch_lines_by_status ON batch_lines (batch_id, status, line_no);
