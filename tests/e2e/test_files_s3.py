"""Files' bytes in an S3-compatible object store (``files.blob_store: s3``, moto's real server on
loopback), through the real ``openai`` SDK: upload and content byte-exact, the object where the key
layout says and gone after a delete, another tenant's id a 404, a vector store ingesting an
S3-held file and answering a search, readiness reporting the store, and the object store killed
mid-way a clean 503 in OpenAI's error JSON (never a 500, never a hang); once more on PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import sim_config
from tests.e2e.test_files import error, sdk, tenant_key
from tests.e2e.test_vector_stores import settle
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.s3 import ENV, KEY_ID, SECRET, Bucket, new_bucket, start_s3

ADMIN = "sk-admin-files"  # the admin key tests.e2e.test_files's tenant_key sends
DOC = b"# Policies\n\nEvery employee gets 25 vacation days a year.\n\nThe office opens at nine.\n"


def config(bucket: Bucket, **more: Any) -> dict[str, Any]:
    return {
        **sim_config(),
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "files": {"blob_store": "s3", "s3": bucket.settings(read_timeout_s=2, connect_timeout_s=1)},
        "knowledge": {"ingest_poll_s": 0.2, "embedding": "none"},
        **more,
    }


def key_of(owner: str, file_id: str) -> str:
    return f"sluice/files/{hashlib.sha256(owner.encode()).hexdigest()}/{file_id}"


def round_trip(gw: Proc, bucket: Bucket) -> None:
    acme, globex = tenant_key(gw, "acme"), tenant_key(gw, "globex")
    content = ("line of text é\n" * 120_000).encode()  # ~2 MiB: read back from S3 in parts
    with sdk(gw, acme) as c:
        f = c.files.create(file=("big.txt", content), purpose="assistants")
        assert c.files.content(f.id).content == content
        assert bucket.keys() == [key_of("tenant:acme", f.id)]
        assert bucket.s3.get_object(Bucket=bucket.name, Key=bucket.keys()[0])["Body"].read() == content
    with sdk(gw, globex) as c:
        for ask in (c.files.retrieve, c.files.content, c.files.delete):
            with pytest.raises(openai.NotFoundError):
                ask(f.id)
    assert len(bucket.keys()) == 1
    with sdk(gw, acme) as c:
        assert c.files.delete(f.id).deleted is True
        with pytest.raises(openai.NotFoundError):
            c.files.content(f.id)
    assert bucket.keys() == []


def test_files_round_trip_through_s3(gateway, s3_bucket: Bucket) -> None:
    gw = gateway(config(s3_bucket), ENV)
    ready = call("GET", gw.base_url + "/health/ready").json()
    assert ready["status"] == "ok" and ready["blob_store"]["status"] == "ok"
    round_trip(gw, s3_bucket)
    log = gw.log()
    assert SECRET not in log and KEY_ID not in log


def test_bytes_missing_from_the_bucket_are_a_404_not_a_truncated_200(gateway, s3_bucket: Bucket) -> None:
    gw = gateway(config(s3_bucket), ENV)
    with sdk(gw, tenant_key(gw, "acme")) as c:
        f = c.files.create(file=("a.md", DOC), purpose="assistants")
        s3_bucket.s3.delete_object(
            Bucket=s3_bucket.name, Key=key_of("tenant:acme", f.id)
        )  # lost behind its back
        with pytest.raises(openai.NotFoundError) as caught:
            c.files.content(f.id)
        assert (error(caught.value)["code"], error(caught.value)["param"]) == ("file_not_found", "file_id")
        assert c.files.delete(f.id).deleted is True  # and it can still be deleted
        assert list(c.files.list()) == []


def test_a_vector_store_ingests_a_file_held_in_s3(gateway, s3_bucket: Bucket) -> None:
    cfg = config(s3_bucket)
    for name in ("access_key_id", "secret_access_key"):  # the standard AWS chain's, from the environment
        del cfg["files"]["s3"][name]
    gw = gateway(cfg, {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    with sdk(gw, tenant_key(gw, "acme")) as c:
        f = c.files.create(file=("policies.md", DOC), purpose="assistants")
        vs = c.vector_stores.create(name="docs", file_ids=[f.id])
        done = settle(c, vs.id, f.id)
        assert done.status == "completed" and done.last_error is None
        hits = list(c.vector_stores.search(vs.id, query="vacation days"))
        assert hits and hits[0].file_id == f.id and "25 vacation days" in hits[0].content[0].text


def test_the_object_store_killed_midway_is_a_clean_503(gateway, tmp_path: Path) -> None:
    server = start_s3(tmp_path)  # this test's own, to kill
    try:
        bucket = new_bucket(server.url)
        gw = gateway(config(bucket), ENV)
        with sdk(gw, tenant_key(gw, "acme")) as c:
            kept = c.files.create(file=("a.md", DOC), purpose="assistants")
            server.stop()
            for ask in (
                lambda: c.files.create(file=("b.md", DOC), purpose="assistants"),
                lambda: c.files.content(kept.id),
                lambda: c.files.delete(kept.id),
            ):
                started = time.monotonic()
                with pytest.raises(openai.InternalServerError) as caught:
                    ask()
                assert time.monotonic() - started < 15  # a generous bound on a hang
                assert caught.value.status_code == 503
                e = error(caught.value)
                assert (e["type"], e["code"], e["param"]) == (
                    "service_unavailable",
                    "object_store_unavailable",
                    None,
                )
                assert "object store" in e["message"] and SECRET not in e["message"]
            # Nothing half-done: the delete left the file listed, the refused upload left nothing.
            assert [x.id for x in c.files.list()] == [kept.id]
        ready = call("GET", gw.base_url + "/health/ready").json()
        assert ready["status"] == "degraded" and ready["blob_store"]["status"] in ("unavailable", "timeout")
        assert gw.log().count("Traceback") == 0
    finally:
        server.stop()


def test_files_on_postgres_and_s3(gateway, s3_bucket: Bucket, postgres_clean: str, redis_clean: str) -> None:
    cfg = config(s3_bucket)
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    round_trip(gateway(cfg, ENV), s3_bucket)
