"""Between the two shapes of one answer: a streamed answer recorded into a chat completion (to
cache it), and a cached chat completion replayed as OpenAI stream chunks (to serve a stream)."""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from sluice.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkBatch,
    ChunkChoice,
    Delta,
    FunctionCall,
    FunctionCallDelta,
    ResponseMessage,
    ThinkingBlock,
    ToolCall,
    ToolCallDelta,
    Usage,
)


def replay(response: ChatResponse, *, include_usage: bool) -> ChunkBatch:
    """The chunks a stream of ``response`` would have had: per choice the role with the whole
    text (or the tool calls), then its finish; the usage chunk when asked for."""
    fingerprint = response.system_fingerprint or None

    def chunk(choices: list[ChunkChoice], usage: Usage | None = None) -> ChatChunk:
        return ChatChunk(
            id=response.id,
            object="chat.completion.chunk",
            created=response.created,
            model=response.model,
            choices=choices,
            usage=usage,
            system_fingerprint=fingerprint,
        )

    chunks: ChunkBatch = []
    for c in response.choices:
        m = c.message
        calls = None
        if m.tool_calls:
            calls = [
                ToolCallDelta(
                    index=i,
                    id=t.id,
                    type=t.type,
                    function=FunctionCallDelta(name=t.function.name, arguments=t.function.arguments),
                )
                for i, t in enumerate(m.tool_calls)
            ]
        reasoning = _reasoning_deltas(m)
        if reasoning:  # the role first, then the reasoning, then the answer
            reasoning.insert(0, Delta(role=m.role, content=""))
        chunks.extend(chunk([ChunkChoice(index=c.index, delta=d, finish_reason=None)]) for d in reasoning)
        delta = Delta(
            role=None if reasoning else m.role,
            content=m.content if m.content is not None else ("" if calls is None else None),
            tool_calls=calls,
            refusal=m.refusal or None,
        )
        chunks.append(chunk([ChunkChoice(index=c.index, delta=delta, finish_reason=None)]))
        chunks.append(chunk([ChunkChoice(index=c.index, delta=Delta(), finish_reason=c.finish_reason)]))
    if include_usage and response.usage is not None:
        chunks.append(chunk([], response.usage))
    return chunks


def _reasoning_deltas(m: ResponseMessage) -> list[Delta]:
    """A message's reasoning as a stream carries it: each signed block's text, then its signature
    alone; a redacted block whole; unsigned reasoning as text only."""
    if not m.thinking_blocks:
        return [Delta(reasoning_content=m.reasoning_content)] if m.reasoning_content else []
    out = []
    for b in m.thinking_blocks:
        if b.type == "thinking":
            if b.thinking:
                out.append(Delta(reasoning_content=b.thinking))
            out.append(
                Delta(thinking_blocks=[ThinkingBlock(type="thinking", thinking="", signature=b.signature)])
            )
        else:
            out.append(Delta(thinking_blocks=[b]))
    return out


@dataclass
class _Choice:
    role: str = "assistant"
    text: list[str] = field(default_factory=list)
    calls: dict[int, list[str | None]] = field(default_factory=dict)
    """Tool call index -> [id, type, name, arguments]."""
    refusal: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    unsigned: list[str] = field(default_factory=list)
    """Reasoning since the last signature: the text of the block the next signature ends."""
    thinking: list[ThinkingBlock] = field(default_factory=list)
    finish_reason: str | None = None


class Recorder:
    """Accumulates a stream's chunks; ``response`` is the chat completion they add up to, or
    None while any choice is unfinished (a stream cut short is not an answer to keep)."""

    def __init__(self) -> None:
        self._choices: dict[int, _Choice] = {}
        self._head: ChatChunk | None = None
        self._usage: Usage | None = None

    def add(self, batch: ChunkBatch) -> None:
        for chunk in batch:
            self._head = self._head or chunk
            if chunk.usage is not None:
                self._usage = chunk.usage
            for ch in chunk.choices:
                c = self._choices.setdefault(ch.index, _Choice())
                d = ch.delta
                if d.role:
                    c.role = d.role
                if d.content:
                    c.text.append(d.content)
                if d.refusal:
                    c.refusal.append(d.refusal)
                if d.reasoning_content:
                    c.reasoning.append(d.reasoning_content)
                    c.unsigned.append(d.reasoning_content)
                for b in d.thinking_blocks or ():
                    if b.type == "thinking":
                        b = ThinkingBlock(
                            type="thinking", thinking="".join(c.unsigned), signature=b.signature
                        )
                        c.unsigned.clear()
                    c.thinking.append(b)
                for t in d.tool_calls or ():
                    call = c.calls.setdefault(t.index, [None, None, None, ""])
                    call[0] = t.id or call[0]
                    call[1] = t.type or call[1]
                    if t.function is not None:
                        call[2] = t.function.name or call[2]
                        call[3] = (call[3] or "") + (t.function.arguments or "")
                if ch.finish_reason is not None:
                    c.finish_reason = ch.finish_reason

    def response(self) -> ChatResponse | None:
        head = self._head
        if head is None or not self._choices or any(c.finish_reason is None for c in self._choices.values()):
            return None
        choices = []
        for index, c in sorted(self._choices.items()):
            calls = [
                ToolCall(
                    id=call[0] or "",
                    type=call[1] or "function",
                    function=FunctionCall(name=call[2] or "", arguments=call[3] or ""),
                )
                for _, call in sorted(c.calls.items())
            ] or None
            text = "".join(c.text) if c.text or calls is None else None
            message = ResponseMessage(
                role=c.role,
                content=text,
                tool_calls=calls,
                refusal="".join(c.refusal) or None,
                reasoning_content="".join(c.reasoning) or None,
                thinking_blocks=c.thinking or None,
            )
            choices.append(Choice(index=index, message=message, finish_reason=c.finish_reason))
        return ChatResponse(
            id=head.id,
            object="chat.completion",
            created=head.created,
            model=head.model,
            choices=choices,
            usage=self._usage,
            system_fingerprint=head.system_fingerprint,
        )


def restamped(response: ChatResponse, request_id: str, now: int) -> ChatResponse:
    """A cached answer as this request's: its own id and creation time, the same content."""
    return msgspec.structs.replace(response, id=f"chatcmpl-{request_id}", created=now)
