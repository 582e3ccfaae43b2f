"""The vocabulary ``verify`` compares prompts by: stopwords per language, negations, direction
and comparison axes, units, number words, formats, lengths, and the English fillers, starters and
request verbs that do not change what a question asks. Data, with the small builders that parse it."""

from __future__ import annotations

import re


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


STOPWORDS = {
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
SCRIPTS = (
    ("cyrillic", 0x0400, 0x04FF), ("greek", 0x0370, 0x03FF), ("arabic", 0x0600, 0x06FF), ("hebrew", 0x0590, 0x05FF),
    ("devanagari", 0x0900, 0x097F), ("thai", 0x0E00, 0x0E7F), ("kana", 0x3040, 0x30FF), ("hangul", 0xAC00, 0xD7AF),
    ("han", 0x4E00, 0x9FFF),
)  # fmt: skip
NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non")
"""A word and its prefixed opposite ("safe" / "unsafe", "able" / "disable") differ like a negation."""
NEGATIONS = _words("""
    not no never without none nobody nothing neither nor cannot except excluding exclude excludes nowhere
    ne pas jamais sans aucun aucune rien nicht kein keine keinen keiner keinem nie niemals ohne nichts
    nunca sin ningún ninguna ninguno nada tampoco non mai senza nessun nessuno nessuna niente nulla
    não sem nenhum nenhuma niet geen nooit zonder niets
""")
DIRECTIONS = _axes("""
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
    switch: enable enabled start started launch open opened opening install mount connect login activate
        | disable disabled stop stopped kill close closed closing uninstall unmount disconnect logout deactivate
    lock: lock locked | unlock unlocked
    verdict: allowed permitted legal valid pass passed passing succeed succeeded success accept accepted
        approve approved | forbidden banned illegal invalid fail failed failing failure reject rejected
        deny denied
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
LOOSE_AXES = {
    "toward",
    "quality",
    "switch",
    "edit",
}  # "the best way to", "to", "create" alone: only opposite poles clash
UNITS = _lookup("""
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
AFTER_NUMBER_UNITS = _words("m g c f l s h b k mi ms min sec ha")  # too ambiguous elsewhere
UNIT_FILLERS = _words("degree degrees °")
NUMBER_WORDS = {w: i for i, w in enumerate("""zero one two three four five six seven eight nine ten eleven twelve
    thirteen fourteen fifteen sixteen seventeen eighteen nineteen""".split())}  # fmt: skip
NUMBER_WORDS |= {
    w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
ORDINALS = {w: i for i, w in enumerate("third fourth fifth sixth seventh eighth ninth tenth".split(), 3)}
ONE = {"a": 1, "an": 1, "single": 1, "one": 1}
FORMATS = _lookup("""
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
LENGTHS = _lookup("""
    short: short brief briefly concise concisely succinct succinctly tldr
    long: detailed detail thorough thoroughly comprehensive comprehensively extensive extensively elaborate lengthy
""")
COUNTED = "word sentence paragraph line bullet page"
OPERATOR_MARKERS = _words("than to into from vs versus before after minus over divided")
ORDERED_NUMBERS = OPERATOR_MARKERS | _words("by divide subtract power exponent mod modulo per")
FILLERS = _words("""
    the a an is are was were be been being do does did of in on at by for with to from into than and or but it its
    this that these those there their them they he she we you your my our i me what which who whom how why when
    where can could would should will shall may might must please have has had more less fewer some any all each
    every so as if then just also very really about tell give show explain main common key basic general
    typical usual exactly actually basically currently simply still way ways step steps method procedure process
    tips instructions guide use using used single what's how's where's who's whats up
""")
_STARTERS = FILLERS | _words("""
    write make create find list name describe define compare convert translate summarize summarise calculate
    compute generate suggest recommend provide help let let's hey hi hello okay ok yes use using implement fix
    refactor rewrite draft compose outline classify identify sort add check count solve answer return print get
    set quick quickly now today here top during since while again finally
""")
SUBJECT_OF = _words("is are was were has have had does did will would can could should and or vs")
REQUEST_VERBS = _words("""
    write compose create make draft generate produce give provide tell show explain describe summarize summarise
    list name suggest recommend output format return respond present display
""")
SPELLINGS = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"^tyre", "tire"), (r"^grey", "gray"), (r"our$", "or"), (r"([^aeiou])re$", r"\1er"),
        (r"is(e|ed|es|ing|ation)$", r"iz\1"), (r"yse$", "yze"), (r"ll(ed|ing|er)$", r"l\1"), (r"ogue$", "og"),
    )
)  # fmt: skip
SUFFIX = re.compile(r"(?:ing|ed|e)$")
ARTICLES = _words("a an the my your our their this that")
VERB_CUES = _words("what which who why to do does did can could should will would i you we they it please")
PREPOSITIONS = _words("for with without in on at using from under over during after before by via")
# Words that a rule of their own compares: no entity, substitution or qualifier.
OWNED = NEGATIONS | DIRECTIONS.keys() | FORMATS.keys() | LENGTHS.keys() | UNITS.keys()
COMMON = _STARTERS | OWNED | set().union(*STOPWORDS.values())
# Scope: who or how much a question is about. Each word names its class; two prompts must name the
# same classes ("my invoices" / "the company's invoices", "all birds" / "most birds").
SCOPES = _lookup("""
    all: all every each whole entire everyone everybody everything
    some: some any anyone anybody someone somebody
    most: most
    mine: my mine
    ours: our ours team team's teams company company's organization organization's organisation org
        department department's everyone's shared
""")
PERSONS = _words("i me my mine myself")
"""First-person forms by grammatical role: "What do I owe my roommate?" / "What does my roommate owe me?"."""
# Times of day, days, seasons and calendar words that pin a question to a time; ``DEICTIC`` before a
# calendar period ("this week", "last year") pins it too.
TIMES = _lookup("""
    today: today  tonight: tonight  tomorrow: tomorrow  yesterday: yesterday  now: now currently
    morning: morning mornings  afternoon: afternoon afternoons  evening: evening evenings
    night: night nights overnight  noon: noon midday  midnight: midnight  weekend: weekend weekends
    weekday: weekday weekdays  holiday: holiday holidays  spring: spring  summer: summer
    autumn: autumn fall  winter: winter  am: am  pm: pm  daily: daily  weekly: weekly
    monthly: monthly  yearly: yearly annually annual  quarterly: quarterly
""")
DEICTIC = _words("this next last previous coming past current")
PERIODS = _words("week month year quarter season decade century semester term")
# Characters of Chinese and Japanese that ask rather than name (question words, particles,
# pronouns, request phrases): the rest of two such prompts must be the same characters.
CJK_FUNCTION = frozenset(
    "的了吗呢吧是在有我你他她它们这那哪里儿个什么怎样如何为才能可以请问要会想把被给和与及或该应"
    "方法教下说明一告诉呢"
)
