-- Alerts as webhooks (docs/alerts.md). A tenant's webhook endpoint may take a Slack-compatible
-- body ({"text": ...}) instead of the event JSON.
ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'standard';
-- One row per alert kind, subject and threshold: the alert is sent by whoever takes the mark
-- (INSERT ... ON CONFLICT DO UPDATE ... WHERE until <= now, one statement), so every replica's
-- evaluation of the same condition sends it once per cooldown (or budget period).
CREATE TABLE alert_marks (
    key    TEXT NOT NULL PRIMARY KEY,
    until  DOUBLE PRECISION NOT NULL
);
