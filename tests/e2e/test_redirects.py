"""No answer redirects to a host taken from the request: a trailing slash on any path of the data
plane, health, metrics or the mounted admin app is a 404 in the error JSON, with no Location."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-redirects"
FORGED = {"host": "evil.example", "x-forwarded-host": "evil.example"}


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    return module_gateway(config)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/chat/completions/"),
        ("POST", "/chat/completions/"),
        ("POST", "/v1/embeddings/"),
        ("POST", "/v1/messages/"),
        ("GET", "/admin/"),
        ("GET", "/health/live/"),
        ("GET", "/health/ready/"),
        ("GET", "/metrics/"),
        ("GET", "/docs/"),
        ("GET", "/admin/tenants/"),
        ("POST", "/admin/tenants/"),
        ("GET", "/admin/usage/"),
        ("GET", "/admin/docs/"),
    ],
)
@pytest.mark.parametrize("credential", [None, DEMO_KEY, ADMIN])
def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_clients_host(
    gw: Proc, method: str, path: str, credential: str | None
) -> None:
    headers = dict(FORGED)
    if credential is not None:
        headers["authorization"] = f"Bearer {credential}"
    r = call(method, gw.base_url + path, b"{}" if method == "POST" else None, headers)
    assert "location" not in r.headers, r.headers
    assert r.status == 404, (r.status, r.body)
    assert r.headers["content-type"] == "application/json"
    err = r.json()["error"]
    if path.startswith("/v1/messages"):  # Anthropic's surface answers in Anthropic's shape
        assert r.json()["type"] == "error" and err["type"] == "not_found_error", r.body
        assert err["message"] == f"Unknown path {path}."
    else:
        assert err["code"] == "unknown_url" and err["message"] == f"Unknown path {path}."
    assert b"evil.example" not in r.body


def test_the_one_redirect_left_is_relative(gw: Proc) -> None:
    r = call("GET", gw.base_url + "/docs", None, FORGED)
    assert (r.status, r.headers["location"]) == (307, "/admin/docs")
