"""CORS: an allowlist from config, none by default."""

from tests.conftest import sim_config
from tests.fixtures.http import call

PREFLIGHT = {
    "origin": "https://app.example.com",
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization,content-type",
}


def test_no_cors_by_default(gateway) -> None:
    gw = gateway(sim_config())
    r = call("OPTIONS", gw.base_url + "/v1/chat/completions", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in r.headers


def test_allowlisted_origin_only(gateway) -> None:
    config = sim_config()
    config["server"] = {"cors_origins": ["https://app.example.com"]}
    gw = gateway(config)
    r = call("OPTIONS", gw.base_url + "/v1/chat/completions", headers=PREFLIGHT)
    assert r.status == 200 and r.headers["access-control-allow-origin"] == "https://app.example.com"
    r = call(
        "OPTIONS",
        gw.base_url + "/v1/chat/completions",
        headers={**PREFLIGHT, "origin": "https://evil.example"},
    )
    assert r.status == 400 and "access-control-allow-origin" not in r.headers
    r = call("GET", gw.base_url + "/health/live", headers={"origin": "https://app.example.com"})
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
