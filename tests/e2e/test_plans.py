"""Plans on two replicas sharing one PostgreSQL and Redis, each caching callers for a minute: a plan
seeded from the config, a tenant put on it through one replica, its models and limits applied by
the other; the tenant's own limits override the plan's field by field; a plan edited, or the
tenant moved off it, through one replica applies at once on the other (the auth caches'
invalidation); a plan in use cannot be deleted."""

from __future__ import annotations

from typing import Any

import openai
import redis

from sluice.auth.redis import CHANNEL
from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

ADMIN = {"authorization": "Bearer sk-admin-plans"}
DEADLINE_S = 2.0
FREE = {"limits": {"max_input_tokens": 5}, "models": ["gpt-4o-mini"]}


def admin(gw: Proc, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    reply = call(method, gw.base_url + "/admin" + path, body, ADMIN)
    assert reply.status == status, (path, reply.status, reply.body)
    return reply.json()


def ask(gw: Proc, key: str, model: str = "gpt-4o-mini") -> int:
    """The status of one chat completion through the openai SDK."""
    with openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0) as client:
        try:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello there"}])
        except openai.APIStatusError as e:
            return e.status_code
    return 200


def test_a_plan_applies_on_every_replica_and_its_changes_at_once(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    config = sim_config()
    config["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    config["admin"] = {"keys": [{"key": "sk-admin-plans", "name": "ops"}]}
    config["auth"]["key_cache_s"] = 60
    config["models"]["cheap"] = {"deployments": [{"provider": "sim", "model": "sim-free"}]}
    config["plans"] = {"free": FREE}
    a, b = gateway(config), gateway(config)
    with redis.Redis.from_url(redis_clean, socket_timeout=5) as client:
        eventually(lambda: dict(client.pubsub_numsub(CHANNEL))[CHANNEL.encode()] >= 2, 5, "both subscribed")
    assert admin(a, "GET", "/plans")["data"] == [{"name": "free", "plan": FREE}]  # as set: defaults left out
    admin(a, "POST", "/tenants", {"id": "acme", "name": "Acme"}, status=201)
    key = admin(a, "POST", "/tenants/acme/keys", {"name": "app"}, status=201)["key"]
    assert ask(b, key) == 200  # on no plan: cached on B for a minute
    assert admin(a, "PUT", "/tenants/acme/plan", {"plan": "free"})["plan"] == "free"
    assert eventually(lambda: ask(b, key) == 400, DEADLINE_S, "the plan's input cap")  # 10 tokens > 5
    assert ask(b, key, "cheap") == 403  # not one of the plan's models
    # The tenant's own limits override the plan's field by field: rpm alone leaves the input cap.
    admin(a, "PUT", "/tenants/acme/limits", {"rpm": 1000})
    assert eventually(lambda: ask(b, key) == 400, DEADLINE_S)
    admin(a, "PUT", "/tenants/acme/limits", {"rpm": 1000, "max_input_tokens": 100})
    assert eventually(lambda: ask(b, key) == 200, DEADLINE_S, "the tenant's own input cap")
    # The plan edited through A: B serves the newly allowed model at once.
    admin(a, "PUT", "/plans/free", {**FREE, "models": ["gpt-4o-mini", "cheap"]})
    assert eventually(lambda: ask(b, key, "cheap") == 200, DEADLINE_S, "the plan's new model")
    in_use = call("DELETE", a.base_url + "/admin/plans/free", headers=ADMIN)
    assert in_use.status == 409 and in_use.json()["error"]["code"] == "conflict"
    # Off the plan: nothing of it applies any more.
    admin(a, "PUT", "/plans/free", FREE)
    assert eventually(lambda: ask(b, key, "cheap") == 403, DEADLINE_S)
    assert admin(a, "PUT", "/tenants/acme/plan", {"plan": None})["plan"] is None
    assert eventually(lambda: ask(b, key, "cheap") == 200, DEADLINE_S, "off the plan")
    assert admin(a, "DELETE", "/plans/free")["name"] == "free"
    missing = call("PUT", a.base_url + "/admin/tenants/acme/plan", {"plan": "free"}, ADMIN)
    assert missing.status == 404 and missing.json()["error"]["code"] == "plan_not_found"
