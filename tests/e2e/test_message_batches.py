"""``/v1/messages/batches``, Anthropic's Message Batches on the gateway's Anthropic surface, through
the real ``anthropic`` SDK against a gateway on the sim: the lifecycle (create, retrieve until
ended, results matched by custom_id, succeeded and errored lines, cost in the usage), validation at
create, list paging both ways, cancel mid-run, expiry with a line in flight, delete, tenant
isolation (and the OpenAI batches kept apart), and the lifecycle on PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import anthropic
import openai
import pytest
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse

from tests.e2e.test_batches import chat_line as openai_line
from tests.e2e.test_batches import config, tenant_key, upload, usage_of
from tests.fixtures.procs import Proc


def client(gw: Proc, key: str | None, **kw: Any) -> anthropic.Anthropic:
    creds = {} if key is None else {"api_key": key}
    return anthropic.Anthropic(base_url=gw.base_url, max_retries=0, timeout=20, **creds, **kw)


def request(custom_id: str, text: str, model: str = "gpt-4o-mini", **params: Any) -> dict[str, Any]:
    body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **params}
    return {"custom_id": custom_id, "params": body}


def wait_ended(c: anthropic.Anthropic, batch_id: str, timeout_s: float = 30) -> MessageBatch:
    deadline = time.monotonic() + timeout_s
    while (b := c.messages.batches.retrieve(batch_id)).processing_status != "ended":
        assert time.monotonic() < deadline, f"batch still {b.processing_status}: {b}"
        time.sleep(0.1)
    return b


def results(c: anthropic.Anthropic, batch_id: str) -> dict[str, MessageBatchIndividualResponse]:
    out = {r.custom_id: r for r in c.messages.batches.results(batch_id)}
    return out


def counts(b: MessageBatch) -> tuple[int, int, int, int, int]:
    n = b.request_counts
    return (n.processing, n.succeeded, n.errored, n.canceled, n.expired)


def error_of(e: anthropic.APIStatusError) -> dict[str, Any]:
    body = e.response.json()
    assert (
        set(body) == {"type", "error"}
        and body["type"] == "error"
        and set(body["error"]) == {"type", "message"}
    )
    return dict(body["error"])


def test_lifecycle_results_by_custom_id_and_cost_in_usage(gateway) -> None:
    gw = gateway(config())
    key, _ = tenant_key(gw, "acme")
    with client(gw, key) as c:
        reqs = [request(f"q-{i}", f"question {i}") for i in range(4)]
        reqs.append(request("lost", "hello", model="no-such-model"))  # valid here, a 404 when run
        b = c.messages.batches.create(requests=reqs)  # type: ignore[arg-type]
        assert b.type == "message_batch" and b.id.startswith("msgbatch_")
        assert b.processing_status == "in_progress" and counts(b) == (5, 0, 0, 0, 0)
        assert (b.expires_at - b.created_at).total_seconds() == 86_400
        assert b.ended_at is None and b.results_url is None and b.cancel_initiated_at is None
        done = wait_ended(c, b.id)
        assert counts(done) == (0, 4, 1, 0, 0)
        assert done.ended_at is not None and done.archived_at is None
        assert done.results_url == f"{gw.base_url}/v1/messages/batches/{b.id}/results"
        got = results(c, b.id)
        assert sorted(got) == sorted(["lost", *(f"q-{i}" for i in range(4))])
        for i in range(4):
            r = got[f"q-{i}"].result
            assert r.type == "succeeded", r
            assert r.message.type == "message" and r.message.role == "assistant"
            assert r.message.model == "gpt-4o-mini" and r.message.content[0].type == "text"
            assert r.message.usage.input_tokens > 0 and r.message.usage.output_tokens > 0
        lost = got["lost"].result
        assert lost.type == "errored" and lost.error.type == "error"
        assert lost.error.error.type == "not_found_error" and "no-such-model" in lost.error.error.message
        answers = [got[f"q-{i}"].result for i in range(4)]
        row = usage_of(gw, "acme", 5)  # every line once: the four answers and the 404
        assert row["input_tokens"] == sum(a.message.usage.input_tokens for a in answers)  # type: ignore[union-attr]
        assert row["output_tokens"] == sum(a.message.usage.output_tokens for a in answers)  # type: ignore[union-attr]
        assert row["cost_micros"] > 0 and row["errors"] == 1
        with pytest.raises(anthropic.ConflictError) as e:  # ended: no cancel
            c.messages.batches.cancel(b.id)
        assert error_of(e.value)["type"] == "invalid_request_error"
        deleted = c.messages.batches.delete(b.id)
        assert (deleted.id, deleted.type) == (b.id, "message_batch_deleted")
        with pytest.raises(anthropic.NotFoundError) as nf:
            c.messages.batches.retrieve(b.id)
        assert error_of(nf.value)["type"] == "not_found_error"


def test_validation_errors_name_the_request_and_store_nothing(gateway) -> None:
    gw = gateway(config(max_lines=3))
    key, _ = tenant_key(gw, "acme")
    good = request("ok", "x")
    bad_cases: list[tuple[Any, str]] = [
        ([good, {"custom_id": "has space", "params": good["params"]}], "requests.1.custom_id"),
        ([good, {"custom_id": "x" * 65, "params": good["params"]}], "requests.1.custom_id"),
        ([good, good], "requests.1.custom_id"),
        (
            [good, request("b", "y"), {"custom_id": "c", "params": {"model": "gpt-4o-mini", "messages": []}}],
            "requests.2.params",
        ),
        ([good, request("s", "y", stream=True)], "requests.1.params.stream"),
        ([good, request("t", "y", temperature="hot")], "requests.1.params.temperature"),
        ([good, {"custom_id": "u", "params": good["params"], "extra": 1}], "extra"),
        ([], "requests"),
        ([request(f"n-{i}", "x") for i in range(4)], "at most 3"),
    ]
    with client(gw, key) as c:
        for reqs, says in bad_cases:
            with pytest.raises(anthropic.BadRequestError) as e:
                c.messages.batches.create(requests=reqs)
            err = error_of(e.value)
            assert err["type"] == "invalid_request_error" and says in err["message"], (reqs, err)
        with pytest.raises(anthropic.BadRequestError) as e:
            c.post("/v1/messages/batches", content=b"{not json", cast_to=object)
        assert error_of(e.value)["type"] == "invalid_request_error"
        with pytest.raises(anthropic.BadRequestError) as e:
            c.messages.batches.list(limit=0)
        assert "limit" in error_of(e.value)["message"]
        with pytest.raises(anthropic.BadRequestError):
            c.messages.batches.list(after_id="msgbatch_nope")
        assert c.messages.batches.list().data == []  # nothing was stored
    with client(gw, "sk-wrong") as nobody, pytest.raises(anthropic.AuthenticationError) as e:
        nobody.messages.batches.list()
    assert error_of(e.value)["type"] == "authentication_error"


def test_list_pages_newest_first_both_ways_and_bearer_auth(gateway) -> None:
    gw = gateway(config())
    key, _ = tenant_key(gw, "acme")
    with client(gw, None, auth_token=key) as c:  # Authorization: Bearer, as the SDK's auth_token sends it
        made = [c.messages.batches.create(requests=[request("only", f"x {i}")]).id for i in range(5)]  # type: ignore[list-item]
        newest_first = made[::-1]
        page = c.messages.batches.list(limit=2)
        assert [b.id for b in page.data] == newest_first[:2]
        assert (page.has_more, page.first_id, page.last_id) == (True, newest_first[0], newest_first[1])
        assert [b.id for b in c.messages.batches.list(limit=2)] == newest_first  # the SDK pages on after_id
        last = c.messages.batches.list(limit=2, after_id=newest_first[3])
        assert [b.id for b in last.data] == newest_first[4:] and last.has_more is False
        before = c.messages.batches.list(limit=2, before_id=newest_first[3])
        assert [b.id for b in before.data] == newest_first[1:3] and before.has_more is True
        top = c.messages.batches.list(limit=2, before_id=newest_first[1])
        assert [b.id for b in top.data] == newest_first[:1] and top.has_more is False


def test_cancel_mid_run_cancels_the_requests_not_started(gateway) -> None:
    gw = gateway(config({"latency_ms": 300}, tenant_concurrency=1))
    key, _ = tenant_key(gw, "acme")
    with client(gw, key) as c:
        b = c.messages.batches.create(requests=[request(f"c-{i}", f"q {i}") for i in range(12)])  # type: ignore[misc]
        deadline = time.monotonic() + 20
        while c.messages.batches.retrieve(b.id).request_counts.succeeded < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(anthropic.ConflictError):  # live: cancel it first
            c.messages.batches.delete(b.id)
        cancelling = c.messages.batches.cancel(b.id)
        assert cancelling.processing_status == "canceling" and cancelling.cancel_initiated_at is not None
        assert c.messages.batches.cancel(b.id).processing_status in ("canceling", "ended")  # idempotent
        done = wait_ended(c, b.id)
        processing, succeeded, errored, canceled, expired = counts(done)
        assert (processing, errored, expired) == (0, 0, 0) and succeeded >= 2 and canceled >= 1
        assert succeeded + canceled == 12
        got = results(c, b.id)
        assert sorted(got) == sorted(f"c-{i}" for i in range(12))
        kinds = [got[f"c-{i}"].result.type for i in range(12)]
        assert kinds == ["succeeded"] * succeeded + ["canceled"] * canceled  # one at a time, in order
        usage_of(gw, "acme", succeeded)  # a cancelled request costs nothing


def test_expiry_lets_the_request_in_flight_finish_and_expires_the_rest(gateway) -> None:
    """The window (3 s here) passes while the first request (4 s of latency) runs: it finishes and
    keeps its answer (and its charge); the two never started expire."""
    gw = gateway(config({"latency_ms": 4000}, window_s=3, tenant_concurrency=1))
    key, _ = tenant_key(gw, "acme")
    with client(gw, key) as c:
        b = c.messages.batches.create(requests=[request(f"x-{i}", f"q {i}") for i in range(3)])  # type: ignore[misc]
        done = wait_ended(c, b.id)
        assert counts(done) == (0, 1, 0, 0, 2)
        got = results(c, b.id)
        assert [got[f"x-{i}"].result.type for i in range(3)] == ["succeeded", "expired", "expired"]
        row = usage_of(gw, "acme", 1)
        answer = got["x-0"].result
        assert answer.type == "succeeded" and row["output_tokens"] == answer.message.usage.output_tokens


def test_tenant_isolation_and_openai_batches_apart(gateway) -> None:
    gw = gateway(config())
    a_key, _ = tenant_key(gw, "acme")
    b_key, _ = tenant_key(gw, "other")
    with client(gw, a_key) as a, client(gw, b_key) as other:
        mine = a.messages.batches.create(requests=[request("one", "x")])  # type: ignore[list-item]
        wait_ended(a, mine.id)
        calls = [
            lambda: other.messages.batches.retrieve(mine.id),
            lambda: other.messages.batches.cancel(mine.id),
            lambda: other.messages.batches.delete(mine.id),
            lambda: other.get(f"/v1/messages/batches/{mine.id}/results", cast_to=object),
        ]
        for go in calls:
            with pytest.raises(anthropic.NotFoundError) as e:
                go()
            assert error_of(e.value)["type"] == "not_found_error"
        assert other.messages.batches.list().data == []
        with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=a_key, max_retries=0, timeout=20) as oc:
            ob = oc.batches.create(
                input_file_id=upload(oc, [openai_line("o", "x")]),
                endpoint="/v1/chat/completions",
                completion_window="24h",
            )
            with pytest.raises(openai.NotFoundError):  # an Anthropic batch is no OpenAI batch
                oc.batches.retrieve(mine.id)
            assert [x.id for x in oc.batches.list()] == [ob.id]
        with pytest.raises(anthropic.NotFoundError):  # and the other way round
            a.messages.batches.retrieve(ob.id)
        with pytest.raises(anthropic.NotFoundError):
            a.post(f"/v1/messages/batches/{ob.id}/cancel", cast_to=object)
        assert [x.id for x in a.messages.batches.list()] == [mine.id]


def test_lifecycle_on_postgres(gateway, postgres_clean: str, redis_clean: str) -> None:
    cfg = config({"latency_ms": 50})
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with client(gw, key) as c:
        reqs = [request(f"p-{i}", f"q {i}") for i in range(6)] + [request("bad", "x", model="nope")]
        b = c.messages.batches.create(requests=reqs)  # type: ignore[arg-type]
        done = wait_ended(c, b.id)
        assert counts(done) == (0, 6, 1, 0, 0)
        got = results(c, b.id)
        assert {k: v.result.type for k, v in got.items()} == {
            **{f"p-{i}": "succeeded" for i in range(6)},
            "bad": "errored",
        }
        usage_of(gw, "acme", 7)
        slow = c.messages.batches.create(requests=[request(f"z-{i}", "x") for i in range(40)])  # type: ignore[misc]
        c.messages.batches.cancel(slow.id)
        ended = wait_ended(c, slow.id)
        assert ended.request_counts.canceled + ended.request_counts.succeeded == 40
        assert [x.id for x in c.messages.batches.list()] == [slow.id, b.id]
        assert c.messages.batches.delete(b.id).id == b.id
        assert [x.id for x in c.messages.batches.list()] == [slow.id]
