"""``POST /v1/feedback`` through a real gateway: a tenant rates its own prompt requests; another
tenant's request id is the same 404 as an unknown one; bad bodies are OpenAI-style 400s."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sluice.obs.record import RequestRecord
from sluice.store.records import Feedback
from sluice.store.sqlite.store import SqliteStore
from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import Reply, call

ADMIN = "sk-admin-test-123"
ADMIN_H = {"authorization": f"Bearer {ADMIN}"}
T0 = 4_102_444_800


@pytest.fixture
def gw(gateway, tmp_path: Path):  # type: ignore[no-untyped-def]
    db = str(tmp_path / "gateway.db")
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["state"] = {"sqlite_path": db}
    return gateway(config), db


def tenant_key(base: str, tenant_id: str) -> str:
    assert call("POST", f"{base}/admin/tenants", {"id": tenant_id, "name": tenant_id}, ADMIN_H).status == 201
    return call("POST", f"{base}/admin/tenants/{tenant_id}/keys", {"name": "k"}, ADMIN_H).json()["key"]


def rate(base: str, key: str, body: object) -> Reply:
    return call("POST", f"{base}/v1/feedback", body, {"authorization": f"Bearer {key}"})


def in_store(db: str, *records: RequestRecord, read: tuple[str, str] | None = None) -> Feedback | None:
    async def run() -> Feedback | None:
        store = SqliteStore(db)
        try:
            if records:
                await store.write_requests(records)
            return await store.get_feedback(*read) if read else None
        finally:
            await store.close()

    return asyncio.run(run())


def logged(request_id: str, tenant_id: str) -> RequestRecord:
    return RequestRecord(
        request_id, T0 * 1000, "chat", 200, 5.0, tenant_id, prompt_name="support", prompt_version=1
    )


def test_only_the_tenant_that_made_the_request_may_rate_it(gw) -> None:  # type: ignore[no-untyped-def]
    proc, db = gw
    base = proc.base_url
    key_a, key_b = tenant_key(base, "t-a"), tenant_key(base, "t-b")
    in_store(db, logged("req-a", "t-a"), logged("req-b", "t-b"))

    ok = rate(base, key_a, {"request_id": "req-a", "thumbs": "up", "comment": "good", "tags": ["tone"]})
    assert ok.status == 200, ok.json()
    assert ok.json() == {"object": "feedback", "request_id": "req-a", "score": 1.0}
    assert in_store(db, read=("t-a", "req-a")) is not None

    theirs = rate(base, key_a, {"request_id": "req-b", "score": 0.0})
    unknown = rate(base, key_a, {"request_id": "req-nope", "score": 0.0})
    assert theirs.status == unknown.status == 404
    for reply in (theirs, unknown):
        err = reply.json()["error"]
        assert (err["type"], err["code"], err["param"]) == (
            "invalid_request_error",
            "request_not_found",
            "request_id",
        )
    assert in_store(db, read=("t-b", "req-b")) is None  # t-a's rating never landed on t-b's request
    assert rate(base, key_b, {"request_id": "req-a", "score": 0.0}).status == 404
    assert in_store(db, read=("t-a", "req-a")).score == 1.0  # type: ignore[union-attr]
    # The config's static keys belong to no tenant: nothing of theirs can be rated.
    assert rate(base, DEMO_KEY, {"request_id": "req-a", "score": 0.5}).status == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"request_id": "req-a"}, "score"),
        ({"request_id": "req-a", "score": 0.5, "thumbs": "up"}, "score"),
        ({"request_id": "req-a", "score": 1.5}, "score"),
        ({"request_id": "req-a", "thumbs": "sideways"}, "thumbs"),
        ({"score": 1}, "request_id"),
        ({"request_id": "req-a", "score": 1, "extra": True}, "extra"),
        ({"request_id": "req-a", "score": 1, "tags": ["x" * 65]}, "tags[0]"),
    ],
)
def test_bad_bodies_are_400s_naming_the_param(gw, body: dict[str, object], param: str) -> None:  # type: ignore[no-untyped-def]
    proc, _ = gw
    reply = rate(proc.base_url, DEMO_KEY, body)
    assert reply.status == 400
    assert reply.json()["error"]["param"] == param


def test_feedback_needs_a_key(gw) -> None:  # type: ignore[no-untyped-def]
    proc, _ = gw
    reply = call("POST", f"{proc.base_url}/v1/feedback", {"request_id": "r", "score": 1}, {})
    assert reply.status == 401 and reply.json()["error"]["code"] == "missing_api_key"
