"""The quota stage: admission (caps, RPM, TPM, in-flight) and budgets (worst-case tokens and
cost reserved, a downgrade at the limit) as one step, so their two counter calls leave together:
with ``together`` (counters and ledger on Redis) both commits, and later both settles, go in one
pipelined round trip. A refusal by either releases what the other took: a refused request costs
nothing. A budgeted stream is metered as it flows; settle corrects TPM and replaces the
reservation with the priced usage (a cache hit settles at zero and notes what it saved)."""

from __future__ import annotations

import asyncio

from sluice.errors import SluiceError
from sluice.pipeline.admission import Admission
from sluice.pipeline.budget import Budgets
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.types import ChunkStream, Usage


class QuotaStage(Stage):
    name = "quota"
    internal = True  # the gateway's own calls are priced too

    def __init__(self, admission: Admission, budgets: Budgets, *, together: bool = False) -> None:
        self._admission = admission
        self._budgets = budgets
        self._together = together

    async def before(self, ctx: RequestContext) -> None:
        admit = self._admission.prepare(ctx)
        reserve = self._budgets.prepare(ctx)
        try:
            if admit is not None and reserve is not None and self._together:
                results = await asyncio.gather(
                    self._admission.commit(ctx, admit),
                    self._budgets.commit(ctx, reserve),
                    return_exceptions=True,
                )
                for r in results:
                    if isinstance(r, BaseException):
                        raise r
            else:
                if admit is not None:
                    await self._admission.commit(ctx, admit)
                if reserve is not None:
                    await self._budgets.commit(ctx, reserve)
        except SluiceError:
            await self._admission.settle(ctx, 0)  # refused: nothing will be sent upstream
            raise

    def stream(self, ctx: RequestContext, chunks: ChunkStream) -> ChunkStream:
        if ctx.budget is None or ctx.hit is not None:
            return chunks
        return self._budgets.meter(chunks, ctx)

    async def settle(self, ctx: RequestContext) -> None:
        usage = ctx.usage
        tokens = None
        hit = ctx.hit
        if hit is not None:
            tokens = 0
            if hit.usage is not None:
                u = hit.usage
                ctx.saved_tokens = u.prompt_tokens + u.completion_tokens
                ctx.saved_micros = self._budgets.price(ctx).cost_micros(u.prompt_tokens, u.completion_tokens)
        elif usage is not None:
            tokens = usage.prompt_tokens + (usage.completion_tokens if isinstance(usage, Usage) else 0)
        if self._together and ctx.admission is not None and ctx.budget is not None:
            await asyncio.gather(self._admission.settle(ctx, tokens), self._budgets.settle(ctx, usage))
        else:
            await self._admission.settle(ctx, tokens)
            await self._budgets.settle(ctx, usage)
