"""``/v1/vector_stores`` through the real ``openai`` SDK: upload, create a store with files, poll
until ingested, search (full text and the local embedder, fused); a file that fails to parse ends
``failed`` with ``last_error``; another tenant's ids are 404 on every route; deleting a file takes
it out of search; and on PostgreSQL two replicas share stores, and a gateway killed mid-ingestion
never leaves a file ``in_progress``."""

from __future__ import annotations

import signal
import time
from typing import Any

import openai
import pytest

from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-vs"
HANDBOOK = (
    b"# Handbook\n\n## Vacation\n\nEvery employee gets 25 vacation days a year, taken in agreement "
    b"with their manager.\n\n## Office\n\nThe office opens at nine and closes at six. Visitors sign in "
    b"at the front desk.\n"
)
RECIPES = b"# Recipes\n\nA good risotto needs arborio rice, stock added slowly and constant stirring.\n"
STATIC = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}


def sdk(gw: Proc, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=30)


def tenant_key(gw: Proc, tenant: str) -> str:
    h = {"authorization": f"Bearer {ADMIN}"}
    if call("GET", f"{gw.base_url}/admin/tenants/{tenant}", headers=h).status == 404:
        assert call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, h).status == 201
    reply = call("POST", f"{gw.base_url}/admin/tenants/{tenant}/keys", {"name": "k"}, h)
    assert reply.status == 201, reply.body
    return str(reply.json()["key"])


def config(**knowledge: Any) -> dict[str, Any]:
    return {
        **sim_config(),
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "knowledge": {"ingest_poll_s": 0.2, **knowledge},
    }


