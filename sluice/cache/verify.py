"""Structural near-miss checks: may a cached answer to prompt ``a`` be served for prompt ``b``?

all-MiniLM-L6-v2 scores "5 km to miles" and "5 miles to km" at 0.9+, so a semantic candidate is served
only if the two prompts agree on every rule below. Rules run in this order and the verdict names the
first that fails; each rule compares what the prompts ask for, not how they word it.

- language: the same script, and in Latin script the same language by stopwords (en fr de es it pt nl)
  when both are recognised. "What is the capital of Germany?" / "Quelle est la capitale de l'Allemagne ?"
- numbers: the same numbers in the same order, as digits or words ("1,000" = "1000", "3,5" = "3.5").
  "Is 17 a prime number?" / "Is 19 a prime number?"; "What is 10 minus 4?" / "What is 4 minus 10?"
- units: the same units in the same roles, when both name units: after a number, "a" or "from" a unit
  is the source; after "to", "into", "in", "as" or "how many" the target. "Convert 5 km to miles" /
  "Convert 5 miles to km" fails; "How many miles is 5 km?" / "Convert 5 km to miles" passes.
- entities: each capitalised word not opening a sentence (or opening one as the subject of a verb,
  "Paris is") and each quoted string of one prompt occurs in the other, ignoring case. "Is Paris
  bigger than Berlin?" / "Is Paris bigger than London?"; "Translate 'good morning'" / "... 'good night'".
- code: each code-like token (inside backticks, snake_case, camelCase, dotted.names, calls(), --flags,
  /paths) of one prompt occurs in the other with the same case; operators and fenced blocks match
  exactly. "What does `getUserId` return?" / "What does `getUserID` return?"
- negation: in both prompts or in neither (not, no, never, without, n't, except, ... and their fr de
  es it pt nl forms). "Which fruits are red?" / "Which fruits are not red?"
- direction: the same pole on each axis (more/less, bigger/smaller, above/below, min/max, before/after,
  first/last, ascending/descending, buy/sell, encode/decode, plus/minus, ...). "Sort the list in
  ascending order" / "Sort the list in descending order". "to" and "from" clash only with each other:
  "Translate this to French" / "Translate this from French".
- operands: no pair around than, to, into, from, vs, before, after, minus, over is reversed, and when
  both prompts have such a word their shared names come in the same order. "Is a cat bigger than a
  dog?" / "Is a dog bigger than a cat?"; "Trains from Boston to New York" / "... from New York to Boston"
- format: the same requested formats (json, yaml, table, list, bullets, csv, markdown, a programming or
  natural language, a genre such as poem or haiku). "List the planets as JSON" / "... as YAML"
- length: the same length requests (short, brief, detailed, in depth, one sentence, N words, N
  paragraphs). "Explain DNS briefly" / "Explain DNS in detail"
- scope: the same scope classes: all/every/each/whole, some/any, most, my, our/team/company's, and
  someone else's ("the project's builds") against my. "Show my open tickets" / "Show all open
  tickets"; "Do all reptiles lay eggs?" / "Do some ..."; "some" or "my" against none passes.
- time: the same times of day, days, seasons, am/pm after a number, and this/next/last + a period.
  "What's the weather tonight?" / "... tomorrow night?"; "Set an alarm for 7 am" / "... 7 pm".
- roles: who does what to whom. I and me swapped when the prompts share most words ("What do I owe
  my roommate?" / "What does my roommate owe me?"); an owner in one that is a plain word in the other
  ("Can I see my manager's messages?" / "Can my manager see ..."); the same three or more English
  content words reordered ("Why did the fox chase the rabbit?" / "... the rabbit chase the fox?").
- characters: Chinese and Japanese have no spaces; the characters that name things (not particles,
  question words, pronouns or hiragana) must be the same. "如何更改我的头像" / "如何更改我的密码"
- negation also compares a word with its prefixed opposite (safe/unsafe, legal/illegal).
- substitution: in English (and, with its stopwords as fillers, in fr de es it pt nl), two prompts of the same words but one or two content words in the same
  place ask about different things; spelling variants, plurals and request verbs (write, compose, ...)
  do not count. "How do I cook rice?" / "How do I cook quinoa?"; passes "What colour is a flamingo?" /
  "What color is a flamingo?". Synonyms in the same place ("film" / "movie") are rejected too.
- qualifier: in English, content words that only one prompt has narrow the question; fillers, process
  nouns (steps, way, tips) and the noun after "which" do not count. "How do I cook rice?" / "How do I
  cook brown rice?"; passes "What is the capital of France?" / "Which city is the capital of France?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sluice.cache.verify_words import (
    AFTER_NUMBER_UNITS,
    ARTICLES,
    CJK_FUNCTION,
    COMMON,
    COUNTED,
    DEICTIC,
    DIRECTIONS,
    FILLERS,
    FORMATS,
    LENGTHS,
    LOOSE_AXES,
    NEGATING_PREFIXES,
    NEGATIONS,
    NUMBER_WORDS,
    ONE,
    OPERATOR_MARKERS,
    ORDERED_NUMBERS,
    ORDINALS,
    OWNED,
    PERIODS,
    PERSONS,
    PREPOSITIONS,
    REQUEST_VERBS,
    SCALES,
    SCOPES,
    SCRIPTS,
    SPELLINGS,
    STOPWORDS,
    SUBJECT_OF,
    SUFFIX,
    TIMES,
    UNIT_FILLERS,
    UNITS,
    VERB_CUES,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str | None = None


_FENCE = re.compile(r"```[^\n]*\n?(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_QUOTED = re.compile(
    r"\"([^\"\n]+)\"|“([^”\n]+)”|«\s*([^»\n]+?)\s*»|„([^“\n]+)“|(?<!\w)['\u2018]([^'\u2019\n]+)['\u2019](?!\w)"
)
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:'[^\W\d_]+)*")
_NUMBER = re.compile(r"(?<![\w.])([-\u2212]?)(\d+(?:,\d{3})+(?!\d)|\d+)((?:\.\d+)+|,\d{1,2}(?!\d))?")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_][^\W_]*(?:'[^\W\d_]+)*|[$€£¥°]")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_RAW_WORD = re.compile(r"\w+(?:\.\w+)*")
_CODE = re.compile(
    r"\b[A-Za-z_][A-Za-z0-9]*_[A-Za-z0-9_]*\b"  # snake_case, CONSTANT_NAME, __dunder__
    r"|\b[a-z]+[A-Z][A-Za-z0-9]*\b|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b"  # camelCase, PascalCase
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"  # dotted.names (abbreviations such as e.g. dropped later)
    r"|\b[A-Za-z]+\d+[A-Za-z0-9]*\b"  # int32, sha256, mp3
    r"|\b[A-Za-z_]\w*(?=\()"  # call(
    r"|(?<![\w-])--?[A-Za-z][\w-]*"  # --flags
    r"|(?<![\w/])(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]+)*"  # /paths
)
_OPERATOR = re.compile(
    r"(?<![=!<>&|+*/-])(?:===|!==|==|!=|<=|>=|&&|\|\||=>|\+=|-=|\*\*|<<|>>)(?![=!<>&|+*/-])"
)
_LIST_FORMAT = re.compile(r"\b(?:as|in)\s+(?:a\s+)?(?:\w+\s+)?list\b|\ba\s+list\s+of\b|\blist\s+form")
_LONG = re.compile(r"\b(?:a|an|very|really)\s+long\b|\bin[\s-]depth\b")
_COUNT = re.compile(
    rf"\b(\d+|a|an|single|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+({'|'.join(COUNTED.split())})s?\b"
)


@dataclass(frozen=True, slots=True)
class _Prompt:
    language: str | None
    numbers: tuple[str, ...]
    ordered: bool  # does the order of the numbers matter ("10 minus 4", "from 3 to 5")?
    units: frozenset[tuple[str, str]]
    entities: tuple[str, ...]  # lower-case, in order of first mention
    quoted: frozenset[str]  # lower-case, words joined by single spaces, like ``flat``
    flat: str
    words: tuple[str, ...]
    content: frozenset[str]
    code: frozenset[str]
    raw_words: frozenset[str]
    exact_code: tuple[str, ...]
    negated: bool
    direction_words: tuple[str, ...]
    has_operator: bool
    pairs: frozenset[tuple[str, str]]
    formats: frozenset[str]
    lengths: frozenset[str]
    scopes: frozenset[str]
    persons: frozenset[str]
    times: frozenset[str]
    possessed: frozenset[str]  # "manager" of "my manager's messages"
    plain: frozenset[str]  # the words not followed by 's, nor after "of"
    has_of: bool  # "of" or "for": "the formula for water" may say "water's formula"
    sequence: tuple[str, ...]  # the content words, normalised, in order of first mention
    cjk: frozenset[str]  # the naming characters of a Chinese or Japanese prompt


def compare(a: str, b: str) -> Verdict:
    """Does ``b`` ask for the same answer as ``a``, as far as structure tells? Symmetric."""
    pa, pb = _parse(a), _parse(b)
    for check in _CHECKS:
        reason = check(pa, pb)
        if reason:
            return Verdict(False, reason)
    return Verdict(True)


def _parse(text: str) -> _Prompt:
    fences = tuple(sorted(" ".join(block.split()) for block in _FENCE.findall(text)))
    prose = _FENCE.sub(" ", text).replace("\u2019", "'")
    spans = _SPAN.findall(prose)
    prose = _SPAN.sub(lambda m: f" {m.group(1)} ", prose)
    lower = prose.lower()
    tokens = _TOKEN.findall(lower)
    words = [t for t in tokens if t[0].isalpha()]
    code = {t for t in _CODE.findall(prose) if t.lower() not in FORMATS and not _is_abbreviation(t)}
    code.update(t for span in spans for t in _IDENT.findall(span))
    quoted = {_flat(next(g for g in m if g)) for m in _QUOTED.findall(prose)}
    return _Prompt(
        language=_language(prose, words),
        numbers=_numbers(lower),
        ordered=bool(ORDERED_NUMBERS.intersection(words)) or bool(re.search(r"\d\s*[-/^÷*]\s*\d", lower)),
        units=_units(tokens),
        entities=_entities(prose),
        quoted=frozenset(quoted),
        flat=_flat(lower),
        words=tuple(words),
        content=frozenset(_normal(w) for w in words if _is_content(w)),
        code=frozenset(code),
        raw_words=frozenset(_RAW_WORD.findall(prose) + _IDENT.findall(prose)),
        exact_code=(*fences, *sorted(_OPERATOR.findall(text))),
        negated=any(w in NEGATIONS or w.endswith("n't") or w.startswith("n'") for w in words),
        direction_words=tuple(w for w in words if w in DIRECTIONS),
        has_operator=not OPERATOR_MARKERS.isdisjoint(words),
        pairs=_pairs(words),
        formats=_formats(words, lower),
        lengths=_lengths(words, lower),
        scopes=_scopes(words),
        persons=frozenset(
            "my" if w == "mine" else "me" if w == "myself" else w for w in words if w in PERSONS
        ),
        times=_times(words, tokens),
        possessed=frozenset(w.removesuffix("'s") for w in words if w.endswith("'s") and w[:-2] not in OWNED),
        plain=frozenset(
            _stem(w) for i, w in enumerate(words) if not w.endswith("'s") and words[i - 1 : i] != ["of"]
        ),
        has_of=not {"of", "for"}.isdisjoint(words),
        sequence=tuple(dict.fromkeys(_normal(w) for w in words if _is_content(w) and w not in SCOPES)),
        cjk=frozenset(
            ch
            for ch in prose
            if (0x4E00 <= ord(ch) <= 0x9FFF or 0x30A0 <= ord(ch) <= 0x30FF or 0xAC00 <= ord(ch) <= 0xD7AF)
            and ch not in CJK_FUNCTION
        ),
    )


def _flat(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _is_abbreviation(token: str) -> bool:
    return "." in token and all(len(part) < 2 for part in token.split("."))


def _language(prose: str, words: list[str]) -> str | None:
    counts: dict[str, int] = {}
    for ch in prose:
        if ch.isalpha():
            cp = ord(ch)
            script = next(
                (name for name, lo, hi in SCRIPTS if lo <= cp <= hi), "latin" if cp < 0x250 else "other"
            )
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    script = max(counts, key=counts.__getitem__)
    if script == "han" and counts.get("kana"):
        return "kana"
    if script != "latin":
        return script
    parts = [part for w in words for part in w.split("'")]  # l'Allemagne, qu'est
    scores = sorted(((sum(p in stop for p in parts), lang) for lang, stop in STOPWORDS.items()), reverse=True)
    (best, lang), (second, _) = scores[0], scores[1]
    return lang if best > second else None


def _numbers(lower: str) -> tuple[str, ...]:
    found = [(m.start(), _number(*m.groups())) for m in _NUMBER.finditer(lower)]
    run: list[str] = []
    start = 0
    for m in re.finditer(r"[^\W\d_]+|\S", lower + " ."):
        word = m.group()
        if word in NUMBER_WORDS or word in SCALES or (run and word == "and"):
            start = start if run else m.start()
            run.append(word)
            continue
        if word in ORDINALS:
            found.append((m.start(), str(ORDINALS[word])))
        while run and run[-1] == "and":
            run.pop()
        if run and run != ["one"]:  # a lone "one" is mostly a pronoun
            found.append((start, str(_word_value(run))))
        run = []
    return tuple(value for _, value in sorted(found))


def _number(sign: str, whole: str, fraction: str | None) -> str:
    value = str(int(whole.replace(",", "")))
    if fraction:
        fraction = "." + fraction[1:]
        value += fraction.rstrip("0").rstrip(".") if fraction.count(".") == 1 else fraction
    return f"-{value}" if sign else value


def _word_value(run: list[str]) -> int:
    total = current = 0
    for word in run:
        if word in NUMBER_WORDS:
            current += NUMBER_WORDS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in SCALES:
            total += max(current, 1) * SCALES[word]
            current = 0
    return total + current


def _units(tokens: list[str]) -> frozenset[tuple[str, str]]:
    found = set()
    for i, tok in enumerate(tokens):
        unit = UNITS.get(tok)
        if unit is None:
            continue
        j = i - 1
        while j >= 0 and tokens[j] in UNIT_FILLERS:
            j -= 1
        prev = tokens[j] if j >= 0 else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        after_number = prev[:1].isdigit()
        if tok in AFTER_NUMBER_UNITS and not after_number and tokens[i - 1 : i] != ["°"]:
            continue
        if after_number or prev in ("a", "an", "one", "from") or (tok in "$€£¥" and nxt[:1].isdigit()):
            found.add((unit, "from"))
        elif prev in ("to", "into", "in", "as") or (
            prev in ("many", "much") and tokens[j - 1 : j] == ["how"]
        ):
            found.add((unit, "to"))
        elif prev == "per":
            found.add((unit, "per"))
        elif nxt in ("to", "into"):
            found.add((unit, "from"))
    return frozenset(found)


def _entities(prose: str) -> tuple[str, ...]:
    """Capitalised words not opening a sentence, and openers that are the subject of a verb ("Paris is")."""
    found: dict[str, None] = {}
    matches = list(_WORD.finditer(prose))
    end = 0
    for i, m in enumerate(matches):
        word, gap = m.group(), prose[end : m.start()]
        opens = end == 0 or any(c in ".!?:;\n•*(\"'“\u2018«" for c in gap)
        end = m.end()
        lower = word.lower()
        if not word[0].isupper() or lower in OWNED or word in ("I", "I'm", "I'd", "I'll", "I've"):
            continue
        if opens:
            nxt = matches[i + 1].group().lower() if i + 1 < len(matches) else ""
            if lower in COMMON or nxt not in SUBJECT_OF:
                continue
        found[_flat(word.removesuffix("'s"))] = None
    return tuple(found)


def _stem(word: str) -> str:
    return (
        word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us")) else word
    )


def _pairs(words: list[str]) -> frozenset[tuple[str, str]]:
    content = [(i, _stem(w)) for i, w in enumerate(words) if w not in FILLERS or w in OPERATOR_MARKERS]
    found = set()
    for k, (_, w) in enumerate(content):
        if w not in OPERATOR_MARKERS:
            continue
        left = [c for _, c in content[:k] if c not in OPERATOR_MARKERS]
        right = next((c for _, c in content[k + 1 :] if c not in OPERATOR_MARKERS), None)
        if not left or right is None:
            continue
        operand = left[-1]
        if w == "than" and len(left) > 1:  # "Paris is bigger than", "Paris has more people than"
            operand = left[-2]
        found.add((operand, right))
    return frozenset(found)


def _formats(words: list[str], lower: str) -> frozenset[str]:
    found = {FORMATS[w] for w in words if w in FORMATS and w != "list"}
    if _LIST_FORMAT.search(lower):  # "as a list", "a list of"; not "List the planets", "from a sorted list"
        found.add("list")
    found.update(fmt for fmt in ("c++", "c#") if fmt in lower)
    if found & {"bullet", "numbered"}:
        found.discard("list")
    return frozenset(found)


def _lengths(words: list[str], lower: str) -> frozenset[str]:
    found = {LENGTHS[w] for w in words if w in LENGTHS}
    if _LONG.search(lower):
        found.add("long")
    for count, unit in _COUNT.findall(lower):
        if count not in ("a", "an") or unit != "word":  # "a word for happy" is no length
            found.add(f"{ONE.get(count) or NUMBER_WORDS.get(count) or int(count)} {unit}")
    return frozenset(found)


def _scopes(words: list[str]) -> frozenset[str]:
    """The scope classes named: "all" before my, the, of or your ("all my data") does not widen it,
    nor does "most" after "the" ("the most recent")."""
    found = set()
    for i, w in enumerate(words):
        scope = SCOPES.get(w)
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if scope is None or (scope == "all" and nxt in ("my", "the", "of", "your", "our")):
            continue
        if w == "most" and words[i - 1 : i] == ["the"]:
            continue
        found.add(scope)
    return frozenset(found)


def _times(words: list[str], tokens: list[str]) -> frozenset[str]:
    """Times of day, days, seasons ("fall" only after the, in, this, last or next), "am" and "pm"
    after a number, and a calendar period after this, next, last ("last-year")."""
    found = set()
    for i, w in enumerate(words):
        before = words[i - 1] if i else ""
        if w in PERIODS and before in DEICTIC:
            found.add(f"{before}-{w}")
        time = TIMES.get(w)
        if time is None or (w == "fall" and before not in ("the", "in", "this", "last", "next")):
            continue
        if time in ("am", "pm"):
            continue  # counted from the tokens below, after a number only
        found.add(time)
    for i, tok in enumerate(tokens[1:], 1):
        if tok in ("am", "pm") and tokens[i - 1][:1].isdigit():
            found.add(tok)
    return frozenset(found)


def _check_language(a: _Prompt, b: _Prompt) -> str | None:
    if a.language and b.language and a.language != b.language:
        return f"language differs: {a.language} vs {b.language}"
    return None


def _check_numbers(a: _Prompt, b: _Prompt) -> str | None:
    if sorted(a.numbers) != sorted(b.numbers):
        return f"numbers differ: {{{', '.join(a.numbers)}}} vs {{{', '.join(b.numbers)}}}"
    if a.numbers != b.numbers and (a.ordered or b.ordered):
        return f"numbers in another order: {', '.join(a.numbers)} vs {', '.join(b.numbers)}"
    return None


def _check_units(a: _Prompt, b: _Prompt) -> str | None:
    if a.units != b.units and a.units and b.units:  # "how long" and "how many minutes" ask the same
        return f"units differ: {_show_units(a.units)} vs {_show_units(b.units)}"
    return None


def _show_units(units: frozenset[tuple[str, str]]) -> str:
    return ", ".join(f"{unit} ({role})" for unit, role in sorted(units))


def _check_entities(a: _Prompt, b: _Prompt) -> str | None:
    for mine, other in ((a, b), (b, a)):
        missing = sorted(e for e in {*mine.entities, *mine.quoted} if f" {e} " not in f" {other.flat} ")
        if missing:
            return f"entities differ: {', '.join(missing)} only in one prompt"
    return None


def _check_code(a: _Prompt, b: _Prompt) -> str | None:
    for mine, other in ((a, b), (b, a)):
        missing = sorted(t for t in mine.code if t not in other.code and t not in other.raw_words)
        if missing:
            return f"code tokens differ: {', '.join(missing)} only in one prompt"
    if a.exact_code != b.exact_code:
        return "code blocks or operators differ"
    return None


def _check_negation(a: _Prompt, b: _Prompt) -> str | None:
    if a.negated != b.negated:
        return f"negation in {'the first' if a.negated else 'the second'} prompt only"
    for mine, other in ((a, b), (b, a)):
        mine_words, other_words = set(mine.words), set(other.words)
        for word in sorted(mine_words - other_words):
            opposite = next((p + word for p in NEGATING_PREFIXES if p + word in other_words), None)
            if len(word) > 2 and opposite is not None and word not in other_words:
                return f"opposites: {word} vs {opposite}"
    return None


def _check_direction(a: _Prompt, b: _Prompt) -> str | None:
    poles_a, poles_b = _axis_poles(a.direction_words), _axis_poles(b.direction_words)
    for axis in sorted(poles_a.keys() | poles_b.keys()):
        if poles_a.get(axis) == poles_b.get(axis) or (
            axis in LOOSE_AXES and not (axis in poles_a and axis in poles_b)
        ):
            continue
        words_a = [w for w in a.direction_words if DIRECTIONS[w][0] == axis]
        words_b = [w for w in b.direction_words if DIRECTIONS[w][0] == axis]
        return f"direction differs: {', '.join(words_a) or '-'} vs {', '.join(words_b) or '-'}"
    return None


def _axis_poles(words: tuple[str, ...]) -> dict[str, set[str]]:
    poles: dict[str, set[str]] = {}
    for word in words:
        axis, pole = DIRECTIONS[word]
        poles.setdefault(axis, set()).add(pole)
    return poles


def _check_operands(a: _Prompt, b: _Prompt) -> str | None:
    for x, y in a.pairs:
        if x != y and (y, x) in b.pairs and (x, y) not in b.pairs:
            return f"operands swapped: {x}, {y} vs {y}, {x}"
    if a.has_operator and b.has_operator:
        shared = set(a.entities) & set(b.entities)
        order_a = [e for e in a.entities if e in shared]
        order_b = [e for e in b.entities if e in shared]
        if order_a != order_b:
            return f"operands swapped: {', '.join(order_a)} vs {', '.join(order_b)}"
    return None


def _check_format(a: _Prompt, b: _Prompt) -> str | None:
    if a.formats != b.formats:
        return f"format differs: {', '.join(sorted(a.formats)) or 'none'} vs {', '.join(sorted(b.formats)) or 'none'}"
    return None


def _check_length(a: _Prompt, b: _Prompt) -> str | None:
    if a.lengths != b.lengths:
        return f"length differs: {', '.join(sorted(a.lengths)) or 'none'} vs {', '.join(sorted(b.lengths)) or 'none'}"
    return None


def _check_scope(a: _Prompt, b: _Prompt) -> str | None:
    """The same scope classes; someone else's ("the project's tasks") is a scope of its own against
    "my". "some" or "my" against no scope word asks the same ("Name some fruits" / "List fruits",
    "without saving" / "without saving my changes")."""
    sa = a.scopes | ({"theirs"} if a.possessed and "mine" in b.scopes else set())
    sb = b.scopes | ({"theirs"} if b.possessed and "mine" in a.scopes else set())
    if sa != sb and not ((not sa and sb <= _LOOSE_SCOPES) or (not sb and sa <= _LOOSE_SCOPES)):
        return f"scope differs: {', '.join(sorted(sa)) or 'none'} vs {', '.join(sorted(sb)) or 'none'}"
    return None


_LOOSE_SCOPES = frozenset({"some", "mine"})


def _check_time(a: _Prompt, b: _Prompt) -> str | None:
    if a.times != b.times:
        return (
            f"time differs: {', '.join(sorted(a.times)) or 'none'} vs {', '.join(sorted(b.times)) or 'none'}"
        )
    return None


def _check_roles(a: _Prompt, b: _Prompt) -> str | None:
    """Who does what to whom: the same first-person roles (I, me, my) when the prompts share most of
    their words; no owner ("my manager's messages") that is the actor in the other; the shared words
    in the same order when the two prompts are the same words reordered ("the coach evaluates the
    players" / "the players evaluate the coach")."""
    sa, sb = set(a.sequence), set(b.sequence)
    close = len(sa & sb) * 2 >= len(sa | sb) > 0
    if close and ("i" in a.persons) != ("i" in b.persons) and ("me" in a.persons) != ("me" in b.persons):
        return f"roles differ: {', '.join(sorted(a.persons)) or '-'} vs {', '.join(sorted(b.persons)) or '-'}"
    for mine, other in ((a, b), (b, a)):
        owners = sorted(w for w in mine.possessed if _stem(w) in other.plain and not other.has_of)
        if owners:
            return f"roles differ: {', '.join(owners)}'s in one prompt only"
    if (
        sa == sb
        and len(sa) >= 3
        and a.sequence != b.sequence
        and {a.language, b.language} <= {"en", None}
        and not (a.has_of or b.has_of or a.possessed or b.possessed)
        and not {"by", "whom"} & {*a.words, *b.words}
    ):
        return f"roles differ: {', '.join(a.sequence)} vs {', '.join(b.sequence)}"
    return None


def _check_characters(a: _Prompt, b: _Prompt) -> str | None:
    """Chinese and Japanese have no spaces to find a different word by: the naming characters."""
    if (a.cjk or b.cjk) and a.cjk != b.cjk:
        return f"characters differ: {''.join(sorted(a.cjk ^ b.cjk))}"
    return None


def _check_substitution(a: _Prompt, b: _Prompt) -> str | None:
    if len(a.words) != len(b.words) or a.language != b.language:
        return None
    if a.language not in STOPWORDS and a.language is not None:
        return None  # Chinese and Japanese are compared by ``_check_characters``; other scripts not
    fillers = STOPWORDS[a.language] if a.language not in ("en", None) else None
    differ = [(x, y) for x, y in zip(a.words, b.words, strict=True) if x != y]
    if fillers is not None:
        swaps = [(x, y) for x, y in differ if x not in fillers and y not in fillers]
    else:
        swaps = [(x, y) for x, y in differ if _is_content(x) and _is_content(y) and _normal(x) != _normal(y)]
    if swaps and len(differ) <= 2:  # one frame, one or two slots filled differently
        return f"a different word in the same place: {', '.join(f'{x} vs {y}' for x, y in swaps)}"
    return None


def _is_content(word: str) -> bool:
    return not (word in FILLERS or word in REQUEST_VERBS or word in OWNED or word in NUMBER_WORDS) and not (
        word.endswith("n't")
    )


def _normal(word: str) -> str:
    """A crude stem in American spelling: colours, centre, organise, analyse, tyre, travelled, making."""
    word = word.removesuffix("'s")
    for pattern, repl in SPELLINGS:
        word = pattern.sub(repl, word)
    word = _stem(word)
    return SUFFIX.sub("", word) if len(word) > 4 else word


def _check_qualifier(a: _Prompt, b: _Prompt) -> str | None:
    if {a.language, b.language} - {"en", None}:
        return None
    shared = a.content & b.content
    if not shared or (a.content - shared and b.content - shared):  # nothing in common, or a rewording
        return None
    added = _qualifiers(a.words, shared) or _qualifiers(b.words, shared)
    return f"only one prompt narrows it: {', '.join(added)}" if added else None


def _qualifiers(words: tuple[str, ...], shared: frozenset[str]) -> list[str]:
    """Added words placed as qualifiers: before a shared word and not after a verb's cue ("vegan cake",
    not "what causes rainbows"), or in a closing phrase ("for free", "recursively")."""
    normal = [_normal(w) if _is_content(w) else "" for w in words]
    last_shared = max((i for i, n in enumerate(normal) if n in shared), default=len(words))
    found, in_phrase = [], False
    for i, (word, n) in enumerate(zip(words, normal, strict=True)):
        if i > last_shared:
            in_phrase = word in PREPOSITIONS or (in_phrase and (bool(n) or word in ARTICLES))
        if not n or n in shared or i == 0 or words[i - 1] in VERB_CUES:
            continue
        if (i + 1 < len(words) and normal[i + 1] in shared) or (
            i > last_shared and (in_phrase or word.endswith("ly"))
        ):
            found.append(word)
    return found


_CHECKS = (
    _check_language,
    _check_numbers,
    _check_units,
    _check_entities,
    _check_code,
    _check_negation,
    _check_direction,
    _check_operands,
    _check_format,
    _check_length,
    _check_scope,
    _check_time,
    _check_roles,
    _check_characters,
    _check_substitution,
    _check_qualifier,
)
