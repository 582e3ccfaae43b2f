"""Background responses (``background: true``): the request is stored as a job (``api/background.py``)
and run by the batch worker; ``ResponseLines`` is how the worker's line runner turns the stored
request into a chat request and the answer into the response object, stored like any
``store: true`` answer (so ``GET`` and ``previous_response_id`` find it). Until then, ``shown``
is the response object a client polls: ``queued``, ``in_progress``, ``failed`` or ``cancelled``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from msgspec import Raw

from sluice.api.responses.conversations import Conversations, history, with_ids
from sluice.api.responses.translate import (
    decode_items,
    decode_request,
    input_items,
    shell,
    to_chat_request,
    to_response,
)
from sluice.api.responses.wire import ResponseError, ResponseObject
from sluice.batch.background import job_status
from sluice.errors import NotFoundError
from sluice.store.records import BackgroundJob, ClaimedLine
from sluice.types import ChatRequest, ChatResponse, encoder


class _Error(msgspec.Struct):
    code: str | None = None
    message: str = ""


class _ErrorBody(msgspec.Struct):
    error: _Error


_error_decoder = msgspec.json.Decoder(_ErrorBody)

Done = Callable[[ChatResponse], Awaitable[bytes]]


class ResponseLines:
    def __init__(self, conversations: Conversations) -> None:
        self._conversations = conversations

    async def prepare(self, line: ClaimedLine) -> tuple[ChatRequest, Done]:
        """The chat request to run for a background response's line, and what makes the response
        object of its answer (stored, then encoded as the line's result)."""
        req = decode_request(line.body.encode())
        items = input_items(req)
        earlier: list[Raw] = []
        if req.previous_response_id is not None:
            found = await self._conversations.load(line.owner, req.previous_response_id)
            if found is None:
                raise NotFoundError(
                    f"Response with id '{req.previous_response_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            earlier = history(found)
        chat = to_chat_request(req, [*decode_items(earlier), *items])
        base = shell(req, line.batch_id, int(line.custom_id))
        base.background = True
        stored = [*earlier, *with_ids(items)]

        async def done(response: ChatResponse) -> bytes:
            answer = to_response(response, base)
            answer.background = True
            await self._conversations.delete(line.owner, answer.id)  # a run before a crash saved one
            await self._conversations.save_now(line.owner, answer, stored)  # before its job says done
            return encoder.encode(answer)

        return chat, done


def shown(job: BackgroundJob) -> ResponseObject:
    """The response object of a background response without a stored answer."""
    b = job.batch
    obj = shell(decode_request(job.body.encode()), b.id, b.created_at)
    obj.background = True
    status = job_status(job)
    obj.status = "failed" if status == "expired" else status
    r = job.result
    if obj.status == "failed" and r is not None:
        code, message = r.error_code or "server_error", r.error_message or "The response failed."
        if r.response:
            try:
                e = _error_decoder.decode(r.response).error
                code, message = e.code or code, e.message or message
            except msgspec.DecodeError:
                pass
        obj.error = ResponseError(code, message)
    if obj.status in ("failed", "cancelled"):
        obj.completed_at = b.completed_at or b.cancelled_at or b.expired_at
    return obj
