"""Stage 4: input guardrails. Each text of a chat request (user turns, tool results, and what
the system and assistant turns carry) is checked against the caller's policy: prompt injection
(scored by a detector), PII and secrets. Each finding's action is one of log, flag, redact or
block; a block is a 400 ``content_policy_violation`` that costs nothing (the stage runs before
admission and budgets). What acted is noted on the context for the ``x-sluice-guardrails``
header, the request log and the metrics.

Under ``structured_output: validate | repair`` the request's ``json_schema`` is compiled here, once
per distinct schema (``guardrails.schema.SchemaCache``), so a schema that cannot be used is a 400
before any quota or upstream call; the answer is checked against it after the call.

Redaction numbers placeholders across the whole request (the same email in two messages is the
same ``[EMAIL_1]``); with ``reversible`` the originals are kept, only in memory, to put back into
the answer.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import NamedTuple

import msgspec

from sluice.auth.principal import Principal
from sluice.errors import GuardrailError, StructuredOutputError
from sluice.guardrails import pii, schema
from sluice.guardrails.plugins import Plugin
from sluice.guardrails.rules import ContentStopped, RuleGate, Rules
from sluice.guardrails.stream import DeltaFilter, HoldBack, Redactor, Restorer, filter_chunks
from sluice.pipeline.context import RequestContext
from sluice.policies import GuardrailPolicy
from sluice.routing.router import Router
from sluice.types import (
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    ChunkStream,
    ContentPart,
    EmbeddingRequest,
    Message,
    Usage,
)

SEPARATOR = "\n\x00\n"
"""Between texts redacted together: no detector matches across a NUL."""

_SOURCES = {"user": "user", "tool": "tool", "function": "tool"}
"""Where a message's text comes from, for the injection detector: data the application fetched
(tool results) is held to a stricter standard than what a user typed. System and assistant
turns are the application's own and are not scanned for injection (PII checks read them)."""


class Verdict(NamedTuple):
    score: float
    category: str


Scan = Callable[[str, str], Verdict | None]
"""``scan(text, source)``: the injection detector's best finding in ``text``, or None."""


def detect_injection(text: str, source: str) -> Verdict | None:
    """``guardrails.injection``'s best finding, whatever its score (the policy's threshold decides).
    Its ~700 patterns compile on first use (~30 ms), not at startup, since most policies leave
    injection off."""
    from sluice.guardrails import injection

    v = injection.score(text, source="tool" if source == "tool" else "user")
    return None if v is None else Verdict(v.score, v.category.value)


class _Text(NamedTuple):
    message: int
    part: int | None
    """The content part's index, None for a plain string content."""
    source: str
    text: str


