-- Background requests and webhooks (docs/batches.md). A background request (a Responses API
-- request with background: true, a chat completion with sluice.background) is a batch of one line
-- of kind 'background': the batch worker runs it as it runs batch lines, durable and charged once.
ALTER TABLE batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'batch';
-- A tenant's webhook endpoints: where its events go. secret is the whsec_ signing secret, shown
-- once when the endpoint is made; events is a JSON list of event types (null: all).
CREATE TABLE webhooks (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- The outbox: one row per event and endpoint, written when the event happens and sent by the
-- workers (claimed with a lease), retried with backoff until delivered or out of attempts.
CREATE TABLE webhook_deliveries (
    id            TEXT NOT NULL PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    webhook_id    TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       DOUBLE PRECISION NOT NULL,
    lease_until   DOUBLE PRECISION,
    last_error    TEXT,
    last_status   INTEGER,
    created_at    BIGINT NOT NULL,
    delivered_at  BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, created_at);
