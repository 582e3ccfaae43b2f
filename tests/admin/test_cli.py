"""`sluice tenants/keys/admins` against the store a gateway uses, then the gateway honours them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import yaml

from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, free_port, running

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def sluice(config: Path, *args: str) -> tuple[int, object, str]:
    r = subprocess.run(
        [sys.executable, "-m", "sluice", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    return r.returncode, msgspec.json.decode(r.stdout) if r.returncode == 0 else None, r.stderr


def test_cli_manages_the_gateways_store(tmp_path: Path) -> None:
    port = free_port()
    config = sim_config()
    config["state"] = {"sqlite_path": str(tmp_path / "cli.db")}
    config["auth"]["key_cache_s"] = 0  # so a revocation from another process applies at once
    config["server"] = {"host": "127.0.0.1", "port": port}
    path = tmp_path / "sluice.yaml"
    path.write_text(yaml.safe_dump(config))

    rc, tenant, _ = sluice(path, "tenants", "create", "Acme", "--id", "acme")
    assert rc == 0 and tenant["id"] == "acme"
    rc, key, _ = sluice(
        path, "keys", "create", "acme", "backend", "--models", "gpt-4o-mini", "--expires-in-days", "30"
    )
    assert rc == 0 and key["allowed_models"] == ["gpt-4o-mini"] and key["key"].startswith("sk-sl-")
    rc, listed, _ = sluice(path, "keys", "list", "acme")
    assert rc == 0 and [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]
    rc, admin, _ = sluice(path, "admins", "create", "ops")
    assert rc == 0 and admin["key"].startswith("sk-sladm-")

    with running(["serve", "--config", str(path)], tmp_path / "gw.log", "/health/live", port) as gw:
        auth = {"authorization": f"Bearer {key['key']}"}
        assert call("POST", gw.base_url + "/v1/chat/completions", CHAT, auth).status == 200
        r = call("GET", gw.base_url + "/admin/tenants", headers={"authorization": f"Bearer {admin['key']}"})
        assert r.status == 200 and [t["id"] for t in r.json()["data"]] == ["acme"]
        rc, revoked, _ = sluice(path, "keys", "revoke", "acme", key["id"])
        assert rc == 0 and revoked["revoked_at"] is not None
        assert call("POST", gw.base_url + "/v1/chat/completions", CHAT, auth).status == 401

    rc, _, err = sluice(path, "keys", "create", "ghost", "k")
    assert rc == 1 and "No tenant `ghost`. (404 tenant_not_found)" in err


def test_cli_sets_reads_and_clears_budgets(tmp_path: Path) -> None:
    config = sim_config()
    config["state"] = {"sqlite_path": str(tmp_path / "cli.db")}
    path = tmp_path / "sluice.yaml"
    path.write_text(yaml.safe_dump(config))
    assert sluice(path, "tenants", "create", "Acme", "--id", "acme")[0] == 0
    rc, out, _ = sluice(
        path,
        "budgets",
        "set",
        "acme",
        "month",
        "--max-cost-micros",
        "5000000",
        "--downgrade-to",
        "gpt-4o-mini",
    )
    assert rc == 0 and out == {
        "tenant_id": "acme",
        "scope": "tenant",
        "scope_id": "acme",
        "data": [
            {
                "period": "month",
                "max_cost_micros": 5_000_000,
                "on_exceed": "downgrade",
                "downgrade_to": "gpt-4o-mini",
            }
        ],
    }
    rc, out, _ = sluice(path, "budgets", "set", "acme", "day", "--max-tokens", "1000")
    assert rc == 0 and [b["period"] for b in out["data"]] == ["day", "month"]  # type: ignore[index]
    rc, out, _ = sluice(path, "budgets", "clear", "acme")
    assert rc == 0 and len(out["data"]) == 2  # type: ignore[index]
    rc, out, _ = sluice(path, "budgets", "get", "acme")
    assert rc == 0 and out["data"] == []  # type: ignore[index]


def test_cli_sets_spend_policies_ends_emergency_and_manages_plans(tmp_path: Path) -> None:
    config = sim_config()
    config["state"] = {"sqlite_path": str(tmp_path / "cli.db")}
    path = tmp_path / "sluice.yaml"
    path.write_text(yaml.safe_dump(config))
    assert sluice(path, "tenants", "create", "Acme", "--id", "acme")[0] == 0
    rc, _, err = sluice(path, "spend", "end-emergency", "acme")
    assert rc == 1 and "(404 spend_policy_not_found)" in err
    rc, got, _ = sluice(
        path, "spend", "set", "acme", "--emergency-at-micros", "5000000", "--emergency-to", "cheap",
        "--emergency-max-input-tokens", "2000",
    )  # fmt: skip
    assert rc == 0 and got["policy"] == {
        "emergency_at_micros": 5_000_000,
        "emergency_to": "cheap",
        "emergency_max_input_tokens": 2000,
    }
    rc, ended, _ = sluice(path, "spend", "end-emergency", "acme")
    assert rc == 0 and ended["ended_for"].startswith("d")
    rc, got, _ = sluice(path, "spend", "get", "acme")
    assert rc == 0 and got["emergency_ended"] == ended["ended_for"]
    rc, _, err = sluice(path, "spend", "set", "acme", "--emergency-at-micros", "0")
    assert rc == 2 and "Invalid value" in err  # a count from 1
    rc, plan, _ = sluice(path, "plans", "set", "free", '{"limits": {"rpm": 60}, "models": ["gpt-4o-mini"]}')
    assert rc == 0 and plan == {"name": "free", "plan": {"limits": {"rpm": 60}, "models": ["gpt-4o-mini"]}}
    rc, _, err = sluice(path, "plans", "set", "bad", '{"budgets": [{"period": "day"}, {"period": "day"}]}')
    assert rc == 2 and "at most one budget per period" in err
    rc, on, _ = sluice(path, "plans", "assign", "acme", "free")
    assert rc == 0 and on["plan"] == "free"
    rc, _, err = sluice(path, "plans", "delete", "free")
    assert rc == 1 and "is in use" in err
    assert sluice(path, "plans", "assign", "acme")[1] == {
        "tenant_id": "acme",
        "scope": "tenant",
        "scope_id": "acme",
        "plan": None,
    }
    assert sluice(path, "plans", "delete", "free")[0] == 0
    assert sluice(path, "plans", "list")[1] == []