class InputGuardStage:
    def __init__(
        self,
        default: GuardrailPolicy,
        scan: Scan | None = detect_injection,
        plugins: Mapping[str, Plugin] | None = None,
        tenants: Mapping[str, GuardrailPolicy] | None = None,
        schemas: schema.SchemaCache | None = None,
    ) -> None:
        self._default = default
        self._schemas = schemas or schema.SchemaCache()
        self._tenants = tenants or {}
        self._scan = scan
        self._plugins = plugins or {}

    async def __call__(self, ctx: RequestContext) -> None:
        principal = ctx.principal
        policy = self._policy(principal)
        ctx.output_pii = policy.output_pii == "redact"
        ctx.structured_output = policy.structured_output
        if policy.structured_output != "off":
            ctx.answer_schema = self._answer_schema(ctx.request)
        if policy.on_reject == "retry":
            ctx.on_reject = "retry"
        elif policy.on_reject == "fallback" and policy.reject_fallback:
            # A key that may not use the fallback alias keeps the stopped answer (on_reject: fail).
            if principal is None or principal.may_use(policy.reject_fallback):
                ctx.on_reject = policy.reject_fallback
        if policy.has_rules:
            ctx.output_rules = _rules(
                tuple(policy.deny), tuple(policy.deny_categories), tuple(sorted(policy.deny_patterns.items()))
            )
        if (
            policy.injection == "off"
            and policy.pii == "off"
            and policy.secrets == "off"
            and not policy.plugins
        ):
            return
        request = ctx.request
        if not isinstance(request, ChatRequest):
            return
        texts = _texts(request.messages)
        if not texts:
            return
        if policy.injection != "off" and self._scan is not None:
            self._injection(ctx, policy, texts)
        if policy.plugins:
            await self._run_plugins(ctx, policy, texts)
        if policy.pii != "off" or policy.secrets != "off":
            self._pii(ctx, policy, request, texts)

    def _answer_schema(self, request: ChatRequest | EmbeddingRequest) -> schema.AnswerSchema | None:
        """The ``json_schema`` a JSON answer is checked against, compiled (a 400 if it cannot be,
        before the request costs anything); None when there is nothing to check."""
        if not isinstance(request, ChatRequest) or request.stream or request.response_format is None:
            return None
        fmt = request.response_format.json_schema
        if request.response_format.type != "json_schema" or fmt is None or fmt.schema is None:
            return None
        return self._schemas.compile(fmt.schema)

    def _policy(self, principal: Principal | None) -> GuardrailPolicy:
        """The tenant's own (admin API) or the static key's, else the config's for the tenant,
        else the config's default."""
        if principal is None:
            return self._default
        if principal.guardrails is not None:
            return principal.guardrails
        if principal.tenant_id is not None and self._tenants:
            return self._tenants.get(principal.tenant_id, self._default)
        return self._default

    async def _run_plugins(self, ctx: RequestContext, policy: GuardrailPolicy, texts: list[_Text]) -> None:
        """The policy's plugins, concurrently, on the texts as the client sent them."""
        plugins = [self._plugins[n] for n in policy.plugins if n in self._plugins]
        principal = ctx.principal
        info = {
            "stage": "input",
            "tenant": principal.tenant_id if principal else None,
            "model": ctx.request.model,
        }
        strings = [t.text for t in texts]
        outcomes = await asyncio.gather(*(p(strings, info) for p in plugins))
        blocked = None
        for outcome in outcomes:
            if outcome is not None:
                ctx.note_guardrail("input", outcome.category, outcome.action)
                if outcome.action == "block" and blocked is None:
                    blocked = outcome.category
        if blocked is not None:
            raise GuardrailError(
                f"The request was refused by the gateway's input guardrails (category: {blocked}).",
                param="messages",
            )

    def _injection(self, ctx: RequestContext, policy: GuardrailPolicy, texts: list[_Text]) -> None:
        assert self._scan is not None
        worst: Verdict | None = None
        for t in texts:
            if t.source == "app":
                continue
            v = self._scan(t.text, t.source)
            if (
                v is not None
                and v.score >= policy.injection_threshold
                and (worst is None or v.score > worst.score)
            ):
                worst = v
        if worst is None:
            return
        ctx.note_guardrail("input", worst.category, policy.injection)
        if policy.injection == "block":
            raise GuardrailError(
                f"The request was refused by the gateway's input guardrails (category: {worst.category}).",
                param="messages",
            )

    def _pii(
        self, ctx: RequestContext, policy: GuardrailPolicy, request: ChatRequest, texts: list[_Text]
    ) -> None:
        kinds = (pii.PII if policy.pii != "off" else frozenset()) | (
            pii.SECRETS if policy.secrets != "off" else frozenset()
        )
        joined = SEPARATOR.join(t.text for t in texts)
        found = {f.kind for f in pii.find(joined, kinds)}
        if not found:
            return
        redact: set[pii.Kind] = set()
        for category, action, group in (
            ("secrets", policy.secrets, pii.SECRETS),
            ("pii", policy.pii, pii.PII),
        ):
            if action == "off" or not found & group:
                continue
            ctx.note_guardrail("input", category, action)
            if category == "pii":
                ctx.pii_found = True
            if action == "block":
                raise GuardrailError(
                    f"The request was refused by the gateway's input guardrails (category: {category}: "
                    f"{', '.join(sorted(k.value.lower() for k in found & group))}).",
                    param="messages",
                )
            if action == "redact":
                redact |= found & group
        if redact:
            r = pii.redact(joined, reversible=policy.reversible, kinds=redact)
            ctx.request = _replaced(request, texts, r.text.split(SEPARATOR))
            if r.originals:
                ctx.restore = r.originals


