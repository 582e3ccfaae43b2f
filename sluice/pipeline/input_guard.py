"""The input guardrails. Each text of a chat request (user turns, tool results, and what
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
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import msgspec

from sluice.auth.principal import Principal
from sluice.errors import GuardrailError
from sluice.guardrails import pasted, pii, schema
from sluice.guardrails.plugins import Plugin
from sluice.guardrails.rules import Rules
from sluice.guardrails.scorer import InjectionScorer, Scored
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.policies import GuardrailPolicy
from sluice.types import ChatRequest, ContentPart, EmbeddingRequest, Message

SEPARATOR = "\n\x00\n"
"""Between texts redacted together: no detector matches across a NUL."""

_SOURCES = {"user": "user", "tool": "tool", "function": "tool"}
"""Where a message's text comes from, for the injection detector: data the application fetched
(tool results, Anthropic ``tool_result`` blocks) is held to a stricter standard than what a user
typed. System and assistant turns are the application's own and are not scanned for injection,
except the documents a system or developer message carries (``_DOCUMENT``), and whole messages of
any role the client marks as retrieved content (``"sluice": {"guardrails": {"documents": [i, ...]}}``),
which are scanned as documents; PII checks read all."""

_DOCUMENT = re.compile(
    r"<(documents?|context|search_results?|retrieved|source_document)\b[^>]*>(.*?)</\1\s*>",
    re.DOTALL | re.IGNORECASE,
)
"""Retrieved content inside a system or developer message, by the common convention of wrapping it
in a tag (Anthropic's ``<documents><document>...``, LangChain's and LlamaIndex's ``<context>``):
scanned as a document, while the instructions around it stay the application's own."""

Verdict = Scored

Scan = Callable[[str, str], Verdict | None]
"""``scan(text, source)``: the injection detector's score for ``text`` (source user, tool or
document) and its category; the policy's threshold decides."""


class _Text(NamedTuple):
    message: int
    part: int | None
    """The content part's index, None for a plain string content."""
    source: str
    text: str


class InputGuardStage(Stage):
    """Also reads the rest of the caller's guardrail policy into the context, for the answer
    stages: output PII, content rules, what to do when one stops an answer, the answer's schema."""

    name = "guard"

    def __init__(
        self,
        default: GuardrailPolicy,
        scan: Scan | None = None,
        plugins: Mapping[str, Plugin] | None = None,
        tenants: Mapping[str, GuardrailPolicy] | None = None,
        schemas: schema.SchemaCache | None = None,
    ) -> None:
        self._default = default
        self._schemas = schemas or schema.SchemaCache()
        self._tenants = tenants or {}
        self._scan = scan if scan is not None else InjectionScorer()
        self._plugins = plugins or {}

    async def before(self, ctx: RequestContext) -> None:
        principal = ctx.principal
        policy = self._policy(principal)
        ctx.output_pii = policy.output_pii == "redact"
        ctx.structured_output = policy.structured_output
        if policy.structured_output != "off":
            ctx.answer_schema = self._answer_schema(ctx.request)
        if policy.on_reject == "retry":
            ctx.on_reject = "retry"
        elif policy.on_reject == "fallback" and policy.reject_fallback:
            ctx.on_reject = policy.reject_fallback  # the answer guard asks it, if the caller may use it
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
        if ctx.retrieval is not None and policy.injection != "off" and self._scan is not None:
            self._passages(ctx, policy)
        request = ctx.request
        if not isinstance(request, ChatRequest):
            return
        texts = _texts(request.messages, {id(m) for m in ctx.document_messages})
        if not texts:
            return
        if policy.injection != "off" and self._scan is not None:
            self._injection(ctx, policy, request, texts)
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

    def _passages(self, ctx: RequestContext, policy: GuardrailPolicy) -> None:
        """Retrieved passages are data: each is scored as a tool result is, and one at or above
        the threshold is left out of the prompt (``log``: only noted), not the request refused."""
        assert self._scan is not None and ctx.retrieval is not None
        flagged: dict[int, str] = {}
        for i, p in enumerate(ctx.retrieval.passages):
            v = self._scan(p.hit.text, "document")
            if v is not None and v.score >= policy.injection_threshold:
                action = "log" if policy.injection == "log" else "drop"
                ctx.note_guardrail("retrieval", v.category, action)
                if action == "drop":
                    flagged[i] = v.category
        ctx.retrieval.drop(ctx, flagged)

    def _injection(
        self, ctx: RequestContext, policy: GuardrailPolicy, request: ChatRequest, texts: list[_Text]
    ) -> None:
        assert self._scan is not None
        worst: Verdict | None = None
        # The retrieval stage's own message of passages: each passage was scanned already.
        own = ctx.retrieval.at if ctx.retrieval is not None else None
        for source, text in _scanned(request, texts, own):
            v = self._scan(text, source)
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
        hits = pii.find(joined, kinds)
        found = {f.kind for f in hits}
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
            # Everything found is to be redacted (the usual case): the same findings, not a second
            # search. Otherwise found again among the kinds to redact, as overlaps may resolve otherwise.
            r = pii.redact(
                joined, reversible=policy.reversible, kinds=redact, hits=hits if redact == found else None
            )
            ctx.request = _replaced(request, texts, r.text.split(SEPARATOR))
            if r.originals:
                ctx.restore = r.originals


@functools.lru_cache(maxsize=256)
def _system_documents(text: str) -> tuple[pasted.Span, ...]:
    """``pasted.documents`` of a system message: an application sends the same one with every
    request, so it is read once, not per request."""
    return tuple(pasted.documents(text))


def _scanned(request: ChatRequest, texts: list[_Text], skip: int | None = None) -> list[tuple[str, str]]:
    """(source, text) for the injection detector: user turns and tool results whole, and the
    documents inside system and developer turns: tagged (``_DOCUMENT``), fenced, or labelled and
    announced as data (``pasted.documents``); never the message at ``skip`` (the gateway's own)."""
    out = []
    for t in texts:
        if t.source != "app":
            out.append((t.source, t.text))
        elif (
            t.part != _THINKING
            and t.message != skip
            and request.messages[t.message].role in ("system", "developer")
        ):
            if "<" in t.text:
                out.extend(("document", m.group(2)) for m in _DOCUMENT.finditer(t.text))
            out.extend(("document", t.text[start:end]) for start, end in _system_documents(t.text))
    return out


_THINKING = -1
"""A ``_Text``'s ``part`` for an assistant turn's echoed reasoning (its thinking blocks' text and
``reasoning_content``): checked for PII and secrets like the rest, but a signature seals a thinking
block's text, so a finding to redact drops the turn's reasoning instead of rewriting it."""


def _texts(messages: list[Message], documents: set[int] | frozenset[int] = frozenset()) -> list[_Text]:
    """Each text of ``messages`` with where it comes from; ``documents`` holds the ``id`` of the
    messages marked as retrieved content (``sluice.guardrails.documents``), read as documents."""
    out = []
    for i, m in enumerate(messages):
        source = "document" if id(m) in documents else _SOURCES.get(m.role, "app")
        if isinstance(m.content, str):
            if m.content:
                out.append(_Text(i, None, source, m.content))
        elif m.content:
            for j, part in enumerate(m.content):
                if part.text:
                    out.append(_Text(i, j, source, part.text))
        if m.thinking_blocks or m.reasoning_content:
            thought = [b.thinking for b in m.thinking_blocks or () if b.thinking]
            if m.reasoning_content:
                thought.append(m.reasoning_content)
            if thought:
                out.append(_Text(i, _THINKING, "app", "\n".join(thought)))
    return out


def _replaced(request: ChatRequest, texts: list[_Text], new: list[str]) -> ChatRequest:
    """The request with each text replaced by its redacted version (the rest untouched)."""
    messages = list(request.messages)
    for t, text in zip(texts, new, strict=True):
        if text == t.text:
            continue
        m = messages[t.message]
        if t.part == _THINKING:
            messages[t.message] = msgspec.structs.replace(m, thinking_blocks=None, reasoning_content=None)
        elif t.part is None:
            messages[t.message] = msgspec.structs.replace(m, content=text)
        else:
            assert isinstance(m.content, list)
            parts: list[ContentPart] = list(m.content)
            parts[t.part] = msgspec.structs.replace(parts[t.part], text=text)
            messages[t.message] = msgspec.structs.replace(m, content=parts)
    return msgspec.structs.replace(request, messages=messages)


@functools.lru_cache(maxsize=256)
def _rules(
    deny: tuple[str, ...], categories: tuple[str, ...], patterns: tuple[tuple[str, str], ...]
) -> Rules:
    """A policy's content rules, compiled once per distinct set."""
    return Rules(deny=deny, categories=categories, patterns=dict(patterns))
