"""A second held-out set for the prompt-injection detector, from two sources that no detector here
was written or tuned against: spikee (PyPI ``spikee==0.9.2``, Apache-2.0, WithSecure Labs) and
AgentDojo (PyPI ``agentdojo==0.1.35``, MIT, ETH Zurich SPY Lab). Both wheels are fetched with
``pip download --no-deps`` into the bench cache and only their data files and attack templates
are read (parsed with ``ast`` or as YAML/JSON, never imported); nothing of them is committed.

Built the way each tool builds its own test cases, before any detector was run on them:
- spikee: its jailbreak templates around its instructions, sent directly by a user, and injected
  into its seed documents (an email, a mailbox) at their placeholder; its system-message
  extraction instructions alone and wrapped; its false-positive set of investment questions as
  benign user prompts, and its seed documents without an injection as benign documents.
- AgentDojo: its attack templates (important instructions, ignore previous, system message,
  "TODO: {goal}", InjecAgent, denial of service) around its injection tasks' goals, placed at each injection
  point of its environments' tool data (emails, files, calendar events, reviews, web pages, Slack
  messages) as tool results; the same tool data with the suite's own benign defaults as benign.

    .venv/bin/python bench/injection_fresh.py     # fetch, then print the counts per family
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.guardrails_data import CACHE  # noqa: E402

SOURCES = {"spikee": "spikee==0.9.2", "agentdojo": "agentdojo==0.1.35"}
_SPIKEE = "spikee/data/workspace/datasets/"
_MIN_TEXT = 40


def wheel(name: str) -> Path:
    cache = CACHE.parent / SOURCES[name].replace("==", "-")
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"{name}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", SOURCES[name], "--no-deps", "-d", str(cache)],
            check=True,
        )
        found = sorted(cache.glob(f"{name}-*.whl"))
    return found[0]


def _jsonl(z: zipfile.ZipFile, name: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in z.read(name).decode().splitlines() if line.strip()]


def _row(text: str, label: str, family: str, origin: str, channel: str) -> dict[str, str]:
    return {"text": text.strip(), "label": label, "family": family, "origin": origin, "channel": channel}


def _inject(document: dict[str, Any], payload: str) -> str:
    text = str(document["document"])
    marker = document.get("placeholder")
    return text.replace(marker, payload) if marker and marker in text else f"{text}\n{payload}"


def spikee_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    with zipfile.ZipFile(wheel("spikee")) as z:
        for seeds, family in (("seeds-cybersec-2026-01", "cybersec"), ("seeds-llm-mailbox", "mailbox")):
            origin = f"spikee {_SPIKEE}{seeds}"
            jailbreaks = _jsonl(z, f"{_SPIKEE}{seeds}/jailbreaks.jsonl")
            instructions = _jsonl(z, f"{_SPIKEE}{seeds}/instructions.jsonl")
            documents = [
                d
                for d in _jsonl(z, f"{_SPIKEE}{seeds}/base_user_inputs.jsonl")
                if str(d["document"]).strip() != d.get("placeholder")
            ]
            for k, jb in enumerate(jailbreaks):
                instruction = str(instructions[k % len(instructions)]["instruction"])
                payload = str(jb["text"]).replace("<INSTRUCTION>", instruction)
                if jb["jailbreak_type"] != "no-jailbreak":
                    out.append(_row(payload, "injection", f"spikee_{family}_direct", origin, "user"))
                for d in documents:
                    out.append(
                        _row(
                            _inject(d, payload), "injection", f"spikee_{family}_document", origin, "document"
                        )
                    )
            for d in documents:
                clean = _inject(d, "")
                out.append(_row(clean, "benign", "spikee_benign_document", origin, "document"))
        seeds = "seeds-sysmsg-extraction-2025-04"
        origin = f"spikee {_SPIKEE}{seeds}"
        jailbreaks = [
            j
            for j in _jsonl(z, f"{_SPIKEE}{seeds}/jailbreaks.jsonl")
            if j["jailbreak_type"] != "no-jailbreak"
        ]
        for k, ins in enumerate(_jsonl(z, f"{_SPIKEE}{seeds}/instructions.jsonl")):
            instruction = str(ins["instruction"])
            out.append(_row(instruction, "injection", "spikee_sysmsg_extraction", origin, "user"))
            wrapped = str(jailbreaks[k % len(jailbreaks)]["text"]).replace("<INSTRUCTION>", instruction)
            out.append(_row(wrapped, "injection", "spikee_sysmsg_extraction_wrapped", origin, "user"))
        seeds = "seeds-investment-advice-fp"
        for q in _jsonl(z, f"{_SPIKEE}{seeds}/standalone_user_inputs.jsonl"):
            out.append(
                _row(str(q["text"]), "benign", "spikee_benign_questions", f"spikee {_SPIKEE}{seeds}", "user")
            )
    return out


def _templates(source: str) -> list[str]:
    """The attack templates of an AgentDojo attacks module: string constants that hold ``{goal}``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{goal}" in node.value:
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr | ast.BinOp):
            continue
    # Parenthesised string concatenations are one Constant after parsing; f-strings are skipped.
    return found


