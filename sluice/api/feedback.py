"""``POST /v1/feedback``: a rating of one of the caller's own requests (thumbs or a score in
[0, 1], an optional comment and tags), which feeds its prompt version's quality. Only the tenant
that made the request may rate it: another tenant's request id is the same 404 as an unknown one."""

from __future__ import annotations

import time
from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.body import decode, read_body
from sluice.api.context import bearer
from sluice.api.endpoint import endpoint
from sluice.api.render import error_response
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.store.protocols import Store
from sluice.store.records import Feedback
from sluice.types import encoder

MAX_BODY_BYTES = 16_384


class FeedbackBody(msgspec.Struct, forbid_unknown_fields=True):
    request_id: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    score: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    thumbs: Literal["up", "down"] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    tags: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=20)
    ] = []


class FeedbackOut(msgspec.Struct):
    object: str
    request_id: str
    score: float


_decoder = msgspec.json.Decoder(FeedbackBody)


class FeedbackRoutes:
    def __init__(self, authenticate: AuthenticateStage, store: Store, observer: Observer) -> None:
        self._authenticate = authenticate
        self._store = store
        self.observer = observer  # read by ``endpoint`` for model requests only: this is none

    @endpoint(error_response)
    async def create(self, request: Request, ex: Exchange) -> Response:
        principal = await self._authenticate.principal(bearer(request))
        body = decode(await read_body(request, MAX_BODY_BYTES), _decoder)
        if (body.score is None) == (body.thumbs is None):
            raise InvalidRequestError(
                "Send exactly one of 'score' (0 to 1) and 'thumbs' ('up' or 'down').", param="score"
            )
        score = body.score if body.score is not None else (1.0 if body.thumbs == "up" else 0.0)
        tenant_id = principal.tenant_id
        kept = tenant_id is not None and await self._store.put_feedback(
            Feedback(tenant_id, body.request_id, score, int(time.time()), body.comment, body.tags)
        )
        if not kept:
            raise NotFoundError(
                f"No request `{body.request_id}` that ran a stored prompt for this key's tenant.",
                param="request_id",
                code="request_not_found",
            )
        out = FeedbackOut("feedback", body.request_id, score)
        return Response(
            encoder.encode(out), headers={"x-request-id": ex.request_id}, media_type="application/json"
        )
