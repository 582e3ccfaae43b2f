"""The outermost error handling every data-plane endpoint shares, before and after the first
byte: a SluiceError renders in the surface's shape, anything else is a logged generic 500."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from sluice.api.body import ClientGone
from sluice.api.context import request_id
from sluice.errors import InternalError, SluiceError
from sluice.types import ChunkBatch

log = logging.getLogger("sluice.api")

S = TypeVar("S")
Handler = Callable[[S, Request, str], Awaitable[Any]]
RenderError = Callable[[SluiceError, str], Response]


def internal_error(rid: str) -> InternalError:
    return InternalError(f"The server had an error processing your request (request id {rid}).")


def endpoint(render: RenderError) -> Callable[[Handler[S]], Callable[[S, Request], Awaitable[Any]]]:
    """Wrap ``async def handler(self, request, request_id)`` with the surface's error rendering."""

    def wrap(handler: Handler[S]) -> Callable[[S, Request], Awaitable[Any]]:
        @functools.wraps(handler)
        async def run(self: S, request: Request) -> Any:
            rid = request_id(request)
            try:
                return await handler(self, request, rid)
            except SluiceError as e:
                return render(e, rid)
            except ClientGone:
                return Response(status_code=499)  # nobody is listening; nginx's convention
            except Exception:
                log.exception("unhandled error", extra={"request_id": rid})
                return render(internal_error(rid), rid)

        return run

    return wrap


async def relay(
    chunks: AsyncIterator[ChunkBatch],
    rid: str,
    frame: Callable[[ChunkBatch], bytes],
    end: Callable[[], bytes],
    error: Callable[[SluiceError], bytes],
) -> AsyncIterator[bytes]:
    """Frame a stream for the wire. After the first byte the status is sent, so a failure
    becomes the surface's final error event."""
    try:
        async for batch in chunks:
            data = frame(batch)
            if data:
                yield data
        yield end()
    except SluiceError as e:
        yield error(e)
    except Exception:
        log.exception("unhandled error mid-stream", extra={"request_id": rid})
        yield error(internal_error(rid))
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
