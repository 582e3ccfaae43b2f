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
- substitution: in English, two prompts of the same words but one or two content words in the same
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


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str | None = None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _groups(spec: str) -> dict[str, list[str]]:
    """``"key: word word other: word"`` -> ``{"key": ["word", "word"], "other": ["word"]}``."""
    groups: dict[str, list[str]] = {}
    for token in spec.split():
        if token.endswith(":"):
            key = token[:-1]
            groups[key] = []
        else:
            groups[key].append(token)
    return groups


def _lookup(spec: str) -> dict[str, str]:
    return {word: key for key, words in _groups(spec).items() for word in words}


def _axes(spec: str) -> dict[str, tuple[str, str]]:
    """``"axis: up words | down words"`` -> ``{"word": ("axis", "+" or "-")}``."""
    poles = {}
    for axis, words in _groups(spec).items():
        bar = words.index("|")
        poles.update({w: (axis, "+") for w in words[:bar]} | {w: (axis, "-") for w in words[bar + 1 :]})
    return poles


_STOPWORDS = {
    lang: frozenset(words)
    for lang, words in _groups("""
    en: the is are what how why which who of and to in a an do does can i you it for with my this that from be
        was were on me please should would there between into about or its than many much when where your
        they we he she has have had will not all any some if but at by up out also most other only just
        explain write give tell show help make list describe
    fr: le la les est sont quel quelle quels quelles comment pourquoi de des du et un une dans pour avec je vous
        il elle ce cette qui que qu au aux sur pas ne mon ma mes plus l d c
    de: der die das ist sind wie warum welche welcher wer und ein eine einen einem zu im mit ich sie es nicht
        für auf den dem des von bitte kann mir mein auch oder wo
    es: el la los las es son qué que cómo como por para con de del y un una en mi yo tú se lo al cuál cuántos
        cuántas está más pero sin hay esto
    it: il lo la gli le è sono che come perché per con di del della e un una in mi io tu non si quale quanto
        cosa questo questa dei delle nel nella più
    pt: o os a as é são que como por para com de do da dos das e um uma em no na eu você não qual quanto isso
        este esta mais ao pelo pela
    nl: de het een is zijn wat hoe waarom welke wie en van in op met voor ik je jij niet dat dit er naar om te
        bij ook kan mijn hoeveel wordt
    """).items()
}
_SCRIPTS = (
    ("cyrillic", 0x0400, 0x04FF), ("greek", 0x0370, 0x03FF), ("arabic", 0x0600, 0x06FF), ("hebrew", 0x0590, 0x05FF),
    ("devanagari", 0x0900, 0x097F), ("thai", 0x0E00, 0x0E7F), ("kana", 0x3040, 0x30FF), ("hangul", 0xAC00, 0xD7AF),
    ("han", 0x4E00, 0x9FFF),
)  # fmt: skip
_NEGATIONS = _words("""
    not no never without none nobody nothing neither nor cannot except excluding exclude excludes nowhere
    ne pas jamais sans aucun aucune rien nicht kein keine keinen keiner keinem nie niemals ohne nichts
    nunca sin ningún ninguna ninguno nada tampoco non mai senza nessun nessuno nessuna niente nulla
    não sem nenhum nenhuma niet geen nooit zonder niets
""")
_DIRECTIONS = _axes("""
    magnitude: more most greater greatest bigger biggest larger largest higher highest taller tallest heavier
        heaviest longer longest wider widest deeper deepest max maximum maximal maximize maximise increase
        increases increasing increased raise above exceed exceeds over upper big large high huge
      | less least fewer fewest smaller smallest lower lowest shorter shortest lighter lightest narrower
        narrowest shallower shallowest min minimum minimal minimize minimise decrease decreases decreasing
        decreased reduce reduces below under small low tiny
    speed: faster fastest quicker quickest | slower slowest
    time: before earlier earliest previous prior first oldest older | after later latest next last newest newer
    order: ascending asc | descending desc
    trade: buy buying bought purchase purchasing | sell selling sold
    flow: import importing upload uploading receive inbound incoming ingress
        | export exporting download downloading send outbound outgoing egress
    codec: encode encoding encoder encrypt encryption serialize serialise compress compression zip pack marshal
        | decode decoding decoder decrypt decryption deserialize deserialise decompress decompression unzip
        unpack unmarshal
    switch: enable enabled start launch open install mount connect login activate
        | disable disabled stop kill close uninstall unmount disconnect logout deactivate
    edit: insert append push create | remove delete drop pop
    sum: plus add adding addition sum | minus subtract subtracting subtraction
    product: times multiply multiplied multiplication product | divide divided division quotient
    side: left | right
    north: north northern | south southern
    east: east eastern | west western
    polarity: positive pros advantage advantages benefit benefits upside upsides true
        | negative cons disadvantage disadvantages drawback drawbacks downside downsides false
    quality: best better good | worst worse bad
    cost: cheap cheaper cheapest inexpensive affordable | expensive pricier priciest costly
    difficulty: easy easier easiest | hard harder hardest difficult
    heat: hot hotter hottest warm warmer warmest | cold colder coldest cool cooler coolest
    case: uppercase | lowercase
    parity: odd | even
    nesting: inner | outer
    outcome: win wins winning won winner | lose loses losing lost loser
    meaning: synonym synonyms | antonym antonyms
    toward: to into towards toward | from
""")
_LOOSE_AXES = {"toward", "quality"}  # "the best way to", "to" alone: only opposite poles clash
_UNITS = _lookup("""
    km: km kms kilometer kilometers kilometre kilometres  mi: mi mile miles  m: m meter meters metre metres
    cm: cm centimeter centimeters centimetre centimetres  mm: mm millimeter millimeters millimetre millimetres
    ft: ft foot feet  in: inch inches  yd: yd yard yards  kg: kg kgs kilogram kilograms kilo kilos
    g: g gram grams  lb: lb lbs pound pounds  oz: oz ounce ounces  °c: c celsius centigrade  °f: f fahrenheit
    k: kelvin  l: l liter liters litre litres  ml: ml milliliter milliliters millilitre millilitres
    gal: gal gallon gallons  cup: cup cups  tbsp: tbsp tablespoon tablespoons  tsp: tsp teaspoon teaspoons
    mph: mph  kph: kph kmh  usd: usd dollar dollars $  eur: eur euro euros €  gbp: gbp sterling £  jpy: jpy yen ¥
    inr: inr rupee rupees  cny: cny yuan rmb  chf: chf franc francs  btc: btc bitcoin bitcoins
    s: s sec secs second seconds  min: min mins minute minutes  h: h hr hrs hour hours
    ms: ms millisecond milliseconds  day: day days  week: week weeks  month: month months  year: year years
    B: b byte bytes  KB: kb kilobyte kilobytes  MB: mb megabyte megabytes  GB: gb gigabyte gigabytes
    TB: tb terabyte terabytes  bit: bit bits  acre: acre acres  ha: ha hectare hectares
    kcal: kcal calorie calories  kj: kj kilojoule kilojoules  kwh: kwh  rad: rad radian radians
""")
_AFTER_NUMBER_UNITS = _words("m g c f l s h b k mi ms min sec ha")  # too ambiguous elsewhere
_UNIT_FILLERS = _words("degree degrees °")
_NUMBER_WORDS = {w: i for i, w in enumerate("""zero one two three four five six seven eight nine ten eleven twelve
    thirteen fourteen fifteen sixteen seventeen eighteen nineteen""".split())}  # fmt: skip
