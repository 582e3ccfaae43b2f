"""Prices from the config over the built-in list, and costs in whole micro-dollars."""

from __future__ import annotations

import msgspec
import pytest

from sluice.budgets.pricing import FREE, Price, price_for, usd_text
from sluice.settings import Settings
from sluice.types import Usage


def test_usd_per_million_tokens_is_micro_dollars_per_token() -> None:
    p = Price(input=2.5, cached_input=1.25, output=10.0)
    assert p.worst_case_micros(1000, 500) == 2500 + 5000
    assert p.cost_micros(1000, 100, cached_tokens=400) == 600 * 2.5 + 400 * 1.25 + 1000
    assert p.cost_micros(1000, 100, cached_tokens=5000) == 1000 * 1.25 + 1000  # never more cached than input
    assert Price(input=0.15).cost_micros(3, 0) == 1  # fractions of a micro-dollar round up


def test_the_config_overrides_and_extends_the_built_in_prices() -> None:
    pricing = Settings(
        pricing={
            "gpt-4o": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2},
            "mine": {"input_usd_per_mtok": 3},
        }
    ).pricing
    # cached input defaults to input, cache writes to Anthropic's 1.25x (5 minutes) and 2x (1 hour)
    assert price_for(pricing, "gpt-4o", "a", is_sim=False) == Price(1, 1, 2, 1.25, 2)
    assert price_for(pricing, "mine", "a", is_sim=False) == Price(3, 3, 0, 3.75, 6)
    assert price_for(pricing, "gpt-4o-mini", "a", is_sim=False) == Price(
        0.15, 0.075, 0.6, 0.15, 0.15
    )  # the defaults stay: OpenAI charges a cache write as input


def test_a_snapshot_costs_its_model_and_the_alias_is_the_fallback() -> None:
    pricing = Settings().pricing
    assert price_for(pricing, "claude-sonnet-4-20250514", "x", is_sim=False) == Price(3, 0.3, 15, 3.75, 6)
    assert price_for(pricing, "gpt-4o-2024-08-06", "x", is_sim=False) == Price(2.5, 1.25, 10, 2.5, 2.5)
    assert price_for(pricing, "my-finetune", "gpt-4.1", is_sim=False) == Price(2, 0.5, 8, 2, 2)
    assert price_for(pricing, "unknown", "unknown", is_sim=False) is FREE


def test_sim_costs_nothing_unless_its_own_name_is_priced() -> None:
    pricing = Settings(pricing={"sim-priced": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 4}}).pricing
    assert price_for(pricing, "sim-mini", "gpt-4o-mini", is_sim=True) is FREE
    assert price_for(pricing, "sim-priced", "gpt-4o-mini", is_sim=True) == Price(1, 1, 4, 1.25, 2)


def test_cost_header_text() -> None:
    assert [usd_text(c) for c in (0, 123, 1_000_000, 12_345_678)] == [
        "0.000000",
        "0.000123",
        "1.000000",
        "12.345678",
    ]


def usage(body: dict[str, object]) -> Usage:
    return msgspec.convert(body, Usage)


def test_cache_reads_writes_and_reasoning_each_at_their_rate() -> None:
    sonnet = price_for(Settings().pricing, "claude-sonnet-4", "x", is_sim=False)
    # 1000 prompt tokens: 600 read from the cache, 300 written (100 of them for an hour), 100 plain;
    # 50 output tokens of which 30 reasoning (priced as output, counted once).
    u = usage(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 50,
            "total_tokens": 1050,
            "prompt_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300},
            "completion_tokens_details": {"reasoning_tokens": 30},
            "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
        }
    )
    assert sonnet.usage_cost_micros(u) == pytest.approx(
        100 * 3 + 600 * 0.3 + 200 * 3.75 + 100 * 6 + 50 * 15, abs=1
    )
    # writes without a lifetime split are 5-minute writes; OpenAI's cached_tokens alone
    plain = usage({"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10,
                   "prompt_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 6}})  # fmt: skip
    assert sonnet.usage_cost_micros(plain) == pytest.approx(4 * 0.3 + 6 * 3.75, abs=1)
    mini = price_for(Settings().pricing, "gpt-4o-mini", "x", is_sim=False)
    oa = usage({"prompt_tokens": 2000, "completion_tokens": 0, "total_tokens": 2000,
                "prompt_tokens_details": {"cached_tokens": 1024}})  # fmt: skip
    assert mini.usage_cost_micros(oa) == 224  # ceil(976 * 0.15 + 1024 * 0.075)


def test_usage_counts_never_price_more_tokens_than_the_prompt_has() -> None:
    p = Price(input=1, cached_input=0.5, output=2, cache_write=10, cache_write_1h=20)
    u = usage({"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11,
               "prompt_tokens_details": {"cached_tokens": 8, "cache_write_tokens": 50},
               "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 50}})  # fmt: skip
    assert p.usage_cost_micros(u) == 8 * 0.5 + 2 * 20 + 2


def test_the_worst_case_of_a_request_that_writes_the_cache_uses_the_dearest_input_rate() -> None:
    p = Price(input=3, cached_input=0.3, output=15, cache_write=3.75, cache_write_1h=6)
    assert p.worst_case_micros(1000, 10) == 3000 + 150
    assert p.worst_case_micros(1000, 10, writes_cache=True) == 6000 + 150


def test_cache_write_prices_come_from_the_config() -> None:
    pricing = Settings(
        pricing={
            "m": {"input_usd_per_mtok": 1, "cache_write_usd_per_mtok": 1.5, "cache_write_1h_usd_per_mtok": 3}
        }
    ).pricing
    assert price_for(pricing, "m", "a", is_sim=False) == Price(1, 1, 0, 1.5, 3)
