"""The rows the store keeps, as plain immutable records. Times are Unix seconds (int)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from sluice.obs.record import RequestRecord
from sluice.policies import SpendPolicy

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
    """The tenant's ``policies.CachePolicy`` as JSON (None: the config's)."""
    log_payloads: bool | None = None
    """Whether prompts and answers may be logged (None: the config's ``logging.payloads``)."""
    guardrail_policy: dict[str, Any] | None = None
    """The tenant's ``policies.GuardrailPolicy`` as JSON (None: the config's)."""

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


UsageDimension = Literal["tenant", "user", "key", "model", "deployment", "prompt", "day", "hour"]
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
    prompt: str | None = None
    """``name@version`` of the stored prompt the requests ran."""
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


class StoredResponse(msgspec.Struct, frozen=True):
    """A stored Responses API answer and the conversation before it, as one opaque payload
    (encrypted by the surface when ``sealed``). ``owner`` scopes it: ``tenant:<id>`` or, for the
    config's static keys, which belong to no tenant, ``key:<name>``."""

    owner: str
    id: str
    created_at: int
    payload: bytes
    sealed: bool


class StoredFile(msgspec.Struct, frozen=True):
    """An uploaded file's metadata (``/v1/files``); its bytes are a ``FileBlobs``'. ``owner``
    scopes it as for stored responses: ``tenant:<id>`` or ``key:<name>``."""

    owner: str
    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str = "processed"
    expires_at: int | None = None


class FileQuota(msgspec.Struct, frozen=True):
    """What one owner may keep: total bytes and number of files."""

    max_bytes: int
    max_files: int


class FileUsage(msgspec.Struct, frozen=True):
    """What one owner keeps now."""

    bytes: int
    files: int


# --- vector stores (/v1/vector_stores, sluice/knowledge) ------------------------------------


class VectorStore(msgspec.Struct, frozen=True):
    """A vector store's own fields; ``owner`` scopes it as for files. ``file_counts`` (by status)
    and ``usage_bytes`` are filled in by the store on reads, from the files attached."""

    owner: str
    id: str
    name: str | None
    created_at: int
    last_active_at: int
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    expires_after: dict[str, Any] | None = None
    expires_at: int | None = None
    file_counts: dict[str, int] = msgspec.field(default_factory=dict)
    usage_bytes: int = 0


class VectorStoreFile(msgspec.Struct, frozen=True):
    """A file attached to a vector store, and its ingestion: ``status`` is ``in_progress`` until
    a worker holding the lease (``lease_until``, a Unix time) finishes it; ``attempts`` counts the
    claims. ``chunking`` is the strategy as the API shows it."""

    owner: str
    store_id: str
    file_id: str
    created_at: int
    status: Literal["in_progress", "completed", "failed", "cancelled"]
    chunking: dict[str, Any]
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    batch_id: str | None = None
    usage_bytes: int = 0
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    lease_until: float | None = None


class StoredChunk(msgspec.Struct, frozen=True):
    """One chunk of a vector store file: ``text`` is ``parsed[start:end]``; ``embedding`` the
    little-endian float32 bytes of its unit vector, or None without an embedder."""

    index: int
    start: int
    end: int
    text: str
    embedding: bytes | None = None


class ChunkHit(msgspec.Struct, frozen=True):
    """A chunk found by a search, with its file's name and attributes."""

    file_id: str
    index: int
    text: str
    filename: str
    attributes: dict[str, Any]
    embedding: bytes | None = None


# --- the prompt registry (sluice/prompts, admin/prompts.py) ------------------------------------


class PromptMessage(msgspec.Struct, frozen=True):
    role: Literal["system", "developer", "user", "assistant"]
    content: str
    """The template: literal text and ``{variable}`` slots (``{{`` and ``}}`` for braces)."""


class PromptVersion(msgspec.Struct, frozen=True):
    """One immutable version of a tenant's named prompt."""

    tenant_id: str
    name: str
    """``[A-Za-z0-9._-]{1,64}``."""
    version: int
    """1, 2, 3... per (tenant, name), assigned by the store."""
    messages: list[PromptMessage]
    variables: list[str]
    """Declared: exactly the slots the templates use."""
    created_at: int
    author: str
    """The admin credential's name or the tenant key's name."""
    model: str | None = None
    """A model alias, used when the request names none."""
    params: dict[str, Any] = {}
    """Request parameters applied where the request does not set them (``prompts.params.PARAMS``)."""
    note: str = ""


class PromptLabel(msgspec.Struct, frozen=True):
    """A movable name (``production``, ``staging``...) for one version of a prompt."""

    tenant_id: str
    name: str
    label: str
    version: int
    updated_at: int


class PromptLabelEvent(msgspec.Struct, frozen=True):
    """One label change, in the append-only audit history."""

    tenant_id: str
    name: str
    label: str
    from_version: int | None
    """None: the label was created."""
    to_version: int | None
    """None: the label was deleted."""
    actor: str
    """Who moved it; ``sluice:rollback`` for an automatic rollback."""
    reason: str
    at: int


class ExperimentArm(msgspec.Struct, frozen=True):
    version: int
    weight: float
    """A/B: relative weights; canary: set by the ramp."""


class Experiment(msgspec.Struct, frozen=True):
    """An A/B test or a canary on a prompt's label (docs/prompts.md)."""

    id: str
    """``exp_`` and hex."""
    tenant_id: str
    name: str
    """The prompt's name."""
    label: str
    """The label it runs under: requests asking for it are assigned; a rollback moves it back to control."""
    kind: Literal["ab", "canary"]
    control: int
    """The control version (what the label pointed at)."""
    arms: list[ExperimentArm]
    """Control first; A/B: 2 or more arms; canary: [control, candidate]."""
    unit: str = "user"
    """``user``, ``key`` or ``attr:<name>`` (``sluice.prompt.attributes``): what assignment sticks to."""
    salt: str = ""
    """Per experiment, random: assignments are independent across experiments."""
    steps: list[float] = []
    """The canary ramp in percent, e.g. [1, 5, 25, 100]."""
    step: int = 0
    """Index into ``steps``."""
    step_started_at: int = 0
    min_requests: int = 100
    """Per step, on the candidate."""
    min_seconds: int = 300
    """Per step."""
    rules: list[dict[str, Any]] = []
    """Rollback rules (``sluice.prompts.rollback``)."""
    shadow: bool = False
    """The candidate runs on a copy of live requests, never shown."""
    shadow_scope: str | None = None
    """``tenant:<id>`` or ``key:<tenant>/<key_id>``: who pays for the shadow calls."""
    state: Literal["running", "rolled_back", "completed", "stopped"] = "running"
    reason: str = ""
    created_at: int = 0
    updated_at: int = 0

    @property
    def candidate(self) -> int:
        """The last arm's version: a canary's candidate."""
        return self.arms[-1].version


class Feedback(msgspec.Struct, frozen=True):
    tenant_id: str
    request_id: str
    score: float
    """Thumbs up 1.0, down 0.0, or a score in [0, 1]."""
    at: int
    comment: str = ""
    tags: list[str] = []


class VersionQuality(msgspec.Struct, frozen=True):
    """One prompt version's requests, summed by the database (``Store.prompt_quality``), with a
    bounded sample of the newest latencies for percentiles. An error is a status of 500 or more,
    or a stream that failed after its first byte; a client's 4xx is not the version's fault."""

    version: int
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int = 0
    cost_sq: float = 0.0
    """The sum of each request's ``cost_micros`` squared (for the mean's interval)."""
    cache_lookups: int = 0
    """Requests the response cache applied to."""
    cache_hits: int = 0
    """Exact or semantic hits."""
    guardrail_refusals: int = 0
    structured_failures: int = 0
    feedback_count: int = 0
    feedback_sum: float = 0.0
    feedback_sq: float = 0.0
    latency_ms: list[float] = []
    """The newest requests' latencies (at most the store's sample size)."""
    ttft_ms: list[float] = []
    """The newest streams' times to first token (at most the store's sample size)."""


class BatchCaller(msgspec.Struct, frozen=True):
    """Who created a batch, so each line runs as them: never a secret, only ids to look them up
    again when the line runs (a key revoked meanwhile then fails the line)."""

    key_name: str
    """A store key's label, a JWT's ``jwt:<sub>``, or a static key's name in the config."""
    tenant_id: str | None = None
    user_id: str | None = None
    key_id: str | None = None


class StoredBatch(msgspec.Struct, frozen=True):
    """A batch (``/v1/batches``). ``ending`` is where a batch that stopped taking lines is headed
    (``completed``, ``expired``, ``cancelled``) while its files are written; ``completed`` and
    ``failed`` counts and the token sums are its lines', read with it."""

    owner: str
    id: str
    endpoint: str
    input_file_id: str
    completion_window: str
    status: str
    caller: BatchCaller
    created_at: int
    expires_at: int
    ending: str | None = None
    model: str | None = None
    metadata: dict[str, str] | None = None
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    expired: int = 0
    """Of the ``failed`` lines, those that expired (never ran within the window)."""
    cancelled: int = 0
    """Of the ``failed`` lines, those cancelled (a background job's; an Anthropic batch's not run)."""
    attempts: int = 0
    lease_until: float | None = None
    kind: str = "batch"
    """``batch`` (``/v1/batches``), ``background`` (a background request, a batch of one line) or
    ``anthropic`` (``/v1/messages/batches``: its lines are Messages requests)."""


class NewBatchLine(msgspec.Struct, frozen=True):
    """A validated line of a batch's input file: its request body as given."""

    custom_id: str
    line_no: int
    """1-based, as in the file."""
    id: str
    """``batch_req_...``, the line's id in the output and error files."""
    body: str


class BatchQueueStats(msgspec.Struct, frozen=True):
    """The batch queue as the store has it (the same from every replica): lines of running
    batches by status (``pending``, ``running``), since when the oldest pending one waits (its
    batch's ``in_progress_at``; None: none waits), and batches by live status."""

    lines: dict[str, int]
    oldest_pending_at: int | None
    batches: dict[str, int]


class ClaimedLine(msgspec.Struct, frozen=True):
    """A line claimed to run, with what running it needs of its batch."""

    owner: str
    batch_id: str
    endpoint: str
    caller: BatchCaller
    custom_id: str
    line_no: int
    id: str
    body: str
    attempts: int
    lease_until: float
    kind: str = "batch"
    """Its batch's kind: ``background`` for a background request's one line."""


class LineResult(msgspec.Struct, frozen=True):
    """What a line came to: ``completed`` (a 2xx answer) or ``failed`` (an error answer, with its
    status; or none, with ``error_code``, when it never ran). Written once per line."""

    status: str
    status_code: int | None = None
    request_id: str | None = None
    response: str | None = None
    """The answer's JSON body as sent (the surface's error JSON for an error answer)."""
    error_code: str | None = None
    error_message: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    log: RequestRecord | None = None
    """The line's request-log row (its usage and cost), written in the transaction that writes
    the result, and only if that one does: a line is in the usage once, however often it ran."""


class FinishedLine(msgspec.Struct, frozen=True):
    """A line with its result, for the output and error files."""

    custom_id: str
    line_no: int
    id: str
    result: LineResult


class NativeBatch(msgspec.Struct, frozen=True):
    """A batch forwarded to its provider's own batch API: where (``alias``'s ``deployment``), at
    what price factor, and how far it got: ``state`` ``submit`` (not sent yet), ``poll`` (sent,
    ``upstream_id`` set) or ``done`` (its results written, or given up)."""

    batch_id: str
    alias: str
    deployment: str
    discount: float
    state: str
    poll_at: float
    upstream_id: str | None = None
    upstream_status: str | None = None
    completed: int = 0
    failed: int = 0
    polls: int = 0
    """Polls that found it unfinished: the wait before the next doubles with each."""
    failures: int = 0
    """Upstream calls that failed in a row."""
    cancel_sent: bool = False
    lease_until: float | None = None


class BackgroundJob(msgspec.Struct, frozen=True):
    """A background request: its batch of one line, the line's status (``pending``, ``running``,
    ``completed``, ``failed``) and its result once it has one."""

    batch: StoredBatch
    line_status: str
    body: str
    """The request as the client sent it."""
    result: LineResult | None = None


OPERATOR = "sluice:operator"
"""The tenant id under which the operator's endpoints (``alerts.webhooks``) get their deliveries;
tenant ids cannot hold a colon, so no tenant's endpoints or deliveries are mistaken for them."""


class WebhookEndpoint(msgspec.Struct, frozen=True):
    """Where a tenant's events go; ``secret`` is the ``whsec_`` signing secret."""

    tenant_id: str
    id: str
    url: str
    events: list[str] | None
    """Event types sent (``batch.completed``...); None: every type."""
    secret: str
    created_at: int
    format: str = "standard"
    """``standard`` (the event JSON) or ``slack`` (a ``{"text": ...}`` body for Slack's incoming webhooks)."""


class WebhookDelivery(msgspec.Struct, frozen=True):
    """One event for one endpoint in the outbox: ``pending`` until ``delivered`` or ``failed``
    (out of attempts)."""

    id: str
    tenant_id: str
    webhook_id: str
    event_id: str
    type: str
    payload: str
    status: str
    attempts: int
    next_at: float
    created_at: int
    last_error: str | None = None
    last_status: int | None = None
    delivered_at: int | None = None
    lease_until: float | None = None


SpendScope = Literal["tenant", "user"]
"""Whom a spend policy applies to."""


class StoredSpend(msgspec.Struct, frozen=True):
    """A tenant's or a user's spend policy as stored."""

    policy: SpendPolicy
    emergency_ended: str | None = None
    """A tenant's: the UTC day (``d2026-12-07``) an operator ended its emergency mode for."""