def _texts(messages: list[Message]) -> list[_Text]:
    out = []
    for i, m in enumerate(messages):
        source = _SOURCES.get(m.role, "app")
        if isinstance(m.content, str):
            if m.content:
                out.append(_Text(i, None, source, m.content))
        elif m.content:
            for j, part in enumerate(m.content):
                if part.text:
                    out.append(_Text(i, j, source, part.text))
    return out


def _replaced(request: ChatRequest, texts: list[_Text], new: list[str]) -> ChatRequest:
    """The request with each text replaced by its redacted version (the rest untouched)."""
    messages = list(request.messages)
    for t, text in zip(texts, new, strict=True):
        if text == t.text:
            continue
        m = messages[t.message]
        if t.part is None:
            messages[t.message] = msgspec.structs.replace(m, content=text)
        else:
            assert isinstance(m.content, list)
            parts: list[ContentPart] = list(m.content)
            parts[t.part] = msgspec.structs.replace(parts[t.part], text=text)
            messages[t.message] = msgspec.structs.replace(m, content=parts)
    return msgspec.structs.replace(request, messages=messages)


# --- the answer -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _rules(
    deny: tuple[str, ...], categories: tuple[str, ...], patterns: tuple[tuple[str, str], ...]
) -> Rules:
    """A policy's content rules, compiled once per distinct set."""
    return Rules(deny=deny, categories=categories, patterns=dict(patterns))


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


# --- structured output -------------------------------------------------------------------------

Ask = Callable[[ChatRequest], Awaitable[ChatResponse]]


def wants_schema(ctx: RequestContext) -> bool:
    return ctx.answer_schema is not None


async def structured(ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
    """The answer if it matches the request's ``json_schema``; with ``repair``, else the answer to
    one more request that shows the model its answer and what is wrong with it (both calls'
    usage counted); else ``StructuredOutputError`` listing the errors."""
    request, checker = ctx.request, ctx.answer_schema
    assert isinstance(request, ChatRequest) and checker is not None
    text = response.choices[0].message.content or "" if response.choices else ""
    errors = checker.check(text)
    if not errors:
        return response
    action = "repair" if ctx.structured_output == "repair" else "block"
    ctx.note_guardrail("output", "json_schema", action)
    if action == "repair":
        retry = msgspec.structs.replace(
            request, messages=[*request.messages, *schema.repair_prompt(checker.schema, text, errors)]
        )
        fixed = await ask(retry)
        text = fixed.choices[0].message.content or "" if fixed.choices else ""
        errors = checker.check(text)
        response = msgspec.structs.replace(fixed, usage=_sum(response.usage, fixed.usage))
        if not errors:
            return response
    ctx.usage_spent = response.usage  # refused, but the tokens were used: settle charges them
    raise StructuredOutputError(
        f"The model's answer does not match the requested json_schema{' after one repair attempt' if action == 'repair' else ''}: "
        + schema.summary(errors)
    )


def _sum(a: Usage | None, b: Usage | None) -> Usage | None:
    if a is None or b is None:
        return a or b
    return Usage(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
        total_tokens=a.total_tokens + b.total_tokens,
    )


async def answer_again(
    ctx: RequestContext, first: ChatResponse, router: Router
) -> tuple[ChatResponse, ChatResponse]:
    """A content rule stopped ``first``: ask once more, on the same route (``retry``) or on the
    policy's fallback alias, and put that answer through the guardrails. Returns the raw second
    answer (its usage both calls') and what the client gets, stopped again if it breaks a rule."""
    assert ctx.route is not None and isinstance(ctx.request, ChatRequest) and ctx.on_reject is not None
    allowed = ctx.principal.allowed_models if ctx.principal is not None else None
    route = ctx.route if ctx.on_reject == "retry" else router.route(ctx.on_reject, "chat", allowed)
    ctx.note_guardrail("output", "content_rule", "retry" if ctx.on_reject == "retry" else "fallback")
    ctx.answer_blocked = False
    second, ctx.deployment = await router.chat(ctx.request, route, ctx.attempts)
    second = msgspec.structs.replace(second, usage=_sum(first.usage, second.usage))
    return second, guarded(second, ctx)
