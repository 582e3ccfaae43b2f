"""How well the auto router picks tiers, on the labelled prompts in bench/data (README.md there):
tier accuracy with the confusion matrix, the share of strong-tier prompts sent to a cheaper tier
(the quality risk), and the cost saved against always using the strong tier, priced with the
gateway's own pricing table. The held-out half (never tuned on) is printed first.

    .venv/bin/python bench/routing_eval.py [--output-tokens 400]

The tiers are real models (for their prices and context windows); nothing is called: only the
decision is evaluated. Output is priced at the same number of tokens for every prompt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.budgets.pricing import Price, price_for
from sluice.limits.tokens import chat_input_tokens
from sluice.routing.auto import TIERS, AutoAlias, auto_aliases
from sluice.routing.features import features
from sluice.routing.table import Route
from sluice.settings import Settings
from sluice.types import ChatRequest

DATA = Path(__file__).parent / "data"
MODELS = {
    "fast": "gpt-4o-mini",
    "balanced": "claude-3-5-haiku-20241022",
    "strong": "gpt-4o",
    "long_context": "gpt-4.1",
}

SHORT_TOKENS = 10_000
"""The long-context prompts cost most of the total: the saving is also shown without them."""

_FILLER = (
    "Section {n}. The committee reviewed the quarterly figures for region {r}, noting that shipments "
    "rose while returns held steady; the working group will report on supplier terms, staffing and "
    "the open audit items at the next meeting, and the minutes record {n} decisions in total.\n"
)


def config() -> Settings:
    """The evaluation's tiers: one alias per tier on a real model name (for its price and window)."""
    models: dict[str, Any] = {
        tier: {"deployments": [{"provider": "up", "model": model}]} for tier, model in MODELS.items()
    }
    models["auto"] = {"auto": {"tiers": {t: t for t in TIERS}}}
    return Settings(
        providers={"up": {"type": "openai", "base_url": "http://127.0.0.1:9/v1"}},  # never called
        models=models,
    )


def request(item: dict[str, Any]) -> ChatRequest:
    messages: list[dict[str, Any]] = []
    if "system" in item:
        messages.append({"role": "system", "content": item["system"]})
    for n in range(item.get("history", 0)):
        messages.append({"role": "user", "content": f"Here is point {n} of what we discussed earlier."})
        messages.append({"role": "assistant", "content": f"Noted point {n}; it fits the plan so far."})
    prompt = item["prompt"]
    pad = item.get("pad_tokens", 0)
    if pad:
        line_tokens = len(_FILLER) // 4
        prompt = "".join(_FILLER.format(n=n, r=n % 7) for n in range(pad // line_tokens)) + "\n" + prompt
    content: Any = prompt
    if item.get("images"):
        content = [{"type": "text", "text": prompt}] + [
            {"type": "image_url", "image_url": {"url": f"https://example.com/{i}.png"}}
            for i in range(item["images"])
        ]
    messages.append({"role": "user", "content": content})
    body: dict[str, Any] = {"model": "auto", "messages": messages}
    if item.get("tools"):
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": f"Calls {name}.",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                },
            }
            for name in item["tools"]
        ]
    if item.get("json_schema"):
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}},
        }
    return msgspec.convert(body, ChatRequest)


def evaluate(
    name: str, items: list[dict[str, Any]], auto: AutoAlias, prices: dict[str, Price], out_tokens: int
) -> None:
    usable = [(t, t) for t in TIERS]
    confusion = {t: dict.fromkeys(TIERS, 0) for t in TIERS}
    routed_cost = strong_cost = short_routed = short_strong = 0.0
    wrong: list[str] = []
    for item in items:
        r = request(item)
        tokens = chat_input_tokens(r)
        choice = auto.decide(features(r, tokens, 4096), usable)
        confusion[item["tier"]][choice.tier] += 1
        if choice.tier != item["tier"]:
            wrong.append(f"    {item['id']} {item['category']:<12} {item['tier']:>12} -> {choice.header}")
        routed_cost += prices[choice.tier].cost_micros(tokens, out_tokens)
        baseline = "strong" if tokens + 4096 <= 128_000 else "long_context"
        strong_cost += prices[baseline].cost_micros(tokens, out_tokens)
        if tokens < SHORT_TOKENS:
            short_routed += prices[choice.tier].cost_micros(tokens, out_tokens)
            short_strong += prices[baseline].cost_micros(tokens, out_tokens)
    n = len(items)
    right = sum(confusion[t][t] for t in TIERS)
    print(f"== {name}: {n} prompts")
    print(f"tier accuracy: {right}/{n} = {right / n:.1%}")
    print("confusion (rows: label, columns: routed):")
    print(f"    {'':>12} " + " ".join(f"{t:>12}" for t in TIERS))
    for t in TIERS:
        print(f"    {t:>12} " + " ".join(f"{confusion[t][c]:>12}" for c in TIERS))
    strong = sum(confusion["strong"].values())
    cheaper = confusion["strong"]["fast"] + confusion["strong"]["balanced"]
    print(f"strong-labelled prompts sent to a cheaper tier: {cheaper}/{strong} = {cheaper / strong:.1%}")
    below = sum(confusion[t][c] for t in TIERS for c in TIERS if TIERS.index(c) < TIERS.index(t))
    print(f"any prompt sent below its label: {below}/{n} = {below / n:.1%}")
    saved = 1 - routed_cost / strong_cost
    print(
        f"cost at {out_tokens} output tokens each: routed ${routed_cost / 1e6:.4f}, always strong "
        f"(long_context where strong cannot hold it) ${strong_cost / 1e6:.4f}: saved {saved:.1%}"
    )
    print(
        f"  of which the prompts under {SHORT_TOKENS} input tokens: routed ${short_routed / 1e6:.4f}, always "
        f"strong ${short_strong / 1e6:.4f}: saved {1 - short_routed / short_strong:.1%}"
    )
    print("misrouted:")
    print("\n".join(wrong) or "    none")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output-tokens", type=int, default=400, help="Output tokens priced per request.")
    args = parser.parse_args()
    settings = config()

    def no_route(alias: str, kind: str, allowed: frozenset[str] | None) -> Route:
        raise AssertionError("the evaluation decides only")

    auto = auto_aliases(settings, no_route)["auto"]
    prices = {t: price_for(settings.pricing, m, t, is_sim=False) for t, m in MODELS.items()}
    print(
        "tiers: "
        + ", ".join(
            f"{t}={m} (${prices[t].input:.2f}/${prices[t].output:.2f} per Mtok)" for t, m in MODELS.items()
        )
    )
    print()
    for name, file in (
        ("held-out half (never tuned on)", "routing_heldout.jsonl"),
        ("tuning half", "routing_tune.jsonl"),
    ):
        items = [
            msgspec.json.decode(line)
            for line in (DATA / file).read_text(encoding="utf-8").splitlines()
            if line
        ]
        evaluate(name, items, auto, prices, args.output_tokens)


if __name__ == "__main__":
    main()
