"""The compatibility suite's backends: one gateway per backend for the whole folder, the same
model aliases on each (``gpt-4o-mini``, ``gpt-4o``, ``claude-haiku`` for chat,
``text-embedding-3-small``), so every client case runs unchanged against

- ``sim``: the demo config (examples/demo.yaml), the built-in simulated model;
- ``openai``: an OpenAI-like upstream on loopback (tests/fixtures/upstreams.py);
- ``anthropic``: an Anthropic-like upstream on loopback (embeddings from the OpenAI-like one, as a
  real deployment would: Anthropic has no embeddings API).

A case that the gateway answers wrongly is marked ``xfail(strict=True)`` with what it returned,
so it flips when fixed; a case a backend cannot serve by design asserts the refusal instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DEMO_KEY, _Gateways
from tests.fixtures.upstreams import ThreadedServer, anthropic_upstream, openai_upstream

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ("sim", "openai", "anthropic")
CHAT_ALIASES = ("gpt-4o-mini", "gpt-4o", "claude-haiku")
EMBEDDING_ALIAS = "text-embedding-3-small"


@dataclass(frozen=True)
class Backend:
    name: str
    base_url: str
    key: str = DEMO_KEY
    upstream: ThreadedServer | None = None


@pytest.fixture(scope="session")
def upstreams() -> Iterator[dict[str, ThreadedServer]]:
    servers = {"openai": openai_upstream(), "anthropic": anthropic_upstream()}
    yield servers
    for server in servers.values():
        server.stop()


def _config(name: str, servers: dict[str, ThreadedServer]) -> dict[str, Any]:
    demo: dict[str, Any] = yaml.safe_load((REPO / "examples" / "demo.yaml").read_text())
    demo.pop("server")
    demo["logging"] = {"level": "warning"}
    if name == "sim":
        return demo
    oa = {"type": "openai", "base_url": servers["openai"].base_url + "/v1", "api_key": "sk-upstream-openai"}
    an = {"type": "anthropic", "base_url": servers["anthropic"].base_url, "api_key": "sk-upstream-anthropic"}
    provider = {"up": oa if name == "openai" else an, "embed": oa}
    upstream_model = "gpt-4o-mini-2024-07-18" if name == "openai" else "claude-haiku-4-5"
    models: dict[str, Any] = {
        a: {"deployments": [{"provider": "up", "model": upstream_model}]} for a in CHAT_ALIASES
    }
    models[EMBEDDING_ALIAS] = {
        "kind": "embedding",
        "deployments": [{"provider": "embed", "model": EMBEDDING_ALIAS}],
    }
    return {**demo, "providers": provider, "models": models}


@pytest.fixture(scope="session")
def backends(
    tmp_path_factory: pytest.TempPathFactory, upstreams: dict[str, ThreadedServer]
) -> Iterator[dict[str, Backend]]:
    """The three gateways, started once for the folder (about a second each)."""
    gateways = _Gateways(tmp_path_factory.mktemp("compat"))
    out = {}
    for name in BACKENDS:
        proc = gateways(_config(name, upstreams))
        out[name] = Backend(name, proc.base_url, upstream=upstreams.get(name))
    yield out
    gateways.stop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, backends: dict[str, Backend]) -> Backend:
    return backends[request.param]
