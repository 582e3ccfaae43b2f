"""``/v1/batches`` run by the gateway itself, through the real ``openai`` SDK: the whole
lifecycle on SQLite and PostgreSQL, validation failures with line numbers, cancel mid-run,
expiry, a key revoked mid-batch, tenant isolation, batch cost in the usage, and a gateway killed
with SIGKILL mid-batch that loses no line and finishes none twice."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import redis
from openai.types import Batch

from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, SLUICE, Proc

ADMIN = "sk-admin-batches"
AH = {"authorization": f"Bearer {ADMIN}"}
CHAT = "/v1/chat/completions"


def config(sim: dict[str, Any] | None = None, **batches: Any) -> dict[str, Any]:
    cfg = sim_config(**(sim or {}))
    cfg["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    cfg["pricing"] = {"sim-mini": {"input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}}
    cfg["request_log"] = {"flush_ms": 20}
    cfg["batches"] = {"poll_s": 0.2, **batches}
    return cfg


def sdk(gw: Proc, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=20)


def tenant_key(gw: Proc, tenant: str) -> tuple[str, str]:
    """A new key of ``tenant`` (made if need be): (key, key id)."""
    if call("GET", f"{gw.base_url}/admin/tenants/{tenant}", headers=AH).status == 404:
        assert call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, AH).status == 201
    reply = call("POST", f"{gw.base_url}/admin/tenants/{tenant}/keys", {"name": "k"}, AH)
    assert reply.status == 201, reply.body
    return str(reply.json()["key"]), str(reply.json()["id"])


def chat_line(custom_id: str, text: str, url: str = CHAT, **more: Any) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **more}
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)


def upload(c: openai.OpenAI, lines: list[Any]) -> str:
    return c.files.create(file=("in.jsonl", jsonl(lines), "application/jsonl"), purpose="batch").id


def wait(c: openai.OpenAI, batch_id: str, statuses: set[str], timeout_s: float = 30) -> Batch:
    deadline = time.monotonic() + timeout_s
    while True:
        b = c.batches.retrieve(batch_id)
        if b.status in statuses:
            return b
        assert time.monotonic() < deadline, f"batch still {b.status}: {b}"
        time.sleep(0.1)


def lines_of(c: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(x) for x in c.files.content(file_id).text.splitlines()]


def error_of(e: openai.APIStatusError) -> dict[str, Any]:
    body = e.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


def test_lifecycle_results_by_custom_id_and_cost_in_usage(gateway) -> None:
    gw = gateway(config())
    key, key_id = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        file_id = upload(c, [chat_line(f"q-{i}", f"question {i}") for i in range(5)])
        b = c.batches.create(
            input_file_id=file_id, endpoint=CHAT, completion_window="24h", metadata={"job": "nightly"}
        )
        assert (b.object, b.status, b.endpoint, b.input_file_id) == ("batch", "validating", CHAT, file_id)
        assert b.id.startswith("batch_") and b.metadata == {"job": "nightly"}
        assert b.expires_at == b.created_at + 86_400
        done = wait(c, b.id, {"completed", "failed"})
        assert done.status == "completed", done
        assert done.request_counts is not None
        assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (
            5,
            5,
            0,
        )
        assert done.model == "gpt-4o-mini" and done.error_file_id is None
        assert done.in_progress_at and done.finalizing_at and done.completed_at
        assert done.usage is not None and done.usage.input_tokens > 0 and done.usage.output_tokens > 0
        out = lines_of(c, done.output_file_id)
        assert [x["custom_id"] for x in out] == [f"q-{i}" for i in range(5)]
        for i, x in enumerate(out):
            assert x["id"].startswith("batch_req_") and x["error"] is None
            assert x["response"]["status_code"] == 200 and x["response"]["request_id"].startswith("req_")
            assert x["response"]["body"]["object"] == "chat.completion"
            assert f"question {i}" in json.dumps(x["response"]["body"]) or x["response"]["body"]["choices"]
        f = c.files.retrieve(done.output_file_id or "")
        assert f.purpose == "batch_output" and f.filename == f"{b.id}_output.jsonl"

        emb = upload(
            c,
            [
                {
                    "custom_id": f"e-{i}",
                    "method": "POST",
                    "url": "/v1/embeddings",
                    "body": {"model": "text-embedding-3-small", "input": f"text {i}"},
                }
                for i in range(2)
            ],
        )
        eb = c.batches.create(input_file_id=emb, endpoint="/v1/embeddings", completion_window="24h")
        edone = wait(c, eb.id, {"completed", "failed"})
        assert edone.status == "completed"
        vectors = lines_of(c, edone.output_file_id)
        assert [x["response"]["body"]["object"] for x in vectors] == ["list", "list"]
        assert [x.id for x in c.batches.list()] == [eb.id, b.id]  # newest first
        page = c.batches.list(limit=1)
        assert [x.id for x in page.data] == [eb.id] and page.has_more
        assert [x.id for x in c.batches.list(limit=1, after=eb.id).data] == [b.id]

    deadline = time.monotonic() + 10
    while True:
        usage = call("GET", gw.base_url + "/admin/usage?group_by=tenant,key", headers=AH).json()
        rows = [r for r in usage["data"] if r["tenant"] == "acme" and r["key"] == key_id]
        if rows and rows[0]["requests"] == 7:
            break
        assert time.monotonic() < deadline, usage
        time.sleep(0.1)
    assert rows[0]["cost_micros"] > 0 and rows[0]["input_tokens"] >= done.usage.input_tokens


def test_validation_fails_with_line_numbers_and_nothing_runs(gateway) -> None:
    gw = gateway(config())
    key, _ = tenant_key(gw, "acme")
    bad = [
        chat_line("ok", "fine"),
        b'{"custom_id": "x", "method": "POST"',  # not JSON: refused at upload, so sent valid below
        chat_line("u", "wrong url", url="/v1/embeddings"),
        chat_line("ok", "same custom_id"),
        {
            "custom_id": "empty",
            "method": "POST",
            "url": CHAT,
            "body": {"model": "gpt-4o-mini", "messages": []},
        },
        {**chat_line("g", "get"), "method": "GET"},
        chat_line("s", "streamed", stream=True),
        {
            **chat_line("m", "other model"),
            "body": {"model": "other", "messages": [{"role": "user", "content": "x"}]},
        },
    ]
    bad[1] = {"custom_id": 7, "method": "POST", "url": CHAT, "body": {}}
    with sdk(gw, key) as c:
        b = c.batches.create(input_file_id=upload(c, bad), endpoint=CHAT, completion_window="24h")
        failed = wait(c, b.id, {"failed", "completed"})
        assert failed.status == "failed" and failed.failed_at is not None
        assert failed.errors is not None and failed.errors.data is not None
        got = [(e.line, e.code, e.param) for e in failed.errors.data]
        assert got == [
            (2, "invalid_custom_id", "custom_id"),
            (3, "invalid_url", "url"),
            (4, "duplicate_custom_id", "custom_id"),
            (5, "invalid_request", "body.messages"),
            (6, "invalid_method", "method"),
            (7, "invalid_request", "body.stream"),
            (8, "mismatched_model", "body.model"),
        ], got
        assert failed.request_counts is not None and failed.request_counts.total == 0
        assert failed.output_file_id is None and failed.error_file_id is None

        # Refused at once, as OpenAI does.
        notes = c.files.create(file=("n.md", b"# hi\n", "text/markdown"), purpose="assistants").id
        good = upload(c, [chat_line("a", "x")])
        cases: list[tuple[dict[str, Any], int, str | None]] = [
            ({"input_file_id": "file-missing", "endpoint": CHAT}, 404, "input_file_id"),
            ({"input_file_id": notes, "endpoint": CHAT}, 400, "input_file_id"),
            ({"input_file_id": good, "endpoint": "/v1/images/generations"}, 400, "endpoint"),
            ({"input_file_id": good, "endpoint": CHAT, "completion_window": "1h"}, 400, "completion_window"),
            (
                {"input_file_id": good, "endpoint": CHAT, "metadata": {str(i): "v" for i in range(17)}},
                400,
                "metadata",
            ),
        ]
        for args, status, param in cases:
            with pytest.raises(openai.APIStatusError) as e:
                c.batches.create(**{"completion_window": "24h", **args})  # type: ignore[arg-type]
            assert (e.value.status_code, error_of(e.value)["param"]) == (status, param), args


def test_tenant_isolation(gateway) -> None:
    gw = gateway(config())
    acme, _ = tenant_key(gw, "acme")
    globex, _ = tenant_key(gw, "globex")
    with sdk(gw, acme) as a, sdk(gw, globex) as g:
        file_id = upload(a, [chat_line("a", "x")])
        b = a.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
        for op in (lambda: g.batches.retrieve(b.id), lambda: g.batches.cancel(b.id)):
            with pytest.raises(openai.NotFoundError) as e:
                op()
            assert error_of(e.value)["param"] == "batch_id"
        assert g.batches.list().data == []
        with pytest.raises(openai.NotFoundError) as e:
            g.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
        assert error_of(e.value)["param"] == "input_file_id"
        done = wait(a, b.id, {"completed"})
        with pytest.raises(openai.NotFoundError):
            g.files.content(done.output_file_id or "")
        with pytest.raises(openai.APIStatusError) as e2:
            a.batches.cancel(b.id)  # finished: nothing to cancel
        assert e2.value.status_code == 409


def test_cancel_mid_run_keeps_what_finished(gateway) -> None:
    gw = gateway(config({"latency_ms": 300}, tenant_concurrency=2))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"c-{i}", f"q {i}") for i in range(12)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        deadline = time.monotonic() + 20
        while (c.batches.retrieve(b.id).request_counts or Batch).completed < 2:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cancelling = c.batches.cancel(b.id)
        assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
        done = wait(c, b.id, {"cancelled"})
        assert done.cancelled_at is not None and done.request_counts is not None
        out = lines_of(c, done.output_file_id)
        ids = [x["custom_id"] for x in out]
        assert len(ids) == len(set(ids)) == done.request_counts.completed
        assert 2 <= len(ids) < 12  # the lines in flight finished; no new one started


def test_expiry_reports_lines_not_run(gateway) -> None:
    gw = gateway(config({"latency_ms": 300}, window_s=3, tenant_concurrency=1))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"x-{i}", f"q {i}") for i in range(20)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        done = wait(c, b.id, {"expired", "completed"})
        assert done.status == "expired" and done.expired_at is not None
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        assert sorted(x["custom_id"] for x in out + err) == sorted(f"x-{i}" for i in range(20))
        assert 1 <= len(out) < 20
        assert all(x["response"] is None and x["error"]["code"] == "batch_expired" for x in err)
        counts = done.request_counts
        assert counts is not None and (counts.completed, counts.failed) == (len(out), len(err))


def test_a_line_in_flight_when_the_window_passes_finishes_and_keeps_its_answer(gateway) -> None:
    """The window (3 s) passes while the first line (4 s of latency) runs: it finishes, its answer
    is in the output file and its cost in the usage once; only the lines never started expire."""
    gw = gateway(config({"latency_ms": 4000}, window_s=3, tenant_concurrency=1))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"w-{i}", f"q {i}") for i in range(3)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        done = wait(c, b.id, {"expired", "completed"})
        assert done.status == "expired" and done.request_counts is not None
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        assert [x["custom_id"] for x in out] == ["w-0"] and out[0]["response"]["status_code"] == 200
        assert [(x["custom_id"], x["error"]["code"]) for x in err] == [
            ("w-1", "batch_expired"),
            ("w-2", "batch_expired"),
        ]
        assert (done.request_counts.completed, done.request_counts.failed) == (1, 2)
        row = usage_of(gw, "acme", 1)
        assert (row["input_tokens"], row["output_tokens"]) == charged(out) and row["cost_micros"] > 0


def test_a_key_revoked_mid_batch_fails_the_remaining_lines(gateway) -> None:
    gw = gateway(config({"latency_ms": 300}, tenant_concurrency=1))
    key, key_id = tenant_key(gw, "acme")
    watcher, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c, sdk(gw, watcher) as w:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"r-{i}", f"q {i}") for i in range(8)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        deadline = time.monotonic() + 20
        while (w.batches.retrieve(b.id).request_counts or Batch).completed < 1:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert call("DELETE", f"{gw.base_url}/admin/tenants/acme/keys/{key_id}", headers=AH).status == 200
        done = wait(w, b.id, {"completed"})
        err = lines_of(w, done.error_file_id)
        assert err and all(x["response"]["status_code"] == 401 for x in err)
        assert all(x["response"]["body"]["error"]["code"] == "invalid_api_key" for x in err)
        assert len(lines_of(w, done.output_file_id)) + len(err) == 8


def usage_of(gw: Proc, tenant: str, requests: int) -> dict[str, Any]:
    """The tenant's row of /admin/usage once it counts ``requests`` (the lines' rows are written
    with their results, so at the batch's end they are all there)."""
    usage = call("GET", gw.base_url + "/admin/usage?group_by=tenant", headers=AH).json()
    rows = [r for r in usage["data"] if r["tenant"] == tenant]
    assert rows and rows[0]["requests"] == requests, usage
    return dict(rows[0])


