"""The model alias the client named, resolved to its route (404 unknown, 403 not allowed; its
fallbacks cut to the aliases the caller may use); an auto alias's to one of its tiers'."""

from __future__ import annotations

from collections.abc import Mapping

from sluice.limits.tokenizer import Tokenizers
from sluice.limits.tokens import chat_input_tokens
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.routing.auto import AutoAlias
from sluice.routing.router import Router
from sluice.types import ChatRequest


class ResolveStage(Stage):
    """Also picks how the request's tokens are counted: the tokenizer of the route's first
    deployment's model (``tokenizers`` None: estimated)."""

    name = "resolve"
    internal = True

    def __init__(
        self,
        router: Router,
        tokenizers: Tokenizers | None = None,
        auto: Mapping[str, AutoAlias] | None = None,
    ) -> None:
        self._router = router
        self._tokenizers = tokenizers
        self._auto = auto or {}

    async def before(self, ctx: RequestContext) -> None:
        request = ctx.request
        principal = ctx.principal
        allowed = principal.allowed_models if principal is not None else None
        auto = self._auto.get(request.model)
        if auto is not None and isinstance(request, ChatRequest):
            # The estimate (no tokenizer): the tier, and so its tokenizer, is not known yet.
            route, ctx.choice = auto.resolve(request, chat_input_tokens(request), ctx.route_hint, allowed)
        else:
            kind = "chat" if isinstance(request, ChatRequest) else "embedding"
            route = self._router.route(request.model, kind, allowed)
        ctx.route = route
        if self._tokenizers is not None:
            ctx.count = self._tokenizers.counter(route.deployments[0].target.model)
