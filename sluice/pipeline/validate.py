"""The checks a schema cannot express (the surface already decoded the body)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import UNSET

from sluice.errors import InvalidRequestError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.types import ChatRequest, EmbeddingRequest

MAX_DEPTH = 64
"""How deeply a free-form JSON field (a tool's parameters, a response schema)
may nest. Real schemas stay far below it; deeper is an attack on every recursive walk after it."""


def check_depth(value: Any, param: str, limit: int = MAX_DEPTH) -> None:
    """A 400 naming ``param`` when ``value`` nests objects or arrays more than ``limit`` deep."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(v, dict):
            children = v.values()
        elif isinstance(v, list):
            children = v
        else:
            continue
        if depth > limit:
            raise InvalidRequestError(f"'{param}' is nested more than {limit} levels deep.", param=param)
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


class ValidateStage(Stage):
    name = "validate"

    async def before(self, ctx: RequestContext) -> None:
        request = ctx.request
        check_request(request)
        if isinstance(request, ChatRequest) and request.sluice is not None and request.sluice.guardrails:
            ctx.document_messages = tuple(request.messages[i] for i in request.sluice.guardrails.documents)


def check_request(req: ChatRequest | EmbeddingRequest) -> None:
    """The stage's checks, as a plain call (a batch's lines are checked with them up front)."""
    if isinstance(req, ChatRequest):
        _check_chat(req)
    else:
        _check_embedding(req)


def _check_chat(req: ChatRequest) -> None:
    if not req.messages and (req.sluice is None or req.sluice.prompt is None):
        raise InvalidRequestError(
            "Invalid value for 'messages': Expected `array` of length >= 1.", param="messages"
        )
    if req.stream_options is not None and not req.stream:
        raise InvalidRequestError(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    if req.sluice is not None and req.sluice.guardrails is not None:
        for i, index in enumerate(req.sluice.guardrails.documents):
            if index >= len(req.messages):
                raise InvalidRequestError(
                    f"'sluice.guardrails.documents' names message {index}, but there are "
                    f"{len(req.messages)} messages.",
                    param=f"sluice.guardrails.documents[{i}]",
                )
    tool_names = {t.function.name for t in req.tools or ()}
    for i, t in enumerate(req.tools or ()):
        check_depth(t.function.parameters, f"tools[{i}].function.parameters")
    for i, m in enumerate(req.messages):
        if m.role == "tool" and not m.tool_call_id:
            raise InvalidRequestError(
                "Messages with role 'tool' must have a 'tool_call_id'.", param=f"messages.[{i}].tool_call_id"
            )
        if m.role in ("user", "system", "developer", "tool") and m.content is None:
            raise InvalidRequestError(
                f"Messages with role '{m.role}' must have 'content'.", param=f"messages.[{i}].content"
            )
        if m.role == "assistant" and m.content is None and not m.tool_calls and m.function_call is UNSET:
            raise InvalidRequestError(
                "Assistant messages must have 'content' or 'tool_calls'.", param=f"messages.[{i}].content"
            )
    tc = req.tool_choice
    if tc is not None and not isinstance(tc, str):
        if tc.function.name not in tool_names:
            raise InvalidRequestError(
                f"tool_choice names the function '{tc.function.name}', which is not in 'tools'.",
                param="tool_choice",
            )
    elif tc == "required" and not tool_names:
        raise InvalidRequestError(
            "tool_choice 'required' needs at least one tool in 'tools'.", param="tool_choice"
        )
    rf = req.response_format
    if rf is not None and rf.type == "json_schema" and rf.json_schema is None:
        raise InvalidRequestError(
            "response_format of type 'json_schema' needs a 'json_schema' object.",
            param="response_format.json_schema",
        )
    if rf is not None and rf.json_schema is not None:
        check_depth(rf.json_schema.schema, "response_format.json_schema.schema")


def _check_embedding(req: EmbeddingRequest) -> None:
    inputs = [req.input] if isinstance(req.input, str) else req.input
    if any(isinstance(x, str) and not x for x in inputs):
        raise InvalidRequestError("'input' cannot contain empty strings.", param="input")
    kinds = {type(x) for x in inputs}
    if len(kinds) > 1:
        raise InvalidRequestError(
            "'input' must be a string, a list of strings, or token arrays, not a mix.", param="input"
        )