def _goals(source: str) -> list[str]:
    goals = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "GOAL"
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, str):
                goals.append(value)
    return goals


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


_FIELD = re.compile(r"\{([a-z0-9_]+)\}")


def _fill(text: str, defaults: dict[str, str]) -> str:
    return _FIELD.sub(lambda m: defaults.get(m.group(1), m.group()), text)


def agentdojo_rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    with zipfile.ZipFile(wheel("agentdojo")) as z:
        names = z.namelist()
        templates: list[str] = []
        for n in sorted(x for x in names if x.startswith("agentdojo/attacks/") and x.endswith(".py")):
            templates += _templates(z.read(n).decode())
        goals: list[str] = []
        for n in sorted(x for x in names if x.endswith("injection_tasks.py")):
            goals += _goals(z.read(n).decode())
        data_files = sorted(
            x
            for x in names
            if x.startswith("agentdojo/data/suites/")
            and x.endswith(".yaml")
            and not x.endswith("injection_vectors.yaml")
        )
        k = 0
        for suite in sorted({n.split("/")[3] for n in data_files}):
            vectors_name = f"agentdojo/data/suites/{suite}/injection_vectors.yaml"
            if vectors_name not in names:
                continue
            defaults = {
                name: str(v.get("default", ""))
                for name, v in (yaml.safe_load(z.read(vectors_name)) or {}).items()
            }
            for n in (x for x in data_files if x.split("/")[3] == suite):
                origin = f"agentdojo {n}"
                raw = z.read(n).decode()
                # The files are YAML with {vector} fields; an "!include" tag is left to its own file.
                raw = re.sub(r"!include\s+\S+", '""', raw)
                try:
                    data = yaml.safe_load(raw)
                except yaml.YAMLError:
                    continue
                for text in _strings(data):
                    fields = [f for f in _FIELD.findall(text) if f in defaults]
                    benign = _fill(text, defaults)
                    if len(benign) >= _MIN_TEXT:
                        out.append(_row(benign, "benign", "agentdojo_benign_tool_data", origin, "tool"))
                    for field in fields:
                        template = templates[k % len(templates)]
                        goal = goals[k % len(goals)]
                        k += 1
                        attack = (
                            template.replace("{goal}", goal)
                            .replace("{user}", "Emma Johnson")
                            .replace("{model}", "GPT-4")
                            .replace("{task}", "the task")
                            .replace("{tools}", "send_email, search_files, get_balance")
                            .replace("{hotel_name}", "Riverside View Hotel")
                        )
                        injected = text.replace("{" + field + "}", attack)
                        injected = _fill(injected, defaults)
                        out.append(_row(injected, "injection", "agentdojo_tool_injection", origin, "tool"))
    return out


def rows() -> list[dict[str, str]]:
    """Every row of the second held-out set, each with ``split`` = ``fresh``, duplicates dropped."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in [*spikee_rows(), *agentdojo_rows()]:
        key = (r["text"], r["label"])
        if r["text"] and key not in seen:
            seen.add(key)
            r["split"] = "fresh"
            out.append(r)
    return out


def main() -> None:
    counts = Counter((r["label"], r["family"], r["channel"]) for r in rows())
    for (label, family, channel), n in sorted(counts.items()):
        print(f"{label:<10} {family:<36} {channel:<9} {n:>5}")


if __name__ == "__main__":
    main()
