-- The request log: one row per finished request, the columns of sluice.obs.record.RequestRecord.
-- Request ids come from clients and may repeat, so seq is the key (and the paging cursor); id is
-- not indexed: an index on random ids doubled the cost of writing a row (bench/log_writer.py), and
-- usage queries select by time and tenant. ts_ms is Unix milliseconds (UTC); money is integer micro-dollars.
CREATE TABLE request_log (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL,
    ts_ms         BIGINT NOT NULL,
    endpoint      TEXT NOT NULL,
    status        INTEGER NOT NULL,
    latency_ms    DOUBLE PRECISION NOT NULL,
    tenant_id     TEXT,
    user_id       TEXT,
    key_id        TEXT,
    key_prefix    TEXT,
    model         TEXT,
    deployment    TEXT,
    error_type    TEXT,
    stream        BOOLEAN NOT NULL,
    ttft_ms       DOUBLE PRECISION,
    upstream_ms   DOUBLE PRECISION NOT NULL,
    overhead_ms   DOUBLE PRECISION NOT NULL,
    input_tokens  BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    cost_micros   BIGINT NOT NULL,
    cache         TEXT,
    saved_tokens  BIGINT NOT NULL,
    saved_micros  BIGINT NOT NULL,
    attempts      INTEGER NOT NULL,
    fallback      BOOLEAN NOT NULL,
    guardrail     TEXT,
    prompt        TEXT,
    answer        TEXT
);
-- Usage over a time range (all tenants, or one); a tenant's requests newest first; one request.
CREATE INDEX request_log_by_ts ON request_log (ts_ms);
CREATE INDEX request_log_by_tenant_ts ON request_log (tenant_id, ts_ms);

-- A tenant's policy on logging prompts and answers; NULL: the config's logging.payloads.
ALTER TABLE tenants ADD COLUMN log_payloads BOOLEAN;
