"""The simulated model's answers: text, tool calls (parallel ones too), structured output,
logprobs, stream chunks and embeddings, all derived from the request alone (no I/O, no clock, no
randomness), so tests can assert them exactly. ``system_fingerprint`` labels every answer as
simulated. The rules are written down in docs/api.md ("The simulated model").

A request that asks for reasoning (``reasoning_effort`` other than none, or enabled
``thinking``) gets a signed reasoning block and reasoning tokens; one with a
``prompt_cache_key`` or cache breakpoints finds every message before the last in its prompt
cache (a warm cache, always: the sim keeps no state)."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from msgspec import UNSET, Raw

from sluice.errors import InvalidRequestError
from sluice.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    CompletionTokensDetails,
    Delta,
    Embedding,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    FunctionCall,
    FunctionCallDelta,
    FunctionDef,
    Message,
    PromptTokensDetails,
    ResponseMessage,
    ThinkingBlock,
    ToolCall,
    ToolCallDelta,
    ToolChoiceNamed,
    Usage,
    encoder,
)

FINGERPRINT = "fp_sluice_sim"
MAX_DIMENSIONS = 4096
# A word with the whitespace before it (and, for the last word, after it): the pieces of a
# stream join back into exactly the content.
_PIECE = re.compile(r"\s*\S+(?:\s+$)?|\s+$")


REASONING_TOKENS = {"minimal": 8, "low": 16, "medium": 32, "high": 64, "xhigh": 96, "max": 128}
"""Reasoning tokens the sim reports per ``reasoning_effort``; enabled ``thinking`` counts as medium."""


@dataclass(frozen=True, slots=True)
class _Reasoning:
    text: str
    signature: str
    tokens: int


@dataclass(frozen=True, slots=True)
class _Answer:
    """What every choice says; ``completion_tokens`` counts one choice."""

    content: str | None
    tool_calls: list[ToolCall] | None
    finish_reason: str
    completion_tokens: int
    stop_sequence: str | None = None
    """The stop sequence that cut the text, reported as vLLM does (``stop_reason``)."""

    def logprobs(self, request: ChatRequest) -> Raw | None:
        """OpenAI's ``logprobs`` of the whole content, when the request asked for them."""
        if not request.logprobs:
            return None
        tokens = _PIECE.findall(self.content) if self.content else None
        return _logprobs(tokens, request.top_logprobs or 0)


def complete(request: ChatRequest, model: str, created: int) -> ChatResponse:
    """The ``chat.completion`` for ``request``; ``model`` is the upstream model name."""
    key = encoder.encode(request)
    answer = _answer(request, key)
    reasoning = _reasoning(request, key)
    logprobs = answer.logprobs(request)
    choices = [
        Choice(
            index=i,
            message=ResponseMessage(
                role="assistant",
                content=answer.content,
                tool_calls=answer.tool_calls,
                reasoning_content=reasoning.text if reasoning else None,
                thinking_blocks=[_signed(reasoning, reasoning.text)] if reasoning else None,
            ),
            finish_reason=answer.finish_reason,
            logprobs=UNSET if logprobs is None else logprobs,
            stop_reason=answer.stop_sequence,
        )
        for i in range(request.n or 1)
    ]
    return ChatResponse(
        id=_response_id(key),
        object="chat.completion",
        created=created,
        model=model,
        choices=choices,
        usage=_usage(request, answer, reasoning),
        system_fingerprint=FINGERPRINT,
    )


def stream_chunks(
    request: ChatRequest, model: str, created: int, pieces: int | None = None
) -> list[ChatChunk]:
    """The chunks of the streamed answer, as OpenAI sends them.

    Per choice: a role chunk, the content one word per chunk (or exactly ``pieces`` chunks;
    each with the logprobs of its text when the request asked for them), each tool call's header
    then its argument fragments, and a chunk with the finish reason; then a usage chunk without
    choices when the request asked for usage.
    """
    key = encoder.encode(request)
    answer = _answer(request, key)
    reasoning = _reasoning(request, key)
    response_id = _response_id(key)

    def chunk(choices: list[ChunkChoice], usage: Usage | None = None) -> ChatChunk:
        return ChatChunk(
            id=response_id,
            object="chat.completion.chunk",
            created=created,
            model=model,
            choices=choices,
            usage=usage,
            system_fingerprint=FINGERPRINT,
        )

    def delta(index: int, d: Delta, logprobs: Raw | None = None) -> ChatChunk:
        return chunk([ChunkChoice(index, d, None, UNSET if logprobs is None else logprobs)])

    def text(index: int, piece: str) -> ChatChunk:
        top = request.top_logprobs or 0
        return delta(index, Delta(content=piece), _logprobs([piece], top) if request.logprobs else None)

    out = []
    for i in range(request.n or 1):
        out.append(delta(i, Delta(role="assistant", content="")))
        if reasoning is not None:
            out.extend(delta(i, Delta(reasoning_content=p)) for p in _split(reasoning.text, pieces))
            out.append(delta(i, Delta(thinking_blocks=[_signed(reasoning, "")])))
        if answer.content:
            out.extend(text(i, p) for p in _split(answer.content, pieces))
        for j, call in enumerate(answer.tool_calls or []):
            name = FunctionCallDelta(name=call.function.name, arguments="")
            head = ToolCallDelta(index=j, id=call.id, type="function", function=name)
            out.append(delta(i, Delta(tool_calls=[head])))
            out.extend(
                delta(i, Delta(tool_calls=[ToolCallDelta(index=j, function=FunctionCallDelta(arguments=p))]))
                for p in _split(call.function.arguments, pieces)
            )
        out.append(chunk([ChunkChoice(i, Delta(), answer.finish_reason, stop_reason=answer.stop_sequence)]))
    if request.includes_usage:
        out.append(chunk([], _usage(request, answer, reasoning)))
    return out


