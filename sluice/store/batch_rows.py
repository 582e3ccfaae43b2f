"""Batches' rows and the SQL both stores share (written with ``?``; ``numbered`` makes
PostgreSQL's ``$n`` of it): the columns, a row to a ``StoredBatch``, and the state moves the
worker asks for, each one statement."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from sluice.store import request_rows
from sluice.store.records import (
    BatchCaller,
    BatchQueueStats,
    ClaimedLine,
    FinishedLine,
    LineResult,
    StoredBatch,
)

BATCH = (
    "owner, id, endpoint, input_file_id, completion_window, status, ending, model, metadata, errors,"
    " output_file_id, error_file_id, created_at, expires_at, in_progress_at, finalizing_at, completed_at,"
    " failed_at, expired_at, cancelling_at, cancelled_at, total, tenant_id, user_id, key_id, key_name,"
    " attempts, lease_until, kind"
)
BATCH_PARAMS = ", ".join("?" for _ in BATCH.split(", "))
LIVE = "('validating', 'in_progress', 'finalizing', 'cancelling')"
"""A batch's statuses before its last."""

COUNTS = (
    "SELECT COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0),"
    " COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),"
    " COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cached_tokens), 0),"
    " COALESCE(SUM(CASE WHEN error_code = 'batch_expired' THEN 1 ELSE 0 END), 0),"
    " COALESCE(SUM(CASE WHEN error_code = 'cancelled' THEN 1 ELSE 0 END), 0)"
    " FROM batch_lines WHERE batch_id = ?"
)
"""Per batch: completed, failed, the token sums, and of the failed those expired and cancelled."""

