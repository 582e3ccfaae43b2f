"""Serving: the startup banner and uvicorn, tuned for a proxy (uvloop, httptools, no access log)."""

from __future__ import annotations

import contextlib
import gc
import glob
import os
import tempfile
from collections.abc import Iterator

import click
import uvicorn

from sluice import __version__
from sluice.obs.logging import setup_logging
from sluice.settings import Settings, load_settings

_CONFIG_ENV = "SLUICE_CONFIG_FILE"
_METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEMO_KEY = "sk-sluice-demo"


def create_app():
    """Each worker process builds its own app (and upstream pools) from the same file."""
    from sluice.app import build_app

    settings = load_settings(os.environ.get(_CONFIG_ENV) or None)
    setup_logging(settings.logging.level, settings.logging.format)
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


def banner(settings: Settings, host: str, port: int, workers: int) -> str:
    base = f"http://{host}:{port}"
    lines = [f"Sluice {__version__} listening on {base} ({workers} worker{'s' if workers != 1 else ''})", "models:"]
    for alias, m in settings.models.items():
        targets = ", ".join(f"{d.provider}/{d.model}" for d in m.deployments)
        sim = "  [simulated]" if all(settings.providers[d.provider].type == "sim" for d in m.deployments) else ""
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
        f"    -d '{{\"model\": \"{chat}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello\"}}]}}'",
        f"  OpenAI SDK: OpenAI(base_url=\"{base}/v1\", api_key=\"{key}\")",
        f"  Anthropic SDK: Anthropic(base_url=\"{base}\", api_key=\"{key}\")",
    ]
    return "\n".join(lines)


def run(settings: Settings, *, config_path: str | None, host: str | None, port: int | None, workers: int | None) -> None:
    host = host or settings.server.host
    port = settings.server.port if port is None else port
    workers = workers or settings.server.workers
    setup_logging(settings.logging.level, settings.logging.format)
    click.echo(banner(settings, host, port, workers), err=False)
    common = dict(
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level=settings.logging.level,
        log_config=None,  # uvicorn logs through the root handler setup_logging installed (JSON lines)
        timeout_graceful_shutdown=settings.server.graceful_shutdown_s,
    )
    if workers > 1:
        if config_path:
            os.environ[_CONFIG_ENV] = os.path.abspath(config_path)
        with metrics_dir():
            uvicorn.run("sluice.server:create_app", factory=True, workers=workers, **common)  # type: ignore[arg-type]
    else:
        from sluice.app import build_app

        app = build_app(settings)
        settle_heap()
        uvicorn.run(app, **common)  # type: ignore[arg-type]
