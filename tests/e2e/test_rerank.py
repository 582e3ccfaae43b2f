"""The optional rerank step (``knowledge.rerank``) through a real gateway and the real ``openai``
SDK: a chat alias on a loopback mock upstream rates the fused candidates; its ratings reorder
vector store search results and become their scores; ``ranking_options.ranker: "none"`` skips
it; an answer without ratings keeps the fused order; its calls are the gateway's own requests,
logged under the searching tenant."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from aiohttp import web

from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.upstreams import ThreadedServer
from tests.fixtures.wait import eventually

ADMIN = "sk-admin-rerank"
AH = {"authorization": f"Bearer {ADMIN}"}
FILES = {
    "vacation.md": b"# Vacation\n\nEvery employee gets 25 vacation days a year.\n",
    "risotto.md": b"# Risotto\n\nA risotto needs arborio rice; it is no vacation to stir it.\n",
}
STATIC = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}


async def _rate(request: web.Request, body: dict[str, Any]) -> web.Response:
    """Rates 10 every passage that mentions risotto and 1 the others; a query with "garbage" gets
    an answer without ratings."""
    prompt = body["messages"][-1]["content"]
    passages = re.split(r"\n\n\[\d+\]\n", "\n\n" + prompt.split("Passages:", 1)[1])[1:]
    ratings = [10 if "risotto" in p.lower() else 1 for p in passages]
    text = "I cannot say." if "garbage" in prompt else str(ratings)
    return web.json_response(
        {
            "id": "chatcmpl-rate",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 4, "total_tokens": 44},
        }
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[ThreadedServer]:
    server = ThreadedServer({"/v1/chat/completions": _rate})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(module_gateway: Any, upstream: ThreadedServer) -> Proc:
    return module_gateway(
        {
            "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
            "providers": {
                "up": {"type": "openai", "base_url": upstream.base_url + "/v1", "api_key": "sk-up"}
            },
            "models": {"ranker": {"deployments": [{"provider": "up", "model": "rater-1"}]}},
            "knowledge": {"ingest_poll_s": 0.2, "rerank": "ranker", "rerank_candidates": 5},
            "logging": {"level": "warning"},
        }
    )


def test_the_rerank_model_orders_search_results(gw: Proc, upstream: ThreadedServer) -> None:
    assert call("GET", gw.base_url + "/health/ready").json()["knowledge"]["rerank"] == "ranker"
    assert call("POST", gw.base_url + "/admin/tenants", {"id": "acme", "name": "acme"}, AH).status == 201
    key = call("POST", gw.base_url + "/admin/tenants/acme/keys", {"name": "k"}, AH).json()["key"]
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=30) as c:
        ids = {n: c.files.create(file=(n, data), purpose="assistants").id for n, data in FILES.items()}
        vs = c.vector_stores.create(name="kb", file_ids=list(ids.values()), chunking_strategy=STATIC)
        deadline = time.monotonic() + 60
        while c.vector_stores.retrieve(vs.id).file_counts.completed < len(FILES):
            assert time.monotonic() < deadline, "ingestion did not finish"
            time.sleep(0.2)

        def search(query: str, **kw: Any) -> list[tuple[str, float]]:
            return [(r.filename, round(r.score, 3)) for r in c.vector_stores.search(vs.id, query=query, **kw)]

        before = len(upstream.bodies)
        fused = search("vacation days", ranking_options={"ranker": "none"})
        assert [name for name, _ in fused] == ["vacation.md", "risotto.md"]  # both words, both rankings
        assert len(upstream.bodies) == before  # skipped: no call
        assert search("vacation days") == [("risotto.md", 1.0), ("vacation.md", 0.1)]
        assert len(upstream.bodies) == before + 1
        asked = upstream.bodies[-1][1]
        assert asked["model"] == "rater-1" and asked["temperature"] == 0
        assert asked["messages"][-1]["content"].startswith("Query:\nvacation days\n\nPassages:")
        assert search("vacation days", ranking_options={"score_threshold": 0.5}) == [("risotto.md", 1.0)]
        assert search("vacation garbage") == fused  # no ratings: the fused order and scores

    def logged() -> list[dict[str, Any]] | None:
        rows = call("GET", gw.base_url + "/admin/requests", headers=AH).json()["data"]
        own = [r for r in rows if r["endpoint"] == "knowledge-rerank"]
        return own if len(own) == 3 else None

    for row in eventually(logged, 5, "the rerank model's three calls in the request log"):
        assert row["tenant_id"] == "acme" and row["key_prefix"] == "sluice:knowledge-rerank"
        assert (row["model"], row["status"]) == ("ranker", 200)
