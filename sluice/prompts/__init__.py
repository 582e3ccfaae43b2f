"""Stored prompts: versions and labels, rendering, experiments on a label (assignment, quality,
automatic rollback)."""
