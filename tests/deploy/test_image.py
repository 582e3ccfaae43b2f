"""The container image (Dockerfile, scripts/build-runtime.sh, docs/deployment.md#single-host).

Images cannot be built here (no base image can be pulled), so the Dockerfile is held to its
promises three ways: hadolint finds nothing in it; its instructions are checked (pinned base,
one build script, a fixed non-root user, no installer in the final stage, the healthcheck, the stop
signal); and its build stage's one command is run as written in a fresh directory laid out like
the image's build context, after which the venv it makes serves the image's own command and the
demo, writing nothing outside the state and temporary directories."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from sluice.settings import load_settings
from tests.deploy.dockerfile import DOCKERFILE, Instruction, args_defaults, copies, exec_form, parse, stage
from tests.deploy.serving import serve
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, free_port
from tests.fixtures.wait import eventually

HADOLINT = Path(sys.executable).parent / "hadolint"
UID = "10001"


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse()


def one(instrs: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instrs if i.keyword == keyword]
    assert len(found) == 1, f"{keyword}: {found}"
    return found[0]


def test_hadolint_finds_nothing(tmp_path: Path) -> None:
    r = subprocess.run([str(HADOLINT), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    # The linter is live: the same file ending as root is a finding (DL3002).
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text() + "USER root\n")
    r = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "DL3002" in r.stdout


def test_both_stages_use_the_base_pinned_by_tag_and_digest(instructions: list[Instruction]) -> None:
    base = args_defaults(instructions)["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base), base
    froms = [i.args for i in instructions if i.keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
    assert [i.stage for i in instructions if i.keyword == "ARG" and i.args.startswith("PYTHON_IMAGE")] == [-1]


def test_the_build_stage_runs_one_script(instructions: list[Instruction]) -> None:
    build = stage(instructions, 0)
    run = one(build, "RUN").args
    assert "--mount=type=cache,target=/root/.cache/pip" in run
    command = shlex.split(re.sub(r"--mount=\S+", "", run))
    assert command[-3:] == ["bash", "scripts/build-runtime.sh", "/opt/sluice/venv"]
    assert args_defaults(build) == {"SEMANTIC": "0", "EXTRAS": "distributed,knowledge,s3"}


def test_the_final_stage_has_no_compiler_or_installer(instructions: list[Instruction]) -> None:
    final = stage(instructions, -1)
    run = one(final, "RUN").args
    assert "pip uninstall --yes --no-input pip setuptools wheel" in run
    assert "rm -rf /usr/local/lib/python3.11/ensurepip" in run
    assert not re.search(r"apt-get|apt |gcc|g\+\+|build-essential|pip install", run)
    # Only the venv (made without pip) and the config come in.
    assert copies(final) == [
        (["/opt/sluice/venv"], "/opt/sluice/venv", {"from": "build"}),
        (["deploy/image/config.yaml"], "/etc/sluice/config.yaml", {}),
    ]


def test_the_final_stage_runs_as_a_fixed_non_root_user(instructions: list[Instruction]) -> None:
    final = stage(instructions, -1)
    assert one(final, "USER").args == f"{UID}:{UID}"
    run = one(final, "RUN").args
    assert f"groupadd --system --gid {UID} sluice" in run
    assert f"useradd --system --uid {UID} --gid {UID}" in run
    assert f"chown {UID}:{UID} /var/lib/sluice" in run
    user_at = final.index(one(final, "USER"))
    assert all(i.keyword != "RUN" for i in final[user_at:])


def test_read_only_root_signals_health_and_command(instructions: list[Instruction]) -> None:
    final = stage(instructions, -1)
    env = dict(pair.split("=", 1) for pair in shlex.split(one(final, "ENV").args))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["TMPDIR"] == "/tmp"
    assert env["SLUICE_STATE__SQLITE_PATH"] == "/var/lib/sluice/sluice.db"
    assert env["PATH"].startswith("/opt/sluice/venv/bin:")
    assert exec_form(one(final, "VOLUME").args) == ["/var/lib/sluice", "/tmp"]
    assert one(final, "STOPSIGNAL").args == "SIGTERM"
    assert one(final, "EXPOSE").args == "4000"
    health = one(final, "HEALTHCHECK").args
    assert exec_form(health)[:2] == ["python", "-c"] and "/health/live" in health
    assert exec_form(one(final, "ENTRYPOINT").args) == ["sluice"]
    assert exec_form(one(final, "CMD").args) == ["serve", "--config", "/etc/sluice/config.yaml"]
    # The image's config is valid, keeps its state where the volume is, and its drain fits the
    # stop timeout the docs give (docker stop -t 40, compose stop_grace_period: 40s).
    settings = load_settings(REPO / "deploy/image/config.yaml", env={})
    assert settings.server.host == "0.0.0.0" and settings.server.port == 4000
    assert settings.server.graceful_shutdown_s < 40
    page = (REPO / "docs/deployment.md").read_text()
    assert "graceful_shutdown_s" in page and "--stop-timeout 40" in page
    for name, default in args_defaults(instructions).items():
        if name != "PYTHON_IMAGE":
            assert f"| `{name}` | `{default}` |" in page, name


def test_dockerignore_admits_exactly_what_the_dockerfile_copies(instructions: list[Instruction]) -> None:
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()]
    rules = [ln for ln in lines if ln and not ln.startswith("#")]
    assert rules[0] == "*"
    admitted = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = {
        src.rstrip("/") for srcs, _, flags in copies(instructions) if "from" not in flags for src in srcs
    }
    assert admitted == copied
    assert all((REPO / path).exists() for path in copied)


def _lay_out_build_context(instructions: list[Instruction], into: Path) -> None:
    """Copy what the build stage's COPY instructions copy, where they put it (WORKDIR /src)."""
    build = stage(instructions, 0)
    assert one(build, "WORKDIR").args == "/src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for sources, dest, _ in copies(build):
        target = into / dest
        for src in sources:
            path = REPO / src
            if path.is_dir():
                shutil.copytree(path, target, ignore=ignore, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in root.rglob("*")
        if not p.is_dir()
    }


