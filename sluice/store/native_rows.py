"""Forwarded batches' rows (``batch_native``, migration 0018) and the SQL both stores share
(written with ``?``; ``batch_rows.numbered`` makes PostgreSQL's ``$n`` of it)."""

from __future__ import annotations

from typing import Any

from sluice.store.records import LineResult, NativeBatch

NATIVE = (
    "batch_id, alias, deployment, discount, state, poll_at, upstream_id, upstream_status, completed,"
    " failed, polls, failures, cancel_sent, lease_until"
)
INSERT = (
    "INSERT INTO batch_native (batch_id, alias, deployment, discount, state, poll_at)"
    " VALUES (?, ?, ?, ?, 'submit', ?) ON CONFLICT (batch_id) DO NOTHING"
)
"""Once per batch: validating it again after a crash finds the row there."""
CLAIMABLE = (
    "SELECT n.batch_id FROM batch_native n JOIN batches b ON b.id = n.batch_id WHERE n.state <> 'done'"
    " AND b.status IN ('in_progress', 'cancelling') AND (n.lease_until IS NULL OR n.lease_until < ?)"
    " AND (n.poll_at <= ? OR (n.cancel_sent = 0 AND n.failures = 0"
    " AND (b.status = 'cancelling' OR b.ending = 'expired')))"
    " ORDER BY n.poll_at LIMIT 1"
)
"""A forwarded batch to look at: its poll is due, or it was cancelled (or expired) here and the
upstream is not yet told (at once, unless its last call failed: then at its backoff's poll).
Args: (now, now)."""
SAVE = (
    "UPDATE batch_native SET state = ?, poll_at = ?, upstream_id = ?, upstream_status = ?, completed = ?,"
    " failed = ?, polls = ?, failures = ?, cancel_sent = ?, lease_until = NULL"
    " WHERE batch_id = ? AND lease_until = ?"
)
"""Its state after a step, while the claim holds."""
OPEN_LINES = (
    "SELECT custom_id, line_no, id, body FROM batch_lines WHERE batch_id = ? AND status = 'pending'"
    " ORDER BY line_no"
)
COUNTS = "SELECT completed, failed FROM batch_native WHERE batch_id = ? AND state <> 'done'"
"""The upstream's counts while its results are not in: added to the lines' own."""
ENDINGS = {
    "expired": (
        "UPDATE batches SET ending = 'expired' WHERE id = ? AND status = 'in_progress' AND ending IS NULL",
        False,
    ),
    "cancelled": (
        "UPDATE batches SET status = 'cancelling', cancelling_at = ? WHERE id = ? AND status = 'in_progress'",
        True,
    ),
}
"""How a forwarded batch's end reaches its row (the batch worker writes its files after):
an expiry as the window's, a cancel made upstream as one made here. (sql, takes ``at`` first)."""
FAIL = (
    "UPDATE batches SET status = 'failed', failed_at = ?, errors = ? WHERE id = ?"
    " AND status IN ('in_progress', 'cancelling')"
)


def native_values(n: NativeBatch) -> tuple[Any, ...]:
    return (
        n.state,
        n.poll_at,
        n.upstream_id,
        n.upstream_status,
        n.completed,
        n.failed,
        n.polls,
        n.failures,
        int(n.cancel_sent),
    )


def native_row(r: Any) -> NativeBatch:
    return NativeBatch(
        r["batch_id"],
        r["alias"],
        r["deployment"],
        r["discount"],
        r["state"],
        r["poll_at"],
        r["upstream_id"],
        r["upstream_status"],
        r["completed"],
        r["failed"],
        r["polls"],
        r["failures"],
        bool(r["cancel_sent"]),
        r["lease_until"],
    )


def line_values(batch_id: str, custom_id: str, x: LineResult) -> tuple[Any, ...]:
    """``batch_rows.FINISH_LINE``'s arguments."""
    return (
        x.status,
        x.status_code,
        x.request_id,
        x.response,
        x.error_code,
        x.error_message,
        x.input_tokens,
        x.output_tokens,
        x.cached_tokens,
        batch_id,
        custom_id,
    )
