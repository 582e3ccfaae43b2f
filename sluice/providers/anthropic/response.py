"""Anthropic Messages response and stream events -> internal (OpenAI-shaped) response and chunks."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, Raw

from sluice.errors import InvalidUpstreamResponseError, SluiceError, from_upstream_status
from sluice.obs.redact import Redactor
from sluice.providers.anthropic.wire import (
    ContentBlock,
    DeltaUsage,
    Message,
    StreamEvent,
    Usage,
    stream_event_decoder,
)
from sluice.types import (
    CacheCreation,
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    CompletionTokensDetails,
    Delta,
    FunctionCall,
    FunctionCallDelta,
    PromptTokensDetails,
    ResponseMessage,
    ThinkingBlock,
    ToolCall,
    ToolCallDelta,
)
from sluice.types import Usage as ChatUsage

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
"""Anthropic ``stop_reason`` -> OpenAI ``finish_reason``; anything new reads as ``stop``."""

# An ``error`` event's type -> the HTTP status Anthropic sends it with, for the retry policy.
_ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def finish_reason(stop_reason: str | None) -> str:
    return FINISH_REASONS.get(stop_reason or "end_turn", "stop")


def chat_usage(u: Usage | DeltaUsage) -> ChatUsage:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; OpenAI's
    ``prompt_tokens`` includes them, with the reads as ``cached_tokens`` and the writes as
    ``cache_write_tokens`` (split by lifetime in ``cache_creation``). Thinking is part of
    ``output_tokens``, as reasoning is of ``completion_tokens``."""
    read = u.cache_read_input_tokens or 0
    written = u.cache_creation_input_tokens
    prompt = (u.input_tokens or 0) + read + (written or 0)
    details = u.output_tokens_details
    split = u.cache_creation
    return ChatUsage(
        prompt_tokens=prompt,
        completion_tokens=u.output_tokens,
        total_tokens=prompt + u.output_tokens,
        prompt_tokens_details=PromptTokensDetails(
            cached_tokens=read, cache_write_tokens=written if written else UNSET
        ),
        completion_tokens_details=(
            None if details is None else CompletionTokensDetails(reasoning_tokens=details.thinking_tokens)
        ),
        cache_creation=(
            UNSET
            if split is None
            else CacheCreation(split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens)
        ),
    )


def thinking_blocks(blocks: list[ContentBlock]) -> list[ThinkingBlock]:
    """The answer's reasoning blocks, signatures and redacted data kept, in order."""
    out = []
    for b in blocks:
        if b.type == "thinking":
            out.append(ThinkingBlock(type="thinking", thinking=b.thinking or "", signature=b.signature or ""))
        elif b.type == "redacted_thinking":
            out.append(ThinkingBlock(type="redacted_thinking", data=b.data or ""))
    return out


def to_chat_response(msg: Message, created: int) -> ChatResponse:
    """Translate a complete Anthropic ``Message``; ``created`` is the Unix time to report."""
    texts = [b.text for b in msg.content if b.type == "text" and b.text is not None]
    thinking = thinking_blocks(msg.content)
    reasoning = "".join(b.thinking or "" for b in thinking)
    calls = [
        ToolCall(
            id=b.id or "",
            type="function",
            function=FunctionCall(
                name=b.name or "", arguments=bytes(b.input).decode() if isinstance(b.input, Raw) else "{}"
            ),
        )
        for b in msg.content
        if b.type == "tool_use"
    ]
    return ChatResponse(
        id=msg.id,
        object="chat.completion",
        created=created,
        model=msg.model,
        choices=[
            Choice(
                index=0,
                message=ResponseMessage(
                    role="assistant",
                    content="".join(texts) if texts else None,
                    tool_calls=calls or None,
                    reasoning_content=reasoning or None,
                    thinking_blocks=thinking or None,
                ),
                finish_reason=finish_reason(msg.stop_reason),
                stop_reason=msg.stop_sequence if msg.stop_reason == "stop_sequence" else None,
            )
        ],
        usage=chat_usage(msg.usage),
    )


