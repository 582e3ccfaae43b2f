"""The Anthropic Messages stream out: chunk batches from any provider become Anthropic's SSE
events (message_start, content blocks opened, filled and closed, message_delta, message_stop)."""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import Raw

from sluice.api.anthropic.errors import error_event
from sluice.api.anthropic.translate import STOP_REASONS, citation, matched_stop, message_id, usage_of
from sluice.errors import SluiceError
from sluice.pipeline.retrieval import Retrieval
from sluice.providers.anthropic.wire import (
    CitationsDelta,
    ContentBlock,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    DeltaUsage,
    InputJsonDelta,
    Message,
    MessageDeltaBody,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    Usage,
)
from sluice.types import ChatChunk, ChunkBatch, Delta, ToolCallDelta, encoder

_Kind = Literal["text", "tool_use", "thinking"]


def _sse(event: msgspec.Struct) -> bytes:
    # Every event type is tagged with its event name, a str (msgspec types a tag str | int | None).
    tag = event.__struct_config__.tag.encode()  # type: ignore[union-attr]
    return b"event: %s\ndata: %s\n\n" % (tag, encoder.encode(event))


class MessagesStreamEncoder:
    """Turns the gateway's chunk batches into Anthropic stream events.

    ``message_start`` goes first (input tokens 0: the count arrives with the last chunk); text
    and each tool call get a content block, opened and closed in order; ``finish`` closes the
    last block and sends ``message_delta`` (stop reason, usage) and ``message_stop``.
    Reasoning (``reasoning_content``) opens a thinking block and fills it with
    ``thinking_delta``s; its signature comes as a ``signature_delta`` and closes it; a
    ``redacted_thinking`` item is a block of its own.
    """

    def __init__(
        self, model: str, stops: list[str] | None = None, retrieval: Retrieval | None = None
    ) -> None:
        self.model = model
        self._retrieval = retrieval
        self._text: list[str] = []
        self._text_block: int | None = None
        self._stops = stops or []
        self._stop_sequence: str | None = None
        self._started = False
        self._open: int | None = None
        self._open_kind: _Kind | None = None
        self._blocks = 0
        self._tool_blocks: dict[int, int] = {}
        self._stop_reason: str | None = None
        self._usage: DeltaUsage | None = None

    def encode(self, batch: ChunkBatch) -> bytes:
        """The SSE bytes for one batch (possibly empty)."""
        out: list[bytes] = []
        for chunk in batch:
            if not self._started:
                out.append(self._message_start(chunk.id))
            if chunk.usage is not None:
                u = usage_of(chunk.usage)
                self._usage = DeltaUsage(
                    input_tokens=u.input_tokens,
                    output_tokens=u.output_tokens,
                    cache_creation_input_tokens=u.cache_creation_input_tokens,
                    cache_read_input_tokens=u.cache_read_input_tokens,
                    cache_creation=u.cache_creation,
                    output_tokens_details=u.output_tokens_details,
                )
            self._choices(chunk, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """Close the open block; then ``message_delta`` and ``message_stop``."""
        out: list[bytes] = []
        if not self._started:
            out.append(self._message_start(""))
        self._close(out)
        usage = self._usage or DeltaUsage(output_tokens=0)
        out.append(
            _sse(
                MessageDeltaEvent(
                    MessageDeltaBody(self._stop_reason or "end_turn", self._stop_sequence), usage
                )
            )
        )
        out.append(_sse(MessageStopEvent()))
        return b"".join(out)

    def error(self, err: SluiceError) -> bytes:
        """An ``error`` event, for a failure after the stream started."""
        return _sse(error_event(err))

    def _message_start(self, chat_id: str) -> bytes:
        self._started = True
        usage = Usage(input_tokens=0, output_tokens=0)
        report = (
            msgspec.UNSET
            if self._retrieval is None
            else Raw(encoder.encode({"retrieval": self._retrieval.report()}))
        )
        return _sse(
            MessageStartEvent(
                Message(id=message_id(chat_id), model=self.model, content=[], usage=usage, sluice=report)
            )
        )

    def _choices(self, chunk: ChatChunk, out: list[bytes]) -> None:
        for choice in chunk.choices:
            delta = choice.delta
            if delta.reasoning_content or delta.thinking_blocks:
                self._thinking(delta, out)
            text = delta.content or delta.refusal
            if text:
                if self._open_kind != "text":
                    self._text_block = self._start(ContentBlock(type="text", text=""), "text", out)
                out.append(_sse(ContentBlockDeltaEvent(self._blocks - 1, TextDelta(text))))
                if delta.content and self._retrieval is not None:
                    self._text.append(delta.content)
            if delta.annotations is not msgspec.UNSET:
                self._citations(out)
            for call in delta.tool_calls or ():
                self._tool_call(call, out)
            if choice.finish_reason:
                self._stop_reason = STOP_REASONS.get(choice.finish_reason, "end_turn")
                self._stop_sequence = matched_stop(choice.finish_reason, choice.stop_reason, self._stops)
                if self._stop_sequence is not None:
                    self._stop_reason = "stop_sequence"

    def _citations(self, out: list[bytes]) -> None:
        """The answer's citations of retrieved passages (the gateway's annotations chunk comes
        before the one that finishes the answer), as ``citations_delta`` events of the text
        block they cite from, while it is open."""
        r = self._retrieval
        if r is None or self._text_block is None or self._open != self._text_block:
            return
        for c in r.citations("".join(self._text)):
            out.append(_sse(ContentBlockDeltaEvent(self._text_block, CitationsDelta(citation(c)))))

    def _thinking(self, delta: Delta, out: list[bytes]) -> None:
        if delta.reasoning_content:
            if self._open_kind != "thinking":
                self._start(ContentBlock(type="thinking", thinking="", signature=""), "thinking", out)
            out.append(_sse(ContentBlockDeltaEvent(self._blocks - 1, ThinkingDelta(delta.reasoning_content))))
        for b in delta.thinking_blocks or ():
            if b.type == "redacted_thinking":
                self._start(ContentBlock(type="redacted_thinking", data=b.data or ""), "thinking", out)
                self._close(out)
            elif b.signature:
                if self._open_kind != "thinking":
                    self._start(ContentBlock(type="thinking", thinking="", signature=""), "thinking", out)
                out.append(_sse(ContentBlockDeltaEvent(self._blocks - 1, SignatureDelta(b.signature))))
                self._close(out)  # a signature ends its block: the next reasoning is a new one

    def _tool_call(self, call: ToolCallDelta, out: list[bytes]) -> None:
        index = self._tool_blocks.get(call.index)
        fn = call.function
        if index is None:
            name = fn.name if fn is not None and fn.name else ""
            block = ContentBlock(type="tool_use", id=call.id or "", name=name, input=Raw(b"{}"))
            index = self._tool_blocks[call.index] = self._start(block, "tool_use", out)
        if fn is not None and fn.arguments:
            out.append(_sse(ContentBlockDeltaEvent(index, InputJsonDelta(fn.arguments))))

    def _start(self, block: ContentBlock, kind: _Kind, out: list[bytes]) -> int:
        self._close(out)
        index = self._open = self._blocks
        self._open_kind = kind
        self._blocks += 1
        out.append(_sse(ContentBlockStartEvent(index, block)))
        return index

    def _close(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(_sse(ContentBlockStopEvent(self._open)))
            self._open = self._open_kind = None
