"""Batches forwarded to the provider's own batch API (``batch: native``), through the real
``openai`` SDK against the gateway, the gateway against a loopback upstream that implements
OpenAI's Batch API and Anthropic's Message Batches API (tests/fixtures/batch_upstream.py): the
whole lifecycle for both, ids and model names mapped back, the discounted cost in
``/admin/usage``, cancel forwarded, an upstream failure or expiry mapped to the batch, polling
picked up by a restarted gateway, and tenant isolation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types import Batch

from tests.e2e.test_batches import ADMIN, AH, CHAT, lines_of, sdk, tenant_key, upload, wait
from tests.fixtures.batch_upstream import IN, OUT, BatchUpstream
from tests.fixtures.clock import clear_of_utc_midnight
from tests.fixtures.http import call
from tests.fixtures.procs import Proc, free_port

PRICE_IN, PRICE_OUT = 2.0, 8.0
LINE_COST = int((IN * PRICE_IN + OUT * PRICE_OUT) * 0.5)
"""One answered line: 10 input and 5 output tokens at half the list price, in micro-dollars."""
UPSTREAM_KEY = "sk-upstream-secret"


@pytest.fixture
def upstream() -> Iterator[BatchUpstream]:
    up = BatchUpstream(polls=3)
    yield up
    up.stop()


def config(up: BatchUpstream, **batches: Any) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": "sk-static", "name": "static"}]},
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "providers": {
            "oa": {
                "type": "openai",
                "base_url": f"{up.base_url}/v1",
                "api_key": UPSTREAM_KEY,
                "batch": "native",
            },
            "an": {"type": "anthropic", "base_url": up.base_url, "api_key": UPSTREAM_KEY, "batch": "native"},
        },
        "models": {
            "gpt-4o-mini": {"deployments": [{"provider": "oa", "model": "up-gpt"}]},
            "text-embedding-3-small": {
                "kind": "embedding",
                "deployments": [{"provider": "oa", "model": "up-embed"}],
            },
            "claude": {"deployments": [{"provider": "an", "model": "up-claude"}]},
        },
        "pricing": {
            m: {"input_usd_per_mtok": PRICE_IN, "output_usd_per_mtok": PRICE_OUT}
            for m in ("up-gpt", "up-claude", "up-embed")
        },
        "request_log": {"flush_ms": 20},
        "logging": {"level": "warning"},
        "batches": {"poll_s": 0.1, "native_poll_s": 0.1, "native_poll_max_s": 0.3, **batches},
    }


def line(custom_id: str, text: str, model: str = "gpt-4o-mini", **more: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **more}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def usage_of(gw: Proc, tenant: str, requests: int) -> dict[str, Any]:
    """The tenant's usage row once it counts ``requests`` (the request log is written in batches)."""
    deadline = time.monotonic() + 10
    while True:
        data = call("GET", gw.base_url + "/admin/usage?group_by=tenant,key", headers=AH).json()["data"]
        rows = [r for r in data if r["tenant"] == tenant]
        if rows and sum(r["requests"] for r in rows) >= requests:
            assert len(rows) == 1, rows
            return dict(rows[0])
        assert time.monotonic() < deadline, data
        time.sleep(0.1)


