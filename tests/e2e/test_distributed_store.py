"""Two gateway processes on one PostgreSQL: tenants and keys made through one replica are
honoured by the other, and a revocation on one applies on the other (key cache off here)."""

from __future__ import annotations

from tests.conftest import sim_config
from tests.fixtures.http import call

ADMIN = "sk-admin-dist"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_replicas_share_tenants_and_keys(gateway, postgres_clean: str, redis_clean: str) -> None:
    config = sim_config()
    config["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["auth"]["key_cache_s"] = 0
    a, b = gateway(config), gateway(config)  # both migrate at startup; the advisory lock serialises them
    h = {"authorization": f"Bearer {ADMIN}"}

    assert call("POST", a.base_url + "/admin/tenants", {"id": "acme", "name": "Acme"}, h).status == 201
    key = call("POST", a.base_url + "/admin/tenants/acme/keys", {"name": "k"}, h).json()
    assert [t["id"] for t in call("GET", b.base_url + "/admin/tenants", headers=h).json()["data"]] == ["acme"]

    auth = {"authorization": f"Bearer {key['key']}"}
    assert call("POST", b.base_url + "/v1/chat/completions", CHAT, auth).status == 200
    assert call("DELETE", a.base_url + f"/admin/tenants/acme/keys/{key['id']}", headers=h).status == 200
    assert call("POST", b.base_url + "/v1/chat/completions", CHAT, auth).status == 401
    # The demo key of the config file works on both, whatever the store holds.
    demo = {"authorization": "Bearer sk-sluice-demo"}
    assert call("POST", a.base_url + "/v1/chat/completions", CHAT, demo).status == 200
