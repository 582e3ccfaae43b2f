"""The rows the store keeps, as plain immutable records. Times are Unix seconds (int)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

ScopeKind = Literal["tenant", "user", "key"]
"""What a row of limits applies to."""

PolicyKind = Literal["cache", "guardrails"]
"""A tenant's policies kept as JSON: its response cache's and its guardrails'."""
POLICY_COLUMNS: dict[str, str] = {"cache": "cache_policy", "guardrails": "guardrail_policy"}


class Tenant(msgspec.Struct, frozen=True):
    id: str
    name: str
    created_at: int
    disabled: bool = False
    metadata: dict[str, Any] = {}
    cache_policy: dict[str, Any] | None = None
    """The tenant's ``CachePolicy`` as JSON (None: the config's)."""
    log_payloads: bool | None = None
    """Whether prompts and answers may be logged (None: the config's ``logging.payloads``)."""
    guardrail_policy: dict[str, Any] | None = None
    """The tenant's ``GuardrailPolicy`` as JSON (None: the config's)."""

    def policy(self, kind: PolicyKind) -> dict[str, Any] | None:
        return self.cache_policy if kind == "cache" else self.guardrail_policy


class User(msgspec.Struct, frozen=True):
    id: str
    tenant_id: str
    external_id: str
    """The caller's own id for the user (e.g. a JWT ``sub``); unique within the tenant."""
    created_at: int
    metadata: dict[str, Any] = {}


