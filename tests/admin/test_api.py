"""The admin API end to end: a gateway on loopback with the embedded store; keys minted here
are used on the data plane at once, revoked and expired ones fail at once."""

from __future__ import annotations

import math
import time

import openai
import pytest

from tests.conftest import sim_config
from tests.fixtures.clock import wait_past
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-test-123"
ADMIN_H = {"authorization": f"Bearer {ADMIN}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def gw(gateway) -> Proc:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    return gateway(config)


def admin(gw: Proc, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    return call(method, gw.base_url + "/admin" + path, body, ADMIN_H if headers is None else headers)


def chat(gw: Proc, key: str, body: dict = CHAT):
    return call("POST", gw.base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {key}"})


def test_tenant_and_key_lifecycle(gw: Proc) -> None:
    r = admin(gw, "POST", "/tenants", {"id": "acme", "name": "Acme Corp"})
    assert r.status == 201 and r.json()["id"] == "acme" and r.json()["disabled"] is False
    r = admin(gw, "POST", "/tenants/acme/keys", {"name": "backend", "allowed_models": ["gpt-4o-mini"]})
    assert r.status == 201
    created = r.json()
    secret = created["key"]
    assert secret.startswith("sk-sl-") and created["prefix"] == secret[:12]
    assert "secret_sha256" not in created

    ok = chat(gw, secret)
    assert ok.status == 200 and ok.json()["choices"][0]["message"]["content"] == "Simulated reply to: hi"
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=secret, max_retries=0) as client:
        assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]  # only what the key may use
    denied = chat(gw, secret, {**CHAT, "model": "text-embedding-3-small"})
    assert denied.status == 404  # an embedding alias is not a chat model...
    denied = call(
        "POST",
        gw.base_url + "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "x"},
        {"authorization": f"Bearer {secret}"},
    )
    assert denied.status == 403 and denied.json()["error"]["code"] == "model_not_allowed"  # ...nor allowed

    listed = admin(gw, "GET", "/tenants/acme/keys").json()["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert all("key" not in k and "secret_sha256" not in k for k in listed)
    assert secret not in str(listed)

    r = admin(gw, "DELETE", f"/tenants/acme/keys/{created['id']}")
    assert r.status == 200 and r.json()["revoked_at"] is not None
    r = chat(gw, secret)
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_api_key"  # at once, despite the cache


def test_expired_key_fails(gw: Proc) -> None:
    admin(gw, "POST", "/tenants", {"id": "t1", "name": "T1"})
    expires_at = math.ceil(time.time()) + 2  # whole seconds: 2 to 3 s from now, never less
    soon = admin(gw, "POST", "/tenants/t1/keys", {"name": "short", "expires_at": expires_at}).json()
    assert chat(gw, soon["key"]).status == 200
    wait_past(expires_at)
    assert chat(gw, soon["key"]).status == 401
    past = admin(gw, "POST", "/tenants/t1/keys", {"name": "old", "expires_at": int(time.time()) - 5}).json()
    assert chat(gw, past["key"]).status == 401


def test_disabling_a_tenant_stops_its_keys_at_once(gw: Proc) -> None:
    admin(gw, "POST", "/tenants", {"id": "a", "name": "A"})
    key = admin(gw, "POST", "/tenants/a/keys", {"name": "k"}).json()["key"]
    assert chat(gw, key).status == 200
    assert admin(gw, "PATCH", "/tenants/a", {"disabled": True}).json()["disabled"] is True
    assert chat(gw, key).status == 401
    admin(gw, "PATCH", "/tenants/a", {"disabled": False})
    assert chat(gw, key).status == 200


def test_tenants_are_isolated(gw: Proc) -> None:
    admin(gw, "POST", "/tenants", {"id": "a", "name": "A"})
    admin(gw, "POST", "/tenants", {"id": "b", "name": "B"})
    key_a = admin(gw, "POST", "/tenants/a/keys", {"name": "ka"}).json()
    assert admin(gw, "GET", f"/tenants/b/keys/{key_a['id']}").status == 404
    assert admin(gw, "DELETE", f"/tenants/b/keys/{key_a['id']}").status == 404
    assert admin(gw, "GET", "/tenants/b/keys").json()["data"] == []
    assert chat(gw, key_a["key"]).status == 200  # B's attempts changed nothing


def test_admin_routes_reject_tenant_keys_and_strangers(gw: Proc) -> None:
    admin(gw, "POST", "/tenants", {"id": "a", "name": "A"})
    tenant_key = admin(gw, "POST", "/tenants/a/keys", {"name": "k"}).json()["key"]
    r = admin(gw, "GET", "/tenants", headers={"authorization": f"Bearer {tenant_key}"})
    assert r.status == 403 and r.json()["error"]["code"] == "admin_required"
    r = admin(gw, "GET", "/tenants/a/keys", headers={"authorization": f"Bearer {tenant_key}"})
    assert r.status == 403
    assert admin(gw, "GET", "/tenants", headers={}).status == 401
    assert admin(gw, "GET", "/tenants", headers={"authorization": "Bearer sk-nope"}).status == 401
    assert chat(gw, ADMIN).status == 401  # nor is an admin credential a data-plane key


def test_bad_admin_input_is_a_clear_error(gw: Proc) -> None:
    r = admin(gw, "POST", "/tenants", {"id": "bad id!", "name": "x"})
    assert r.status == 400 and r.json()["error"]["param"] == "id"
    r = admin(gw, "POST", "/tenants", {"name": "x", "colour": "red"})
    assert r.status == 400 and r.json()["error"]["param"] == "colour"
    admin(gw, "POST", "/tenants", {"id": "dup", "name": "x"})
    r = admin(gw, "POST", "/tenants", {"id": "dup", "name": "y"})
    assert r.status == 409 and r.json()["error"]["code"] == "conflict"
    r = admin(gw, "POST", "/tenants/ghost/keys", {"name": "k"})
    assert r.status == 404 and r.json()["error"]["code"] == "tenant_not_found"
    r = admin(gw, "POST", "/tenants/dup/keys", {"name": "k", "user_id": "usr_ghost"})
    assert r.status == 400 and r.json()["error"]["param"] == "user_id"


def test_users_and_openapi(gw: Proc) -> None:
    admin(gw, "POST", "/tenants", {"id": "a", "name": "A"})
    u = admin(gw, "POST", "/tenants/a/users", {"external_id": "alice@example.com"})
    assert u.status == 201
    assert admin(gw, "POST", "/tenants/a/users", {"external_id": "alice@example.com"}).status == 409
    key = admin(gw, "POST", "/tenants/a/keys", {"name": "alice", "user_id": u.json()["id"]}).json()
    assert key["user_id"] == u.json()["id"]
    spec = call("GET", gw.base_url + "/admin/openapi.json").json()
    assert "/tenants/{tenant_id}/keys" in spec["paths"]
    assert call("GET", gw.base_url + "/docs").status in (200, 307)


def test_keys_survive_a_restart(gateway, tmp_path) -> None:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["state"] = {"sqlite_path": str(tmp_path / "persist.db")}
    first = gateway(config)
    admin(first, "POST", "/tenants", {"id": "a", "name": "A"})
    secret = admin(first, "POST", "/tenants/a/keys", {"name": "k"}).json()["key"]
    first.stop()
    second = gateway(config)
    assert chat(second, secret).status == 200
