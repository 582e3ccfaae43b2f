"""``/v1/files`` in OpenAI's shape: upload (multipart, streamed and capped), list (paged by
``after``), retrieve, content and delete. Files belong to an owner as stored responses do (a
tenant, or a static key of the config: ``key:<name>``); another owner's file is the same 404 as a
missing one, on every route. Quotas per owner: bytes and number of files."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Literal
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from sluice.api.context import bearer
from sluice.api.endpoint import endpoint
from sluice.api.file_types import PURPOSES, check, content_type
from sluice.api.multipart import read_upload
from sluice.api.render import error_response
from sluice.auth.principal import owner
from sluice.errors import InvalidRequestError, NotFoundError, PayloadTooLargeError, QuotaExceededError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.settings import FilesSettings
from sluice.store.protocols import FileBlobs, Store
from sluice.store.records import FileQuota, StoredFile
from sluice.types import encoder

PART_BYTES = 1024 * 1024  # the bytes are stored and served in parts of this size
MAX_PAGE = 10_000  # OpenAI's limit range is 1 to 10,000, default 10,000
MAX_FILENAME_CHARS = 255


class OpenAIFile(msgspec.Struct):
    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str
    expires_at: int | None = None
    status_details: str | None = None
    object: str = "file"


class FileList(msgspec.Struct):
    data: list[OpenAIFile]
    first_id: str | None
    last_id: str | None
    has_more: bool
    object: str = "list"


class DeletedFile(msgspec.Struct):
    id: str
    deleted: bool = True
    object: str = "file"


def _wire(f: StoredFile) -> OpenAIFile:
    return OpenAIFile(f.id, f.bytes, f.created_at, f.filename, f.purpose, f.status, f.expires_at)


def _not_found(file_id: str) -> NotFoundError:
    return NotFoundError(f"No such File object: {file_id}", param="file_id", code="file_not_found")


def _json(body: msgspec.Struct, ex: Exchange) -> Response:
    return Response(encoder.encode(body), 200, {"x-request-id": ex.request_id}, media_type="application/json")


class FileRoutes:
    def __init__(
        self,
        authenticate: AuthenticateStage,
        store: Store,
        blobs: FileBlobs,
        settings: FilesSettings,
        observer: Observer,
    ) -> None:
        self._authenticate = authenticate
        self._store = store
        self._blobs = blobs
        self._max_file = settings.max_file_bytes
        self._quota = FileQuota(settings.max_tenant_bytes, settings.max_tenant_files)
        self.observer = observer  # read by ``endpoint`` for model requests only: these are none

    async def _owner(self, request: Request) -> str:
        return owner(await self._authenticate.principal(bearer(request)))

    async def _file(self, request: Request) -> tuple[str, StoredFile]:
        who = await self._owner(request)
        file_id = request.path_params["file_id"]
        found = await self._store.get_file(who, file_id)
        if found is None:
            raise _not_found(file_id)
        return who, found

    @endpoint(error_response)
    async def create(self, request: Request, ex: Exchange) -> Response:
        who = await self._owner(request)  # before reading: a stranger's upload is never read
        upload = await read_upload(request, "file", self._max_file)
        purpose = upload.fields.get("purpose")
        if purpose is None:
            raise InvalidRequestError("purpose: a required field.", param="purpose")
        if purpose not in PURPOSES:
            raise InvalidRequestError(f"purpose: one of {', '.join(PURPOSES)}.", param="purpose")
        if any(name.startswith("expires_after") for name in upload.fields):
            raise InvalidRequestError(
                "expires_after: not supported; files are kept until deleted.", param="expires_after"
            )
        if upload.data is None or upload.filename is None:
            raise InvalidRequestError("file: a required file field, with a filename.", param="file")
        name = upload.filename
        if not name or len(name) > MAX_FILENAME_CHARS or any(ord(c) < 32 or c == "\x7f" for c in name):
            raise InvalidRequestError(
                f"file: a filename of 1 to {MAX_FILENAME_CHARS} characters, none of them control characters.",
                param="file",
            )
        data = upload.data
        await asyncio.to_thread(check, name, purpose, data)
        file = StoredFile(who, "file-" + secrets.token_hex(12), len(data), int(time.time()), name, purpose)
        view = memoryview(data)
        # The bytes first, then the metadata that makes them visible, its quota checked atomically.
        await self._blobs.put_blob(
            who, file.id, [view[i : i + PART_BYTES] for i in range(0, len(data), PART_BYTES)]
        )
        try:
            over = await self._store.add_file(file, self._quota)
        except BaseException:
            await self._blobs.delete_blob(who, file.id)
            raise
        if over is not None:
            await self._blobs.delete_blob(who, file.id)
            usage = await self._store.file_usage(who)
            if over == "files":
                raise QuotaExceededError(
                    f"File quota exceeded: {usage.files} files are stored, the limit is "
                    f"{self._quota.max_files}. Delete some to upload more.",
                    code="file_quota_exceeded",
                )
            raise PayloadTooLargeError(
                f"file: storage quota exceeded: {usage.bytes} bytes are stored and this file adds "
                f"{file.bytes}, the limit is {self._quota.max_bytes}. Delete some files to upload more.",
                param="file",
                code="file_quota_exceeded",
            )
        return _json(_wire(file), ex)

    @endpoint(error_response)
    async def list(self, request: Request, ex: Exchange) -> Response:
        who = await self._owner(request)
        q = request.query_params
        raw_limit = q.get("limit", str(MAX_PAGE))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise InvalidRequestError(f"limit: an integer from 1 to {MAX_PAGE}.", param="limit")
        limit = int(raw_limit)
        order: Literal["asc", "desc"]
        match q.get("order", "desc"):
            case "asc":
                order = "asc"
            case "desc":
                order = "desc"
            case _:
                raise InvalidRequestError("order: 'asc' or 'desc'.", param="order")
        after = q.get("after")
        if after is not None and await self._store.get_file(who, after) is None:
            raise InvalidRequestError(f"after: no file with id '{after}'.", param="after")
        found = await self._store.list_files(
            who, purpose=q.get("purpose"), order=order, after=after, limit=limit + 1
        )
        page = [_wire(f) for f in found[:limit]]
        return _json(
            FileList(
                page,
                page[0].id if page else None,
                page[-1].id if page else None,
                has_more=len(found) > limit,
            ),
            ex,
        )

    @endpoint(error_response)
    async def retrieve(self, request: Request, ex: Exchange) -> Response:
        _, found = await self._file(request)
        return _json(_wire(found), ex)

    @endpoint(error_response)
    async def content(self, request: Request, ex: Exchange) -> Response:
        who, found = await self._file(request)
        headers = {
            "content-length": str(found.bytes),
            "content-disposition": f"attachment; filename*=UTF-8''{quote(found.filename, safe='')}",
            # Uploaded bytes served from the gateway's origin: never rendered as a page there.
            "x-content-type-options": "nosniff",
            "content-security-policy": "sandbox",
            "x-request-id": ex.request_id,
        }
        parts = self._blobs.read_blob(who, found.id)
        # The first part before the status: a store that fails now is a 503, not a broken 200.
        first = await anext(parts, None)
        if first is None and found.bytes:
            raise NotFoundError(
                f"The contents of file {found.id} are missing from the store.",
                param="file_id",
                code="file_not_found",
            )
        return StreamingResponse(_parts(first, parts), 200, headers, media_type=content_type(found.filename))

    @endpoint(error_response)
    async def delete(self, request: Request, ex: Exchange) -> Response:
        who, found = await self._file(request)
        # The bytes first: a failure at either step leaves the file listed, so deleting it again
        # finishes the job (the other order would leave bytes no request can reach).
        await self._blobs.delete_blob(who, found.id)
        if not await self._store.delete_file(who, found.id):
            raise _not_found(found.id)  # deleted meanwhile by another request
        return _json(DeletedFile(found.id), ex)


async def _parts(first: bytes | None, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first is not None:
        yield first
    async for part in rest:
        yield part
