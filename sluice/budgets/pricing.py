"""What tokens cost: a model's price and the worst-case and actual cost of a call in micro-dollars.

USD per million tokens is numerically micro-dollars per token, so a price needs no conversion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sluice.settings import ModelPrice

_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
"""A dated snapshot (``gpt-4o-2024-08-06``, ``claude-sonnet-4-20250514``) costs what its model does."""


@dataclass(frozen=True, slots=True)
class Price:
    """Micro-dollars per token."""

    input: float = 0.0
    cached_input: float = 0.0
    output: float = 0.0

    def worst_case_micros(self, input_tokens: int, max_output_tokens: int) -> int:
        """Every input token uncached and every allowed output token used."""
        return math.ceil(input_tokens * self.input + max_output_tokens * self.output)

    def cost_micros(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> int:
        cached = min(cached_tokens, prompt_tokens)
        return math.ceil(
            (prompt_tokens - cached) * self.input
            + cached * self.cached_input
            + completion_tokens * self.output
        )


FREE = Price()


def price_for(pricing: Mapping[str, ModelPrice], model: str, alias: str, *, is_sim: bool) -> Price:
    """The price of the upstream ``model`` (or its dated snapshot's model), else of the ``alias``;
    unpriced costs nothing. A sim deployment is priced only by its own model name: it must not
    inherit the price of the real model whose alias it stands in for."""
    names = [model, _SNAPSHOT.sub("", model)] + ([] if is_sim else [alias])
    for name in names:
        p = pricing.get(name)
        if p is not None:
            cached = (
                p.input_usd_per_mtok if p.cached_input_usd_per_mtok is None else p.cached_input_usd_per_mtok
            )
            return Price(p.input_usd_per_mtok, cached, p.output_usd_per_mtok)
    return FREE


def usd_text(cost_micros: int) -> str:
    """``x-sluice-cost-usd``: micro-dollars as a decimal string, e.g. "0.000123"."""
    return f"{cost_micros // 1_000_000}.{cost_micros % 1_000_000:06d}"
