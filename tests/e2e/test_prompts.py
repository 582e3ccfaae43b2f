"""Stored prompts on the request path, through a real gateway and the real SDKs: a label or a
pinned version rendered before the request's own messages (chat completions, Anthropic Messages,
the Responses API's own ``prompt``), what ran in ``x-sluice-prompt`` and the request log, the
errors a client gets, an A/B split sticky per user, a shadow candidate never shown, and a canary
routed to a failing deployment rolled back by the evaluator while the control keeps serving."""

from __future__ import annotations

import collections
from typing import Any

import anthropic
import openai
import pytest

from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

ADMIN = "sk-admin-prompts"
AH = {"authorization": f"Bearer {ADMIN}"}
STATIC = "sk-static-prompts"

V1 = {
    "messages": [
        {"role": "system", "content": "You are the assistant of {company}."},
        {"role": "user", "content": "Question one: {question}"},
    ],
    "variables": ["company", "question"],
    "note": "first",
}
V2 = {
    "messages": [
        {"role": "system", "content": "You are the terse assistant of {company}."},
        {"role": "user", "content": "Question two: {question}"},
    ],
    "variables": ["company", "question"],
    "params": {"temperature": 0.1},
    "note": "second",
}
VARS = {"company": "Acme", "question": "where is my order?"}


def config(**prompts: Any) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": STATIC, "name": "static"}]},
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "providers": {
            "sim": {"type": "sim"},
            "broken": {"type": "sim", "sim": {"error_rate": 1.0, "error_status": [500]}},
        },
        "models": {
            "gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-mini"}]},
            "flaky": {"deployments": [{"provider": "broken", "model": "sim-broken"}]},
        },
        "routing": {"retries": {"max_attempts": 1}},
        "request_log": {"flush_ms": 10},
        "prompts": {"cache_s": 0, **prompts},
        "logging": {"level": "warning"},
    }


def admin(gw: Proc, method: str, path: str, body: dict[str, Any] | None = None) -> Reply:
    return call(method, gw.base_url + "/admin" + path, body, AH)


def setup(gw: Proc, *versions: dict[str, Any], label: int | None = 1) -> str:
    """Tenant acme with prompt support's ``versions`` (production at ``label``); its key."""
    assert admin(gw, "POST", "/tenants", {"id": "acme", "name": "Acme"}).status == 201
    for v in versions:
        r = admin(gw, "POST", "/tenants/acme/prompts/support/versions", v)
        assert r.status in (200, 201), r.body
    if label is not None:
        r = admin(
            gw,
            "PUT",
            "/tenants/acme/prompts/support/labels/production",
            {"version": label, "reason": "launch"},
        )
        assert r.status == 200, r.body
    r = admin(gw, "POST", "/tenants/acme/keys", {"name": "app"})
    assert r.status == 201, r.body
    return str(r.json()["key"])


def client(gw: Proc, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0, timeout=10)


def ask(c: openai.OpenAI, prompt: dict[str, Any], **body: Any) -> Any:
    return c.chat.completions.with_raw_response.create(
        model=body.pop("model", "gpt-4o-mini"),
        messages=body.pop("messages", []),
        extra_body={"sluice": {"prompt": prompt}},
        **body,
    )


def logged(gw: Proc, n: int) -> list[dict[str, Any]]:
    def rows() -> list[dict[str, Any]] | None:
        data = call("GET", gw.base_url + "/admin/requests?tenant=acme&limit=1000", headers=AH).json()["data"]
        return data if len(data) >= n else None

    return eventually(rows, 10, f"{n} rows in the request log")


