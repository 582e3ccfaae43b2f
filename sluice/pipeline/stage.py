"""The one shape of a pipeline stage: a small object with up to four hooks. A stage overrides
only the hooks it needs; the runner (``runner.py``) finds them once, at startup, and calls no
other. Nothing in a stage knows where it stands in the list: the runner's one list decides.

``before``  on the way in, in list order. Reads and writes the request's ``RequestContext`` or
            raises a ``SluiceError``; it may answer early (a cache hit): the stages after it do not
            run, and only the answer hooks of the stages before it see that answer.
``answer``  around a JSON chat answer, as layers: the first stage in the list is the outermost, so
            each sees the answer the stages after it made. ``ask`` asks the model again through
            the layers beneath this one (a schema repair, a content rule's retry or fallback): the
            only way a stage calls a model.
``stream``  the same layers around a stream: wrap ``chunks`` or return them as they are.
``settle``  once per request, whatever happened, in reverse list order, in the runner's
            ``finally`` (a stream's when it ends, fails or is closed): each stage releases or
            records only what it took. ``ctx.usage`` holds what the request used by then.

``internal``: the stage runs for the model calls the gateway makes on its own behalf too (the
semantic cache's judge and embeddings), so they are routed, priced and recorded like a client's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, ClassVar, Protocol

from sluice.types import ChatRequest, ChatResponse, ChunkStream

if TYPE_CHECKING:
    from sluice.pipeline.context import RequestContext


class Ask(Protocol):
    def __call__(self, request: ChatRequest, alias: str | None = None) -> Awaitable[ChatResponse]:
        """The model's answer to ``request`` on the request's route, or on ``alias``'s (checked
        against the models the caller may use), its attempts and usage counted with the request's."""
        ...


class Stage:
    name: ClassVar[str]
    """The stage's span name when tracing is on."""
    internal: ClassVar[bool] = False
    traced: ClassVar[bool] = True
    """Give ``before`` a span of its own (off for the stages that only look at the request)."""

    async def before(self, ctx: RequestContext) -> ChatResponse | None:
        return None

    async def answer(self, ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
        return response

    def stream(self, ctx: RequestContext, chunks: ChunkStream) -> ChunkStream:
        return chunks

    async def settle(self, ctx: RequestContext) -> None:
        return None


def overrides(stage: Stage, hook: str) -> bool:
    """Does ``stage`` have its own ``hook``, not the base class's do-nothing one?"""
    return getattr(type(stage), hook) is not getattr(Stage, hook)
