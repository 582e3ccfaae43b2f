"""Batches forwarded to a provider's own batch API (``batch: native`` on the provider or the
deployment; docs/batches.md, "Forwarded to the provider"). Validated as every batch is, then, in
place of running its lines here: sent upstream (``BatchApi.submit``), polled with a backoff
(``native_poll_s`` doubling up to ``native_poll_max_s``), cancelled upstream when cancelled (or
expired) here, and once it ends its results are written to the batch's lines (ids and the model
mapped back, each line priced at the discount and charged to its creator by the surface's
``Settle``), so the batch worker writes the output and error files as for any batch.

All state is the store's (``batch_native``, claimed with a lease like the worker's other work),
so a gateway restarted mid-poll goes on polling where it was. The worker calls this module at
two points: ``prepare`` while it validates a batch, ``step`` on each turn of its loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from sluice.batch.lines import error
from sluice.errors import InvalidRequestError, SluiceError, UpstreamError, UpstreamTimeoutError
from sluice.providers.base import Target
from sluice.providers.batches import BatchApi, BatchRequest, UpstreamBatch, UpstreamResult
from sluice.store.protocols import Store
from sluice.store.records import ClaimedLine, LineResult, NativeBatch, NewBatchLine, StoredBatch
from sluice.types import ChatRequest, EmbeddingRequest, chat_request_decoder, embedding_request_decoder

log = logging.getLogger("sluice.batch")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NativeRoute:
    """Where an alias's batches go: its first deployment, when that one forwards batches."""

    alias: str
    deployment: str
    """``provider/upstream-model``, as in ``x-sluice-model`` and the request log."""
    target: Target
    api: BatchApi
    discount: float


Settled = tuple[list[tuple[str, LineResult]], Callable[[], Awaitable[None]]]
Settle = Callable[
    [StoredBatch, NativeRoute, Sequence[tuple[NewBatchLine, UpstreamResult]]], Awaitable[Settled]
]
"""The surface's part: each line's result as the surface renders it (the alias in ``model``,
request ids), and what to do once they are stored: price each line at the discount, charge it to
the batch's creator and record it as a request (called only after the results are written, so a
line is never charged twice)."""
Admit = Callable[[StoredBatch], Awaitable[SluiceError | None]]
"""Why the batch's creator may not send it now (key revoked, a budget used up), or None."""

MISSING = LineResult(
    "failed",
    error_code="missing_result",
    error_message="The provider's batch returned no result for this request.",
)


CALL_TIMEOUT_S = 300.0
"""The longest one upstream call of a forwarded batch may take (an upload of a large file)."""


async def _bounded(call: Awaitable[T]) -> T:
    """An upstream call under ``CALL_TIMEOUT_S``: the pooled client bounds only the connect, and
    a hung upstream must not hold the batch worker."""
    try:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            return await call
    except TimeoutError:
        raise UpstreamTimeoutError("the provider's batch API did not answer in time") from None


def _error_json(e: SluiceError) -> dict[str, Any]:
    return {"error": {"message": e.message, "type": e.type, "param": e.param, "code": e.code}}


