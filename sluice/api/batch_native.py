"""The OpenAI surface's part in forwarded batches (``sluice/batch/native.py``): which aliases
forward their batches and where (``native_routes``, built once from the config), whether the
batch's creator may still send one (``admit``), and each answered line rendered as the surface
renders an answer (the alias in ``model``, ``logprobs``/``refusal`` nulls), priced at the
deployment's price times its batch discount, charged to the creator's budgets and recorded as a
request of the endpoint ``batch-<name>`` (the request log, ``/admin/usage``, the metrics), as a
line run by the gateway is (``settle``)."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from sluice.api.batch_lines import ENDPOINTS
from sluice.api.openai.routes import with_required_nulls
from sluice.auth.principal import Principal
from sluice.batch.native import NativeRoute, Settled
from sluice.budgets.pricing import FREE, Price
from sluice.errors import AuthenticationError, PermissionDeniedError, SluiceError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.budget import Budgets
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange, Observer
from sluice.providers.batches import BatchApi, UpstreamResult
from sluice.routing.deployment import Deployment
from sluice.routing.table import Route
from sluice.settings import Settings
from sluice.store.records import LineResult, NewBatchLine, StoredBatch
from sluice.types import (
    ChatResponse,
    EmbeddingUsage,
    Usage,
    chat_request_decoder,
    embedding_request_decoder,
    encoder,
)


@dataclass(frozen=True, slots=True)
class Priced:
    deployment: Deployment
    price: Price


def native_routes(
    settings: Settings,
    routes: Mapping[str, Route],
    prices: Mapping[Deployment, Price],
    apis: Mapping[str, BatchApi],
) -> tuple[dict[str, NativeRoute], dict[str, Priced]]:
    """Every alias whose first deployment (lowest ``priority``, then first listed) forwards
    batches (``batch: native`` on it or its provider), with that deployment and its price."""
    out: dict[str, NativeRoute] = {}
    priced: dict[str, Priced] = {}
    for alias, m in settings.models.items():
        if m.auto is not None:
            continue  # its lines run through the pipeline, which picks a tier per line
        pairs = list(zip(m.deployments, routes[alias].deployments, strict=True))
        d, deployment = min(pairs, key=lambda x: x[0].priority)
        p = settings.providers[d.provider]
        if (d.batch or p.batch) != "native" or d.provider not in apis:
            continue
        out[alias] = NativeRoute(
            alias, deployment.name, deployment.target, apis[d.provider], p.batch_discount
        )
        priced[alias] = Priced(deployment, prices.get(deployment, FREE))
    return out, priced


class NativeAccounts:
    def __init__(
        self,
        authenticate: AuthenticateStage,
        budgets: Budgets,
        observer: Observer,
        priced: Mapping[str, Priced],
    ) -> None:
        self._authenticate = authenticate
        self._budgets = budgets
        self._observer = observer
        self._priced = priced

    async def admit(self, batch: StoredBatch) -> SluiceError | None:
        """``sluice.batch.native.Admit``: the creator's key still valid, the model still theirs
        to use, and no budget of theirs used up."""
        try:
            principal = await self._authenticate.caller(batch.caller)
        except SluiceError as e:
            return e
        if batch.model is not None and not principal.may_use(batch.model):
            return PermissionDeniedError(
                f"This key may not use the model '{batch.model}'.", code="model_not_allowed"
            )
        return await self._budgets.admits(principal)

    async def _principal(self, batch: StoredBatch) -> Principal:
        c = batch.caller
        try:
            return await self._authenticate.caller(c)
        except AuthenticationError:  # revoked since: the spend is still theirs, in the log
            return Principal(c.key_name, tenant_id=c.tenant_id, user_id=c.user_id, key_id=c.key_id)

    async def settle(
        self, batch: StoredBatch, route: NativeRoute, pairs: Sequence[tuple[NewBatchLine, UpstreamResult]]
    ) -> Settled:
        """``sluice.batch.native.Settle``."""
        principal = await self._principal(batch)
        results, records = await asyncio.to_thread(self._render, batch, route, pairs, principal)
        tokens = sum(r[3] for r in records)
        cost = sum(r[4] for r in records)

        async def commit() -> None:
            if tokens or cost:  # one charge for the lot: same creator, same budgets
                await self._budgets.charge(principal, tokens, cost)
            observer = self._observer if self._observer.enabled else None
            if observer is not None:
                for ex, status, code, _, _ in records:
                    observer.begin(ex)
                    await observer.finish(ex, status, code)

        return results, commit

    def _render(
        self,
        batch: StoredBatch,
        route: NativeRoute,
        pairs: Sequence[tuple[NewBatchLine, UpstreamResult]],
        principal: Principal,
    ) -> tuple[list[tuple[str, LineResult]], list[tuple[Exchange, int, str | None, int, int]]]:
        """Each line's result and what to record of it (CPU only: run in a thread)."""
        priced = self._priced[route.alias]
        endpoint = "batch-" + ENDPOINTS[batch.endpoint]
        results: list[tuple[str, LineResult]] = []
        records: list[tuple[Exchange, int, str | None, int, int]] = []
        for line, r in pairs:
            rid = "req_" + os.urandom(12).hex()
            ex = Exchange(rid, endpoint)
            request = (
                embedding_request_decoder.decode(line.body)
                if batch.endpoint == "/v1/embeddings"
                else chat_request_decoder.decode(line.body)
            )
            ctx = ex.ctx = RequestContext(rid, None, request, principal=principal)
            ctx.deployment = priced.deployment
            if r.response is None:
                body = encoder.encode(r.error or {})
                code = (r.error or {}).get("error", {}).get("code")
                results.append((line.custom_id, LineResult("failed", r.status_code, rid, body.decode())))
                records.append((ex, r.status_code, str(code) if code else "upstream_error", 0, 0))
                continue
            usage = r.response.usage
            response = msgspec.structs.replace(r.response, model=route.alias)  # the client's name back
            if isinstance(response, ChatResponse):
                ex.response = with_required_nulls(response)
            tokens = cost = input_tokens = output_tokens = cached = 0
            if isinstance(usage, Usage):
                input_tokens, output_tokens, cached = (
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.cached_tokens,
                )
                cost = priced.price.usage_cost_micros(usage)
            elif isinstance(usage, EmbeddingUsage):
                input_tokens = usage.prompt_tokens
                cost = priced.price.cost_micros(usage.prompt_tokens, 0)
            tokens = input_tokens + output_tokens
            cost = math.ceil(cost * route.discount)
            ctx.usage, ctx.cost_micros = usage, cost
            body = encoder.encode(response)
            results.append(
                (
                    line.custom_id,
                    LineResult(
                        "completed",
                        r.status_code,
                        rid,
                        body.decode(),
                        None,
                        None,
                        input_tokens,
                        output_tokens,
                        cached,
                    ),
                )
            )
            records.append((ex, r.status_code, None, tokens, cost))
        return results, records
