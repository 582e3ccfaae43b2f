"""The data plane's front door: an exact (method, path) lookup straight to the handler.

The hot endpoints skip Starlette's router and its two exception middlewares, which the
handlers do not need (``api/endpoint.py`` already renders every error): in the bench that
layer stack was a measurable share of the gateway's own CPU per request. Everything else
(health, lifespan, unknown paths) falls through to the Starlette app.

It also counts the requests in flight through it, until their last byte is sent (a stream
included), and those it has started: the batch worker starts lines only while the first is low,
and paces them while the second moves (``batch/pacing.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[ASGIApp]]


class Dispatch:
    def __init__(self, routes: Mapping[tuple[str, str], Handler], fallback: ASGIApp) -> None:
        self._routes = dict(routes)
        self._fallback = fallback
        self.in_flight = 0
        self.started = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._routes.get((scope["method"], scope["path"]))
            if handler is not None:
                self.in_flight += 1
                self.started += 1
                try:
                    response = await handler(Request(scope, receive))
                    await response(scope, receive, send)
                finally:
                    self.in_flight -= 1
                return
        await self._fallback(scope, receive, send)
