"""The semantic cache measured through a running gateway, on pairs nobody tuned on first.

For every pair of ``bench/data/cache_pairs_heldout.jsonl`` (the held-out half, never tuned on) and
``bench/data/cache_pairs_dev.jsonl`` (the tuning half) the gateway is asked ``a`` (after its
earlier turns, if any), then, once that answer is kept, ``b``; a hit is ``x-sluice-cache: semantic``
(or ``hit``) on ``b``. Each pair gets a system prompt of its own ("Evaluation pair N."), so a
question can only match the question it was paired with, not another pair's. The gateway runs as
a subprocess with the sim upstream and examples/semantic-cache.yaml's policy, on the embedded
backend (SQLite) and on the distributed one (PostgreSQL with pgvector, Redis), both started here
by the test fixtures' helpers and stopped by PID.

Printed, held-out first: precision and recall, the false-hit rate of each near-miss family, and
shadow mode's estimated false-hit rate beside the labelled truth (the same pairs through a
gateway whose policy is ``semantic: shadow``).

    .venv/bin/python bench/cache_eval_gateway.py              # both backends
    .venv/bin/python bench/cache_eval_gateway.py --embedded   # SQLite only
    .venv/bin/python bench/cache_eval_gateway.py --offline    # no gateway: the same decision in-process
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.http import call  # noqa: E402
from tests.fixtures.procs import Proc, free_port, start  # noqa: E402
from tests.fixtures.services import pg_fetchval, start_postgres, start_redis  # noqa: E402
from tests.fixtures.wait import eventually  # noqa: E402

DATA = REPO / "bench" / "data"
SETS = (("held-out", DATA / "cache_pairs_heldout.jsonl"), ("dev", DATA / "cache_pairs_dev.jsonl"))
KEY = "sk-eval-cache"
ADMIN = "sk-eval-admin"
SERVED = ("semantic", "hit")


class Turn(msgspec.Struct):
    role: str
    content: str


class Pair(msgspec.Struct):
    a: str
    b: str
    same: bool
    category: str
    history_a: list[Turn] = []
    history_b: list[Turn] = []


@dataclass
class Result:
    pairs: list[Pair]
    hits: list[bool]
    shadow: dict[str, Any] = field(default_factory=dict)


def load(path: Path) -> list[Pair]:
    decoder = msgspec.json.Decoder(Pair)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]


def config(state: dict[str, Any], semantic: str) -> dict[str, Any]:
    """examples/semantic-cache.yaml's policy (``semantic`` on or shadow), with an admin key."""
    return {
        "auth": {"keys": [{"key": KEY, "name": "eval"}]},
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "providers": {"sim": {"type": "sim"}},
        "models": {"gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-gpt-4o-mini"}]}},
        "cache": {
            "enabled": True,
            "policy": {"exact": True, "semantic": semantic, "ttl_s": 3600, "deterministic_only": False},
            "semantic": {"embedding": "local", "lookup_timeout_ms": 5000},
        },
        "state": state,
        "logging": {"level": "warning"},
    }


@contextlib.contextmanager
def gateway(tmp: Path, cfg: dict[str, Any]) -> Iterator[Proc]:
    port = free_port()
    cfg = {**cfg, "server": {"host": "127.0.0.1", "port": port}}
    path = tmp / f"gateway-{port}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = start(["serve", "--config", str(path)], tmp / f"gateway-{port}.log", "/health/live", port)
    try:
        yield proc
    finally:
        proc.stop()


def messages(tag: str, history: list[Turn], question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": f"Evaluation pair {tag}."},
        *({"role": t.role, "content": t.content} for t in history),
        {"role": "user", "content": question},
    ]