class StreamTranslator:
    """Turns the ``data:`` payloads of one Anthropic stream into chat chunks, event by event.

    Tool-call indexes count tool_use blocks only (text blocks have Anthropic indexes too). With
    ``include_usage``, ``message_stop`` adds a last chunk with no choices and the usage.
    Thinking arrives as ``reasoning_content`` deltas; its ``signature_delta`` as a
    ``thinking_blocks`` item with the signature alone, which ends that block; a
    ``redacted_thinking`` block as one item with its data.
    """

    def __init__(self, created: int, include_usage: bool, redactor: Redactor | None = None) -> None:
        self.created = created
        self.include_usage = include_usage
        self._redactor = redactor or Redactor()
        self.is_done = False
        self._id = ""
        self._model = ""
        self._tool_index: dict[int, int] = {}
        self._usage = Usage(input_tokens=0, output_tokens=0)

    def feed(self, payloads: list[bytes], out: list[ChatChunk] | None = None) -> list[ChatChunk]:
        """Chunks for these payloads (none for pings and blocks we do not translate), appended
        to ``out`` if given, which keeps the ones before a payload that raised.

        Raises:
            UpstreamError: on an ``error`` event (``InvalidRequestError`` if it says the
                request was invalid); ``InvalidUpstreamResponseError`` for a payload that is
                not a stream event.
        """
        out = [] if out is None else out
        for payload in payloads:
            try:
                event = stream_event_decoder.decode(payload)
            except msgspec.DecodeError as e:
                raise InvalidUpstreamResponseError(
                    f"anthropic sent an invalid stream event: {self._redactor.redact(str(e))}"
                ) from e
            chunk = self._translate(event)
            if chunk is not None:
                out.append(chunk)
        return out

    def _translate(self, event: StreamEvent) -> ChatChunk | None:
        kind = event.type
        if kind == "content_block_delta" and event.delta is not None:
            if event.delta.type == "text_delta" and event.delta.text:
                return self._chunk(Delta(content=event.delta.text))
            if event.delta.type == "thinking_delta" and event.delta.thinking:
                return self._chunk(Delta(reasoning_content=event.delta.thinking))
            if event.delta.type == "signature_delta" and event.delta.signature:
                signed = ThinkingBlock(type="thinking", thinking="", signature=event.delta.signature)
                return self._chunk(Delta(thinking_blocks=[signed]))
            if (
                event.delta.type == "input_json_delta"
                and event.delta.partial_json
                and event.index in self._tool_index
            ):
                args = FunctionCallDelta(arguments=event.delta.partial_json)
                return self._chunk(
                    Delta(tool_calls=[ToolCallDelta(index=self._tool_index[event.index], function=args)])
                )
            return None
        if kind == "content_block_start" and event.content_block is not None and event.index is not None:
            block = event.content_block
            if block.type == "tool_use":
                index = self._tool_index[event.index] = len(self._tool_index)
                fn = FunctionCallDelta(name=block.name, arguments="")
                return self._chunk(
                    Delta(tool_calls=[ToolCallDelta(index=index, id=block.id, type="function", function=fn)])
                )
            if block.type == "text" and block.text:
                return self._chunk(Delta(content=block.text))
            if block.type == "thinking" and block.thinking:
                return self._chunk(Delta(reasoning_content=block.thinking))
            if block.type == "redacted_thinking":
                redacted = ThinkingBlock(type="redacted_thinking", data=block.data or "")
                return self._chunk(Delta(thinking_blocks=[redacted]))
            return None
        if kind == "message_start" and event.message is not None:
            self._id, self._model, self._usage = event.message.id, event.message.model, event.message.usage
            return self._chunk(Delta(role="assistant", content=""))
        if kind == "message_delta":
            if event.usage is not None:
                self._add_usage(event.usage)
            d = event.delta
            stop = d.stop_reason if d is not None else None
            matched = d.stop_sequence if d is not None and stop == "stop_sequence" else None
            return self._chunk(Delta(), finish_reason(stop), matched)
        if kind == "message_stop":
            self.is_done = True
            return self._usage_chunk() if self.include_usage else None
        if kind == "error":
            raise _stream_error(event, self._redactor)
        return None  # ping, content_block_stop, and event types added after this was written

    def _chunk(self, delta: Delta, finish: str | None = None, stop_sequence: str | None = None) -> ChatChunk:
        return ChatChunk(
            id=self._id,
            object="chat.completion.chunk",
            created=self.created,
            model=self._model,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish, stop_reason=stop_sequence)],
        )

    def _add_usage(self, end: DeltaUsage) -> None:
        # message_delta counts are cumulative totals: they replace, and absent ones keep the
        # message_start value.
        u = self._usage
        u.output_tokens = end.output_tokens
        if end.input_tokens is not None:
            u.input_tokens = end.input_tokens
        if end.cache_read_input_tokens is not None:
            u.cache_read_input_tokens = end.cache_read_input_tokens
        if end.cache_creation_input_tokens is not None:
            u.cache_creation_input_tokens = end.cache_creation_input_tokens
        if end.cache_creation is not None:
            u.cache_creation = end.cache_creation
        if end.output_tokens_details is not None:
            u.output_tokens_details = end.output_tokens_details

    def _usage_chunk(self) -> ChatChunk:
        return ChatChunk(
            id=self._id,
            object="chat.completion.chunk",
            created=self.created,
            model=self._model,
            choices=[],
            usage=chat_usage(self._usage),
        )


def _stream_error(event: StreamEvent, redactor: Redactor) -> SluiceError:
    """An ``error`` event, mapped like an error status; its text scrubbed of secrets first."""
    err = event.error
    kind = err.type if err is not None else "api_error"
    message = redactor.redact(err.message) if err is not None else "unknown error"
    return from_upstream_status(
        _ERROR_STATUSES.get(kind, 500), "anthropic", f"{kind} in the stream: {message}"
    )
