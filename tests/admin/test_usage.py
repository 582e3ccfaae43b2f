"""``/admin/usage`` and ``/admin/requests`` over HTTP against a gateway on loopback, its request
log written straight into its SQLite file: JSON and CSV, exact totals, a tenant key confined to
its tenant, and bad parameters as OpenAI-style 400s naming the parameter."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec
import pytest

from sluice.obs.record import RequestRecord
from sluice.store.sqlite.store import SqliteStore
from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-test-123"
ADMIN_H = {"authorization": f"Bearer {ADMIN}"}
# 2030-01-01T00:00:00Z
MIDNIGHT_S = 1_893_456_000
MIDNIGHT_MS = MIDNIGHT_S * 1000
HOUR_MS = 3_600_000


class Gateway:
    def __init__(self, proc: Proc, db: str) -> None:
        self.proc = proc
        self.db = db

    def log(self, *records: RequestRecord) -> None:
        """Write the records into the gateway's request log, as its writer would."""

        async def write() -> None:
            store = SqliteStore(self.db)
            try:
                await store.write_requests(records)
            finally:
                await store.close()

        asyncio.run(write())

    def get(self, path: str, params: dict[str, Any] | None = None, key: str | None = ADMIN) -> Reply:
        query = f"?{urlencode(params)}" if params else ""
        headers = {} if key is None else {"authorization": f"Bearer {key}"}
        return call("GET", f"{self.proc.base_url}/admin{path}{query}", None, headers)

    def admin(self, method: str, path: str, body: dict | None = None) -> Reply:
        return call(method, f"{self.proc.base_url}/admin{path}", body, ADMIN_H)

    def tenant_key(self, tenant_id: str) -> str:
        assert self.admin("POST", "/tenants", {"id": tenant_id, "name": tenant_id}).status == 201
        return self.admin("POST", f"/tenants/{tenant_id}/keys", {"name": "k"}).json()["key"]


@pytest.fixture
def gw(gateway, tmp_path: Path) -> Gateway:
    db = str(tmp_path / "gateway.db")
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["state"] = {"sqlite_path": db}
    return Gateway(gateway(config), db)


def rec(
    n: int, ts_ms: int, tenant_id: str | None, model: str = "gpt-4o-mini", **fields: Any
) -> RequestRecord:
    return RequestRecord(
        f"req-{n}", ts_ms, "chat", fields.pop("status", 200), 10.0, tenant_id=tenant_id, model=model, **fields
    )


def sums(
    requests: int, errors: int, input_tokens: int, output_tokens: int, cost_micros: int, **more: int
) -> dict:
    return {
        "requests": requests,
        "errors": errors,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_tokens": more.get("cached_tokens", 0),
        "cost_micros": cost_micros,
        "cost_usd": f"{cost_micros // 1_000_000}.{cost_micros % 1_000_000:06d}",
        "saved_micros": more.get("saved_micros", 0),
    }


def three_tenants(gw: Gateway) -> None:
    gw.log(
        rec(1, MIDNIGHT_MS - 1, "acme", input_tokens=10, output_tokens=5, cost_micros=123),
        rec(2, MIDNIGHT_MS, "acme", input_tokens=20, output_tokens=7, cost_micros=2**53 + 1, cached_tokens=4),
        rec(3, MIDNIGHT_MS + 1, "acme", "gpt-4o", status=429, cost_micros=0),
        rec(
            4,
            MIDNIGHT_MS + HOUR_MS,
            "beta",
            input_tokens=1,
            output_tokens=1,
            cost_micros=999_999,
            saved_micros=50,
        ),
        rec(5, MIDNIGHT_MS + 2 * HOUR_MS, None, status=502, input_tokens=3, cost_micros=1),
    )


