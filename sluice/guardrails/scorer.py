"""One prompt-injection score for a text: the rules' (``injection.py``) alone, or the rules and the
learned detector (``learned.py``) joined into one score; the model runs only on texts where the
rules found some evidence, so a clean prompt pays nothing for it. The category is the
rules' when they found something, else ``prompt_injection`` (``indirect_injection`` for data)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from sluice.guardrails.normalize import normalize

if TYPE_CHECKING:  # numpy is imported only when the learned detector is on
    from sluice.guardrails.learned import LearnedDetector


log = logging.getLogger("sluice.guardrails")

_LOWEST_CONSULTED = 0.05
"""Below this rules' score no calibration consults the model: no reason to load it yet."""


def load_learned_detector() -> LearnedDetector:
    """The committed model; numpy is imported here, not when this module is."""
    from sluice.guardrails.learned import LearnedDetector

    return LearnedDetector.load()


class Scored(NamedTuple):
    score: float
    category: str


class InjectionScorer:
    """``scorer(text, source)`` with ``source`` one of user, tool, document.

    With ``load`` instead of a detector, the model (numpy and a 0.5 MB file, ~14 MiB resident)
    is loaded in a background thread the first time a text needs it, and texts are scored by the
    rules alone until it is there: a gateway that never sees a doubtful
    text does not pay its memory, and no request waits for it."""

    def __init__(
        self, detector: LearnedDetector | None = None, *, load: Callable[[], LearnedDetector] | None = None
    ) -> None:
        self._detector = detector
        self._load = load
        self._loading = threading.Lock()

    def _model(self) -> LearnedDetector | None:
        if self._detector is None and self._load is not None and self._loading.acquire(blocking=False):
            threading.Thread(
                target=self._load_in_background, name="sluice-learned-injection", daemon=True
            ).start()
        return self._detector

    def _load_in_background(self) -> None:
        assert self._load is not None
        try:
            self._detector = self._load()
        except Exception:  # the rules go on alone; said once
            log.warning("guardrails: the learned injection detector could not be loaded", exc_info=True)
        self._load = None

    def __call__(self, text: str, source: str) -> Scored:
        # The rules' ~700 patterns compile on first use (~30 ms), not at import: most policies
        # leave injection off.
        from sluice.guardrails import injection

        src: injection.Source = "user" if source == "user" else "tool" if source == "tool" else "document"
        verdict = injection.score(text, source=src)
        rule_score = 0.0 if verdict is None else verdict.score
        detector = self._detector if rule_score < _LOWEST_CONSULTED else self._model()
        if detector is None or not detector.calibration.consulted(rule_score):
            return Scored(rule_score, verdict.category.value if verdict else _generic(src))
        norm = normalize(text)
        logit = max(detector.logit(body) for body in [norm.text, *(b for _, b in norm.readings)])
        p = detector.calibration.probability(logit, rule_score)
        category = verdict.category.value if verdict is not None else _generic(src)
        return Scored(round(p, 4), category)


def _generic(source: str) -> str:
    return "prompt_injection" if source == "user" else "indirect_injection"