def test_a_label_or_a_pinned_version_runs_before_the_requests_own_messages(gateway) -> None:
    gw = gateway(config())
    key = setup(gw, V1, V2)
    c = client(gw, key)
    raw = ask(c, {"name": "support", "variables": VARS})
    assert raw.headers["x-sluice-prompt"] == "support@1"
    assert raw.parse().choices[0].message.content == "Simulated reply to: Question one: where is my order?"
    pinned = ask(
        c,
        {"name": "support", "version": 2, "variables": VARS},
        messages=[{"role": "user", "content": "and my refund?"}],
    )
    assert pinned.headers["x-sluice-prompt"] == "support@2"
    assert (
        pinned.parse().choices[0].message.content == "Simulated reply to: and my refund?"
    )  # own message last
    streamed = c.chat.completions.create(
        model="gpt-4o-mini",
        messages=[],
        stream=True,
        extra_body={"sluice": {"prompt": {"name": "support", "variables": VARS}}},
    )
    assert "".join(ch.choices[0].delta.content or "" for ch in streamed if ch.choices).endswith(
        "where is my order?"
    )
    rows = logged(gw, 3)
    assert sorted((r["prompt_name"], r["prompt_version"]) for r in rows) == [
        ("support", 1),
        ("support", 1),
        ("support", 2),
    ]
    usage = call("GET", gw.base_url + "/admin/usage?group_by=prompt&tenant=acme", headers=AH).json()["data"]
    assert {u["prompt"]: u["requests"] for u in usage} == {"support@1": 2, "support@2": 1}

    with anthropic.Anthropic(base_url=gw.base_url, api_key=key, max_retries=0, timeout=10) as a:
        m = a.messages.with_raw_response.create(
            model="gpt-4o-mini",
            max_tokens=50,
            messages=[{"role": "user", "content": "hello"}],
            extra_body={"sluice": {"prompt": {"name": "support", "version": 2, "variables": VARS}}},
        )
        assert m.headers["x-sluice-prompt"] == "support@2"
        assert m.parse().content[0].text == "Simulated reply to: hello"  # type: ignore[union-attr]
    r = c.responses.with_raw_response.create(
        model="gpt-4o-mini", prompt={"id": "support", "version": "2", "variables": VARS}
    )
    assert r.headers["x-sluice-prompt"] == "support@2"
    assert r.parse().output_text == "Simulated reply to: Question two: where is my order?"


def test_what_a_client_gets_wrong_is_a_400_or_404_naming_it(gateway) -> None:
    gw = gateway(config())
    key = setup(gw, V1)
    c = client(gw, key)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "support", "variables": {"company": "Acme"}}, 400, "sluice.prompt.variables.question"),
        ({"name": "support", "variables": {**VARS, "colour": "red"}}, 400, "sluice.prompt.variables.colour"),
        ({"name": "support", "label": "staging", "variables": VARS}, 404, "sluice.prompt.label"),
        ({"name": "support", "version": 9, "variables": VARS}, 404, "sluice.prompt.version"),
        ({"name": "nope", "variables": VARS}, 404, "sluice.prompt.label"),
        ({"name": "support", "label": "production", "version": 1}, 400, "sluice.prompt.version"),
        ({"name": "bad name"}, 400, "sluice.prompt.name"),
    ]
    for prompt, status, param in cases:
        with pytest.raises(openai.APIStatusError) as e:
            ask(c, prompt)
        assert (e.value.status_code, e.value.body["param"]) == (status, param), (prompt, e.value.body)  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as e:  # a static key belongs to no tenant
        ask(client(gw, STATIC), {"name": "support", "variables": VARS})
    assert e.value.body["param"] == "sluice.prompt"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as e:  # without a prompt, messages are still required
        c.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert e.value.body["param"] == "messages"  # type: ignore[index]
    other = call("POST", gw.base_url + "/admin/tenants", {"id": "globex", "name": "Globex"}, AH)
    assert other.status == 201
    globex = call("POST", gw.base_url + "/admin/tenants/globex/keys", {"name": "g"}, AH).json()["key"]
    with pytest.raises(openai.NotFoundError):  # another tenant's prompt does not exist for it
        ask(client(gw, globex), {"name": "support", "variables": VARS})


def test_an_ab_split_is_sticky_per_user_and_logged_with_its_arm(gateway) -> None:
    gw = gateway(config())
    key = setup(gw, V1, V2)
    r = admin(gw, "POST", "/tenants/acme/prompts/support/experiments", {
        "label": "production", "kind": "ab", "arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}],
    })  # fmt: skip
    assert r.status in (200, 201), r.body
    experiment = r.json()["id"]
    c = client(gw, key)
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for i in range(40):
        user = f"user-{i % 20}"
        raw = ask(c, {"name": "support", "variables": VARS}, user=user)
        seen[user].add(raw.headers["x-sluice-prompt"])
    assert all(len(v) == 1 for v in seen.values())  # sticky
    arms = collections.Counter(next(iter(v)) for v in seen.values())
    assert set(arms) == {"support@1", "support@2"}  # 20 users: both arms, P(one arm only) = 2**-19
    rows = logged(gw, 40)
    assert {r["experiment"] for r in rows} == {experiment}
    assert all(r["arm"] == r["prompt_version"] for r in rows)


