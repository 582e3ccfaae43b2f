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
from sluice.guardrails.stream import DeltaFilter, HoldBack, Redactor, Restorer, filter_chunks
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Ask, Stage
from sluice.types import ChatRequest, ChatResponse, ChunkBatch, ChunkStream


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


def _answer_filter(ctx: RequestContext, made: list[_Answer] | None = None) -> Callable[[], DeltaFilter]:
    """One answer's filter: PII redacted as it flows (``output_pii``), content rules checked
    (``deny*``: a violation stops the answer), then the request's own redacted values put back
    (``restore``): the client's own data is not taken from it."""
    originals = ctx.restore

    def make() -> DeltaFilter:
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
    ``finish_reason: "content_filter"``."""
    made: list[_Answer] = []
    make = _answer_filter(ctx, made)
    choices = []
    for c in response.choices:
        if c.message.content:
            f = make()
            content = f.feed(c.message.content) + f.flush()
            c = msgspec.structs.replace(
                c,
                message=msgspec.structs.replace(c.message, content=content),
                finish_reason="content_filter" if made[-1].blocked else c.finish_reason,
            )
        choices.append(c)
    return msgspec.structs.replace(response, choices=choices)


async def guarded_stream(chunks: ChunkStream, ctx: RequestContext) -> AsyncGenerator[ChunkBatch, None]:
    """A stream through the output guardrails as it flows, each choice holding back only what
    could still become a finding; closing it closes the stream beneath, which settles."""
    made: list[_Answer] = []
    try:
        async for batch in filter_chunks(chunks, _answer_filter(ctx, made)):
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