OPEN_LINES = "(status = 'pending' OR (status = 'running' AND lease_until < ?))"
"""Lines to claim: not yet run, or claimed by a process whose lease ran out (it died)."""
CLAIM_PENDING = (
    "SELECT {line} FROM batch_lines WHERE batch_id = ? AND status = 'pending' AND line_no BETWEEN ? AND ?"
    " AND {taking} ORDER BY line_no LIMIT ?"
)
CLAIM_LAPSED = (
    "SELECT {line} FROM batch_lines WHERE batch_id = ? AND status = 'running' AND lease_until < ?"
    " AND line_no BETWEEN ? AND ? AND {taking} ORDER BY line_no LIMIT ?"
)
"""SQLite's claim, as two reads each in ``batch_lines_by_status`` order (``status = 'pending'
OR ...`` sorted every open line of the batch for each claim: 7 ms at its start for 10,000)."""
TAKING = (
    "EXISTS (SELECT 1 FROM batches b WHERE b.id = batch_lines.batch_id AND b.status = 'in_progress'"
    " AND b.ending IS NULL) AND NOT EXISTS (SELECT 1 FROM batch_native n WHERE n.batch_id = batch_lines.batch_id)"
)
"""The lines' batch still takes lines (not cancelled, not past its window) and is run here (not
forwarded to its provider, whose lines are never claimed whichever queue hands out the work)."""
_RUNNING = "SELECT 1 FROM batch_lines l WHERE l.batch_id = batches.id AND l.status = 'running'"
FORWARDING = "EXISTS (SELECT 1 FROM batch_native n WHERE n.batch_id = batches.id AND n.state <> 'done')"
"""The batch is forwarded to its provider and its results are not in yet (batch_native, 0018)."""
CLAIMABLE = (
    f"SELECT {BATCH} FROM batches WHERE (status = 'validating'"
    " OR (ending IS NOT NULL AND status IN ('finalizing', 'cancelling')"
    f" AND NOT {FORWARDING} AND NOT EXISTS ({_RUNNING} AND l.lease_until >= ?)))"
    " AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at, id LIMIT 1"
)
"""A batch to validate, or to end (args: (now, now)). Never one with a line running under a live
lease: not one still ``in_progress`` past its window (ADVANCE moves it to ``finalizing`` once none
runs), nor one cancelled after its window passed, so only the lines never started expire, and a
running line's answer (and its charge) is kept."""
ADVANCE = (
    # Past its window: it takes no new line.
    "UPDATE batches SET ending = 'expired' WHERE status = 'in_progress' AND ending IS NULL AND expires_at <= ?",
    # Every line has its result: finish it.
    "UPDATE batches SET ending = 'completed', status = 'finalizing', finalizing_at = ? WHERE"
    " status = 'in_progress' AND ending IS NULL AND NOT EXISTS (SELECT 1 FROM batch_lines l WHERE"
    f" l.batch_id = batches.id AND l.status IN ('pending', 'running')) AND NOT {FORWARDING}",
    # Expired, and the lines in flight are done (or their process is gone): finish it.
    f"UPDATE batches SET status = 'finalizing', finalizing_at = ? WHERE status = 'in_progress'"
    f" AND ending = 'expired' AND NOT EXISTS ({_RUNNING} AND l.lease_until >= ?) AND NOT {FORWARDING}",
    # Cancelled, and the lines in flight are done: finish it.
    f"UPDATE batches SET ending = 'cancelled' WHERE status = 'cancelling' AND ending IS NULL"
    f" AND NOT EXISTS ({_RUNNING} AND l.lease_until >= ?) AND NOT {FORWARDING}",
)
"""Each with its arguments (``at`` the whole second, ``now`` the float): (at,), (at,), (at, now), (now,)."""
PENDING = (
    f"SELECT {BATCH} FROM batches WHERE status = 'in_progress' AND ending IS NULL AND expires_at > ?"
    " AND NOT EXISTS (SELECT 1 FROM batch_native n WHERE n.batch_id = batches.id)"
    " AND (EXISTS (SELECT 1 FROM batch_lines l WHERE l.batch_id = batches.id AND l.status = 'pending')"
    " OR EXISTS (SELECT 1 FROM batch_lines l WHERE l.batch_id = batches.id AND l.status = 'running'"
    " AND l.lease_until < ?))"
)
"""A running batch run here (not forwarded) with a line to claim. Two EXISTS, each one seek on
``batch_lines_by_status``: one with ``status = 'pending' OR ...`` walked the batch's finished lines
first, a cost per claim that grew with the batch (1.5 ms at 9,000 of 10,000 lines done, SQLite)."""
PENDING_ORDER = " ORDER BY CASE WHEN kind = 'background' THEN 0 ELSE 1 END, created_at, id LIMIT 1"
"""Background requests first: one request waits behind no batch."""
QUEUE_STATS = (
    "SELECT 'line', l.status, COUNT(*), MIN(b.in_progress_at) FROM batches b JOIN batch_lines l"
    " ON l.batch_id = b.id AND l.status IN ('pending', 'running')"
    " WHERE b.status = 'in_progress' AND b.ending IS NULL GROUP BY l.status"
    f" UNION ALL SELECT 'batch', status, COUNT(*), NULL FROM batches WHERE status IN {LIVE} GROUP BY status"
)
"""The queue's depth for the metrics, in one query on the status indexes: the running batches'
open lines by status (with the oldest batch's start), and the live batches by status; lines of
cancelled or expired batches are not waiting for anything."""
LINE = "custom_id, line_no, id, body, attempts"
NEW_LINE = "INSERT INTO batch_lines (batch_id, custom_id, line_no, id, body, status) VALUES (?, ?, ?, ?, ?, 'pending')"
DELETE_BATCH = "DELETE FROM batches WHERE owner = ? AND id = ? AND status IN ('completed', 'failed', 'expired', 'cancelled')"
"""Only an ended batch (its lines are deleted with it, in the same transaction)."""
FINISH_LINE = (
    "UPDATE batch_lines SET status = ?, lease_until = NULL, status_code = ?, request_id = ?, response = ?,"
    " error_code = ?, error_message = ?, input_tokens = ?, output_tokens = ?, cached_tokens = ?"
    " WHERE batch_id = ? AND custom_id = ? AND status IN ('pending', 'running')"
)
"""A line's result, once: a line finished already keeps its first result."""
LOG_ROW = (
    f"INSERT INTO request_log ({', '.join(request_rows.COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in request_rows.COLUMNS)})"
)
"""A line's request-log row, written in the transaction of its result, only when that one wrote."""
RENEW = (
    "UPDATE batch_lines SET lease_until = ? WHERE batch_id = ? AND custom_id = ? AND status = 'running'"
    " AND lease_until = ?"
)
"""A running line's lease extended, while the claim that took it still holds it."""
OPEN_IN = (
    "SELECT COUNT(*), MAX(lease_until) FROM batch_lines WHERE batch_id = ? AND line_no BETWEEN ? AND ?"
    " AND status IN ('pending', 'running')"
)
"""How many of a range of lines have no result yet, and the latest lease among them."""
RESULTS = (
    "SELECT custom_id, line_no, id, status, status_code, request_id, response, error_code, error_message,"
    " input_tokens, output_tokens, cached_tokens FROM batch_lines WHERE batch_id = ?"
    " AND status IN ('completed', 'failed') ORDER BY line_no"
)
END_AT = {
    "completed": "completed_at",
    "expired": "expired_at",
    "cancelled": "cancelled_at",
    "failed": "failed_at",
}

_PARAM = re.compile(r"\?")


def numbered(sql: str, start: int = 1) -> str:
    """``?`` placeholders as PostgreSQL's ``$1``, ``$2``... (none of this module's SQL has a ``?``
    inside a literal)."""
    n = iter(range(start, start + sql.count("?")))
    return _PARAM.sub(lambda _: f"${next(n)}", sql)