def test_usage_as_json_grouped_with_exact_totals(gw: Gateway) -> None:
    three_tenants(gw)
    r = gw.get("/usage", {"group_by": "tenant,model,day"})
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {
        "object": "usage",
        "group_by": ["tenant", "model", "day"],
        "data": [
            {"tenant": None, "model": "gpt-4o-mini", "day": "2030-01-01", **sums(1, 1, 3, 0, 1)},
            {"tenant": "acme", "model": "gpt-4o", "day": "2030-01-01", **sums(1, 1, 0, 0, 0)},
            {"tenant": "acme", "model": "gpt-4o-mini", "day": "2029-12-31", **sums(1, 0, 10, 5, 123)},
            {
                "tenant": "acme",
                "model": "gpt-4o-mini",
                "day": "2030-01-01",
                **sums(1, 0, 20, 7, 2**53 + 1, cached_tokens=4),
            },
            {
                "tenant": "beta",
                "model": "gpt-4o-mini",
                "day": "2030-01-01",
                **sums(1, 0, 1, 1, 999_999, saved_micros=50),
            },
        ],
        "totals": sums(5, 2, 34, 13, 2**53 + 1 + 123 + 999_999 + 1, cached_tokens=4, saved_micros=50),
    }
    assert r.json()["totals"]["cost_usd"] == "9007199255.741116"  # exact, past a float's 2**53

    (only,) = gw.get("/usage").json()["data"]  # no group_by: one row, the total
    assert only == r.json()["totals"]
    hours = gw.get("/usage", {"group_by": "hour", "tenant": "acme"}).json()["data"]
    assert [(h["hour"], h["requests"]) for h in hours] == [("2029-12-31T23:00Z", 1), ("2030-01-01T00:00Z", 2)]


def test_usage_as_csv_with_a_totals_row(gw: Gateway) -> None:
    three_tenants(gw)
    gw.log(rec(6, MIDNIGHT_MS, "acme", '=HYPERLINK("http://x")', cost_micros=7))
    r = gw.get("/usage", {"group_by": "tenant,model", "format": "csv"})
    assert r.status == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="usage.csv"'
    header = "tenant,model,requests,errors,input_tokens,output_tokens,cached_tokens,cost_micros,cost_usd,saved_micros"
    assert r.body.decode().split("\r\n") == [
        header,
        ",gpt-4o-mini,1,1,3,0,0,1,0.000001,0",
        'acme,"\'=HYPERLINK(""http://x"")",1,0,0,0,0,7,0.000007,0',  # not a formula in a spreadsheet
        "acme,gpt-4o,1,1,0,0,0,0,0.000000,0",
        "acme,gpt-4o-mini,2,0,30,12,4,9007199254741116,9007199254.741116,0",
        "beta,gpt-4o-mini,1,0,1,1,0,999999,0.999999,50",
        "total,,6,2,34,13,4,9007199255741123,9007199255.741123,50",
        "",
    ]
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    assert int(rows[-1]["cost_micros"]) == sum(int(row["cost_micros"]) for row in rows[:-1])
    alone = gw.get("/usage", {"format": "csv", "tenant": "beta"}).body.decode()
    assert alone.split("\r\n")[1:] == ["1,0,1,1,0,999999,0.999999,50", ""]  # no group_by: only the totals


def test_usage_filters_by_time_and_model(gw: Gateway) -> None:
    three_tenants(gw)

    def requests(**params: str) -> int:
        return gw.get("/usage", params).json()["totals"]["requests"]

    assert requests(since="2030-01-01") == 4
    assert requests(until="2030-01-01") == 1  # until is exclusive
    assert requests(since=str(MIDNIGHT_S), until=f"{MIDNIGHT_S}.002") == 2
    assert requests(since="2030-01-01T01:00:00Z") == 2
    assert requests(since="2030-01-01T02:00:00+01:00") == 2  # 01:00 UTC
    assert requests(since="2030-01-01T00:00:00.001") == 3  # naive: UTC
    assert requests(model="gpt-4o") == 1
    assert requests(model="gpt-4o-mini", tenant="acme") == 2


