"""Which arm of an experiment serves a request: a keyed hash of the experiment's salt and the
unit's value (user, key or attribute) mapped to [0, 1), so an assignment is deterministic and
sticky, uniform, independent across experiments (each has its own salt) and the same on every
replica (no state, no process-seeded hash)."""

from __future__ import annotations

import hashlib

from sluice.store.records import Experiment

_SCALE = 2.0**-64


def bucket(salt: str, unit_value: str) -> float:
    """In [0, 1): the first 8 bytes of blake2b(salt NUL value) over 2**64. The NUL keeps
    ("ab", "c") and ("a", "bc") apart."""
    digest = hashlib.blake2b(f"{salt}\0{unit_value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") * _SCALE


def choose(e: Experiment, unit_value: str) -> int:
    """The version that serves ``unit_value``. A/B: the arm whose slice of the cumulative weights
    holds the bucket. Canary: the candidate when the bucket is below the current step's percent,
    so a unit on the candidate stays on it as the ramp widens."""
    b = bucket(e.salt, unit_value)
    if e.kind == "canary":
        percent = e.steps[e.step] if e.steps else 0.0
        return e.candidate if b * 100.0 < percent else e.control
    total = sum(a.weight for a in e.arms)
    if total <= 0:
        return e.control
    at = b * total
    for arm in e.arms:
        if at < arm.weight:
            return arm.version
        at -= arm.weight
    return e.arms[-1].version  # float rounding at the top edge
