"""Server-sent events out, with client disconnects noticed even while the upstream is quiet.

Starlette's StreamingResponse only learns of a disconnect on its next write under ASGI 2.3, so
a stalled upstream would be held open. Here a watcher waits on ``receive`` and cancels the
relay as soon as the client leaves; closing the relay closes the upstream request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from starlette.types import Receive, Scope, Send

CLIENT_LEFT = "client left"
"""The watcher's cancel message: any other cancel of a stream is the server's (its shutdown)."""

SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]


class SSEResponse:
    def __init__(self, body: AsyncGenerator[bytes, None], headers: list[tuple[bytes, bytes]]) -> None:
        self._body = body
        self._headers = SSE_HEADERS + headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        client_left = False

        async def watch() -> None:
            nonlocal client_left
            while (await receive())["type"] != "http.disconnect":
                pass
            client_left = True
            task.cancel(CLIENT_LEFT)

        watcher = asyncio.create_task(watch())
        try:
            # The body starts before anything can be awaited here: an async generator closed
            # before it started would skip its own ``finally`` (settle, the request's record).
            first = await anext(self._body, b"")
            await send({"type": "http.response.start", "status": 200, "headers": self._headers})
            if first:
                await send({"type": "http.response.body", "body": first, "more_body": True})
            async for data in self._body:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not client_left and not await self._cut(send):
                raise
            task.uncancel()
        except OSError:
            pass  # the client went away between two writes
        finally:
            watcher.cancel()
            await self._body.aclose()

    async def _cut(self, send: Send) -> bool:
        """The server cancelled the stream while it was sending (its shutdown's grace period ran
        out): the body, told so, yields its final error event, which ends the stream. (A cancel
        that lands inside the body is answered there the same way.) False if it had none."""
        try:
            data = await self._body.athrow(asyncio.CancelledError())
        except (StopAsyncIteration, asyncio.CancelledError):
            return False
        await send({"type": "http.response.body", "body": data, "more_body": False})
        return True
