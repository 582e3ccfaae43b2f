"""Stored responses: each answer with the input items the model saw, kept per owner (a tenant,
or a static key of the config, which belongs to none) and encrypted at rest when keys are set.

An answer reaches the store behind the request (a ``BatchWriter``: the client does not wait on
the database); until it is stored this process serves it from memory, and another process that
does not find it yet waits up to ``SETTLE_S`` for it when its id says it was made recently (an id
is known to a client only once its answer was queued to be stored, so it is on its way).

The payload is sealed with ``MultiFernet`` (AES-128-CBC and HMAC-SHA256): the first key seals,
every key opens, so keys rotate by putting a new one first and dropping the old one once
nothing sealed with it is needed. Without keys, payloads are kept in the clear (the app warns).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import msgspec
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from msgspec import Raw

from sluice.api.responses.translate import minted_ms, new_id
from sluice.api.responses.wire import InputItem, InputText, MessageItem, OutputText, ResponseObject
from sluice.errors import InternalError, StoreUnavailableError
from sluice.store.batch_writer import BatchWriter
from sluice.store.protocols import Store
from sluice.store.records import StoredResponse

log = logging.getLogger("sluice.api")

PENDING_MAX = 10_000
"""Answers waiting for the store, at most (the database down): past it an answer is not kept."""
SETTLE_S = 1.0
"""How long a lookup that misses waits for a recently made response to reach the store."""
RECENT_S = 3600.0
"""An id made this long ago or less may still be on its way (an answer's whole generation)."""
_POLL_S = 0.025

_ID_PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco", "reasoning": "rs"}


class Conversation(msgspec.Struct):
    """What is stored for one response: the response object and the items before its output."""

    response: Raw
    items: list[Raw]


class _Output(msgspec.Struct):
    output: list[Raw]


class _Id(msgspec.Struct):
    id: str | None = None


_conversation_decoder = msgspec.json.Decoder(Conversation)
_output_decoder = msgspec.json.Decoder(_Output)
_id_decoder = msgspec.json.Decoder(_Id)
_encoder = msgspec.json.Encoder()


def with_ids(items: Sequence[InputItem]) -> list[Raw]:
    """The items as stored and listed: each with an id (kept when the client gave one), a
    message's text as a content part, as OpenAI lists them."""
    out = []
    for item in items:
        if item.id is None:
            item.id = new_id(_ID_PREFIXES[item.type])
        if isinstance(item, MessageItem) and isinstance(item.content, str):
            text = item.content
            item.content = [OutputText(text) if item.role == "assistant" else InputText(text)]
        out.append(Raw(_encoder.encode(item)))
    return out


def history(conversation: Conversation) -> list[Raw]:
    """The items a follow-up continues from: the stored input items, then the answer's output."""
    return [*conversation.items, *_output_decoder.decode(conversation.response).output]


def item_id(item: Raw) -> str | None:
    return _id_decoder.decode(item).id


class Conversations:
    def __init__(
        self,
        store: Store,
        keys: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._fernet = MultiFernet([Fernet(k) for k in keys]) if keys else None
        self._clock = clock
        self._sleep = sleep
        self._pending: dict[tuple[str, str], StoredResponse] = {}
        self._writer: BatchWriter[StoredResponse] = BatchWriter(
            self._put,
            label="stored responses",
            ident=lambda r: r.id,
            queue_max=PENDING_MAX + 1,
            when_full="drop",
            batch_max=200,
            flush_s=0.0,
        )
        self._started = False

    @property
    def is_encrypted(self) -> bool:
        return self._fernet is not None

    def start(self) -> None:
        self._writer.start()
        self._started = True

    async def close(self, deadline_s: float = 10.0) -> None:
        """Store what is still queued (for up to ``deadline_s`` while the database is down)."""
        if self._started:
            self._started = False
            await self._writer.close(deadline_s)

    def _row(self, owner: str, response: ResponseObject, items: list[Raw]) -> StoredResponse:
        payload = _encoder.encode(Conversation(Raw(_encoder.encode(response)), items))
        if self._fernet is not None:
            payload = self._fernet.encrypt(payload)
        return StoredResponse(owner, response.id, response.created_at, payload, self._fernet is not None)

    async def save(self, owner: str, response: ResponseObject, items: list[Raw]) -> None:
        """Queue the response to be stored; ``load`` finds it from now on. A store failure is
        logged, not raised: the client has its answer, which only a later
        ``previous_response_id`` or ``GET`` will miss."""
        row = self._row(owner, response, items)
        if not self._started:
            await self.keep(row)
            return
        if len(self._pending) >= PENDING_MAX:
            log.error(
                "a response was not stored: too many wait for the database", extra={"response_id": row.id}
            )
            return
        self._pending[(owner, row.id)] = row
        await self._writer.put(row)

    async def save_now(self, owner: str, response: ResponseObject, items: list[Raw]) -> None:
        """Store the response before returning (a background run's answer, which its job's status
        announces): ``StoreUnavailableError`` when the database is down."""
        await self._store.put_responses([self._row(owner, response, items)])

    async def keep(self, row: StoredResponse) -> None:
        try:
            await self._store.put_responses([row])
        except StoreUnavailableError as e:
            log.error("a response was not stored: %s", e.message, extra={"response_id": row.id})

    async def _put(self, rows: Sequence[StoredResponse]) -> None:
        """The writer's batch; its rows leave the pending map once stored, or once refused for
        what is in them (the writer then drops them), never while the database is down."""
        try:
            await self._store.put_responses(rows)
        except StoreUnavailableError:
            raise
        except BaseException:
            if len(rows) == 1:
                self._forget(rows)
            raise
        self._forget(rows)

    def _forget(self, rows: Sequence[StoredResponse]) -> None:
        for r in rows:
            if self._pending.get((r.owner, r.id)) is r:
                del self._pending[(r.owner, r.id)]

    async def _stored(self, owner: str, response_id: str) -> StoredResponse | None:
        """The row from memory or the store; for a miss on an id made recently, the store asked
        again for up to ``SETTLE_S`` (another process may still be writing it)."""
        row = self._pending.get((owner, response_id))
        if row is not None:
            return row
        row = await self._store.get_response(owner, response_id)
        minted = minted_ms(response_id)
        if row is not None or minted is None:
            return row
        now = self._clock()
        if not -5.0 <= now - minted / 1000 <= RECENT_S:
            return None
        end = now + SETTLE_S
        while row is None and self._clock() < end:
            await self._sleep(_POLL_S)
            row = self._pending.get((owner, response_id)) or await self._store.get_response(
                owner, response_id
            )
        return row

    async def load(self, owner: str, response_id: str) -> Conversation | None:
        """The owner's response; None when there is none (another owner's included)."""
        row = await self._stored(owner, response_id)
        if row is None:
            return None
        payload = row.payload
        if row.sealed:
            if self._fernet is None:
                log.error(
                    "a stored response is encrypted and no keys are set", extra={"response_id": response_id}
                )
                raise InternalError(
                    "This response was stored encrypted and no responses.encryption_keys are configured."
                )
            try:
                payload = self._fernet.decrypt(payload)
            except InvalidToken:
                log.error("a stored response cannot be decrypted", extra={"response_id": response_id})
                raise InternalError(
                    "This response was stored under an encryption key that is no longer configured."
                ) from None
        return _conversation_decoder.decode(payload)

    async def delete(self, owner: str, response_id: str) -> bool:
        """Delete the response; one still queued is stored first, then deleted (bounded: a
        database down past ``SETTLE_S`` is a ``StoreUnavailableError``)."""
        if (owner, response_id) in self._pending:
            try:
                async with asyncio.timeout(SETTLE_S * 5):
                    await self._writer.flush()
            except TimeoutError:
                raise StoreUnavailableError("the response is still waiting for the database") from None
        return await self._store.delete_response(owner, response_id)
