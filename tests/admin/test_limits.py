"""Limits through the admin API and the CLI: set, read and clear them on a tenant, a user and a
key; never across tenants; strict bodies; and the CLI writes the store a gateway reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import yaml

from sluice.policies import Budget, CachePolicy, GuardrailPolicy, Limits
from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, Proc

ADMIN = "sk-admin-test-123"
ADMIN_H = {"authorization": f"Bearer {ADMIN}"}
NO_LIMITS = {"rpm": None, "tpm": None, "max_concurrent": None, "max_tokens": None, "max_input_tokens": None}


def admin_config() -> dict:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    return config


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    return module_gateway(admin_config())


def admin(gw: Proc, method: str, path: str, body: dict | list | None = None, headers: dict | None = None):
    data = msgspec.json.encode(body) if body is not None else None
    return call(method, gw.base_url + "/admin" + path, data, ADMIN_H if headers is None else headers)


def tenant_with_user_and_key(gw: Proc, tenant_id: str) -> tuple[str, str, str]:
    """A new tenant, a user and a key of that user: (tenant_id, user_id, key_id)."""
    assert admin(gw, "POST", "/tenants", {"id": tenant_id, "name": tenant_id}).status == 201
    user_id = admin(gw, "POST", f"/tenants/{tenant_id}/users", {"external_id": "alice"}).json()["id"]
    key_id = admin(gw, "POST", f"/tenants/{tenant_id}/keys", {"name": "k", "user_id": user_id}).json()["id"]
    return tenant_id, user_id, key_id


@pytest.mark.parametrize("scope", ["tenant", "user", "key"])
def test_set_get_and_clear_at_each_scope(gw: Proc, scope: str) -> None:
    tenant_id, user_id, key_id = tenant_with_user_and_key(gw, f"scope-{scope}")
    scope_id = {"tenant": tenant_id, "user": user_id, "key": key_id}[scope]
    path = {"tenant": "", "user": f"/users/{user_id}", "key": f"/keys/{key_id}"}[scope]
    path = f"/tenants/{tenant_id}{path}/limits"
    head = {"tenant_id": tenant_id, "scope": scope, "scope_id": scope_id}

    r = admin(gw, "GET", path)
    assert r.status == 404 and r.json()["error"]["code"] == "limits_not_found"
    full = {"rpm": 60, "tpm": 2**40, "max_concurrent": 4, "max_tokens": 1024, "max_input_tokens": 8000}
    r = admin(gw, "PUT", path, full)
    assert r.status == 200 and r.json() == {**head, **full}
    assert admin(gw, "GET", path).json() == {**head, **full}
    r = admin(gw, "PUT", path, {"max_tokens": 5, "rpm": None})  # replaces every field
    assert r.status == 200 and r.json() == {**head, **NO_LIMITS, "max_tokens": 5}
    assert admin(gw, "GET", path).json() == {**head, **NO_LIMITS, "max_tokens": 5}

    r = admin(gw, "DELETE", path)
    assert r.status == 200 and r.json() == {**head, **NO_LIMITS, "max_tokens": 5}  # what was removed
    assert admin(gw, "GET", path).status == 404
    r = admin(gw, "DELETE", path)
    assert r.status == 404 and r.json()["error"]["code"] == "limits_not_found"


def test_an_empty_body_sets_no_limits(gw: Proc) -> None:
    """A tenant row with no limit is kept: it overrides the config's defaults."""
    tenant_id, _, _ = tenant_with_user_and_key(gw, "empty")
    r = admin(gw, "PUT", f"/tenants/{tenant_id}/limits", {})
    assert r.status == 200 and r.json() == {
        "tenant_id": tenant_id,
        "scope": "tenant",
        "scope_id": tenant_id,
        **NO_LIMITS,
    }
    assert admin(gw, "GET", f"/tenants/{tenant_id}/limits").status == 200


