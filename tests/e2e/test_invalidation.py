"""Two replicas on one PostgreSQL and Redis, each caching key lookups for a minute: a key revoked
or a tenant disabled through one replica's admin API, or through the CLI, is refused at once by
the other, which cached it while subscribed to the change channel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
import yaml

from sluice.auth.redis import CHANNEL
from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

ADMIN = {"authorization": "Bearer sk-admin-inval"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
DEADLINE_S = 2.0


def replicas(gateway, postgres_dsn: str, redis_url: str) -> tuple[Proc, Proc, dict[str, Any]]:
    """Two subscribed replicas; a key cached while subscribed is kept for ``key_cache_s``, not the fallback's 1 s."""
    config = sim_config()
    config["state"] = {"backend": "distributed", "postgres_dsn": postgres_dsn, "redis_url": redis_url}
    config["admin"] = {"keys": [{"key": "sk-admin-inval", "name": "ops"}]}
    config["auth"]["key_cache_s"] = 60
    a, b = gateway(config), gateway(config)
    with redis.Redis.from_url(redis_url, socket_timeout=5) as client:
        eventually(
            lambda: dict(client.pubsub_numsub(CHANNEL))[CHANNEL.encode()] >= 2, 5, "both replicas subscribed"
        )
    return a, b, config


def new_key(a: Proc, tenant_id: str = "acme") -> tuple[dict[str, str], str]:
    assert (
        call("POST", a.base_url + "/admin/tenants", {"id": tenant_id, "name": tenant_id}, ADMIN).status == 201
    )
    key = call("POST", a.base_url + f"/admin/tenants/{tenant_id}/keys", {"name": "k"}, ADMIN).json()
    return {"authorization": f"Bearer {key['key']}"}, key["id"]


def refused_within_deadline(b: Proc, auth: dict[str, str]) -> bool:
    def refused() -> bool:
        return call("POST", b.base_url + "/v1/chat/completions", CHAT, auth).status == 401

    return eventually(refused, DEADLINE_S, "the key refused")


def test_a_key_revoked_on_one_replica_is_refused_by_the_other_at_once(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    a, b, _ = replicas(gateway, postgres_clean, redis_clean)
    auth, key_id = new_key(a)
    assert call("POST", b.base_url + "/v1/chat/completions", CHAT, auth).status == 200  # now cached on B
    assert call("DELETE", a.base_url + f"/admin/tenants/acme/keys/{key_id}", headers=ADMIN).status == 200
    assert refused_within_deadline(b, auth)
    assert call("POST", a.base_url + "/v1/chat/completions", CHAT, auth).status == 401


def test_a_tenant_disabled_on_one_replica_is_refused_by_the_other_at_once(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    a, b, _ = replicas(gateway, postgres_clean, redis_clean)
    auth, _ = new_key(a)
    other, _ = new_key(a, "globex")
    for r in (b, a):
        assert call("POST", r.base_url + "/v1/chat/completions", CHAT, auth).status == 200
    assert call("PATCH", a.base_url + "/admin/tenants/acme", {"disabled": True}, ADMIN).status == 200
    assert refused_within_deadline(b, auth)
    assert call("POST", b.base_url + "/v1/chat/completions", CHAT, other).status == 200


def test_a_key_revoked_by_the_cli_is_refused_by_running_replicas_at_once(
    gateway, postgres_clean: str, redis_clean: str, tmp_path: Path
) -> None:
    a, b, config = replicas(gateway, postgres_clean, redis_clean)
    auth, key_id = new_key(a)
    for r in (a, b):
        assert call("POST", r.base_url + "/v1/chat/completions", CHAT, auth).status == 200
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump(config))
    cli = [sys.executable, "-m", "sluice", "keys", "revoke", "acme", key_id, "--config", str(path)]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert refused_within_deadline(a, auth) and refused_within_deadline(b, auth)
