"""What features may ask of durable state. Implementations: ``SqliteStore``, ``PostgresStore``.

Every method is a single statement or transaction; lookups by id are scoped by tenant where a
tenant owns the row, so a caller cannot reach another tenant's objects by guessing an id.
Driver failures leave as ``StoreUnavailableError``, constraint violations as ``ConflictError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, Protocol

from msgspec import UNSET, UnsetType

from sluice.obs.record import RequestRecord
from sluice.policies import Budget, Limits, Plan, ScopeKind, SpendPolicy
from sluice.store.records import (
    AdminCredential,
    ApiKey,
    BackgroundJob,
    BatchQueueStats,
    ChunkHit,
    ClaimedLine,
    Experiment,
    Feedback,
    FileQuota,
    FileUsage,
    FinishedLine,
    LineResult,
    NativeBatch,
    NewBatchLine,
    PolicyKind,
    PromptLabel,
    PromptLabelEvent,
    PromptVersion,
    SpendScope,
    StoredBatch,
    StoredChunk,
    StoredFile,
    StoredResponse,
    StoredSpend,
    Tenant,
    UsageQuery,
    UsageRow,
    User,
    VectorStore,
    VectorStoreFile,
    VersionQuality,
    WebhookDelivery,
    WebhookEndpoint,
)


class Store(Protocol):
    async def migrate(self) -> list[str]:
        """Apply pending migrations in order; returns the names applied."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the database answers."""
        ...

    async def close(self) -> None: ...

    # --- tenants -----------------------------------------------------------------------------
    async def create_tenant(self, tenant: Tenant) -> Tenant: ...

    async def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    async def list_tenants(self) -> list[Tenant]: ...

    async def update_tenant(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        disabled: bool | None = None,
        metadata: dict[str, Any] | None = None,
        log_payloads: bool | None = None,
    ) -> Tenant | None:
        """Change the fields given (None: unchanged); None if no such tenant."""
        ...

    async def set_policy(
        self, tenant_id: str, kind: PolicyKind, policy: dict[str, Any] | None
    ) -> Tenant | None:
        """Replace the tenant's cache or guardrail policy (None: back to the config's); None if no
        such tenant."""
        ...

    # --- users -------------------------------------------------------------------------------
    async def create_user(self, user: User) -> User: ...

    async def ensure_user(self, user: User) -> User:
        """The stored user with ``user``'s tenant and external id: ``user`` inserted if there is
        none, else the one already there. Idempotent and safe under concurrent calls (an upsert,
        never a ``ConflictError``): a JWT user's first sight."""
        ...

    async def get_user(self, tenant_id: str, user_id: str) -> User | None: ...

    async def user_by_external_id(self, tenant_id: str, external_id: str) -> User | None: ...

    async def list_users(self, tenant_id: str) -> list[User]: ...

    # --- API keys ----------------------------------------------------------------------------
    async def create_key(self, key: ApiKey) -> ApiKey: ...

    async def key_by_secret_sha256(self, secret_sha256: str) -> ApiKey | None: ...

    async def get_key(self, tenant_id: str, key_id: str) -> ApiKey | None: ...

    async def list_keys(self, tenant_id: str) -> list[ApiKey]: ...

    async def revoke_key(self, tenant_id: str, key_id: str, at: int) -> ApiKey | None:
        """Set ``revoked_at`` (kept if already revoked); None when no such key in the tenant."""
        ...

    async def update_key(
        self,
        tenant_id: str,
        key_id: str,
        *,
        name: str | None = None,
        allowed_models: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: int | None = None,
    ) -> ApiKey | None: ...

    # --- admin credentials -------------------------------------------------------------------
    async def create_admin(self, admin: AdminCredential) -> AdminCredential: ...

    async def admin_by_secret_sha256(self, secret_sha256: str) -> AdminCredential | None: ...

    # --- limits ------------------------------------------------------------------------------
    async def set_limits(
        self, tenant_id: str, kind: ScopeKind, scope_id: str, limits: Limits, at: int
    ) -> Limits:
        """Replace the scope's limits (``at`` is the update time). ``ConflictError`` when the tenant
        does not exist or ``scope_id`` already has limits under another tenant."""
        ...

    async def get_limits(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> Limits | None: ...

    async def delete_limits(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> bool:
        """Whether there were limits to delete."""
        ...

    async def limits_for(
        self, tenant_id: str, user_id: str | None, key_id: str | None
    ) -> dict[ScopeKind, Limits]:
        """The tenant's own limits, its user's and its key's, by kind, in one query; a scope without
        limits is absent, and so is a user or key id of another tenant."""
        ...

    # --- budgets -----------------------------------------------------------------------------
    async def set_budget(
        self, tenant_id: str, kind: ScopeKind, scope_id: str, budget: Budget, at: int
    ) -> Budget:
        """Replace the scope's budget for ``budget.period``. ``ConflictError`` when the tenant does
        not exist or ``scope_id`` already has budgets under another tenant."""
        ...

    async def get_budgets(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> list[Budget]:
        """The scope's budgets, day before month."""
        ...

    async def delete_budgets(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> int:
        """How many budgets were deleted."""
        ...

    async def tenant_budgets(self, limit: int) -> list[tuple[str, Budget]]:
        """Every tenant's own budgets (scope ``tenant``), by tenant and period, at most ``limit``."""
        ...

    async def budgets_for(
        self, tenant_id: str, user_id: str | None, key_id: str | None
    ) -> dict[ScopeKind, list[Budget]]:
        """The tenant's, its user's and its key's budgets by kind, in one query (like ``limits_for``)."""
        ...

    # --- spend policies ----------------------------------------------------------------------
    async def set_spend_policy(
        self, tenant_id: str, kind: SpendScope, scope_id: str, policy: SpendPolicy, at: int
    ) -> None:
        """Replace the scope's spend policy (an operator's end of emergency mode stays)."""
        ...

    async def get_spend_policy(
        self, tenant_id: str, kind: SpendScope, scope_id: str
    ) -> StoredSpend | None: ...

    async def delete_spend_policy(self, tenant_id: str, kind: SpendScope, scope_id: str) -> int: ...

    async def spend_policies_for(self, tenant_id: str, user_id: str | None) -> dict[SpendScope, StoredSpend]:
        """The tenant's and its user's spend policies by kind, in one query."""
        ...

    async def end_emergency(self, tenant_id: str, day: str, at: int) -> bool:
        """Mark the tenant's emergency mode ended for ``day``; False when it has no spend policy."""
        ...

    # --- plans -------------------------------------------------------------------------------
    async def put_plan(self, name: str, plan: Plan, at: int, *, only_new: bool = False) -> bool:
        """Create or replace the plan (``only_new``: only create it); whether it was written."""
        ...

    async def get_plan(self, name: str) -> Plan | None: ...

    async def list_plans(self) -> dict[str, Plan]: ...

    async def delete_plan(self, name: str) -> bool:
        """False when there is no such plan. ``ConflictError`` while a tenant or user is on it."""
        ...

    async def set_plan_of(self, tenant_id: str, user_id: str | None, name: str | None) -> None:
        """Put the tenant (or its user) on plan ``name`` (None: on none)."""
        ...

    async def plan_of(self, tenant_id: str, user_id: str | None) -> str | None:
        """The name of the plan the tenant (or its user) is on."""
        ...

    async def plans_for(self, tenant_id: str, user_id: str | None) -> dict[SpendScope, Plan]:
        """The plans the tenant and its user are on, by kind, in one query."""
        ...

    # --- request log -------------------------------------------------------------------------
    async def write_requests(self, records: Sequence[RequestRecord]) -> None:
        """Append the records to the request log, all in one transaction."""
        ...

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        """The query's sums per group, summed by the database, ordered by the dimensions."""
        ...

    async def list_requests(
        self,
        tenant_id: str | None,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[tuple[int, RequestRecord]]:
        """Logged requests with their ``seq``, newest first: every tenant's when ``tenant_id`` is
        None; only those with a ``seq`` below ``before_seq`` (the last page's last) when given."""
        ...

    # --- experiments and feedback (sluice.prompts) -------------------------------------------
    async def create_experiment(self, experiment: Experiment) -> Experiment:
        """Insert; ``ConflictError`` when the tenant already runs one on the prompt's label (or the id exists)."""
        ...

    async def get_experiment(self, tenant_id: str, experiment_id: str) -> Experiment | None:
        """The tenant's experiment; None for a missing one and another tenant's alike."""
        ...

    async def list_experiments(self, tenant_id: str, name: str | None = None) -> list[Experiment]:
        """The tenant's experiments (on one prompt when ``name`` is given), oldest first."""
        ...

    async def running_experiments(self) -> list[Experiment]:
        """Every tenant's running experiments (for the evaluator and the prompt catalog)."""
        ...

    async def update_experiment(
        self, experiment: Experiment, expect_state: str = "running", expect_step: int | None = None
    ) -> bool:
        """Replace the stored experiment with ``experiment`` only if its state is ``expect_state``
        (and its canary step ``expect_step``, when given): a compare-and-set, so of replicas racing
        to roll back or advance, exactly one wins. False when the condition failed or no such one."""
        ...

    async def put_feedback(self, feedback: Feedback) -> bool:
        """Keep the rating (replacing an earlier one of the same request); False, keeping nothing,
        when the request id is not one of the tenant's logged requests that ran a stored prompt."""
        ...

    async def get_feedback(self, tenant_id: str, request_id: str) -> Feedback | None: ...

    async def prompt_quality(
        self, tenant_id: str, name: str, since: int | None = None, experiment: str | None = None
    ) -> list[VersionQuality]:
        """Per version of the prompt, its logged requests (since the Unix second ``since``; only
        those the experiment assigned when given) summed by the database, with their feedback
        and a bounded sample of latencies; in version order."""
        ...

    # --- stored responses (the Responses API) ------------------------------------------------
    async def put_responses(self, responses: Sequence[StoredResponse]) -> None:
        """Insert stored responses in one transaction (an id already stored for its owner is a
        ``ConflictError``, and nothing of the batch is stored)."""
        ...

    async def get_response(self, owner: str, response_id: str) -> StoredResponse | None:
        """The owner's response with this id; None for a missing one and another owner's alike."""
        ...

    async def delete_response(self, owner: str, response_id: str) -> bool:
        """Whether the owner had such a response to delete."""
        ...

    # --- uploaded files' metadata (/v1/files; the bytes are a FileBlobs') ---------------------
    async def add_file(self, file: StoredFile, quota: FileQuota) -> Literal["bytes", "files"] | None:
        """Insert the file's metadata if its owner stays within ``quota`` with it, atomically
        (concurrent adds of one owner, on any replica, never overshoot): None when added, else
        which cap it would pass, and nothing is stored. An id already stored is a ``ConflictError``."""
        ...

    async def get_file(self, owner: str, file_id: str) -> StoredFile | None:
        """The owner's file with this id; None for a missing one and another owner's alike."""
        ...

    async def list_files(
        self, owner: str, *, purpose: str | None, order: Literal["asc", "desc"], after: str | None, limit: int
    ) -> list[StoredFile]:
        """Up to ``limit`` of the owner's files (of ``purpose`` when given) by (created_at, id) in
        ``order``, those past the owner's file ``after`` when given (none when it has no such file)."""
        ...

    async def delete_file(self, owner: str, file_id: str) -> bool:
        """Remove the metadata; whether the owner had such a file. Its bytes are the caller's
        to delete from the blobs."""
        ...

    async def file_usage(self, owner: str) -> FileUsage:
        """The bytes and number of files the owner keeps."""
        ...

    # --- vector stores (/v1/vector_stores); also the ingestion queue --------------------------
    async def create_vector_store(self, vs: VectorStore, *, max_stores: int | None = None) -> bool:
        """Insert a vector store (its id is new) if its owner keeps fewer than ``max_stores``
        (None: no cap), atomically (concurrent creates of one owner, on any replica, never
        overshoot); whether it was inserted."""
        ...

    async def get_vector_store(self, owner: str, store_id: str) -> VectorStore | None:
        """The owner's vector store, with ``file_counts`` and ``usage_bytes``; None for a missing
        one and another owner's alike."""
        ...

    async def list_vector_stores(
        self, owner: str, *, order: Literal["asc", "desc"], after: str | None, limit: int
    ) -> list[VectorStore]:
        """Up to ``limit`` of the owner's vector stores by (created_at, id) in ``order``, past
        ``after`` when given, with counts as ``get_vector_store``."""
        ...

    async def update_vector_store(self, vs: VectorStore) -> bool:
        """Store ``name``, ``metadata``, ``expires_after``, ``expires_at`` and ``last_active_at``
        of the owner's vector store; whether it exists."""
        ...

    async def delete_vector_store(self, owner: str, store_id: str) -> bool:
        """Remove the vector store, its files' rows and their chunks; whether it existed."""
        ...

    async def attach_files(self, files: Sequence[VectorStoreFile]) -> None:
        """Attach files (status ``in_progress``: queued for ingestion); a file attached already
        is attached afresh (its chunks dropped, its attempts reset)."""
        ...

    async def get_vector_store_file(self, owner: str, store_id: str, file_id: str) -> VectorStoreFile | None:
        """The attachment; None when the owner has no such store or file in it."""
        ...

    async def list_vector_store_files(
        self,
        owner: str,
        store_id: str,
        *,
        status: str | None,
        batch_id: str | None,
        order: Literal["asc", "desc"],
        after: str | None,
        limit: int,
    ) -> list[VectorStoreFile]:
        """Up to ``limit`` of the store's files by (created_at, file_id) in ``order``."""
        ...

    async def set_file_attributes(
        self, owner: str, store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> VectorStoreFile | None:
        """Replace the attachment's attributes (its chunks take them at once); the attachment, or
        None when there is no such one."""
        ...

    async def cancel_batch(self, owner: str, store_id: str, batch_id: str) -> int:
        """Mark the batch's files still ``in_progress`` ``cancelled`` (a worker on one of them
        then loses its claim); how many."""
        ...

    async def detach_file(self, owner: str, store_id: str, file_id: str) -> bool:
        """Remove the file from the store with its chunks; whether it was attached."""
        ...

    async def chunk_count(self, owner: str) -> int:
        """How many chunks the owner keeps, in all its vector stores."""
        ...

    async def claim_ingestion(self, now: float, lease_s: float) -> VectorStoreFile | None:
        """Claim one file ``in_progress`` whose lease is free or run out (of any owner: this is
        the worker's), counting the attempt and leasing it until ``now + lease_s``; None when
        there is no work. Two claims, on any replicas, never hold the same file at once."""
        ...

    async def renew_lease(self, claimed: VectorStoreFile, until: float) -> VectorStoreFile | None:
        """Extend a claim still held (in progress under ``claimed.lease_until``) to ``until``: the
        claim as renewed, or None when it was lost."""
        ...

    async def finish_ingestion(
        self, claimed: VectorStoreFile, chunks: Sequence[StoredChunk], error: tuple[str, str] | None
    ) -> bool:
        """Finish a claimed file in one transaction: its chunks stored and ``completed``, or
        ``failed`` with ``error`` (code, message). Only while the claim holds (still in progress
        under ``claimed.lease_until``): whether it did."""
        ...

    async def search_text(
        self, owner: str, store_id: str, words: Sequence[str], limit: int
    ) -> list[ChunkHit]:
        """Up to ``limit`` of the store's chunks matching any of ``words`` by full text, best first."""
        ...

    async def file_chunks(self, owner: str, store_id: str, file_id: str) -> list[StoredChunk]:
        """The attachment's chunks in order (without embeddings)."""
        ...

    async def chunks_version(self, owner: str, store_id: str) -> tuple[int, int]:
        """The number of the store's chunks and their greatest id (ids are never reused), which
        changes whenever its chunks do: what a cache of them is checked against."""
        ...

    async def search_vectors(
        self, owner: str, store_id: str, query: bytes, limit: int
    ) -> list[ChunkHit] | None:
        """Up to ``limit`` of the store's chunks nearest ``query`` (packed unit vector; cosine),
        best first, through the database's own vector index; None when it has none (the caller
        scans ``store_chunks`` instead)."""
        ...

    async def store_chunks(self, owner: str, store_id: str, limit: int) -> list[ChunkHit]:
        """Up to ``limit`` of the store's chunks with their embeddings, for the vector scan."""
        ...

    # --- batches (/v1/batches); also the embedded batch queue (sluice/batch/queue.py) ---------
    async def create_batch(self, batch: StoredBatch, lines: Sequence[NewBatchLine] = ()) -> None:
        """Insert a batch (its id is new), with its ``lines`` (``pending``) in the same
        transaction: a batch made ``in_progress`` at once (an Anthropic Message Batch)."""
        ...

    async def get_batch(self, owner: str, batch_id: str) -> StoredBatch | None:
        """The owner's batch with its lines' counts and token sums; None for a missing one and
        another owner's alike."""
        ...

    async def list_batches(
        self,
        owner: str,
        *,
        after: str | None,
        limit: int,
        kind: str = "batch",
        before: str | None = None,
    ) -> list[StoredBatch]:
        """Up to ``limit`` of the owner's batches of ``kind``, newest first: those older than its
        batch ``after`` when given, else the ones just newer than its batch ``before`` when given
        (none when it has no such batch)."""
        ...

    async def delete_batch(self, owner: str, batch_id: str) -> bool:
        """Delete the owner's ended batch (``completed``, ``failed``, ``expired``, ``cancelled``)
        and its lines, in one transaction: whether it did (not for a missing or live one)."""
        ...

    async def cancel_batch_run(self, owner: str, batch_id: str, at: int) -> StoredBatch | None:
        """Move the owner's batch to ``cancelling`` if it is ``validating`` or ``in_progress``
        (no line starts after); the batch as it now is, or None when there is no such one."""
        ...

    async def claim_batch(self, now: float, lease_s: float) -> StoredBatch | None:
        """Claim one batch with work of its own (``validating``, or headed for its end: files to
        write) whose lease is free or run out, counting the attempt and leasing it until
        ``now + lease_s``; None when there is none. Two claims never hold one batch at once."""
        ...

    async def release_batch(self, claimed: StoredBatch) -> None:
        """Give up a claim still held (another may take the batch at once)."""
        ...

    async def start_batch(
        self, claimed: StoredBatch, lines: Sequence[NewBatchLine], model: str | None, at: int
    ) -> bool:
        """A validated batch: its lines stored (``pending``) and the batch ``in_progress``, in one
        transaction, only while the claim holds and it is still ``validating``: whether it did."""
        ...

    async def fail_batch(self, claimed: StoredBatch, errors: list[dict[str, Any]], at: int) -> bool:
        """A batch that failed validation: ``failed`` with ``errors``, while the claim holds."""
        ...

    async def advance_batches(self, now: float) -> None:
        """The moves time and finished lines make: past ``expires_at``, a batch takes no new line
        (``ending`` expired); with every line's result in, or expired or cancelling with no line in
        flight under a live lease, it is headed for its end (its files to write)."""
        ...

    async def pending_batch(self, now: float, skip_owners: Sequence[str]) -> StoredBatch | None:
        """The oldest ``in_progress`` batch, of an owner not in ``skip_owners``, with a line to
        run (never run, or its claim's lease run out)."""
        ...

    async def claim_lines(
        self,
        batch: StoredBatch,
        now: float,
        lease_s: float,
        limit: int,
        within: tuple[int, int] | None = None,
    ) -> list[ClaimedLine]:
        """Claim up to ``limit`` of the batch's lines to run (those numbered ``within`` the
        inclusive range, when given), in file order, leased until ``now + lease_s`` with the
        attempt counted; two claims never hold one line at once."""
        ...

    async def renew_lines(self, lines: Sequence[ClaimedLine], until: float) -> list[bool]:
        """Extend the leases of running lines to ``until``, each while its claim still holds it
        (``lease_until`` as claimed): per line, whether it did."""
        ...

    async def open_lines(self, batch_id: str, first: int, last: int) -> tuple[int, float | None]:
        """Of the batch's lines numbered ``first`` to ``last``: how many have no result yet, and
        the latest lease among those running (None: none is)."""
        ...

    async def release_lines(self, lines: Sequence[ClaimedLine]) -> None:
        """Give back claimed lines that did not run (a shutdown): ``pending`` again if unfinished."""
        ...

    async def finish_line(self, line: ClaimedLine, result: LineResult) -> bool:
        """Store the line's result, once: whether this was its first (a line finished already
        keeps the result it has, so a line re-run after a lost lease is never counted twice).
        Its request-log row (``result.log``) is written in the same transaction, only with the
        first result: the line's usage and cost are in the request log exactly once."""
        ...

    async def expire_lines(self, batch_id: str, result: LineResult) -> int:
        """Every line of the batch with no result yet gets ``result`` (the ``batch_expired``
        error); how many."""
        ...

    async def batch_results(self, batch_id: str) -> list[FinishedLine]:
        """The batch's lines that have a result, in file order."""
        ...

    async def end_batch(
        self,
        claimed: StoredBatch,
        status: str,
        output_file_id: str | None,
        error_file_id: str | None,
        at: int,
    ) -> bool:
        """The batch's last status (``completed``, ``expired``, ``cancelled``) with its files,
        while the claim holds: whether it did."""
        ...

    # --- batches forwarded to a provider's batch API (sluice/batch/native.py) ------------------
    async def add_native(self, native: NativeBatch) -> None:
        """Mark a batch being validated as forwarded (state ``submit``); a second add of the same
        batch (validated again after a crash) changes nothing."""
        ...

    async def claim_native(self, now: float, lease_s: float) -> tuple[StoredBatch, NativeBatch] | None:
        """Claim one forwarded batch that is ``in_progress`` or ``cancelling``, not ``done``, whose
        poll is due (``poll_at``) or whose cancel (or expiry) the upstream is not yet told of;
        leased until ``now + lease_s``; None when there is none."""
        ...

    async def save_native(self, claimed: NativeBatch, new: NativeBatch) -> bool:
        """Its state after a step (``new``), the lease released, while the claim holds."""
        ...

    async def native_lines(self, batch_id: str) -> list[NewBatchLine]:
        """The batch's lines with no result yet, in file order."""
        ...

    async def finish_native(
        self,
        claimed: NativeBatch,
        results: Sequence[tuple[str, LineResult]],
        ending: str | None,
        errors: list[dict[str, Any]] | None,
        at: int,
    ) -> bool:
        """In one transaction, while the claim holds: each ``(custom_id, result)`` written to its
        line (once, as ``finish_line``), the forwarded batch ``done``, and the batch moved by
        ``ending``: None (its lines' results finish it), ``expired`` (the lines without a result
        expire), ``cancelled`` (they are left out), ``failed`` (with ``errors``). Whether it did."""
        ...

    # --- background requests (batches of kind background, one line) and webhooks -------------
    async def create_job(self, batch: StoredBatch, line: NewBatchLine) -> None:
        """A background request: its batch (``in_progress``, kind ``background``) and its one
        line (``pending``), in one transaction."""
        ...

    async def get_job(self, owner: str, job_id: str) -> BackgroundJob | None:
        """The owner's background request; None for a missing one and another owner's."""
        ...

    async def cancel_job(self, owner: str, job_id: str, at: int) -> bool:
        """Cancel the owner's background request while its line has no result: the batch
        ``cancelling`` and the line's result ``cancelled``, together; whether it did."""
        ...

    async def cancelled_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Those of ``job_ids`` cancelled (a worker running one stops it)."""
        ...

    async def add_webhook(self, webhook: WebhookEndpoint) -> None: ...

    async def list_webhooks(self, tenant_id: str) -> list[WebhookEndpoint]: ...

    async def delete_webhook(self, tenant_id: str, webhook_id: str) -> bool: ...

    async def enqueue_event(
        self, tenant_id: str, event_id: str, event_type: str, payload: str, at: float
    ) -> int:
        """The event in the outbox, a delivery per endpoint of the tenant that wants its type, due
        at ``at``; an event enqueued again (same ``event_id``) is not doubled. How many."""
        ...

    async def enqueue_deliveries(
        self,
        tenant_id: str,
        webhook_ids: Sequence[str],
        event_id: str,
        event_type: str,
        payload: str,
        at: float,
    ) -> int:
        """The event in the outbox for exactly these endpoints (the operator's, from the config,
        under a tenant id no tenant can have); never doubled, as ``enqueue_event``. How many."""
        ...

    async def claim_alert(self, key: str, now: float, until: float) -> bool:
        """Take the mark of one alert (its kind, subject and threshold) until ``until``, unless a
        mark not yet over at ``now`` holds it; whether this caller took it (and so sends the
        alert). Atomic: of replicas racing for one mark, exactly one takes it."""
        ...

    async def prune_alert_marks(self, before: float) -> int:
        """Forget the marks over before ``before`` (a budget period's marks would otherwise stay
        for ever); how many."""
        ...

    async def claim_deliveries(self, now: float, lease_s: float, limit: int) -> list[WebhookDelivery]:
        """Up to ``limit`` due deliveries, claimed until ``now + lease_s``."""
        ...

    async def finish_delivery(
        self,
        claimed: WebhookDelivery,
        status: str,
        next_at: float,
        error: str | None,
        http_status: int | None,
        at: int,
    ) -> bool:
        """An attempt's outcome (``delivered``, ``pending`` again at ``next_at``, ``failed``),
        while the claim holds."""
        ...

    async def list_deliveries(self, tenant_id: str, limit: int) -> list[WebhookDelivery]:
        """The tenant's deliveries, newest first."""
        ...

    async def batch_queue_stats(self) -> BatchQueueStats:
        """The batch queue's depth and the oldest pending line's wait, for the metrics (one
        query, read at scrape time: the same figures from every replica)."""
        ...

    # --- the prompt registry -----------------------------------------------------------------
    async def create_prompt_version(self, v: PromptVersion) -> PromptVersion:
        """Store ``v`` as the prompt's next version (its max + 1, or 1; ``v.version`` is ignored),
        atomically: concurrent creates of one prompt get distinct, consecutive numbers. Returns
        the version stored. ``ConflictError`` when the tenant does not exist."""
        ...

    async def get_prompt_version(self, tenant_id: str, name: str, version: int) -> PromptVersion | None: ...

    async def list_prompt_versions(self, tenant_id: str, name: str) -> list[PromptVersion]:
        """The prompt's versions, oldest first; empty for a prompt the tenant does not have."""
        ...

    async def list_prompts(self, tenant_id: str) -> list[str]:
        """The names of the tenant's prompts (those with a version), in code point order."""
        ...

    async def set_prompt_label(
        self,
        tenant_id: str,
        name: str,
        label: str,
        version: int | None,
        actor: str,
        reason: str,
        at: int,
        expect: int | UnsetType | None = UNSET,
    ) -> PromptLabel | None:
        """Point the label at ``version`` (None: delete it) and append its ``PromptLabelEvent``, in
        one transaction. With ``expect`` given, only if the label now points at ``expect`` (None:
        does not exist): a compare-and-set that returns None, changing nothing, when it does not.
        Returns the label as set (for a deletion, as it was; None when there was none, and then no
        event is written). ``ConflictError`` when ``version`` is not a version of the prompt."""
        ...

    async def get_prompt_labels(self, tenant_id: str, name: str) -> list[PromptLabel]:
        """The prompt's labels, by label name."""
        ...

    async def prompt_history(self, tenant_id: str, name: str) -> list[PromptLabelEvent]:
        """Every label change of the prompt, oldest first."""
        ...


class FileBlobs(Protocol):
    """Where uploaded files' bytes live, apart from their metadata, so an object store can hold
    them: the embedded store keeps them in SQLite, the distributed one in PostgreSQL. Keyed by
    owner and file id like the metadata; a blob without metadata is never served."""

    async def put_blob(self, owner: str, file_id: str, parts: Sequence[bytes | memoryview]) -> None:
        """Store the bytes, given as parts of a bounded size, in one transaction."""
        ...

    def read_blob(self, owner: str, file_id: str) -> AsyncIterator[bytes]:
        """The bytes, one stored part at a time (never the whole file in memory at once); none
        for a missing blob."""
        ...

    async def delete_blob(self, owner: str, file_id: str) -> None:
        """Remove the bytes (nothing to remove is no error)."""
        ...