def settle(c: openai.OpenAI, store_id: str, file_id: str, timeout_s: float = 60) -> Any:
    """Poll the file until it leaves in_progress (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        f = c.vector_stores.files.retrieve(file_id, vector_store_id=store_id)
        if f.status != "in_progress":
            return f
        time.sleep(0.2)
    raise AssertionError(f"{file_id} still in_progress after {timeout_s} s")


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    return module_gateway(config())


def test_upload_create_poll_search(gw: Proc) -> None:
    ready = call("GET", gw.base_url + "/health/ready").json()
    assert ready["knowledge"] == {"search": "hybrid", "embedding": "local"}
    key = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        handbook = c.files.create(file=("handbook.md", HANDBOOK), purpose="assistants")
        recipes = c.files.create(file=("recipes.md", RECIPES), purpose="assistants")
        vs = c.vector_stores.create(
            name="docs",
            file_ids=[handbook.id, recipes.id],
            chunking_strategy=STATIC,
            metadata={"team": "hr"},
            expires_after={"anchor": "last_active_at", "days": 7},
        )
        assert vs.id.startswith("vs_") and vs.object == "vector_store" and vs.name == "docs"
        assert vs.metadata == {"team": "hr"} and vs.expires_after is not None and vs.expires_after.days == 7
        assert vs.expires_at == vs.last_active_at + 7 * 86400
        for f in (handbook, recipes):
            done = settle(c, vs.id, f.id)
            assert done.status == "completed" and done.last_error is None and done.usage_bytes > 0
            assert done.chunking_strategy is not None and done.chunking_strategy.type == "static"
            assert done.chunking_strategy.static.max_chunk_size_tokens == 100  # type: ignore[union-attr]
        parsed = list(c.vector_stores.files.content(handbook.id, vector_store_id=vs.id))
        assert [(p.type, p.text) for p in parsed] == [("text", HANDBOOK.decode())]  # put back from its chunks
        got = c.vector_stores.retrieve(vs.id)
        assert got.status == "completed" and got.file_counts.completed == 2 and got.file_counts.total == 2
        assert got.usage_bytes > 0

        page = c.vector_stores.search(vs.id, query="How many vacation days do employees get?")
        results = list(page)
        assert results and results[0].file_id == handbook.id and results[0].filename == "handbook.md"
        assert "25 vacation days" in results[0].content[0].text and results[0].content[0].type == "text"
        assert 0 < results[0].score <= 1
        # The meaning, with no word in common with its passage's key term: the vectors find it.
        risotto = list(c.vector_stores.search(vs.id, query="cooking an Italian rice dish", max_num_results=1))
        assert [r.file_id for r in risotto] == [recipes.id]
        everything = list(c.vector_stores.search(vs.id, query="vacation office", max_num_results=50))
        kept = list(
            c.vector_stores.search(vs.id, query="vacation office", ranking_options={"score_threshold": 0.6})
        )
        assert kept == [r for r in everything if r.score >= 0.6] and len(kept) < len(everything)
        raw = c.vector_stores.with_raw_response.search(vs.id, query=["office", "hours"]).http_response.json()
        assert raw["object"] == "vector_store.search_results.page" and raw["search_query"] == [
            "office",
            "hours",
        ]
        assert raw["has_more"] is False and raw["next_page"] is None

        listed = c.vector_stores.files.list(vector_store_id=vs.id, filter="completed")
        assert sorted(f.id for f in listed) == sorted([handbook.id, recipes.id])
        assert vs.id in [v.id for v in c.vector_stores.list()]
        renamed = c.vector_stores.update(vs.id, name="renamed", metadata={"team": "ops"})
        assert renamed.name == "renamed" and renamed.metadata == {"team": "ops"}


def test_attributes_filters_and_batches(gw: Proc) -> None:
    key = tenant_key(gw, "initech")
    with sdk(gw, key) as c:
        a = c.files.create(file=("a.md", b"Quarterly revenue grew by nine percent.\n"), purpose="assistants")
        b = c.files.create(file=("b.md", b"Quarterly revenue fell by two percent.\n"), purpose="assistants")
        vs = c.vector_stores.create(name="reports")
        batch = c.vector_stores.file_batches.create(
            vector_store_id=vs.id,
            files=[
                {"file_id": a.id, "attributes": {"year": 2024, "region": "eu"}},
                {"file_id": b.id, "attributes": {"year": 2023, "region": "us"}},
            ],
        )
        assert batch.id.startswith("vsfb_") and batch.object == "vector_store.files_batch"
        assert batch.file_counts.total == 2
        for f in (a, b):
            settle(c, vs.id, f.id)
        done = c.vector_stores.file_batches.retrieve(batch.id, vector_store_id=vs.id)
        assert done.status == "completed" and done.file_counts.completed == 2
        assert sorted(
            f.id for f in c.vector_stores.file_batches.list_files(batch.id, vector_store_id=vs.id)
        ) == sorted([a.id, b.id])
        hits = list(
            c.vector_stores.search(
                vs.id, query="quarterly revenue", filters={"type": "gte", "key": "year", "value": 2024}
            )
        )
        assert [h.file_id for h in hits] == [a.id] and hits[0].attributes == {"year": 2024, "region": "eu"}
        updated = c.vector_stores.files.update(b.id, vector_store_id=vs.id, attributes={"year": 2025})
        assert updated.attributes == {"year": 2025} and updated.status == "completed"
        hits = list(
            c.vector_stores.search(
                vs.id, query="quarterly revenue", filters={"type": "gte", "key": "year", "value": 2024}
            )
        )
        assert sorted(h.file_id for h in hits) == sorted([a.id, b.id])
        cancelled = c.vector_stores.file_batches.cancel(batch.id, vector_store_id=vs.id)
        assert cancelled.id == batch.id and cancelled.status == "completed"  # nothing left to cancel
        assert c.vector_stores.create().name == ""
        with pytest.raises(openai.BadRequestError) as bad:
            c.vector_stores.search(vs.id, query="x", filters={"type": "near", "key": "year", "value": 1})
        assert bad.value.response.json()["error"]["param"] == "filters.type"
        with pytest.raises(openai.BadRequestError) as bad:
            c.vector_stores.search(vs.id, query="x", max_num_results=51)
        assert bad.value.response.json()["error"]["param"] == "max_num_results"
        with pytest.raises(openai.BadRequestError) as bad:
            c.vector_stores.files.create(
                vector_store_id=vs.id,
                file_id=a.id,
                chunking_strategy={
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 5, "chunk_overlap_tokens": 0},
                },
            )
        assert bad.value.response.json()["error"]["param"] == "chunking_strategy.static.max_chunk_size_tokens"


def test_a_file_that_cannot_be_parsed_ends_failed(gw: Proc) -> None:
    key = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        # Accepted on upload (it starts with %PDF-), but no PDF parser can read it.
        broken = c.files.create(file=("broken.pdf", b"%PDF-1.4\nnot really a pdf"), purpose="assistants")
        vs = c.vector_stores.create(name="broken")
        made = c.vector_stores.files.create(vector_store_id=vs.id, file_id=broken.id, attributes={"k": "v"})
        assert made.status == "in_progress" and made.attributes == {"k": "v"}
        failed = settle(c, vs.id, broken.id)
        assert failed.status == "failed" and failed.last_error is not None
        assert failed.last_error.code == "invalid_file" and failed.last_error.message
        assert c.vector_stores.retrieve(vs.id).file_counts.failed == 1


def test_other_tenants_ids_are_404_everywhere(gw: Proc) -> None:
    acme, globex = tenant_key(gw, "acme"), tenant_key(gw, "globex")
    with sdk(gw, acme) as c:
        f = c.files.create(file=("handbook.md", HANDBOOK), purpose="assistants")
        vs = c.vector_stores.create(name="private", file_ids=[f.id])
        settle(c, vs.id, f.id)
        batch = c.vector_stores.file_batches.create(vector_store_id=vs.id, file_ids=[f.id])
    with sdk(gw, globex) as c:
        calls = [
            lambda: c.vector_stores.retrieve(vs.id),
            lambda: c.vector_stores.update(vs.id, name="mine"),
            lambda: c.vector_stores.delete(vs.id),
            lambda: c.vector_stores.files.list(vector_store_id=vs.id),
            lambda: c.vector_stores.files.retrieve(f.id, vector_store_id=vs.id),
            lambda: c.vector_stores.files.content(f.id, vector_store_id=vs.id),
            lambda: c.vector_stores.files.delete(f.id, vector_store_id=vs.id),
            lambda: c.vector_stores.files.create(vector_store_id=vs.id, file_id=f.id),
            lambda: c.vector_stores.file_batches.create(vector_store_id=vs.id, file_ids=[f.id]),
            lambda: c.vector_stores.file_batches.retrieve(batch.id, vector_store_id=vs.id),
            lambda: c.vector_stores.file_batches.cancel(batch.id, vector_store_id=vs.id),
            lambda: c.vector_stores.files.update(f.id, vector_store_id=vs.id, attributes={"a": "b"}),
            lambda: c.vector_stores.search(vs.id, query="vacation"),
            lambda: c.vector_stores.create(file_ids=[f.id]),  # another's file in one's own store
        ]
        for attempt in calls:
            with pytest.raises(openai.NotFoundError):
                attempt()
        assert vs.id not in [v.id for v in c.vector_stores.list()]
        own = c.vector_stores.create(name="own")
        with pytest.raises(openai.NotFoundError) as missing:
            c.vector_stores.files.create(vector_store_id=own.id, file_id=f.id)
        assert missing.value.response.json()["error"]["param"] == "file_id"
    with sdk(gw, acme) as c:
        assert c.vector_stores.retrieve(vs.id).name == "private"


def test_deleting_a_file_removes_it_from_search(gw: Proc) -> None:
    key = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        f = c.files.create(file=("handbook.md", HANDBOOK), purpose="assistants")
        g = c.files.create(file=("recipes.md", RECIPES), purpose="assistants")
        vs = c.vector_stores.create(name="temp", file_ids=[f.id, g.id])
        settle(c, vs.id, f.id)
        settle(c, vs.id, g.id)
        assert f.id in [r.file_id for r in c.vector_stores.search(vs.id, query="vacation days")]
        c.files.delete(f.id)  # from /v1/files: out of every store
        assert f.id not in [r.file_id for r in c.vector_stores.search(vs.id, query="vacation days")]
        with pytest.raises(openai.NotFoundError):
            c.vector_stores.files.retrieve(f.id, vector_store_id=vs.id)
        deleted = c.vector_stores.files.delete(g.id, vector_store_id=vs.id)  # from the store only
        assert deleted.deleted is True and deleted.object == "vector_store.file.deleted"
        assert list(c.vector_stores.search(vs.id, query="risotto rice")) == []
        assert c.files.retrieve(g.id).id == g.id
        gone = c.vector_stores.delete(vs.id)
        assert gone.deleted is True and gone.object == "vector_store.deleted"
        with pytest.raises(openai.NotFoundError):
            c.vector_stores.retrieve(vs.id)


# --- two replicas on PostgreSQL --------------------------------------------------------------


def distributed(postgres: str, redis: str, **knowledge: Any) -> dict[str, Any]:
    cfg = config(**knowledge)
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres, "redis_url": redis}
    return cfg


def test_two_replicas_share_vector_stores(gateway, postgres_clean: str, redis_clean: str) -> None:
    a, b = (
        gateway(distributed(postgres_clean, redis_clean)),
        gateway(distributed(postgres_clean, redis_clean)),
    )
    key = tenant_key(a, "acme")
    with sdk(a, key) as c:
        f = c.files.create(file=("handbook.md", HANDBOOK), purpose="assistants")
        vs = c.vector_stores.create(name="shared", file_ids=[f.id], chunking_strategy=STATIC)
        assert settle(c, vs.id, f.id).status == "completed"
    with sdk(b, key) as c:
        hits = list(c.vector_stores.search(vs.id, query="vacation days"))
        assert hits and hits[0].file_id == f.id and "25 vacation days" in hits[0].content[0].text
        assert c.vector_stores.retrieve(vs.id).file_counts.completed == 1


def test_a_gateway_killed_mid_ingestion_never_leaves_a_file_in_progress(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    """Embedding through a slow sim alias makes ingestion last seconds; the gateway holding the
    claim is killed by PID (SIGKILL), and another finishes the file once the lease runs out."""
    slow = distributed(
        postgres_clean, redis_clean, embedding="text-embedding-3-small", ingest_lease_s=3.0, ingest_attempts=3
    )
    slow["providers"]["sim"]["sim"] = {"latency_ms": 1500}
    a = gateway(slow)
    assert call("GET", a.base_url + "/health/ready").json()["knowledge"] == {
        "search": "hybrid",
        "embedding": "text-embedding-3-small",
    }
    key = tenant_key(a, "acme")
    text = "".join(f"Paragraph {i} says the code word is kiwi{i}.\n\n" for i in range(300)).encode()
    with sdk(a, key) as c:
        f = c.files.create(file=("long.md", text), purpose="assistants")
        vs = c.vector_stores.create(name="slow", file_ids=[f.id], chunking_strategy=STATIC)
        time.sleep(1.0)  # claimed and embedding
        assert c.vector_stores.files.retrieve(f.id, vector_store_id=vs.id).status == "in_progress"
    a.popen.send_signal(signal.SIGKILL)
    a.popen.wait(timeout=10)
    b = gateway(slow)
    with sdk(b, key) as c:
        done = settle(c, vs.id, f.id, timeout_s=90)
        assert done.status == "completed", done.last_error  # the second claim, on the new gateway
        hits = list(c.vector_stores.search(vs.id, query="kiwi7"))
        assert hits and "kiwi7." in hits[0].content[0].text


BAD_REQUESTS = [
    # (method, path under the store or "" for the collection, body, param)
    ("POST", "", b"not json", None),
    ("POST", "", {"nme": "x"}, "nme"),
    ("POST", "", {"name": 5}, "name"),
    ("POST", "", {"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ("POST", "", {"metadata": {"k": "v" * 513}}, "metadata.k"),
    ("POST", "", {"expires_after": {"anchor": "last_active_at", "days": 0}}, "expires_after.days"),
    ("POST", "", {"expires_after": {"anchor": "created_at", "days": 1}}, "expires_after.anchor"),
    ("POST", "", {"chunking_strategy": {"type": "fancy"}}, "chunking_strategy.type"),
    ("POST", "", {"file_ids": [f"file-{i}" for i in range(501)]}, "file_ids"),
    ("POST", "/search", {}, "query"),
    ("POST", "/search", {"query": ""}, "query"),
    ("POST", "/search", {"query": 3}, "query"),
    ("POST", "/search", {"query": "x", "max_num_results": 0}, "max_num_results"),
    (
        "POST",
        "/search",
        {"query": "x", "ranking_options": {"score_threshold": 2}},
        "ranking_options.score_threshold",
    ),
    (
        "POST",
        "/search",
        {"query": "x", "filters": {"type": "and", "filters": [{"type": "eq"}]}},
        "filters.filters[0].key",
    ),
    ("POST", "/files", {}, "file_id"),
    ("POST", "/files", {"file_id": "file-x", "attributes": {"k": [1]}}, "attributes.k"),
    ("POST", "/file_batches", {}, "file_ids"),
    ("POST", "/file_batches", {"file_ids": []}, "file_ids"),
    ("GET", "/files?limit=0", None, "limit"),
    ("GET", "/files?order=sideways", None, "order"),
    ("GET", "/files?filter=done", None, "filter"),
]


@pytest.mark.parametrize(("method", "path", "body", "param"), BAD_REQUESTS)
def test_bad_requests_are_400s_naming_the_param(
    gw: Proc, method: str, path: str, body: Any, param: str | None
) -> None:
    key = tenant_key(gw, "hostile")
    h = {"authorization": f"Bearer {key}"}
    made = call("POST", f"{gw.base_url}/v1/vector_stores", {"name": "target"}, h)
    assert made.status == 200, made.body
    base = f"{gw.base_url}/v1/vector_stores" + (f"/{made.json()['id']}" if path else "")
    reply = call(method, base + path, body, h)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param, error


def test_a_missing_file_is_a_404_naming_it(gw: Proc) -> None:
    h = {"authorization": f"Bearer {tenant_key(gw, 'hostile')}"}
    base = f"{gw.base_url}/v1/vector_stores"
    made = call("POST", base, {"name": "target"}, h).json()["id"]
    for path, body, param in [
        ("", {"file_ids": ["file-nope"]}, "file_ids[0]"),
        (f"/{made}/files", {"file_id": "file-nope"}, "file_id"),
        (f"/{made}/file_batches", {"file_ids": ["file-nope"]}, "file_ids[0]"),
    ]:
        reply = call("POST", base + path, body, h)
        assert reply.status == 404 and reply.json()["error"]["param"] == param, reply.body
        assert reply.json()["error"]["code"] == "file_not_found"


def test_paging_stores_and_files(gw: Proc) -> None:
    key = tenant_key(gw, "pager")
    with sdk(gw, key) as c:
        stores = [c.vector_stores.create(name=f"s{i}") for i in range(5)]
        ids = [s.id for s in stores]
        listed = [v.id for v in c.vector_stores.list(limit=2, order="asc")]  # auto-paging follows `after`
        assert sorted(listed) == sorted(ids) and len(listed) == 5
        first = c.vector_stores.list(limit=2, order="asc")
        assert first.has_more is True and len(first.data) == 2
        tail = c.vector_stores.list(limit=10, order="asc", after=first.data[-1].id)
        assert [v.id for v in first.data] + [v.id for v in tail.data] == listed
        back = c.vector_stores.list(limit=2, order="asc", before=tail.data[1].id)
        assert [v.id for v in back.data] == listed[1:3]
        files = [
            c.files.create(file=(f"f{i}.md", f"note {i}\n".encode()), purpose="assistants") for i in range(3)
        ]
        c.vector_stores.file_batches.create(vector_store_id=ids[0], file_ids=[f.id for f in files])
        page = c.vector_stores.files.list(vector_store_id=ids[0], limit=2)
        assert len(page.data) == 2 and page.has_more is True
        assert sorted(f.id for f in c.vector_stores.files.list(vector_store_id=ids[0], limit=1)) == sorted(
            f.id for f in files
        )


def test_vector_stores_past_the_cap_are_a_429(gateway) -> None:
    gw = gateway(config(max_tenant_vector_stores=2, embedding="none"))
    acme, globex = tenant_key(gw, "acme"), tenant_key(gw, "globex")
    with sdk(gw, acme) as c:
        first, _ = c.vector_stores.create(name="a"), c.vector_stores.create(name="b")
        with pytest.raises(openai.RateLimitError) as caught:
            c.vector_stores.create(name="c")
        body = caught.value.response.json()
        assert set(body) == {"error"} and body["error"] == {
            "message": "Vector store quota exceeded: the limit is 2. Delete some to create more.",
            "type": "insufficient_quota",
            "param": None,
            "code": "vector_store_quota_exceeded",
        }
        assert len(list(c.vector_stores.list())) == 2  # nothing stored past the cap
    with sdk(gw, globex) as c:
        assert c.vector_stores.create(name="theirs").id  # the cap is per tenant
    with sdk(gw, acme) as c:
        assert c.vector_stores.delete(first.id).deleted is True
        assert c.vector_stores.create(name="c").name == "c"  # room again
