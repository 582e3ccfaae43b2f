"""The composition root: Settings in, a ready ASGI app out. Everything is built here, once."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from sluice.admin.api import AdminAuth, build_admin
from sluice.admin.cache import cache_routes
from sluice.admin.experiments import experiment_routes
from sluice.admin.policies import policy_routes
from sluice.admin.prompts import prompt_routes
from sluice.admin.service import AdminService
from sluice.admin.webhooks import webhook_routes
from sluice.alerts.budget import BudgetAlerts
from sluice.alerts.monitor import Monitor, circuit_watch
from sluice.alerts.notify import Notifier, operator_endpoints
from sluice.alerts.traffic import Traffic
from sluice.api.anthropic.batches import MessageBatchRoutes
from sluice.api.anthropic.count_tokens import TokenCounter
from sluice.api.anthropic.errors import is_anthropic_path, render_error
from sluice.api.anthropic.routes import AnthropicRoutes
from sluice.api.background import BackgroundJobs
from sluice.api.batch_lines import LineRunner, check
from sluice.api.batch_native import NativeAccounts, native_routes
from sluice.api.batches import BatchRoutes
from sluice.api.dispatch import Dispatch, Handler
from sluice.api.feedback import FeedbackRoutes
from sluice.api.files import FileRoutes
from sluice.api.health import HealthRoutes
from sluice.api.knowledge_embed import build_embedder, build_reranker
from sluice.api.metrics import MetricsListener, guarded
from sluice.api.observability import build_observer
from sluice.api.openai.routes import OpenAIRoutes
from sluice.api.render import error_body
from sluice.api.responses.background import ResponseLines
from sluice.api.responses.conversations import Conversations
from sluice.api.responses.routes import ResponsesRoutes
from sluice.api.vector_stores import VectorStoreRoutes
from sluice.auth.invalidation import AuthCaches
from sluice.auth.jwt import JwtVerifier
from sluice.auth.keys import KeyRing
from sluice.auth.resolver import KeyResolver
from sluice.backend import build_backend
from sluice.batch.background import CancelWatch, Events
from sluice.batch.native import NativeBatches
from sluice.batch.webhooks import WebhookLimits, WebhookSender
from sluice.batch.worker import BatchLimits, BatchWorker
from sluice.budgets.pricing import routing_prices
from sluice.budgets.spend import Switches, SwitchEvent
from sluice.cache.build import build_cache
from sluice.errors import (
    InternalError,
    InvalidRequestError,
    NotFoundError,
    SluiceError,
    StoreUnavailableError,
)
from sluice.guardrails.plugins import build_plugins
from sluice.guardrails.scorer import InjectionScorer, load_learned_detector
from sluice.knowledge.ingest import IngestLimits, Ingestor
from sluice.knowledge.search import Searcher
from sluice.limits.tokenizer import Tokenizers
from sluice.obs.redact import Redactor, secret_values
from sluice.obs.tracing import build_tracing
from sluice.pipeline.admission import Admission
from sluice.pipeline.answer_guard import AnswerGuardStage
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.budget import Budgets, deployment_prices
from sluice.pipeline.cache import CacheLookupStage, CacheStage
from sluice.pipeline.input_guard import InputGuardStage
from sluice.pipeline.prompt import PromptStage
from sluice.pipeline.quota import QuotaStage
from sluice.pipeline.resolve import ResolveStage
from sluice.pipeline.retrieval import RetrievalStage
from sluice.pipeline.runner import OwnCalls, Pipeline
from sluice.pipeline.stage import Stage
from sluice.pipeline.structured import StructuredOutputStage
from sluice.pipeline.validate import ValidateStage
from sluice.policies import GuardrailPolicy
from sluice.prompts.catalog import PromptCatalog
from sluice.prompts.rollback import Evaluator, Webhook
from sluice.providers import PROVIDER_TYPES, batch_api
from sluice.providers.base import Provider
from sluice.routing.auto import auto_aliases
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.store.records import StoredBatch

log = logging.getLogger("sluice")


def build_providers(settings: Settings) -> dict[str, Provider]:
    connect_s = settings.routing.timeouts.connect_s
    redactor = Redactor(secret_values(settings))  # every configured secret, not just the provider's own
    return {name: PROVIDER_TYPES[p.type](p, connect_s, redactor) for name, p in settings.providers.items()}


def build_app(settings: Settings, *, rng: random.Random | None = None, worker: bool = False) -> ASGIApp:
    """``worker``: for ``sluice worker``, which runs the background workers (batches, vector
    store ingestion) without serving HTTP; they run in a gateway too unless ``batches.workers``
    is false."""
    providers = build_providers(settings)
    model_routes = build_routes(settings, providers, prices=routing_prices(settings))
    tracing = build_tracing(settings.tracing)
    router = Router(
        model_routes,
        latency_alpha=settings.routing.latency_ewma_alpha,
        expected_output_tokens=settings.routing.expected_output_tokens,
        rng=rng,
        tracing=tracing,
    )
    period_clock = settings.budgets.clock()
    backend = build_backend(settings.state, settings.files, period_clock)
    store = backend.store
    resolver = KeyResolver(
        KeyRing(settings.auth.keys),
        store,
        settings.auth.key_cache_s,
        default_tenant_limits=settings.limits.defaults,
    )
    jwt: JwtVerifier | None = None
    if settings.auth.jwt is not None:
        jwt = JwtVerifier(
            settings.auth.jwt, store, limits_for=resolver.limits_for, cache_s=settings.auth.key_cache_s
        )
    authenticate = AuthenticateStage(resolver, jwt)
    # Alerts (docs/alerts.md): budget use at settle, breakers opening, and a monitor of the rates;
    # sent through the webhook outbox, which the sender (made below) delivers.
    al = settings.alerts
    operator = operator_endpoints(al)
    notifier = budget_alerts = traffic = monitor = None
    if al.enabled:
        notifier = Notifier(store, operator, cooldown_s=al.cooldown_s, wake=lambda: sender.wake())
        own_thresholds = {
            t: a.budget_thresholds for t, a in al.tenants.items() if a.budget_thresholds is not None
        }
        budget_alerts = BudgetAlerts(notifier, al.budget_thresholds, own_thresholds)
        traffic = Traffic(al.p95_latency_s)
        monitor = Monitor(al, traffic, store, notifier)
        if al.circuit_open:
            for alias, d in router.aliased_deployments:
                d.breaker.watch(circuit_watch(notifier, alias, d.name))
    b = settings.budgets
    prices = deployment_prices(settings, model_routes)
    switches = Switches(backend.budgets, period_clock)  # spend policies' switches, reported once bound below
    budgets = Budgets(
        backend.budgets,
        prices,
        router.route,
        default_max_tokens=b.default_max_tokens,
        fail_open=b.fail_open,
        alerts=budget_alerts,
        switches=switches,
    )
    quota = QuotaStage(
        Admission(backend.limits, fail_open=settings.limits.fail_open),
        budgets,
        together=backend.commits_together,
    )
    obs = build_observer(
        settings, store, router, backend.budgets, None if traffic is None else traffic.observe
    )
    own = OwnCalls(obs.observer)
    embed, count, knowledge_health = build_embedder(settings, own)
    if settings.knowledge.rerank is not None:
        knowledge_health = {**knowledge_health, "rerank": settings.knowledge.rerank}
    cache = build_cache(settings, backend.exact_cache, backend.semantic_index, own)
    guard_plugins = build_plugins(settings.guardrails.plugins)
    g = settings.guardrails
    policies = [
        g.policy,
        *g.tenants.values(),
        *(k.guardrails for k in settings.auth.keys if k.guardrails is not None),
    ]
    if any(p.injection != "off" for p in policies):
        import sluice.guardrails.injection  # noqa: F401  # its patterns compile now, not on a first request
    k = settings.knowledge
    searcher = Searcher(
        store,
        embed,
        max_scan_chunks=k.max_scan_chunks,
        cache_bytes=k.vector_cache_bytes,
        rerank=build_reranker(settings, own),
        rerank_candidates=k.rerank_candidates,
    )
    resolve = ResolveStage(
        router,
        Tokenizers(enabled=settings.limits.tokenizer == "tiktoken"),
        auto_aliases(settings, router.route),
    )
    # The learned detector (numpy and its weights, ~14 MiB) is loaded in the background the first
    # time a text needs it, not at startup: a gateway's idle memory stays what it was.
    scorer = InjectionScorer(load=load_learned_detector) if g.learned_injection else InjectionScorer()
    input_guard = InputGuardStage(
        g.policy,
        scan=scorer,
        plugins=guard_plugins,
        tenants=g.tenants,
    )
    # The request path, in order: pipeline/runner.py says what each stage does and why it stands where it does.
    prompts = PromptStage(PromptCatalog(store, ttl_s=settings.prompts.cache_s), own, resolver.limits_for)
    stages: list[Stage] = [
        ValidateStage(),
        authenticate,
        prompts,
        resolve,
        RetrievalStage(searcher, tracing),
        input_guard,
        AnswerGuardStage(),
        *([CacheStage(cache)] if cache is not None else []),
        quota,
        *([CacheLookupStage(cache)] if cache is not None else []),
        StructuredOutputStage(),
    ]
    pipeline = Pipeline(stages, router, tracing=tracing)
    own.bind(pipeline)

    owners = {
        alias: "sluice" if m.auto is not None else settings.providers[m.deployments[0].provider].type
        for alias, m in settings.models.items()
    }
    max_body = settings.server.max_body_bytes
    openai = OpenAIRoutes(pipeline, authenticate, max_body, owners, obs.observer)
    anthropic = AnthropicRoutes(
        pipeline, max_body, obs.observer, counter=TokenCounter([authenticate, resolve, input_guard])
    )
    # Background requests: jobs the batch worker runs (made below; ``submitted`` wakes it).
    bs = settings.batches
    run_workers = worker or bs.workers
    batch_queue = backend.batch_queue(bs)
    batches: BatchWorker | None = None

    async def submitted(job: StoredBatch) -> None:
        if batches is None or not run_workers:
            return  # a worker process elsewhere finds it at its next poll
        try:
            await batch_queue.started(job)
        except Exception:  # the queue away: its next look after running batches defers it
            log.exception("background job %s not queued now", job.id)
        batches.wake()

    jobs = BackgroundJobs(authenticate, store, obs.observer, window_s=bs.window_s, submitted=submitted)
    openai.jobs = jobs
    response_keys = [k.get_secret_value() for k in settings.responses.encryption_keys]
    conversations = Conversations(store, response_keys)
    responses = ResponsesRoutes(pipeline, authenticate, conversations, max_body, obs.observer, jobs)
    if not response_keys:
        log.warning(
            "responses.encryption_keys is empty: stored Responses API answers (store: true, the "
            "default) are kept unencrypted in the database"
        )
    health = HealthRoutes(
        router,
        backend.redis_ping_ms,
        None if cache is None else cache.health,
        database=store.ping,
        blob_store=backend.blob_ping,
        embedding_ms=None if cache is None else cache.embedding_ms,
        knowledge=knowledge_health,
    )

    invalidation = backend.invalidation(AuthCaches(resolver, jwt))
    admin_static = {
        hashlib.sha256(k.key.get_secret_value().encode()).hexdigest(): k.name for k in settings.admin.keys
    }
    admin_service = AdminService(
        store,
        on_key_change=invalidation.key_changed,
        on_tenant_change=invalidation.tenant_changed,
        on_plan_change=invalidation.plan_changed,
        period_clock=period_clock,
    )
    # The registry's audited label move (Store.set_prompt_label) starts, stops and rolls back
    # experiments; the evaluator checks their rules on every replica.
    p = settings.prompts
    webhook = Webhook(p.webhook_url, p.webhook_timeout_s) if p.webhook_url else None
    evaluator = Evaluator(store, store, every_s=p.evaluate_every_s, webhook=webhook)
    admin = build_admin(
        admin_service,
        AdminAuth(admin_static, store, resolver.lookup),
        [
            cache_routes(admin_service, cache, settings.cache.policy),
            prompt_routes(admin_service, [a for a, m in settings.models.items() if m.kind == "chat"]),
            policy_routes(
                admin_service,
                "guardrails",
                GuardrailPolicy,
                lambda tenant_id: settings.guardrails.tenants.get(tenant_id, settings.guardrails.policy),
            ),
            experiment_routes(admin_service, store, store),
            webhook_routes(admin_service, store),
        ],
    )
    admin.add_exception_handler(HTTPException, _http_error)

    files = FileRoutes(authenticate, store, backend.blobs, settings.files, obs.observer)
    ingestor = Ingestor(
        store,
        backend.blobs,
        embed,
        count,
        IngestLimits(k.ingest_lease_s, k.ingest_attempts, k.ingest_poll_s, k.max_tenant_chunks),
    )
    vstores = VectorStoreRoutes(
        authenticate,
        store,
        obs.observer,
        wake=ingestor.wake,
        searcher=searcher,
        max_stores=k.max_tenant_vector_stores,
    )
    dispatch: Dispatch | None = None  # made last; counts the interactive requests in flight
    # Batches forwarded to a provider's own batch API (batch: native): docs/batches.md.
    batch_apis = {}
    redactor = Redactor(secret_values(settings))
    for name, ps in settings.providers.items():
        used = [d for m in settings.models.values() for d in m.deployments if d.provider == name]
        if any((d.batch or ps.batch) == "native" for d in used):
            api = batch_api(name, ps, settings.routing.timeouts.connect_s, redactor)
            if api is not None:
                batch_apis[name] = api
    forwarded, priced = native_routes(settings, model_routes, prices, batch_apis)
    accounts = NativeAccounts(authenticate, budgets, obs.observer, priced)
    native = NativeBatches(
        store,
        forwarded,
        accounts.settle,
        accounts.admit,
        poll_s=bs.native_poll_s,
        poll_max_s=bs.native_poll_max_s,
        lease_s=bs.lease_s,
        attempts=bs.attempts,
    )
    ws = settings.webhooks
    sender = WebhookSender(
        store,
        WebhookLimits(
            ws.attempts,
            ws.backoff_s,
            ws.max_backoff_s,
            ws.timeout_s,
            ws.concurrency,
            ws.poll_s,
            ws.allow_private,
        ),
        on_failure=(lambda event: None) if obs.metrics is None else obs.metrics.webhook_failed,
        operator=operator,
    )
    events = Events(store, sender.wake)

    async def spend_switched(tenant_id: str, event: SwitchEvent, subject: str) -> None:
        await events.emit(f"tenant:{tenant_id}", event, subject)

    switches.bind(spend_switched)
    batches = BatchWorker(
        batch_queue,
        store,
        backend.blobs,
        check,
        LineRunner(pipeline, obs.observer, ResponseLines(conversations)).run,
        BatchLimits(
            bs.concurrency,
            bs.yield_in_flight,
            bs.attempts,
            bs.poll_s,
            bs.max_lines,
            bs.max_input_bytes,
            bs.lease_s,
            bs.yield_rate,
            bs.yield_quiet_s,
        ),
        interactive=lambda: 0 if dispatch is None else dispatch.in_flight,
        started=lambda: 0 if dispatch is None else dispatch.started,
        native=native if forwarded else None,
        ended=events.ended,
        on_lines=(lambda outcome, n: None) if obs.metrics is None else obs.metrics.batch_lines,
        on_ended=(lambda status: None) if obs.metrics is None else obs.metrics.batch_ended,
    )
    cancel_watch = CancelWatch(store, batches, bs.poll_s)
    batch_routes = BatchRoutes(authenticate, store, obs.observer, window_s=bs.window_s, wake=batches.wake)
    message_batches = MessageBatchRoutes(
        authenticate,
        store,
        obs.observer,
        window_s=bs.window_s,
        max_requests=bs.max_lines,
        max_bytes=bs.max_input_bytes,
        submitted=submitted,
        wake=batches.wake,
    )
    data_plane: dict[tuple[str, str], Handler] = {
        ("POST", "/v1/messages"): anthropic.messages,
        ("POST", "/v1/messages/count_tokens"): anthropic.count_tokens,
        ("POST", "/v1/messages/batches"): message_batches.create,
        ("GET", "/v1/messages/batches"): message_batches.list,
        ("POST", "/v1/feedback"): FeedbackRoutes(authenticate, store, obs.observer).create,
    }
    for prefix in ("/v1", ""):  # SDKs use /v1; some clients are configured without it
        data_plane[("POST", f"{prefix}/chat/completions")] = openai.chat_completions
        data_plane[("POST", f"{prefix}/completions")] = openai.completions
        data_plane[("POST", f"{prefix}/embeddings")] = openai.embeddings
        data_plane[("GET", f"{prefix}/models")] = openai.models
        data_plane[("POST", f"{prefix}/responses")] = responses.create
        data_plane[("POST", f"{prefix}/files")] = files.create
        data_plane[("GET", f"{prefix}/files")] = files.list
        data_plane[("POST", f"{prefix}/batches")] = batch_routes.create
        data_plane[("GET", f"{prefix}/batches")] = batch_routes.list
    # The same handlers as ordinary routes too, so a wrong method on a known path is a 405.
    routes: list[BaseRoute] = [
        Route(path, handler, methods=[method]) for (method, path), handler in data_plane.items()
    ]
    routes += [
        Route(f"{prefix}/models/{{model:path}}", openai.model, methods=["GET"]) for prefix in ("/v1", "")
    ]
    routes += [
        Route("/v1/messages/batches/{batch_id}", message_batches.retrieve, methods=["GET"]),
        Route("/v1/messages/batches/{batch_id}", message_batches.delete, methods=["DELETE"]),
        Route("/v1/messages/batches/{batch_id}/cancel", message_batches.cancel, methods=["POST"]),
        Route("/v1/messages/batches/{batch_id}/results", message_batches.results, methods=["GET"]),
    ]
    vs, vs_file, vs_batch = (
        "/vector_stores/{vector_store_id}",
        "/vector_stores/{vector_store_id}/files/{file_id}",
        "/vector_stores/{vector_store_id}/file_batches",
    )
    # Routes with a path parameter, under /v1 and at the root alike: (method, path, handler).
    by_id: list[tuple[str, str, Handler]] = [
        ("GET", "/responses/{response_id}", responses.retrieve),
        ("DELETE", "/responses/{response_id}", responses.delete),
        ("GET", "/responses/{response_id}/input_items", responses.input_items),
        ("GET", "/files/{file_id}", files.retrieve),
        ("DELETE", "/files/{file_id}", files.delete),
        ("GET", "/files/{file_id}/content", files.content),
        ("GET", "/batches/{batch_id}", batch_routes.retrieve),
        ("POST", "/batches/{batch_id}/cancel", batch_routes.cancel),
        ("POST", "/responses/{response_id}/cancel", responses.cancel),
        ("GET", "/sluice/jobs/{job_id}", jobs.retrieve),
        ("POST", "/sluice/jobs/{job_id}/cancel", jobs.cancel),
        ("POST", "/vector_stores", vstores.create),
        ("GET", "/vector_stores", vstores.list_stores),
        ("GET", vs, vstores.retrieve),
        ("POST", vs, vstores.modify),
        ("DELETE", vs, vstores.delete),
        ("POST", f"{vs}/files", vstores.create_file),
        ("GET", f"{vs}/files", vstores.list_files),
        ("GET", vs_file, vstores.retrieve_file),
        ("DELETE", vs_file, vstores.delete_file),
        ("POST", vs_file, vstores.update_file),
        ("GET", f"{vs_file}/content", vstores.file_content),
        ("POST", f"{vs_batch}/{{batch_id}}/cancel", vstores.cancel_batch),
        ("POST", vs_batch, vstores.create_batch),
        ("GET", f"{vs_batch}/{{batch_id}}", vstores.retrieve_batch),
        ("GET", f"{vs_batch}/{{batch_id}}/files", vstores.list_batch_files),
        ("POST", f"{vs}/search", vstores.search),
    ]
    routes += [
        Route(prefix + path, handler, methods=[method])
        for prefix in ("/v1", "")
        for method, path, handler in by_id
    ]
    m = settings.metrics
    scrape = (
        None if obs.metrics is None else guarded(obs.scrape, m.token.get_secret_value() if m.token else None)
    )
    listener = None
    if scrape is not None and m.port is not None:
        listener = MetricsListener(scrape, m.host or settings.server.host, m.port, _http_error)
    if obs.metrics is not None and m.tenant_label and m.token is None and m.port is None:
        log.warning(
            "metrics.tenant_label is on and GET /metrics is open to anyone who reaches the port: "
            "set metrics.token or metrics.port"
        )
    routes += [
        Route("/health/live", health.live, methods=["GET"]),
        Route("/health/ready", health.ready, methods=["GET"]),
        *([Route("/metrics", scrape, methods=["GET"])] if scrape is not None and listener is None else []),
        Mount("/admin", app=admin),
        Route("/docs", lambda request: RedirectResponse("/admin/docs"), methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backend.start()  # the object store's client, when files' bytes live there
        try:
            applied = await store.migrate()
            if applied:
                log.info("store migrated", extra={"applied": applied})
            for name, plan in settings.plans.items():  # seeded: the store's own copy, once edited, wins
                await store.put_plan(name, plan, int(time.time()), only_new=True)
        except StoreUnavailableError as e:
            # Static keys keep working; store-backed keys answer 503 until the store is back.
            log.error("store unavailable at startup: %s", e.message)
        try:
            await batch_queue.migrate()
        except Exception:  # the database away: batches wait, the rest serves
            log.exception("batch queue schema not applied")
        await invalidation.start()
        if cache is not None:
            await cache.start()
        obs.start()
        conversations.start()
        if listener is not None and not worker:
            await listener.start()
        evaluator.start()
        if monitor is not None:
            monitor.start()
        if run_workers:
            ingestor.start()
            batches.start()
            cancel_watch.start()
            sender.start()
        try:
            yield
        finally:
            if run_workers:
                await batches.drain(bs.drain_s)  # lines in flight finish, for up to batches.drain_s
                await batches.close()  # the rest are given back, to run again at once elsewhere
                await cancel_watch.close()
                await sender.close()  # sends in flight are sent again once their claims run out
                await ingestor.close()  # a file it was on is claimed again once its lease runs out
            if listener is not None and not worker:
                await listener.close()
            await evaluator.close()
            await switches.close()  # switch events still being put in the outbox
            if monitor is not None:
                await monitor.close()
            if notifier is not None:
                await notifier.close()  # alerts on their way to the outbox, before the store closes
            await prompts.close()  # shadow answers under way
            await conversations.close()  # stored responses still queued
            await obs.close()  # in-flight requests are over: their records are queued
            if cache is not None:
                await cache.close()
            await backend.close()  # the caches' stores, the invalidation channel, the store, Redis
            for plugin in guard_plugins.values():
                await plugin.close()
            for p in providers.values():
                await p.close()
            for api in batch_apis.values():
                await api.close()
            if jwt is not None:
                await jwt.close()
            if tracing is not None:
                await tracing.close()  # last: exports the spans of all the above

    fallback = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # No slash redirects: Starlette's point at the client's Host header, before authentication.
    fallback.router.redirect_slashes = False
    dispatch = Dispatch(data_plane, fallback)
    app: ASGIApp = dispatch
    if settings.server.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=[
                "authorization",
                "content-type",
                "x-request-id",
                "x-api-key",
                "anthropic-version",
                "anthropic-beta",
                "anthropic-dangerous-direct-browser-access",
            ],
            expose_headers=[
                "x-request-id",
                "x-sluice-cache",
                "x-sluice-cache-similarity",
                "x-sluice-model",
                "x-sluice-attempts",
                "x-sluice-cost-usd",
                "x-sluice-overhead-ms",
                "x-sluice-guardrails",
                "x-sluice-prompt",
                "x-sluice-token-count",
                "retry-after",
                *(
                    f"x-ratelimit-{w}-{n}"
                    for w in ("limit", "remaining", "reset")
                    for n in ("requests", "tokens")
                ),
            ],
        )
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing misses (404, 405) and FastAPI's own refusals in the OpenAI error shape, not plain text."""
    assert isinstance(exc, HTTPException)
    err: SluiceError
    if exc.status_code == 404:
        err = NotFoundError(f"Unknown path {request.url.path}.", code="unknown_url")
    elif exc.status_code == 405:
        err = InvalidRequestError(
            f"{request.method} is not allowed on {request.url.path}.", code="method_not_allowed"
        )
        err.status = exc.status_code
    else:  # FastAPI's 400 for an admin body its parser refused
        err = InvalidRequestError(f"{exc.detail}.")
        err.status = exc.status_code
    if is_anthropic_path(request.url.path):
        status, body = render_error(err)
        return Response(body, status, media_type="application/json")
    return Response(error_body(err), err.status, media_type="application/json")


async def _server_error(request: Request, exc: Exception) -> Response:
    """Last resort (the handlers catch their own): a generic 500, details only in the logs."""
    return Response(
        error_body(InternalError("The server had an error processing your request.")),
        500,
        media_type="application/json",
    )
