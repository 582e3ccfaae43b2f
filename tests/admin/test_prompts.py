"""The prompt registry through the admin API (a gateway on loopback) and the CLI: versions,
labels, history and diffs; every bad input a 400 or 404 in the admin API's error JSON; tenants
never see each other's prompts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, Proc

ADMIN = "sk-admin-test-123"
ADMIN_H = {"authorization": f"Bearer {ADMIN}"}
SUPPORT = {
    "messages": [
        {"role": "system", "content": "You answer for {company}. Use {{braces}} sparingly."},
        {"role": "user", "content": "{question}"},
    ],
    "variables": ["company", "question"],
    "model": "gpt-4o-mini",
    "params": {"temperature": 0.2, "response_format": {"type": "json_object"}},
    "note": "first cut",
}


def admin_config() -> dict[str, Any]:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    return config


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    return module_gateway(admin_config())


def admin(gw: Proc, method: str, path: str, body: Any = None, headers: dict | None = None):
    data = msgspec.json.encode(body) if body is not None else None
    return call(method, gw.base_url + "/admin" + path, data, ADMIN_H if headers is None else headers)


def new_tenant(gw: Proc, tenant_id: str) -> str:
    assert admin(gw, "POST", "/tenants", {"id": tenant_id, "name": tenant_id}).status == 201
    return tenant_id


def test_versions_labels_history_and_diff(gw: Proc) -> None:
    t = new_tenant(gw, "p-life")
    base = f"/tenants/{t}/prompts/support"
    r = admin(gw, "POST", base + "/versions", SUPPORT)
    assert r.status == 201
    v1 = r.json()
    assert {k: v1[k] for k in ("tenant_id", "name", "version", "author", "model", "note")} == {
        "tenant_id": t,
        "name": "support",
        "version": 1,
        "author": "ops",
        "model": "gpt-4o-mini",
        "note": "first cut",
    }
    assert v1["messages"] == SUPPORT["messages"] and v1["params"] == SUPPORT["params"]
    v2_body = {**SUPPORT, "model": None, "params": {"max_tokens": 50}, "note": "shorter"}
    v2_body["messages"] = [SUPPORT["messages"][0], {"role": "user", "content": "Briefly: {question}"}]
    v2 = admin(gw, "POST", base + "/versions", v2_body).json()
    assert v2["version"] == 2 and v2["model"] is None and v2["params"] == {"max_tokens": 50}
    assert [v["version"] for v in admin(gw, "GET", base + "/versions").json()["data"]] == [1, 2]
    assert admin(gw, "GET", base + "/versions/2").json() == v2
    assert admin(gw, "GET", f"/tenants/{t}/prompts").json() == {"object": "list", "data": ["support"]}

    d = admin(gw, "GET", base + "/diff?from=1&to=2").json()
    assert d["from_version"] == 1 and d["to_version"] == 2
    assert d["diff"].startswith("--- support@1\n+++ support@2\n")
    assert '-model: "gpt-4o-mini"\n+model: null\n' in d["diff"] and "+  Briefly: {question}\n" in d["diff"]
    assert admin(gw, "GET", base + "/diff?from=2&to=2").json()["diff"] == ""

    r = admin(gw, "PUT", base + "/labels/production", {"version": 1, "reason": "launch"})
    assert r.status == 200 and r.json()["version"] == 1 and r.json()["label"] == "production"
    admin(gw, "PUT", base + "/labels/staging", {"version": 2})
    moved = admin(gw, "PUT", base + "/labels/production", {"version": 2, "reason": "shorter wins"}).json()
    labels = admin(gw, "GET", base + "/labels").json()["data"]
    assert [(x["label"], x["version"]) for x in labels] == [("production", 2), ("staging", 2)]
    assert labels[0] == moved
    gone = admin(gw, "DELETE", base + "/labels/staging?reason=unused")
    assert gone.status == 200 and gone.json()["version"] == 2
    history = admin(gw, "GET", base + "/history").json()["data"]
    assert [(e["label"], e["from_version"], e["to_version"], e["actor"], e["reason"]) for e in history] == [
        ("production", None, 1, "ops", "launch"),
        ("staging", None, 2, "ops", ""),
        ("production", 1, 2, "ops", "shorter wins"),
        ("staging", 2, None, "ops", "unused"),
    ]


def test_prompts_are_tenant_scoped(gw: Proc) -> None:
    a, b = new_tenant(gw, "p-iso-a"), new_tenant(gw, "p-iso-b")
    admin(gw, "POST", f"/tenants/{a}/prompts/secret/versions", SUPPORT)
    admin(gw, "PUT", f"/tenants/{a}/prompts/secret/labels/production", {"version": 1})
    for path in ("/versions", "/versions/1", "/labels", "/history", "/diff?from=1&to=1"):
        r = admin(gw, "GET", f"/tenants/{b}/prompts/secret{path}")
        assert r.status == 404, path
        assert "You answer" not in r.body.decode()
    r = admin(gw, "PUT", f"/tenants/{b}/prompts/secret/labels/production", {"version": 1})
    assert r.status == 404 and r.json()["error"]["code"] == "prompt_version_not_found"
    assert admin(gw, "GET", f"/tenants/{b}/prompts").json()["data"] == []
    assert admin(gw, "POST", f"/tenants/{b}/prompts/secret/versions", SUPPORT).json()["version"] == 1
    assert len(admin(gw, "GET", f"/tenants/{a}/prompts/secret/history").json()["data"]) == 1


def _with(**changes: Any) -> dict[str, Any]:
    return {**SUPPORT, **changes}


BAD_VERSIONS = [
    (
        _with(messages=[{"role": "user", "content": "{question"}], variables=["question"]),
        "messages[0].content",
    ),
    (_with(messages=[{"role": "user", "content": "{q!r}"}], variables=["q"]), "messages[0].content"),
    (_with(messages=[{"role": "user", "content": "{ q }"}], variables=["q"]), "messages[0].content"),
    (_with(variables=["company"]), "variables"),
    (_with(variables=["company", "question", "extra"]), "variables"),
    (_with(variables=["company", "question", "company"]), "variables"),
    (_with(variables=["company", "not-an-id"]), "variables.1"),
    (_with(messages=[{"role": "tool", "content": "x"}]), "messages.0.role"),
    (_with(messages=[]), "messages"),
    (_with(messages=[{"role": "user"}]), "messages.0.content"),
    (_with(messages=[{"role": "user", "content": ["parts"]}]), "messages.0.content"),
    (_with(params={"n": 2}), "params.n"),
    (_with(params={"temperature": "hot"}), "params.temperature"),
    (_with(params={"temperature": 9}), "params.temperature"),
    (
        _with(params={"tools": [{"type": "function", "function": {"name": 3}}]}),
        "params.tools[0].function.name",
    ),
    (_with(params={"response_format": {"type": "yaml"}}), "params.response_format.type"),
    (_with(params=[]), "params"),
    (_with(model="no-such-alias"), "model"),
    (_with(model="text-embedding-3-small"), "model"),  # an embedding alias is no chat model
    (_with(model=""), "model"),
    (_with(note=7), "note"),
    (_with(extra=1), "extra"),
]


@pytest.mark.parametrize(("body", "param"), BAD_VERSIONS)
def test_a_bad_version_is_a_400_naming_the_param(gw: Proc, body: dict[str, Any], param: str) -> None:
    t = "p-bad"
    if admin(gw, "GET", f"/tenants/{t}").status == 404:
        new_tenant(gw, t)
    r = admin(gw, "POST", f"/tenants/{t}/prompts/support/versions", body)
    assert r.status == 400, r.body
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert admin(gw, "GET", f"/tenants/{t}/prompts/support/versions").status == 404  # nothing stored


def test_bad_paths_and_missing_things_are_400s_and_404s(gw: Proc) -> None:
    t = new_tenant(gw, "p-miss")
    base = f"/tenants/{t}/prompts/support"
    admin(gw, "POST", base + "/versions", SUPPORT)
    cases: list[tuple[str, str, Any, int, str | None, str | None]] = [
        ("POST", "/tenants/ghost/prompts/support/versions", SUPPORT, 404, "tenant_id", "tenant_not_found"),
        ("GET", "/tenants/ghost/prompts", None, 404, "tenant_id", "tenant_not_found"),
        ("POST", f"/tenants/{t}/prompts/bad%20name/versions", SUPPORT, 400, "name", None),
        ("POST", f"/tenants/{t}/prompts/{'x' * 65}/versions", SUPPORT, 400, "name", None),
        ("GET", f"/tenants/{t}/prompts/other/versions", None, 404, "name", "prompt_not_found"),
        ("GET", base + "/versions/2", None, 404, "version", "prompt_version_not_found"),
        ("GET", base + "/versions/0", None, 400, "version", None),
        ("GET", base + "/versions/one", None, 400, "version", None),
        ("GET", base + "/versions/99999999999999999999", None, 400, "version", None),
        ("GET", base + "/diff?from=1&to=3", None, 404, "version", "prompt_version_not_found"),
        ("GET", base + "/diff?from=1", None, 400, "to", None),
        ("GET", base + "/diff?from=x&to=1", None, 400, "from", None),
        ("PUT", base + "/labels/production", {"version": 2}, 404, "version", "prompt_version_not_found"),
        ("PUT", base + "/labels/production", {"version": "1"}, 400, "version", None),
        ("PUT", base + "/labels/production", {"version": 0}, 400, "version", None),
        ("PUT", base + "/labels/production", {"reason": "x"}, 400, "version", None),
        ("PUT", base + "/labels/a%20b", {"version": 1}, 400, "label", None),
        ("PUT", base + "/labels/a%2Fb", {"version": 1}, 404, None, "unknown_url"),
        ("PUT", base + "/labels/production", {"version": 1, "reason": 5}, 400, "reason", None),
        ("DELETE", base + "/labels/production", None, 404, "label", "prompt_label_not_found"),
        ("GET", f"/tenants/{t}/prompts/other/history", None, 404, "name", "prompt_not_found"),
        ("GET", f"/tenants/{t}/prompts/other/labels", None, 404, "name", "prompt_not_found"),
    ]
    for method, path, body, status, param, code in cases:
        r = admin(gw, method, path, body)
        assert r.status == status, (method, path, r.body)
        error = r.json()["error"]
        assert error["param"] == param, (path, error)
        if code is not None:
            assert error["code"] == code, (path, error)
    assert admin(gw, "GET", base + "/history").json()["data"] == []  # nothing moved
    r = call(
        "POST", gw.base_url + "/admin" + base + "/versions", SUPPORT, {"authorization": f"Bearer {DEMO_KEY}"}
    )
    assert r.status == 403 and r.json()["error"]["code"] == "admin_required"
    assert call("GET", gw.base_url + "/admin" + base + "/versions").status == 401


def test_the_routes_are_in_the_openapi_document(gw: Proc) -> None:
    paths = admin(gw, "GET", "/openapi.json").json()["paths"]
    base = "/tenants/{tenant_id}/prompts/{name}"
    for path in ("/versions", "/versions/{version}", "/diff", "/labels", "/labels/{label}", "/history"):
        assert base + path in paths
    body = paths[base + "/versions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/VersionIn"}


def sluice(config: Path, *args: str, stdin: str | None = None) -> tuple[int, Any, str]:
    r = subprocess.run(
        [sys.executable, "-m", "sluice", "prompts", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        input=stdin,
    )
    return r.returncode, msgspec.json.decode(r.stdout) if r.returncode == 0 else None, r.stderr


def test_cli(tmp_path: Path) -> None:
    config = admin_config()
    config["state"] = {"sqlite_path": str(tmp_path / "cli.db")}
    path = tmp_path / "sluice.yaml"
    path.write_text(yaml.safe_dump(config))
    tenants = [
        sys.executable,
        "-m",
        "sluice",
        "tenants",
        "create",
        "Acme",
        "--id",
        "acme",
        "--config",
        str(path),
    ]
    assert subprocess.run(tenants, capture_output=True, timeout=60, cwd=REPO).returncode == 0
    version_file = tmp_path / "v.json"
    version_file.write_text(msgspec.json.encode(SUPPORT).decode())

    rc, v1, _ = sluice(path, "create", "acme", "support", str(version_file), "--author", "alice")
    assert rc == 0 and v1["version"] == 1 and v1["author"] == "alice"
    rc, v2, _ = sluice(
        path, "create", "acme", "support", "-", stdin=msgspec.json.encode(_with(note="2")).decode()
    )
    assert rc == 0 and v2["version"] == 2
    rc, labelled, _ = sluice(path, "label", "acme", "support", "production", "2", "--reason", "go")
    assert rc == 0 and labelled["version"] == 2
    rc, history, _ = sluice(path, "history", "acme", "support")
    assert rc == 0 and history == [
        {
            "label": "production",
            "from_version": None,
            "to_version": 2,
            "actor": "cli",
            "reason": "go",
            "at": history[0]["at"],
        }
    ]
    rc, d, _ = sluice(path, "diff", "acme", "support", "1", "2")
    assert rc == 0 and '-note: "first cut"\n+note: "2"\n' in d["diff"]
    rc, _, err = sluice(
        path, "create", "acme", "support", "-", stdin=msgspec.json.encode(_with(variables=[])).decode()
    )
    assert rc == 1 and "(400 None)" in err and "variables" in err
    rc, _, err = sluice(path, "unlabel", "acme", "support", "staging")
    assert rc == 1 and "(404 prompt_label_not_found)" in err
