"""The model alias the client named, resolved to its route (404 unknown, 403 not
allowed; its fallbacks cut to the aliases the caller may use)."""

from __future__ import annotations

from sluice.limits.tokenizer import Tokenizers
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.routing.router import Router
from sluice.types import ChatRequest


class ResolveStage(Stage):
    """Also picks how the request's tokens are counted: the tokenizer of the route's first
    deployment's model (``tokenizers`` None: estimated)."""

    name = "resolve"
    internal = True

    def __init__(self, router: Router, tokenizers: Tokenizers | None = None) -> None:
        self._router = router
        self._tokenizers = tokenizers

    async def before(self, ctx: RequestContext) -> None:
        alias = ctx.request.model
        kind = "chat" if isinstance(ctx.request, ChatRequest) else "embedding"
        principal = ctx.principal
        route = self._router.route(alias, kind, principal.allowed_models if principal is not None else None)
        ctx.route = route
        if self._tokenizers is not None:
            ctx.count = self._tokenizers.counter(route.deployments[0].target.model)
