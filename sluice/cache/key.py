"""What makes two requests the same question: the exact key, the semantic partition, and which
requests may be cached at all.

The exact key hashes the tenant, the model alias, the prompt-template version and the request
with every field that cannot change the answer removed (``stream``, ``stream_options``, ``user``,
``metadata``, ``store``, ``service_tier``, ``safety_identifier``, the provider prompt cache's
``prompt_cache_key``, ``prompt_cache_retention`` and ``prompt_cache_options``, and the gateway's
own ``sluice`` options), encoded with sorted keys so that field order and whitespace in
the client's JSON do not matter. Everything else counts, including parameters Sluice passes
through without knowing them: an unknown parameter might change the answer.

The semantic partition hashes the same, minus the last user turn: a semantic match must share
the system prompt, the earlier turns, the tools and every parameter, and may differ only in the
wording of the question itself, which is embedded and compared.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from sluice.types import ChatRequest, Message

_IRRELEVANT = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "metadata",
        "store",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "sluice",
    }
)
_encode = msgspec.json.Encoder(order="sorted").encode


@dataclass(frozen=True, slots=True)
class Keys:
    exact: str
    partition: str | None
    """None when the request has no last user turn in plain text (no semantic match possible)."""
    prompt: str | None
    """The last user turn's text, which the semantic layer embeds."""


def cache_keys(
    tenant_id: str, request: ChatRequest, prompt_version: str | None, model: str | None = None
) -> Keys:
    """The request's keys under ``model`` (the alias whose answers they hold; by default the
    one the request named)."""
    fields = _answer_fields(request)
    head = [tenant_id, model or request.model, prompt_version or ""]
    exact = _digest(head, fields)
    prompt = _last_user_text(request.messages)
    if prompt is None:
        return Keys(exact, None, None)
    fields["messages"] = fields["messages"][:-1]
    return Keys(exact, _digest(head, fields), prompt)


def is_deterministic(request: ChatRequest) -> bool:
    """Temperature 0 or a seed: the requests a cache may answer by default."""
    return request.temperature == 0 or request.seed is not None


def has_tool_calls_in_flight(request: ChatRequest) -> bool:
    """A tool loop under way: an assistant turn that called tools, or a tool's result."""
    return any(m.role in ("tool", "function") or m.tool_calls for m in request.messages)


def _answer_fields(request: ChatRequest) -> dict[str, Any]:
    fields = msgspec.to_builtins(request, enc_hook=_raw)
    for name in _IRRELEVANT:
        fields.pop(name, None)
    fields.pop("model", None)
    return fields


def _raw(value: Any) -> Any:
    if isinstance(value, msgspec.Raw):
        return msgspec.json.decode(value)  # pass-through JSON, compared by content, not spelling
    raise TypeError(f"cannot key {type(value).__name__}")


def _digest(head: list[str], fields: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for part in head:
        h.update(part.encode())
        h.update(b"\0")
    h.update(_encode(fields))
    return h.hexdigest()


def _last_user_text(messages: list[Message]) -> str | None:
    last = messages[-1]
    if last.role != "user":
        return None
    if isinstance(last.content, str):
        return last.content
    if last.content and all(p.type == "text" and p.text is not None for p in last.content):
        return "\n".join(p.text for p in last.content if p.text is not None)
    return None  # images, audio or files: their wording cannot be compared