def test_tenants_are_isolated(gw: Proc) -> None:
    a, user_a, key_a = tenant_with_user_and_key(gw, "iso-a")
    b, _, _ = tenant_with_user_and_key(gw, "iso-b")
    for path in (
        f"/tenants/{a}/limits",
        f"/tenants/{a}/users/{user_a}/limits",
        f"/tenants/{a}/keys/{key_a}/limits",
    ):
        assert admin(gw, "PUT", path, {"rpm": 10}).status == 200

    for method, body in (("PUT", {"rpm": 99}), ("GET", None), ("DELETE", None)):
        r = admin(gw, method, f"/tenants/{b}/users/{user_a}/limits", body)
        assert r.status == 404 and r.json()["error"]["code"] == "user_not_found"
        r = admin(gw, method, f"/tenants/{b}/keys/{key_a}/limits", body)
        assert r.status == 404 and r.json()["error"]["code"] == "key_not_found"
    assert admin(gw, "GET", f"/tenants/{b}/limits").status == 404  # a's tenant limits are not b's

    for path in (
        f"/tenants/{a}/limits",
        f"/tenants/{a}/users/{user_a}/limits",
        f"/tenants/{a}/keys/{key_a}/limits",
    ):
        assert admin(gw, "GET", path).json()["rpm"] == 10  # b's attempts changed nothing


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_unknown_tenant_user_or_key_is_a_404(gw: Proc, method: str) -> None:
    tenant_id, _, _ = tenant_with_user_and_key(gw, f"known-{method.lower()}")
    body = {"rpm": 1} if method == "PUT" else None
    cases = [
        ("/tenants/ghost/limits", "tenant_not_found", "tenant_id"),
        ("/tenants/ghost/users/usr_x/limits", "tenant_not_found", "tenant_id"),
        ("/tenants/ghost/keys/key_x/limits", "tenant_not_found", "tenant_id"),
        (f"/tenants/{tenant_id}/users/usr_ghost/limits", "user_not_found", "user_id"),
        (f"/tenants/{tenant_id}/keys/key_ghost/limits", "key_not_found", "key_id"),
    ]
    for path, code, param in cases:
        r = admin(gw, method, path, body)
        assert r.status == 404, path
        assert (r.json()["error"]["code"], r.json()["error"]["param"]) == (code, param)


BAD_BODIES: list[tuple[dict | list, str | None]] = [
    ({"rpm": 10, "colour": "red"}, "colour"),
    ({"rpm": 0}, "rpm"),
    ({"tpm": -5}, "tpm"),
    ({"max_concurrent": "10"}, "max_concurrent"),  # strict: never coerced
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_tokens": 100.0}, "max_tokens"),
    ({"max_input_tokens": True}, "max_input_tokens"),
    ({"rpm": 2**63}, "rpm"),  # past a 64-bit column
    ([{"rpm": 1}], None),
]


@pytest.mark.parametrize(("n", "body", "param"), [(n, *case) for n, case in enumerate(BAD_BODIES)])
def test_bad_bodies_are_a_400_naming_the_field(
    gw: Proc, n: int, body: dict | list, param: str | None
) -> None:
    tenant_id, _, key_id = tenant_with_user_and_key(gw, f"bad-{n}")
    r = admin(gw, "PUT", f"/tenants/{tenant_id}/keys/{key_id}/limits", body)
    assert r.status == 400
    assert r.json()["error"]["type"] == "invalid_request_error" and r.json()["error"]["param"] == param
    assert admin(gw, "GET", f"/tenants/{tenant_id}/keys/{key_id}/limits").status == 404  # nothing stored


def test_limits_need_an_admin_credential(gw: Proc) -> None:
    tenant_id, _, _ = tenant_with_user_and_key(gw, "authz")
    tenant_key = admin(gw, "POST", f"/tenants/{tenant_id}/keys", {"name": "k"}).json()["key"]
    r = admin(
        gw,
        "PUT",
        f"/tenants/{tenant_id}/limits",
        {"rpm": 1},
        headers={"authorization": f"Bearer {tenant_key}"},
    )
    assert r.status == 403 and r.json()["error"]["code"] == "admin_required"
    assert admin(gw, "GET", f"/tenants/{tenant_id}/limits", headers={}).status == 401
    assert admin(gw, "GET", f"/tenants/{tenant_id}/limits").status == 404  # nothing was set


def test_openapi_lists_the_limit_routes(gw: Proc) -> None:
    paths = call("GET", gw.base_url + "/admin/openapi.json").json()["paths"]
    for path in (
        "/tenants/{tenant_id}/limits",
        "/tenants/{tenant_id}/users/{user_id}/limits",
        "/tenants/{tenant_id}/keys/{key_id}/limits",
    ):
        assert set(paths[path]) == {"put", "get", "delete"}