def test_openai_lifecycle_rewrites_lines_maps_results_back_and_charges_the_discount(
    gateway, upstream
) -> None:
    gw = gateway(config(upstream))
    key, key_id = tenant_key(gw, "acme")
    other, _ = tenant_key(gw, "globex")
    lines = [
        line("q/1 with spaces", "first", sluice={"cache": "no-store"}),
        line("q-2", "second", max_tokens=50),
        line("q-3", "this one is BAD"),
    ]
    with sdk(gw, key) as c:
        b = c.batches.create(input_file_id=upload(c, lines), endpoint=CHAT, completion_window="24h")
        running = wait(c, b.id, {"in_progress", "completed", "failed"})
        assert running.status == "in_progress", running
        done = wait(c, b.id, {"completed", "failed", "expired", "cancelled"})
        assert done.status == "completed", done
        assert done.model == "gpt-4o-mini" and done.request_counts is not None
        assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (
            3,
            2,
            1,
        )
        assert done.usage is not None and (done.usage.input_tokens, done.usage.output_tokens) == (
            2 * IN,
            2 * OUT,
        )
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        assert [x["custom_id"] for x in out] == ["q/1 with spaces", "q-2"]  # file order, not the upstream's
        for x in out:
            body = x["response"]["body"]
            assert x["response"]["status_code"] == 200 and x["response"]["request_id"].startswith("req_")
            assert body["model"] == "gpt-4o-mini"  # the alias the client used, not up-gpt
            assert body["object"] == "chat.completion" and body["choices"][0]["message"][
                "content"
            ].startswith("Reply to:")
        assert [x["custom_id"] for x in err] == ["q-3"]
        assert err[0]["response"]["status_code"] == 400
        assert err[0]["response"]["body"]["error"]["message"] == "Bad request upstream"

        # Another tenant sees none of it.
        with sdk(gw, other) as o:
            with pytest.raises(openai.NotFoundError):
                o.batches.retrieve(b.id)
            with pytest.raises(openai.NotFoundError):
                o.batches.cancel(b.id)
            assert o.batches.list().data == []

    # What went upstream: one file, the interactive call's bodies (upstream model, no sluice options).
    assert len(upstream.creates) == 1 and len(upstream.uploads) == 1
    create = upstream.creates[0]
    assert create["endpoint"] == CHAT and create["completion_window"] == "24h"
    assert create["metadata"] == {"sluice_batch_id": b.id}
    sent = [json.loads(x) for x in next(iter(upstream.uploads.values())).splitlines()]
    assert [x["custom_id"] for x in sent] == ["q/1 with spaces", "q-2", "q-3"]
    assert all(x["method"] == "POST" and x["url"] == CHAT for x in sent)
    assert all(x["body"]["model"] == "up-gpt" and "sluice" not in x["body"] for x in sent)
    assert sent[1]["body"]["max_tokens"] == 50
    assert all(h.get("authorization") == f"Bearer {UPSTREAM_KEY}" for h in upstream.headers)

    row = usage_of(gw, "acme", 3)
    assert row["key"] == key_id and row["requests"] == 3
    assert row["cost_micros"] == 2 * LINE_COST  # half the list price; the error line costs nothing
    assert (row["input_tokens"], row["output_tokens"]) == (2 * IN, 2 * OUT)
    assert UPSTREAM_KEY not in gw.log()


def test_anthropic_lifecycle_translates_both_ways(gateway, upstream) -> None:
    gw = gateway(config(upstream))
    key, _ = tenant_key(gw, "acme")
    lines = [
        line("a b/1", "hello", model="claude", max_tokens=64),
        line("ok-2", "there", model="claude"),
        line("bad-3", "BAD one", model="claude"),
        line("n-4", "two answers", model="claude", n=2),  # Anthropic has no n: refused, never sent
    ]
    with sdk(gw, key) as c:
        b = c.batches.create(input_file_id=upload(c, lines), endpoint=CHAT, completion_window="24h")
        done = wait(c, b.id, {"completed", "failed", "expired", "cancelled"})
        assert done.status == "completed", done
        counts = done.request_counts
        assert counts is not None and (counts.total, counts.completed, counts.failed) == (4, 2, 2)
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        assert [x["custom_id"] for x in out] == ["a b/1", "ok-2"]
        for x in out:
            body = x["response"]["body"]
            assert body["object"] == "chat.completion" and body["model"] == "claude"
            assert body["choices"][0]["message"]["content"].startswith("Reply to:")
            assert body["choices"][0]["finish_reason"] == "stop"
            assert body["usage"]["prompt_tokens"] == IN and body["usage"]["completion_tokens"] == OUT
        assert [x["custom_id"] for x in err] == ["bad-3", "n-4"]
        assert [x["response"]["status_code"] for x in err] == [400, 400]
        assert err[0]["response"]["body"]["error"]["code"] == "invalid_request_error"
        assert err[1]["response"]["body"]["error"]["param"] == "n"  # the interactive call's own 400

    (create,) = upstream.creates
    params = [r["params"] for r in create["requests"]]
    assert [r["custom_id"] for r in create["requests"]] == ["line-1", "line-2", "line-3"]
    assert all(p["model"] == "up-claude" and p["messages"][0]["role"] == "user" for p in params)
    assert params[0]["max_tokens"] == 64 and params[1]["max_tokens"] > 0 and "stream" not in params[0]
    assert all(h.get("x-api-key") == UPSTREAM_KEY and h.get("anthropic-version") for h in upstream.headers)
    assert usage_of(gw, "acme", 3)["cost_micros"] == 2 * LINE_COST


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude"])
def test_cancel_is_forwarded_and_keeps_what_the_provider_finished(gateway, upstream, model: str) -> None:
    gw = gateway(config(upstream))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        lines = [line(f"h-{i}", f"mode:hold {i}", model=model) for i in range(4)]
        b = c.batches.create(input_file_id=upload(c, lines), endpoint=CHAT, completion_window="24h")
        deadline = time.monotonic() + 20
        while not upstream.polls_seen:  # sent and polled at least once
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.batches.retrieve(b.id).status == "in_progress"
        cancelling = c.batches.cancel(b.id)
        assert cancelling.status == "cancelling"
        done = wait(c, b.id, {"cancelled", "completed", "failed", "expired"})
        assert done.status == "cancelled" and done.cancelled_at is not None, done
        assert len(upstream.cancels) == 1
        out = lines_of(c, done.output_file_id)
        assert [x["custom_id"] for x in out] == ["h-0"]  # what the provider answered before the cancel
        assert lines_of(c, done.error_file_id) == []  # lines the provider never ran are in neither file
    assert usage_of(gw, "acme", 1)["cost_micros"] == LINE_COST