def queue_stats(rows: list[Any]) -> BatchQueueStats:
    lines: dict[str, int] = {}
    batches: dict[str, int] = {}
    oldest = None
    for kind, status, n, since in rows:
        if kind == "line":
            lines[status] = int(n)
            if status == "pending" and since is not None:
                oldest = int(since)
        else:
            batches[status] = int(n)
    return BatchQueueStats(lines, oldest, batches)


def encode_json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def list_sql(
    owner: str, after: str | None, limit: int, kind: str, before: str | None
) -> tuple[str, list[Any]]:
    """The owner's batches of ``kind``: older than ``after``, newest first; else (``before``) the
    ones just newer than ``before``, oldest first (the caller turns them round)."""
    sql = f"SELECT {BATCH} FROM batches WHERE owner = ? AND kind = ?"
    args: list[Any] = [owner, kind]
    ref = "(SELECT created_at, id FROM batches WHERE owner = ? AND id = ?)"
    if after is not None:
        sql += f" AND (created_at, id) < {ref} ORDER BY created_at DESC, id DESC"
        args += [owner, after]
    elif before is not None:
        sql += f" AND (created_at, id) > {ref} ORDER BY created_at, id"
        args += [owner, before]
    else:
        sql += " ORDER BY created_at DESC, id DESC"
    return sql + " LIMIT ?", [*args, limit]


def batch_values(b: StoredBatch) -> tuple[Any, ...]:
    c = b.caller
    return (
        b.owner,
        b.id,
        b.endpoint,
        b.input_file_id,
        b.completion_window,
        b.status,
        b.ending,
        b.model,
        encode_json(b.metadata),
        encode_json(b.errors),
        b.output_file_id,
        b.error_file_id,
        b.created_at,
        b.expires_at,
        b.in_progress_at,
        b.finalizing_at,
        b.completed_at,
        b.failed_at,
        b.expired_at,
        b.cancelling_at,
        b.cancelled_at,
        b.total,
        c.tenant_id,
        c.user_id,
        c.key_id,
        c.key_name,
        b.attempts,
        b.lease_until,
        b.kind,
    )


def batch_row(r: Any, counts: tuple[Any, ...] = (0, 0, 0, 0, 0, 0, 0)) -> StoredBatch:
    caller = BatchCaller(r["key_name"], r["tenant_id"], r["user_id"], r["key_id"])
    metadata, errors = r["metadata"], r["errors"]
    return StoredBatch(
        r["owner"],
        r["id"],
        r["endpoint"],
        r["input_file_id"],
        r["completion_window"],
        r["status"],
        caller,
        r["created_at"],
        r["expires_at"],
        r["ending"],
        r["model"],
        None if metadata is None else msgspec.json.decode(metadata),
        None if errors is None else msgspec.json.decode(errors),
        r["output_file_id"],
        r["error_file_id"],
        r["in_progress_at"],
        r["finalizing_at"],
        r["completed_at"],
        r["failed_at"],
        r["expired_at"],
        r["cancelling_at"],
        r["cancelled_at"],
        r["total"],
        completed=int(counts[0]),
        failed=int(counts[1]),
        input_tokens=int(counts[2]),
        output_tokens=int(counts[3]),
        cached_tokens=int(counts[4]),
        expired=int(counts[5]),
        cancelled=int(counts[6]),
        attempts=r["attempts"],
        lease_until=r["lease_until"],
        kind=r["kind"],
    )


def claimed_line(b: StoredBatch, r: Any, until: float) -> ClaimedLine:
    return ClaimedLine(
        b.owner,
        b.id,
        b.endpoint,
        b.caller,
        r["custom_id"],
        r["line_no"],
        r["id"],
        r["body"],
        r["attempts"] + 1,
        until,
        b.kind,
    )


def result_values(line: ClaimedLine, x: LineResult) -> tuple[Any, ...]:
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
        line.batch_id,
        line.custom_id,
    )


def log_values(x: LineResult) -> tuple[Any, ...] | None:
    """The line's request-log row (NUL out of its text: PostgreSQL text cannot hold it)."""
    if x.log is None:
        return None
    row = request_rows.rows([x.log])[0]
    return tuple(v.replace("\x00", "") if type(v) is str else v for v in row)


def finished_line(r: Any) -> FinishedLine:
    return FinishedLine(
        r["custom_id"],
        r["line_no"],
        r["id"],
        LineResult(
            r["status"],
            r["status_code"],
            r["request_id"],
            r["response"],
            r["error_code"],
            r["error_message"],
            r["input_tokens"],
            r["output_tokens"],
            r["cached_tokens"],
        ),
    )
