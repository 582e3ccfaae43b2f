"""The one way the project opens Redis: every call bounded by the timeout, never sent twice,
never sent on a connection Redis already closed, and failures translated to
``StoreUnavailableError`` where they enter.

Lua scripts go through ``BoundedRedis.eval``, which pipelines: every script call made in the
same turn of the event loop (one request's rate-limit admission and budget reservation, issued
together, and other requests' calls made meanwhile) leaves in one write and comes back in one
read. That is how a request with limits and budgets on costs one round trip to admit and one to
settle, however many features keep counters."""

from __future__ import annotations

import asyncio
import hashlib
import select
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Connection, Redis, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.maint_notifications import MaintNotificationsConfig

from sluice.errors import StoreUnavailableError

T = TypeVar("T")


# Hang-up events of a socket: POLLRDHUP (Linux) is the peer's FIN; POLLHUP and POLLERR a reset.
_HANG_UP = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR


class _HangUpCheck(AbstractConnection):
    """Mixed into redis-py's connection classes: before sending, ask the kernel whether Redis
    hung up (a restart, CLIENT KILL, an idle timeout) and if so connect anew first. The pool
    already replaces a connection whose close the event loop has read; this also covers one whose
    FIN arrived since the loop last ran. So a command broken by a restart is sent once, on a new
    connection; nothing is resent after a failure, since a script may have run (a reservation,
    an admission) before the connection broke."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self.is_connected and _has_hung_up(self._writer):
            await self.disconnect(nowait=True)
        await super().send_packed_command(command, check_health)


class _LiveTcpConnection(_HangUpCheck, Connection): ...


class _LiveSslConnection(_HangUpCheck, SSLConnection): ...


class _LiveUnixConnection(_HangUpCheck, UnixDomainSocketConnection): ...


# The class redis-py picks for the URL's scheme (redis://, rediss://, unix://) -> ours.
_LIVE: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: _LiveTcpConnection,
    SSLConnection: _LiveSslConnection,
    UnixDomainSocketConnection: _LiveUnixConnection,
}


def _has_hung_up(writer: asyncio.StreamWriter | None) -> bool:
    sock = None if writer is None else writer.get_extra_info("socket")
    if sock is None:
        return False
    poller = select.poll()
    poller.register(sock.fileno(), _HANG_UP)
    return bool(poller.poll(0))  # a zero timeout: a non-blocking look at the socket's state


def connect_redis(url: str, timeout_s: float) -> Redis:
    """A lazy client (it connects on first use); the caller decides whether to retry.

    Maintenance notifications (a Redis Enterprise feature, "auto" by default on RESP3) are off:
    while on, redis-py's pool skips its check for a connection Redis closed, and hands out one
    broken by a Redis restart, which fails the next command sent on it."""
    client = Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )
    pool = client.connection_pool
    pool.connection_class = _LIVE[pool.connection_class]  # the URL's scheme chose it
    return client


@dataclass(frozen=True, slots=True)
class Script:
    lua: str
    sha: str


@dataclass(frozen=True, slots=True)
class _Call:
    script: Script
    keys: Sequence[str]
    args: Sequence[Any]
    reply: asyncio.Future[Any]


class BoundedRedis:
    """A client for the features' Lua scripts, shared by them. ``eval`` queues a script call and
    sends the queue once this turn of the event loop ends; ``finish`` waits for a write (a
    settle) that must complete even when its caller is cancelled, and ``close`` waits for those
    still running."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.redis = connect_redis(url, timeout_s)
        self._timeout_s = timeout_s
        self._queue: list[_Call] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._closed = False

    @staticmethod
    def script(lua: str) -> Script:
        return Script(lua, hashlib.sha1(lua.encode()).hexdigest())

    def eval(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> asyncio.Future[Any]:
        """The script's reply, or ``StoreUnavailableError`` when Redis did not answer in time.
        The call is sent even if the caller stops waiting for it."""
        loop = asyncio.get_running_loop()
        call = _Call(script, keys, args, loop.create_future())
        self._queue.append(call)
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        return call.reply

    async def run(
        self, script: Script, keys: Sequence[str], args: Sequence[Any], undo: Callable[[Any], Awaitable[None]]
    ) -> Any:
        """``eval`` for a call that records something the caller must later release (an
        admission, a reservation): when the caller is cancelled before the reply arrives (a
        client disconnect), ``undo`` gets the reply once it does, so nothing stays held."""
        reply = self.eval(script, keys, args)
        try:
            return await asyncio.shield(reply)
        except asyncio.CancelledError:
            reply.add_done_callback(lambda r: self._undo(r, undo))
            raise

    async def call(self, call: Awaitable[T]) -> T:
        """One plain command (not a script), bounded and translated."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await call
        except (RedisError, OSError, TimeoutError) as e:
            raise _unavailable(e) from None

    async def finish(self, reply: asyncio.Future[Any]) -> Any:
        """The reply, which arrives (and is applied) even when the caller is cancelled."""
        return await asyncio.shield(reply)

    async def ping_ms(self) -> float:
        """Round-trip time of a PING, for ``/health/ready``."""
        started = time.perf_counter()  # uvloop's loop.time() counts whole milliseconds
        await self.call(self.redis.ping())
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._queue:
            self._flush()
        if self._sending:
            await asyncio.wait(self._sending, timeout=self._timeout_s * 2)
        await self.redis.aclose()

    def _undo(self, reply: asyncio.Future[Any], undo: Callable[[Any], Awaitable[None]]) -> None:
        if reply.exception() is None:
            task = asyncio.ensure_future(undo(reply.result()))
            self._sending.add(task)
            task.add_done_callback(self._undone)

    def _undone(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled():
            task.exception()  # a failed undo is a lease or a reservation left to expire

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.ensure_future(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                replies = await self._execute(batch)
        except (RedisError, OSError, TimeoutError) as e:
            for c in batch:
                if not c.reply.done():
                    c.reply.set_exception(_unavailable(e))
            return
        for c, reply in zip(batch, replies, strict=True):
            if c.reply.done():
                continue
            if isinstance(reply, Exception):
                c.reply.set_exception(_unavailable(reply))
            else:
                c.reply.set_result(reply)

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        """One round trip; a second only after Redis lost the scripts (a restart or a flush)."""
        replies = await self._pipeline(batch)
        lost = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if lost:
            for script in {batch[i].script for i in lost}:
                await self.redis.script_load(script.lua)
            for i, reply in zip(lost, await self._pipeline([batch[i] for i in lost]), strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, batch: list[_Call]) -> list[Any]:
        if len(batch) == 1:
            c = batch[0]
            try:
                return [await self.redis.evalsha(c.script.sha, len(c.keys), *c.keys, *c.args)]
            except ResponseError as e:  # this call's own error (as a pipeline reports it), not Redis's
                return [e]
        pipe = self.redis.pipeline(transaction=False)
        for c in batch:
            pipe.evalsha(c.script.sha, len(c.keys), *c.keys, *c.args)
        return await pipe.execute(raise_on_error=False)


def _unavailable(e: BaseException) -> StoreUnavailableError:
    return StoreUnavailableError(f"Redis did not answer: {type(e).__name__}.")
