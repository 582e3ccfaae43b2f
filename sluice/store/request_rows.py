"""The request log's table for both SQL backends: a ``RequestRecord`` as the row they write and
read back, and the usage and listing queries, which differ between SQLite and PostgreSQL only
in placeholders, UTC date formatting and text ordering (a ``Dialect``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import msgspec

from sluice.obs.record import RequestRecord
from sluice.store.records import UsageDimension, UsageQuery, UsageRow

COLUMNS: tuple[str, ...] = RequestRecord.__struct_fields__
"""The record's fields, which are the table's columns (besides ``seq``), in order."""

_IDS: dict[UsageDimension, str] = {
    "tenant": "tenant_id",
    "user": "user_id",
    "key": "key_id",
    "model": "model",
    "deployment": "deployment",
    # ``name@version`` of the stored prompt the request ran (NULL for requests without one).
    "prompt": "(prompt_name || '@' || CAST(prompt_version AS TEXT))",
}
_BUCKET_S: dict[UsageDimension, int] = {"day": 86_400, "hour": 3_600}
_SUMMED = ("input_tokens", "output_tokens", "cached_tokens", "cost_micros", "saved_micros")
# CAST: PostgreSQL sums BIGINT columns as NUMERIC. COALESCE: a total over no rows is 0, not NULL.
_SUMS = ", ".join(
    [
        "COUNT(*)",
        "CAST(COALESCE(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), 0) AS BIGINT)",
        *(f"CAST(COALESCE(SUM({c}), 0) AS BIGINT)" for c in _SUMMED),
    ]
)
_SUM_FIELDS = ("requests", "errors", *_SUMMED)


class Dialect(NamedTuple):
    param: Callable[[int], str]
    """The placeholder of the n-th argument (from 1)."""
    utc_text: dict[UsageDimension, str]
    """For day and hour: SQL formatting ``{s}`` (Unix seconds) as UTC text."""
    text_order: str
    """Appended to a text column in ORDER BY, so ids sort by code point on both backends."""


def rows(records: Iterable[RequestRecord]) -> list[tuple[Any, ...]]:
    """The records as rows in ``COLUMNS`` order; booleans stay bool (SQLite stores them as 1 and 0)."""
    return list(map(msgspec.structs.astuple, records))


def record(values: Sequence[Any]) -> RequestRecord:
    """A row read back in ``COLUMNS`` order (not strict: SQLite's 1 and 0 become booleans)."""
    return msgspec.convert(dict(zip(COLUMNS, values, strict=True)), RequestRecord, strict=False)


def insert_sql(dialect: Dialect) -> str:
    params = ", ".join(dialect.param(i) for i in range(1, len(COLUMNS) + 1))
    return f"INSERT INTO request_log ({', '.join(COLUMNS)}) VALUES ({params})"


def usage_sql(query: UsageQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    """One GROUP BY over the matching rows: the dimensions' values, then the sums of ``UsageRow``,
    ordered by the dimensions (NULL first, times in order). ``KeyError`` on an unknown dimension."""
    shown, grouped, ordered = [], [], []
    for dim in query.group_by:
        if dim in _BUCKET_S:
            # Grouped by an integer bucket, formatted once per group rather than once per row.
            bucket = f"ts_ms / {_BUCKET_S[dim] * 1000}"
            shown.append(dialect.utc_text[dim].format(s=f"({bucket}) * {_BUCKET_S[dim]}"))
            grouped.append(bucket)
            ordered.append(bucket)
        else:
            column = _IDS[dim]
            shown.append(column)
            grouped.append(column)
            ordered.append(f"{column}{dialect.text_order} NULLS FIRST")
    where, args = _where(
        dialect,
        tenant_id=query.tenant_id,
        since_ms=query.since_ms,
        until_ms=query.until_ms,
        model=query.model,
    )
    sql = f"SELECT {', '.join([*shown, _SUMS])} FROM request_log{where}"
    if grouped:
        sql += f" GROUP BY {', '.join(grouped)} ORDER BY {', '.join(ordered)}"
    else:
        sql += " HAVING COUNT(*) > 0"  # no rows, no total row: as with groups
    return sql, args


def usage_row(group_by: Sequence[UsageDimension], values: Sequence[Any]) -> UsageRow:
    """A row of ``usage_sql``'s result."""
    n = len(group_by)
    return UsageRow(
        **dict(zip(group_by, values[:n], strict=True)), **dict(zip(_SUM_FIELDS, values[n:], strict=True))
    )


def list_sql(
    dialect: Dialect,
    tenant_id: str | None,
    since_ms: int | None,
    until_ms: int | None,
    limit: int,
    before_seq: int | None,
) -> tuple[str, list[Any]]:
    """``seq`` and the columns of the matching rows, newest (highest ``seq``) first."""
    where, args = _where(
        dialect, tenant_id=tenant_id, since_ms=since_ms, until_ms=until_ms, before_seq=before_seq
    )
    args.append(limit)
    sql = f"SELECT seq, {', '.join(COLUMNS)} FROM request_log{where} ORDER BY seq DESC LIMIT {dialect.param(len(args))}"
    return sql, args


_CONDITIONS = {
    "tenant_id": "tenant_id =",
    "since_ms": "ts_ms >=",
    "until_ms": "ts_ms <",
    "model": "model =",
    "before_seq": "seq <",
}


def _where(dialect: Dialect, **given: Any) -> tuple[str, list[Any]]:
    """`` WHERE`` and a condition per argument given (None: no condition), and their arguments."""
    conds: list[str] = []
    args: list[Any] = []
    for name, value in given.items():
        if value is not None:
            args.append(value)
            conds.append(f"{_CONDITIONS[name]} {dialect.param(len(args))}")
    return (f" WHERE {' AND '.join(conds)}" if conds else ""), args
