"""The outermost layer every data-plane endpoint shares, before and after the first byte: a
SluiceError renders in the surface's shape, anything else is a logged generic 500; every answer
carries ``x-sluice-overhead-ms`` (a model request's, errors included, ``x-sluice-attempts`` too);
and a model request, once over, is handed to the Observer (a stream when its last byte is sent,
by ``relay``)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from sluice.api.body import ClientGone
from sluice.api.context import request_id
from sluice.api.sse import CLIENT_LEFT, SSEResponse
from sluice.errors import InternalError, ShuttingDownError, SluiceError
from sluice.pipeline.observe import Exchange, Observer
from sluice.types import ChunkBatch, ChunkStream

log = logging.getLogger("sluice.api")

CLIENT_GONE = "client_disconnected"


class Observed(Protocol):
    observer: Observer


S = TypeVar("S", bound=Observed)
Handler = Callable[[S, Request, Exchange], Awaitable[Any]]
RenderError = Callable[[SluiceError, str], Response]


def internal_error(rid: str) -> InternalError:
    return InternalError(f"The server had an error processing your request (request id {rid}).")


def error_code(err: SluiceError) -> str:
    return err.code or err.type


def endpoint(
    render: RenderError, name: str | None = None
) -> Callable[[Handler[S]], Callable[[S, Request], Awaitable[Any]]]:
    """Wrap ``async def handler(self, request, exchange)`` with the surface's error rendering.
    ``name`` (``chat``, ``embeddings``, ``messages``) marks a model request, which is observed."""

    def wrap(handler: Handler[S]) -> Callable[[S, Request], Awaitable[Any]]:
        @functools.wraps(handler)
        async def run(self: S, request: Request) -> Any:
            ex = Exchange(request_id(request), name or "")
            observer = self.observer if name is not None and self.observer.enabled else None
            if observer is not None:
                observer.begin(ex)
            error = None
            try:
                response = await handler(self, request, ex)
            except SluiceError as e:
                response, error = render(e, ex.request_id), error_code(e)
            except ClientGone:
                response, error = (
                    Response(status_code=499),
                    CLIENT_GONE,
                )  # nobody is listening; nginx's convention
            except Exception:
                log.exception("unhandled error", extra={"request_id": ex.request_id})
                response, error = render(internal_error(ex.request_id), ex.request_id), "server_error"
            if isinstance(response, SSEResponse):
                return response  # observed by relay, at its end
            if error is not None:
                response.headers["x-sluice-overhead-ms"] = f"{overhead_ms(ex):.3f}"
                if name is not None:  # a model request: its upstream attempts, 0 if it never got that far
                    response.headers["x-sluice-attempts"] = str(
                        len(ex.ctx.attempts) if ex.ctx is not None else 0
                    )
                if ex.ctx is not None and (guardrails := ex.ctx.guardrail_header()) is not None:
                    response.headers["x-sluice-guardrails"] = guardrails
                if ex.ctx is not None and ex.ctx.prompt_version is not None:
                    response.headers["x-sluice-prompt"] = ex.ctx.prompt_version  # which version failed
                if ex.ctx is not None and ex.ctx.choice is not None:
                    response.headers["x-sluice-route"] = ex.ctx.choice.header  # which tier failed
            if observer is not None:
                await observer.finish(ex, response.status_code, error)
            return response

        return run

    return wrap


def overhead_ms(ex: Exchange) -> float:
    if ex.ctx is not None:
        return ex.ctx.overhead_ms()
    return (time.perf_counter() - ex.started) * 1000


async def relay(
    chunks: ChunkStream,
    ex: Exchange,
    observer: Observer,
    frame: Callable[[ChunkBatch], bytes],
    end: Callable[[], bytes],
    error: Callable[[SluiceError], bytes],
) -> AsyncGenerator[bytes, None]:
    """Frame a stream for the wire. After the first byte the status is sent, so a failure
    becomes the surface's final error event (and no end marker); it is observed, once it ends,
    with the status the error would have had before the first byte."""
    code: str | None = CLIENT_GONE
    status = 200
    if observer.enabled:
        observer.watch_stream(ex)
    try:
        async for batch in chunks:
            data = frame(batch)
            if ex.first_byte is None:
                ex.first_byte = time.perf_counter()
            if ex.answer is not None:
                ex.keep_text(batch)
            if data:
                yield data
        yield end()
        code = None
    except SluiceError as e:
        code, status = error_code(e), e.status
        yield error(e)
    except Exception:
        code, status = "server_error", 500
        log.exception("unhandled error mid-stream", extra={"request_id": ex.request_id})
        yield error(internal_error(ex.request_id))
    except asyncio.CancelledError as e:
        if e.args[:1] == (CLIENT_LEFT,):
            raise
        # Cancelled by the server: its shutdown's grace period ran out. Recorded as that (not as
        # the client leaving) before the request log's final flush, then told to the client.
        cut = ShuttingDownError("The server is shutting down: this stream was cut before it finished.")
        status, code = cut.status, error_code(cut)
        await _finish(chunks, ex, observer, status, code)
        yield error(cut)
    finally:
        await _finish(chunks, ex, observer, status, code)


async def _finish(
    chunks: ChunkStream, ex: Exchange, observer: Observer, status: int, code: str | None
) -> None:
    try:
        await chunks.aclose()
    finally:
        if observer.enabled:
            await observer.finish(ex, status, code)
