-- Experiments on a prompt's label (A/B tests and canaries): the record sluice.store.records.Experiment
-- as JSON in body, with the columns that are queried beside it. At most one running experiment per
-- (tenant, prompt, label); state changes are compare-and-set (UPDATE ... WHERE state = the expected one).
CREATE TABLE prompt_experiments (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    label       TEXT NOT NULL,
    state       TEXT NOT NULL,
    step        INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX prompt_experiments_one_running ON prompt_experiments (tenant_id, name, label)
    WHERE state = 'running';
CREATE INDEX prompt_experiments_running ON prompt_experiments (state);

-- Ratings of logged requests (POST /v1/feedback); a request rated again keeps the last rating.
CREATE TABLE feedback (
    tenant_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    score       REAL NOT NULL,
    comment     TEXT NOT NULL,
    tags        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

-- What prompt version ran, chosen by which experiment's arm (sluice.obs.record.RequestRecord).
ALTER TABLE request_log ADD COLUMN prompt_name TEXT;
ALTER TABLE request_log ADD COLUMN prompt_version INTEGER;
ALTER TABLE request_log ADD COLUMN experiment TEXT;
ALTER TABLE request_log ADD COLUMN arm INTEGER;
-- Partial indexes: only the requests that ran a stored prompt pay for them when written. They serve
-- per-version quality (by prompt or by experiment, over a time range) and feedback's check that
-- the rated request is the tenant's own.
CREATE INDEX request_log_by_prompt ON request_log (tenant_id, prompt_name, ts_ms)
    WHERE prompt_name IS NOT NULL;
CREATE INDEX request_log_by_experiment ON request_log (experiment, ts_ms)
    WHERE experiment IS NOT NULL;
CREATE INDEX request_log_by_prompt_request ON request_log (tenant_id, id)
    WHERE prompt_name IS NOT NULL;
