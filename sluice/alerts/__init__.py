"""Alerts as signed webhooks (docs/alerts.md): budget use, spend rate, error rate, latency and
circuits opening, deduplicated across replicas and sent through the webhook outbox."""
