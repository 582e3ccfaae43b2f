"""Guardrails: checks and rewrites of prompts and answers, starting with PII and secrets redaction."""