def test_an_upstream_failure_fails_the_batch_with_its_errors(gateway, upstream) -> None:
    gw = gateway(config(upstream))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [line("f-1", "mode:fail"), line("f-2", "x")]),
            endpoint=CHAT,
            completion_window="24h",
        )
        failed = wait(c, b.id, {"failed", "completed"})
        assert failed.status == "failed" and failed.failed_at is not None
        assert failed.errors is not None and failed.errors.data is not None
        assert [(e.code, e.line, e.param) for e in failed.errors.data] == [
            ("invalid_request", 2, "body.model")
        ]
        assert failed.output_file_id is None and failed.error_file_id is None

        # Anthropic refuses the create itself: the batch fails with its words.
        a = c.batches.create(
            input_file_id=upload(c, [line("g-1", "mode:fail", model="claude")]),
            endpoint=CHAT,
            completion_window="24h",
        )
        afailed = wait(c, a.id, {"failed", "completed"})
        assert afailed.status == "failed" and afailed.errors is not None and afailed.errors.data
        assert "unknown model" in (afailed.errors.data[0].message or "")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude"])
def test_an_upstream_expiry_expires_the_batch(gateway, upstream, model: str) -> None:
    gw = gateway(config(upstream))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        lines = [line(f"e-{i}", f"mode:expire {i}", model=model) for i in range(3)]
        b = c.batches.create(input_file_id=upload(c, lines), endpoint=CHAT, completion_window="24h")
        done = wait(c, b.id, {"expired", "completed", "failed", "cancelled"})
        assert done.status == "expired" and done.expired_at is not None, done
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        assert [x["custom_id"] for x in out] == ["e-0"]
        assert [x["custom_id"] for x in err] == ["e-1", "e-2"]
        assert all(x["response"] is None and x["error"]["code"] == "batch_expired" for x in err)
        assert done.request_counts is not None
        assert (done.request_counts.completed, done.request_counts.failed) == (1, 2)


def test_a_restarted_gateway_goes_on_polling(gateway, tmp_path: Path) -> None:
    up = BatchUpstream(polls=8)
    try:
        cfg = config(up, lease_s=1.0)
        cfg["state"] = {"sqlite_path": str(tmp_path / "native.db")}
        gw = gateway(cfg)
        key, _ = tenant_key(gw, "acme")
        with sdk(gw, key) as c:
            b = c.batches.create(
                input_file_id=upload(c, [line(f"k-{i}", f"q {i}") for i in range(3)]),
                endpoint=CHAT,
                completion_window="24h",
            )
            deadline = time.monotonic() + 20
            while (c.batches.retrieve(b.id).request_counts or Batch).completed < 1:  # type: ignore[union-attr]
                assert time.monotonic() < deadline  # the provider's count, mapped while it runs
                time.sleep(0.05)
            mid = c.batches.retrieve(b.id)
            assert mid.status == "in_progress" and mid.request_counts is not None
            assert (mid.request_counts.total, mid.request_counts.completed) == (3, 1)
        gw.popen.kill()  # SIGKILL mid-poll
        gw.popen.wait(10)
        polled = sum(up.polls_seen.values())
        assert polled < up.polls
        again = gateway(cfg)
        with sdk(again, key) as c2:
            assert c2.batches.retrieve(b.id).status == "in_progress"
            done = wait(c2, b.id, {"completed", "failed", "expired", "cancelled"}, timeout_s=30)
            assert done.status == "completed", done
            assert [x["custom_id"] for x in lines_of(c2, done.output_file_id)] == ["k-0", "k-1", "k-2"]
        assert len(up.creates) == 1  # polled on, not sent again
        assert sum(up.polls_seen.values()) > polled
        assert usage_of(again, "acme", 3)["cost_micros"] == 3 * LINE_COST  # each line charged once
    finally:
        up.stop()


