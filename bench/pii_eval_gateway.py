"""The PII and secrets held-out set (``bench/data/pii_heldout.jsonl``, see ``pii_compare.py``)
sent through a running gateway, the way a client meets the guardrails: ``sluice serve`` on
loopback with the sim upstream and ``guardrails.policy`` ``pii: flag``, ``secrets: flag``; each
item is one chat request as the user's message, and what the gateway found is read from the
answer's ``x-sluice-guardrails`` header (``flag:pii``, ``flag:secrets``).

A PII item counts as found when the header flags ``pii``; a secret when it flags ``secrets``; a
near miss is a false positive when it flags anything. The header says which category, not
which span, so this is the gateway-level figure; ``pii_compare.py`` checks the span itself.

    .venv/bin/python bench/pii_eval_gateway.py
"""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.guard_gateway import guarded_gateway  # noqa: E402
from bench.pii_compare import TARGET_FP, TARGET_PII, TARGET_SECRETS, Item, load  # noqa: E402
from tests.fixtures.http import call  # noqa: E402

KEY = "sk-eval-pii"


def flags(base_url: str, item: Item) -> set[str]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": item.text}], "max_tokens": 16}
    r = call("POST", base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {KEY}"})
    if r.status != 200:
        raise RuntimeError(f"gateway answered {r.status}: {r.text[:300]}")
    header = r.headers.get("x-sluice-guardrails", "")
    return {part.split(":", 1)[1] for part in header.split(",") if ":" in part and part.startswith("flag")}


def main() -> int:
    items = load()
    with guarded_gateway(KEY, {"pii": "flag", "secrets": "flag"}) as base_url:
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(lambda it: flags(base_url, it), items))
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses = []
    for item, f in zip(items, found, strict=True):
        want = {"pii": "pii", "secret": "secrets"}.get(item.category)
        key = f"{item.category}/{item.family}"
        total[key] += 1
        ok = (want in f) if want is not None else not f
        if ok:
            hit[key] += 1
        else:
            misses.append((key, sorted(f), item.text[:90]))
    print(f"{len(items)} held-out items through the gateway (pii: flag, secrets: flag)")
    for key in sorted(total):
        print(f"  {key:40s} {hit[key]:4d}/{total[key]:<4d}")

    def share(category: str) -> tuple[int, int]:
        keys = [k for k in total if k.startswith(category + "/")]
        return sum(hit[k] for k in keys), sum(total[k] for k in keys)

    (p_ok, p_n), (s_ok, s_n), (n_ok, n_n) = share("pii"), share("secret"), share("near_miss")
    fp = (n_n - n_ok) / n_n if n_n else 0.0
    print(
        f"PII recall {p_ok / p_n:.3f} ({p_ok}/{p_n}), secret recall {s_ok / s_n:.3f} ({s_ok}/{s_n}), "
        f"near-miss false positives {fp:.1%} ({n_n - n_ok}/{n_n})"
    )
    for key, f, text in misses:
        print(f"  miss {key}: flagged {f or 'nothing'}: {text!r}")
    met = p_ok / p_n >= TARGET_PII and s_ok / s_n >= TARGET_SECRETS and fp <= TARGET_FP
    print("goals (PII >= 0.98, secrets >= 0.95, near misses <= 1%):", "met" if met else "not met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
