"""A canned HTTP server on 127.0.0.1 for feeding the real ``anthropic`` SDK the bytes this
surface produces (a Message JSON, an SSE stream, an error), without the rest of the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import anthropic
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


class CannedServer:
    """Answers every ``POST /v1/messages`` with ``reply``."""

    def __init__(self) -> None:
        self.reply = Canned()
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(
            status=self.reply.status, body=self.reply.body, content_type=self.reply.content_type
        )


@pytest.fixture
async def canned() -> AsyncIterator[CannedServer]:
    server = CannedServer()
    async with local_server("/v1/messages", server.handle) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture
async def sdk(canned: CannedServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=canned.base_url, api_key="sk-test", max_retries=0, timeout=10)
    yield client
    await client.close()
