"""Serving: the startup banner and uvicorn, tuned for a proxy (uvloop, httptools, no access log)."""

from __future__ import annotations

import contextlib
import gc
import glob
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

import click
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from sluice import __version__
from sluice.obs.logging import setup_logging
from sluice.obs.redact import secret_values
from sluice.protocol import HttpToolsProtocol10
from sluice.settings import Settings, load_settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

_CONFIG_ENV = "SLUICE_CONFIG_FILE"
_METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEMO_KEY = "sk-sluice-demo"

log = logging.getLogger("sluice.server")

# What a signal does, in every serving mode (docs/operations.md); none ends the gateway abruptly.
# SIGTERM, SIGINT: uvicorn's graceful drain. SIGQUIT: the same drain. SIGHUP: with several workers
# a rolling restart that reloads the config file; with one, the same drain (then exit, as on
# SIGTERM). SIGUSR1, SIGUSR2, SIGTTIN/SIGTTOU (outside the parent of several workers, which
# scales with them): ignored, with a log line. SIGPIPE: ignored by Python itself (a write to a
# closed connection is an error on that connection only).
_DRAIN = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
_IGNORED = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTTIN, signal.SIGTTOU)


def _ignore(sig: int, frame: FrameType | None) -> None:
    log.warning("%s ignored", signal.Signals(sig).name)


def _as_sigterm(sig: int, frame: FrameType | None) -> None:
    """In a worker: SIGQUIT drains like SIGTERM (uvicorn's own handler for it)."""
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        handler(signal.SIGTERM, frame)


def worker_signals() -> None:
    """A worker of ``--workers N``: the parent decides (it restarts workers on SIGHUP and sends
    each SIGTERM to drain), so a signal sent to the whole process group (a closed terminal, a
    ``kill`` of the group) must not end a worker at once."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGHUP, _ignore)
    signal.signal(signal.SIGQUIT, _as_sigterm)
    for sig in _IGNORED:
        signal.signal(sig, _ignore)


class SingleServer(uvicorn.Server):
    """One process: uvicorn drains on SIGTERM and SIGINT only; SIGQUIT and SIGHUP would end it at
    once (their default action), the others in ``_IGNORED`` too. Here SIGQUIT and SIGHUP drain as
    SIGTERM does, and exit as on SIGTERM (the status a process manager reads as a clean stop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self._drain) for sig in (signal.SIGQUIT, signal.SIGHUP)}
            previous |= {sig: signal.signal(sig, _ignore) for sig in _IGNORED}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    def _drain(self, sig: int, frame: FrameType | None) -> None:
        log.warning("%s: draining as on SIGTERM", signal.Signals(sig).name)
        self.handle_exit(signal.SIGTERM, frame)


class Supervisor(Multiprocess):
    """The parent of ``--workers N``. uvicorn's own polls its signals every 0.5 s and keeps its
    copy of the listening socket open until every worker has drained, so the kernel went on
    completing handshakes nobody would accept, reset when the parent exited: a client connecting
    during a drain waited, then got a reset. Here SIGTERM, SIGINT and SIGQUIT close the parent's
    copy at once and wake the loop, which sends each worker SIGTERM; each worker closes its own
    copy as it starts draining, so the port refuses new connections from then on. SIGHUP stays
    uvicorn's rolling restart: a new worker (reading the config file afresh) is ready before an
    old one drains, so the port never stops answering."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        for sig in _DRAIN:
            signal.signal(sig, self._drain)

    def _drain(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit.is_set():
            return
        log.warning("%s: draining the workers", signal.Signals(sig).name)
        self.should_exit.set()

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def create_app() -> ASGIApp:
    """Each worker process builds its own app (and upstream pools) from the same file."""
    from sluice.app import build_app

    worker_signals()
    settings = load_settings(os.environ.get(_CONFIG_ENV) or None)
    setup_logging(settings.logging.level, settings.logging.format, secret_values(settings))
    app = build_app(settings)
    settle_heap()
    return app


def settle_heap() -> None:
    """Once the app is built: what startup made lives as long as the process, so move it out of
    the collector's sight (``gc.freeze``), and collect the young generation less often. A request
    allocates a few hundred objects; at the default threshold (700) every other request paid for
    a collection, and each full collection walked every module and table loaded at startup."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


