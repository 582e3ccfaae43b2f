"""The webhook scheme's parts alone: signatures the Standard Webhooks reference library and the
openai SDK accept, the addresses refused, the URL checks, the event's shape and the backoff."""

from __future__ import annotations

import json
import time

import openai
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from sluice.batch.webhooks import WebhookLimits, WebhookSender, check_url, event, new_secret, refused, sign


def headers_for(secret: str, msg_id: str, body: bytes) -> dict[str, str]:
    ts = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def test_signature_verified_by_the_reference_library_and_the_openai_sdk() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    event_id, payload = event("batch.completed", "batch_abc", 1_700_000_000)
    body = payload.encode()
    headers = headers_for(secret, event_id, body)
    assert Webhook(secret).verify(body, headers) == json.loads(payload)
    unwrapped = openai.OpenAI(api_key="x").webhooks.unwrap(body, headers, secret=secret)
    assert unwrapped.type == "batch.completed" and unwrapped.data.id == "batch_abc"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)  # another secret
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"batch_abc", b"batch_abd"), headers)  # another body


def test_event_shape_and_its_id_follow_from_type_and_subject() -> None:
    event_id, payload = event("response.completed", "resp_1", 123)
    assert json.loads(payload) == {
        "id": event_id,
        "object": "event",
        "created_at": 123,
        "type": "response.completed",
        "data": {"id": "resp_1"},
    }
    assert event("response.completed", "resp_1", 456)[0] == event_id  # enqueued again: the same event
    assert event("response.failed", "resp_1", 123)[0] != event_id


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert refused(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_global_addresses_are_allowed(address: str) -> None:
    assert not refused(address)


def test_urls_checked_before_any_address() -> None:
    assert check_url("https://example.com/hook") is None
    assert check_url("http://example.com:8080/hook") is None
    assert check_url("ftp://example.com/hook") == "only http and https URLs"
    assert check_url("file:///etc/passwd") == "only http and https URLs"
    assert check_url("https:///nohost") == "no host"
    assert check_url("https://user:pw@example.com/") == "credentials in the URL"
    assert check_url("http://example.com:99999/") == "not a valid URL"


def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    low = WebhookSender(None, WebhookLimits(backoff_s=10, max_backoff_s=50), rng=lambda: 0.0)  # type: ignore[arg-type]
    high = WebhookSender(None, WebhookLimits(backoff_s=10, max_backoff_s=50), rng=lambda: 1.0)  # type: ignore[arg-type]
    assert [low.backoff(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 25]
    assert [high.backoff(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 50]
    total = sum(WebhookSender(None, WebhookLimits(), rng=lambda: 1.0).backoff(n) for n in range(1, 8))  # type: ignore[arg-type]
    assert 12 * 3600 < total < 30 * 3600  # the default 8 attempts span most of a day
