"""What the auto router reads of a chat request: its size, tools, images, JSON schema, length of
conversation, and how hard its last user turn looks (a rules score of a bounded sample of the
text, a few microseconds whatever the request's size)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sluice.types import ChatRequest

SAMPLE_HEAD = 400
SAMPLE_TAIL = 400
"""The last user turn is scored on its first and last characters only: a long turn is a pasted
document, and its instructions are at one end or the other."""

STRONG, HARD, MEDIUM = 0, 1, 2
"""The kinds of words; ``_WEIGHTS`` and ``_MOST`` say what one adds and how many count."""
_WEIGHTS = (0.45, 0.15, 0.15)
_MOST = (2, 3, 2)

# Word prefixes that ask for proof, deep reasoning or systems design (strong), for analysis,
# planning or building something (hard), and for ordinary writing (medium), in the languages the
# gateway's users write most (``analy`` matches analyse, analyze, analysis, analysiere).
_PREFIXES: dict[str, int] = {
    **dict.fromkeys(
        "prove proof derive derivation theorem trade-off tradeoff architecture concurren lock-free "
        "thread-safe consisten exactly-once failover fail-over disaster step-by-step démontr prouve "
        "beweis demuestr докаж архитектур".split(),
        STRONG,
    ),
    **dict.fromkeys(
        "analy anali reasoning design optimi diagnos investigat critique evaluate assess justify reconcil "
        "migrat strateg compar implement refactor algorithm complexity recommend audit incident "
        "conçois stratégi entwirf entwickle vergleich diskutier diseñ detalhadamente проанализ "
        "спроектир".split(),
        HARD,
    ),
    **dict.fromkeys(
        "write explain summari summary draft describe outline expand structured itinerary email "
        "query function escribe redacta explica resume écris explique résume rédige schreibe "
        "erkläre fasse escreva resuma напиши объясни перечисли".split(),
        MEDIUM,
    ),
}
_EXACT: dict[str, int] = {"plan": HARD}
_BY_HEAD: dict[str, tuple[tuple[str, int], ...]] = {"plan": ()}
for _prefix, _weight in _PREFIXES.items():
    _BY_HEAD[_prefix[:4]] = (*_BY_HEAD.get(_prefix[:4], ()), (_prefix, _weight))
_PHRASES: dict[str, int] = {
    "step by step": STRONG,
    "root cause": STRONG,
    "pros and cons": MEDIUM,
    "list the": MEDIUM,
    "cover letter": MEDIUM,
    "blog post": MEDIUM,
    "extract all": MEDIUM,
    "extract every": MEDIUM,
}
_WIDE_WORDS: dict[str, int] = {
    **dict.fromkeys("证明 証明 架构 权衡 一貫性 整合性".split(), STRONG),
    **dict.fromkeys("分析 设计 設計 比較 比较 方案 論じ".split(), HARD),
    **dict.fromkeys("写 解释 总结 説明 書いて".split(), MEDIUM),
}
_EASY = re.compile(
    r"(?:hi|hello|hey|thanks|thank you|ok|okay|great|bye|what is|what's|who|when|where|how many|"
    r"translate|spell|convert|define|give me a|suggest|is |hola|bonjour|merci|danke|gracias|olá|"
    r"¿cuál|¿cómo|qual|was ist|wie )"
)
_CODE_MARKS = ("```", "def ", "=>", "{}", ";\n", "select ", "function(")


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
    words), words that ask for reasoning, design or writing, code, several questions or
    constraints, and openings that mark a lookup or small talk. One pass of word lookups over at
    most ``SAMPLE_HEAD + SAMPLE_TAIL`` characters."""
    if len(text) > 2 * (SAMPLE_HEAD + SAMPLE_TAIL):
        # A pasted document: its size says nothing of the task, which is at one end or the other.
        sample = (text[:SAMPLE_HEAD] + "\n" + text[-SAMPLE_TAIL:]).lower()
        score = 0.1
    else:
        sample = text.lower()
        units = len(sample) / 6
        if not sample.isascii():
            units += 0.4 * (len(sample.encode()) - len(sample))  # ~0.8 per CJK character
        score = min(units / 80, 1.0) * 0.25
        clauses = sample.count(",") + sample.count("?") + sample.count(";") + sample.count("\uff0c")
        score += min(clauses, 8) * 0.02
    counts = [0, 0, 0]
    heads = _BY_HEAD.keys()
    for word in [w for w in sample.split() if w[:4] in heads]:  # split: a third of a regex's time
        kind = _EXACT.get(word)
        if kind is None:
            for prefix, k in _BY_HEAD.get(word[:4], ()):
                if word.startswith(prefix):
                    kind = k
                    break
            else:
                continue
        counts[kind] += 1
    for phrase, kind in _PHRASES.items():
        if phrase in sample:
            counts[kind] += 1
    if not sample.isascii():
        for word, kind in _WIDE_WORDS.items():
            if word in sample:
                counts[kind] += 1
    score += sum(min(n, most) * w for n, most, w in zip(counts, _MOST, _WEIGHTS, strict=True))
    if any(mark in sample for mark in _CODE_MARKS):
        score += 0.1
    if _EASY.match(sample.lstrip()):
        score -= 0.15
    return max(score, 0.0)