def test_embeddings_are_forwarded_and_a_gateway_run_model_is_not(gateway, upstream) -> None:
    cfg = config(upstream)
    cfg["providers"]["sim"] = {"type": "sim"}
    cfg["models"]["local"] = {"deployments": [{"provider": "sim", "model": "sim-mini"}]}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        emb = [
            {
                "custom_id": f"v-{i}",
                "method": "POST",
                "url": "/v1/embeddings",
                "body": {"model": "text-embedding-3-small", "input": f"text {i}"},
            }
            for i in range(2)
        ]
        eb = c.batches.create(
            input_file_id=upload(c, emb), endpoint="/v1/embeddings", completion_window="24h"
        )
        done = wait(c, eb.id, {"completed", "failed"})
        assert done.status == "completed", done
        vectors = lines_of(c, done.output_file_id)
        assert [x["response"]["body"]["model"] for x in vectors] == ["text-embedding-3-small"] * 2
        local = c.batches.create(
            input_file_id=upload(c, [line("l-1", "hi", model="local")]),
            endpoint=CHAT,
            completion_window="24h",
        )
        assert wait(c, local.id, {"completed", "failed"}).status == "completed"
    assert len(upstream.creates) == 1  # the sim's batch ran here
    sent = [json.loads(x) for x in next(iter(upstream.uploads.values())).splitlines()]
    assert {x["body"]["model"] for x in sent} == {"up-embed"}


def test_an_unreachable_provider_fails_the_batch_after_its_attempts(gateway, upstream) -> None:
    cfg = config(upstream, attempts=2)
    cfg["providers"]["oa"]["base_url"] = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [line("u-1", "x")]), endpoint=CHAT, completion_window="24h"
        )
        failed = wait(c, b.id, {"failed", "completed"})
        assert failed.status == "failed" and failed.errors is not None and failed.errors.data
        assert failed.errors.data[0].code == "upstream_error"
    assert usage_of_none(gw)


def usage_of_none(gw: Proc) -> bool:
    data = call("GET", gw.base_url + "/admin/usage?group_by=tenant", headers=AH).json()["data"]
    return all(r["cost_micros"] == 0 for r in data)


def test_a_spent_budget_refuses_the_batch_before_it_is_sent(gateway, upstream) -> None:
    clear_of_utc_midnight()  # the day's budget is spent, then what is left is checked
    gw = gateway(config(upstream))
    key, _ = tenant_key(gw, "acme")
    budget = {"period": "day", "max_cost_micros": LINE_COST}
    assert call("PUT", f"{gw.base_url}/admin/tenants/acme/budgets", budget, AH).status == 200
    with sdk(gw, key) as c:
        first = c.batches.create(
            input_file_id=upload(c, [line("s-1", "x")]), endpoint=CHAT, completion_window="24h"
        )
        assert wait(c, first.id, {"completed", "failed"}).status == "completed"  # spends the whole budget
        second = c.batches.create(
            input_file_id=upload(c, [line("s-2", "y")]), endpoint=CHAT, completion_window="24h"
        )
        refused = wait(c, second.id, {"failed", "completed"})
        assert refused.status == "failed" and refused.errors is not None and refused.errors.data
        assert refused.errors.data[0].code == "budget_exceeded"
    assert len(upstream.creates) == 1


def test_forwarding_on_postgres(gateway, upstream, postgres_clean: str, redis_clean: str) -> None:
    cfg = config(upstream)
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(
                c, [line("p-1", "x"), line("p-2", "BAD"), line("p-3", "y", model="gpt-4o-mini")]
            ),
            endpoint=CHAT,
            completion_window="24h",
        )
        done = wait(c, b.id, {"completed", "failed", "expired", "cancelled"})
        assert done.status == "completed" and done.request_counts is not None
        assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
        assert [x["custom_id"] for x in lines_of(c, done.output_file_id)] == ["p-1", "p-3"]
        held = c.batches.create(
            input_file_id=upload(
                c, [line("h-1", "mode:hold", model="claude"), line("h-2", "z", model="claude")]
            ),
            endpoint=CHAT,
            completion_window="24h",
        )
        deadline = time.monotonic() + 20
        while len(upstream.polls_seen) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        c.batches.cancel(held.id)
        cancelled = wait(c, held.id, {"cancelled", "completed"})
        assert cancelled.status == "cancelled"
        assert [x["custom_id"] for x in lines_of(c, cancelled.output_file_id)] == ["h-1"]
    assert usage_of(gw, "acme", 4)["cost_micros"] == 3 * LINE_COST


def test_the_gateways_own_window_cancels_upstream_and_expires_the_batch(gateway, upstream) -> None:
    gw = gateway(config(upstream, window_s=4))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        lines = [line(f"w-{i}", f"mode:hold {i}") for i in range(3)]
        b = c.batches.create(input_file_id=upload(c, lines), endpoint=CHAT, completion_window="24h")
        done = wait(c, b.id, {"expired", "cancelled", "completed", "failed"})
        assert done.status == "expired" and done.expired_at is not None, done
        assert (len(upstream.creates), len(upstream.cancels)) == (1, 1), (
            upstream.polls_seen
        )  # the provider was told
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        assert [x["custom_id"] for x in out] == ["w-0"]
        assert [(x["custom_id"], x["error"]["code"]) for x in err] == [
            ("w-1", "batch_expired"),
            ("w-2", "batch_expired"),
        ]
