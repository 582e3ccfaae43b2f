"""The auto router's CPU per request: microseconds for what the resolve stage adds for an auto
alias (the input-token estimate, the features, the decision and the fall-through chain), for
short and long requests, beside ``Router.route`` for a plain alias. CPU time (process_time),
best of several rounds.

    .venv/bin/python bench/routing_speed.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.limits.tokens import chat_input_tokens
from sluice.providers.sim import SimProvider
from sluice.routing.auto import auto_aliases
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.types import ChatRequest

ROUNDS = 7
N = 5_000
TIERS = {"fast": "gpt-4o-mini", "balanced": "claude-3-5-haiku", "strong": "gpt-4o", "long_context": "gpt-4.1"}


def _request(content: str, history: int = 0, tools: int = 0) -> ChatRequest:
    messages = []
    for n in range(history):
        messages += [
            {"role": "user", "content": f"Point {n} of the plan."},
            {"role": "assistant", "content": "Noted."},
        ]
    messages.append({"role": "user", "content": content})
    body: dict[str, object] = {"model": "auto", "messages": messages}
    if tools:
        body["tools"] = [
            {"type": "function", "function": {"name": f"t{i}", "parameters": {"type": "object"}}}
            for i in range(tools)
        ]
    return msgspec.convert(body, ChatRequest)


CASES = {
    "short (a 30-character question)": _request("What is the capital of Peru?"),
    "medium (a 400-character design question, 4 tools)": _request(
        "Design a multi-region active-active architecture for a payments ledger that must never double-spend. "
        "Discuss consistency, conflict resolution, failover and how you would test it, then compare the "
        "trade-offs of the two best options and recommend one, with a phased migration plan and the risks "
        "of each phase, for a team of eight engineers.",
        tools=4,
    ),
    "conversation (61 messages)": _request("And what about the second option?", history=30),
    "long (a 200k-token document, 800 kB)": _request(
        "The committee met on Tuesday and went home. " * 18_200 + "\nSummarize the document above."
    ),
}


def best_us(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(N):
            fn()
        best = min(best, time.process_time() - start)
    return best / N * 1e6


def main() -> None:
    models: dict[str, object] = {
        t: {"deployments": [{"provider": "sim", "model": m}]} for t, m in TIERS.items()
    }
    models["auto"] = {"auto": {"tiers": {t: t for t in TIERS}}}
    settings = Settings(providers={"sim": {"type": "sim"}}, models=models)
    router = Router(build_routes(settings, {"sim": SimProvider(settings.providers["sim"])}))
    auto = auto_aliases(settings, router.route)["auto"]
    allowed = frozenset({"auto", *TIERS})
    print(f"CPU microseconds per request, best of {ROUNDS} rounds of {N}:")
    print(
        f"  Router.route, a plain alias (the baseline):  {best_us(lambda: router.route('fast', 'chat', allowed)):7.2f}"
    )
    for name, r in CASES.items():
        choice = auto.resolve(r, chat_input_tokens(r), None, allowed)[1]
        us = best_us(lambda r=r: auto.resolve(r, chat_input_tokens(r), None, allowed))
        print(f"  auto, {name:<52} {us:7.2f}   ({choice.header})")
    _embedding()


def _embedding() -> None:
    """For comparison: one embedding of the short question by the semantic cache's local model,
    the other classifier the auto router could have used."""
    from sluice.cache import local_embed

    try:
        embedder = local_embed.LocalEmbedder()
    except Exception as e:  # the optional model is not installed
        print(f"  (the local embedding model is not available: {e})")
        return
    text = ["What is the capital of Peru?"]
    embedder.embed(text)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(50):
            embedder.embed(text)
        best = min(best, (time.process_time() - start) / 50)
    print(f"  for comparison, one local MiniLM embedding of the short question:  {best * 1e6:9.2f}")


if __name__ == "__main__":
    main()