_NUMBER_WORDS |= {
    w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_ORDINALS = {w: i for i, w in enumerate("third fourth fifth sixth seventh eighth ninth tenth".split(), 3)}
_ONE = {"a": 1, "an": 1, "single": 1, "one": 1}
_FORMATS = _lookup("""
    json: json jsonl  yaml: yaml yml  xml: xml  html: html  csv: csv  tsv: tsv  markdown: markdown  latex: latex
    table: table tables tabular  bullet: bullet bullets bulleted  numbered: numbered
    python: python py  javascript: javascript js nodejs  typescript: typescript ts  java: java  c#: csharp
    c++: cpp  go: golang  rust: rust  ruby: ruby  php: php  sql: sql  bash: bash shell sh zsh
    powershell: powershell  kotlin: kotlin  swift: swift  scala: scala  haskell: haskell  perl: perl  lua: lua
    regex: regex regexp  mermaid: mermaid  pseudocode: pseudocode  poem: poem poems poetry verse  haiku: haiku
    limerick: limerick  sonnet: sonnet  essay: essay  tweet: tweet  joke: joke jokes
    english: english  french: french  german: german
    spanish: spanish  italian: italian  portuguese: portuguese  dutch: dutch  chinese: chinese mandarin
    japanese: japanese  korean: korean  russian: russian  arabic: arabic  hindi: hindi
""")
_LENGTHS = _lookup("""
    short: short brief briefly concise concisely succinct succinctly tldr
    long: detailed detail thorough thoroughly comprehensive comprehensively extensive extensively elaborate lengthy
""")
_COUNTED = "word sentence paragraph line bullet page"
_OPERATOR_MARKERS = _words("than to into from vs versus before after minus over divided")
_ORDERED_NUMBERS = _OPERATOR_MARKERS | _words("by divide subtract power exponent mod modulo per")
_FILLERS = _words("""
    the a an is are was were be been being do does did of in on at by for with to from into than and or but it its
    this that these those there their them they he she we you your my our i me what which who whom how why when
    where can could would should will shall may might must please have has had more less fewer some any all each
    every so as if then just also very really about tell give show explain main common key basic general
    typical usual exactly actually basically currently simply still way ways step steps method procedure process
    tips instructions guide use using used single what's how's where's who's whats up
""")
_STARTERS = _FILLERS | _words("""
    write make create find list name describe define compare convert translate summarize summarise calculate
    compute generate suggest recommend provide help let let's hey hi hello okay ok yes use using implement fix
    refactor rewrite draft compose outline classify identify sort add check count solve answer return print get
    set quick quickly now today here top during since while again finally
""")
_SUBJECT_OF = _words("is are was were has have had does did will would can could should and or vs")
_REQUEST_VERBS = _words("""
    write compose create make draft generate produce give provide tell show explain describe summarize summarise
    list name suggest recommend output format return respond present display
""")
_SPELLINGS = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"^tyre", "tire"), (r"^grey", "gray"), (r"our$", "or"), (r"([^aeiou])re$", r"\1er"),
        (r"is(e|ed|es|ing|ation)$", r"iz\1"), (r"yse$", "yze"), (r"ll(ed|ing|er)$", r"l\1"), (r"ogue$", "og"),
    )
)  # fmt: skip
_SUFFIX = re.compile(r"(?:ing|ed|e)$")
_ARTICLES = _words("a an the my your our their this that")
_VERB_CUES = _words("what which who why to do does did can could should will would i you we they it please")
_PREPOSITIONS = _words("for with without in on at using from under over during after before by via")
# Words that a rule of their own compares: no entity, substitution or qualifier.
_OWNED = _NEGATIONS | _DIRECTIONS.keys() | _FORMATS.keys() | _LENGTHS.keys() | _UNITS.keys()
_COMMON = _STARTERS | _OWNED | set().union(*_STOPWORDS.values())

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
    rf"\b(\d+|a|an|single|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+({'|'.join(_COUNTED.split())})s?\b"
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
    code = {t for t in _CODE.findall(prose) if t.lower() not in _FORMATS and not _is_abbreviation(t)}
    code.update(t for span in spans for t in _IDENT.findall(span))
    quoted = {_flat(next(g for g in m if g)) for m in _QUOTED.findall(prose)}
    return _Prompt(
        language=_language(prose, words),
        numbers=_numbers(lower),
        ordered=bool(_ORDERED_NUMBERS.intersection(words)) or bool(re.search(r"\d\s*[-/^÷*]\s*\d", lower)),
        units=_units(tokens),
        entities=_entities(prose),
        quoted=frozenset(quoted),
        flat=_flat(lower),
        words=tuple(words),
        content=frozenset(_normal(w) for w in words if _is_content(w)),
        code=frozenset(code),
        raw_words=frozenset(_RAW_WORD.findall(prose) + _IDENT.findall(prose)),
        exact_code=(*fences, *sorted(_OPERATOR.findall(text))),
        negated=any(w in _NEGATIONS or w.endswith("n't") or w.startswith("n'") for w in words),
        direction_words=tuple(w for w in words if w in _DIRECTIONS),
        has_operator=not _OPERATOR_MARKERS.isdisjoint(words),
        pairs=_pairs(words),
        formats=_formats(words, lower),
        lengths=_lengths(words, lower),
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
                (name for name, lo, hi in _SCRIPTS if lo <= cp <= hi), "latin" if cp < 0x250 else "other"
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
    scores = sorted(
        ((sum(p in stop for p in parts), lang) for lang, stop in _STOPWORDS.items()), reverse=True
    )
    (best, lang), (second, _) = scores[0], scores[1]
    return lang if best > second else None


def _numbers(lower: str) -> tuple[str, ...]:
    found = [(m.start(), _number(*m.groups())) for m in _NUMBER.finditer(lower)]
    run: list[str] = []
    start = 0
    for m in re.finditer(r"[^\W\d_]+|\S", lower + " ."):
        word = m.group()
        if word in _NUMBER_WORDS or word in _SCALES or (run and word == "and"):
            start = start if run else m.start()
            run.append(word)
            continue
        if word in _ORDINALS:
            found.append((m.start(), str(_ORDINALS[word])))
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
        if word in _NUMBER_WORDS:
            current += _NUMBER_WORDS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return total + current


def _units(tokens: list[str]) -> frozenset[tuple[str, str]]:
    found = set()
    for i, tok in enumerate(tokens):
        unit = _UNITS.get(tok)
        if unit is None:
            continue
        j = i - 1
        while j >= 0 and tokens[j] in _UNIT_FILLERS:
            j -= 1
        prev = tokens[j] if j >= 0 else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        after_number = prev[:1].isdigit()
        if tok in _AFTER_NUMBER_UNITS and not after_number and tokens[i - 1 : i] != ["°"]:
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
        if not word[0].isupper() or lower in _OWNED or word in ("I", "I'm", "I'd", "I'll", "I've"):
            continue
        if opens:
            nxt = matches[i + 1].group().lower() if i + 1 < len(matches) else ""
            if lower in _COMMON or nxt not in _SUBJECT_OF:
                continue
        found[_flat(word.removesuffix("'s"))] = None
    return tuple(found)


def _stem(word: str) -> str:
    return (
        word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us")) else word
    )


def _pairs(words: list[str]) -> frozenset[tuple[str, str]]:
    content = [(i, _stem(w)) for i, w in enumerate(words) if w not in _FILLERS or w in _OPERATOR_MARKERS]
    found = set()
    for k, (_, w) in enumerate(content):
        if w not in _OPERATOR_MARKERS:
            continue
        left = [c for _, c in content[:k] if c not in _OPERATOR_MARKERS]
        right = next((c for _, c in content[k + 1 :] if c not in _OPERATOR_MARKERS), None)
        if not left or right is None:
            continue
        operand = left[-1]
        if w == "than" and len(left) > 1:  # "Paris is bigger than", "Paris has more people than"
            operand = left[-2]
        found.add((operand, right))
    return frozenset(found)


def _formats(words: list[str], lower: str) -> frozenset[str]:
    found = {_FORMATS[w] for w in words if w in _FORMATS and w != "list"}
    if _LIST_FORMAT.search(lower):  # "as a list", "a list of"; not "List the planets", "from a sorted list"
        found.add("list")
    found.update(fmt for fmt in ("c++", "c#") if fmt in lower)
    if found & {"bullet", "numbered"}:
        found.discard("list")
    return frozenset(found)


def _lengths(words: list[str], lower: str) -> frozenset[str]:
    found = {_LENGTHS[w] for w in words if w in _LENGTHS}
    if _LONG.search(lower):
        found.add("long")
    for count, unit in _COUNT.findall(lower):
        if count not in ("a", "an") or unit != "word":  # "a word for happy" is no length
            found.add(f"{_ONE.get(count) or _NUMBER_WORDS.get(count) or int(count)} {unit}")
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
    return None


def _check_direction(a: _Prompt, b: _Prompt) -> str | None:
    poles_a, poles_b = _axis_poles(a.direction_words), _axis_poles(b.direction_words)
    for axis in sorted(poles_a.keys() | poles_b.keys()):
        if poles_a.get(axis) == poles_b.get(axis) or (
            axis in _LOOSE_AXES and not (axis in poles_a and axis in poles_b)
        ):
            continue
        words_a = [w for w in a.direction_words if _DIRECTIONS[w][0] == axis]
        words_b = [w for w in b.direction_words if _DIRECTIONS[w][0] == axis]
        return f"direction differs: {', '.join(words_a) or '-'} vs {', '.join(words_b) or '-'}"
    return None


def _axis_poles(words: tuple[str, ...]) -> dict[str, set[str]]:
    poles: dict[str, set[str]] = {}
    for word in words:
        axis, pole = _DIRECTIONS[word]
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


def _check_substitution(a: _Prompt, b: _Prompt) -> str | None:
    if len(a.words) != len(b.words) or {a.language, b.language} - {"en", None}:
        return None
    differ = [(x, y) for x, y in zip(a.words, b.words, strict=True) if x != y]
    swaps = [(x, y) for x, y in differ if _is_content(x) and _is_content(y) and _normal(x) != _normal(y)]
    if swaps and len(differ) <= 2:  # one frame, one or two slots filled differently
        return f"a different word in the same place: {', '.join(f'{x} vs {y}' for x, y in swaps)}"
    return None


def _is_content(word: str) -> bool:
    return not (
        word in _FILLERS or word in _REQUEST_VERBS or word in _OWNED or word in _NUMBER_WORDS
    ) and not (word.endswith("n't"))


def _normal(word: str) -> str:
    """A crude stem in American spelling: colours, centre, organise, analyse, tyre, travelled, making."""
    word = word.removesuffix("'s")
    for pattern, repl in _SPELLINGS:
        word = pattern.sub(repl, word)
    word = _stem(word)
    return _SUFFIX.sub("", word) if len(word) > 4 else word


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
            in_phrase = word in _PREPOSITIONS or (in_phrase and (bool(n) or word in _ARTICLES))
        if not n or n in shared or i == 0 or words[i - 1] in _VERB_CUES:
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
    _check_substitution,
    _check_qualifier,
)
