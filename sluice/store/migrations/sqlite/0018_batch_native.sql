-- Batches forwarded to a provider's own batch API (docs/batches.md, "Forwarded to the
-- provider"): one row per such batch, beside its row in batches. state is submit (not sent yet),
-- poll (sent: upstream_id set) or done (its results written to batch_lines, or given up). The
-- row is also the forwarder's work: claimed with a lease (lease_until) when poll_at has come, so
-- a restarted gateway picks up polling where the store says it was.
CREATE TABLE batch_native (
    batch_id         TEXT PRIMARY KEY,
    alias            TEXT NOT NULL,
    deployment       TEXT NOT NULL,
    discount         REAL NOT NULL,
    state            TEXT NOT NULL,
    upstream_id      TEXT,
    upstream_status  TEXT,
    completed        INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    polls            INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    cancel_sent      INTEGER NOT NULL DEFAULT 0,
    poll_at          REAL NOT NULL,
    lease_until      REAL
);
CREATE INDEX batch_native_by_state ON batch_native (state, poll_at);
