"""What the auto router reads of a chat request: its size, tools, images, JSON schema, length of
conversation, and how hard its last user turn looks (a rules score of a bounded sample of the
text, a few microseconds whatever the request's size)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sluice.types import ChatRequest

SAMPLE_HEAD = 1500
SAMPLE_TAIL = 500
"""The last user turn is scored on its first and last characters only: a long turn is long, and
its instructions are at one end or the other."""

# Words that ask for proof, deep reasoning or systems design (strong), and for analysis, planning or
# building something (hard), in the languages the gateway's users write most; matched as word
# prefixes (``analy`` matches analyse, analyze, analysis, analysiere).
_STRONG = re.compile(
    r"\b(?:prove|proof|derive|derivation|theorem|trade-?offs?|architecture|root cause|step[- ]by[- ]step|"
    r"concurren|lock-free|thread-safe|consisten|exactly-once|fail-?over|disaster|démontr|prouve|"
    r"beweis|demuestr|докаж|архитектур)|证明|証明|架构|权衡|一貫性|整合性",
    re.IGNORECASE,
)
_HARD = re.compile(
    r"\b(?:analy[sz]|design|optimi[sz]|diagnos|investigat|critique|evaluate|assess|justify|reconcil|"
    r"migrat|strateg|compare|comparison|implement|refactor|algorithm|complexity|recommend|plan\b|"
    r"model each|audit|incident|analys|conçois|compar|stratégi|analysier|entwirf|entwickle|vergleich|"
    r"diskutier|analiz|diseñ|analis|detalhadamente|проанализ|спроектир)|分析|设计|設計|比較|比较|方案|論じ",
    re.IGNORECASE,
)
_MEDIUM = re.compile(
    r"\b(?:write|explain|summari[sz]e|summary|draft|describe|outline|list the|pros and cons|expand|"
    r"extract all|extract every|structured|itinerary|cover letter|blog post|email|query|function|"
    r"escribe|redacta|explica|resume|écris|explique|résume|rédige|schreibe|erkläre|fasse|"
    r"escreva|resuma|напиши|объясни|перечисли)|写|解释|总结|説明|書いて",
    re.IGNORECASE,
)
_EASY = re.compile(
    r"^(?:hi|hello|hey|thanks|thank you|ok|okay|great|bye|what is|what's|who|when|where|how many|"
    r"translate|spell|convert|define|give me a|suggest|is |hola|bonjour|merci|danke|gracias|olá|"
    r"¿cuál|¿cómo|qual|was ist|wie )",
    re.IGNORECASE,
)
_CODE = re.compile(r"```|\bdef |\bfunction\b|=>|\{\s*\}|;\s*$|\bSELECT\b", re.MULTILINE)
_WIDE = re.compile(r"[\u0800-\uffff]")


@dataclass(frozen=True, slots=True)
class Features:
    input_tokens: int
    """The input's estimated tokens (the pipeline's estimate: about 4 characters per token)."""
    output_tokens: int
    """The output tokens the request may use: its max_tokens, else the alias's reserve."""
    tools: int
    images: int
    json_schema: bool
    """The request asks for JSON (a ``json_schema`` or ``json_object`` response format)."""
    messages: int
    difficulty: float
    """How hard the last user turn looks, 0 (a greeting) to about 1 (a proof or a design)."""

    @property
    def needed_tokens(self) -> int:
        """What a tier's context window must hold."""
        return self.input_tokens + self.output_tokens


def features(request: ChatRequest, input_tokens: int, output_reserve_tokens: int) -> Features:
    images = 0
    last = ""
    for m in reversed(request.messages):
        if m.role != "user":
            continue
        content = m.content
        if isinstance(content, str):
            last = content
        elif content is not None:
            last = " ".join(p.text for p in content if p.text is not None)
            images = sum(1 for p in content if p.image_url is not None)
        break
    rf = request.response_format
    return Features(
        input_tokens=input_tokens,
        output_tokens=request.output_token_limit or output_reserve_tokens,
        tools=len(request.tools) if request.tools else 0,
        images=images,
        json_schema=rf is not None and rf.type in ("json_schema", "json_object"),
        messages=len(request.messages),
        difficulty=difficulty(last),
    )


def difficulty(text: str) -> float:
    """A rules score of one user turn: its length (in word-sized units, CJK characters counted as
    words), words that ask for reasoning or design, code, several questions or constraints, and
    openings that mark a lookup or small talk."""
    if len(text) > SAMPLE_HEAD + SAMPLE_TAIL:
        # A pasted document: its size says nothing of the task, which is at one end or the other.
        sample = text[:SAMPLE_HEAD] + "\n" + text[-SAMPLE_TAIL:]
        score = 0.1
        ends = text[:200] + "\n" + text[-SAMPLE_TAIL:]
    else:
        sample = ends = text
        units = len(sample) / 6
        if not sample.isascii():
            units += 0.8 * len(_WIDE.findall(sample))
        score = min(units / 80, 1.0) * 0.25
        clauses = sample.count(",") + sample.count("?") + sample.count(";") + sample.count("\uff0c")
        score += min(clauses, 8) * 0.02
    score += min(len(_STRONG.findall(ends)), 2) * 0.3
    score += min(len(_HARD.findall(ends)), 3) * 0.15
    score += min(len(_MEDIUM.findall(ends)), 2) * 0.15
    if _CODE.search(sample):
        score += 0.1
    if _EASY.match(sample.lstrip()):
        score -= 0.15
    return max(score, 0.0)
