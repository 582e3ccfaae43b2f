"""One prompt-injection score for a text: the rules' (``injection.py``) alone, or the rules and the
learned detector (``learned.py``) joined into one score; the model runs only on texts where the
rules found some evidence, so a clean prompt pays nothing for it. The category is the
rules' when they found something, else ``prompt_injection`` (``indirect_injection`` for data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sluice.guardrails.normalize import normalize

if TYPE_CHECKING:  # numpy is imported only when the learned detector is on
    from sluice.guardrails.learned import LearnedDetector


class Scored(NamedTuple):
    score: float
    category: str


class InjectionScorer:
    """``scorer(text, source)`` with ``source`` one of user, tool, document."""

    def __init__(self, detector: LearnedDetector | None = None) -> None:
        self._detector = detector

    def __call__(self, text: str, source: str) -> Scored:
        # The rules' ~700 patterns compile on first use (~30 ms), not at import: most policies
        # leave injection off.
        from sluice.guardrails import injection

        src: injection.Source = "user" if source == "user" else "tool" if source == "tool" else "document"
        verdict = injection.score(text, source=src)
        rule_score = 0.0 if verdict is None else verdict.score
        if self._detector is None or not self._detector.calibration.consulted(rule_score):
            return Scored(rule_score, verdict.category.value if verdict else _generic(src))
        norm = normalize(text)
        logit = max(self._detector.logit(body) for body in [norm.text, *(b for _, b in norm.readings)])
        p = self._detector.calibration.probability(logit, rule_score)
        category = verdict.category.value if verdict is not None else _generic(src)
        return Scored(round(p, 4), category)


def _generic(source: str) -> str:
    return "prompt_injection" if source == "user" else "indirect_injection"
