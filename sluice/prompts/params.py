"""The request parameters a prompt version may carry, typed as ``ChatRequest`` types them (one
definition: a value a request may not send, a version may not keep)."""

from __future__ import annotations

import typing
from typing import Any

import msgspec

from sluice.types import ChatRequest

PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "response_format",
    "tools",
    "tool_choice",
    "stop",
    "seed",
)
"""Applied to a request that names the prompt, where the request does not set them itself."""

_HINTS = typing.get_type_hints(ChatRequest, include_extras=True)
PromptParams = msgspec.defstruct(
    "PromptParams",
    [(name, _HINTS[name], None) for name in PARAMS],
    forbid_unknown_fields=True,
    omit_defaults=True,
    frozen=True,
)
"""A Struct of ``PARAMS``, each typed as in ``ChatRequest``; unknown keys are refused."""


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against ``PromptParams`` and normalized to JSON types (nulls dropped);
    ``msgspec.ValidationError`` names the key and what is wrong."""
    return msgspec.to_builtins(msgspec.convert(params, PromptParams))