@contextlib.contextmanager
def metrics_dir() -> Iterator[None]:
    """Several workers share their Prometheus values through files in one directory, which
    must be set before any worker imports prometheus_client and start empty: the operator's
    ``PROMETHEUS_MULTIPROC_DIR`` (its old files removed), else a temporary one, removed after."""
    given = os.environ.get(_METRICS_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for old in glob.glob(os.path.join(given, "*.db")):
            os.remove(old)
        yield
        return
    with tempfile.TemporaryDirectory(prefix="sluice-metrics-") as path:
        os.environ[_METRICS_ENV] = path
        try:
            yield
        finally:
            del os.environ[_METRICS_ENV]


def per_process_state(settings: Settings) -> str | None:
    """What ``--workers N`` leaves per worker that a shared Redis would share (None: nothing):
    on the embedded backend without ``state.redis_url``, rate limits and budgets (each worker
    enforces the whole limit), the exact cache and key revocation."""
    if settings.state.backend != "embedded" or settings.state.redis_url is not None:
        return None
    return "rate limits, budgets, the exact cache and key revocation"


def banner(settings: Settings, host: str, port: int, workers: int) -> str:
    base = f"http://{host}:{port}"
    lines = [
        f"Sluice {__version__} listening on {base} ({workers} worker{'s' if workers != 1 else ''})",
        "models:",
    ]
    for alias, m in settings.models.items():
        if m.auto is not None:
            tiers = m.auto.tiers.model_dump(exclude_none=True)
            lines.append(f"  {alias:<28} {'auto':<9} -> " + ", ".join(f"{t}: {a}" for t, a in tiers.items()))
            continue
        targets = ", ".join(f"{d.provider}/{d.model}" for d in m.deployments)
        sim = (
            "  [simulated]"
            if all(settings.providers[d.provider].type == "sim" for d in m.deployments)
            else ""
        )
        lines.append(f"  {alias:<28} {m.kind:<9} -> {targets}{sim}")
    key = "<your key>"
    if not settings.auth.keys:
        lines.append("warning: no API keys configured (auth.keys): every data-plane request will get a 401")
    elif any(k.key.get_secret_value() == DEMO_KEY for k in settings.auth.keys):
        key = DEMO_KEY  # documented and public; real keys are never printed
    chat = next((a for a, m in settings.models.items() if m.kind == "chat"), "gpt-4o-mini")
    lines += [
        "try:",
        f"  curl {base}/v1/chat/completions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\",
        f'    -d \'{{"model": "{chat}", "messages": [{{"role": "user", "content": "Hello"}}]}}\'',
        f'  OpenAI SDK: OpenAI(base_url="{base}/v1", api_key="{key}")',
        f'  Anthropic SDK: Anthropic(base_url="{base}", api_key="{key}")',
    ]
    return "\n".join(lines)


def run(
    settings: Settings, *, config_path: str | None, host: str | None, port: int | None, workers: int | None
) -> None:
    host = host or settings.server.host
    port = settings.server.port if port is None else port
    workers = workers or settings.server.workers
    setup_logging(settings.logging.level, settings.logging.format, secret_values(settings))
    click.echo(banner(settings, host, port, workers), err=False)

    def config(app: ASGIApp | str, **extra: Any) -> uvicorn.Config:
        return uvicorn.Config(
            app,
            host=host,
            port=port,
            loop="uvloop",
            http=HttpToolsProtocol10,  # httptools; streams to HTTP/1.0 clients close-delimited
            lifespan="on",
            access_log=False,
            server_header=False,
            log_level=settings.logging.level,
            log_config=None,  # uvicorn logs through the root handler setup_logging installed (JSON lines)
            # A float is fine: uvicorn passes it to asyncio.wait_for; its hint says int.
            timeout_graceful_shutdown=settings.server.graceful_shutdown_s,  # type: ignore[arg-type]
            **extra,
        )

    if workers > 1:
        per_process = per_process_state(settings)
        if per_process:
            log.warning(
                "%d workers on the embedded backend without state.redis_url: %s are per worker "
                "(set state.redis_url to share them; docs/operations.md)",
                workers,
                per_process,
            )
        if config_path:
            os.environ[_CONFIG_ENV] = os.path.abspath(config_path)
        with metrics_dir():
            multi = config("sluice.server:create_app", factory=True, workers=workers)
            Supervisor(multi, sockets=[multi.bind_socket()]).run()
    else:
        from sluice.app import build_app

        app = build_app(settings)
        settle_heap()
        server = SingleServer(config(app))
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)


def run_worker(settings: Settings) -> None:
    """``sluice worker``: the app's background workers (batches, vector store ingestion) with the
    gateway's config, serving no HTTP. Its lifespan runs as under uvicorn: startup (migrations, the
    workers), then, on SIGTERM or SIGINT, shutdown (lines in flight finish for up to
    ``batches.drain_s``, the rest are handed back; the request log flushed)."""
    import uvloop

    from sluice.app import build_app

    setup_logging(settings.logging.level, settings.logging.format, secret_values(settings))
    if settings.batches.worker_nice:  # lower priority than the gateways on a shared core
        os.nice(settings.batches.worker_nice)
    app = build_app(settings, worker=True)
    log.info(
        "sluice worker %s started (pid %d, nice %d)",
        __version__,
        os.getpid(),
        os.getpriority(os.PRIO_PROCESS, 0),
    )
    if not uvloop.run(_lifespan(app)):
        sys.exit(STARTUP_FAILURE)


async def _lifespan(app: ASGIApp) -> bool:
    """Drive ``app``'s ASGI lifespan until a drain signal; whether startup succeeded."""
    import asyncio

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _DRAIN:
        loop.add_signal_handler(sig, stop.set)

    async def send(message: Any) -> None:
        await outbox.put(message)

    async def receive() -> Any:
        return await inbox.get()

    async def lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    task = asyncio.create_task(lifespan())
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        log.error("worker startup failed: %s", started.get("message", ""))
        await asyncio.gather(task, return_exceptions=True)
        return False
    await stop.wait()
    log.info("worker draining")
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await asyncio.gather(task, return_exceptions=True)
    return True