def charged(out: list[dict[str, Any]]) -> tuple[int, int]:
    """The input and output tokens the output file's answers used: what one charge per line is."""
    return (
        sum(x["response"]["body"]["usage"]["prompt_tokens"] for x in out),
        sum(x["response"]["body"]["usage"]["completion_tokens"] for x in out),
    )


def test_sigkill_mid_batch_loses_no_line_and_finishes_none_twice(gateway, tmp_path: Path) -> None:
    cfg = config({"latency_ms": 400}, tenant_concurrency=4, lease_s=1.0)
    cfg["state"] = {"sqlite_path": str(tmp_path / "batches.db")}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    n = 24
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"k-{i}", f"q {i}") for i in range(n)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        deadline = time.monotonic() + 20
        while (c.batches.retrieve(b.id).request_counts or Batch).completed < 4:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.05)
    gw.popen.kill()  # SIGKILL: lines in flight, their claims held
    gw.popen.wait(10)
    before = c.batches  # noqa: F841  # the client is closed; a new one talks to the restarted gateway
    again = gateway(cfg)
    with sdk(again, key) as c2:
        mid = c2.batches.retrieve(b.id)
        assert mid.status == "in_progress" and mid.request_counts is not None
        assert mid.request_counts.completed < n
        done = wait(c2, b.id, {"completed"}, timeout_s=60)
        out, err = lines_of(c2, done.output_file_id), lines_of(c2, done.error_file_id)
        ids = [x["custom_id"] for x in out + err]
        assert sorted(ids) == sorted(f"k-{i}" for i in range(n))  # every line exactly once
        counts = done.request_counts
        assert counts is not None and (counts.total, counts.completed + counts.failed) == (n, n)
        assert counts.completed == len(out) == n
    # Charged once per line: one request-log row each (written with the result, so neither lost
    # with the killed process's queue nor doubled by a re-run), its tokens those of the answers.
    row = usage_of(again, "acme", n)
    assert (row["input_tokens"], row["output_tokens"]) == charged(out)
    assert row["cost_micros"] > 0


