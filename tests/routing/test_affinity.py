"""Session keys and rendezvous hashing (routing/affinity.py)."""

from __future__ import annotations

from collections import Counter

from sluice.providers.base import Target
from sluice.routing.affinity import rendezvous, session_key
from sluice.routing.breaker import Breaker
from sluice.routing.deployment import Deployment
from sluice.types import ChatRequest, Message


def dep(seat: str, weight: float = 1.0) -> Deployment:
    return Deployment(
        seat,
        provider=None,  # type: ignore[arg-type]
        target=Target(seat),
        breaker=Breaker(1, 1),
        weight=weight,
        seat=seat.encode(),
    )


def chat(*messages: tuple[str, str], **kw: object) -> ChatRequest:
    return ChatRequest(
        model="m",
        messages=[Message(role=role, content=text) for role, text in messages],  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_prompt_cache_key_wins_at_every_level() -> None:
    r = chat(("user", "hi"), prompt_cache_key="conv-1", user="u1")
    for level in ("prompt_cache_key", "conversation", "user"):
        assert session_key(r, level) == b"k:conv-1"  # type: ignore[arg-type]
    assert session_key(r, "off") is None


def test_conversation_key_is_the_start_of_the_conversation() -> None:
    turn1 = chat(("system", "be brief"), ("user", "plan a trip"))
    turn3 = chat(
        ("system", "be brief"), ("user", "plan a trip"), ("assistant", "where to?"), ("user", "Lisbon")
    )
    other = chat(("system", "be brief"), ("user", "plan a party"))
    other_system = chat(("system", "be verbose"), ("user", "plan a trip"))
    key = session_key(turn1, "conversation")
    assert key is not None and key.startswith(b"c:")
    assert session_key(turn3, "conversation") == key
    assert session_key(other, "conversation") != key
    assert session_key(other_system, "conversation") != key
    assert session_key(turn1, "prompt_cache_key") is None  # that level takes only the explicit key


def test_user_is_a_key_only_at_the_user_level() -> None:
    no_user_turn = chat(("system", "s"))
    assert session_key(chat(("system", "s"), user="alice"), "conversation") is None
    assert session_key(chat(("system", "s"), user="alice"), "user") == b"u:alice"
    assert session_key(chat(("system", "s"), metadata={"user_id": "bob"}), "user") == b"u:bob"
    assert session_key(no_user_turn, "user") is None


def test_rendezvous_is_stable_and_moves_only_the_lost_deployments_sessions() -> None:
    a, b, c = dep("a"), dep("b"), dep("c")
    keys = [f"k{i}".encode() for i in range(600)]
    before = {k: rendezvous(k, [a, b, c]) for k in keys}
    assert {k: rendezvous(k, [c, a, b]) for k in keys} == before  # the order given does not matter
    spread = Counter(d.seat for d in before.values())
    assert all(150 < n < 250 for n in spread.values()), spread
    after = {k: rendezvous(k, [a, c]) for k in keys}  # b's circuit opened
    for k in keys:
        if before[k] is not b:
            assert after[k] is before[k]  # nobody else's session moved
        else:
            assert after[k] in (a, c)
    assert len({after[k].seat for k in keys if before[k] is b}) == 2  # b's sessions spread over both


def test_rendezvous_follows_weights() -> None:
    heavy, light = dep("heavy", 3), dep("light", 1)
    got = Counter(rendezvous(f"s{i}".encode(), [heavy, light]).seat for i in range(4000))
    assert 0.7 < got[b"heavy"] / 4000 < 0.8
