"""A prompt of the registry, run: ``"sluice": {"prompt": {"name", "label" | "version",
"variables", "attributes"}}`` picks a version (a pinned one; else the label's, ``production`` by
default, or the arm a running experiment on that label assigns this caller), renders its
messages before the request's own, and applies its model alias and parameters where the request
sets none. After authenticate (prompts belong to a tenant), before resolve (the prompt may name
the model) and before the cache (entries never cross versions: ``ctx.prompt_version``).

In a shadow experiment every caller gets the control, and the candidate answers a copy of the
request in the background, through the pipeline's own calls, under the scope the experiment
names (its limits and budgets apply); that answer is logged with its arm, never shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from sluice.auth.principal import Principal, ScopedLimits
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.runner import OwnCalls
from sluice.pipeline.stage import Stage
from sluice.prompts.assign import choose
from sluice.prompts.catalog import Loaded, PromptCatalog
from sluice.store.records import Experiment
from sluice.types import ChatRequest, PromptRef

log = logging.getLogger("sluice.prompts")

DEFAULT_LABEL = "production"
SHADOW = "prompt-shadow"
"""The scope name (``sluice:prompt-shadow``) and endpoint shadow answers are recorded under."""

LimitsFor = Callable[[str, str | None, str | None], Awaitable[tuple[ScopedLimits, ...]]]


class PromptStage(Stage):
    name = "prompt"

    def __init__(self, catalog: PromptCatalog, own: OwnCalls, limits_for: LimitsFor | None = None) -> None:
        self._catalog = catalog
        self._own = own
        self._limits_for = limits_for
        self._shadows: set[asyncio.Task[None]] = set()

    async def before(self, ctx: RequestContext) -> None:
        request = ctx.request
        if not isinstance(request, ChatRequest) or request.sluice is None or request.sluice.prompt is None:
            return
        ref = request.sluice.prompt
        principal = ctx.principal
        assert principal is not None  # after authenticate
        tenant_id = principal.tenant_id
        if tenant_id is None:
            raise InvalidRequestError(
                "Prompts belong to a tenant: this key has none (use a tenant's key).", param="sluice.prompt"
            )
        if ref.label is not None and ref.version is not None:
            raise InvalidRequestError(
                "Name a prompt's 'label' or its 'version', not both.", param="sluice.prompt.version"
            )
        experiment = None
        shadow: int | None = None
        if ref.version is not None:
            number = ref.version
        else:
            label = ref.label or DEFAULT_LABEL
            experiment = await self._catalog.experiment(tenant_id, ref.name, label)
            if experiment is not None:
                number = choose(experiment, _unit(experiment, ctx, ref))
                if experiment.shadow:
                    shadow, number = (number if number != experiment.control else None), experiment.control
            else:
                found = await self._catalog.label(tenant_id, ref.name, label)
                if found is None:
                    raise NotFoundError(
                        f"The prompt '{ref.name}' has no label '{label}'.", param="sluice.prompt.label"
                    )
                number = found
        loaded = await self._catalog.version(tenant_id, ref.name, number)
        if loaded is None:
            raise NotFoundError(
                f"The prompt '{ref.name}' has no version {number}.",
                param="sluice.prompt.version" if ref.version is not None else "sluice.prompt.name",
            )
        ctx.request = _rendered(request, loaded, ref)
        ctx.prompt, ctx.prompt_number = ref.name, number
        ctx.prompt_version = f"{ref.name}@{number}"
        if experiment is not None:
            ctx.experiment, ctx.arm = experiment.id, number
            if shadow is not None:
                self._shadow(ctx, request, ref, experiment, shadow)

    def _shadow(
        self, ctx: RequestContext, request: ChatRequest, ref: PromptRef, e: Experiment, number: int
    ) -> None:
        task = asyncio.ensure_future(self._run_shadow(request, ref, e, number, ctx.request_id))
        self._shadows.add(task)
        task.add_done_callback(self._shadows.discard)

    async def _run_shadow(
        self, request: ChatRequest, ref: PromptRef, e: Experiment, number: int, request_id: str
    ) -> None:
        try:
            loaded = await self._catalog.version(e.tenant_id, e.name, number)
            if loaded is None:
                return
            copy = _rendered(msgspec.structs.replace(request, stream=False, stream_options=None), loaded, ref)
            principal = await self._payer(e)

            def annotate(c: RequestContext) -> None:
                c.prompt, c.prompt_number, c.prompt_version = e.name, number, f"{e.name}@{number}"
                c.experiment, c.arm = e.id, number

            await self._own.chat(SHADOW, copy, e.tenant_id, principal=principal, annotate=annotate)
        except Exception:  # a shadow must never reach the client, nor fail it: logged only
            log.warning(
                "shadow answer for experiment %s failed",
                e.id,
                exc_info=True,
                extra={"request_id": request_id},
            )

    async def _payer(self, e: Experiment) -> Principal:
        """Who a shadow answer is charged to: the experiment's ``shadow_scope`` (``tenant:<id>`` or
        ``key:<tenant>/<key id>``, whose limits and budgets apply), else the tenant's own scope."""
        scope = e.shadow_scope or f"tenant:{e.tenant_id}"
        kind, _, rest = scope.partition(":")
        tenant_id, key_id = rest, None
        if kind == "key":
            tenant_id, _, key = rest.partition("/")
            key_id = key or None
        limits = (
            () if self._limits_for is None else await self._limits_for(tenant_id or e.tenant_id, None, key_id)
        )
        return Principal(f"sluice:{SHADOW}", tenant_id=tenant_id or e.tenant_id, key_id=key_id, limits=limits)

    async def close(self) -> None:
        """Wait for the shadow answers under way (bounded)."""
        if self._shadows:
            await asyncio.wait(self._shadows, timeout=10)


def _unit(e: Experiment, ctx: RequestContext, ref: PromptRef) -> str:
    """What an experiment assigns by: the user (the caller's user, else the request's ``user``),
    the key, or a request attribute; a caller without it is assigned by its key."""
    p = ctx.principal
    assert p is not None and isinstance(ctx.request, ChatRequest)
    key = p.key_id or p.key_name
    if e.unit == "user":
        return p.user_id or ctx.request.user or ctx.request.safety_identifier or key
    if e.unit.startswith("attr:"):
        return ref.attributes.get(e.unit[5:]) or key
    return key


def _rendered(request: ChatRequest, loaded: Loaded, ref: PromptRef) -> ChatRequest:
    """The request with the version's messages first and its model and parameters where the
    request sets none (a 400 naming the variable when one is missing or unknown)."""
    changes: dict[str, Any] = {"messages": [*loaded.compiled.render(ref.variables), *request.messages]}
    if not request.model and loaded.version.model:
        changes["model"] = loaded.version.model
    for name, value in loaded.params:
        if getattr(request, name) is None:
            changes[name] = value
    return msgspec.structs.replace(request, **changes)
