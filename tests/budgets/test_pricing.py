"""Prices from the config over the built-in list, and costs in whole micro-dollars."""

from __future__ import annotations

from sluice.budgets.pricing import FREE, Price, price_for, usd_text
from sluice.settings import Settings


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
    assert price_for(pricing, "gpt-4o", "a", is_sim=False) == Price(1, 1, 2)  # cached input defaults to input
    assert price_for(pricing, "mine", "a", is_sim=False) == Price(3, 3, 0)
    assert price_for(pricing, "gpt-4o-mini", "a", is_sim=False) == Price(
        0.15, 0.075, 0.6
    )  # the defaults stay


def test_a_snapshot_costs_its_model_and_the_alias_is_the_fallback() -> None:
    pricing = Settings().pricing
    assert price_for(pricing, "claude-sonnet-4-20250514", "x", is_sim=False) == Price(3, 0.3, 15)
    assert price_for(pricing, "gpt-4o-2024-08-06", "x", is_sim=False) == Price(2.5, 1.25, 10)
    assert price_for(pricing, "my-finetune", "gpt-4.1", is_sim=False) == Price(2, 0.5, 8)
    assert price_for(pricing, "unknown", "unknown", is_sim=False) is FREE


def test_sim_costs_nothing_unless_its_own_name_is_priced() -> None:
    pricing = Settings(pricing={"sim-priced": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 4}}).pricing
    assert price_for(pricing, "sim-mini", "gpt-4o-mini", is_sim=True) is FREE
    assert price_for(pricing, "sim-priced", "gpt-4o-mini", is_sim=True) == Price(1, 1, 4)


def test_cost_header_text() -> None:
    assert [usd_text(c) for c in (0, 123, 1_000_000, 12_345_678)] == [
        "0.000000",
        "0.000123",
        "1.000000",
        "12.345678",
    ]