def embed(request: EmbeddingRequest, model: str, default_dim: int) -> EmbeddingResponse:
    """A deterministic unit vector per input, hashed from its text (token arrays: their repr)."""
    dim = request.dimensions or default_dim
    if dim > MAX_DIMENSIONS:
        raise InvalidRequestError(f"dimensions must be at most {MAX_DIMENSIONS}", param="dimensions")
    raw = request.input
    items: Sequence[str | int | list[int]]
    if isinstance(raw, str):
        items = [raw]  # one string
    elif all(isinstance(v, int) for v in raw):
        items = [cast("list[int]", raw)]  # one token array
    else:
        items = raw
    data = []
    tokens = 0
    for i, item in enumerate(items):
        tokens += _tokens(item)
        packed = _unit_vector(item if isinstance(item, str) else repr(item), dim)
        vector: list[float] | str = (
            base64.b64encode(packed).decode()
            if request.encoding_format == "base64"
            else list(struct.unpack(f"<{dim}f", packed))
        )
        data.append(Embedding(object="embedding", index=i, embedding=vector))
    return EmbeddingResponse(
        object="list", data=data, model=model, usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    )


def _answer(request: ChatRequest, key: bytes) -> _Answer:
    last = request.messages[-1]
    user_text = next((_text(m) for m in reversed(request.messages) if m.role == "user"), "")
    if request.tools and request.tool_choice != "none" and last.role != "tool":
        return _tool_answer(request, key, user_text)
    reply = (
        f"Tool result received: {_text(last)}" if last.role == "tool" else f"Simulated reply to: {user_text}"
    )
    cited = _cited(request) if last.role != "tool" else None
    if cited is not None:
        reply = f"{reply}\nFrom the documents: {cited}"
    content, finish_reason, stop = _limit(reply, request.stop_sequences, request.output_token_limit)
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_object":
        content = encoder.encode({"answer": content}).decode()
    elif fmt is not None and fmt.type == "json_schema":
        schema = fmt.json_schema.schema if fmt.json_schema is not None else None
        content = encoder.encode(_example_object(schema or {}, user_text)).decode()
        finish_reason, stop = "stop", None
    return _Answer(content, None, finish_reason, len(content.split()), stop)


_PASSAGE = re.compile(r"^\[(\d{1,2})\] \([^)\n]*\) (.+)$", re.M | re.S)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def _cited(request: ChatRequest) -> str | None:
    """A grounded answer's citation: when a system message lists numbered passages (the
    retrieval stage's ``[n] (filename) text``, docs/knowledge.md), the first sentence of the first
    passage that is not a heading, followed by its marker, as a model citing its sources would."""
    for m in request.messages:
        if m.role != "system":
            continue
        for found in _PASSAGE.finditer(_text(m)):
            number, body = found.group(1), found.group(2).split("\n\n[", 1)[0]
            for line in body.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    sentence = _SENTENCE.match(line)
                    text = (sentence.group(0) if sentence else line).strip()[:200]
                    return f"{text} [{number}]"
    return None


def _tool_answer(request: ChatRequest, key: bytes, user_text: str) -> _Answer:
    calls = []
    for function in _called(request, user_text):
        arguments = encoder.encode(_example_object(function.parameters or {}, user_text)).decode()
        call_id = "call_" + _digest(key, function.name.encode())
        calls.append(ToolCall(id=call_id, type="function", function=FunctionCall(function.name, arguments)))
    tokens = sum(max(1, len(c.function.arguments.split())) for c in calls)
    return _Answer(None, calls, "tool_calls", tokens)


