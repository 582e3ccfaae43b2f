"""What every data-plane handler does first: a request id, the credential, and the reply headers."""

from __future__ import annotations

import os
import re

from starlette.requests import Request

from sluice.budgets.pricing import usd_text
from sluice.limits.counters import Quota, duration_text
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange
from sluice.types import ChatRequest, EmbeddingRequest

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_RATE_LIMIT_HEADERS = tuple(
    (f"x-ratelimit-limit-{n}", f"x-ratelimit-remaining-{n}", f"x-ratelimit-reset-{n}") for n in ("requests", "tokens")
)


def request_id(request: Request) -> str:
    """The client's ``x-request-id`` when it is a sane token, else a new one."""
    given = request.headers.get("x-request-id")
    if given is not None and _SAFE_ID.match(given):
        return given
    return "req_" + os.urandom(12).hex()


def context(request: Request, ex: Exchange, credential: str | None, body: ChatRequest | EmbeddingRequest) -> RequestContext:
    """The request's context, with the headers the pipeline reads."""
    headers = request.headers
    ctx = RequestContext(ex.request_id, credential, body, started=ex.started)
    ctx.cache_control = headers.get("cache-control")
    ctx.traceparent = headers.get("traceparent")
    if ctx.traceparent is not None:
        ctx.tracestate = headers.get("tracestate")
    return ctx


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def reply_headers(ctx: RequestContext) -> dict[str, str]:
    headers = {"x-request-id": ctx.request_id, "x-sluice-attempts": str(len(ctx.attempts))}
    if ctx.deployment is not None:
        headers["x-sluice-model"] = ctx.deployment.name
    if ctx.quota is not None:
        headers.update(rate_limit_headers(ctx.quota))
    if ctx.cost_micros is not None:
        headers["x-sluice-cost-usd"] = usd_text(ctx.cost_micros)
    headers["x-sluice-overhead-ms"] = f"{ctx.overhead_ms():.3f}"
    guardrails = ctx.guardrail_header()
    if guardrails is not None:
        headers["x-sluice-guardrails"] = guardrails
    if ctx.cache_status is not None:
        headers["x-sluice-cache"] = ctx.cache_status
        if ctx.cache_similarity is not None:
            headers["x-sluice-cache-similarity"] = f"{ctx.cache_similarity:.4f}"
    return headers


def cost_comment(ctx: RequestContext) -> bytes:
    """A stream's cost, known only at its end: an SSE comment (clients skip comments) sent just
    before the final event, ``: x-sluice-cost-usd 0.000123``. Empty when the stream was not
    priced (neither metered nor asked for its usage)."""
    if ctx.cost_micros is None:
        return b""
    return b": x-sluice-cost-usd " + usd_text(ctx.cost_micros).encode() + b"\n\n"


def rate_limit_headers(quota: Quota) -> dict[str, str]:
    """OpenAI's ``x-ratelimit-*`` headers, for each of requests and tokens that has a limit."""
    headers = {}
    for (limit, remaining, reset), w in zip(_RATE_LIMIT_HEADERS, (quota.requests, quota.tokens), strict=True):
        if w is not None:
            headers[limit] = str(w.limit)
            headers[remaining] = str(w.remaining)
            headers[reset] = duration_text(w.reset_s)
    return headers


def raw_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]
