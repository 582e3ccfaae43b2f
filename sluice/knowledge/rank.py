"""Search ranking, the same for every backend: reciprocal rank fusion of a full-text ranking and a
vector ranking, ``ranking_options.score_threshold``, and attribute ``filters`` in the shape of
OpenAI's vector store search (a comparison ``eq ne gt gte lt lte in nin`` on one key, or ``and`` /
``or`` over a list of filters), checked once and then evaluated over a chunk's attributes.

Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): a chunk at rank r (from 1) in a
ranking scores weight / (k + r) there, summed over the rankings. k = 10, not the paper's 60 (tuned
for merging many TREC runs): with two rankings, a smaller k lets a chunk first in one ranking beat
one 13th in both (k = 60 needs 63rd), which did better on the dev half of bench/knowledge_eval.py's
labelled set. The sum is divided by the best possible (rank 1 in every ranking), so a score is in
(0, 1] as the API's scores are and ``score_threshold`` means the same whatever k and the weights are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sluice.errors import InvalidRequestError

RRF_K = 10
MAX_FILTER_DEPTH = 8
MAX_FILTER_NODES = 256

Attribute = str | float | bool
Key = TypeVar("Key", bound=Hashable)

_COMPARISONS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})
_COMPOUNDS = frozenset({"and", "or"})


def fuse(
    rankings: Sequence[Sequence[Key]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[Key, float]]:
    """Items of every ranking (best first) fused by reciprocal rank, best first, with scores in
    (0, 1]; ties keep the order in which items were first seen."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings) or any(w < 0 for w in weights) or k < 0:
        raise ValueError("one non-negative weight per ranking and k >= 0")
    best = sum(w / (k + 1) for w in weights)
    scores: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(dict.fromkeys(ranking), 1):  # a repeated item counts once
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    if best <= 0:
        return [(item, 0.0) for item in scores]
    fused = sorted(scores.items(), key=lambda pair: -pair[1])
    return [(item, score / best) for item, score in fused]


def above(scored: Sequence[tuple[Key, float]], score_threshold: float) -> list[tuple[Key, float]]:
    """The results whose score is at least ``score_threshold`` (0 keeps all)."""
    return [(item, score) for item, score in scored if score >= score_threshold]


@dataclass(frozen=True, slots=True)
class Comparison:
    type: str
    key: str
    value: Attribute | tuple[str | float, ...]


@dataclass(frozen=True, slots=True)
class Compound:
    type: str
    filters: tuple[Comparison | Compound, ...]


Filter = Comparison | Compound


def parse_filter(body: object, param: str = "filters") -> Filter:
    """A request's ``filters`` checked into a ``Filter``; errors name the parameter by its path
    (``filters.filters[1].value``). Depth and size are bounded so a filter cannot be a bomb."""
    nodes = [0]
    return _parse(body, param, 1, nodes)


def _parse(body: object, param: str, depth: int, nodes: list[int]) -> Filter:
    nodes[0] += 1
    if depth > MAX_FILTER_DEPTH or nodes[0] > MAX_FILTER_NODES:
        raise InvalidRequestError(
            f"filters may nest {MAX_FILTER_DEPTH} deep and hold {MAX_FILTER_NODES} filters", param=param
        )
    if not isinstance(body, Mapping):
        raise InvalidRequestError("a filter must be an object", param=param)
    kind = body.get("type")
    if kind in _COMPOUNDS:
        _only(body, {"type", "filters"}, param)
        items = body.get("filters")
        if not isinstance(items, list) or not items:
            raise InvalidRequestError("filters must be a non-empty array", param=f"{param}.filters")
        parsed = tuple(_parse(f, f"{param}.filters[{i}]", depth + 1, nodes) for i, f in enumerate(items))
        return Compound(kind, parsed)
    if kind in _COMPARISONS:
        _only(body, {"type", "key", "value"}, param)
        key = body.get("key")
        if not isinstance(key, str) or not key:
            raise InvalidRequestError("key must be a non-empty string", param=f"{param}.key")
        return Comparison(kind, key, _value(kind, body.get("value"), f"{param}.value"))
    raise InvalidRequestError(
        "type must be one of eq, ne, gt, gte, lt, lte, in, nin, and, or", param=f"{param}.type"
    )


def _only(body: Mapping[str, Any], allowed: set[str], param: str) -> None:
    for name in sorted(set(body) - allowed):
        raise InvalidRequestError(f"unknown parameter {name}", param=f"{param}.{name}")


def _value(kind: str, value: object, param: str) -> Attribute | tuple[str | float, ...]:
    if kind in ("in", "nin"):
        if not isinstance(value, list) or not all(_is_scalar(v) and not isinstance(v, bool) for v in value):
            raise InvalidRequestError(f"{kind} needs an array of strings or numbers", param=param)
        return tuple(value)
    if not _is_scalar(value):
        raise InvalidRequestError("value must be a string, number or boolean", param=param)
    if kind in ("gt", "gte", "lt", "lte") and isinstance(value, bool):
        raise InvalidRequestError(f"{kind} compares numbers or strings, not booleans", param=param)
    return value  # type: ignore[return-value]  # _is_scalar checked it


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float)


def matches(f: Filter, attributes: Mapping[str, Attribute]) -> bool:
    """Whether a chunk's (its file's) attributes satisfy the filter. A comparison on a key the
    attributes lack, or between different types (a boolean is not a number), is false, ``ne`` and
    ``nin`` included, as in SQL, so the SQL translation can agree."""
    if isinstance(f, Compound):
        results = (matches(sub, attributes) for sub in f.filters)
        return all(results) if f.type == "and" else any(results)
    if f.key not in attributes:
        return False
    have = attributes[f.key]
    if f.type in ("in", "nin"):
        assert isinstance(f.value, tuple)
        found = any(_same_type(have, v) and have == v for v in f.value)
        return found == (f.type == "in") and not isinstance(have, bool)
    want = f.value
    assert not isinstance(want, tuple)
    if not _same_type(have, want):
        return False
    if f.type == "eq":
        return have == want
    if f.type == "ne":
        return have != want
    if isinstance(have, bool) or isinstance(want, bool):
        return False
    if f.type == "gt":
        return have > want  # type: ignore[operator]  # same type, checked above
    if f.type == "gte":
        return have >= want  # type: ignore[operator]
    if f.type == "lt":
        return have < want  # type: ignore[operator]
    return have <= want  # type: ignore[operator]


def _same_type(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    return True  # two numbers
