"""Each policy defined once: a scope's limits and budgets, a guardrail policy and a cache policy.

msgspec Structs, since the request path reads them from the cached ``Principal`` (and hashes
them as cache keys) on every request; the settings, the store's JSON columns and the admin API
use these same types, and pydantic sees them through ``struct_schema`` for the config file and
the admin API's bodies, errors and OpenAPI schema. Constraints and descriptions live in ``Meta``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sluice.struct_schema import SchemaStruct

MAX_LIMIT = 2**63 - 1
"""The largest limit a 64-bit column holds."""

ScopeKind = Literal["tenant", "user", "key"]
"""What a row of limits applies to."""

Period = Literal["day", "month"]
"""A budget's window: the UTC calendar day or month."""

Action = Literal["off", "log", "flag", "redact", "block"]
"""What an input guardrail does with what it found: nothing, record it, record it and say so in
``x-sluice-guardrails``, replace it with a typed placeholder (PII and secrets only), or refuse
the request (400 ``content_policy_violation``)."""

Category = Literal["profanity", "violence", "self_harm"]
"""The built-in word lists (``guardrails.rules.CATEGORIES``)."""


Whole = Annotated[int, Meta(ge=1, le=MAX_LIMIT)]
"""A whole number from 1 that a 64-bit column holds."""

Fraction = Annotated[float, Meta(gt=0, le=1)]
"""A share or a similarity, above 0 and at most 1."""


class Limits(SchemaStruct, frozen=True):
    """Limits on one scope (a tenant, a user or a key): None means no limit of that kind."""

    rpm: Annotated[Whole | None, Meta(description="Requests per minute (sliding window).")] = None
    tpm: Annotated[
        Whole | None, Meta(description="Tokens per minute, input and output (sliding window).")
    ] = None
    max_concurrent: Annotated[Whole | None, Meta(description="Requests in flight at once.")] = None
    max_tokens: Annotated[
        Whole | None, Meta(description="Cap on a request's max_tokens (and the default when it sets none).")
    ] = None
    max_input_tokens: Annotated[Whole | None, Meta(description="Cap on a request's input tokens.")] = None


class Budget(SchemaStruct, frozen=True):
    """One period's token and USD caps on one scope: a cap left out or None means none."""

    period: Annotated[Period, Meta(description="The UTC day or month the budget applies to.")]
    max_tokens: Annotated[Whole | None, Meta(description="Input and output tokens per period.")] = None
    max_cost_micros: Annotated[
        Whole | None, Meta(description="Spend per period in micro-dollars (1 USD = 1,000,000).")
    ] = None
    on_exceed: Annotated[
        Literal["reject", "downgrade"],
        Meta(description="At the limit: refuse with 429, or use downgrade_to."),
    ] = "reject"
    downgrade_to: Annotated[
        Annotated[str, Meta(min_length=1)] | None,
        Meta(description="The cheaper model alias served at the limit."),
    ] = None

    def __post_init__(self) -> None:
        if self.on_exceed == "downgrade" and self.downgrade_to is None:
            raise ValueError("on_exceed downgrade needs downgrade_to")


class GuardrailPolicy(SchemaStruct, frozen=True):
    """A caller's guardrail policy; callers without one follow the config's ``guardrails.policy``."""

    injection: Annotated[
        Literal["off", "log", "flag", "block"],
        Meta(description="Prompt injection and jailbreaks (tool results and retrieved documents included)."),
    ] = "off"
    injection_threshold: Annotated[
        Fraction, Meta(description="The injection detector's score at or above which a text counts.")
    ] = 0.5
    pii: Annotated[
        Action,
        Meta(
            description="Emails, phones, payment cards, SSNs, IBANs, IP addresses: record (log), say so in "
            "x-sluice-guardrails (flag), replace with [EMAIL_1]-style placeholders (redact), or refuse (block)."
        ),
    ] = "off"
    secrets: Annotated[
        Action, Meta(description="API keys, JWTs and private keys, with the same actions.")
    ] = "off"
    reversible: Annotated[
        bool,
        Meta(
            description="With redact: the provider sees placeholders; the client's answer gets the originals back."
        ),
    ] = False
    output_pii: Annotated[
        Literal["off", "redact"],
        Meta(
            description="PII and secrets in the answer replaced with placeholders, streams included (a small "
            "hold-back, never the whole answer)."
        ),
    ] = "off"
    structured_output: Annotated[
        Literal["off", "validate", "repair"],
        Meta(
            description="When a request asks for response_format json_schema: check the answer (validate: a 502 "
            "invalid_structured_output when it does not match), or first ask the model once to fix it (repair). "
            "JSON answers only."
        ),
    ] = "off"
    on_reject: Annotated[
        Literal["fail", "retry", "fallback"],
        Meta(
            description="When a content rule stops a JSON answer: return it stopped (finish_reason content_filter), "
            "ask the same model once more, or ask reject_fallback instead. Streams are always stopped."
        ),
    ] = "fail"
    reject_fallback: Annotated[
        str | None, Meta(description="The chat model alias asked when on_reject is fallback.")
    ] = None
    plugins: Annotated[
        tuple[str, ...],
        Meta(
            description="Names of guardrails.plugins that also check the request's texts (all run concurrently)."
        ),
    ] = ()
    deny: Annotated[
        tuple[str, ...],
        Meta(
            description="Words and phrases an answer must not contain (whole words, any case): the answer stops "
            "with finish_reason content_filter."
        ),
    ] = ()
    deny_categories: Annotated[
        tuple[Category, ...],
        Meta(description="Built-in word lists an answer must not draw from (short and illustrative)."),
    ] = ()
    deny_patterns: Annotated[
        dict[str, str], Meta(description="Regexes by name an answer must not match.")
    ] = {}

    def __post_init__(self) -> None:
        for name, pattern in self.deny_patterns.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"deny_patterns.{name}: not a valid regex: {e}") from None

    @property
    def has_rules(self) -> bool:
        return bool(self.deny or self.deny_categories or self.deny_patterns)


