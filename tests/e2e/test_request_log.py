"""The request log and the request line on real gateways: SIGTERM under a bounded load loses no
record and cuts no stream; every log line is JSON with every field and no secret."""

from __future__ import annotations

import http.client
import signal
import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from sluice.obs.record import RequestRecord
from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

CLIENTS = 8
PER_CLIENT = 40
WRONG_KEY = "sk-wrong-but-secret-0123456789"
APP_KEY = "sk-app-secret-9876543210"


def db_path(gw: Proc) -> Path:
    port = gw.base_url.rsplit(":", 1)[1]
    return gw.log_path.parent / f"gateway-{port}.db"


def stored_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT id FROM request_log")]


class Client(threading.Thread):
    """Sends requests one after another on one keep-alive connection until the gateway stops
    taking them; notes the id of every request it saw answered in full."""

    def __init__(self, port: int, n: int, stop_at: float) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.n = n
        self.stop_at = stop_at
        self.answered: list[str] = []
        self.cut: list[str] = []
        self.sent = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            for i in range(PER_CLIENT):
                if time.monotonic() > self.stop_at:
                    return
                rid = f"c{self.n}-{i}"
                stream = i % 2 == 0
                key = WRONG_KEY if i % 5 == 4 else DEMO_KEY
                body = msgspec.json.encode(
                    {
                        "model": "gpt-4o-mini",
                        "stream": stream,
                        "messages": [{"role": "user", "content": f"one two three {i}"}],
                    }
                )
                try:
                    conn.request(
                        "POST",
                        "/v1/chat/completions",
                        body,
                        {
                            "authorization": f"Bearer {key}",
                            "content-type": "application/json",
                            "x-request-id": rid,
                        },
                    )
                    self.sent += 1
                    r = conn.getresponse()
                    data = r.read()
                except (OSError, http.client.HTTPException):
                    return  # the gateway closed: this request was not answered
                if r.status == 200 and stream and not data.endswith(b"data: [DONE]\n\n"):
                    self.cut.append(rid)
                self.answered.append(rid)
                if r.getheader("connection") == "close":
                    return
        finally:
            conn.close()


def test_sigterm_under_load_loses_no_record_and_cuts_no_stream(gateway) -> None:
    config = sim_config(latency_ms=30, chunk_delay_ms=20)
    config["server"] = {"graceful_shutdown_s": 10}
    config["request_log"] = {"flush_ms": 5000}  # so most records are still queued at SIGTERM
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    clients = [Client(port, n, time.monotonic() + 20) for n in range(CLIENTS)]
    for c in clients:
        c.start()
    eventually(lambda: sum(len(c.answered) for c in clients) >= CLIENTS * 2, 10, "the load getting going")
    gw.popen.send_signal(signal.SIGTERM)
    for c in clients:
        c.join(30)
    assert gw.popen.wait(20) == -signal.SIGTERM
    answered = [rid for c in clients for rid in c.answered]
    assert len(answered) >= CLIENTS * 2, "the load did not get going"
    assert sum(c.sent for c in clients) < CLIENTS * PER_CLIENT, "SIGTERM came after the load ended"
    assert [rid for c in clients for rid in c.cut] == []
    ids = stored_ids(db_path(gw))
    assert sorted(ids) == sorted(answered)  # exactly one row each, none for requests never answered
    assert "Traceback" not in gw.log()


def read_lines(gw: Proc) -> list[dict[str, Any]]:
    lines = [msgspec.json.decode(line) for line in gw.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "sluice.access"]


