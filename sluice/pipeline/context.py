"""RequestContext: everything one request carries from stage to stage, as named fields."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from sluice.auth.principal import Principal
from sluice.budgets.ledger import Reservation
from sluice.limits.counters import Quota, Ticket
from sluice.limits.tokens import Count, chat_input_tokens, embedding_input_tokens, text_tokens
from sluice.routing.auto import Choice
from sluice.routing.deployment import Deployment
from sluice.routing.router import Attempt
from sluice.routing.table import Route
from sluice.store.records import BatchCaller
from sluice.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingUsage,
    Message,
    StreamOptions,
    Usage,
)

if TYPE_CHECKING:
    from sluice.cache.ticket import CacheTicket
    from sluice.guardrails.rules import Rules
    from sluice.guardrails.schema import AnswerSchema
    from sluice.pipeline.retrieval import Retrieval


@dataclass(slots=True)
class RequestContext:
    request_id: str
    credential: str | None
    """The API key the client presented (Bearer token or ``x-api-key``), not yet checked."""
    request: ChatRequest | EmbeddingRequest
    principal: Principal | None = None
    caller: BatchCaller | None = None
    """A batch line's creator as its batch stored it (no credential): authenticate looks them up
    again instead of checking a key."""
    route: Route | None = None
    route_hint: str | None = None
    """The ``x-sluice-route`` header: the tier an auto alias is to use."""
    choice: Choice | None = None
    """An auto alias's choice of tier and its reason (``x-sluice-route``; None: not auto)."""
    deployment: Deployment | None = None
    """The deployment that answered (set once an attempt succeeded)."""
    attempts: list[Attempt] = field(default_factory=list)
    quota: Quota | None = None
    """The rate limits' numbers for the ``x-ratelimit-*`` headers (set once admitted)."""
    admission: Ticket | None = None
    """What admission recorded, for settle to release and correct; None once settled."""
    strips_usage: bool = False
    """Admission or budgets asked the upstream for stream usage the client did not ask for: drop it."""
    budget: Reservation | None = None
    """What the budget stage reserved, for settle to correct; None once settled."""
    emergency: bool = False
    """The tenant is in emergency mode (its spend policy): the cache answers repeats whatever
    their temperature."""
    spend: str | None = None
    """What a spend policy did: ``user_downgraded``, ``emergency`` or ``emergency_refused``."""
    spend_event: str | None = None
    """The spend switch this request made (``spend.emergency_started``...), when its claim won."""
    charge_key: str | None = None
    """Charged once per this key: a batch line's ``<batch id>:<custom_id>``, so a line run again
    after its process died is not charged again (the budget ledger's settle keeps the first)."""
    count: Count = text_tokens
    """How this request's texts are counted (the route's model's tokenizer, set by resolve)."""
    counted_input: int | None = None
    """The input tokens as counted before the call (``input_tokens``), once per request."""
    stream_cut: bool = False
    """The budget meter ended the stream before the upstream did (its answer is not kept)."""
    stream_usage: Usage | None = None
    """A stream's usage as metered (the upstream's, or the budget meter's count when the stream
    was cut or reported none), for settle."""
    cache_control: str | None = None
    """The request's ``Cache-Control`` header."""
    prompt_version: str | None = None
    """``name@version`` of the registry's prompt the request ran (cache entries never cross versions)."""
    prompt: str | None = None
    """The prompt's name, for the request log, metrics and traces."""
    prompt_number: int | None = None
    """The prompt's version number."""
    experiment: str | None = None
    """The experiment that assigned the version (its id), if one did."""
    arm: int | None = None
    """The version the experiment's arm served (a shadow answer's: the candidate)."""
    guardrails: list[tuple[str, str, str]] | None = None
    """What the guardrails did: (stage, category, action) for each that acted (log included)."""
    restore: dict[str, str] | None = None
    """Placeholder -> original, for what the input guardrails redacted reversibly: put back in
    the answer the client gets, kept in memory for this request only."""
    output_pii: bool = False
    """Redact PII and secrets in the answer (the caller's policy says ``output_pii: redact``)."""
    spent: Usage | EmbeddingUsage | None = None
    """Every model call's usage so far, summed (a schema repair or a content rule's retry is a
    second call): what settle charges, and a JSON answer's usage when there was more than one."""
    calls: int = 0
    """Model calls made for this request (``ask`` included)."""
    fresh: ChatResponse | None = None
    """The model's answer as the cache keeps it (recorded by the cache stage)."""
    hit: ChatResponse | None = None
    """The cached answer served (None: not a hit); it used no tokens now and settles at zero."""
    answer_blocked: bool = False
    """A content rule stopped the answer (``finish_reason: content_filter``)."""
    on_reject: str | None = None
    """When a content rule stops a JSON answer: ``retry`` once, or the alias to ask instead."""
    structured_output: str = "off"
    """The caller's policy for answers to ``json_schema`` requests: off, validate or repair."""
    answer_schema: AnswerSchema | None = None
    """The request's ``json_schema``, compiled, when its JSON answer is to be checked against it."""
    output_rules: Rules | None = None
    """The caller's content rules, checked on the answer."""
    document_messages: tuple[Message, ...] = ()
    """The messages the client marked as retrieved content (``sluice.guardrails.documents``), as
    sent: later stages add messages before them, so the input guard finds them by identity."""
    retrieval: Retrieval | None = None
    """What the retrieval stage put in the prompt (and what the input guard dropped from it)."""
    retrieval_param: str = "sluice.retrieval"
    """Where the request's retrieval options came from, for the errors naming them (the Responses
    API's ``file_search`` tool: ``tools[i]``)."""
    pii_found: bool = False
    """The input guardrails found personal data (such requests are not cached unless the policy says so)."""
    cache: CacheTicket | None = None
    """The request's way through the response cache (None: not cacheable)."""
    cache_status: str | None = None
    """``hit``, ``semantic`` or ``miss`` for ``x-sluice-cache`` (None: the cache did not apply)."""
    cache_similarity: float | None = None
    cost_micros: int | None = None
    """What the answer cost at its deployment's price (set by settle), for ``x-sluice-cost-usd``."""
    usage: Usage | EmbeddingUsage | None = None
    """What the answer used, set by the runner before the settle hooks run (None: no model
    answered, or a cache hit)."""
    saved_tokens: int = 0
    """A cache hit's tokens: what the cached answer used when it was made."""
    saved_micros: int = 0
    """What those tokens would have cost now."""
    traceparent: str | None = None
    """The client's W3C ``traceparent`` header, as sent."""
    tracestate: str | None = None
    """The client's W3C ``tracestate`` header, as sent (only with a traceparent)."""
    settled: bool = False
    """The settle hooks have run (they run once per request)."""
    started: float = field(default_factory=time.perf_counter)
    """When the surface began handling the request, for ``x-sluice-overhead-ms``."""

    @property
    def guards_answer(self) -> bool:
        """Does the answer pass through the output guardrails (or get redacted originals back)?"""
        return self.output_pii or self.output_rules is not None or self.restore is not None

    @property
    def holds(self) -> bool:
        """Is there anything to read or settle when a stream ends: counters or a reservation to
        settle, an answer to keep, or the usage the client asked for? (If not, the upstream's
        stream is relayed as it is.)"""
        return (
            self.admission is not None
            or self.budget is not None
            or self.cache is not None
            or (isinstance(self.request, ChatRequest) and self.request.includes_usage)
        )

    def note_guardrail(self, stage: str, category: str, action: str) -> None:
        if self.guardrails is None:
            self.guardrails = []
        self.guardrails.append((stage, category, action))

    def guardrail_header(self) -> str | None:
        """``x-sluice-guardrails``: what acted visibly (``flag``, ``redact``, ``block``), as
        ``action:category`` pairs; None when nothing did (``log`` stays in the logs)."""
        if self.guardrails is None:
            return None
        shown = [f"{action}:{category}" for _, category, action in self.guardrails if action != "log"]
        return ",".join(shown) or None

    def input_tokens(self) -> int:
        """The request's input tokens, counted before the call (admission, budgets and the
        stream meter all need them; the count is made once)."""
        if self.counted_input is None:
            r = self.request
            self.counted_input = (
                chat_input_tokens(r, self.count)
                if isinstance(r, ChatRequest)
                else embedding_input_tokens(r, self.count)
            )
        return self.counted_input

    def overhead_ms(self) -> float:
        """Time spent in the gateway so far, without the upstream attempts' own time."""
        upstream = sum(a.latency_s for a in self.attempts)
        return max(0.0, (time.perf_counter() - self.started - upstream) * 1000)


def ask_stream_usage(ctx: RequestContext) -> None:
    """Have the upstream end a stream with its usage, which settle needs; when the client did
    not ask for it, it is dropped before the client (``strips_usage``)."""
    request = ctx.request
    if isinstance(request, ChatRequest) and not request.includes_usage:
        options = request.stream_options or StreamOptions()
        ctx.request = msgspec.structs.replace(
            request, stream_options=msgspec.structs.replace(options, include_usage=True)
        )
        ctx.strips_usage = True
