"""Guardrail plugins: a tenant's own checks beside the built-in ones. A plugin sees a request's
texts and answers with what to do; two kinds, configured once under ``guardrails.plugins``:

- ``python``: a callable, ``module:function``, imported at startup. It is called as
  ``check(texts, info)`` (``info``: stage, tenant, model) and returns None (nothing to say) or a
  ``{"action": "block"|"flag"|"log", "category": str}`` mapping; it may be a coroutine function.
  A plain function runs on the event loop: it must be quick.
- ``webhook``: ``POST url`` with ``{"stage", "tenant", "model", "texts"}``, answered with the same
  mapping (or ``{"action": "allow"}``), under ``timeout_ms``. A webhook that fails or is late
  fails open (the request goes on, the failure is logged and counted as ``log:plugin_error``) or
  closed (the request is refused as ``plugin_unavailable``), as configured.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

import aiohttp
import msgspec

from sluice.settings import GuardrailPluginSettings

log = logging.getLogger("sluice.guardrails")

ACTIONS = ("block", "flag", "log")


class Outcome(NamedTuple):
    action: str
    category: str


class _Answer(msgspec.Struct):
    action: Literal["allow", "block", "flag", "log"] = "allow"
    category: str = "plugin"


def _outcome(answer: Any, plugin: str) -> Outcome | None:
    """A plugin's answer, checked: None for nothing to do; a malformed answer is a ValueError."""
    if answer is None:
        return None
    a = msgspec.convert(answer, _Answer)
    if a.action == "allow":
        return None
    return Outcome(a.action, a.category or plugin)


class PythonPlugin:
    def __init__(self, name: str, target: str) -> None:
        module, _, attr = target.partition(":")
        if not module or not attr:
            raise ValueError(f"guardrails.plugins.{name}.target: expected 'module:function', got {target!r}")
        self.name = name
        self._check: Callable[..., Any] = getattr(importlib.import_module(module), attr)
        self._async = inspect.iscoroutinefunction(self._check)

    async def __call__(self, texts: Sequence[str], info: Mapping[str, Any]) -> Outcome | None:
        try:
            answer = await self._check(texts, info) if self._async else self._check(texts, info)
            return _outcome(answer, self.name)
        except Exception:  # the tenant's own code: its failure must not fail the request
            log.exception("guardrail plugin %s failed; the request goes on", self.name)
            return Outcome("log", "plugin_error")

    async def close(self) -> None:
        pass


class WebhookPlugin:
    def __init__(self, name: str, url: str, timeout_ms: int, fail: Literal["open", "closed"]) -> None:
        self.name = name
        self._url = url
        self._timeout_s = timeout_ms / 1000
        self._fail_open = fail == "open"
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, texts: Sequence[str], info: Mapping[str, Any]) -> Outcome | None:
        if self._session is None:  # made in the running loop it binds to
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        body = msgspec.json.encode({**info, "texts": list(texts)})
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._session.post(
                    self._url, data=body, headers={"content-type": "application/json"}
                ) as r:
                    if r.status != 200:
                        raise ValueError(f"HTTP {r.status}")
                    return _outcome(msgspec.json.decode(await r.read()), self.name)
        except (
            TimeoutError,
            aiohttp.ClientError,
            OSError,
            ValueError,
            msgspec.DecodeError,
            msgspec.ValidationError,
        ) as e:
            log.warning(
                "guardrail webhook %s failed (%s): failing %s",
                self.name,
                type(e).__name__,
                "open" if self._fail_open else "closed",
            )
            return (
                Outcome("log", "plugin_error") if self._fail_open else Outcome("block", "plugin_unavailable")
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


Plugin = Callable[[Sequence[str], Mapping[str, Any]], Awaitable[Outcome | None]]


def build_plugins(
    configured: Mapping[str, GuardrailPluginSettings],
) -> dict[str, PythonPlugin | WebhookPlugin]:
    """Every configured plugin, by name; a Python target that does not import fails startup."""
    plugins: dict[str, PythonPlugin | WebhookPlugin] = {}
    for name, p in configured.items():
        if p.type == "python":
            assert p.target is not None  # checked by the settings
            plugins[name] = PythonPlugin(name, p.target)
        else:
            assert p.url is not None
            plugins[name] = WebhookPlugin(name, p.url, p.timeout_ms, p.fail)
    return plugins
