"""Observability: logging now; metrics, traces and the batched request log as they land."""
