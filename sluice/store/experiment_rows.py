"""Experiments, feedback and per-version quality for both SQL backends: the SQL (placeholders from
the request log's ``Dialect``) and the rows read back as records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from sluice.store.records import Experiment, Feedback, VersionQuality
from sluice.store.request_rows import Dialect

SAMPLE = 2000
"""At most this many of a version's newest latencies are read for its percentiles."""

_enc = msgspec.json.Encoder()
_experiment = msgspec.json.Decoder(Experiment)
_tags = msgspec.json.Decoder(list[str])

EXPERIMENT_COLUMNS = "tenant_id, id, name, label, state, step, body, created_at, updated_at"


def experiment_row(e: Experiment) -> tuple[Any, ...]:
    """``e`` in ``EXPERIMENT_COLUMNS`` order."""
    return (
        e.tenant_id,
        e.id,
        e.name,
        e.label,
        e.state,
        e.step,
        _enc.encode(e).decode(),
        e.created_at,
        e.updated_at,
    )


def experiment(body: str) -> Experiment:
    return _experiment.decode(body)


def feedback_row(f: Feedback) -> tuple[Any, ...]:
    """``put_feedback_sql``'s arguments."""
    return (
        f.tenant_id,
        f.request_id,
        f.score,
        f.comment,
        _enc.encode(f.tags).decode(),
        f.at,
        f.tenant_id,
        f.request_id,
    )


def feedback(values: Sequence[Any]) -> Feedback:
    tenant_id, request_id, score, comment, tags, at = values
    return Feedback(tenant_id, request_id, float(score), int(at), comment, _tags.decode(tags))


def put_feedback_sql(d: Dialect) -> str:
    """Insert or replace the rating, only when the request is one of the tenant's logged prompt
    requests (the partial index ``request_log_by_prompt_request``); no row changed: not one."""
    p = d.param
    return (
        "INSERT INTO feedback (tenant_id, request_id, score, comment, tags, at)"
        f" SELECT {p(1)}, {p(2)}, {p(3)}, {p(4)}, {p(5)}, {p(6)} WHERE EXISTS (SELECT 1 FROM request_log"
        f" WHERE tenant_id = {p(7)} AND id = {p(8)} AND prompt_name IS NOT NULL)"
        " ON CONFLICT (tenant_id, request_id) DO UPDATE SET score = excluded.score,"
        " comment = excluded.comment, tags = excluded.tags, at = excluded.at"
    )


def update_sql(d: Dialect, with_step: bool) -> str:
    p = d.param
    sql = (
        f"UPDATE prompt_experiments SET state = {p(1)}, step = {p(2)}, body = {p(3)}, updated_at = {p(4)}"
        f" WHERE tenant_id = {p(5)} AND id = {p(6)} AND state = {p(7)}"
    )
    return sql + f" AND step = {p(8)}" if with_step else sql


_ERROR = "(status >= 500 OR (status < 400 AND error_type IS NOT NULL))"
_SUMS = ", ".join(
    [
        "COUNT(*)",
        f"SUM(CASE WHEN {_ERROR} THEN 1 ELSE 0 END)",
        "SUM(input_tokens)",
        "SUM(output_tokens)",
        "SUM(cost_micros)",
        "SUM(CAST(cost_micros AS DOUBLE PRECISION) * cost_micros)",
        "SUM(CASE WHEN cache IS NOT NULL THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN cache IN ('hit', 'semantic') THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN error_type = 'content_policy_violation' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN error_type = 'invalid_structured_output' THEN 1 ELSE 0 END)",
        "COUNT(f.score)",
        "COALESCE(SUM(f.score), 0)",
        "COALESCE(SUM(f.score * f.score), 0)",
    ]
)


def _where(
    d: Dialect, tenant_id: str, name: str, since: int | None, experiment: str | None
) -> tuple[str, list[Any]]:
    args: list[Any] = [tenant_id, name]
    conds = [f"r.tenant_id = {d.param(1)}", f"r.prompt_name = {d.param(2)}", "r.prompt_version IS NOT NULL"]
    if since is not None:
        args.append(since * 1000)
        conds.append(f"r.ts_ms >= {d.param(len(args))}")
    if experiment is not None:
        args.append(experiment)
        conds.append(f"r.experiment = {d.param(len(args))}")
    return " WHERE " + " AND ".join(conds), args


def quality_sql(
    d: Dialect, tenant_id: str, name: str, since: int | None, experiment: str | None
) -> tuple[str, list[Any]]:
    """One GROUP BY per version: ``VersionQuality``'s sums, in version order."""
    where, args = _where(d, tenant_id, name, since, experiment)
    sql = (
        f"SELECT r.prompt_version, {_SUMS} FROM request_log r LEFT JOIN feedback f"
        f" ON f.tenant_id = r.tenant_id AND f.request_id = r.id{where}"
        " GROUP BY r.prompt_version ORDER BY r.prompt_version"
    )
    return sql, args


def sample_sql(
    d: Dialect, tenant_id: str, name: str, since: int | None, experiment: str | None, version: int
) -> tuple[str, list[Any]]:
    """The newest ``SAMPLE`` latencies and times to first token of one version."""
    where, args = _where(d, tenant_id, name, since, experiment)
    args += [version, SAMPLE]
    sql = (
        f"SELECT r.latency_ms, r.ttft_ms FROM request_log r{where} AND r.prompt_version = {d.param(len(args) - 1)}"
        f" ORDER BY r.ts_ms DESC LIMIT {d.param(len(args))}"
    )
    return sql, args


def quality(values: Sequence[Any], samples: Sequence[Sequence[Any]]) -> VersionQuality:
    """A row of ``quality_sql`` and the rows of the version's ``sample_sql``."""
    v = [0 if x is None else x for x in values]
    return VersionQuality(
        version=int(v[0]),
        requests=int(v[1]),
        errors=int(v[2]),
        input_tokens=int(v[3]),
        output_tokens=int(v[4]),
        cost_micros=int(v[5]),
        cost_sq=float(v[6]),
        cache_lookups=int(v[7]),
        cache_hits=int(v[8]),
        guardrail_refusals=int(v[9]),
        structured_failures=int(v[10]),
        feedback_count=int(v[11]),
        feedback_sum=float(v[12]),
        feedback_sq=float(v[13]),
        latency_ms=[float(s[0]) for s in samples],
        ttft_ms=[float(s[1]) for s in samples if s[1] is not None],
    )
