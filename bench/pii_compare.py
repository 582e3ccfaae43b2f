"""Sluice's PII and secrets recognisers beside Presidio's and detect-secrets' on the held-out set
``bench/data/pii_heldout.jsonl`` (issue 21; never tuned on, see bench/data/make_pii_heldout.py):
recall per family, near-miss false positives per family, the totals, and CPU per 1k tokens.

A positive counts as found when a finding overlaps its value (any kind: the detectors name kinds
differently, and detect-secrets reports a part of some tokens, ``ghp`` of a GitHub token, or a
private key's BEGIN line); a near miss counts as a false positive when anything is found in it.
``sluice`` also gets a stricter line: the value covered whole, as a PII kind or a secret kind as
labelled (what redaction needs).

- Presidio (presidio-analyzer): its recognisers that need no NLP model, called directly, for the
  entities that match these families (cards, emails, IBANs, IPs, phones via ``phonenumbers``, US
  SSNs, and the national ids it has: UK NINO, German tax id, Spanish NIF/NIE, Italian fiscal code,
  Aadhaar, Australian TFN, Canadian SIN). No spaCy model is installed: the ones on PyPI are
  third-party re-uploads, so its NER (names, places) and context-word boosting are off; it runs at
  its default threshold (0: everything a recogniser returns) and at 0.5.
- detect-secrets: its default plugins and filters over each line, as ``detect-secrets scan`` runs
  on a file.

CPU: ``time.process_time`` over repeated calls on a 4,096-character prompt without PII (about 1,000
tokens; bench/pii_speed.py's), per call.

    bash scripts/install.sh --bench   # presidio-analyzer and detect-secrets (requirements/bench.lock)
    .venv/bin/python bench/pii_compare.py [--verbose]
"""

from __future__ import annotations

import argparse
import base64
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from bench.pii_speed import CLEAN, fill
from sluice.guardrails.pii import PII, SECRETS, find

HELDOUT = Path(__file__).with_name("data") / "pii_heldout.jsonl"
TARGET_PII, TARGET_SECRETS, TARGET_FP = 0.98, 0.95, 0.01

Span = tuple[int, int, str]


class Item(NamedTuple):
    category: str  # pii, secret, near_miss
    family: str
    text: str
    start: int  # of the value in text; -1 for a near miss
    end: int


def load() -> list[Item]:
    items = []
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        raw: dict[str, str] = msgspec.json.decode(line)
        value = raw.get("value") or base64.b64decode(raw.get("value_b64", "")).decode()
        template = raw["text"]
        if raw["category"] == "near_miss":
            items.append(Item("near_miss", raw["family"], template, -1, -1))
            continue
        start = template.index("{}")
        text = template[:start] + value + template[start + 2 :]
        items.append(Item(raw["category"], raw["family"], text, start, start + len(value)))
    return items


# --- the three detectors ---------------------------------------------------------------------------


def sluice(text: str) -> list[Span]:
    return [(f.start, f.end, f.kind.value) for f in find(text)]


PRESIDIO_RECOGNISERS = (
    "CreditCardRecognizer EmailRecognizer IbanRecognizer IpRecognizer PhoneRecognizer UsSsnRecognizer "
    "UkNinoRecognizer DeTaxIdRecognizer EsNifRecognizer EsNieRecognizer ItFiscalCodeRecognizer "
    "InAadhaarRecognizer AuTfnRecognizer CaSinRecognizer"
).split()


def presidio(threshold: float) -> Callable[[str], list[Span]]:
    import presidio_analyzer.predefined_recognizers as predefined
    import tldextract

    # Presidio's email recogniser checks domains with tldextract, which would download the public
    # suffix list: the snapshot shipped in the package instead, offline.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    recognisers: list[Any] = []
    for name in PRESIDIO_RECOGNISERS:
        cls = getattr(predefined, name)
        recognisers.append(cls())

    def analyze(text: str) -> list[Span]:
        spans: list[Span] = []
        for r in recognisers:
            for res in r.analyze(text, r.supported_entities, None) or []:
                if res.score >= threshold:
                    spans.append((res.start, res.end, res.entity_type))
        return spans

    return analyze


def detect_secrets() -> Callable[[str], list[Span]]:
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    settings = default_settings()
    settings.__enter__()  # the default plugins and filters, kept for the whole run

    def analyze(text: str, settings: Any = settings) -> list[Span]:  # holding it keeps them set
        spans: list[Span] = []
        lines = text.split("\n")
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        for secret in _process_line_based_plugins(list(enumerate(lines, 1)), "prompt.txt"):
            value = secret.secret_value or ""
            base = offsets[secret.line_number - 1]
            at = lines[secret.line_number - 1].find(value)
            if value and at != -1:
                spans.append((base + at, base + at + len(value), secret.type))
        return spans

    return analyze


