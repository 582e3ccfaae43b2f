"""Uploaded files' bytes in an S3-compatible object store (``files.blob_store: s3``), through one
aiobotocore client made at startup and closed at shutdown. An object's key is
``<prefix><sha256 of the owner>/<file id>``: no raw user input, and no owner's key can name
another's. Every S3 failure (unreachable, denied, no bucket, timed out) is an
``ObjectStoreUnavailableError``, a 503 that names the object store and never the credentials."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from sluice.errors import ObjectStoreUnavailableError
from sluice.settings import S3Settings

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger("sluice.store")

PART_BYTES = 8 * 1024 * 1024
"""A file larger than this goes up as a multipart upload in parts of this size (S3's least is 5 MiB)."""
READ_BYTES = 1024 * 1024  # the most one read of an object's body hands on
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # the shape of the ids the gateway mints
_MISSING = frozenset({"NoSuchKey", "404"})


def object_key(prefix: str, owner: str, file_id: str) -> str | None:
    """The object's key; None for an id the gateway never mints (there is no such object)."""
    if not _FILE_ID.fullmatch(file_id):
        return None
    return f"{prefix}{hashlib.sha256(owner.encode()).hexdigest()}/{file_id}"


def _code(e: ClientError) -> str:
    return e.response.get("Error", {}).get("Code", "")


def _unavailable(e: Exception, bucket: str) -> ObjectStoreUnavailableError:
    """The failure by its kind: S3's error code or the client's exception class, never its text
    (which can carry the endpoint or a key id)."""
    kind = (_code(e) if isinstance(e, ClientError) else "") or type(e).__name__
    log.warning("object store call failed on bucket %s: %s", bucket, kind)
    return ObjectStoreUnavailableError(
        f"The object store that holds file contents failed ({kind}); try again later."
    )


class S3FileBlobs:
    """``FileBlobs`` on one bucket; ``start`` makes the client, ``close`` closes it."""

    def __init__(self, settings: S3Settings, *, part_bytes: int = PART_BYTES) -> None:
        self._settings = settings
        self._bucket = settings.bucket
        self._part_bytes = part_bytes
        # Each call as a whole, not just each socket wait: a server that takes the connection and
        # never answers an upload's ``Expect: 100-continue`` would otherwise hold it for ever.
        self._deadline_s = settings.max_attempts * (settings.connect_timeout_s + settings.read_timeout_s)
        self._client: S3Client | None = None
        self._closing = contextlib.AsyncExitStack()

    async def start(self) -> None:
        s = self._settings
        config = AioConfig(
            connect_timeout=s.connect_timeout_s,
            read_timeout=s.read_timeout_s,
            retries={"max_attempts": s.max_attempts, "mode": "standard"},
            s3={"addressing_style": s.addressing_style},
        )
        key_id, secret = s.access_key_id, s.secret_access_key  # both or neither; neither: the AWS chain
        self._client = await self._closing.enter_async_context(
            get_session().create_client(
                "s3",
                region_name=s.region,
                endpoint_url=s.endpoint_url,
                aws_access_key_id=None if key_id is None else key_id.get_secret_value(),
                aws_secret_access_key=None if secret is None else secret.get_secret_value(),
                config=config,
            )
        )

    async def close(self) -> None:
        await self._closing.aclose()
        self._client = None

    @property
    def _s3(self) -> S3Client:
        if self._client is None:
            raise ObjectStoreUnavailableError("The object store that holds file contents is not connected.")
        return self._client

    @contextlib.asynccontextmanager
    async def _call(self) -> AsyncIterator[None]:
        """One S3 call (or one read of a body), under the deadline, its failures translated."""
        try:
            async with asyncio.timeout(self._deadline_s):
                yield
        except (BotoCoreError, ClientError, TimeoutError) as e:
            raise _unavailable(e, self._bucket) from None

    def _key(self, owner: str, file_id: str) -> str | None:
        return object_key(self._settings.prefix, owner, file_id)

    async def ping(self) -> None:
        """Readiness: the bucket answers to these credentials."""
        async with self._call():
            await self._s3.head_bucket(Bucket=self._bucket)

    async def put_blob(self, owner: str, file_id: str, parts: Sequence[bytes | memoryview]) -> None:
        key = self._key(owner, file_id)
        if key is None:
            raise ValueError(f"not a file id the gateway mints: {file_id!r}")
        bodies = list(_regroup(parts, self._part_bytes))
        if len(bodies) <= 1:
            async with self._call():
                await self._s3.put_object(Bucket=self._bucket, Key=key, Body=bodies[0] if bodies else b"")
            return
        async with self._call():
            upload_id = (await self._s3.create_multipart_upload(Bucket=self._bucket, Key=key))["UploadId"]
        try:
            done: list[CompletedPartTypeDef] = []
            for number, body in enumerate(bodies, start=1):
                async with self._call():
                    part = await self._s3.upload_part(
                        Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
                    )
                done.append({"ETag": part["ETag"], "PartNumber": number})
            async with self._call():
                await self._s3.complete_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
                )
        except BaseException:
            # Parts left behind are billed until aborted (a bucket lifecycle rule catches any this misses).
            with contextlib.suppress(ObjectStoreUnavailableError):
                async with self._call():
                    await self._s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            raise

    async def read_blob(self, owner: str, file_id: str) -> AsyncIterator[bytes]:
        key = self._key(owner, file_id)
        if key is None:
            return
        async with self._call():
            try:
                got = await self._s3.get_object(Bucket=self._bucket, Key=key)
            except ClientError as e:
                if _code(e) not in _MISSING:
                    raise
                return  # no such object: no bytes, as from the database
        async with got["Body"] as body:  # closed, its connection freed, when the reader stops early
            while True:
                async with self._call():
                    part = await body.read(READ_BYTES)
                if not part:
                    return
                yield part

    async def delete_blob(self, owner: str, file_id: str) -> None:
        key = self._key(owner, file_id)
        if key is None:
            return
        async with self._call():  # S3 answers a missing key's delete as done
            await self._s3.delete_object(Bucket=self._bucket, Key=key)


def _regroup(parts: Sequence[bytes | memoryview], size: int) -> Iterator[bytes]:
    """The parts joined into bodies of ``size`` bytes (the last one shorter), each copied once."""
    group: list[bytes | memoryview] = []
    held = 0
    for part in parts:
        view = memoryview(part)
        while len(view):
            take = view[: size - held]
            group.append(take)
            held += len(take)
            view = view[len(take) :]
            if held == size:
                yield b"".join(group)
                group, held = [], 0
    if group:
        yield b"".join(group)
