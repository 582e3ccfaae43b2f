"""Session affinity: requests of one conversation go to one deployment while it is healthy, so
the provider's prompt cache for it stays warm.

A request's session key is, by the alias's ``affinity`` setting (each level includes those
before it): its ``prompt_cache_key``; else a hash of its conversation's start (the system and
developer messages and the first user message, which a Responses request continued with
``previous_response_id`` replays too); else, only at ``user``, its ``user`` (Anthropic's
``metadata.user_id``) or ``metadata.user_id``. The deployment is chosen by rendezvous
(highest-random-weight) hashing of the key against each healthy deployment's seat: every replica
picks the same one with no shared state, and when a deployment's circuit opens only its own
sessions move (to their second choice), and come back once it closes."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Literal

import msgspec

from sluice.routing.deployment import Deployment
from sluice.types import ChatRequest

Affinity = Literal["off", "prompt_cache_key", "conversation", "user"]

_LEVEL = {"off": 0, "prompt_cache_key": 1, "conversation": 2, "user": 3}
_encoder = msgspec.json.Encoder()
_SPAN = float((1 << 53) + 2)


def session_key(request: ChatRequest, affinity: Affinity) -> bytes | None:
    """The key that sticks ``request`` to a deployment under ``affinity``, or None (no affinity)."""
    level = _LEVEL[affinity]
    if level == 0:
        return None
    if request.prompt_cache_key:
        return b"k:" + request.prompt_cache_key.encode()
    if level == 1:
        return None
    start = _conversation_start(request)
    if start is not None:
        return b"c:" + hashlib.blake2b(start, digest_size=16).digest()
    if level == 2:
        return None
    user = request.user or (request.metadata or {}).get("user_id")
    return None if not user else b"u:" + user.encode()


def _conversation_start(request: ChatRequest) -> bytes | None:
    """The messages up to and including the first user message, encoded; None without one."""
    for i, m in enumerate(request.messages):
        if m.role == "user":
            return _encoder.encode(request.messages[: i + 1])
    return None


def rendezvous(key: bytes, deployments: Sequence[Deployment]) -> Deployment:
    """The deployment ``key`` belongs to: the highest score of hash(key, seat), weighted (a
    deployment of weight 2 gets twice the sessions of one of weight 1) by the logarithmic method."""
    best = deployments[0]
    top = -math.inf
    for d in deployments:
        h = int.from_bytes(hashlib.blake2b(key + b"\x00" + d.seat, digest_size=8).digest(), "big") >> 11
        score = -d.weight / math.log((h + 1) / _SPAN)  # uniform in (0, 1), never 1: a positive score
        if score > top:
            best, top = d, score
    return best