# --- scoring ---------------------------------------------------------------------------------------


def overlaps(spans: list[Span], item: Item) -> bool:
    return any(s < item.end and e > item.start for s, e, _ in spans)


def covers(spans: list[Span], item: Item) -> bool:
    return any(s <= item.start and e >= item.end for s, e, _ in spans)


def kind_exact(spans: list[Span], item: Item) -> bool:
    kinds = {k.value for k in (PII if item.category == "pii" else SECRETS)}
    return any(s <= item.start and e >= item.end and k in kinds for s, e, k in spans)


def cpu_us_per_1k_tokens(detector: Callable[[str], list[Span]]) -> float:
    text = fill(CLEAN)  # 4,096 characters, ~1,000 tokens
    detector(text)
    n, best = 200, float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(n):
            detector(text)
        best = min(best, (time.process_time() - t0) / n * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list Sluice's misses and false positives")
    args = parser.parse_args()
    items = load()
    detectors: dict[str, Callable[[str], list[Span]]] = {
        "sluice": sluice,
        "presidio": presidio(0.0),
        "presidio>=0.5": presidio(0.5),
        "detect-secrets": detect_secrets(),
    }
    results = {name: [d(item.text) for item in items] for name, d in detectors.items()}
    names = list(detectors)
    n_pii = sum(i.category == "pii" for i in items)
    n_sec = sum(i.category == "secret" for i in items)
    n_near = sum(i.category == "near_miss" for i in items)
    print(f"== held-out PII and secrets set: {n_pii} PII, {n_sec} secrets, {n_near} near misses ==")
    print(f"{'category':<9} {'family':<22} {'n':>3} " + " ".join(f"{n:>14}" for n in names))
    for category in ("pii", "secret", "near_miss"):
        by_family: dict[str, list[int]] = defaultdict(list)
        for idx, item in enumerate(items):
            if item.category == category:
                by_family[item.family].append(idx)
        for family, idxs in by_family.items():
            cells = []
            for name in names:
                if category == "near_miss":
                    share = sum(bool(results[name][i]) for i in idxs) / len(idxs)
                else:
                    share = sum(overlaps(results[name][i], items[i]) for i in idxs) / len(idxs)
                cells.append(f"{share:>14.3f}")
            print(f"{category:<9} {family:<22} {len(idxs):>3} " + " ".join(cells))
    print()
    print(f"{'':<36}" + " ".join(f"{n:>14}" for n in names))
    for label, category in (("PII recall", "pii"), ("secret recall", "secret")):
        idxs = [i for i, item in enumerate(items) if item.category == category]
        row = [sum(overlaps(results[n][i], items[i]) for i in idxs) / len(idxs) for n in names]
        print(f"{label:<36}" + " ".join(f"{v:>14.3f}" for v in row))
    idxs = [i for i, item in enumerate(items) if item.category == "near_miss"]
    row = [sum(bool(results[n][i]) for i in idxs) / len(idxs) for n in names]
    print(f"{'near-miss false positives':<36}" + " ".join(f"{v:>14.1%}" for v in row))
    cpu = [cpu_us_per_1k_tokens(detectors[n]) for n in names]
    print(f"{'CPU us per 1k-token prompt':<36}" + " ".join(f"{v:>14.1f}" for v in cpu))
    for label, category, target in (("PII", "pii", TARGET_PII), ("secret", "secret", TARGET_SECRETS)):
        idxs = [i for i, item in enumerate(items) if item.category == category]
        exact = sum(kind_exact(results["sluice"][i], items[i]) for i in idxs) / len(idxs)
        print(f"sluice {label} recall, value covered whole as its kind: {exact:.3f} (target >= {target})")
    if args.verbose:
        for i, item in enumerate(items):
            hits = [(item.text[s:e], k) for s, e, k in results["sluice"][i]]
            if item.category == "near_miss" and hits:
                print(f"  false positive [{item.family}] {item.text[:100]!r}: {hits}")
            elif item.category != "near_miss" and not covers(results["sluice"][i], item):
                value = item.text[item.start : item.end]
                print(f"  missed [{item.family}] {value[:50]!r} in {item.text[:100]!r}: {hits}")


if __name__ == "__main__":
    main()
