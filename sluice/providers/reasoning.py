"""How much a model may reason, both ways: OpenAI's ``reasoning_effort`` <-> Anthropic's extended
thinking ``budget_tokens``. One table, used by the provider that needs the other's spelling."""

from __future__ import annotations

from sluice.errors import InvalidRequestError
from sluice.types import ThinkingConfig

MIN_BUDGET_TOKENS = 1024
"""Anthropic's smallest thinking budget."""

EFFORT_BUDGETS = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 24576,
    "max": 32000,
}
"""``reasoning_effort`` -> ``budget_tokens`` for an Anthropic deployment; ``none`` means no thinking."""


def thinking_for(
    effort: str, max_tokens: int | None, param: str = "reasoning_effort"
) -> ThinkingConfig | None:
    """The extended thinking that stands for ``effort`` under the client's output cap.

    Anthropic counts thinking in ``max_tokens`` and wants ``budget_tokens`` below it, as OpenAI
    counts reasoning in ``max_completion_tokens``: the budget shrinks to fit the cap, and a cap
    too small for the smallest budget means no thinking.

    Raises:
        InvalidRequestError: for an effort OpenAI does not define.
    """
    if effort == "none":
        return None
    budget = EFFORT_BUDGETS.get(effort)
    if budget is None:
        raise InvalidRequestError(
            f"reasoning_effort must be one of none, {', '.join(EFFORT_BUDGETS)}; got {effort!r}", param=param
        )
    if max_tokens is not None:
        budget = min(budget, max_tokens - 1)
        if budget < MIN_BUDGET_TOKENS:
            return None
    return ThinkingConfig(type="enabled", budget_tokens=budget)


def effort_for(thinking: ThinkingConfig) -> str | None:
    """The ``reasoning_effort`` for an OpenAI-type deployment: enabled thinking by its budget
    (below 4096 low, below 16384 medium, else high); disabled or adaptive leave the model's default."""
    if thinking.type != "enabled" or thinking.budget_tokens is None:
        return None
    if thinking.budget_tokens < 4096:
        return "low"
    return "medium" if thinking.budget_tokens < 16384 else "high"