def ask(gw: Proc, msgs: list[dict[str, str]]) -> str:
    body = {"model": "gpt-4o-mini", "messages": msgs, "temperature": 0}
    r = call("POST", gw.base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {KEY}"})
    if r.status != 200:
        raise RuntimeError(f"gateway answered {r.status}: {r.text[:300]}")
    return r.headers.get("x-sluice-cache", "")


def wait_kept(count: Any, want: int, timeout_s: float = 120) -> None:
    eventually(lambda: count() >= want or None, timeout_s, f"{want} answers kept")


def run_set(gw: Proc, name: str, pairs: list[Pair], count: Any, already: int) -> list[bool]:
    """Ask every ``a``, wait until all are kept, then ask every ``b``: which ``b`` were served."""
    with ThreadPoolExecutor(4) as pool:
        firsts = list(
            pool.map(
                lambda ip: ask(gw, messages(f"{name}-{ip[0]}", ip[1].history_a, ip[1].a)), enumerate(pairs)
            )
        )
        if any(s in SERVED for s in firsts):
            raise RuntimeError("a first question was served from the cache: pairs are not isolated")
        wait_kept(count, already + len(pairs))
        seconds = list(
            pool.map(
                lambda ip: ask(gw, messages(f"{name}-{ip[0]}", ip[1].history_b, ip[1].b)), enumerate(pairs)
            )
        )
    return [s in SERVED for s in seconds]


def shadow_report(gw: Proc) -> dict[str, Any]:
    r = call(
        "GET", gw.base_url + "/admin/tenants/-/cache/stats", headers={"authorization": f"Bearer {ADMIN}"}
    )
    shadow: dict[str, Any] = r.json()["shadow"]
    return shadow


def run_backend(
    state: dict[str, Any], count: Any, tmp: Path, sets: list[tuple[str, list[Pair]]], shadow: bool
) -> dict[str, Result]:
    results: dict[str, Result] = {}
    with gateway(tmp, config(state, "on")) as gw:
        kept = 0
        for name, pairs in sets:
            results[name] = Result(pairs, run_set(gw, name, pairs, count, kept))
            kept += len(pairs)
    return results


def compared(gw: Proc, before: dict[str, Any]) -> dict[str, Any]:
    """The shadow report once every would-be hit's answers were compared (after its fresh answer
    is written, off the hot path)."""

    def done() -> dict[str, Any] | None:
        r = shadow_report(gw)
        return r if r["compared"] - before["compared"] >= r["would_hit"] - before["would_hit"] else None

    return eventually(done, 60, "the shadow comparisons")


def run_shadow(
    state: dict[str, Any],
    count: Any,
    tmp: Path,
    sets: list[tuple[str, list[Pair]]],
    results: dict[str, Result],
) -> None:
    """The same pairs through a shadow-mode gateway on a fresh store: its report, per set."""
    with gateway(tmp, config(state, "shadow")) as gw:
        kept, before = 0, shadow_report(gw)
        for name, pairs in sets:
            run_set(gw, f"shadow-{name}", pairs, count, kept)
            kept += len(pairs)
            # each would-be hit's answers are compared after its fresh answer is written
            after = compared(gw, before)
            results[name].shadow = {k: after[k] - before[k] for k in ("lookups", "would_hit", "compared")}
            disagreed = round(after["estimated_false_hit_rate"] * after["compared"]) - round(
                (before["estimated_false_hit_rate"] or 0) * before["compared"]
            )
            results[name].shadow["disagreed"] = disagreed
            before = after


def offline(sets: list[tuple[str, list[Pair]]], threshold: float) -> dict[str, Result]:
    """The gateway's decision without a gateway: cosine of the local model >= threshold, the same
    earlier turns, and ``verify.compare``. For tuning on the dev set only."""
    from sluice.cache.local_embed import LocalEmbedder
    from sluice.cache.verify import compare

    embedder = LocalEmbedder()
    results = {}
    for name, pairs in sets:
        texts = sorted({t for p in pairs for t in (p.a, p.b)})
        vectors = dict(zip(texts, embedder.embed(texts), strict=True))
        hits = [
            p.history_a == p.history_b
            and float(vectors[p.a] @ vectors[p.b]) >= threshold
            and compare(p.a, p.b).ok
            for p in pairs
        ]
        results[name] = Result(pairs, hits)
    return results


def latency(sets: list[tuple[str, list[Pair]]], rounds: int = 20) -> None:
    """The verifier's cost per candidate on one core: each pair compared ``rounds`` times."""
    from sluice.cache.verify import compare

    times = []
    for _, pairs in sets:
        for p in pairs:
            for _ in range(rounds):
                started = time.perf_counter_ns()
                compare(p.a, p.b)
                times.append(time.perf_counter_ns() - started)
    times.sort()
    p50, p99 = times[len(times) // 2] / 1000, times[int(len(times) * 0.99)] / 1000
    print(
        f"verify per candidate: p50 {p50:.0f} us, p99 {p99:.0f} us, max {times[-1] / 1000:.0f} us ({len(times)} calls)"
    )


def report(backend: str, results: dict[str, Result], verbose: bool) -> None:
    for name, r in results.items():
        tp = sum(h and p.same for h, p in zip(r.hits, r.pairs, strict=True))
        fp = sum(h and not p.same for h, p in zip(r.hits, r.pairs, strict=True))
        pos = sum(p.same for p in r.pairs)
        neg = len(r.pairs) - pos
        precision = f"{tp / (tp + fp):.3f}" if tp + fp else "-"
        print(
            f"[{backend}] {name}: {len(r.pairs)} pairs ({pos} same, {neg} not): precision {precision}, "
            f"recall {tp / pos:.3f}, served {tp + fp} ({fp} wrong), false-hit rate {fp / neg:.3f}"
        )
        families: dict[str, list[bool]] = defaultdict(list)
        recall: dict[str, list[bool]] = defaultdict(list)
        for h, p in zip(r.hits, r.pairs, strict=True):
            (recall if p.same else families)[p.category].append(h)
        print(
            "    near-miss family false hits: "
            + ", ".join(f"{c} {sum(v)}/{len(v)}" for c, v in sorted(families.items()))
        )
        print("    recall by kind: " + ", ".join(f"{c} {sum(v)}/{len(v)}" for c, v in sorted(recall.items())))
        if r.shadow:
            s = r.shadow
            truth = fp / (tp + fp) if tp + fp else 0.0
            estimate = s["disagreed"] / s["compared"] if s["compared"] else 0.0
            print(
                f"    shadow mode: would hit {s['would_hit']} of {s['lookups']} lookups (served above: {tp + fp}); "
                f"estimated false-hit rate {estimate:.3f} vs labelled {truth:.3f} "
                f"(difference {estimate - truth:+.3f}; {s['disagreed']} of {s['compared']} flagged, {fp} truly wrong)"
            )
        if verbose:
            for h, p in zip(r.hits, r.pairs, strict=True):
                if h != p.same:
                    print(f"      {'FALSE HIT ' if h else 'missed    '} {p.category:12} {p.a!r} / {p.b!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedded", action="store_true", help="the embedded backend only")
    parser.add_argument("--pgvector", action="store_true", help="the pgvector backend only")
    parser.add_argument("--offline", action="store_true", help="no gateway (tuning on dev)")
    parser.add_argument("--dev-only", action="store_true", help="the dev set only (tuning)")
    parser.add_argument("--no-shadow", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument("-v", "--verbose", action="store_true", help="list each wrong decision")
    args = parser.parse_args()
    sets = [(name, load(path)) for name, path in SETS if not (args.dev_only and name != "dev")]
    latency(sets)
    if args.offline:
        report("offline", offline(sets, args.threshold), args.verbose)
        return
    with tempfile.TemporaryDirectory(prefix="cache-eval-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "embedded.db"

        def rows() -> int:
            if not db.exists():
                return 0
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                try:
                    return int(conn.execute("SELECT count(*) FROM cache_semantic").fetchone()[0])
                except sqlite3.OperationalError:
                    return 0

        started = time.perf_counter()
        if not args.pgvector:
            embedded = run_backend({"sqlite_path": str(db)}, rows, tmp, sets, False)
            if not args.no_shadow:
                db = tmp / "shadow.db"
                run_shadow({"sqlite_path": str(db)}, rows, tmp, sets, embedded)
            report("embedded", embedded, args.verbose)
            print(f"    ({time.perf_counter() - started:.0f} s)", flush=True)
        if args.embedded:
            return
        (tmp / "pg").mkdir()
        (tmp / "redis").mkdir()
        pg = start_postgres(tmp / "pg")
        redis = start_redis(tmp / "redis")
        try:
            state = {"backend": "distributed", "postgres_dsn": pg.url, "redis_url": redis.url}

            def pg_rows() -> int:
                try:
                    return int(pg_fetchval(pg.url, "SELECT count(*) FROM cache_semantic"))
                except Exception:
                    return 0

            started = time.perf_counter()
            report("pgvector", run_backend(state, pg_rows, tmp, sets, False), args.verbose)
            print(f"    ({time.perf_counter() - started:.0f} s)")
        finally:
            redis.stop()
            pg.stop()


if __name__ == "__main__":
    main()