class NativeBatches:
    def __init__(
        self,
        store: Store,
        routes: Mapping[str, NativeRoute],
        settle: Settle,
        admit: Admit,
        *,
        poll_s: float,
        poll_max_s: float,
        lease_s: float,
        attempts: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._routes = routes
        self._settle = settle
        self._admit = admit
        self._poll_s, self._poll_max_s = poll_s, poll_max_s
        self._lease_s = lease_s
        self._attempts = attempts
        self._clock = clock

    def route(self, model: str | None, endpoint: str) -> NativeRoute | None:
        r = self._routes.get(model or "")
        return r if r is not None and endpoint in r.api.endpoints else None

    async def prepare(self, batch: StoredBatch, model: str | None) -> None:
        """Called while the worker validates ``batch`` (before its lines are stored): mark it
        forwarded when its model's deployment forwards batches, so no line runs here."""
        r = self.route(model, batch.endpoint)
        if r is not None:
            await self._store.add_native(
                NativeBatch(batch.id, r.alias, r.deployment, r.discount, "submit", self._clock())
            )

    def _wait(self, n: int) -> float:
        return float(min(self._poll_s * 2 ** min(n, 30), self._poll_max_s))

    async def step(self, now: float) -> bool:
        """One forwarded batch moved on (sent, polled, cancelled upstream, or its results
        written); whether there was one."""
        claimed = await self._store.claim_native(now, self._lease_s)
        if claimed is None:
            return False
        batch, native = claimed
        try:
            await self._step(batch, native, now)
        except asyncio.CancelledError:  # shutting down: given back, so a restart looks at it at once
            with contextlib.suppress(Exception):
                await self._store.save_native(native, native)
            raise
        except Exception:  # the store away, a bug: looked at again once the lease runs out
            log.exception("forwarded batch %s step failed", batch.id)
        return True

    async def _step(self, batch: StoredBatch, n: NativeBatch, now: float) -> None:
        r = self._routes.get(n.alias)
        at = int(now)
        if r is None or r.deployment != n.deployment:
            problem = error(
                "native_unavailable",
                f"The deployment this batch was sent to ({n.deployment}) no longer forwards batches.",
            )
            await self._store.finish_native(n, [], "failed", [problem], at)
            return
        if n.state == "submit":
            await self._submit(batch, n, r, now)
        else:
            await self._poll(batch, n, r, now)

    async def _submit(self, batch: StoredBatch, n: NativeBatch, r: NativeRoute, now: float) -> None:
        at = int(now)
        if batch.status == "cancelling" or batch.ending is not None:  # nothing sent: nothing to wait for
            await self._store.finish_native(n, [], None, None, at)
            return
        refused = await self._admit(batch)
        if refused is not None:
            await self._store.finish_native(
                n, [], "failed", [error(refused.code or "invalid_request", refused.message)], at
            )
            return
        lines = await self._store.native_lines(batch.id)
        by_wire = {r.api.wire_id(x.custom_id, x.line_no): x for x in lines}
        requests = await asyncio.to_thread(
            lambda: [BatchRequest(w, _request(batch.endpoint, x.body)) for w, x in by_wire.items()]
        )  # CPU: off the event loop
        try:
            sent = await _bounded(r.api.submit(batch.endpoint, requests, r.target, batch.id))
        except InvalidRequestError as e:  # the upstream refused the batch as a whole
            await self._store.finish_native(
                n, [], "failed", [error(e.code or "invalid_request", e.message)], at
            )
            return
        except SluiceError as e:
            await self._failed_call(batch, n, "submit", e, now)
            return
        refused_lines = [
            (by_wire[w], UpstreamResult(w, e.status, error=_error_json(e)))
            for w, e in sent.refused
            if w in by_wire
        ]
        if sent.id is None:  # no line could be sent: their errors are the batch's results
            results, commit = await self._settle(batch, r, refused_lines)
            if await self._store.finish_native(n, results, None, None, at):
                await commit()
            return
        if refused_lines:  # their errors are their results; the rest went upstream
            results, commit = await self._settle(batch, r, refused_lines)
            by_custom = {x.custom_id: x for x in lines}
            for custom_id, x in results:
                await self._store.finish_line(_claimed(batch, by_custom[custom_id]), x)
            await commit()
        new = msgspec.structs.replace(
            n,
            state="poll",
            upstream_id=sent.id,
            upstream_status="in_progress",
            poll_at=now + self._poll_s,
            failures=0,
        )
        if not await self._store.save_native(n, new):
            log.error("forwarded batch %s sent upstream as %s, but its claim was lost", batch.id, sent.id)

    async def _poll(self, batch: StoredBatch, n: NativeBatch, r: NativeRoute, now: float) -> None:
        assert n.upstream_id is not None
        cancel_sent = n.cancel_sent
        failures = 0
        if not cancel_sent and (batch.status == "cancelling" or batch.ending == "expired"):
            try:
                await _bounded(r.api.cancel(n.upstream_id, r.target))
                cancel_sent = True
            except SluiceError as e:
                if isinstance(e, InvalidRequestError) or (
                    isinstance(e, UpstreamError) and e.upstream_status == 409
                ):  # it ended upstream meanwhile (OpenAI's 400, Anthropic's 409): nothing to cancel
                    cancel_sent = True
                else:  # tried again at the next poll, after the backoff
                    failures = n.failures + 1
                    log.warning("could not cancel forwarded batch %s upstream: %s", batch.id, e.message)
        try:
            up = await _bounded(r.api.status(n.upstream_id, r.target))
        except SluiceError as e:
            await self._failed_call(
                batch, msgspec.structs.replace(n, cancel_sent=cancel_sent), "poll", e, now
            )
            return
        if up.status in ("in_progress", "cancelling"):
            new = msgspec.structs.replace(
                n,
                upstream_status=up.status,
                completed=up.completed,
                failed=up.failed,
                polls=n.polls + 1,
                failures=failures,
                cancel_sent=cancel_sent,
                poll_at=now + self._wait(max(n.polls + 1, failures)),
            )
            await self._store.save_native(n, new)
            return
        if up.status == "failed":
            problems = [_problem(x) for x in up.errors[:100]] or [
                error("upstream_failed", "The provider failed the batch.")
            ]
            await self._store.finish_native(n, [], "failed", problems, int(now))
            return
        await self._collect(batch, n, r, up, now)

    async def _collect(
        self, batch: StoredBatch, n: NativeBatch, r: NativeRoute, up: UpstreamBatch, now: float
    ) -> None:
        try:
            results = await _bounded(r.api.results(batch.endpoint, up, r.target))
        except SluiceError as e:
            await self._failed_call(batch, n, "results", e, now)
            return
        lines = await self._store.native_lines(batch.id)
        by_wire = {r.api.wire_id(x.custom_id, x.line_no): x for x in lines}
        answered = [(by_wire[x.wire_id], x) for x in results if x.skipped is None and x.wire_id in by_wire]
        settled, commit = await self._settle(batch, r, answered)
        ending = None if up.status == "completed" else up.status
        if batch.ending == "expired" and ending is not None:  # cancelled upstream: its window passed here
            ending = "expired"
        if ending is None:  # every line has a result: one the provider left out is an error
            done = {x.custom_id for x, _ in answered}
            settled += [(x.custom_id, MISSING) for x in lines if x.custom_id not in done]
        if await self._store.finish_native(n, settled, ending, None, int(now)):
            await commit()

    async def _failed_call(
        self, batch: StoredBatch, n: NativeBatch, what: str, e: SluiceError, now: float
    ) -> None:
        """An upstream call that failed: tried again later, with a backoff; a batch never sent
        fails after ``attempts``, one sent is given up only once its window passed here."""
        failures = n.failures + 1
        log.warning("forwarded batch %s: %s failed (%d in a row): %s", batch.id, what, failures, e.message)
        if failures >= self._attempts and (n.state == "submit" or batch.ending == "expired"):
            if n.state == "submit":
                problem = error("upstream_error", f"The provider could not be reached: {e.message}")
                await self._store.finish_native(n, [], "failed", [problem], int(now))
            else:  # its lines expire here, as the worker's do
                await self._store.finish_native(n, [], None, None, int(now))
            return
        new = msgspec.structs.replace(n, failures=failures, poll_at=now + self._wait(failures))
        await self._store.save_native(n, new)  # the lease is n's: same batch, same lease_until


def _request(endpoint: str, body: str) -> ChatRequest | EmbeddingRequest:
    """A validated line's request (its checks ran at validation)."""
    if endpoint == "/v1/embeddings":
        return embedding_request_decoder.decode(body)
    return chat_request_decoder.decode(body)


def _problem(x: dict[str, Any]) -> dict[str, Any]:
    """An upstream's validation error in the batch's ``errors``: ``{code, message, param, line}``."""
    return error(
        str(x.get("code") or "upstream_failed"),
        str(x.get("message") or "The provider failed the batch."),
        x.get("param") if isinstance(x.get("param"), str) else None,
        x.get("line") if isinstance(x.get("line"), int) else None,
    )


def _claimed(batch: StoredBatch, line: NewBatchLine) -> ClaimedLine:
    """A line as ``Store.finish_line`` takes it (only its batch and custom_id are read)."""
    return ClaimedLine(
        batch.owner,
        batch.id,
        batch.endpoint,
        batch.caller,
        line.custom_id,
        line.line_no,
        line.id,
        line.body,
        0,
        0.0,
    )
