from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sluice.errors import InvalidRequestError
from sluice.knowledge.rank import RRF_K, Comparison, Compound, above, fuse, matches, parse_filter


def test_fusion_is_reciprocal_rank_with_k_10() -> None:
    assert RRF_K == 10
    fused = dict(fuse([["a", "b", "c"], ["b", "d"]]))
    best = 2 / 11
    assert fused["b"] == pytest.approx((1 / 12 + 1 / 11) / best)
    assert fused["a"] == pytest.approx((1 / 11) / best)
    assert fused["d"] == pytest.approx((1 / 12) / best)
    assert [item for item, _ in fuse([["a", "b", "c"], ["b", "d"]])] == ["b", "a", "d", "c"]
    # first in one ranking beats 13th in both (with the paper's k = 60 it takes 63rd)
    one = [f"a{i}" for i in range(12)]
    other = [f"b{i}" for i in range(12)]
    fused = dict(fuse([["x", *one, "z"], ["y", *other, "z"]]))
    assert fused["x"] > fused["z"]
    fused = dict(fuse([["x", *one, "z"], ["y", *other, "z"]], k=60))
    assert fused["x"] < fused["z"]


def test_first_in_every_ranking_scores_one_and_weights_count() -> None:
    assert fuse([["x"], ["x"]]) == [("x", pytest.approx(1.0))]
    text_only = fuse([["a", "b"], ["b", "a"]], weights=[1.0, 0.0])
    assert [item for item, _ in text_only] == ["a", "b"]
    assert fuse([["a"], ["b"]], k=0)[0][1] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="weight"):
        fuse([["a"]], weights=[1.0, 1.0])


def test_a_repeated_item_counts_once_per_ranking() -> None:
    assert dict(fuse([["a", "a", "b"]]))["b"] == pytest.approx(11 / 12)


@given(st.lists(st.lists(st.integers(0, 30), max_size=20), min_size=1, max_size=3), st.integers(0, 100))
def test_fused_scores_are_in_0_1_and_sorted(rankings, k) -> None:
    fused = fuse(rankings, k=k)
    assert {item for item, _ in fused} == {i for r in rankings for i in r}
    assert all(0 < s <= 1 + 1e-9 for _, s in fused)
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


def test_score_threshold() -> None:
    scored = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    assert above(scored, 0.5) == [("a", 0.9), ("b", 0.5)]
    assert above(scored, 0.0) == scored


ATTRS = {"author": "ana", "year": 2024, "score": 4.5, "draft": False}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "eq", "key": "author", "value": "ana"}, True),
        ({"type": "eq", "key": "author", "value": "bo"}, False),
        ({"type": "ne", "key": "author", "value": "bo"}, True),
        ({"type": "gt", "key": "year", "value": 2023}, True),
        ({"type": "gte", "key": "year", "value": 2024}, True),
        ({"type": "lt", "key": "year", "value": 2024}, False),
        ({"type": "lte", "key": "score", "value": 4.5}, True),
        ({"type": "gt", "key": "author", "value": "a"}, True),
        ({"type": "eq", "key": "draft", "value": False}, True),
        ({"type": "eq", "key": "draft", "value": 0}, False),  # a boolean is not a number
        ({"type": "eq", "key": "year", "value": "2024"}, False),  # nor a string
        ({"type": "ne", "key": "missing", "value": "x"}, False),  # a missing key matches nothing
        ({"type": "in", "key": "author", "value": ["ana", "bo"]}, True),
        ({"type": "in", "key": "year", "value": [2023, 2025]}, False),
        ({"type": "nin", "key": "year", "value": [2023, 2025]}, True),
        ({"type": "nin", "key": "missing", "value": ["x"]}, False),
        (
            {
                "type": "and",
                "filters": [
                    {"type": "eq", "key": "author", "value": "ana"},
                    {
                        "type": "or",
                        "filters": [
                            {"type": "lt", "key": "year", "value": 2000},
                            {"type": "eq", "key": "draft", "value": False},
                        ],
                    },
                ],
            },
            True,
        ),
        (
            {
                "type": "and",
                "filters": [
                    {"type": "eq", "key": "author", "value": "ana"},
                    {"type": "eq", "key": "draft", "value": True},
                ],
            },
            False,
        ),
        (
            {
                "type": "or",
                "filters": [
                    {"type": "eq", "key": "author", "value": "bo"},
                    {"type": "gt", "key": "score", "value": 4},
                ],
            },
            True,
        ),
    ],
)
def test_filters_match_attributes(body, expected) -> None:
    assert matches(parse_filter(body), ATTRS) is expected


def test_parsed_filter_shape() -> None:
    f = parse_filter({"type": "or", "filters": [{"type": "in", "key": "k", "value": ["a", 1]}]})
    assert f == Compound("or", (Comparison("in", "k", ("a", 1)),))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ("eq", "filters"),
        ({"type": "like", "key": "a", "value": "b"}, "filters.type"),
        ({"key": "a", "value": "b"}, "filters.type"),
        ({"type": "eq", "key": "", "value": "b"}, "filters.key"),
        ({"type": "eq", "key": "a", "value": None}, "filters.value"),
        ({"type": "eq", "key": "a", "value": {"x": 1}}, "filters.value"),
        ({"type": "gt", "key": "a", "value": True}, "filters.value"),
        ({"type": "in", "key": "a", "value": "b"}, "filters.value"),
        ({"type": "in", "key": "a", "value": [True]}, "filters.value"),
        ({"type": "eq", "key": "a", "value": 1, "extra": 1}, "filters.extra"),
        ({"type": "and", "filters": []}, "filters.filters"),
        (
            {"type": "and", "filters": [{"type": "eq", "key": "a", "value": 1}, {"type": "x"}]},
            "filters.filters[1].type",
        ),
        (
            {"type": "or", "filters": [{"type": "and", "filters": [{"type": "eq", "key": "a"}]}]},
            "filters.filters[0].filters[0].value",
        ),
    ],
)
def test_filter_errors_name_the_parameter(body, param) -> None:
    with pytest.raises(InvalidRequestError) as e:
        parse_filter(body)
    assert e.value.param == param
    assert e.value.status == 400


def test_a_filter_bomb_is_refused() -> None:
    deep: dict = {"type": "eq", "key": "a", "value": 1}
    for _ in range(20):
        deep = {"type": "and", "filters": [deep]}
    with pytest.raises(InvalidRequestError, match="nest"):
        parse_filter(deep)
    wide = {"type": "or", "filters": [{"type": "eq", "key": "a", "value": i} for i in range(300)]}
    with pytest.raises(InvalidRequestError, match="nest"):
        parse_filter(wide)
