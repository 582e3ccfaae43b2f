"""RequestRecord: what is known of one request once it is over, whatever its outcome. One record
feeds the metrics, the request line in the log and the stored request log."""

from __future__ import annotations

import msgspec


class RequestRecord(msgspec.Struct, frozen=True):
    id: str
    """The request id (``x-request-id``)."""
    ts_ms: int
    """When the request arrived, Unix milliseconds (UTC)."""
    endpoint: str
    """``chat``, ``embeddings`` or ``messages`` (the Anthropic surface)."""
    status: int
    """The HTTP status the client got (a stream that fails after its first byte still got 200:
    ``error_type`` says how it ended)."""
    latency_ms: float
    """Arrival to the last byte sent."""
    tenant_id: str | None = None
    """None for the config's static keys and for requests refused before authentication."""
    user_id: str | None = None
    key_id: str | None = None
    key_prefix: str | None = None
    """The key's visible name or prefix; never the secret."""
    model: str | None = None
    """The model alias the client asked for."""
    deployment: str | None = None
    """The deployment that answered."""
    error_type: str | None = None
    """The error's code (``rate_limit_exceeded``, ``insufficient_quota``, ``upstream_timeout``...)."""
    stream: bool = False
    ttft_ms: float | None = None
    """Arrival to the first chunk sent (streams only)."""
    upstream_ms: float = 0.0
    """Time spent in upstream attempts, all of them."""
    overhead_ms: float = 0.0
    """The gateway's own time: latency without the upstream attempts (``x-sluice-overhead-ms``)."""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    """Input tokens the provider served from its prompt cache."""
    cost_micros: int = 0
    """What the request cost, in micro-dollars (1 USD = 1,000,000)."""
    cache: str | None = None
    """``hit``, ``semantic`` or ``miss`` (None: the response cache did not apply)."""
    saved_tokens: int = 0
    """Tokens a cache hit did not spend (the cached answer's usage)."""
    saved_micros: int = 0
    """What a cache hit did not cost."""
    attempts: int = 0
    """Upstream attempts made, retries and fallbacks included."""
    fallback: bool = False
    """The answer came from a fallback alias, not the one asked for."""
    guardrail: str | None = None
    """What the guardrails did, as ``action:category`` pairs (``block:injection``,
    ``redact:pii,log:secrets``); None when none acted."""
    prompt: str | None = None
    """The prompt, PII-redacted; only when the tenant's policy allows payloads."""
    answer: str | None = None
    """The answer, PII-redacted; only when the tenant's policy allows payloads."""
    prompt_name: str | None = None
    """The stored prompt the request ran (``sluice.prompt``), by name. Not ``prompt``: that field
    holds the prompt's text."""
    prompt_version: int | None = None
    """The version of ``prompt_name`` that ran."""
    experiment: str | None = None
    """The experiment that chose the version (its id)."""
    arm: int | None = None
    """The version the experiment's arm served."""
    retrieval_ms: float | None = None
    """How long retrieval from the caller's vector stores took (None: the request asked for none)."""
    retrieval: str | None = None
    """What retrieval found, as JSON: ``{"results": [{file_id, vector_store_id, score}], "dropped":
    [{file_id, vector_store_id, category}]}`` (never the query: that is the prompt's text)."""
    route: str | None = None
    """An auto alias's tier and why, as ``x-sluice-route`` says it (``strong; reason=tools``)."""
    spend: str | None = None
    """What a spend policy did: ``user_downgraded`` (served from the user's cheaper alias),
    ``emergency`` (the tenant in emergency mode: a cache hit or the cheap alias) or
    ``emergency_refused`` (an input over the emergency cap)."""
    spend_event: str | None = None
    """The spend switch this request made (``spend.user_downgraded``, ``spend.emergency_started``,
    ``spend.emergency_ended``): one request across all replicas carries each switch."""
