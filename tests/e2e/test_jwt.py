"""A JWT as the api_key of the real `openai` SDK, against a gateway on loopback with `auth.jwt`."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import openai
import pytest

from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-jwt"
SECRET = "e2e-shared-secret-0123456789abcdef"
ISS = "https://idp.test/"
CHAT: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def token(**changes: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "alice",
        "tenant": "acme",
        "aud": "sluice",
        "iss": ISS,
        "iat": now,
        "exp": now + 300,
        **changes,
    }
    return jwt.encode(claims, SECRET, "HS256")


def admin(gw: Proc, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    r = call(method, gw.base_url + "/admin" + path, body, {"authorization": f"Bearer {ADMIN}"})
    assert r.status < 300, r.body
    return r.json()


@pytest.fixture
def gw(gateway) -> Proc:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["auth"]["jwt"] = {"algorithms": ["HS256"], "secret": SECRET, "audience": "sluice", "issuer": ISS}
    proc = gateway(config)
    admin(proc, "POST", "/tenants", {"id": "acme", "name": "Acme"})
    return proc


def sdk(gw: Proc, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=api_key, max_retries=0, timeout=10)


def test_a_valid_jwt_is_accepted_and_its_user_created(gw: Proc) -> None:
    with sdk(gw, token()) as client:
        r = client.chat.completions.create(**CHAT)
    assert r.choices[0].message.content == "Simulated reply to: hi"
    assert [u["external_id"] for u in admin(gw, "GET", "/tenants/acme/users")["data"]] == ["alice"]


def test_an_expired_jwt_is_a_401_in_openai_error_json(gw: Proc) -> None:
    expired = token(exp=int(time.time()) - 120)
    with sdk(gw, expired) as client, pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(**CHAT)
    assert info.value.status_code == 401
    r = call("POST", gw.base_url + "/v1/chat/completions", CHAT, {"authorization": f"Bearer {expired}"})
    assert (r.status, r.json()) == (
        401,
        {
            "error": {
                "message": "The token has expired.",
                "type": "invalid_request_error",
                "param": None,
                "code": "token_expired",
            }
        },
    )


def test_disabling_the_tenant_stops_its_jwts_at_once(gw: Proc) -> None:
    auth = {"authorization": f"Bearer {token()}"}
    assert call("POST", gw.base_url + "/v1/chat/completions", CHAT, auth).status == 200
    admin(gw, "PATCH", "/tenants/acme", {"disabled": True})
    r = call("POST", gw.base_url + "/v1/chat/completions", CHAT, auth)
    assert (r.status, r.json()["error"]["code"]) == (401, "tenant_disabled")


BURST = 20


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_burst_of_new_users_of_a_fresh_tenant_all_pass_and_are_created_once(
    gateway, backend: str, request: pytest.FixtureRequest
) -> None:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["auth"]["jwt"] = {"algorithms": ["HS256"], "secret": SECRET, "audience": "sluice", "issuer": ISS}
    if backend == "postgres":
        dsn, redis_url = request.getfixturevalue("postgres_clean"), request.getfixturevalue("redis_clean")
        config["state"] = {"backend": "distributed", "postgres_dsn": dsn, "redis_url": redis_url}
    gw = gateway(config)
    for round_ in range(4):
        tenant = f"fresh{round_}"
        admin(gw, "POST", "/tenants", {"id": tenant, "name": tenant})
        # Each user twice at once: two first sights of one user race as well as distinct users.
        subs = [f"user{i % (BURST // 2)}" for i in range(BURST)]

        def first(sub: str, tenant: str = tenant) -> tuple[int, bytes]:
            auth = {"authorization": f"Bearer {token(sub=sub, tenant=tenant)}"}
            r = call("POST", gw.base_url + "/v1/chat/completions", CHAT, auth)
            return r.status, r.body

        with ThreadPoolExecutor(BURST) as pool:
            replies = list(pool.map(first, subs))
        assert [s for s, _ in replies] == [200] * BURST, [b for s, b in replies if s != 200][:2]
        users = admin(gw, "GET", f"/tenants/{tenant}/users")["data"]
        assert sorted(u["external_id"] for u in users) == sorted(set(subs))