def test_a_shadow_candidate_answers_in_the_background_and_is_never_shown(gateway) -> None:
    gw = gateway(config())
    key = setup(gw, V1, V2)
    r = admin(gw, "POST", "/tenants/acme/prompts/support/experiments", {
        "label": "production", "kind": "canary", "arms": [{"version": 1}, {"version": 2}],
        "steps": [100], "shadow": True, "shadow_scope": "tenant:acme",
    })  # fmt: skip
    assert r.status in (200, 201), r.body
    c = client(gw, key)
    for i in range(5):
        raw = ask(c, {"name": "support", "variables": VARS}, user=f"u{i}")
        assert raw.headers["x-sluice-prompt"] == "support@1"  # the control, always
        assert "Question one" in (raw.parse().choices[0].message.content or "")
    rows = logged(gw, 10)
    shadows = [r for r in rows if r["endpoint"] == "prompt-shadow"]
    assert len(shadows) == 5 and all(
        (s["prompt_version"], s["arm"], s["key_prefix"], s["status"]) == (2, 2, "sluice:prompt-shadow", 200)
        for s in shadows
    )
    assert all(r["prompt_version"] == 1 for r in rows if r["endpoint"] == "chat")


def test_a_failing_canary_is_rolled_back_and_the_control_keeps_serving(gateway) -> None:
    gw = gateway(config(evaluate_every_s=0.2))
    broken = {**V2, "model": "flaky"}  # the candidate's model alias always answers 500
    key = setup(gw, {**V1, "model": "gpt-4o-mini"}, broken)
    r = admin(gw, "POST", "/tenants/acme/prompts/support/experiments", {
        "label": "production", "kind": "canary", "arms": [{"version": 1}, {"version": 2}],
        "steps": [50, 100], "min_requests": 1000, "min_seconds": 3600,
        "rules": [{"metric": "error_rate", "ratio": 2.0, "min_requests": 10}],
    })  # fmt: skip
    assert r.status in (200, 201), r.body
    experiment = r.json()["id"]
    c = client(gw, key)
    outcomes = collections.Counter()
    for i in range(60):  # half the users on the candidate: ~30 failures, over the rule's 10
        try:
            raw = ask(c, {"name": "support", "variables": VARS}, model="", user=f"user-{i}")
            outcomes[raw.headers["x-sluice-prompt"]] += 1
        except openai.InternalServerError:
            outcomes["failed"] += 1
    assert outcomes["support@1"] > 0 and outcomes["failed"] > 0

    def rolled_back() -> dict[str, Any] | None:
        e = admin(gw, "GET", f"/tenants/acme/experiments/{experiment}").json()
        return e if e["state"] == "rolled_back" else None

    e = eventually(rolled_back, 15, "the evaluator to roll the canary back")
    assert "error_rate" in e["reason"]
    labels = admin(gw, "GET", "/tenants/acme/prompts/support/labels").json()["data"]
    assert {lab["label"]: lab["version"] for lab in labels} == {"production": 1}
    history = admin(gw, "GET", "/tenants/acme/prompts/support/history").json()["data"]
    assert history[-1]["actor"] == "sluice:rollback" and history[-1]["to_version"] == 1
    assert (history[-2]["actor"], history[-2]["to_version"]) == ("ops", 2)  # the admin who started it
    for i in range(20):  # every user now gets the control, and it answers
        raw = ask(c, {"name": "support", "variables": VARS}, model="", user=f"user-{i}")
        assert raw.headers["x-sluice-prompt"] == "support@1"


