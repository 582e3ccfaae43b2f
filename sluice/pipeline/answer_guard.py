"""The answer guardrails, around the answer as it flows: PII and secrets redacted
(``output_pii``), content rules checked (a violation stops the answer with ``finish_reason:
"content_filter"``; with ``on_reject`` the model is asked once more, on the same route or on the
policy's fallback alias), then the prompt's own redacted values put back (``restore``): the
client's own data is not taken from it. JSON answers and streams alike; a stream holds back only
what could still become a finding. The cache keeps the provider's answer, not this one."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

import msgspec

from sluice.errors import NotFoundError, PermissionDeniedError
from sluice.guardrails.rules import ContentStopped, RuleGate, Rules
from sluice.guardrails.stream import HoldBack, Redactor, Restorer, filter_chunks
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Ask, Stage
from sluice.types import ChatRequest, ChatResponse, ChunkBatch, ChunkStream, ThinkingBlock


class AnswerGuardStage(Stage):
    name = "answer guard"

    async def answer(self, ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
        if not ctx.guards_answer:
            return response
        out = guarded(response, ctx)
        if not ctx.answer_blocked or ctx.on_reject is None or ctx.hit is not None:
            return out
        assert isinstance(ctx.request, ChatRequest)
        fallback = None if ctx.on_reject == "retry" else ctx.on_reject
        try:
            second = await ask(ctx.request, fallback)
        except (NotFoundError, PermissionDeniedError):
            return out  # the caller may not use the fallback alias: the stopped answer stands
        ctx.note_guardrail("output", "content_rule", "retry" if fallback is None else "fallback")
        ctx.answer_blocked = False
        return guarded(second, ctx)  # stopped again if it breaks a rule too

    def stream(self, ctx: RequestContext, chunks: ChunkStream) -> ChunkStream:
        return guarded_stream(chunks, ctx) if ctx.guards_answer else chunks


def _answer_filter(ctx: RequestContext, made: list[_Answer] | None = None) -> Callable[[], _Answer]:
    """One answer's filter: PII redacted as it flows (``output_pii``), content rules checked
    (``deny*``: a violation stops the answer), then the request's own redacted values put back
    (``restore``): the client's own data is not taken from it."""
    originals = ctx.restore

    def make() -> _Answer:
        f = _Answer(
            ctx,
            Redactor() if ctx.output_pii else None,
            ctx.output_rules,
            Restorer(originals) if originals else None,
        )
        if made is not None:
            made.append(f)
        return f

    return make


class _Answer:
    __slots__ = ("_ctx", "_gate", "_redact", "_redactor", "_restore", "_rules", "blocked")

    def __init__(
        self, ctx: RequestContext, redactor: Redactor | None, rules: Rules | None, restore: Restorer | None
    ) -> None:
        self._ctx = ctx
        self._redactor = redactor
        self._redact = HoldBack(redactor) if redactor is not None else None
        self._gate = RuleGate(rules) if rules is not None else None
        self._rules = HoldBack(self._gate) if self._gate is not None else None
        self._restore = restore
        self.blocked = False
        """A content rule stopped this answer: nothing more of it goes out."""

    @property
    def acted(self) -> bool:
        """Did the guardrails redact or stop anything of this text (putting back the request's
        own redacted values does not count)?"""
        return self.blocked or (self._redactor is not None and bool(self._redactor.findings))

    def feed(self, delta: str) -> str:
        if self.blocked:
            return ""
        if self._redact is not None:
            delta = self._redact.feed(delta)
        if self._rules is not None:
            delta = self._checked(self._rules.feed, delta)
        return self._restore.feed(delta) if self._restore is not None else delta

    def flush(self) -> str:
        if self.blocked:
            return ""
        text = ""
        if self._redact is not None:
            text = self._redact.flush()
            assert self._redactor is not None
            if self._redactor.findings and not _noted(self._ctx, "output", "pii"):
                self._ctx.note_guardrail("output", "pii", "redact")
        if self._rules is not None:
            rules = self._rules
            text = self._checked(rules.feed, text) + self._checked(lambda _: rules.flush(), "")
        if self._restore is not None:
            text = self._restore.feed(text) + self._restore.flush()
        return text

    def _checked(self, step: Callable[[str], str], text: str) -> str:
        try:
            return step(text)
        except ContentStopped as e:
            assert self._gate is not None and self._gate.violations
            self.blocked = True
            self._ctx.answer_blocked = True
            self._ctx.note_guardrail("output", self._gate.violations[0].category, "block")
            return e.released


def _noted(ctx: RequestContext, stage: str, category: str) -> bool:
    return ctx.guardrails is not None and any(s == stage and c == category for s, c, _ in ctx.guardrails)


