-- The request log: one row per finished request, the columns of sluice.obs.record.RequestRecord.
-- Request ids come from clients and may repeat, so seq is the key (and the paging cursor) and id
-- only an index. ts_ms is Unix milliseconds (UTC); money is integer micro-dollars.
CREATE TABLE request_log (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL,
    ts_ms         INTEGER NOT NULL,
    endpoint      TEXT NOT NULL,
    status        INTEGER NOT NULL,
    latency_ms    REAL NOT NULL,
    tenant_id     TEXT,
    user_id       TEXT,
    key_id        TEXT,
    key_prefix    TEXT,
    model         TEXT,
    deployment    TEXT,
    error_type    TEXT,
    stream        INTEGER NOT NULL,
    ttft_ms       REAL,
    upstream_ms   REAL NOT NULL,
    overhead_ms   REAL NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    cost_micros   INTEGER NOT NULL,
    cache         TEXT,
    saved_tokens  INTEGER NOT NULL,
    saved_micros  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    fallback      INTEGER NOT NULL,
    guardrail     TEXT,
    prompt        TEXT,
    answer        TEXT
);
-- Usage over a time range (all tenants, or one); a tenant's requests newest first; one request.
CREATE INDEX request_log_by_ts ON request_log (ts_ms);
CREATE INDEX request_log_by_tenant_ts ON request_log (tenant_id, ts_ms);
CREATE INDEX request_log_by_tenant_seq ON request_log (tenant_id, seq);
CREATE INDEX request_log_by_id ON request_log (id);

-- A tenant's policy on logging prompts and answers; NULL: the config's logging.payloads.
ALTER TABLE tenants ADD COLUMN log_payloads INTEGER;