def test_a_tenant_key_sees_only_its_own_tenants_usage(gw: Gateway) -> None:
    key = gw.tenant_key("acme")
    gw.tenant_key("beta")
    three_tenants(gw)
    mine = gw.get("/usage", {"group_by": "tenant"}, key=key)
    assert mine.status == 200
    assert [(row["tenant"], row["requests"]) for row in mine.json()["data"]] == [("acme", 3)]
    assert gw.get("/usage", {"tenant": "acme"}, key=key).json()["totals"]["requests"] == 3

    other = gw.get("/usage", {"tenant": "beta"}, key=key)
    assert other.status == 403 and other.json()["error"]["param"] == "tenant"
    for path in ("/requests", "/tenants"):
        denied = gw.get(path, key=key)
        assert denied.status == 403 and denied.json()["error"]["code"] == "admin_required"
    static = gw.get("/usage", key=DEMO_KEY)  # the config's keys belong to no tenant
    assert static.status == 403 and static.json()["error"]["code"] == "admin_required"
    assert gw.get("/usage", key=None).status == 401
    assert gw.get("/usage", key="sk-nope").status == 401
    assert gw.get("/usage").json()["totals"]["requests"] == 5  # an admin sees every tenant


def test_bad_parameters_are_400s_naming_the_parameter(gw: Gateway) -> None:
    r = gw.get("/usage", {"group_by": "tenant,colour"})
    assert r.status == 400
    assert r.json() == {
        "error": {
            "message": "Cannot group by 'colour': group_by takes tenant, user, key, model, deployment, prompt, day, hour.",
            "type": "invalid_request_error",
            "param": "group_by",
            "code": None,
        }
    }
    for path, params, param in [
        ("/usage", {"since": "yesterday"}, "since"),
        ("/usage", {"until": "2030-13-01"}, "until"),
        ("/usage", {"since": "999999999999"}, "since"),  # Unix seconds past 9999
        ("/usage", {"until": "10000-01-01"}, "until"),
        ("/usage", {"format": "xml"}, "format"),
        ("/requests", {"limit": "0"}, "limit"),
        ("/requests", {"limit": "1001"}, "limit"),
        ("/requests", {"before": "abc"}, "before"),
        ("/requests", {"since": "1.2.3"}, "since"),
    ]:
        r = gw.get(path, params)
        assert (r.status, r.json()["error"]["type"], r.json()["error"]["param"]) == (
            400,
            "invalid_request_error",
            param,
        ), params


def test_requests_page_newest_first(gw: Gateway) -> None:
    records = [rec(i, MIDNIGHT_MS + i, "acme" if i % 2 else "beta", prompt=f"p{i}") for i in range(7)]
    gw.log(*records[:4])
    gw.log(*records[4:])
    page = gw.get("/requests", {"limit": 3}).json()
    assert page["object"] == "list" and [d["id"] for d in page["data"]] == ["req-6", "req-5", "req-4"]
    first = page["data"][0]
    assert first == {"seq": first["seq"], **msgspec.structs.asdict(records[6])}
    seen = [d["id"] for d in page["data"]]
    while page["next_before"] is not None:
        page = gw.get("/requests", {"limit": 3, "before": page["next_before"]}).json()
        seen += [d["id"] for d in page["data"]]
    assert seen == [f"req-{i}" for i in range(6, -1, -1)]
    acme = gw.get(
        "/requests", {"tenant": "acme", "since": str(MIDNIGHT_S), "until": f"{MIDNIGHT_S}.005"}
    ).json()
    assert [d["id"] for d in acme["data"]] == ["req-3", "req-1"] and acme["next_before"] is None


def test_a_tenants_payload_policy_is_set_with_patch(gw: Gateway) -> None:
    gw.tenant_key("acme")
    assert gw.admin("GET", "/tenants/acme").json()["log_payloads"] is None
    r = gw.admin("PATCH", "/tenants/acme", {"log_payloads": True})
    assert r.status == 200 and r.json()["log_payloads"] is True
    assert gw.admin("PATCH", "/tenants/acme", {"name": "Acme"}).json()["log_payloads"] is True
    assert gw.admin("PATCH", "/tenants/acme", {"log_payloads": False}).json()["log_payloads"] is False
    r = gw.admin("PATCH", "/tenants/acme", {"log_payloads": "yes please"})
    assert r.status == 400 and r.json()["error"]["param"] == "log_payloads"