def guarded(response: ChatResponse, ctx: RequestContext) -> ChatResponse:
    """A JSON answer through the output guardrails (the cache keeps the provider's answer); an
    answer a content rule stopped keeps what came before the violation and ends with
    ``finish_reason: "content_filter"``. The model's reasoning (``reasoning_content``) passes the
    same guardrails; when they redact or stop any of it, its signed ``thinking_blocks`` (whose
    text a signature seals, so it cannot be redacted) are not given out."""
    made: list[_Answer] = []
    make = _answer_filter(ctx, made)
    choices = []
    for c in response.choices:
        m = c.message
        blocked = False
        if m.reasoning_content or m.thinking_blocks:
            f = make()
            reasoning = (
                f.feed(m.reasoning_content) + f.flush() if m.reasoning_content else m.reasoning_content
            )
            blocks = m.thinking_blocks
            acted, blocked = f.acted, f.blocked
            if blocks:
                in_blocks = _blocks_act(ctx, blocks)
                acted, blocked = acted or in_blocks[0], blocked or in_blocks[1]
            if acted:
                blocks = None
            m = msgspec.structs.replace(m, reasoning_content=reasoning, thinking_blocks=blocks)
        if m.content and not blocked:
            f = make()
            m = msgspec.structs.replace(m, content=f.feed(m.content) + f.flush())
            blocked = f.blocked
        elif blocked:
            m = msgspec.structs.replace(m, content="")
        if m is not c.message:
            c = msgspec.structs.replace(
                c, message=m, finish_reason="content_filter" if blocked else c.finish_reason
            )
        choices.append(c)
    return msgspec.structs.replace(response, choices=choices)


def _blocks_act(ctx: RequestContext, blocks: list[ThinkingBlock]) -> tuple[bool, bool]:
    """Would the guardrails redact (first) or stop (second) the text of these signed blocks
    (what the client reads in them, besides ``reasoning_content``)?"""
    acted = blocked = False
    for b in blocks:
        if b.thinking:
            f = _answer_filter(ctx)()
            f.feed(b.thinking)
            f.flush()
            acted, blocked = acted or f.acted, blocked or f.blocked
    return acted, blocked


async def _reasoning_guarded(
    chunks: ChunkStream, ctx: RequestContext, made: list[_Answer]
) -> AsyncGenerator[ChunkBatch, None]:
    """A stream's reasoning deltas through the guardrails, each thinking block with a filter of
    its own: held-back text goes out before the block's signature (or the answer's first text,
    tool call or finish); a block whose text the guardrails redacted or stopped loses its
    signature item (a signature seals the original text). A content rule it breaks stops the
    answer as one in the text does (``guarded_stream`` sees the filter in ``made``)."""
    make = _answer_filter(ctx, made)
    filters: dict[int, _Answer] = {}
    try:
        async for batch in chunks:
            for chunk in batch:
                for choice in chunk.choices:
                    d = choice.delta
                    f = filters.get(choice.index)
                    if d.reasoning_content:
                        if f is None:
                            f = filters[choice.index] = make()
                        d.reasoning_content = f.feed(d.reasoning_content) or None
                    if f is None:
                        continue
                    ends = d.thinking_blocks or d.content or d.tool_calls or choice.finish_reason
                    if not ends:
                        continue
                    d.reasoning_content = (d.reasoning_content or "") + f.flush() or None
                    del filters[choice.index]
                    if d.thinking_blocks and f.acted:
                        d.thinking_blocks = [b for b in d.thinking_blocks if b.type != "thinking"] or None
            yield batch
    finally:
        await chunks.aclose()


async def guarded_stream(chunks: ChunkStream, ctx: RequestContext) -> AsyncGenerator[ChunkBatch, None]:
    """A stream through the output guardrails as it flows, each choice holding back only what
    could still become a finding; closing it closes the stream beneath, which settles."""
    made: list[_Answer] = []
    try:
        async for batch in filter_chunks(_reasoning_guarded(chunks, ctx, made), _answer_filter(ctx, made)):
            if any(f.blocked for f in made):
                yield _stopped(batch)
                return  # the upstream is closed below: no more of the answer is generated
            yield batch
    finally:
        await chunks.aclose()


def _stopped(batch: ChunkBatch) -> ChunkBatch:
    """The batch in which a content rule stopped the answer, ending it as OpenAI does a
    filtered one: ``finish_reason: "content_filter"`` on its last chunk with choices."""
    last = next((chunk for chunk in reversed(batch) if chunk.choices), None)
    if last is not None:
        for choice in last.choices:
            choice.finish_reason = "content_filter"
    return batch
