"""Shared fixtures: real servers on 127.0.0.1 (the sim model, gateways), stopped by PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.clock import Clock
from tests.fixtures.procs import Proc, free_port, start
from tests.fixtures.s3 import Bucket, new_bucket, start_s3
from tests.fixtures.services import flush_redis, reset_postgres_schema, start_postgres, start_redis

DEMO_KEY = "sk-sluice-demo"


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """One standalone sim server (`sluice sim`) for the session; behaviour per request
    comes from ``x-sim-*`` headers, so tests do not share state through it."""
    port = free_port()
    log = tmp_path_factory.mktemp("sim") / "sim.log"
    proc = start(["sim", "--host", "127.0.0.1", "--port", str(port)], log, "/health", port)
    yield proc
    proc.stop()


@pytest.fixture
def clock() -> Clock:
    """The test's clock (tests/fixtures/clock.py), at the real now in whole seconds; a module that
    counts from its own instant overrides this fixture with ``Clock(that_instant)``."""
    return Clock()


GatewayFactory = Callable[..., Proc]


def _start_gateway(tmp: Path, config: dict[str, Any], env: dict[str, str] | None) -> Proc:
    port = free_port()
    config = {**config, "server": {**config.get("server", {}), "host": "127.0.0.1", "port": port}}
    config.setdefault("state", {"sqlite_path": str(tmp / f"gateway-{port}.db")})
    path = tmp / f"gateway-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    return start(["serve", "--config", str(path)], tmp / f"gateway-{port}.log", "/health/live", port, env)


class _Gateways:
    """Starts gateways into one folder and stops them all, by PID, when asked."""

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._procs: list[Proc] = []

    def __call__(self, config: dict[str, Any], env: dict[str, str] | None = None) -> Proc:
        proc = _start_gateway(self._tmp, config, env)
        self._procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for p in self._procs:
            p.stop()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayFactory]:
    """Factory: ``gateway(config_dict)`` starts `sluice serve` on a free port; stopped after the test."""
    gateways = _Gateways(tmp_path)
    yield gateways
    gateways.stop_all()


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayFactory]:
    """Like ``gateway`` but shared by a module's tests (each start costs ~1 s)."""
    gateways = _Gateways(tmp_path_factory.mktemp("gw"))
    yield gateways
    gateways.stop_all()


def sim_config(**sim: Any) -> dict[str, Any]:
    """A gateway config routing gpt-4o-mini (chat) and text-embedding-3-small to an
    in-process sim provider with the given behaviour, accepting the demo key."""
    return {
        "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
        "providers": {"sim": {"type": "sim", "sim": sim}},
        "models": {
            "gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-mini"}]},
            "text-embedding-3-small": {
                "kind": "embedding",
                "deployments": [{"provider": "sim", "model": "sim-embed"}],
            },
        },
        "logging": {"level": "warning"},
    }


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server on 127.0.0.1 for the session, without persistence: ``redis://127.0.0.1:N/0``."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL on 127.0.0.1 for the session, trust auth, with database ``sluice``:
    ``postgresql://postgres@127.0.0.1:N/sluice``."""
    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    yield server.url
    server.stop()


@pytest.fixture
def redis_clean(redis_url: str) -> str:
    """The session's Redis URL, FLUSHALL-ed before the test."""
    flush_redis(redis_url)
    return redis_url


@pytest.fixture
def postgres_clean(postgres_dsn: str) -> str:
    """The session's PostgreSQL DSN, schema ``public`` of ``sluice`` dropped and recreated before the test."""
    reset_postgres_schema(postgres_dsn)
    return postgres_dsn


@pytest.fixture(scope="session")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 server (moto's) on 127.0.0.1 for the session: ``http://127.0.0.1:N``."""
    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server.url
    server.stop()


@pytest.fixture
def s3_bucket(s3_url: str) -> Bucket:
    """A new, empty bucket on the session's S3 server, with a boto3 client to look into it."""
    return new_bucket(s3_url)
