# ruff: noqa: TID251 (a synchronous driver script outside the gateway: sleeping is fine)
"""The prompt-injection held-out sets sent through a running gateway, the way a client meets the
guardrails: ``sluice serve`` on loopback with the sim upstream and ``guardrails.policy``
``injection: flag``. Each item is one chat request, placed where its channel says:

- ``user``: the user's message;
- ``tool``: the result of a tool call the assistant made (``role: tool``);
- ``document``: a document in the system message, by the ``<documents>`` convention
  (``--documents announced`` puts it after "Answer from the document below." with no tag).

What the gateway found is read from the answer's ``x-sluice-guardrails`` header: an attack counts
as found when it is flagged, a benign item is a false positive when it is. Printed per family and
overall, held-out split first, then the second held-out set (``injection_fresh.py``).

    .venv/bin/python bench/injection_eval_gateway.py [--split heldout|fresh|all|train] [--documents tagged|announced]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import guardrails_data, injection_fresh  # noqa: E402
from bench.guard_gateway import guarded_gateway  # noqa: E402
from tests.fixtures.http import call  # noqa: E402

KEY = "sk-eval-injection"


def messages(row: dict[str, str], documents: str) -> list[dict[str, Any]]:
    text, channel = row["text"], row["channel"]
    if channel == "tool":
        call_ = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
        return [
            {"role": "user", "content": "Look this up for me, please."},
            {"role": "assistant", "content": None, "tool_calls": [call_]},
            {"role": "tool", "tool_call_id": "call_1", "content": text},
        ]
    if channel == "document":
        system = (
            f"You are a helpful assistant. Answer from the documents.\n<documents><document>{text}</document></documents>"
            if documents == "tagged"
            else f"You are a helpful assistant.\nAnswer from the document below.\n{text}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": "What does it say?"}]
    return [{"role": "user", "content": text}]


def flagged(base_url: str, row: dict[str, str], documents: str) -> bool:
    body = {"model": "gpt-4o-mini", "messages": messages(row, documents), "max_tokens": 16}
    r = call("POST", base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {KEY}"})
    if r.status != 200:
        raise RuntimeError(f"gateway answered {r.status}: {r.text[:300]}")
    return r.headers.get("x-sluice-guardrails", "").startswith("flag")


def report(name: str, rows: list[dict[str, str]], hits: list[bool]) -> None:
    print(f"\n== {name} ==")
    total: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for r, hit in zip(rows, hits, strict=True):
        total[(r["label"], r["family"])] += 1
        found[(r["label"], r["family"])] += hit
    for label, what in (("injection", "flagged (recall)"), ("benign", "flagged (false positives)")):
        print(f"-- {label}: {what}")
        for (lab, family), n in sorted(total.items()):
            if lab == label:
                print(f"{family:<36} {n:>5} {found[(lab, family)] / n:>7.3f}")
    attacks = [h for r, h in zip(rows, hits, strict=True) if r["label"] == "injection"]
    benign = [h for r, h in zip(rows, hits, strict=True) if r["label"] == "benign"]
    near = [h for r, h in zip(rows, hits, strict=True) if r["family"].startswith("near_miss")]
    print(
        f"{name}: recall {sum(attacks) / len(attacks):.3f} ({len(attacks)} attacks), benign false positives "
        f"{sum(benign) / len(benign):.2%} ({len(benign)})"
        + (f", near-miss false positives {sum(near) / len(near):.2%} ({len(near)})" if near else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("heldout", "fresh", "all", "train"), default="all")
    parser.add_argument("--documents", choices=("tagged", "announced"), default="tagged")
    args = parser.parse_args()
    sets = []
    if args.split in ("heldout", "all"):
        sets.append(("heldout", [r for r in guardrails_data.rows() if r["split"] == "heldout"]))
    if args.split in ("fresh", "all"):
        sets.append(("fresh", injection_fresh.rows()))
    if args.split == "train":  # for development: the held-out sets are for the evaluation at the end
        sets.append(("train", [r for r in guardrails_data.rows() if r["split"] == "train"]))
    with guarded_gateway(KEY, {"injection": "flag"}) as base_url:
        # The learned detector loads on the first text it is needed for: ask it once, then wait.
        flagged(base_url, {"text": "From now on, answer in French.", "channel": "user"}, args.documents)
        time.sleep(3)
        for name, rows in sets:
            with ThreadPoolExecutor(4) as pool:
                hits = list(pool.map(lambda r: flagged(base_url, r, args.documents), rows))
            report(f"{name} (through the gateway, documents {args.documents})", rows, hits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
