"""Stored responses: per tenant (never visible to another, on PostgreSQL across replicas), and
encrypted at rest with rotating Fernet keys (``responses.encryption_keys``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import openai
import pytest
from cryptography.fernet import Fernet

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-responses"
SECRET_TEXT = "the vault code is 7391"


def sdk(gw: Proc, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=10)


def _tenant_key(gw: Proc, tenant: str) -> str:
    h = {"authorization": f"Bearer {ADMIN}"}
    if call("GET", f"{gw.base_url}/admin/tenants/{tenant}", headers=h).status == 404:
        assert call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, h).status == 201
    reply = call("POST", f"{gw.base_url}/admin/tenants/{tenant}/keys", {"name": "k"}, h)
    assert reply.status == 201, reply.body
    return str(reply.json()["key"])


def _stored_payloads(dsn: str) -> list[tuple[str, bytes, bool]]:
    async def read() -> list[tuple[str, bytes, bool]]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT owner, payload, sealed FROM responses")
        finally:
            await conn.close()
        return [(r["owner"], bytes(r["payload"]), r["sealed"]) for r in rows]

    return asyncio.run(read())


def test_tenants_are_isolated_on_postgres(gateway, postgres_clean: str, redis_clean: str) -> None:
    config = sim_config()
    config["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["responses"] = {"encryption_keys": [Fernet.generate_key().decode()]}
    a, b = gateway(config), gateway(config)
    acme, acme_other, globex = _tenant_key(a, "acme"), _tenant_key(a, "acme"), _tenant_key(a, "globex")

    with sdk(a, acme) as c:
        first = c.responses.create(model="gpt-4o-mini", input=SECRET_TEXT)
    # Another key of the same tenant, on the other replica, sees it and continues it.
    with sdk(b, acme_other) as c:
        assert c.responses.retrieve(first.id).output_text == first.output_text
        follow = c.responses.create(model="gpt-4o-mini", input="and then?", previous_response_id=first.id)
        assert len(c.responses.input_items.list(follow.id).data) == 3

    missing = "resp_" + "0" * 48
    for gw, key in ((a, globex), (b, globex), (a, DEMO_KEY)):
        h = {"authorization": f"Bearer {key}"}
        for method, path in (
            ("GET", "/v1/responses/{}"),
            ("GET", "/v1/responses/{}/input_items"),
            ("DELETE", "/v1/responses/{}"),
        ):
            theirs = call(method, gw.base_url + path.format(first.id), headers=h)
            nobody = call(method, gw.base_url + path.format(missing), headers=h)
            assert theirs.status == nobody.status == 404, (key, method, path)
            error, none_error = theirs.json()["error"], nobody.json()["error"]
            assert error["message"].replace(first.id, "X") == none_error["message"].replace(missing, "X")
            assert error["code"] == none_error["code"] == "response_not_found"
        with sdk(gw, key) as c, pytest.raises(openai.NotFoundError) as e:
            c.responses.create(model="gpt-4o-mini", input="x", previous_response_id=first.id)
        assert e.value.body["param"] == "previous_response_id"

    # Still there for its owner after the others' deletes; gone after its own.
    with sdk(a, acme) as c:
        assert c.responses.retrieve(first.id).id == first.id
        c.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            c.responses.retrieve(first.id)

    rows = _stored_payloads(postgres_clean)
    assert rows and {owner for owner, _, _ in rows} == {"tenant:acme"}
    for _, payload, sealed in rows:
        assert sealed and b"vault" not in payload and b"Simulated" not in payload


def _db_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_sqlite_encrypted_at_rest_and_keys_rotate(gateway, tmp_path: Path) -> None:
    db = tmp_path / "rotate.db"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    config: dict[str, Any] = {**sim_config(), "state": {"sqlite_path": str(db)}}

    gw = gateway({**config, "responses": {"encryption_keys": [old]}})
    with sdk(gw, DEMO_KEY) as c:
        first = c.responses.create(model="gpt-4o-mini", input=SECRET_TEXT)
    gw.stop()
    assert b"vault code" not in _db_bytes(db)

    gw = gateway({**config, "responses": {"encryption_keys": [new, old]}})  # rotated: new first
    with sdk(gw, DEMO_KEY) as c:
        assert c.responses.retrieve(first.id).output_text == first.output_text
        second = c.responses.create(model="gpt-4o-mini", input="again", previous_response_id=first.id)
    gw.stop()
    assert b"vault code" not in _db_bytes(db)

    gw = gateway({**config, "responses": {"encryption_keys": [new]}})  # the old key retired
    with sdk(gw, DEMO_KEY) as c:
        assert c.responses.retrieve(second.id).output_text == second.output_text
        with pytest.raises(openai.InternalServerError) as e:
            c.responses.retrieve(first.id)  # sealed with a key no longer configured
    assert "no longer configured" in e.value.body["message"]
    assert "cannot be decrypted" in gw.log()


def test_without_keys_stored_in_the_clear_with_a_warning(gateway, tmp_path: Path) -> None:
    db = tmp_path / "clear.db"
    gw = gateway({**sim_config(), "state": {"sqlite_path": str(db)}})
    with sdk(gw, DEMO_KEY) as c:
        r = c.responses.create(model="gpt-4o-mini", input=SECRET_TEXT)
        assert c.responses.retrieve(r.id).output_text == r.output_text
    assert "responses.encryption_keys is empty" in gw.log()
    gw.stop()
    assert b"vault code" in _db_bytes(db)