class CachePolicy(SchemaStruct, frozen=True):
    """A tenant's response-cache policy; tenants without one follow the config's ``cache.policy``."""

    exact: Annotated[bool, Meta(description="Serve identical requests from the exact cache.")] = True
    semantic: Annotated[
        Literal["off", "on", "shadow"],
        Meta(
            description="Serve near-duplicates (on), record what would have been served (shadow), or neither."
        ),
    ] = "off"
    ttl_s: Annotated[Whole, Meta(description="How long an answer stays cached.")] = 3600
    max_entries: Annotated[
        Whole, Meta(description="Entries per tenant in each of the exact cache and the semantic index (LRU).")
    ] = 10_000
    threshold: Annotated[
        Fraction | None,
        Meta(
            description="Cosine similarity a semantic candidate needs; cache.semantic.threshold when unset."
        ),
    ] = None
    deterministic_only: Annotated[
        bool, Meta(description="Cache only requests with temperature 0 or a seed.")
    ] = True
    cache_pii: Annotated[
        bool, Meta(description="Cache requests in which the input guardrails found personal data.")
    ] = False
    cache_tool_calls: Annotated[
        bool, Meta(description="Cache requests carrying tool calls or tool results.")
    ] = False
    judge: Annotated[
        str | None, Meta(description="A cheap chat model alias asked to confirm each semantic candidate.")
    ] = None


Alias = Annotated[str, Meta(min_length=1)]


class SpendPolicy(SchemaStruct, frozen=True):
    """What a tenant's or a user's spend today (the UTC day, counted by the budget ledger) changes:
        past ``downgrade_at_micros`` a user is served from ``downgrade_to``; past
        ``emergency_at_micros`` a tenant is in emergency mode. A user's own policy overrides its
        tenant's field by field (a threshold with no alias, its own or inherited, downgrades nothing;
    emergency mode without one still answers repeats from the cache and caps inputs); the emergency
    fields apply to tenants only."""

    downgrade_at_micros: Annotated[
        Whole | None,
        Meta(
            description="A user's spend today, in micro-dollars (1 USD = 1,000,000), from which the user is "
            "served from downgrade_to. On a tenant: the default for each of its users."
        ),
    ] = None
    downgrade_to: Annotated[
        Alias | None,
        Meta(description="The cheaper model alias a user past downgrade_at_micros is served from."),
    ] = None
    emergency_at_micros: Annotated[
        Whole | None,
        Meta(
            description="Tenants only: the tenant's spend today, in micro-dollars, from which it is in emergency "
            "mode until the next UTC day (or an operator ends it): repeats answered from the cache whatever "
            "their temperature, everything else sent to emergency_to, inputs over emergency_max_input_tokens "
            "refused with 429 emergency_input_too_large."
        ),
    ] = None
    emergency_to: Annotated[
        Alias | None, Meta(description="The cheap alias served in emergency mode; downgrade_to when unset.")
    ] = None
    emergency_max_input_tokens: Annotated[
        Whole | None, Meta(description="In emergency mode, the most input tokens a request may carry.")
    ] = None

    def over(self, base: SpendPolicy | None) -> SpendPolicy:
        """This policy over ``base`` (a tenant's under a user's, a plan's under either), field by
        field: a field left unset here takes ``base``'s."""
        if base is None:
            return self
        unset = {f: getattr(base, f) for f in self.__struct_fields__ if getattr(self, f) is None}
        return msgspec.structs.replace(self, **unset)


class Plan(SchemaStruct, frozen=True):
    """A named tier (``free``, ``pro``, ``enterprise``...) bundling what a tenant or a user on it
    gets by default: its own limits, budgets and spend policy override the plan's field by field
    (a budget period by period), and its callers may use only the plan's models."""

    limits: Annotated[
        Limits, Meta(description="Default limits (a field the tenant's or user's own limits set wins).")
    ] = Limits()
    budgets: Annotated[
        tuple[Budget, ...],
        Meta(
            description="Default budgets, at most one per period (the scope's own budget of a period wins)."
        ),
    ] = ()
    models: Annotated[
        tuple[Annotated[str, Meta(min_length=1)], ...] | None,
        Meta(
            description="The model aliases callers on the plan may use (a key's own list narrows it); None: all."
        ),
    ] = None
    spend: Annotated[
        SpendPolicy | None,
        Meta(description="The default spend policy (the scope's own overrides it field by field)."),
    ] = None

    def __post_init__(self) -> None:
        periods = [b.period for b in self.budgets]
        if len(set(periods)) != len(periods):
            raise ValueError("a plan has at most one budget per period")

    def limits_under(self, own: Limits | None) -> Limits:
        """``own`` over the plan's limits, field by field."""
        if own is None:
            return self.limits
        unset = {f: getattr(self.limits, f) for f in Limits.__struct_fields__ if getattr(own, f) is None}
        return msgspec.structs.replace(own, **unset)

    def budgets_under(self, own: tuple[Budget, ...]) -> tuple[Budget, ...]:
        """``own`` budgets, and the plan's for the periods ``own`` leaves out; day before month."""
        mine = {b.period for b in own}
        return tuple(
            sorted((*own, *(b for b in self.budgets if b.period not in mine)), key=lambda b: b.period)
        )
