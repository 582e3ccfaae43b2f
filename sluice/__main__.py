"""The ``sluice`` command line: serve, worker, migrate, sim, config check and reference, the admin commands
(tenants, keys, admins, limits, budgets, spend, plans, prompts: ``admin/cli.py``), batches (a client of a running
gateway: ``admin/batch_cli.py``), version."""

from __future__ import annotations

import os
import sys

import click

from sluice import __version__
from sluice.settings import ConfigError, ModelSettings, Settings, SimSettings, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="sluice")
def cli() -> None:
    """Sluice: an OpenAI- and Anthropic-compatible LLM gateway."""


@cli.command()
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    help="YAML config file (default: built-in demo settings).",
)
@click.option("--host", help="Address to bind (overrides server.host).")
@click.option("--port", type=int, help="Port to bind (overrides server.port).")
@click.option("--workers", type=int, help="Worker processes (overrides server.workers).")
def serve(config_path: str | None, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the gateway."""
    # The semantic cache's numpy work runs in a worker thread beside the event loop; a BLAS
    # thread pool per call would compete with the loop for the same cores (6x slower here).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from sluice.server import run

    settings = _load_or_exit(config_path)
    run(settings, config_path=config_path, host=host, port=port, workers=workers)


@cli.command()
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    help="YAML config file, the gateway's own (default: built-in demo settings).",
)
def worker(config_path: str | None) -> None:
    """Run the background workers (batches, vector store ingestion) without serving HTTP.

    Scales on its own beside gateways configured with batches.workers: false; SIGTERM drains."""
    from sluice.server import run_worker

    run_worker(_load_or_exit(config_path))


@cli.command()
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    help="YAML config file, the gateway's own (default: built-in demo settings).",
)
def migrate(config_path: str | None) -> None:
    """Apply the store's pending migrations (and, distributed, the batch queue's schema), then exit.

    The gateway migrates at startup too; run this first (a deploy step, a Kubernetes Job) so a new
    version's schema is in place before any replica of it serves. Exit 1 when the store is unreachable."""
    import asyncio

    from sluice.backend import build_backend
    from sluice.errors import SluiceError

    settings = _load_or_exit(config_path)

    async def main() -> list[str]:
        backend = build_backend(settings.state, settings.files)
        queue = backend.batch_queue(settings.batches)
        try:
            applied = await backend.store.migrate()
            await queue.migrate()
            return applied
        finally:
            await queue.close()
            await backend.close()

    try:
        applied = asyncio.run(main())
    except SluiceError as e:
        click.echo(f"migrate: {e.message} ({e.status} {e.code})", err=True)
        sys.exit(1)
    click.echo(f"{settings.state.backend}: {len(applied)} migration(s) applied")
    for name in applied:
        click.echo(f"  {name}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=9200, show_default=True)
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Delay before a JSON answer.")
@click.option(
    "--ttft-ms", type=float, default=0.0, show_default=True, help="Delay before the first stream chunk."
)
@click.option(
    "--chunk-delay-ms", type=float, default=0.0, show_default=True, help="Delay between stream chunks."
)
@click.option("--chunks", type=int, default=None, help="Stream chunk count (default: one per word).")
@click.option("--error-rate", type=float, default=0.0, show_default=True, help="Share of requests that fail.")
@click.option(
    "--error-status", default="500", show_default=True, help="Comma-separated statuses for injected failures."
)
@click.option("--retry-after-s", type=float, default=None, help="Retry-After sent with injected 429/503.")
@click.option(
    "--hang-rate", type=float, default=0.0, show_default=True, help="Share of requests that never answer."
)
@click.option("--fail-first", type=int, default=0, show_default=True, help="The first N requests fail.")
@click.option("--embedding-dim", type=int, default=256, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def sim(host: str, port: int, error_status: str, **behaviour: float | int | None) -> None:
    """Run the simulated model as an OpenAI-compatible server (a mock upstream)."""
    from pydantic import ValidationError

    from sluice.sim.server import run

    try:
        statuses = [int(s) for s in error_status.split(",") if s.strip()]
        settings = SimSettings(error_status=statuses, **behaviour)
    except (ValueError, ValidationError) as e:
        raise click.BadParameter(str(e)) from None
    run(host, port, settings)


@cli.group()
def config() -> None:
    """Inspect configuration files."""


@config.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def config_check(path: str) -> None:
    """Validate PATH and print a summary; exit 1 with every problem found."""
    settings = _load_or_exit(path)
    click.echo(f"{path}: ok")
    for alias, m in settings.models.items():
        targets = _targets(m)
        fb = f" -> fallbacks {', '.join(m.fallbacks)}" if m.fallbacks else ""
        click.echo(f"  {alias} ({m.kind}, {'auto' if m.auto else m.strategy}): {targets}{fb}")


@config.command("reference")
def config_reference() -> None:
    """Print the configuration reference (Markdown) generated from the settings schema."""
    from sluice.reference import render

    click.echo(render(), nl=False)


def _targets(m: ModelSettings) -> str:
    """An alias's deployments, or an auto alias's tiers."""
    if m.auto is not None:
        return ", ".join(f"{t} -> {a}" for t, a in m.auto.tiers.model_dump(exclude_none=True).items())
    return ", ".join(f"{d.provider}/{d.model}" for d in m.deployments)


def _load_or_exit(path: str | None) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as e:
        click.echo(f"configuration error in {e.source}:", err=True)
        for p in e.problems:
            click.echo(f"  - {p}", err=True)
        sys.exit(1)


def main() -> None:
    from sluice.admin.batch_cli import batches
    from sluice.admin.cli import admins, budgets, keys, limits, plans, prompts, spend, tenants

    for group in (tenants, keys, limits, budgets, spend, plans, prompts, admins, batches):
        cli.add_command(group)
    cli()


if __name__ == "__main__":
    main()
