"""Stored responses: each answer with the input items the model saw, kept per owner (a tenant,
or a static key of the config, which belongs to none) and encrypted at rest when keys are set.

The payload is sealed with ``MultiFernet`` (AES-128-CBC and HMAC-SHA256): the first key seals,
every key opens, so keys rotate by putting a new one first and dropping the old one once
nothing sealed with it is needed. Without keys, payloads are kept in the clear (the app warns).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import msgspec
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from msgspec import Raw

from sluice.api.responses.translate import new_id
from sluice.api.responses.wire import InputItem, InputText, MessageItem, OutputText, ResponseObject
from sluice.errors import InternalError, StoreUnavailableError
from sluice.store.protocols import Store
from sluice.store.records import StoredResponse

log = logging.getLogger("sluice.api")

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
    def __init__(self, store: Store, keys: Sequence[str]) -> None:
        self._store = store
        self._fernet = MultiFernet([Fernet(k) for k in keys]) if keys else None

    @property
    def is_encrypted(self) -> bool:
        return self._fernet is not None

    async def save(self, owner: str, response: ResponseObject, items: list[Raw]) -> None:
        """Store the response. A store failure is logged, not raised: the client has its answer,
        which only a later ``previous_response_id`` or ``GET`` will miss."""
        payload = _encoder.encode(Conversation(Raw(_encoder.encode(response)), items))
        if self._fernet is not None:
            payload = self._fernet.encrypt(payload)
        row = StoredResponse(owner, response.id, response.created_at, payload, self._fernet is not None)
        try:
            await self._store.put_response(row)
        except StoreUnavailableError as e:
            log.error("a response was not stored: %s", e.message, extra={"response_id": response.id})

    async def load(self, owner: str, response_id: str) -> Conversation | None:
        """The owner's response; None when there is none (another owner's included)."""
        row = await self._store.get_response(owner, response_id)
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
        return await self._store.delete_response(owner, response_id)