def _build(instructions: list[Instruction], ctx: Path, venv: Path, build_args: dict[str, str]) -> None:
    """The build stage's RUN, as written, with the ARG defaults (or ``build_args``, as
    ``--build-arg`` would set them) in ``ctx`` laid out like the build context; the venv goes to
    ``venv`` instead of /opt/sluice/venv. It must end without an installer."""
    _lay_out_build_context(instructions, ctx)
    run = re.sub(r"--mount=\S+", "", one(stage(instructions, 0), "RUN").args).strip()
    run = run.replace("/opt/sluice/venv", str(venv))
    env = {**os.environ, **args_defaults(stage(instructions, 0)), **build_args}
    r = subprocess.run(["bash", "-c", run], cwd=ctx, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-5000:]
    assert not (venv / "bin" / "pip").exists()
    for module in ("pip", "setuptools", "wheel"):
        probe = subprocess.run([str(venv / "bin/python"), "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, f"{module} is in the venv"


def _image_env(
    instructions: list[Instruction], venv: Path, state: Path, tmp: Path, home: Path, port: int
) -> dict[str, str]:
    """The final stage's ENV with its paths moved under the test's directories, on loopback."""
    image_env = dict(pair.split("=", 1) for pair in shlex.split(one(stage(instructions, -1), "ENV").args))
    for d in (state, tmp, home):
        d.mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "VIRTUAL_ENV", "PYTHON"))},
        **image_env,
        "PATH": image_env["PATH"].replace("/opt/sluice/venv", str(venv)).replace("$PATH", os.environ["PATH"]),
        "SLUICE_STATE__SQLITE_PATH": str(state / "sluice.db"),
        "TMPDIR": str(tmp),
        "HOME": str(home),
        "SLUICE_SERVER__HOST": "127.0.0.1",
        "SLUICE_SERVER__PORT": str(port),
    }