class ApiKey(msgspec.Struct, frozen=True):
    """A virtual key. The secret is never stored: only its SHA-256 (hex) and a visible prefix."""

    id: str
    tenant_id: str
    name: str
    prefix: str
    secret_sha256: str
    created_at: int
    user_id: str | None = None
    allowed_models: list[str] | None = None
    metadata: dict[str, Any] = {}
    expires_at: int | None = None
    revoked_at: int | None = None

    def is_usable(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class AdminCredential(msgspec.Struct, frozen=True):
    id: str
    name: str
    prefix: str
    secret_sha256: str
    created_at: int
    revoked_at: int | None = None


class Limits(msgspec.Struct, frozen=True, omit_defaults=True):
    """Limits on one scope (a tenant, a user or a key); None means no limit of that kind."""

    rpm: int | None = None
    """Requests per minute (sliding window)."""
    tpm: int | None = None
    """Tokens per minute, input and output (sliding window)."""
    max_concurrent: int | None = None
    """Requests in flight at once."""
    max_tokens: int | None = None
    """Cap on a request's max_tokens (and the default when it sets none)."""
    max_input_tokens: int | None = None
    """Cap on a request's input tokens."""


Period = Literal["day", "month"]
"""A budget's window: the UTC calendar day or month."""


class Budget(msgspec.Struct, frozen=True, omit_defaults=True):
    """A token and USD budget on one scope for one period; None means no cap of that kind."""

    period: Period
    max_tokens: int | None = None
    """Input and output tokens per period."""
    max_cost_micros: int | None = None
    """Spend per period in micro-dollars (1 USD = 1,000,000)."""
    on_exceed: Literal["reject", "downgrade"] = "reject"
    """At the limit: refuse with 429, or serve the request on ``downgrade_to`` instead."""
    downgrade_to: str | None = None
    """The cheaper model alias used when ``on_exceed`` is downgrade."""


Action = Literal["off", "log", "flag", "redact", "block"]
"""What an input guardrail does with what it found: nothing, record it, record it and say so in
``x-sluice-guardrails``, replace it with a typed placeholder (PII and secrets only), or refuse
the request (400 ``content_policy_violation``)."""


class GuardrailPolicy(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """A caller's guardrail policy; callers without one follow the config's ``guardrails.policy``."""

    injection: Literal["off", "log", "flag", "block"] = "off"
    """Prompt injection and jailbreaks in the messages (tool results and documents included)."""
    injection_threshold: float = 0.5
    """The detector's score at or above which a text is an injection."""
    pii: Action = "off"
    """Emails, phone numbers, payment cards, SSNs, IBANs and IP addresses."""
    secrets: Action = "off"
    """API keys, tokens (JWTs) and private keys."""
    reversible: bool = False
    """With redact: the provider sees placeholders, the client's answer gets the originals back."""
    output_pii: Literal["off", "redact"] = "off"
    """PII and secrets in the answer, replaced with placeholders as it streams."""
    structured_output: Literal["off", "validate", "repair"] = "off"
    """When the request asks for ``json_schema``: check the answer against it (validate), and
    once ask the model to fix an answer that does not match (repair), before a 502."""
    deny: tuple[str, ...] = ()
    """Words and phrases an answer must not contain (whole words, any case)."""
    on_reject: Literal["fail", "retry", "fallback"] = "fail"
    """When a content rule stops a JSON answer: give the client the stopped answer (fail), ask
    the same route once more (retry), or ask ``reject_fallback`` instead (fallback)."""
    reject_fallback: str | None = None
    """The chat model alias asked when ``on_reject`` is fallback."""
    plugins: tuple[str, ...] = ()
    """Names of ``guardrails.plugins`` that also check the request's texts."""
    deny_categories: tuple[str, ...] = ()
    """Built-in word lists an answer must not draw from (``guardrails.rules.CATEGORIES``)."""
    deny_patterns: dict[str, str] = {}
    """Regexes by name an answer must not match."""

    @property
    def has_rules(self) -> bool:
        return bool(self.deny or self.deny_categories or self.deny_patterns)


class CachePolicy(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """A tenant's response-cache policy; tenants without one follow the config's ``cache.policy``."""

    exact: bool = True
    """Serve identical requests from the exact cache."""
    semantic: Literal["off", "on", "shadow"] = "off"
    """Serve near-duplicates (on), only record what would have been served (shadow), or neither."""
    ttl_s: int = 3600
    max_entries: int = 10_000
    """Per tenant, in each of the exact cache and the semantic index; least recently used go first."""
    threshold: float | None = None
    """Cosine similarity a semantic candidate needs; None: ``cache.semantic.threshold``."""
    deterministic_only: bool = True
    """Cache only requests with temperature 0 or a seed."""
    cache_pii: bool = False
    """Cache requests in which the input guardrails found personal data."""
    cache_tool_calls: bool = False
    """Cache requests that carry tool calls or tool results (a tool loop in flight)."""
    judge: str | None = None
    """A cheap chat model alias asked to confirm each semantic candidate before it is served."""


UsageDimension = Literal["tenant", "user", "key", "model", "deployment", "day", "hour"]
"""What usage can be grouped by: the request log's ids, or the UTC day or hour of ``ts_ms``."""


class UsageQuery(msgspec.Struct, frozen=True):
    """Which requests of the request log to sum, and how to group them."""

    group_by: tuple[UsageDimension, ...] = ()
    """No dimension: one row, the total."""
    tenant_id: str | None = None
    """Only this tenant's requests; None: every tenant's (the config's static keys' too)."""
    since_ms: int | None = None
    """From this Unix millisecond on (inclusive)."""
    until_ms: int | None = None
    """Before this Unix millisecond (exclusive)."""
    model: str | None = None
    """Only requests for this model alias."""


class UsageRow(msgspec.Struct, frozen=True):
    """One group's sums. The dimensions not grouped by are None, and so is a grouped one that
    the requests lacked (no tenant for the static keys, no deployment for a refused request)."""

    tenant: str | None = None
    user: str | None = None
    key: str | None = None
    """The key's id."""
    model: str | None = None
    deployment: str | None = None
    day: str | None = None
    """``YYYY-MM-DD`` (UTC)."""
    hour: str | None = None
    """``YYYY-MM-DDTHH:00Z`` (UTC)."""
    requests: int = 0
    errors: int = 0
    """Requests answered with a status of 400 or more."""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_micros: int = 0
    saved_micros: int = 0
    """What cache hits did not cost."""
