"""Who may read ``GET /metrics``: anyone who reaches it (Prometheus's convention), or only a
scraper sending the operator's bearer token; and where: the main port, or a listener of its own
(``metrics.port``) run inside the app's lifespan, so it starts and stops with the process."""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sluice.api.context import bearer, request_id
from sluice.api.render import error_response
from sluice.errors import AuthenticationError

log = logging.getLogger("sluice")

Scrape = Callable[[Request], Awaitable[Response]]
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def guarded(scrape: Scrape, token: str | None) -> Scrape:
    """``scrape`` behind ``Authorization: Bearer <token>`` (compared in constant time) when set."""
    if token is None:
        return scrape
    expected = token.encode()

    async def check(request: Request) -> Response:
        given = bearer(request)
        if given is None or not hmac.compare_digest(given.encode(), expected):
            err = AuthenticationError(
                "A valid metrics token is required: send 'Authorization: Bearer <token>'."
            )
            response = error_response(err, request_id(request))
            response.headers["www-authenticate"] = 'Bearer realm="metrics"'
            return response
        return await scrape(request)

    return check


class MetricsListener:
    """``GET /metrics`` alone on its own address. With several workers each binds the port with
    SO_REUSEPORT; any of them answers with the values of all (multiprocess metrics)."""

    def __init__(self, scrape: Scrape, host: str, port: int, not_found: ErrorHandler) -> None:
        app = Starlette(
            routes=[Route("/metrics", scrape, methods=["GET"])], exception_handlers={HTTPException: not_found}
        )
        app.router.redirect_slashes = False
        config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", access_log=False, log_config=None, server_header=False
        )
        self._server = uvicorn.Server(config)
        self._address = (host, port)
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self._address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(self._address)
        self._socket = sock
        # Server.serve() without its signal handlers, which belong to the main server.
        server = self._server
        server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
        await server.startup(sockets=[sock])
        self._task = asyncio.create_task(server.main_loop())
        log.info("metrics listening", extra={"address": f"{self._address[0]}:{self._address[1]}"})

    async def close(self) -> None:
        if self._task is not None and self._socket is not None:  # the socket is set before the task
            self._server.should_exit = True
            await self._task
            await self._server.shutdown(sockets=[self._socket])
