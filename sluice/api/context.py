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
_RESET_TEXT: dict[float, str] = {}
"""``duration_text`` of the reset durations seen lately, keyed by the value itself: an admission
resets 60 to 61 s ahead to the millisecond, so a busy gateway sees about a thousand of them."""
_RESET_TEXT_MAX = 4096


def request_id(request: Request) -> str:
    """The client's ``x-request-id`` when it is a sane token, else a new one."""
    given = request.headers.get("x-request-id")
    if given is not None and _SAFE_ID.match(given):
        return given
    return "req_" + os.urandom(12).hex()


def context(
    request: Request, ex: Exchange, credential: str | None, body: ChatRequest | EmbeddingRequest
) -> RequestContext:
    """The request's context, with the headers the pipeline reads."""
    headers = request.headers
    ctx = RequestContext(ex.request_id, credential, body, started=ex.started)
    ctx.cache_control = headers.get("cache-control")
    ctx.route_hint = headers.get("x-sluice-route")
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
        _put_rate_limit_headers(headers, ctx.quota)
    if ctx.cost_micros is not None:
        headers["x-sluice-cost-usd"] = usd_text(ctx.cost_micros)
    headers["x-sluice-overhead-ms"] = f"{ctx.overhead_ms():.3f}"
    guardrails = ctx.guardrail_header()
    if guardrails is not None:
        headers["x-sluice-guardrails"] = guardrails
    if ctx.prompt_version is not None:
        headers["x-sluice-prompt"] = ctx.prompt_version
    if ctx.choice is not None:
        headers["x-sluice-route"] = ctx.choice.header
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
    headers: dict[str, str] = {}
    _put_rate_limit_headers(headers, quota)
    return headers


def _put_rate_limit_headers(headers: dict[str, str], quota: Quota) -> None:
    w = quota.requests
    if w is not None:
        headers["x-ratelimit-limit-requests"] = str(w.limit)
        headers["x-ratelimit-remaining-requests"] = str(w.remaining)
        headers["x-ratelimit-reset-requests"] = _reset_text(w.reset_s)
    w = quota.tokens
    if w is not None:
        headers["x-ratelimit-limit-tokens"] = str(w.limit)
        headers["x-ratelimit-remaining-tokens"] = str(w.remaining)
        headers["x-ratelimit-reset-tokens"] = _reset_text(w.reset_s)


def _reset_text(seconds: float) -> str:
    text = _RESET_TEXT.get(seconds)
    if text is None:
        if len(_RESET_TEXT) >= _RESET_TEXT_MAX:
            _RESET_TEXT.clear()  # bounded: formatting again costs a microsecond
        text = _RESET_TEXT[seconds] = duration_text(seconds)
    return text


def raw_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]
