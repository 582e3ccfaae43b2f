"""JwtVerifier: real keys, a real SQLite store, a JWKS server on loopback; every attack a 401."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from sluice.auth.jwks import MAX_AGE_S, REFETCH_S, RETRY_S
from sluice.auth.jwt import JwtVerifier
from sluice.auth.principal import Principal, ScopedLimits
from sluice.errors import AuthenticationError
from sluice.policies import Limits
from sluice.settings import ConfigError, JwtSettings
from sluice.store.records import Tenant
from sluice.store.sqlite.store import SqliteStore
from tests.fixtures.clock import Clock
from tests.fixtures.procs import free_port

NOW = 1_700_000_000.0
SECRET = "s3cret-for-tests-only-0123456789abcdef"  # 38 bytes: HS256 needs at least 32
AUD = "sluice"
ISS = "https://idp.test/"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "sluice.db"))
    await store.migrate()
    await store.create_tenant(Tenant("acme", "Acme", int(NOW)))
    await store.create_tenant(Tenant("shut", "Shut", int(NOW), disabled=True))
    yield store
    await store.close()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_key_2() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def jwk(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, alg: str | None = None
) -> dict[str, Any]:
    algorithm = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    out = algorithm.to_jwk(key.public_key(), as_dict=True)
    return {**out, "kid": kid, "use": "sig", **({"alg": alg} if alg else {})}


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims at NOW; a change to None drops the claim."""
    base: dict[str, Any] = {
        "sub": "alice",
        "tenant": "acme",
        "aud": AUD,
        "iss": ISS,
        "iat": int(NOW),
        "exp": int(NOW) + 300,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(header: dict[str, Any], payload: bytes, secret: bytes) -> str:
    """A token built without PyJWT, for what PyJWT refuses to make (odd headers, confusion keys)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


Verifier = Callable[..., JwtVerifier]


@pytest.fixture
def verifier(store: SqliteStore, clock: Clock) -> Verifier:
    """Factory: a verifier over the test store and clock; keyword arguments are JwtSettings fields."""

    def make(limits_for: Any = None, **fields: Any) -> JwtVerifier:
        settings = JwtSettings(
            **{"algorithms": ["HS256"], "secret": SECRET, "audience": AUD, "issuer": ISS, **fields}
        )
        extra = {"limits_for": limits_for} if limits_for is not None else {}
        return JwtVerifier(settings, store, cache_s=5.0, clock=clock, **extra)

    return make


async def refused(v: JwtVerifier, token: str, code: str = "invalid_token") -> str:
    """The token gets a 401 with ``code``; its message (returned) never contains the token."""
    with pytest.raises(AuthenticationError) as info:
        await v.principal(token)
    err = info.value
    assert (err.status, err.code) == (401, code)
    assert token not in err.message
    assert not any(part in err.message for part in token.split(".") if len(part) >= 16)
    return err.message


# --- accepted tokens -------------------------------------------------------------------------


async def test_hs256_token_names_tenant_and_user(verifier: Verifier, store: SqliteStore) -> None:
    p = await verifier().principal(jwt.encode(claims(), SECRET, "HS256"))
    user = await store.user_by_external_id("acme", "alice")
    assert user is not None
    assert p == Principal(key_name="jwt:alice", tenant_id="acme", user_id=user.id)


async def test_user_is_created_once_and_claims_are_configurable(
    verifier: Verifier, store: SqliteStore
) -> None:
    v = verifier(tenant_claim="org", user_claim="email")
    token = jwt.encode(claims(tenant=None, org="acme", email="a@acme.test"), SECRET, "HS256")
    first, second = await v.principal(token), await v.principal(token)
    assert first.user_id == second.user_id
    assert [u.external_id for u in await store.list_users("acme")] == ["a@acme.test"]
    # A second verifier (another replica) finds the same user rather than creating another.
    assert (await verifier(tenant_claim="org", user_claim="email").principal(token)).user_id == first.user_id


async def test_limits_come_from_the_injected_lookup(verifier: Verifier) -> None:
    asked: list[tuple[str, str | None, str | None]] = []
    tenant_limits = (ScopedLimits("tenant", "acme", Limits(rpm=10)),)

    async def limits_for(tenant_id: str, user_id: str | None, key_id: str | None) -> tuple[ScopedLimits, ...]:
        asked.append((tenant_id, user_id, key_id))
        return tenant_limits

    p = await verifier(limits_for=limits_for).principal(jwt.encode(claims(), SECRET, "HS256"))
    assert p.limits == tenant_limits
    assert asked == [("acme", p.user_id, None)]


async def test_rs256_with_a_pem_key_inline_and_from_a_file(
    verifier: Verifier, rsa_key, tmp_path: Path
) -> None:
    token = jwt.encode(claims(), rsa_key, "RS256")
    assert (
        await verifier(algorithms=["RS256"], secret=None, public_key=pem(rsa_key)).principal(token)
    ).tenant_id == "acme"
    path = tmp_path / "idp.pem"
    path.write_text(pem(rsa_key))
    assert (
        await verifier(algorithms=["RS256"], secret=None, public_key=str(path)).principal(token)
    ).tenant_id == "acme"


async def test_es256_with_a_pem_key(verifier: Verifier, ec_key) -> None:
    v = verifier(algorithms=["ES256"], secret=None, public_key=pem(ec_key))
    assert (await v.principal(jwt.encode(claims(), ec_key, "ES256"))).key_name == "jwt:alice"


async def test_exp_within_the_leeway_is_accepted(verifier: Verifier) -> None:
    v = verifier(leeway_s=30)
    assert (await v.principal(jwt.encode(claims(exp=int(NOW) - 20), SECRET, "HS256"))).tenant_id == "acme"
    assert (
        await v.principal(jwt.encode(claims(nbf=int(NOW) + 20, iat=int(NOW) + 20), SECRET, "HS256"))
    ).tenant_id == "acme"


# --- JWKS ------------------------------------------------------------------------------------


async def test_jwks_file_picks_the_key_by_kid(verifier: Verifier, rsa_key, rsa_key_2, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk(rsa_key, "one"), jwk(rsa_key_2, "two", "RS256")]}))
    v = verifier(algorithms=["RS256"], secret=None, jwks_file=str(path))
    for key, kid in ((rsa_key, "one"), (rsa_key_2, "two")):
        assert (
            await v.principal(jwt.encode(claims(), key, "RS256", headers={"kid": kid}))
        ).tenant_id == "acme"
    # The right kid on a token signed by the other key; an unknown kid; no kid with two keys to choose from.
    assert "signature" in await refused(v, jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "two"}))
    assert "kid" in await refused(v, jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "three"}))
    assert "kid" in await refused(v, jwt.encode(claims(), rsa_key, "RS256"))


async def test_jwks_file_with_es256(verifier: Verifier, ec_key, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk(ec_key, "ec1", "ES256")]}))
    v = verifier(algorithms=["ES256"], secret=None, jwks_file=str(path))
    assert (
        await v.principal(jwt.encode(claims(), ec_key, "ES256", headers={"kid": "ec1"}))
    ).tenant_id == "acme"
    assert (await v.principal(jwt.encode(claims(), ec_key, "ES256"))).tenant_id == "acme"  # the only key


async def test_a_jwk_naming_another_alg_is_not_used(verifier: Verifier, rsa_key, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk(rsa_key, "k", "PS256")]}))
    v = verifier(algorithms=["RS256", "PS256"], secret=None, jwks_file=str(path))
    await refused(v, jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k"}))
    assert (
        await v.principal(jwt.encode(claims(), rsa_key, "PS256", headers={"kid": "k"}))
    ).tenant_id == "acme"


class JwksServer:
    """GET /jwks on loopback: serves ``document`` (or ``status``) and counts the requests."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.status = 200
        self.hits = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.status != 200:
            return web.Response(status=self.status, text="down")
        return web.json_response(self.document)


@contextlib.asynccontextmanager
async def jwks_server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    app = web.Application()
    app.router.add_get("/jwks", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    server.url = f"http://127.0.0.1:{port}/jwks"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def idp() -> AsyncIterator[JwksServer]:
    async with jwks_server() as server:
        yield server


@pytest.fixture
async def url_verifier(verifier: Verifier, idp: JwksServer) -> AsyncIterator[JwtVerifier]:
    v = verifier(algorithms=["RS256", "ES256"], secret=None, jwks_url=idp.url)
    yield v
    await v.close()


async def test_jwks_url_is_fetched_on_first_need_then_held(
    url_verifier: JwtVerifier, idp: JwksServer, rsa_key
) -> None:
    idp.document = {"keys": [jwk(rsa_key, "k1")]}
    assert idp.hits == 0  # nothing fetched at startup
    token = jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"})
    await asyncio.gather(*(url_verifier.principal(token) for _ in range(10)))
    await url_verifier.principal(token)
    assert idp.hits == 1


async def test_kid_rotation_triggers_one_refetch(
    url_verifier: JwtVerifier, idp: JwksServer, rsa_key, ec_key, clock: Clock
) -> None:
    idp.document = {"keys": [jwk(rsa_key, "k1")]}
    await url_verifier.principal(jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"}))
    idp.document = {"keys": [jwk(rsa_key, "k1"), jwk(ec_key, "k2")]}
    clock.advance(REFETCH_S)
    rotated = jwt.encode(claims(exp=int(clock.now) + 300), ec_key, "ES256", headers={"kid": "k2"})
    await asyncio.gather(*(url_verifier.principal(rotated) for _ in range(5)))
    assert idp.hits == 2


async def test_unknown_kid_after_a_refetch_is_refused_without_another(
    url_verifier: JwtVerifier, idp: JwksServer, rsa_key, clock: Clock
) -> None:
    idp.document = {"keys": [jwk(rsa_key, "k1")]}
    unknown = jwt.encode(claims(exp=int(NOW) + 3600), rsa_key, "RS256", headers={"kid": "k9"})
    assert "kid" in await refused(url_verifier, unknown)
    assert idp.hits == 1
    clock.advance(REFETCH_S - 1)  # made-up kids cannot make the gateway hammer the issuer
    await refused(url_verifier, unknown)
    assert idp.hits == 1
    clock.advance(1)
    await refused(url_verifier, unknown)
    assert idp.hits == 2


async def test_a_failed_fetch_is_a_logged_401_and_retried_soon(
    url_verifier: JwtVerifier, idp: JwksServer, rsa_key, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    token = jwt.encode(claims(exp=int(NOW) + 3600), rsa_key, "RS256", headers={"kid": "k1"})
    idp.status = 503
    with caplog.at_level(logging.WARNING, "sluice.auth"):
        await refused(url_verifier, token)
    assert [(r.getMessage(), r.__dict__["status"]) for r in caplog.records] == [("JWKS fetch failed", 503)]
    idp.status, idp.document = 200, {"keys": [jwk(rsa_key, "k1")]}
    clock.advance(RETRY_S)
    assert (await url_verifier.principal(token)).tenant_id == "acme"
    assert idp.hits == 2


async def test_an_unreachable_jwks_url_is_a_401(verifier: Verifier, rsa_key) -> None:
    async with jwks_server() as gone:
        url = gone.url
    v = verifier(algorithms=["RS256"], secret=None, jwks_url=url)
    await refused(v, jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"}))
    await v.close()


async def test_a_withdrawn_key_stops_verifying_once_the_copy_is_old(
    url_verifier: JwtVerifier, idp: JwksServer, rsa_key, rsa_key_2, clock: Clock
) -> None:
    idp.document = {"keys": [jwk(rsa_key, "k1")]}
    token = jwt.encode(claims(exp=int(NOW) + 7200), rsa_key, "RS256", headers={"kid": "k1"})
    await url_verifier.principal(token)
    idp.document = {"keys": [jwk(rsa_key_2, "k2")]}
    clock.advance(MAX_AGE_S - 1)
    await url_verifier.principal(token)
    clock.advance(1)
    await refused(url_verifier, token)
    assert idp.hits == 2


# --- attacks and bad tokens: each a 401 --------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_refused(verifier: Verifier, alg: str) -> None:
    token = f"{b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims()).encode())}."
    assert "algorithm" in await refused(verifier(), token)


async def test_hs256_signed_with_the_rsa_public_key_is_refused(verifier: Verifier, rsa_key) -> None:
    """Algorithm confusion: the public key is public, so an HMAC over it proves nothing."""
    token = hs256_by_hand(
        {"alg": "HS256", "typ": "JWT"}, json.dumps(claims()).encode(), pem(rsa_key).encode()
    )
    v = verifier(algorithms=["RS256"], secret=None, public_key=pem(rsa_key))
    assert "algorithm" in await refused(v, token)


async def test_rs256_header_when_only_hs256_is_configured(verifier: Verifier, rsa_key) -> None:
    assert "algorithm" in await refused(verifier(), jwt.encode(claims(), rsa_key, "RS256"))


async def test_a_bad_signature_is_refused(verifier: Verifier, rsa_key, rsa_key_2) -> None:
    assert "signature" in await refused(verifier(), jwt.encode(claims(), SECRET[::-1], "HS256"))
    v = verifier(algorithms=["RS256"], secret=None, public_key=pem(rsa_key))
    assert "signature" in await refused(v, jwt.encode(claims(), rsa_key_2, "RS256"))


async def test_a_tampered_payload_is_refused(verifier: Verifier) -> None:
    header, _, signature = jwt.encode(claims(), SECRET, "HS256").split(".")
    forged = f"{header}.{b64(json.dumps(claims(tenant='shut', sub='root')).encode())}.{signature}"
    assert "signature" in await refused(verifier(), forged)


async def test_an_expired_token_is_refused(verifier: Verifier) -> None:
    token = jwt.encode(claims(exp=int(NOW) - 31), SECRET, "HS256")
    assert await refused(verifier(leeway_s=30), token, "token_expired") == "The token has expired."


async def test_a_token_without_exp_is_refused(verifier: Verifier) -> None:
    assert (
        await refused(verifier(), jwt.encode(claims(exp=None), SECRET, "HS256"))
        == "The token has no 'exp' claim."
    )


@pytest.mark.parametrize("exp", ['"tomorrow"', "true", "Infinity", "1e999"])
async def test_an_exp_that_is_not_a_finite_number_is_refused(verifier: Verifier, exp: str) -> None:
    payload = json.dumps(claims(exp=None))[:-1] + f', "exp": {exp}}}'
    token = hs256_by_hand({"alg": "HS256", "typ": "JWT"}, payload.encode(), SECRET.encode())
    await refused(verifier(), token)


async def test_a_huge_integer_date_is_compared_not_overflowed(verifier: Verifier) -> None:
    payload = json.dumps(claims(iat=None))[:-1] + f', "iat": 1{"0" * 400}}}'
    token = hs256_by_hand({"alg": "HS256", "typ": "JWT"}, payload.encode(), SECRET.encode())
    assert "not valid yet" in await refused(verifier(), token)


async def test_nbf_in_the_future_beyond_the_leeway_is_refused(verifier: Verifier) -> None:
    token = jwt.encode(claims(nbf=int(NOW) + 31), SECRET, "HS256")
    assert "not valid yet" in await refused(verifier(leeway_s=30), token)


async def test_iat_in_the_future_beyond_the_leeway_is_refused(verifier: Verifier) -> None:
    token = jwt.encode(claims(iat=int(NOW) + 31), SECRET, "HS256")
    assert "not valid yet" in await refused(verifier(leeway_s=30), token)


async def test_a_wrong_audience_is_refused(verifier: Verifier) -> None:
    assert "audience" in await refused(verifier(), jwt.encode(claims(aud="other-service"), SECRET, "HS256"))
    assert "'aud'" in await refused(verifier(), jwt.encode(claims(aud=None), SECRET, "HS256"))


async def test_a_wrong_issuer_is_refused(verifier: Verifier) -> None:
    assert "issuer" in await refused(
        verifier(), jwt.encode(claims(iss="https://evil.test/"), SECRET, "HS256")
    )
    assert "'iss'" in await refused(verifier(), jwt.encode(claims(iss=None), SECRET, "HS256"))


async def test_unknown_critical_header_extensions_are_refused(verifier: Verifier) -> None:
    """RFC 7515 4.1.11: PyJWT refuses every ``crit`` extension but b64 (and b64 needs a detached payload)."""
    for crit in ({"crit": ["exp-ext"], "exp-ext": 1}, {"crit": ["b64"], "b64": False}):
        await refused(verifier(), jwt.encode(claims(), SECRET, "HS256", headers=crit))


async def test_a_malformed_token_is_refused(verifier: Verifier) -> None:
    assert await refused(verifier(), "not.a.token") == "The token is malformed."


async def test_a_missing_tenant_claim_is_refused(verifier: Verifier) -> None:
    token = jwt.encode(claims(tenant=None), SECRET, "HS256")
    assert await refused(verifier(), token) == "The token has no 'tenant' claim."
    assert "not a string" in await refused(verifier(), jwt.encode(claims(tenant=["acme"]), SECRET, "HS256"))


async def test_an_unknown_tenant_is_refused(verifier: Verifier) -> None:
    await refused(verifier(), jwt.encode(claims(tenant="nobody"), SECRET, "HS256"), "unknown_tenant")


async def test_a_disabled_tenant_is_refused(verifier: Verifier) -> None:
    await refused(verifier(), jwt.encode(claims(tenant="shut"), SECRET, "HS256"), "tenant_disabled")


async def test_tenant_state_is_cached_briefly_and_forgotten_on_demand(
    verifier: Verifier, store: SqliteStore, clock: Clock
) -> None:
    v = verifier()
    token = jwt.encode(claims(exp=int(NOW) + 3600), SECRET, "HS256")
    await v.principal(token)
    await store.update_tenant("acme", disabled=True)
    await v.principal(token)  # warm: no store query, so the change is not seen yet
    clock.advance(5)
    await refused(v, token, "tenant_disabled")
    await store.update_tenant("acme", disabled=False)
    v.forget_tenant("acme")  # what the admin API calls after a change
    await v.principal(token)


# --- configuration refused at startup ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"secret": "too-short"}, "HMAC key is 9 bytes"),
        ({"secret": None, "algorithms": ["RS256"], "public_key": "/nonexistent.pem"}, "not a readable PEM"),
    ],
)
def test_unusable_keys_are_refused_at_startup(
    verifier: Verifier, fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        verifier(**fields)


def test_a_key_of_the_wrong_kind_or_size_is_refused_at_startup(verifier: Verifier, ec_key) -> None:
    with pytest.raises(ConfigError, match="cannot verify RS256"):
        verifier(algorithms=["RS256"], secret=None, public_key=pem(ec_key))
    with pytest.raises(ConfigError, match="1024 bits"):
        verifier(algorithms=["RS256"], secret=None, public_key=pem(rsa.generate_private_key(65537, 1024)))
    with pytest.raises(ConfigError, match="cannot verify ES384"):
        verifier(algorithms=["ES384"], secret=None, public_key=pem(ec_key))


def test_two_key_sources_are_refused_at_startup(verifier: Verifier, rsa_key, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only one of public_key, jwks_file"):
        verifier(
            algorithms=["RS256"], secret=None, public_key=pem(rsa_key), jwks_file=str(tmp_path / "x.json")
        )


def test_a_jwks_file_without_public_signing_keys_is_refused_at_startup(
    verifier: Verifier, tmp_path: Path
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(
        '{"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAx"}]}'
    )  # a symmetric key
    with pytest.raises(ConfigError, match="no RSA or EC signing keys"):
        verifier(algorithms=["RS256"], secret=None, jwks_file=str(path))
