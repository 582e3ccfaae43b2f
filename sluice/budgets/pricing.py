"""What tokens cost: a model's price and the worst-case and actual cost of a call in micro-dollars.

USD per million tokens is numerically micro-dollars per token, so a price needs no conversion.
Input tokens read from a provider's prompt cache and written to it have rates of their own;
reasoning tokens are output tokens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from msgspec import UNSET

from sluice.settings import DeploymentSettings, ModelPrice, Settings
from sluice.types import Usage

CACHE_WRITE_FACTOR = 1.25
"""A cache write's price over the input price when the table gives none (Anthropic's 5 minutes)."""
CACHE_WRITE_1H_FACTOR = 2.0
"""The same for Anthropic's 1-hour cache."""

_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
"""A dated snapshot (``gpt-4o-2024-08-06``, ``claude-sonnet-4-20250514``) costs what its model does."""


@dataclass(frozen=True, slots=True)
class Price:
    """Micro-dollars per token."""

    input: float = 0.0
    cached_input: float = 0.0
    output: float = 0.0
    cache_write: float = 0.0
    cache_write_1h: float = 0.0

    def worst_case_micros(
        self, input_tokens: int, max_output_tokens: int, *, writes_cache: bool = False
    ) -> int:
        """Every input token uncached and every allowed output token used; with ``writes_cache``
        (the request sets prompt-cache breakpoints), every input token written at the dearest rate."""
        rate = max(self.input, self.cache_write, self.cache_write_1h) if writes_cache else self.input
        return math.ceil(input_tokens * rate + max_output_tokens * self.output)

    def cost_micros(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> int:
        cached = min(cached_tokens, prompt_tokens)
        return math.ceil(
            (prompt_tokens - cached) * self.input
            + cached * self.cached_input
            + completion_tokens * self.output
        )

    def usage_cost_micros(self, usage: Usage) -> int:
        """What an answer's usage costs. ``prompt_tokens`` includes the cache reads
        (``cached_tokens``) and writes (``cache_write_tokens``, of which ``cache_creation``
        says how many went to the 1-hour cache); ``completion_tokens`` includes the reasoning."""
        prompt = usage.prompt_tokens
        read = min(usage.cached_tokens, prompt)
        written = min(usage.cache_write_tokens, prompt - read)
        split = usage.cache_creation
        hour = 0 if split is UNSET else min(split.ephemeral_1h_input_tokens, written)
        return math.ceil(
            (prompt - read - written) * self.input
            + read * self.cached_input
            + (written - hour) * self.cache_write
            + hour * self.cache_write_1h
            + usage.completion_tokens * self.output
        )


FREE = Price()


def price_for(pricing: Mapping[str, ModelPrice], model: str, alias: str, *, is_sim: bool) -> Price:
    """The price of the upstream ``model`` (or its dated snapshot's model), else of the ``alias``;
    unpriced costs nothing. A sim deployment is priced only by its own model name: it must not
    inherit the price of the real model whose alias it stands in for."""
    return listed_price(pricing, model, alias, is_sim=is_sim) or FREE


def listed_price(pricing: Mapping[str, ModelPrice], model: str, alias: str, *, is_sim: bool) -> Price | None:
    """``price_for``'s price, or None when the table lists none (lowest-cost routing tells the two apart)."""
    names = [model, _SNAPSHOT.sub("", model)] + ([] if is_sim else [alias])
    for name in names:
        p = pricing.get(name)
        if p is not None:
            return Price(
                p.input_usd_per_mtok,
                _or(p.cached_input_usd_per_mtok, p.input_usd_per_mtok),
                p.output_usd_per_mtok,
                _or(p.cache_write_usd_per_mtok, p.input_usd_per_mtok * CACHE_WRITE_FACTOR),
                _or(p.cache_write_1h_usd_per_mtok, p.input_usd_per_mtok * CACHE_WRITE_1H_FACTOR),
            )
    return None


def routing_prices(settings: Settings) -> Callable[[str, DeploymentSettings], Price | None]:
    """Each deployment's listed price by its alias and settings, for the route table."""

    def price(alias: str, d: DeploymentSettings) -> Price | None:
        is_sim = settings.providers[d.provider].type == "sim"
        return listed_price(settings.pricing, d.model, alias, is_sim=is_sim)

    return price


def _or(rate: float | None, default: float) -> float:
    return default if rate is None else rate


def usd_text(cost_micros: int) -> str:
    """``x-sluice-cost-usd``: micro-dollars as a decimal string, e.g. "0.000123"."""
    return f"{cost_micros // 1_000_000}.{cost_micros % 1_000_000:06d}"
