-- The request log: one row per finished request, the columns of sluice.obs.record.RequestRecord.
-- Request ids come from clients and may repeat, so seq is the key (and the paging cursor); id is
-- not indexed: an index on random ids doubled the cost of writing a row (bench/log_writer.py), and
-- usage queries select by time (and tenant: here a filter over the time range, since the embedded
-- store writes in the gateway's own process, where each index costs CPU on every request). ts_ms is Unix milliseconds (UTC); money is integer micro-dollars.
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

-- A tenant's policy on logging prompts and answers; NULL: the config's logging.payloads.
ALTER TABLE tenants ADD COLUMN log_payloads INTEGER;
