"""bench/knowledge_eval.py on a handful of questions: every label of both sets resolves in its text
(a span the installed Python's pydoc topics no longer hold stops the run), and the ingestion and
search through a real SQLite store give the table with sane figures."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).parents[2] / "bench" / "knowledge_eval.py"


@pytest.fixture(scope="module")
def ke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("knowledge_eval", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["knowledge_eval"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_label_resolves(ke: ModuleType) -> None:
    pydoc = ke.load_pydoc()
    assert len(pydoc.questions) >= 120 and len(pydoc.documents) >= 70
    assert {q.split for q in pydoc.questions} == {"dev", "heldout"}
    assert all(q.answers and all(q.answers) for q in pydoc.questions)
    # the split rule written in the set: odd ids dev, even ids held out
    assert all((int(q.id[1:]) % 2 == 0) == (q.split == "heldout") for q in pydoc.questions)
    easy = ke.load_easy()
    assert len(easy.questions) == 72


def test_a_span_not_in_its_topic_stops_the_run(
    ke: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "t001", "split": "dev", "question": "q?", "topic": "if", "span": "no such words here"}\n'
    )
    monkeypatch.setitem(ke.SETS, "pydoc", bad)
    with pytest.raises(SystemExit, match="t001: the span is not in topic 'if'"):
        ke.load_pydoc()


async def test_a_few_questions_through_the_store(ke: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    rows = await ke.evaluate(ke.load_easy(), None, limit=8)
    assert len(rows) == 4 and rows[0].startswith("| held-out (4), static 100/20 (95) |")
    figures = [float(x) for row in rows for x in re.findall(r"\d\.\d{3}", row)]
    assert len(figures) == 8 and all(0.0 <= f <= 1.0 for f in figures)
    assert sum(figures) / len(figures) > 0.5  # full text finds these questions' passages
    assert "set easy: 8 questions over 24 documents" in capsys.readouterr().out