def test_experiment_admin_routes_validate_stop_reenable_and_report_quality(gateway) -> None:
    gw = gateway(config())
    key = setup(gw, V1, V2)
    path = "/tenants/acme/prompts/support/experiments"
    bad = [
        ({"label": "production", "kind": "ab", "arms": [{"version": 1, "weight": 1}, {"version": 7, "weight": 1}]}, 404, "arms[1].version"),
        ({"label": "production", "kind": "canary", "arms": [{"version": 1}, {"version": 2}], "steps": [50, 20]}, 400, "steps"),
        ({"label": "production", "kind": "ab", "arms": [{"version": 2, "weight": 1}, {"version": 1, "weight": 1}]}, 400, "arms[0].version"),
        ({"label": "production", "kind": "ab", "arms": [{"version": 1}, {"version": 2}], "rules": [{"metric": "colour"}]}, 400, "rules[0].metric"),
    ]  # fmt: skip
    for body, status, param in bad:
        r = admin(gw, "POST", path, body)
        assert (r.status, r.json()["error"]["param"]) == (status, param), r.body
    labels = admin(gw, "GET", "/tenants/acme/prompts/support/labels").json()["data"]
    assert [lab["version"] for lab in labels] == [1]  # a refused start moved nothing
    body = {
        "label": "production",
        "kind": "ab",
        "arms": [{"version": 1, "weight": 1}, {"version": 2, "weight": 1}],
    }
    e = admin(gw, "POST", path, body).json()
    assert admin(gw, "POST", path, body).json()["error"]["code"] == "experiment_running"
    c = client(gw, key)
    for i in range(10):
        ask(c, {"name": "support", "variables": VARS}, user=f"q{i}")
    logged(gw, 10)
    quality = admin(gw, "GET", f"/tenants/acme/experiments/{e['id']}").json()
    assert quality["state"] == "running"
    stopped = admin(gw, "POST", f"/tenants/acme/experiments/{e['id']}/stop", {})
    assert stopped.status == 200 and stopped.json()["state"] == "stopped"
    assert ask(c, {"name": "support", "variables": VARS}, user="q1").headers["x-sluice-prompt"] == "support@1"
    logged(gw, 11)
    again = admin(gw, "POST", f"/tenants/acme/experiments/{e['id']}/reenable", {})
    assert again.status == 200 and again.json()["state"] == "running"
    per_version = admin(gw, "GET", "/tenants/acme/prompts/support/quality").json()
    assert (
        sum(
            v["requests"]["n"] if isinstance(v["requests"], dict) else v["requests"]
            for v in per_version["data"]
        )
        >= 11
    )
    other = admin(gw, "GET", f"/tenants/globex/experiments/{e['id']}")
    assert other.status == 404


def test_two_replicas_on_postgres_agree_on_assignments_and_on_the_rollback(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    distributed = config(evaluate_every_s=0.3, cache_s=0.5)
    distributed["state"] = {
        "backend": "distributed",
        "postgres_dsn": postgres_clean,
        "redis_url": redis_clean,
    }
    a, b = gateway(distributed), gateway(distributed)
    key = setup(a, {**V1, "model": "gpt-4o-mini"}, {**V2, "model": "flaky"})
    r = admin(a, "POST", "/tenants/acme/prompts/support/experiments", {
        "label": "production", "kind": "canary", "arms": [{"version": 1}, {"version": 2}],
        "steps": [50, 100], "min_requests": 1000, "min_seconds": 3600,
        "rules": [{"metric": "error_rate", "ratio": 2.0, "min_requests": 10}],
    })  # fmt: skip
    assert r.status == 201, r.body
    experiment = r.json()["id"]

    def version(gw: Proc, user: str) -> str:
        body = {
            "model": "",
            "messages": [],
            "user": user,
            "sluice": {"prompt": {"name": "support", "variables": VARS}},
        }
        reply = call("POST", gw.base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {key}"})
        return reply.headers.get("x-sluice-prompt", "") + (" failed" if reply.status >= 500 else "")

    eventually(
        lambda: version(b, "warm").startswith("support@") or None, 5, "replica b to see the experiment"
    )
    users = [f"user-{i}" for i in range(40)]
    on_a = [version(a, u) for u in users]
    on_b = [version(b, u) for u in users]
    assert on_a == on_b  # the same arm for each user on both replicas
    assert {"support@1", "support@2 failed"} <= set(on_a)

    def rolled_back() -> bool | None:
        state = admin(b, "GET", f"/tenants/acme/experiments/{experiment}").json()["state"]
        return True if state == "rolled_back" else None

    eventually(rolled_back, 15, "one replica's evaluator to roll the canary back")
    history = admin(a, "GET", "/tenants/acme/prompts/support/history").json()["data"]
    assert [h["actor"] for h in history].count("sluice:rollback") == 1  # two evaluators, one rollback
    eventually(
        lambda: all(version(gw, u) == "support@1" for gw in (a, b) for u in users[:10]) or None,
        5,
        "both replicas serving the control",
    )
