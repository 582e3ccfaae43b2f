"""``S3FileBlobs`` against a real S3 server (moto's, on loopback): bytes put, read back in parts and
deleted under ``<prefix><sha256 of the owner>/<file id>``; a large file goes up as a multipart
upload; a missing object reads as none; a missing bucket, a stopped server and a server that never
answers are each an ``ObjectStoreUnavailableError`` naming the object store, in bounded time, and
never with the credentials in it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from sluice.errors import ObjectStoreUnavailableError
from sluice.settings import S3Settings
from sluice.store.s3 import READ_BYTES, S3FileBlobs, object_key
from tests.fixtures.procs import free_port
from tests.fixtures.s3 import KEY_ID, REGION, SECRET, Bucket, silent_server

OWNER, OTHER = "tenant:acme", "tenant:globex"
MIB = 1024 * 1024


def settings(endpoint: str, bucket: str, **more: Any) -> S3Settings:
    return S3Settings(
        bucket=bucket,
        endpoint_url=endpoint,
        region=REGION,
        addressing_style="path",
        access_key_id=SecretStr(KEY_ID),
        secret_access_key=SecretStr(SECRET),
        **more,
    )


@pytest.fixture
async def blobs_for() -> AsyncIterator[Callable[..., Any]]:
    """Factory: a started ``S3FileBlobs``; every one is closed after the test."""
    made: list[S3FileBlobs] = []

    async def make(s: S3Settings, **kw: Any) -> S3FileBlobs:
        b = S3FileBlobs(s, **kw)
        await b.start()
        made.append(b)
        return b

    yield make
    for b in made:
        await b.close()


async def read(b: S3FileBlobs, owner: str, file_id: str) -> list[bytes]:
    return [p async for p in b.read_blob(owner, file_id)]


async def test_put_read_delete_under_hashed_owner_keys(s3_bucket: Bucket, blobs_for: Any) -> None:
    b = await blobs_for(settings(s3_bucket.endpoint, s3_bucket.name))
    await b.ping()
    data = b"hello " * 1000
    await b.put_blob(OWNER, "file-abc", [memoryview(data)[:100], memoryview(data)[100:]])
    key = f"sluice/files/{hashlib.sha256(OWNER.encode()).hexdigest()}/file-abc"
    assert s3_bucket.keys() == [key] == [object_key("sluice/files/", OWNER, "file-abc")]
    assert s3_bucket.s3.get_object(Bucket=s3_bucket.name, Key=key)["Body"].read() == data
    assert b"".join(await read(b, OWNER, "file-abc")) == data
    # Another owner's same id is another key: nothing to read, and its delete touches nothing.
    assert await read(b, OTHER, "file-abc") == []
    await b.delete_blob(OTHER, "file-abc")
    assert s3_bucket.keys() == [key]
    await b.delete_blob(OWNER, "file-abc")
    assert s3_bucket.keys() == [] and await read(b, OWNER, "file-abc") == []
    await b.delete_blob(OWNER, "file-abc")  # deleting again is no error


async def test_keys_never_carry_raw_input(s3_bucket: Bucket, blobs_for: Any) -> None:
    b = await blobs_for(settings(s3_bucket.endpoint, s3_bucket.name, prefix="p/"))
    # An owner that looks like a path, and ids that do: hashed, or no object at all.
    assert (
        object_key("p/", "tenant:../x", "file-1") == f"p/{hashlib.sha256(b'tenant:../x').hexdigest()}/file-1"
    )
    for bad in ("../file-1", "a/b", "", "x" * 129, "file 1"):
        assert object_key("p/", OWNER, bad) is None
        assert await read(b, OWNER, bad) == []
        await b.delete_blob(OWNER, bad)
        with pytest.raises(ValueError):
            await b.put_blob(OWNER, bad, [b"x"])
    assert s3_bucket.keys() == []


async def test_a_large_file_goes_up_in_parts_and_streams_back(s3_bucket: Bucket, blobs_for: Any) -> None:
    b = await blobs_for(settings(s3_bucket.endpoint, s3_bucket.name), part_bytes=5 * MIB)
    data = bytes(range(256)) * (12 * MIB // 256 + 7)  # 12 MiB and a bit: three parts
    view = memoryview(data)
    await b.put_blob(OWNER, "file-big", [view[i : i + MIB] for i in range(0, len(data), MIB)])
    key = object_key("sluice/files/", OWNER, "file-big")
    head = s3_bucket.s3.head_object(Bucket=s3_bucket.name, Key=key)
    assert head["ContentLength"] == len(data) and head["ETag"].strip('"').endswith("-3")  # a multipart object
    assert s3_bucket.s3.list_multipart_uploads(Bucket=s3_bucket.name).get("Uploads", []) == []
    parts = await read(b, OWNER, "file-big")
    assert b"".join(parts) == data
    assert len(parts) >= len(data) // READ_BYTES and max(len(p) for p in parts) <= READ_BYTES  # streamed


async def test_an_empty_file_round_trips(s3_bucket: Bucket, blobs_for: Any) -> None:
    b = await blobs_for(settings(s3_bucket.endpoint, s3_bucket.name))
    await b.put_blob(OWNER, "file-empty", [])
    assert len(s3_bucket.keys()) == 1 and await read(b, OWNER, "file-empty") == []


async def unavailable(call: Any) -> ObjectStoreUnavailableError:
    started = time.monotonic()
    with pytest.raises(ObjectStoreUnavailableError) as caught:
        await call
    assert time.monotonic() - started < 15  # a generous bound on a hang
    e = caught.value
    assert e.status == 503 and e.code == "object_store_unavailable" and "object store" in e.message
    assert SECRET not in e.message and KEY_ID not in e.message
    return e


async def test_a_missing_bucket_is_unavailable(s3_url: str, blobs_for: Any) -> None:
    b = await blobs_for(settings(s3_url, "no-such-bucket-here"))
    assert "NoSuchBucket" in (await unavailable(b.put_blob(OWNER, "file-1", [b"x"]))).message
    await unavailable(b.ping())
    await unavailable(read(b, OWNER, "file-1"))


async def test_a_stopped_server_is_unavailable(blobs_for: Any) -> None:
    b = await blobs_for(settings(f"http://127.0.0.1:{free_port()}", "bucket", max_attempts=1))
    await unavailable(b.put_blob(OWNER, "file-1", [b"x"]))
    await unavailable(read(b, OWNER, "file-1"))
    await unavailable(b.delete_blob(OWNER, "file-1"))


async def test_a_server_that_never_answers_times_out(blobs_for: Any) -> None:
    with silent_server() as url:
        b = await blobs_for(
            settings(url, "bucket", read_timeout_s=0.5, connect_timeout_s=0.5, max_attempts=1)
        )
        assert "Timeout" in (await unavailable(read(b, OWNER, "file-1"))).message
        await unavailable(b.put_blob(OWNER, "file-1", [b"x"]))


async def test_closed_blobs_refuse_cleanly(s3_bucket: Bucket) -> None:
    b = S3FileBlobs(settings(s3_bucket.endpoint, s3_bucket.name))
    await b.start()
    await b.close()
    await unavailable(b.put_blob(OWNER, "file-1", [b"x"]))
