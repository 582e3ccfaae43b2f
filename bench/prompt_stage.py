"""What the prompt stage costs a request: ``PromptStage.before`` (label or experiment lookup in the
warm catalog, the arm's assignment, rendering two message templates, the model and parameters
applied) on a real SQLite store, against a request without a prompt (the stage's check alone).
Process CPU per request, best of several rounds; the catalog's TTL is long enough that no round
reads the store after the first request (as on a busy gateway with ``prompts.cache_s: 2``).

    .venv/bin/python bench/prompt_stage.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.auth.principal import Principal
from sluice.pipeline.context import RequestContext
from sluice.pipeline.prompt import PromptStage
from sluice.pipeline.runner import OwnCalls
from sluice.prompts.catalog import PromptCatalog
from sluice.store.records import Experiment, ExperimentArm, PromptMessage, PromptVersion, Tenant
from sluice.store.sqlite.store import SqliteStore
from sluice.types import ChatRequest

ROUNDS = 7
REQUESTS = 20_000
VARIABLES = {"company": "Acme", "question": "Where is my order 1234? It was due on Monday."}


def request(prompt: bool, i: int) -> RequestContext:
    body: dict = {"model": "gpt-4o-mini", "messages": [], "user": f"user-{i % 1000}"}
    if prompt:
        body["sluice"] = {"prompt": {"name": "support", "variables": VARIABLES}}
    else:
        body["messages"] = [{"role": "user", "content": VARIABLES["question"]}]
    ctx = RequestContext("r", "sk", msgspec.convert(body, ChatRequest))
    ctx.principal = Principal("app", tenant_id="acme", key_id="k1")
    return ctx


async def per_request_us(stage: PromptStage, prompt: bool) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        ctxs = [request(prompt, i) for i in range(REQUESTS)]
        started = time.process_time()
        for c in ctxs:
            await stage.before(c)
        best = min(best, (time.process_time() - started) / REQUESTS * 1e6)
    return best


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "bench.db"))
        await store.migrate()
        await store.create_tenant(Tenant("acme", "Acme", 0))
        messages = [
            PromptMessage("system", "You are the support assistant of {company}. Be brief and exact."),
            PromptMessage("user", "{question}"),
        ]
        for note in ("v1", "v2"):
            await store.create_prompt_version(
                PromptVersion(
                    "acme",
                    "support",
                    0,
                    messages,
                    ["company", "question"],
                    0,
                    "ops",
                    params={"temperature": 0.2},
                    note=note,
                )
            )
        await store.set_prompt_label("acme", "support", "production", 1, "ops", "bench", 0)
        stage = PromptStage(PromptCatalog(store, ttl_s=3600), OwnCalls())
        plain = await per_request_us(stage, prompt=False)
        label = await per_request_us(stage, prompt=True)
        arms = [ExperimentArm(1, 1.0), ExperimentArm(2, 1.0)]
        await store.create_experiment(
            Experiment("exp_bench", "acme", "support", "production", "ab", 1, arms, salt="s", created_at=0)
        )
        stage = PromptStage(PromptCatalog(store, ttl_s=3600), OwnCalls())
        experiment = await per_request_us(stage, prompt=True)
        await store.close()
    print(f"no prompt (the stage's check):       {plain:6.2f} us/request")
    print(f"a label, rendered:                    {label:6.2f} us/request")
    print(f"an A/B experiment: assigned, rendered: {experiment:6.2f} us/request")


if __name__ == "__main__":
    asyncio.run(main())