def test_lifecycle_on_postgres(gateway, postgres_clean: str, redis_clean: str) -> None:
    cfg = config({"latency_ms": 50})
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        lines = [chat_line(f"p-{i}", f"q {i}") for i in range(6)]
        b = c.batches.create(input_file_id=upload(c, lines), endpoint=CHAT, completion_window="24h")
        done = wait(c, b.id, {"completed", "failed"})
        assert done.status == "completed" and done.request_counts is not None
        assert (done.request_counts.total, done.request_counts.completed) == (6, 6)
        assert [x["custom_id"] for x in lines_of(c, done.output_file_id)] == [f"p-{i}" for i in range(6)]
        bad = c.batches.create(
            input_file_id=upload(c, [chat_line("a", "x"), chat_line("a", "y")]),
            endpoint=CHAT,
            completion_window="24h",
        )
        failed = wait(c, bad.id, {"failed", "completed"})
        assert failed.errors is not None and failed.errors.data is not None
        assert [(e.line, e.code) for e in failed.errors.data] == [(2, "duplicate_custom_id")]
        cancelled = c.batches.create(
            input_file_id=upload(c, [chat_line(f"z-{i}", "x") for i in range(40)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        c.batches.cancel(cancelled.id)
        assert wait(c, cancelled.id, {"cancelled"}).request_counts is not None
        assert [x.id for x in c.batches.list()] == [cancelled.id, bad.id, b.id]


class Workers:
    """``sluice worker`` processes on a gateway's config file, stopped by PID after the test."""

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self.procs: list[Proc] = []

    def start(self, gw: Proc) -> Proc:
        config_path = gw.log_path.with_suffix(".yaml")  # the gateway fixture's file, beside its log
        log_path = self._tmp / f"worker-{len(self.procs)}.log"
        log = open(log_path, "wb")
        popen = subprocess.Popen(
            [*SLUICE, "worker", "--config", str(config_path)], stdout=log, stderr=subprocess.STDOUT, cwd=REPO
        )
        proc = Proc(popen, "", log_path, log)
        self.procs.append(proc)
        return proc


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    w = Workers(tmp_path)
    yield w
    for p in w.procs:
        p.stop()


def budget_spent(redis_url: str, tenant: str) -> int:
    """The tenant-wide budget counters' micro-dollars in the Redis ledger (every period)."""
    with redis.Redis.from_url(redis_url, socket_timeout=5) as r:
        keys = list(r.scan_iter(f"sluice:budget:{tenant}:tenant:*"))
        return sum(int(r.hget(k, "c") or 0) for k in keys)


def test_sluice_worker_runs_batches_of_a_gateway_without_workers_and_a_sigkill_charges_no_line_twice(
    gateway, workers: Workers, postgres_clean: str, redis_clean: str
) -> None:
    """A gateway with ``batches.workers: false`` takes the batch and runs none of it; ``sluice
    worker`` processes on procrastinate run it. One is killed with SIGKILL while it holds the
    batch's job with lines in flight: another hands the stalled job back (procrastinate's
    heartbeats) and finishes it. Every custom_id is in the files once, the counts add up, and
    the tenant is charged once per line, in the usage and in the Redis budget ledger alike."""
    cfg = config({"latency_ms": 400}, tenant_concurrency=4, lease_s=1.0, heartbeat_s=0.3, workers=False)
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    put = call(
        "PUT", gw.base_url + "/admin/tenants/acme/budgets", {"period": "day", "max_cost_micros": 10**9}, AH
    )
    assert put.status == 200, put.body
    n = 24
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"k-{i}", f"q {i}") for i in range(n)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        time.sleep(1.0)  # five of the gateway's polls: it runs no worker
        assert c.batches.retrieve(b.id).status == "validating"
        first = workers.start(gw)
        deadline = time.monotonic() + 30
        while (c.batches.retrieve(b.id).request_counts or Batch).completed < 4:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, first.log()
            assert first.popen.poll() is None, first.log()
            time.sleep(0.05)
        first.popen.kill()  # SIGKILL: its job held, four lines in flight
        first.popen.wait(10)
        mid = c.batches.retrieve(b.id)
        assert mid.status == "in_progress" and (mid.request_counts or Batch).completed < n  # type: ignore[union-attr]
        second = workers.start(gw)
        done = wait(c, b.id, {"completed", "failed"}, timeout_s=60)
        assert done.status == "completed", second.log()
        out, err = lines_of(c, done.output_file_id), lines_of(c, done.error_file_id)
        ids = [x["custom_id"] for x in out + err]
        assert sorted(ids) == sorted(f"k-{i}" for i in range(n))  # every line exactly once
        counts = done.request_counts
        assert counts is not None and (counts.total, counts.completed, counts.failed) == (n, n, 0)
    row = usage_of(gw, "acme", n)
    assert (row["input_tokens"], row["output_tokens"]) == charged(out)
    assert row["cost_micros"] > 0
    assert budget_spent(redis_clean, "acme") == row["cost_micros"]
    assert second.stop() == 0  # SIGTERM: a clean drain


def test_sluice_worker_at_worker_nice_runs_the_batches_of_a_sqlite_gateway_without_workers(
    gateway, workers: Workers
) -> None:
    """``batches.worker_nice``: ``sluice worker`` lowers its own priority by it at startup (the
    gateway, on the same config, does not), and runs the batch of a gateway without workers that
    shares its SQLite file."""
    gw = gateway(config(workers=False, worker_nice=7))
    key, _ = tenant_key(gw, "acme")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"n-{i}", f"q {i}") for i in range(6)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        time.sleep(0.6)  # three of the gateway's polls: it runs no worker
        assert c.batches.retrieve(b.id).status == "validating"
        w = workers.start(gw)
        done = wait(c, b.id, {"completed", "failed"}, timeout_s=60)
        assert done.status == "completed", w.log()
        counts = done.request_counts
        assert counts is not None and (counts.total, counts.completed, counts.failed) == (6, 6, 0)
        assert sorted(x["custom_id"] for x in lines_of(c, done.output_file_id)) == [
            f"n-{i}" for i in range(6)
        ]
        assert nice_of(w.popen.pid) == min(19, base + 7)
        assert nice_of(gw.popen.pid) == base
    assert w.stop() == 0  # SIGTERM: a clean drain


def nice_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])  # field 19
