"""``/v1/vector_stores`` in OpenAI's shape: stores, their files and file batches, and search.
Everything belongs to an owner as files do (``tenant:<id>`` or ``key:<name>``); another owner's
store, file or batch is the same 404 as a missing one, on every route. Attaching a file queues it
for the ingestion worker (``sluice/knowledge/ingest.py``); the request never parses or embeds."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.body import decode, read_body
from sluice.api.context import bearer
from sluice.api.endpoint import endpoint
from sluice.api.render import error_response
from sluice.auth.principal import owner
from sluice.errors import InvalidRequestError, NotFoundError, QuotaExceededError
from sluice.knowledge import rank
from sluice.knowledge.chunk import joined, strategy
from sluice.knowledge.search import Searcher
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.store.protocols import Store
from sluice.store.records import VectorStore, VectorStoreFile
from sluice.types import encoder

MAX_BODY_BYTES = 1024 * 1024
MAX_PAGE = 100  # OpenAI's limit range is 1 to 100, default 20
MAX_FILES_PER_REQUEST = 500  # OpenAI's for file_ids on create and in a batch
MAX_METADATA = 16
MAX_RESULTS = 50
DAY_S = 86_400

Attr = str | float | bool


class ExpiresAfter(msgspec.Struct, forbid_unknown_fields=True):
    anchor: Literal["last_active_at"]
    days: int


class CreateStore(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    description: str | None = None
    file_ids: list[str] | None = None
    chunking_strategy: dict[str, Any] | None = None
    expires_after: ExpiresAfter | None = None
    metadata: dict[str, str] | None = None


class ModifyStore(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    expires_after: ExpiresAfter | msgspec.UnsetType | None = msgspec.UNSET
    metadata: dict[str, str] | None = None


class AttachFile(msgspec.Struct, forbid_unknown_fields=True):
    file_id: str
    attributes: dict[str, Any] | None = None
    chunking_strategy: dict[str, Any] | None = None


class UpdateAttributes(msgspec.Struct, forbid_unknown_fields=True):
    attributes: dict[str, Any] | None


class CreateBatch(msgspec.Struct, forbid_unknown_fields=True):
    file_ids: list[str] | None = None
    files: list[AttachFile] | None = None
    attributes: dict[str, Any] | None = None
    chunking_strategy: dict[str, Any] | None = None


class RankingOptions(msgspec.Struct, forbid_unknown_fields=True):
    ranker: Literal["none", "auto", "default-2024-11-15"] | None = None
    score_threshold: float = 0.0


class SearchBody(msgspec.Struct, forbid_unknown_fields=True):
    query: str | list[str]
    filters: dict[str, Any] | None = None
    max_num_results: int = 10
    ranking_options: RankingOptions | None = None
    rewrite_query: bool = False


_create = msgspec.json.Decoder(CreateStore)
_modify = msgspec.json.Decoder(ModifyStore)
_attach = msgspec.json.Decoder(AttachFile)
_batch = msgspec.json.Decoder(CreateBatch)
_update_attributes = msgspec.json.Decoder(UpdateAttributes)
_search = msgspec.json.Decoder(SearchBody)


def _json(body: Any, ex: Exchange) -> Response:
    return Response(encoder.encode(body), 200, {"x-request-id": ex.request_id}, media_type="application/json")


def _store_missing(store_id: str) -> NotFoundError:
    return NotFoundError(
        f"No vector store found with id '{store_id}'.", param="vector_store_id", code="vector_store_not_found"
    )


def _wire_store(vs: VectorStore, now: int) -> dict[str, Any]:
    counts = vs.file_counts
    status = "in_progress" if counts.get("in_progress") else "completed"
    if vs.expires_at is not None and vs.expires_at <= now:
        status = "expired"
    return {
        "id": vs.id,
        "object": "vector_store",
        "created_at": vs.created_at,
        "name": vs.name or "",
        "usage_bytes": vs.usage_bytes,
        "file_counts": counts,
        "status": status,
        "expires_after": vs.expires_after,
        "expires_at": vs.expires_at,
        "last_active_at": vs.last_active_at,
        "metadata": vs.metadata,
    }


def _wire_file(f: VectorStoreFile) -> dict[str, Any]:
    error = None if f.error_code is None else {"code": f.error_code, "message": f.error_message or ""}
    return {
        "id": f.file_id,
        "object": "vector_store.file",
        "usage_bytes": f.usage_bytes,
        "created_at": f.created_at,
        "vector_store_id": f.store_id,
        "status": f.status,
        "last_error": error,
        "chunking_strategy": f.chunking,
        "attributes": f.attributes,
    }


def _check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    metadata = metadata or {}
    if len(metadata) > MAX_METADATA:
        raise InvalidRequestError(f"metadata: at most {MAX_METADATA} pairs.", param="metadata")
    for k, v in metadata.items():
        if len(k) > 64 or len(v) > 512:
            raise InvalidRequestError(
                "metadata: keys of at most 64 characters, values of at most 512.", param=f"metadata.{k[:64]}"
            )
    return metadata


def _check_attributes(attributes: dict[str, Any] | None, param: str) -> dict[str, Attr]:
    attributes = attributes or {}
    if len(attributes) > MAX_METADATA:
        raise InvalidRequestError(f"attributes: at most {MAX_METADATA} pairs.", param=param)
    for k, v in attributes.items():
        if not isinstance(v, str | int | float | bool):
            raise InvalidRequestError(
                "attributes: values are strings, numbers or booleans.", param=f"{param}.{k[:64]}"
            )
        if len(k) > 64 or (isinstance(v, str) and len(v) > 512):
            raise InvalidRequestError(
                "attributes: keys of at most 64 characters, string values of at most 512.",
                param=f"{param}.{k[:64]}",
            )
    return attributes


def _expiry(after: ExpiresAfter | None, last_active: int) -> tuple[dict[str, Any] | None, int | None]:
    if after is None:
        return None, None
    if not 1 <= after.days <= 365:
        raise InvalidRequestError("expires_after.days: an integer from 1 to 365.", param="expires_after.days")
    return {"anchor": after.anchor, "days": after.days}, last_active + after.days * DAY_S


def _page_params(request: Request) -> tuple[int, Literal["asc", "desc"], str | None, str | None]:
    q = request.query_params
    raw = q.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidRequestError(f"limit: an integer from 1 to {MAX_PAGE}.", param="limit")
    order: Literal["asc", "desc"]
    match q.get("order", "desc"):
        case "asc":
            order = "asc"
        case "desc":
            order = "desc"
        case _:
            raise InvalidRequestError("order: 'asc' or 'desc'.", param="order")
    return int(raw), order, q.get("after"), q.get("before")


def _page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }


class VectorStoreRoutes:
    def __init__(
        self,
        authenticate: AuthenticateStage,
        store: Store,
        observer: Observer,
        *,
        wake: Callable[[], None],
        searcher: Searcher,
        max_stores: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._authenticate = authenticate
        self._store = store
        self._wake = wake
        self._searcher = searcher
        self._max_stores = max_stores
        self._clock = clock
        self.observer = observer  # read by ``endpoint`` for model requests only: these are none

    async def _owner(self, request: Request) -> str:
        return owner(await self._authenticate.principal(bearer(request)))

    async def _vector_store(self, request: Request) -> tuple[str, VectorStore]:
        who = await self._owner(request)
        store_id = request.path_params["vector_store_id"]
        found = await self._store.get_vector_store(who, store_id)
        if found is None:
            raise _store_missing(store_id)
        return who, found

    async def _attach(
        self,
        who: str,
        store_id: str,
        files: list[tuple[str, dict[str, Attr], dict[str, Any] | None]],
        param: str,
        batch_id: str | None = None,
    ) -> list[VectorStoreFile]:
        """Check every file is the owner's, then queue them all for ingestion."""
        if len(files) > MAX_FILES_PER_REQUEST:
            raise InvalidRequestError(f"{param}: at most {MAX_FILES_PER_REQUEST} files.", param=param)
        now = int(self._clock())
        rows = []
        for i, (file_id, attributes, chunking) in enumerate(files):
            if await self._store.get_file(who, file_id) is None:
                raise NotFoundError(
                    f"No such File object: {file_id}", param=f"{param}[{i}]", code="file_not_found"
                )
            how = strategy(chunking)
            rows.append(
                VectorStoreFile(who, store_id, file_id, now, "in_progress", how.wire(), attributes, batch_id)
            )
        if rows:
            await self._store.attach_files(rows)
            self._wake()
        return rows

    # --- vector stores ---------------------------------------------------------------------

    @endpoint(error_response)
    async def create(self, request: Request, ex: Exchange) -> Response:
        who = await self._owner(request)
        body = decode(await read_body(request, MAX_BODY_BYTES), _create)
        now = int(self._clock())
        metadata = _check_metadata(body.metadata)
        expires_after, expires_at = _expiry(body.expires_after, now)
        strategy(body.chunking_strategy)  # checked before anything is stored
        vs = VectorStore(
            who, "vs_" + secrets.token_hex(12), body.name, now, now, metadata, expires_after, expires_at
        )
        file_ids = list(dict.fromkeys(body.file_ids or []))
        if len(file_ids) > MAX_FILES_PER_REQUEST:
            raise InvalidRequestError(f"file_ids: at most {MAX_FILES_PER_REQUEST} files.", param="file_ids")
        for i, file_id in enumerate(file_ids):
            if await self._store.get_file(who, file_id) is None:
                raise NotFoundError(
                    f"No such File object: {file_id}", param=f"file_ids[{i}]", code="file_not_found"
                )
        if not await self._store.create_vector_store(vs, max_stores=self._max_stores):
            raise QuotaExceededError(
                f"Vector store quota exceeded: the limit is {self._max_stores}. Delete some to create more.",
                code="vector_store_quota_exceeded",
            )
        await self._attach(who, vs.id, [(f, {}, body.chunking_strategy) for f in file_ids], "file_ids")
        made = await self._store.get_vector_store(who, vs.id)
        return _json(_wire_store(made or vs, now), ex)

    @endpoint(error_response)
    async def list_stores(self, request: Request, ex: Exchange) -> Response:
        who = await self._owner(request)
        limit, order, after, before = _page_params(request)
        if before is not None:  # walking back: the other order past ``before``, then turned round
            found = await self._store.list_vector_stores(
                who, order="desc" if order == "asc" else "asc", after=before, limit=limit + 1
            )
            found = found[:limit][::-1]
        else:
            found = await self._store.list_vector_stores(who, order=order, after=after, limit=limit + 1)
        now = int(self._clock())
        return _json(_page([_wire_store(v, now) for v in found], limit), ex)

    @endpoint(error_response)
    async def retrieve(self, request: Request, ex: Exchange) -> Response:
        _, vs = await self._vector_store(request)
        return _json(_wire_store(vs, int(self._clock())), ex)

    @endpoint(error_response)
    async def modify(self, request: Request, ex: Exchange) -> Response:
        _, vs = await self._vector_store(request)
        body = decode(await read_body(request, MAX_BODY_BYTES), _modify)
        now = int(self._clock())
        changed = msgspec.structs.replace(vs, last_active_at=now)
        if body.name is not None:
            changed = msgspec.structs.replace(changed, name=body.name)
        if body.metadata is not None:
            changed = msgspec.structs.replace(changed, metadata=_check_metadata(body.metadata))
        if body.expires_after is not msgspec.UNSET:
            expires_after, expires_at = _expiry(body.expires_after, now)
            changed = msgspec.structs.replace(changed, expires_after=expires_after, expires_at=expires_at)
        elif changed.expires_after is not None:
            changed = msgspec.structs.replace(changed, expires_at=now + changed.expires_after["days"] * DAY_S)
        if not await self._store.update_vector_store(changed):
            raise _store_missing(vs.id)
        return _json(_wire_store(changed, now), ex)

    @endpoint(error_response)
    async def delete(self, request: Request, ex: Exchange) -> Response:
        who = await self._owner(request)
        store_id = request.path_params["vector_store_id"]
        if not await self._store.delete_vector_store(who, store_id):
            raise _store_missing(store_id)
        return _json({"id": store_id, "object": "vector_store.deleted", "deleted": True}, ex)

    # --- files -----------------------------------------------------------------------------

    @endpoint(error_response)
    async def create_file(self, request: Request, ex: Exchange) -> Response:
        who, vs = await self._vector_store(request)
        body = decode(await read_body(request, MAX_BODY_BYTES), _attach)
        attributes = _check_attributes(body.attributes, "attributes")
        if await self._store.get_file(who, body.file_id) is None:
            raise NotFoundError(
                f"No such File object: {body.file_id}", param="file_id", code="file_not_found"
            )
        rows = await self._attach(who, vs.id, [(body.file_id, attributes, body.chunking_strategy)], "file_id")
        return _json(_wire_file(rows[0]), ex)

    @endpoint(error_response)
    async def list_files(self, request: Request, ex: Exchange) -> Response:
        who, vs = await self._vector_store(request)
        return await self._list_files(request, ex, who, vs.id, None)

    async def _list_files(
        self, request: Request, ex: Exchange, who: str, store_id: str, batch_id: str | None
    ) -> Response:
        limit, order, after, before = _page_params(request)
        status = request.query_params.get("filter")
        if status is not None and status not in ("in_progress", "completed", "failed", "cancelled"):
            raise InvalidRequestError(
                "filter: one of in_progress, completed, failed, cancelled.", param="filter"
            )
        if before is not None:
            found = await self._store.list_vector_store_files(
                who,
                store_id,
                status=status,
                batch_id=batch_id,
                order="desc" if order == "asc" else "asc",
                after=before,
                limit=limit + 1,
            )
            found = found[:limit][::-1]
        else:
            found = await self._store.list_vector_store_files(
                who, store_id, status=status, batch_id=batch_id, order=order, after=after, limit=limit + 1
            )
        return _json(_page([_wire_file(f) for f in found], limit), ex)

    async def _file(self, request: Request) -> tuple[str, VectorStoreFile]:
        who, vs = await self._vector_store(request)
        file_id = request.path_params["file_id"]
        found = await self._store.get_vector_store_file(who, vs.id, file_id)
        if found is None:
            raise NotFoundError(
                f"No file found with id '{file_id}' in vector store '{vs.id}'.",
                param="file_id",
                code="file_not_found",
            )
        return who, found

    @endpoint(error_response)
    async def retrieve_file(self, request: Request, ex: Exchange) -> Response:
        _, found = await self._file(request)
        return _json(_wire_file(found), ex)

    @endpoint(error_response)
    async def file_content(self, request: Request, ex: Exchange) -> Response:
        who, found = await self._file(request)
        text = joined(await self._store.file_chunks(who, found.store_id, found.file_id))
        data = [{"type": "text", "text": text}] if text else []
        return _json(
            {"object": "vector_store.file_content.page", "data": data, "has_more": False, "next_page": None},
            ex,
        )

    @endpoint(error_response)
    async def update_file(self, request: Request, ex: Exchange) -> Response:
        who, found = await self._file(request)
        body = decode(await read_body(request, MAX_BODY_BYTES), _update_attributes)
        attributes = _check_attributes(body.attributes, "attributes")
        changed = await self._store.set_file_attributes(who, found.store_id, found.file_id, attributes)
        if changed is None:
            raise NotFoundError(
                f"No file found with id '{found.file_id}'.", param="file_id", code="file_not_found"
            )
        return _json(_wire_file(changed), ex)

    @endpoint(error_response)
    async def delete_file(self, request: Request, ex: Exchange) -> Response:
        who, found = await self._file(request)
        await self._store.detach_file(who, found.store_id, found.file_id)
        return _json({"id": found.file_id, "object": "vector_store.file.deleted", "deleted": True}, ex)

    # --- file batches ----------------------------------------------------------------------

    @endpoint(error_response)
    async def create_batch(self, request: Request, ex: Exchange) -> Response:
        who, vs = await self._vector_store(request)
        body = decode(await read_body(request, MAX_BODY_BYTES), _batch)
        if (body.file_ids is None) == (body.files is None):
            raise InvalidRequestError("Send exactly one of 'file_ids' and 'files'.", param="file_ids")
        shared = _check_attributes(body.attributes, "attributes")
        files: list[tuple[str, dict[str, Attr], dict[str, Any] | None]]
        if body.file_ids is not None:
            files = [(f, shared, body.chunking_strategy) for f in dict.fromkeys(body.file_ids)]
            param = "file_ids"
        else:
            files = [
                (
                    f.file_id,
                    _check_attributes(f.attributes, f"files[{i}].attributes")
                    if f.attributes is not None
                    else shared,
                    f.chunking_strategy if f.chunking_strategy is not None else body.chunking_strategy,
                )
                for i, f in enumerate(body.files or [])
            ]
            param = "files"
        if not files:
            raise InvalidRequestError(f"{param}: at least one file.", param=param)
        batch_id = "vsfb_" + secrets.token_hex(12)
        rows = await self._attach(who, vs.id, files, param, batch_id)
        return _json(self._wire_batch(vs.id, batch_id, rows), ex)

    def _wire_batch(self, store_id: str, batch_id: str, rows: list[VectorStoreFile]) -> dict[str, Any]:
        counts = {s: 0 for s in ("in_progress", "completed", "failed", "cancelled")}
        for f in rows:
            counts[f.status] += 1
        counts["total"] = len(rows)
        status = "in_progress" if counts["in_progress"] else "completed"
        if counts["cancelled"] and not counts["in_progress"]:
            status = "cancelled"
        return {
            "id": batch_id,
            "object": "vector_store.files_batch",
            "created_at": min((f.created_at for f in rows), default=int(self._clock())),
            "vector_store_id": store_id,
            "status": status,
            "file_counts": counts,
        }

    async def _batch_rows(self, request: Request) -> tuple[str, str, str, list[VectorStoreFile]]:
        who, vs = await self._vector_store(request)
        batch_id = request.path_params["batch_id"]
        rows = await self._store.list_vector_store_files(
            who, vs.id, status=None, batch_id=batch_id, order="asc", after=None, limit=MAX_FILES_PER_REQUEST
        )
        if not rows:
            raise NotFoundError(
                f"No file batch found with id '{batch_id}' in vector store '{vs.id}'.",
                param="batch_id",
                code="file_batch_not_found",
            )
        return who, vs.id, batch_id, rows

    @endpoint(error_response)
    async def retrieve_batch(self, request: Request, ex: Exchange) -> Response:
        _, store_id, batch_id, rows = await self._batch_rows(request)
        return _json(self._wire_batch(store_id, batch_id, rows), ex)

    @endpoint(error_response)
    async def cancel_batch(self, request: Request, ex: Exchange) -> Response:
        who, store_id, batch_id, _ = await self._batch_rows(request)
        await self._store.cancel_batch(who, store_id, batch_id)
        _, _, _, rows = await self._batch_rows(request)
        return _json(self._wire_batch(store_id, batch_id, rows), ex)

    @endpoint(error_response)
    async def list_batch_files(self, request: Request, ex: Exchange) -> Response:
        who, store_id, batch_id, _ = await self._batch_rows(request)
        return await self._list_files(request, ex, who, store_id, batch_id)

    # --- search ----------------------------------------------------------------------------

    @endpoint(error_response)
    async def search(self, request: Request, ex: Exchange) -> Response:
        who, vs = await self._vector_store(request)
        body = decode(await read_body(request, MAX_BODY_BYTES), _search)
        queries = [body.query] if isinstance(body.query, str) else body.query
        if not queries or not any(q.strip() for q in queries):
            raise InvalidRequestError("query: a non-empty string or list of strings.", param="query")
        if not 1 <= body.max_num_results <= MAX_RESULTS:
            raise InvalidRequestError(
                f"max_num_results: an integer from 1 to {MAX_RESULTS}.", param="max_num_results"
            )
        threshold = body.ranking_options.score_threshold if body.ranking_options else 0.0
        if not 0.0 <= threshold <= 1.0:
            raise InvalidRequestError(
                "ranking_options.score_threshold: a number from 0 to 1.",
                param="ranking_options.score_threshold",
            )
        filters = None if body.filters is None else rank.parse_filter(body.filters)
        found = await self._searcher.search(
            who,
            [vs.id],
            queries,
            max_results=body.max_num_results,
            filters=filters,
            score_threshold=threshold,
            rerank=body.ranking_options is None or body.ranking_options.ranker != "none",
        )
        data = [
            {
                "file_id": f.hit.file_id,
                "filename": f.hit.filename,
                "score": f.score,
                "attributes": f.hit.attributes,
                "content": [{"type": "text", "text": f.hit.text}],
            }
            for f in found
        ]
        page = {
            "object": "vector_store.search_results.page",
            "search_query": queries,  # rewrite_query is accepted; the query is searched as sent
            "data": data,
            "has_more": False,
            "next_page": None,
        }
        return _json(page, ex)
