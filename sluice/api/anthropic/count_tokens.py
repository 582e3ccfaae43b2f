"""``POST /v1/messages/count_tokens``: a Messages request's input tokens, without calling a model.

Exact when the alias's first deployment is an Anthropic provider (its own count_tokens endpoint,
asked with the deployment's key and model); otherwise the gateway's own count, the one its
limits and budgets use (tiktoken's for OpenAI models, else the estimate of ``limits/tokens.py``).
The request runs the same first stages as ``/v1/messages`` (authenticate, resolve, the input
guardrails): the caller must be allowed the alias, a prompt the guardrails refuse is refused here
too, and a prompt they redact is counted by the gateway, redacted, and never sent upstream as it
was. A count costs no quota or budget and is never cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from sluice.api.anthropic.translate import to_chat_request
from sluice.errors import UpstreamTimeoutError
from sluice.limits.tokens import chat_input_tokens
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.providers.anthropic import AnthropicProvider
from sluice.providers.anthropic.wire import CountTokensRequest, MessagesRequest
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
    """``stages``: the pipeline's authenticate, resolve and input guard stages, whose ``before``
    hooks run in that order (the rest of the pipeline asks a model, which a count does not)."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self._stages = tuple(stages)

    async def count(self, ctx: RequestContext, wire: CountTokensRequest) -> tuple[int, Accuracy]:
        """Authenticate, resolve the alias (404 unknown, 403 not allowed), guard, then count.

        Raises:
            UpstreamTimeoutError: the Anthropic upstream did not answer within the route's timeout.
            UpstreamError: it failed (its status mapped as for a model call, its text redacted).
        """
        asked = ctx.request
        for stage in self._stages:
            await stage.before(ctx)
        route = ctx.route
        assert route is not None and isinstance(ctx.request, ChatRequest)
        first = route.deployments[0]
        if isinstance(first.provider, AnthropicProvider) and ctx.request is asked:
            try:
                async with asyncio.timeout(route.timeouts.total_s):
                    tokens = await first.provider.count_tokens(wire, first.target)
            except TimeoutError:
                raise UpstreamTimeoutError("anthropic did not answer the token count in time") from None
            ctx.deployment = first
            return tokens, "exact"
        return chat_input_tokens(ctx.request, ctx.count), "estimate"
