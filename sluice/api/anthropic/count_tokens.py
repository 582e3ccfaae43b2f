"""``POST /v1/messages/count_tokens``: a Messages request's input tokens, without calling a model.

Exact when the alias's first deployment is an Anthropic provider (its own count_tokens endpoint,
asked with the deployment's key and model); otherwise the gateway's own count, the one its
limits and budgets use (tiktoken's for OpenAI models, else the estimate of ``limits/tokens.py``).
The caller is authenticated and must be allowed the alias, as for ``/v1/messages``; a count costs
no quota or budget and is never cached.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from sluice.api.anthropic.translate import to_chat_request
from sluice.errors import UpstreamTimeoutError
from sluice.limits.tokenizer import Tokenizers
from sluice.limits.tokens import chat_input_tokens
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.context import RequestContext
from sluice.providers.anthropic import AnthropicProvider
from sluice.providers.anthropic.wire import CountTokensRequest, MessagesRequest
from sluice.routing.router import Router
from sluice.types import ChatRequest

Accuracy = Literal["exact", "estimate"]


def to_chat(wire: CountTokensRequest) -> ChatRequest:
    """The request as the gateway's own chat request (validated as ``/v1/messages`` would)."""
    return to_chat_request(
        MessagesRequest(
            model=wire.model,
            messages=wire.messages,
            max_tokens=1,
            system=wire.system,
            tools=wire.tools,
            tool_choice=wire.tool_choice,
            thinking=wire.thinking,
            output_config=wire.output_config,
        )
    )


class TokenCounter:
    def __init__(self, authenticate: AuthenticateStage, router: Router, tokenizers: Tokenizers) -> None:
        self._authenticate = authenticate
        self._router = router
        self._tokenizers = tokenizers

    async def count(self, ctx: RequestContext, wire: CountTokensRequest) -> tuple[int, Accuracy]:
        """Authenticate, resolve the alias (404 unknown, 403 not allowed), then count.

        Raises:
            UpstreamTimeoutError: the Anthropic upstream did not answer within the route's timeout.
            UpstreamError: it failed (its status mapped as for a model call, its text redacted).
        """
        ctx.principal = principal = await self._authenticate.principal(ctx.credential)
        route = ctx.route = self._router.route(wire.model, "chat", principal.allowed_models)
        first = route.deployments[0]
        if isinstance(first.provider, AnthropicProvider):
            try:
                async with asyncio.timeout(route.timeouts.total_s):
                    tokens = await first.provider.count_tokens(wire, first.target)
            except TimeoutError:
                raise UpstreamTimeoutError("anthropic did not answer the token count in time") from None
            ctx.deployment = first
            return tokens, "exact"
        assert isinstance(ctx.request, ChatRequest)
        return chat_input_tokens(ctx.request, self._tokenizers.counter(first.target.model)), "estimate"
