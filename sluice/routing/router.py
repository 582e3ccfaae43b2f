"""The router: tries an alias's deployments in strategy order under timeouts, retries the
retryable failures with backoff, keeps each deployment's circuit breaker, then walks the
fallback chain. The strategy orders the deployments whose circuit is not open; with session
affinity, the request's session's deployment goes first (``affinity.py``). A stream is retried
only until its first chunk reaches the client. With tracing
on, a ``route`` span holds a span per attempt, whose traceparent the upstream request carries."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from sluice.errors import (
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SluiceError,
    UnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from sluice.routing.affinity import rendezvous, session_key
from sluice.routing.backoff import backoff_s
from sluice.routing.breaker import State
from sluice.routing.deployment import Deployment
from sluice.routing.strategy import Demand
from sluice.routing.table import Route
from sluice.types import (
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
)

if TYPE_CHECKING:
    from sluice.obs.tracing import Tracing

T = TypeVar("T")
Once = Callable[[Deployment, Route], Awaitable[T]]


@dataclass(slots=True)
class Attempt:
    alias: str
    deployment: str
    error: str | None
    """None on success, else the error code (an upstream status, ``upstream_timeout``...)."""
    latency_s: float


RouteLookup = Callable[[str, str, frozenset[str] | None], Route]
"""``Router.route``: an alias's route for a caller (what a stage may know of routing without
calling a model)."""


class Router:
    def __init__(
        self,
        routes: Mapping[str, Route],
        *,
        latency_alpha: float = 0.3,
        expected_output_tokens: int = 512,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        tracing: Tracing | None = None,
    ) -> None:
        self._routes = routes
        self._alpha = latency_alpha
        self._expected_output = expected_output_tokens
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._clock = clock
        self._tracing = tracing

    def route(self, alias: str, kind: str, allowed: frozenset[str] | None = None) -> Route:
        """The route for a client's model name (404 like OpenAI when there is none), for a caller
        who may use only the aliases in ``allowed`` (None: all): 403 ``model_not_allowed`` when
        ``alias`` is not among them, else the route with its fallback chain cut to those it may
        use. Every route a request takes is decided here (the model it named, a budget downgrade,
        a content rule's fallback), so no fallback answers a caller from a model it may not use."""
        r = self._routes.get(alias)
        if r is None or r.kind != kind:
            raise NotFoundError(
                f"The model `{alias}` does not exist or you do not have access to it.", param="model"
            )
        if allowed is None:
            return r
        if alias not in allowed:
            raise PermissionDeniedError(
                f"This key may not use the model `{alias}`.", param="model", code="model_not_allowed"
            )
        chain = tuple(a for a in r.chain if a in allowed)
        return r if chain == r.chain else replace(r, chain=chain)

    @property
    def deployments(self) -> list[Deployment]:
        return [d for r in self._routes.values() for d in r.deployments]

    @property
    def aliased_deployments(self) -> list[tuple[str, Deployment]]:
        """Each alias's deployments, with the alias."""
        return [(alias, d) for alias, r in self._routes.items() for d in r.deployments]

    # --- the three calls ------------------------------------------------------------------

    def _demand(self, request: ChatRequest, input_tokens: Callable[[], int] | int) -> Demand:
        output = request.output_token_limit or self._expected_output
        return Demand(input_tokens, output * (request.n or 1))

    async def chat(
        self,
        request: ChatRequest,
        route: Route,
        attempts: list[Attempt],
        *,
        input_tokens: Callable[[], int] | int = 0,
    ) -> tuple[ChatResponse, Deployment]:
        """``input_tokens``: the request's, as the quota stage counts them (a callable is called
        only when a strategy prices the request); with the other calls' it is their ``Demand``."""

        async def once(d: Deployment, r: Route) -> ChatResponse:
            async with asyncio.timeout(r.timeouts.total_s):
                return await d.provider.chat(request, d.target)

        demand = self._demand(request, input_tokens)
        if self._tracing is not None:
            return await self._traced(route, attempts, once, "chat", demand, request)
        return await self._run(route, attempts, once, demand, request)

    async def embed(
        self,
        request: EmbeddingRequest,
        route: Route,
        attempts: list[Attempt],
        *,
        input_tokens: Callable[[], int] | int = 0,
    ) -> tuple[EmbeddingResponse, Deployment]:
        async def once(d: Deployment, r: Route) -> EmbeddingResponse:
            async with asyncio.timeout(r.timeouts.total_s):
                return await d.provider.embed(request, d.target)

        demand = Demand(input_tokens, 0)
        if self._tracing is not None:
            return await self._traced(route, attempts, once, "embeddings", demand, None)
        return await self._run(route, attempts, once, demand, None)

    async def stream(
        self,
        request: ChatRequest,
        route: Route,
        attempts: list[Attempt],
        *,
        input_tokens: Callable[[], int] | int = 0,
    ) -> tuple[ChunkStream, Deployment]:
        """Open a stream and wait for its first batch (still retryable); the rest is relayed."""

        async def once(d: Deployment, r: Route) -> tuple[ChunkBatch, ChunkStream, Route]:
            async with asyncio.timeout(r.timeouts.first_byte_s):
                it = await d.provider.stream(request, d.target)
                try:
                    first: ChunkBatch = await anext(it, [])  # [] when it ended at once, complete and empty
                except BaseException:
                    await it.aclose()
                    raise
            return first, it, r

        demand = self._demand(request, input_tokens)
        if self._tracing is not None:
            (first, it, r), d = await self._traced(route, attempts, once, "chat", demand, request)
        else:
            (first, it, r), d = await self._run(route, attempts, once, demand, request)
        return self._relay(first, it, d, r), d

    async def _relay(
        self, first: ChunkBatch, it: ChunkStream, d: Deployment, r: Route
    ) -> AsyncGenerator[ChunkBatch, None]:
        loop = asyncio.get_running_loop()
        idle_s = r.timeouts.stream_idle_s
        end = loop.time() + r.timeouts.stream_total_s
        try:
            yield first
            while True:
                try:
                    async with asyncio.timeout_at(min(loop.time() + idle_s, end)):
                        batch = await anext(it)
                except StopAsyncIteration:
                    return
                yield batch
        except TimeoutError:
            d.breaker.record_failure()
            raise UpstreamTimeoutError(f"{d.name} stalled mid-stream") from None
        except UpstreamError:
            d.breaker.record_failure()
            raise
        finally:
            await it.aclose()

    # --- the attempt loop ------------------------------------------------------------------

    async def _traced(
        self,
        route: Route,
        attempts: list[Attempt],
        once: Once[T],
        operation: str,
        demand: Demand,
        request: ChatRequest | None,
    ) -> tuple[T, Deployment]:
        """``_run`` in a ``route`` span, each call of ``once`` in an attempt span (an upstream
        call: gen-AI attributes, its error code and latency as in ``attempts``)."""
        tracing = self._tracing
        assert tracing is not None
        numbers = itertools.count(len(attempts) + 1)

        async def attempt(d: Deployment, r: Route) -> T:
            model = d.target.model
            attributes: dict[str, str | int] = {
                "gen_ai.operation.name": operation,
                "gen_ai.request.model": model,
                "sluice.alias": r.alias,
                "sluice.deployment": d.name,
                "sluice.attempt": next(numbers),
            }
            provider = provider_name(d)
            if provider is not None:
                attributes["gen_ai.provider.name"] = provider
            span = tracing.attempt(f"{operation} {model}", attributes)
            started = self._clock()
            try:
                result = await once(d, r)
            except BaseException as e:
                span.end(_attempt_error(e), self._clock() - started)
                raise
            span.end(None, self._clock() - started)
            return result

        with tracing.span("route", {"sluice.alias": route.alias}):
            return await self._run(route, attempts, attempt, demand, request)

    def _order(self, r: Route, demand: Demand, request: ChatRequest | None) -> list[Deployment]:
        """The deployments of ``r`` whose circuit is not open, in the order to try them: the
        session's deployment first under affinity, then the strategy's order."""
        healthy = [d for d in r.deployments if d.breaker.state is not State.OPEN]
        order = r.strategy(healthy, self._rng, demand)
        if r.affinity != "off" and request is not None and len(order) > 1:
            key = session_key(request, r.affinity)
            if key is not None:
                first = rendezvous(key, healthy)
                order.remove(first)
                order.insert(0, first)
        return order

    async def _run(
        self,
        route: Route,
        attempts: list[Attempt],
        once: Once[T],
        demand: Demand,
        request: ChatRequest | None,
    ) -> tuple[T, Deployment]:
        last: SluiceError | None = None
        for alias in route.chain:
            r = self._routes[alias]
            order = self._order(r, demand, request)
            excluded: set[int] = set()
            prev: Deployment | None = None
            for n in range(r.retries.max_attempts):
                candidates = [d for d in order if id(d) not in excluded]
                if not candidates:
                    break
                d = candidates[n % len(candidates)]
                if d is prev and last is not None:
                    wait = backoff_s(n, r.retries, self._rng, last.retry_after_s)
                    if wait is None:
                        break  # the upstream asked for a longer pause than we hold a request
                    await self._sleep(wait)
                is_probe = d.breaker.state is State.HALF_OPEN
                if not d.breaker.allow():
                    excluded.add(id(d))
                    continue
                prev = d
                started = self._clock()
                try:
                    result = await once(d, r)
                except (TimeoutError, UpstreamTimeoutError) as e:
                    last = (
                        e
                        if isinstance(e, UpstreamTimeoutError)
                        else UpstreamTimeoutError(f"{d.name} did not answer in time")
                    )
                    error = _attempt_error(e)
                except UpstreamError as e:
                    last = e
                    error = _attempt_error(e)
                    if not e.is_retryable:
                        excluded.add(id(d))
                except InvalidRequestError as e:
                    # The upstream refused the request itself: no other deployment will differ.
                    attempts.append(Attempt(alias, d.name, _attempt_error(e), self._clock() - started))
                    if is_probe:
                        d.breaker.release_probe()
                    raise
                except asyncio.CancelledError:
                    if is_probe:
                        d.breaker.release_probe()
                    raise
                else:
                    elapsed = self._clock() - started
                    d.breaker.record_success()
                    d.observe_latency(elapsed, self._alpha)
                    attempts.append(Attempt(alias, d.name, None, elapsed))
                    return result, d
                d.breaker.record_failure()
                attempts.append(Attempt(alias, d.name, error, self._clock() - started))
        if last is None:
            raise UnavailableError(
                f"No healthy deployment for model `{route.alias}`: every circuit is open. Try again shortly."
            )
        raise _exhausted(last, attempts)


def provider_name(d: Deployment) -> str | None:
    """The deployment's API (``openai``, ``anthropic``) as its provider names it. The Provider
    protocol does not require a name, and the sim provider has none."""
    return getattr(d.provider, "name", None)


def _attempt_error(e: BaseException) -> str:
    """An attempt's error code, as ``Attempt.error`` and its span record it."""
    if isinstance(e, (TimeoutError, UpstreamTimeoutError)):
        return "upstream_timeout"
    if isinstance(e, UpstreamError):
        return e.code or "upstream_error"
    if isinstance(e, InvalidRequestError):
        return e.code or "invalid_request"
    if isinstance(e, asyncio.CancelledError):
        return "cancelled"
    return type(e).__qualname__


def _exhausted(last: SluiceError, attempts: list[Attempt]) -> SluiceError:
    """The error the client sees once every attempt failed: 429 when every upstream said
    "slow down" (so the client backs off, with their Retry-After), 504 when the last attempt
    timed out, else 502 with the last upstream status as the code."""
    n = len(attempts)
    suffix = f" (after {n} attempt{'s' if n != 1 else ''})"
    if attempts and all(a.error == "429" for a in attempts):
        return RateLimitError(
            "Every upstream deployment is rate limiting this model; retry later" + suffix,
            code="upstream_rate_limited",
            retry_after_s=last.retry_after_s,
        )
    if isinstance(last, UpstreamTimeoutError):
        return UpstreamTimeoutError(last.message + suffix)
    err = UpstreamError(last.message + suffix, retry_after_s=last.retry_after_s)
    err.code = last.code
    return err
