"""``/admin/usage`` (requests, tokens and cost summed from the request log, grouped, as JSON or
CSV) and ``/admin/requests`` (the log itself, newest first, a page at a time). Admin credentials
see every tenant; a tenant's own key may read its tenant's usage, and nothing else here."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from sluice.admin.service import AdminService
from sluice.auth.principal import Principal
from sluice.budgets.pricing import usd_text
from sluice.errors import InvalidRequestError, PermissionDeniedError
from sluice.policies import MAX_LIMIT
from sluice.store.records import UsageDimension, UsageQuery, UsageRow

DIMENSIONS: tuple[UsageDimension, ...] = get_args(UsageDimension)
_BY_NAME: dict[str, UsageDimension] = {d: d for d in DIMENSIONS}
SUMS: tuple[str, ...] = UsageRow.__struct_fields__[len(DIMENSIONS) :]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_MS = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_UNIX_S = re.compile(r"\d{1,12}(\.\d{1,3})?")
# A spreadsheet runs a cell that starts with one of these as a formula; model names come from clients.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_SINCE = "From (inclusive): an ISO 8601 date or time (UTC unless it has an offset), or Unix seconds."

Caller = Callable[[Request], Awaitable[Principal | None]]
"""Resolves the request's credential: None for an admin, the Principal of a data-plane key."""

_enc = msgspec.json.Encoder()


def usage_routes(service: AdminService, caller: Caller) -> APIRouter:
    """``/usage``, which authenticates on its own (``caller``): include it without the admin-only check."""
    r = APIRouter()
    # As a default, not in Annotated: annotations are strings here, resolved without this scope.
    authenticated = Depends(caller)

    @r.get("/usage")
    async def usage(
        principal: Principal | None = authenticated,
        group_by: Annotated[str, Query(description=f"Comma-separated, from: {', '.join(DIMENSIONS)}.")] = "",
        tenant: Annotated[
            str | None, Query(description="One tenant's usage; a tenant key sees only its own.")
        ] = None,
        since: Annotated[str | None, Query(description=_SINCE)] = None,
        until: Annotated[str | None, Query(description="Before (exclusive), as since.")] = None,
        model: Annotated[str | None, Query(description="One model alias's usage.")] = None,
        fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    ) -> Response:
        """Requests, errors (status 400 or more), tokens and cost per group, and their totals."""
        query = UsageQuery(
            group_by=_dimensions(group_by),
            tenant_id=_scope(principal, tenant),
            since_ms=_instant_ms(since, "since"),
            until_ms=_instant_ms(until, "until"),
            model=model,
        )
        rows = await service.usage(query)
        total = UsageRow(**{f: sum(getattr(row, f) for row in rows) for f in SUMS})
        if fmt == "csv":
            return Response(
                _csv(query.group_by, rows, total),
                media_type="text/csv; charset=utf-8",
                headers={"content-disposition": 'attachment; filename="usage.csv"'},
            )
        body = {
            "object": "usage",
            "group_by": query.group_by,
            "data": [{**{d: getattr(row, d) for d in query.group_by}, **_sums(row)} for row in rows],
            "totals": _sums(total),
        }
        return Response(_enc.encode(body), media_type="application/json")

    return r


def requests_routes(service: AdminService) -> APIRouter:
    """``/requests``, for admin credentials only."""
    r = APIRouter()

    @r.get("/requests")
    async def list_requests(
        tenant: Annotated[str | None, Query(description="One tenant's requests.")] = None,
        since: Annotated[str | None, Query(description="As in /usage.")] = None,
        until: Annotated[str | None, Query(description="As in /usage.")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before: Annotated[
            int | None, Query(ge=1, le=MAX_LIMIT, description="The next_before of the page before.")
        ] = None,
    ) -> Response:
        """Logged requests, newest first, each with its ``seq``; ``next_before`` pages on (null: no more)."""
        found = await service.requests(
            tenant,
            since_ms=_instant_ms(since, "since"),
            until_ms=_instant_ms(until, "until"),
            limit=limit,
            before_seq=before,
        )
        body = {
            "object": "list",
            "data": [{"seq": seq, **msgspec.structs.asdict(record)} for seq, record in found],
            "next_before": found[-1][0] if len(found) == limit else None,
        }
        return Response(_enc.encode(body), media_type="application/json")

    return r


def _scope(principal: Principal | None, tenant: str | None) -> str | None:
    """The tenant whose usage the caller may see: any (an admin), or a tenant key's own."""
    if principal is None:
        return tenant
    if principal.tenant_id is None:
        raise PermissionDeniedError(
            "The config's keys belong to no tenant: usage needs an admin credential.", code="admin_required"
        )
    if tenant is not None and tenant != principal.tenant_id:
        raise PermissionDeniedError("A tenant key sees only its own tenant's usage.", param="tenant")
    return principal.tenant_id


def _dimensions(group_by: str) -> tuple[UsageDimension, ...]:
    named = [d.strip() for d in group_by.split(",") if d.strip()]
    unknown = [d for d in named if d not in _BY_NAME]
    if unknown:
        raise InvalidRequestError(
            f"Cannot group by '{unknown[0]}': group_by takes {', '.join(DIMENSIONS)}.", param="group_by"
        )
    return tuple(dict.fromkeys(_BY_NAME[d] for d in named))


def _instant_ms(value: str | None, param: str) -> int | None:
    """Unix milliseconds of an ISO 8601 date or date and time (UTC unless it has an offset), or of
    Unix seconds (all digits, up to three decimals)."""
    if value is None:
        return None
    try:
        if _UNIX_S.fullmatch(value):
            ms = int(Decimal(value) * 1000)
        else:
            at = datetime.fromisoformat(value)
            ms = ((at if at.tzinfo else at.replace(tzinfo=UTC)) - _EPOCH) // timedelta(milliseconds=1)
    except (ValueError, OverflowError):
        ms = None
    if ms is None or ms > _LAST_MS:
        raise InvalidRequestError(
            f"Invalid value for '{param}': expected an ISO 8601 date or time, or Unix seconds.", param=param
        )
    return ms


def _sums(row: UsageRow) -> dict[str, Any]:
    """What each row and the totals report: the sums, and the cost as exact USD text too."""
    return {
        "requests": row.requests,
        "errors": row.errors,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cached_tokens": row.cached_tokens,
        "cost_micros": row.cost_micros,
        "cost_usd": usd_text(row.cost_micros),
        "saved_micros": row.saved_micros,
    }


def _csv(group_by: tuple[UsageDimension, ...], rows: list[UsageRow], total: UsageRow) -> str:
    """A header, a row per group, then the totals (``total`` in the first dimension's column);
    without dimensions the totals are the only row."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    totals = _sums(total)
    w.writerow([*group_by, *totals])
    if group_by:
        for row in rows:
            w.writerow([*(_cell(getattr(row, d)) for d in group_by), *_sums(row).values()])
    w.writerow([*(["total"] + [""] * (len(group_by) - 1) if group_by else []), *totals.values()])
    return out.getvalue()


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value
