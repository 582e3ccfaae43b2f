"""The semantic cache on real gateways: a paraphrase served from the local all-MiniLM-L6-v2 model's
index and replayed as a stream, a near miss refused by verification, shadow mode's report,
embeddings from a configured deployment, a slow embedding bounded, the layer off and saying why,
and two replicas sharing one PostgreSQL (pgvector) index. An answer is kept off the hot path: a test
that needs it kept waits until the gateway's index holds it (its rows in SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import openai
from aiohttp import web

from tests.conftest import DEMO_KEY
from tests.fixtures.aioserver import local_server
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc
from tests.fixtures.services import pg_fetchval
from tests.fixtures.wait import eventually

ADMIN = "sk-admin-semantic"
ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}


def semantic_config(
    *, policy: dict[str, Any] | None = None, semantic: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "providers": {
            "sim": {"type": "sim"},
            "slow": {"type": "sim", "sim": {"latency_ms": 400, "embedding_dim": 64}},
        },
        "models": {
            "m": {"deployments": [{"provider": "sim", "model": "sim-m"}]},
            "emb": {"kind": "embedding", "deployments": [{"provider": "sim", "model": "sim-emb"}]},
            "slow-emb": {"kind": "embedding", "deployments": [{"provider": "slow", "model": "sim-emb"}]},
        },
        "cache": {
            "enabled": True,
            "policy": {"exact": True, "semantic": "on", **(policy or {})},
            "semantic": {"lookup_timeout_ms": 2000, **(semantic or {})},
        },
        "logging": {"level": "warning"},
        **extra,
    }


def ask(gw: Proc, text: str, key: str = DEMO_KEY, **body: Any) -> Reply:
    payload = {"model": "m", "messages": [{"role": "user", "content": text}], "temperature": 0, **body}
    return call("POST", gw.base_url + "/v1/chat/completions", payload, {"authorization": f"Bearer {key}"})


def stats(gw: Proc, tenant: str = "-") -> dict[str, Any]:
    return call("GET", gw.base_url + f"/admin/tenants/{tenant}/cache/stats", headers=ADMIN_HEADERS).json()


def settled(gw: Proc, text: str, want: str, timeout_s: float = 5) -> Reply:
    """Ask until the answer comes ``want`` from the cache (writes land off the hot path)."""

    def served() -> Reply | None:
        r = ask(gw, text)
        return r if r.headers.get("x-sluice-cache") == want else None

    return eventually(served, timeout_s, f"an answer from the cache ({want})")


def embedded(tmp_path: Path, **extra: Any) -> tuple[dict[str, Any], Path]:
    """A config whose SQLite file the test knows, and that file."""
    db = tmp_path / "semantic.db"
    return semantic_config(state={"sqlite_path": str(db)}, **extra), db


def _count(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM cache_semantic").fetchone()[0]


def kept(db: Path, entries: int) -> None:
    """Wait until the embedded gateway's semantic index holds ``entries`` entries: each is added to
    the index in memory, then written to the ``cache_semantic`` table in a batch."""
    eventually(lambda: _count(db) >= entries, 10, f"{entries} semantic cache rows in {db.name}")


def kept_in_postgres(dsn: str, entries: int) -> None:
    """The same for the distributed backend, whose index is the ``cache_semantic`` table itself."""
    eventually(
        lambda: pg_fetchval(dsn, "SELECT count(*) FROM cache_semantic") >= entries,
        10,
        f"{entries} pgvector rows",
    )


def test_a_paraphrase_is_served_and_a_near_miss_is_not(gateway, tmp_path: Path) -> None:
    config, db = embedded(tmp_path)
    gw = gateway(config)
    first = ask(gw, "How do I reset my password?")
    assert first.headers["x-sluice-cache"] == "miss"
    kept(db, 1)
    hit = ask(gw, "How can I reset my password?")
    assert hit.headers["x-sluice-cache"] == "semantic"
    assert 0.85 <= float(hit.headers["x-sluice-cache-similarity"]) < 1
    assert hit.json()["choices"] == first.json()["choices"]  # the first question's answer, served again
    assert hit.headers["x-sluice-cost-usd"] == "0.000000"

    ask(gw, "Convert 5 km to miles")
    kept(db, 2)
    near = ask(gw, "Convert 5 miles to km")  # cosine ~0.99, a different question
    assert near.headers["x-sluice-cache"] == "miss"
    assert near.json()["choices"][0]["message"]["content"] == "Simulated reply to: Convert 5 miles to km"
    s = stats(gw)
    assert s["semantic_hits"] == 1 and s["semantic_rejected"] >= 1
    with openai.OpenAI(base_url=gw.base_url + "/v1", api_key=DEMO_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="m",
            messages=[{"role": "user", "content": "How would I reset my password?"}],
            temperature=0,
            stream=True,
        )
        chunks = list(raw.parse())
    assert raw.headers["x-sluice-cache"] == "semantic"
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Simulated reply to: How do I reset my password?"
    )


def test_a_different_context_never_matches(gateway, tmp_path: Path) -> None:
    config, db = embedded(tmp_path)
    gw = gateway(config)
    system = {"role": "system", "content": "Answer in French."}
    ask(gw, "How do I reset my password?")
    kept(db, 1)
    r = ask(
        gw,
        "How can I reset my password?",
        messages=[system, {"role": "user", "content": "How can I reset my password?"}],
    )
    assert r.headers["x-sluice-cache"] == "miss"
    assert (
        ask(gw, "How can I reset my password?", max_tokens=7).headers["x-sluice-cache"] == "miss"
    )  # other parameters


def test_shadow_mode_serves_fresh_answers_and_reports_the_evidence(gateway, tmp_path: Path) -> None:
    config, db = embedded(tmp_path, policy={"semantic": "shadow"})
    gw = gateway(config)
    ask(gw, "How do I reset my password?")
    kept(db, 1)
    r = ask(gw, "How can I reset my password?")
    assert r.headers["x-sluice-cache"] == "miss"
    assert (
        r.json()["choices"][0]["message"]["content"] == "Simulated reply to: How can I reset my password?"
    )  # fresh
    eventually(lambda: stats(gw)["shadow"]["compared"] >= 1, 5, "the shadow comparison")
    shadow = stats(gw)["shadow"]
    assert (shadow["lookups"], shadow["would_hit"], shadow["would_hit_rate"], shadow["compared"]) == (
        2,
        1,
        0.5,
        1,
    )
    assert 0.85 < shadow["mean_answer_similarity"] < 1 and shadow["estimated_false_hit_rate"] == 0.0
    assert stats(gw)["semantic_hits"] == 0


def test_embeddings_from_a_configured_deployment(gateway) -> None:
    gw = gateway(semantic_config(policy={"exact": False}, semantic={"embedding": "emb", "dimensions": 256}))
    assert ask(gw, "How do I reset my password?").headers["x-sluice-cache"] == "miss"
    hit = settled(gw, "How do I reset my password?", "semantic")  # exact off: the same text, by its embedding
    assert hit.headers["x-sluice-cache-similarity"] == "1.0000"
    ready = call("GET", gw.base_url + "/health/ready").json()
    assert ready["cache"] == {"exact": "ok", "semantic": "on"}
    assert ready["embedding"]["status"] == "ok" and ready["embedding"]["latency_ms"] > 0

    # The embedding model's calls are the gateway's own requests, under no tenant (a batch mixes them).
    def embedded_calls() -> list[dict[str, Any]] | None:
        rows = call("GET", gw.base_url + "/admin/requests", headers=ADMIN_HEADERS).json()["data"]
        own = [r for r in rows if r["endpoint"] == "cache-embedding"]
        return own or None

    rows = eventually(embedded_calls, 5, "the embedding model's calls in the request log")
    assert all(
        (r["key_prefix"], r["tenant_id"], r["model"], r["status"])
        == ("sluice:cache-embedding", None, "emb", 200)
        and r["input_tokens"] > 0
        for r in rows
    ), rows


def test_a_slow_embedding_delays_a_miss_by_at_most_the_bound(gateway) -> None:
    gw = gateway(
        semantic_config(
            policy={"exact": False},
            semantic={"embedding": "slow-emb", "dimensions": 64, "lookup_timeout_ms": 50},
        )
    )
    started = time.monotonic()
    r = ask(gw, "How do I reset my password?")
    assert r.status == 200 and r.headers["x-sluice-cache"] == "miss"
    assert time.monotonic() - started < 0.35  # the embedding takes 400 ms; the miss did not wait for it
    assert stats(gw)["semantic_timeouts"] == 1


def test_without_an_embedding_model_the_layer_is_off_and_says_why(gateway) -> None:
    gw = gateway(semantic_config(semantic={"embedding": "emb"}))  # no dimensions for the alias
    ready = call("GET", gw.base_url + "/health/ready").json()
    assert ready["status"] == "ok"
    assert (
        ready["cache"]["semantic"]
        == "off: cache.semantic.dimensions is required with the embedding model 'emb'"
    )
    assert ready["embedding"] == {"status": "off"}
    assert ask(gw, "Hello there").headers["x-sluice-cache"] == "miss"
    assert settled(gw, "Hello there", "hit").headers["x-sluice-cache"] == "hit"  # the exact layer still works


def test_two_replicas_share_one_pgvector_index(gateway, postgres_clean: str, redis_clean: str) -> None:
    state = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    a, b = gateway(semantic_config(state=state)), gateway(semantic_config(state=state))
    assert ask(a, "How do I reset my password?").headers["x-sluice-cache"] == "miss"
    kept_in_postgres(postgres_clean, 1)
    hit = ask(b, "How can I reset my password?")
    assert hit.headers["x-sluice-cache"] == "semantic"
    assert hit.json()["choices"][0]["message"]["content"] == "Simulated reply to: How do I reset my password?"
    purged = call("POST", b.base_url + "/admin/tenants/-/cache/purge", {}, ADMIN_HEADERS).json()["purged"]
    assert purged["semantic"] >= 1
    assert ask(a, "How could I reset my password?").headers["x-sluice-cache"] == "miss"


async def test_a_judge_model_confirms_or_refuses_each_candidate(gateway, tmp_path: Path) -> None:
    """The judge is a real HTTP upstream here: it says YES about passwords and NO otherwise."""
    asked: list[str] = []

    async def judge(request: web.Request) -> web.Response:
        body = await request.json()
        question = body["messages"][-1]["content"]
        asked.append(question)
        verdict = "YES" if "password" in question else "NO"
        return web.json_response(
            {
                "id": "j",
                "object": "chat.completion",
                "created": 1,
                "model": "judge",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": verdict},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async with local_server("/v1/chat/completions", judge) as base_url:
        config, db = embedded(tmp_path, policy={"exact": False, "judge": "judge"})
        config["providers"]["judgehttp"] = {"type": "openai", "base_url": f"{base_url}/v1", "api_key": "sk-j"}
        config["models"]["judge"] = {"deployments": [{"provider": "judgehttp", "model": "judge"}]}
        gw = gateway(config)

        async def ask_async(text: str) -> Reply:
            return await asyncio.to_thread(ask, gw, text)

        await ask_async("How do I reset my password?")
        await asyncio.to_thread(kept, db, 1)
        assert (await ask_async("How can I reset my password?")).headers["x-sluice-cache"] == "semantic"
        await ask_async("How do I bake bread at home?")
        await asyncio.to_thread(kept, db, 2)
        assert (await ask_async("How can I bake bread at home?")).headers[
            "x-sluice-cache"
        ] == "miss"  # the judge said no
    assert len(asked) == 2 and asked[0].startswith("Question A:\nHow do I reset my password?")
    assert (await asyncio.to_thread(stats, gw))["semantic_rejected"] == 1

    # The judge's calls are the gateway's own requests: logged, counted and priced like a client's.
    def judged() -> list[dict[str, Any]] | None:
        rows = call("GET", gw.base_url + "/admin/requests", headers=ADMIN_HEADERS).json()["data"]
        own = [r for r in rows if r["endpoint"] == "cache-judge"]
        return own if len(own) == 2 else None

    rows = await asyncio.to_thread(eventually, judged, 5, "the judge's two calls in the request log")
    for row in rows:
        assert row["key_prefix"] == "sluice:cache-judge" and row["tenant_id"] is None
        assert (row["model"], row["deployment"], row["status"]) == ("judge", "judgehttp/judge", 200)
        assert (row["input_tokens"], row["output_tokens"]) == (1, 1)
    usage = call("GET", gw.base_url + "/admin/usage?group_by=model", headers=ADMIN_HEADERS).json()
    assert {"model": "judge", "requests": 2} in [
        {"model": u["model"], "requests": u["requests"]} for u in usage["data"]
    ], usage


def test_through_the_openai_sdk_near_misses_are_fresh_and_a_paraphrase_is_served(
    gateway, tmp_path: Path
) -> None:
    """Near misses by a word, a role and a scope are answered fresh; a paraphrase is the cached answer."""
    config, db = embedded(tmp_path)
    gw = gateway(config)
    with openai.OpenAI(base_url=gw.base_url + "/v1", api_key=DEMO_KEY, max_retries=0) as client:

        def sdk_ask(text: str) -> tuple[str, str]:
            raw = client.chat.completions.with_raw_response.create(
                model="m", messages=[{"role": "user", "content": text}], temperature=0
            )
            return raw.headers["x-sluice-cache"], raw.parse().choices[0].message.content or ""

        kept_rows = 0
        for cached, near in (
            ("How do I reset my password?", "How do I reset my username?"),
            ("Can my manager see my messages?", "Can I see my manager's messages?"),
            ("Show my open tickets.", "Show all open tickets."),
        ):
            assert sdk_ask(cached)[0] == "miss"
            kept_rows += 1
            kept(db, kept_rows)
            assert sdk_ask(near) == ("miss", f"Simulated reply to: {near}")
            kept_rows += 1
            kept(db, kept_rows)
        assert sdk_ask("How can I reset my password?") == (
            "semantic",
            "Simulated reply to: How do I reset my password?",
        )
    s = stats(gw)
    assert s["semantic_hits"] == 1 and s["semantic_rejected"] >= 1  # username at least: cosine ~0.9
