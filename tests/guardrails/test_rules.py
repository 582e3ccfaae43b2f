"""Content rules: deny-listed phrases as whole words in any case, named regexes, built-in
categories; on a stream a match split across chunks is still found, and a violation stops the
stream (or is masked) before its text goes out."""

from __future__ import annotations

import random

import pytest

from sluice.errors import GuardrailError
from sluice.guardrails.rules import CATEGORIES, RuleGate, Rules, Violation
from sluice.guardrails.stream import HoldBack


def matched(rules: Rules, text: str) -> list[tuple[str, str, str]]:
    return [(v.rule, v.category, text[v.span[0] : v.span[1]]) for v in rules.check(text)]


def test_deny_list_matches_whole_words_in_any_case_and_spacing() -> None:
    rules = Rules(deny=["Project Falcon", "acme"])
    text = "PROJECT  falcon ships; acme-corp and ACME too, but not acmeish or project falcons."
    assert matched(rules, text) == [
        ("Project Falcon", "deny_list", "PROJECT  falcon"),
        ("acme", "deny_list", "acme"),
        ("acme", "deny_list", "ACME"),
    ]


def test_phrases_with_punctuation_at_their_edges_match() -> None:
    rules = Rules(deny=["c++", ".env"])
    assert matched(rules, "my c++ code reads .env files") == [
        ("c++", "deny_list", "c++"),
        (".env", "deny_list", ".env"),
    ]


def test_categories_name_the_category_and_the_listed_word() -> None:
    rules = Rules(categories=["profanity", "self_harm"])
    assert matched(rules, "Damn, I want to KILL MYSELF") == [
        ("damn", "profanity", "Damn"),
        ("kill myself", "self_harm", "KILL MYSELF"),
    ]
    assert rules.check("violence words like kill you are not enabled") == []


def test_named_regexes_report_their_name_and_span() -> None:
    rules = Rules(patterns={"ticket": r"\bJIRA-\d+\b", "codename": r"(?i)\bblue\s?bird\b"})
    assert rules.check("see JIRA-123 for Blue bird") == [
        Violation("ticket", "regex", (4, 12)),
        Violation("codename", "regex", (17, 26)),
    ]


def test_no_rules_find_nothing() -> None:
    assert Rules().check("anything at all, damn") == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"categories": ["hate"]}, "unknown content category 'hate'"),
        ({"deny": ["ok", "  "]}, "empty phrase"),
        ({"patterns": {"broken": "(unclosed"}}, "'broken' is not a valid regex"),
    ],
)
def test_bad_settings_fail_when_built(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rules(**kwargs)


def test_the_built_in_lists_stay_short() -> None:
    assert set(CATEGORIES) == {"profanity", "violence", "self_harm"}
    assert all(len(words) <= 10 for words in CATEGORIES.values())


RULES = Rules(deny=["project falcon"], patterns={"ticket": r"JIRA-\d+"}, categories=["profanity", "violence"])
WORD_RULES = Rules(deny=["project falcon"], categories=["profanity", "violence", "self_harm"])
WORDS = "the answer talks about project falcon and JIRA-42 then damn it all i will not kill you ok".split()


def stream_text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 80)))


def fed(hb: HoldBack, text: str, rng: random.Random) -> str:
    out, pos = [], 0
    while pos < len(text):
        n = rng.randint(1, 7)
        out.append(hb.feed(text[pos : pos + n]))
        pos += n
    return "".join(out) + hb.flush()


@pytest.mark.parametrize("rules", [RULES, WORD_RULES], ids=["with a regex", "words only"])
def test_on_a_stream_the_violations_are_those_of_the_whole_answer(rules: Rules) -> None:
    rng = random.Random(42)
    for _ in range(200):
        text = stream_text(rng)
        gate = RuleGate(rules, mask="***")
        out = fed(HoldBack(gate, 32), text, rng)
        assert gate.violations == rules.check(text)
        expected, pos = [], 0
        for v in gate.violations:
            expected += (text[pos : v.span[0]], "***")
            pos = v.span[1]
        assert out == "".join([*expected, text[pos:]])


def test_a_phrase_split_across_chunks_is_caught_before_any_of_it_is_released() -> None:
    hb = HoldBack(RuleGate(RULES), 32)
    released = hb.feed("Nothing to see here, just the project fal")
    assert "project" not in released
    with pytest.raises(GuardrailError) as e:
        hb.feed("con plan for the rest of this long answer")
    assert e.value.code == "content_policy_violation" and "deny_list" in e.value.message


def test_overlapping_matches_are_masked_once() -> None:
    rules = Rules(patterns={"a": r"abc def", "b": r"def ghi"})
    gate = RuleGate(rules, mask="#")
    assert fed(HoldBack(gate, 16), "x abc def ghi y", random.Random(1)) == "x # y"
    assert [v.rule for v in gate.violations] == ["a", "b"]


def test_with_words_only_just_the_words_a_phrase_may_still_need_are_held() -> None:
    hb = HoldBack(RuleGate(WORD_RULES), 64)  # "build a bomb": three words, so two are held
    assert hb.feed("Here is how we build a") == "Here is how we "
    with pytest.raises(GuardrailError):
        hb.feed(" bomb, step by step")


def test_a_regex_keeps_the_whole_window_held() -> None:
    hb = HoldBack(RuleGate(RULES), 16)
    assert hb.feed("short words only here and there") == "short words "