def test_the_build_script_makes_the_venv_the_image_runs(
    instructions: list[Instruction], tmp_path: Path
) -> None:
    """The build stage's command, run as written (its venv path moved under tmp_path): the venv
    has no installer, and with the final stage's environment, entrypoint and command it serves the
    image's config (health, the healthcheck command, a 401 without a key) and the demo (a chat
    completion through the OpenAI SDK), writing only to the state and temporary directories."""
    ctx, venv = tmp_path / "src", tmp_path / "venv"
    _build(instructions, ctx, venv, {})
    final = stage(instructions, -1)
    state, tmp, home = tmp_path / "state", tmp_path / "tmp", tmp_path / "home"
    port = free_port()
    env = _image_env(instructions, venv, state, tmp, home, port)
    sluice = shutil.which("sluice", path=env["PATH"])
    assert sluice == str(venv / "bin/sluice")
    command = [sluice, *exec_form(one(final, "CMD").args)]
    command = [
        str(ctx / "deploy/image/config.yaml") if a == "/etc/sluice/config.yaml" else a for a in command
    ]
    shutil.copytree(REPO / "deploy/image", ctx / "deploy/image")  # the final stage's COPY
    healthcheck = exec_form(one(final, "HEALTHCHECK").args)
    healthcheck[0] = shutil.which(healthcheck[0], path=env["PATH"]) or healthcheck[0]
    assert healthcheck[0] == str(venv / "bin/python")
    before = _tree(venv), _tree(ctx)

    proc = serve(command, env, state, tmp_path / "image.log", port)
    try:
        assert subprocess.run(healthcheck, env=env, timeout=30).returncode == 0
        r401 = call(
            "POST",
            proc.base_url + "/v1/chat/completions",
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
        )
        assert r401.status == 401 and r401.json()["error"]["code"] == "missing_api_key"
    finally:
        assert proc.stop(45) == -signal.SIGTERM
    assert subprocess.run(healthcheck, env=env, timeout=30, capture_output=True).returncode != 0

    demo = [sluice, "serve", "--config", str(REPO / "examples/demo.yaml")]
    proc = serve(demo, env, state, tmp_path / "demo.log", port)
    try:
        client = openai.OpenAI(base_url=proc.base_url + "/v1", api_key="sk-sluice-demo", max_retries=0)
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], timeout=30
        )
        assert reply.choices[0].message.content == "Simulated reply to: Hello"
    finally:
        assert proc.stop(45) == -signal.SIGTERM

    assert (_tree(venv), _tree(ctx)) == before, "the gateway wrote into its venv or its build context"
    assert list(home.iterdir()) == []
    assert (state / "sluice.db").exists()


def test_the_semantic_build_argument_brings_the_local_embedder(
    instructions: list[Instruction], tmp_path: Path
) -> None:
    """``--build-arg SEMANTIC=1``: the same script adds the local embedding model, and the venv
    serves examples/semantic-cache.yaml, answering a paraphrase from the semantic cache."""
    venv = tmp_path / "venv"
    _build(instructions, tmp_path / "src", venv, {"SEMANTIC": "1"})
    port = free_port()
    env = _image_env(instructions, venv, tmp_path / "state", tmp_path / "tmp", tmp_path / "home", port)
    command = [str(venv / "bin/sluice"), "serve", "--config", str(REPO / "examples/semantic-cache.yaml")]
    proc = serve(command, env, tmp_path / "state", tmp_path / "semantic.log", port)
    try:

        def ask(question: str) -> str:
            r = call(
                "POST",
                proc.base_url + "/v1/chat/completions",
                {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]},
                {"authorization": "Bearer sk-sluice-demo"},
                timeout_s=60,
            )
            assert r.status == 200, r.body
            return r.headers["x-sluice-cache"]

        def stored() -> int:
            db = f"file:{tmp_path / 'state/sluice.db'}?mode=ro"
            with contextlib.closing(sqlite3.connect(db, uri=True)) as conn:
                return int(conn.execute("SELECT count(*) FROM cache_semantic").fetchone()[0])

        caches = [ask("How do I reset my password?")]
        eventually(lambda: stored() >= 1, 15, "the first answer in the semantic index")  # off the hot path
        caches.append(ask("How can I reset my password?"))
        assert caches == ["miss", "semantic"]
    finally:
        assert proc.stop(45) == -signal.SIGTERM


def test_the_build_script_refuses_a_bad_argument_or_an_existing_venv(tmp_path: Path) -> None:
    script = REPO / "scripts/build-runtime.sh"
    r = subprocess.run(
        ["bash", str(script), str(tmp_path / "venv")],
        env={**os.environ, "SEMANTIC": "yes"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "SEMANTIC must be 0 or 1" in r.stderr
    assert not (tmp_path / "venv").exists()
    r = subprocess.run(["bash", str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "makes a fresh venv" in r.stderr