def test_openapi_bodies_are_the_policies_own_fields(gw: Proc) -> None:
    spec = call("GET", gw.base_url + "/admin/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, policy in [
        ("limits", Limits),
        ("budgets", Budget),
        ("guardrails", GuardrailPolicy),
        ("cache", CachePolicy),
    ]:
        body = spec["paths"][f"/tenants/{{tenant_id}}/{path}"]["put"]["requestBody"]["content"][
            "application/json"
        ]
        schema = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
        assert list(schema["properties"]) == list(policy.__struct_fields__), path
        assert (
            all(p.get("description") for p in schema["properties"].values())
            and schema["additionalProperties"] is False
        )
    rpm = schemas["Limits"]["properties"]["rpm"]["anyOf"][0]
    assert (rpm["type"], rpm["minimum"], float(rpm["maximum"])) == ("integer", 1, float(2**63 - 1))
    assert list(schemas["LimitsOut"]["properties"])[: len(Limits.__struct_fields__)] == list(
        Limits.__struct_fields__
    )


# --- the CLI ---------------------------------------------------------------------------------


def sluice(config: Path, *args: str) -> tuple[int, object, str]:
    r = subprocess.run(
        [sys.executable, "-m", "sluice", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    return r.returncode, msgspec.json.decode(r.stdout) if r.returncode == 0 else None, r.stderr


def test_cli_sets_gets_and_clears_limits_in_the_gateways_store(gateway, tmp_path: Path) -> None:
    config = admin_config()
    config["state"] = {"sqlite_path": str(tmp_path / "cli.db")}
    path = tmp_path / "sluice.yaml"
    path.write_text(yaml.safe_dump(config))
    assert sluice(path, "tenants", "create", "Acme", "--id", "acme")[0] == 0
    _, user, _ = sluice(path, "tenants", "add-user", "acme", "alice")
    _, key, _ = sluice(path, "keys", "create", "acme", "backend")

    rc, out, _ = sluice(path, "limits", "set", "acme", "--rpm", "60", "--tpm", "100000")
    assert rc == 0 and out == {
        "tenant_id": "acme",
        "scope": "tenant",
        "scope_id": "acme",
        **NO_LIMITS,
        "rpm": 60,
        "tpm": 100000,
    }
    rc, out, _ = sluice(path, "limits", "set", "acme", "--user", user["id"], "--max-concurrent", "2")
    assert rc == 0 and out["scope"] == "user" and out["scope_id"] == user["id"] and out["max_concurrent"] == 2
    rc, out, _ = sluice(
        path, "limits", "set", "acme", "--key", key["id"], "--max-tokens", "256", "--max-input-tokens", "4000"
    )
    assert rc == 0 and (out["max_tokens"], out["max_input_tokens"], out["rpm"]) == (256, 4000, None)
    rc, out, _ = sluice(path, "limits", "get", "acme", "--key", key["id"])
    assert rc == 0 and out["max_tokens"] == 256
    rc, out, _ = sluice(path, "limits", "clear", "acme", "--user", user["id"])
    assert rc == 0 and out["max_concurrent"] == 2

    rc, _, err = sluice(path, "limits", "get", "acme", "--user", user["id"])
    assert rc == 1 and "(404 limits_not_found)" in err
    rc, _, err = sluice(path, "limits", "set", "acme", "--user", user["id"], "--key", key["id"], "--rpm", "1")
    assert rc == 1 and "(400 ambiguous_scope)" in err
    rc, _, err = sluice(path, "limits", "set", "ghost", "--rpm", "1")
    assert rc == 1 and "No tenant `ghost`. (404 tenant_not_found)" in err
    rc, _, err = sluice(path, "limits", "set", "acme", "--rpm", "0")
    assert rc == 2 and "--rpm" in err

    gw = gateway(config)
    assert admin(gw, "GET", "/tenants/acme/limits").json()["rpm"] == 60
    assert admin(gw, "GET", f"/tenants/acme/keys/{key['id']}/limits").json()["max_input_tokens"] == 4000
    assert admin(gw, "GET", f"/tenants/acme/users/{user['id']}/limits").status == 404