def _called(request: ChatRequest, user_text: str) -> list[FunctionDef]:
    """The tools one answer calls: a named ``tool_choice``'s; else, unless ``parallel_tool_calls``
    is false, every tool the user's text names when it names two or more, or every tool when
    ``parallel_tool_calls`` is true; else the first tool."""
    tools = [t.function for t in request.tools or []]
    choice = request.tool_choice
    if isinstance(choice, ToolChoiceNamed):
        named = [f for f in tools if f.name == choice.function.name]
        if not named:
            raise InvalidRequestError(
                f"tool_choice names {choice.function.name!r}, which is not among the tools",
                param="tool_choice",
            )
        return named[:1]
    if request.parallel_tool_calls is False:
        return tools[:1]
    mentioned = [f for f in tools if f.name in user_text]
    if len(mentioned) >= 2:
        return mentioned
    return tools if request.parallel_tool_calls else tools[:1]


def _limit(text: str, stops: list[str], max_tokens: int | None) -> tuple[str, str, str | None]:
    """Cut at the first stop sequence, then at ``max_tokens`` words (finish reason "length");
    the third item is the stop sequence that cut the text, if one did."""
    hits = [(i, s) for s, i in ((s, text.find(s)) for s in stops if s) if i >= 0]
    matched = None
    if hits:
        at, matched = min(hits, key=lambda h: h[0])
        text = text[:at]
    words = text.split()
    if max_tokens is not None and max_tokens < len(words):
        return " ".join(words[:max_tokens]), "length", None
    return text, "stop", matched


def _example_object(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """An object with a value for each of the schema's ``properties``."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: _example(prop, text) for name, prop in properties.items()}


def _example(schema: Any, text: str) -> Any:
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _example(schema[key][0], text)
    kind: Any = schema.get("type", "object" if "properties" in schema else None)  # whatever the schema says
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return _example_object(schema, text)
    if kind == "array":
        return []
    return {"string": text, "integer": 1, "number": 1.0, "boolean": True}.get(kind)


def _text(message: Message) -> str:
    content = message.content
    if content is None or isinstance(content, str):
        return content or ""
    return " ".join(p.text for p in content if p.type == "text" and p.text is not None)


def _reasoning(request: ChatRequest, key: bytes) -> _Reasoning | None:
    effort = request.reasoning_effort
    if effort is None and request.thinking is not None and request.thinking.type == "enabled":
        effort = "medium"
    tokens = REASONING_TOKENS.get(effort or "none")
    if tokens is None:
        return None
    user_text = next((_text(m) for m in reversed(request.messages) if m.role == "user"), "")
    text = f"Simulated {effort} reasoning about: {user_text}"
    return _Reasoning(text, "sim-signature-" + _digest(key, b"reasoning"), tokens)


def _signed(reasoning: _Reasoning, text: str) -> ThinkingBlock:
    return ThinkingBlock(type="thinking", thinking=text, signature=reasoning.signature)


def _usage(request: ChatRequest, answer: _Answer, reasoning: _Reasoning | None) -> Usage:
    counts = [len(_text(m).split()) + 3 for m in request.messages]
    prompt = sum(counts)
    thought = reasoning.tokens if reasoning is not None else 0
    completion = (answer.completion_tokens + thought) * (request.n or 1)
    cached = sum(counts[:-1]) if request.prompt_cache_key or request.has_cache_breakpoints else 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=cached) if cached else None,
        completion_tokens_details=(
            CompletionTokensDetails(reasoning_tokens=thought * (request.n or 1)) if reasoning else None
        ),
    )


def _split(text: str, pieces: int | None) -> list[str]:
    """One piece per word, or exactly ``pieces`` pieces of about equal length."""
    if pieces is None:
        return _PIECE.findall(text)
    size = len(text)
    return [text[size * i // pieces : size * (i + 1) // pieces] for i in range(pieces)]


def _unit_vector(text: str, dim: int) -> bytes:
    """Little-endian float32, as OpenAI's base64 encoding carries it."""
    raw = struct.unpack(f"<{dim}I", hashlib.shake_256(text.encode()).digest(4 * dim))
    values = [x / 2**31 - 1.0 for x in raw]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return struct.pack(f"<{dim}f", *(v / norm for v in values))


def _tokens(item: str | int | list[int]) -> int:
    if isinstance(item, str):
        return len(item.split())
    return len(item) if isinstance(item, list) else 1


def _logprobs(tokens: list[str] | None, top: int) -> Raw:
    """OpenAI's ``{"content": [...], "refusal": null}`` for ``tokens`` (None: no content): each
    token's logprob derived from its text, then ``top`` alternatives, the token itself first."""
    if tokens is None:
        return Raw(encoder.encode({"content": None, "refusal": None}))
    content = []
    for token in tokens:
        logprob = -int.from_bytes(hashlib.blake2b(token.encode(), digest_size=2).digest()) / 65536
        alternatives = [(token, logprob)] + [(f"{token.strip()}_{k}", logprob - k) for k in range(1, top)]
        content.append(
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in alternatives[:top]
                ],
            }
        )
    return Raw(encoder.encode({"content": content, "refusal": None}))


def _response_id(key: bytes) -> str:
    return "chatcmpl-sim-" + _digest(key)


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=12)
    for part in parts:
        h.update(part)
    return h.hexdigest()