def test_each_request_is_one_json_line_with_every_field_and_no_secret(gateway, sim_server: Proc) -> None:
    config = sim_config()
    config["logging"] = {"level": "info", "format": "json"}
    config["auth"] = {
        "keys": [{"key": APP_KEY, "name": "app"}]
    }  # the demo key is printed in the banner, by design
    config["providers"]["up"] = {
        "type": "openai",
        "base_url": f"{sim_server.base_url}/v1",
        "api_key": "sk-upstream-secret",
    }
    config["models"]["real"] = {"deployments": [{"provider": "up", "model": "sim-real"}]}
    gw = gateway(config)
    conn = http.client.HTTPConnection("127.0.0.1", int(gw.base_url.rsplit(":", 1)[1]), timeout=10)
    sent = []
    for i, (model, key, stream) in enumerate(
        [
            ("gpt-4o-mini", APP_KEY, False),
            ("real", APP_KEY, True),
            ("gpt-4o-mini", WRONG_KEY, False),
            ("nope", APP_KEY, False),
        ]
    ):
        body = msgspec.json.encode(
            {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
        )
        conn.request(
            "POST", "/v1/chat/completions", body, {"authorization": f"Bearer {key}", "x-request-id": f"r{i}"}
        )
        r = conn.getresponse()
        r.read()
        sent.append((f"r{i}", r.status))
    conn.close()
    eventually(lambda: len(read_lines(gw)) >= len(sent), 5, "a line per request")
    lines = read_lines(gw)
    assert (
        [(line["id"], line["status"]) for line in lines]
        == sent
        == [("r0", 200), ("r1", 200), ("r2", 401), ("r3", 404)]
    )
    fields = set(RequestRecord.__struct_fields__) | {"ts", "level", "logger", "msg"}
    for line in lines:
        assert set(line) == fields
    ok, stream, refused, unknown = lines
    assert ok["key_prefix"] == "app" and ok["model"] == "gpt-4o-mini" and ok["deployment"] == "sim/sim-mini"
    assert ok["input_tokens"] > 0 and ok["output_tokens"] > 0 and ok["attempts"] == 1 and ok["prompt"] is None
    assert stream["stream"] is True and stream["ttft_ms"] > 0 and stream["deployment"] == "up/sim-real"
    assert refused["error_type"] == "invalid_api_key" and refused["key_prefix"] is None
    assert unknown["error_type"] == "model_not_found"
    text = gw.log()
    for secret in (APP_KEY, WRONG_KEY, "sk-upstream-secret"):
        assert secret not in text
    assert not any("Bearer" in str(v) for line in lines for v in line.values())


ADMIN = "sk-admin-usage"


def test_usage_totals_equal_the_costs_the_clients_were_charged(gateway, sim_server: Proc) -> None:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["providers"]["up"] = {
        "type": "openai",
        "base_url": f"{sim_server.base_url}/v1",
        "api_key": "sk-up",
    }
    config["models"]["priced"] = {"deployments": [{"provider": "up", "model": "sim-priced"}]}
    config["pricing"] = {"sim-priced": {"input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}}
    config["request_log"] = {"flush_ms": 20}
    gw = gateway(config)
    admin = {"authorization": f"Bearer {ADMIN}"}
    keys = {}
    for tenant in ("acme", "globex"):
        assert (
            call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, admin).status == 201
        )
        keys[tenant] = call(
            "POST", gw.base_url + f"/admin/tenants/{tenant}/keys", {"name": "app"}, admin
        ).json()["key"]
    charged: dict[str, Decimal] = {"acme": Decimal(0), "globex": Decimal(0)}
    for i in range(7):
        tenant = "acme" if i % 3 else "globex"
        r = call(
            "POST",
            gw.base_url + "/v1/chat/completions",
            {"model": "priced", "messages": [{"role": "user", "content": "count " + "word " * i}]},
            {"authorization": f"Bearer {keys[tenant]}"},
        )
        assert r.status == 200
        charged[tenant] += Decimal(r.headers["x-sluice-cost-usd"])
    assert (
        call(
            "POST",
            gw.base_url + "/v1/chat/completions",
            {"model": "priced", "messages": []},
            {"authorization": f"Bearer {keys['acme']}"},
        ).status
        == 400
    )

    def usage_of_all() -> dict[str, Any] | None:
        usage = call("GET", gw.base_url + "/admin/usage?group_by=tenant", headers=admin).json()
        return usage if usage["totals"]["requests"] == 8 else None

    usage = eventually(usage_of_all, 5, "every request in the usage totals")
    by_tenant = {row["tenant"]: row for row in usage["data"]}
    assert by_tenant["acme"]["requests"] == 4 and by_tenant["globex"]["requests"] == 3
    assert by_tenant[None]["errors"] == 1  # a body refused before authentication belongs to no tenant
    for tenant, cost in charged.items():
        assert Decimal(by_tenant[tenant]["cost_usd"]) == cost > 0
    assert Decimal(usage["totals"]["cost_usd"]) == sum(charged.values())
    own = call(
        "GET",
        gw.base_url + "/admin/usage?group_by=model",
        headers={"authorization": f"Bearer {keys['globex']}"},
    ).json()
    assert (
        own["data"] == [{**own["data"][0], "model": "priced"}]
        and Decimal(own["totals"]["cost_usd"]) == charged["globex"]
    )
    csv_reply = call("GET", gw.base_url + "/admin/usage?group_by=tenant&format=csv", headers=admin)
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert csv_reply.body.decode().splitlines()[-1].startswith("total,8,1,")


def test_payloads_are_logged_redacted_only_for_tenants_that_allow_it(gateway) -> None:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["logging"] = {"level": "info", "format": "json"}
    config["request_log"] = {"flush_ms": 20}
    gw = gateway(config)
    admin = {"authorization": f"Bearer {ADMIN}"}
    keys = {}
    for tenant, allow in (("open", True), ("closed", None)):
        assert (
            call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, admin).status == 201
        )
        if allow:
            assert (
                call("PATCH", gw.base_url + f"/admin/tenants/{tenant}", {"log_payloads": True}, admin).status
                == 200
            )
        keys[tenant] = call(
            "POST", gw.base_url + f"/admin/tenants/{tenant}/keys", {"name": "app"}, admin
        ).json()["key"]
    secret_text = "mail jane.doe@example.com or call +44 20 7946 0958"
    for tenant in keys:
        for stream in (False, True):
            r = call(
                "POST",
                gw.base_url + "/v1/chat/completions",
                {
                    "model": "gpt-4o-mini",
                    "stream": stream,
                    "messages": [{"role": "user", "content": secret_text}],
                },
                {"authorization": f"Bearer {keys[tenant]}", "x-request-id": f"{tenant}-{stream}"},
            )
            assert r.status == 200
    eventually(lambda: len(read_lines(gw)) >= 4, 5, "a line per request")
    lines = {line["id"]: line for line in read_lines(gw)}
    for stream in (False, True):
        logged = lines[f"open-{stream}"]
        assert "[EMAIL_1]" in logged["prompt"] and "[PHONE_1]" in logged["prompt"]
        assert logged["answer"] and "[EMAIL_1]" in logged["answer"]  # the sim echoes the prompt
        assert lines[f"closed-{stream}"]["prompt"] is None and lines[f"closed-{stream}"]["answer"] is None
    assert "jane.doe@example.com" not in gw.log() and "7946" not in gw.log()
    rows = call("GET", gw.base_url + "/admin/requests?tenant=open", headers=admin).json()["data"]
    assert len(rows) == 2 and all("[EMAIL_1]" in row["prompt"] for row in rows)
