"""The README's examples run: its Python snippets against a demo gateway, its YAML through the
config loader."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sluice.settings import Settings
from tests.fixtures.procs import REPO, free_port, running

README = (REPO / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_python_examples_run_against_the_demo(tmp_path: Path) -> None:
    port = free_port()
    args = ["serve", "--config", "examples/demo.yaml", "--host", "127.0.0.1", "--port", str(port)]
    with running(args, tmp_path / "demo.log", "/health/live", port):
        for i, code in enumerate(blocks("python")):
            code = code.replace("127.0.0.1:4000", f"127.0.0.1:{port}")
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"README python block {i}: {r.stderr}"
            assert "Simulated reply to: " in r.stdout


@pytest.mark.parametrize("snippet", blocks("yaml"))
def test_readme_yaml_is_a_valid_config(snippet: str) -> None:
    data = yaml.safe_load(
        snippet.replace("${OPENAI_API_KEY}", "x")
        .replace("${ANTHROPIC_API_KEY}", "x")
        .replace("${AZURE_EAST_KEY}", "x")
    )
    Settings(**data)


def test_every_test_named_in_the_security_page_exists() -> None:
    """docs/security.md holds each guarantee to tests by name: a renamed or deleted test must not
    leave the page claiming a check that no longer runs. ``::name`` and a bare ``test_name`` refer
    to the test file named last."""
    page = (REPO / "docs" / "security.md").read_text()
    missing, current, checked = [], None, 0
    for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::)?(test_\w+)?(?:\[[^`]*\])?`", page):
        if path:
            current = path
            if not (REPO / path).exists():
                missing.append(path)
                continue
        if name and current is not None:
            checked += 1
            if not re.search(rf"def {name}\b", (REPO / current).read_text()):
                missing.append(f"{current}::{name}")
    assert checked > 40 and missing == []


def test_knowledge_worked_example_prints_what_the_page_says(tmp_path: Path) -> None:
    """docs/knowledge.md's worked example runs as written against the demo config (its own
    database) and prints exactly the output the page shows under it."""
    page = (REPO / "docs" / "knowledge.md").read_text()
    section = page.split("## Worked example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None and shown is not None
    port = free_port()
    args = ["serve", "--config", "examples/demo.yaml", "--host", "127.0.0.1", "--port", str(port)]
    env = {"SLUICE_STATE__SQLITE_PATH": str(tmp_path / "demo.db")}
    with running(args, tmp_path / "demo.log", "/health/live", port, env):
        script = code.group(1).replace("127.0.0.1:4000", f"127.0.0.1:{port}")
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == shown.group(1)


def test_the_auto_routing_example_routes_as_the_page_says() -> None:
    """docs/routing.md's auto example: its config loads (its providers stood in for by the sim)
    and the two requests it shows get the x-sluice-route values it prints."""
    import msgspec

    from sluice.limits.tokens import chat_input_tokens
    from sluice.providers.sim import SimProvider
    from sluice.routing.auto import auto_aliases
    from sluice.routing.router import Router
    from sluice.routing.table import build_routes
    from sluice.types import ChatRequest

    page = (REPO / "docs" / "routing.md").read_text()
    section = page.split("## Automatic routing (auto)", 1)[1].split("\n## ", 1)[0]
    config = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", section, re.S)[0])
    settings = Settings(**config, providers={"openai": {"type": "sim"}, "anthropic": {"type": "sim"}})
    sim = {name: SimProvider(p) for name, p in settings.providers.items()}
    auto = auto_aliases(settings, Router(build_routes(settings, sim)).route)["auto"]
    curl = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    shown = [
        (re.search(r'"content": "(.*?)"', curl.replace("\\\n  ", ""), re.S), r"strong; reason=difficulty"),
        (re.search(r"\*(What is the capital of Peru\?)\*", section), "fast; reason=simple"),
    ]
    for found, header in shown:
        assert found is not None
        request = msgspec.convert(
            {"model": "auto", "messages": [{"role": "user", "content": found.group(1)}]}, ChatRequest
        )
        assert f"`x-sluice-route: {header}`" in section.replace("\n", " ")
        assert auto.resolve(request, chat_input_tokens(request), None, None)[1].header == header
