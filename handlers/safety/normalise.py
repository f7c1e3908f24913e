"""Text brought to one canonical spelling, so each pattern and each model feature is written once.

Casefolded; look-alike letters of other scripts read as Latin; accents, invisible characters,
markup and symbols dropped; contractions and text speak expanded; common typos of key words
folded. A long text is read in overlapping windows (`readings`), so the work grows with its
length and a flood of one phrase is read once.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Typographic apostrophes and quotes mapped to straight ones (before NFKD, which would split the
# acute accent into a space and a combining mark).
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
# Invisible format characters (zero-width spaces and joiners, soft hyphens) and combining marks
# (accents, once NFKD has split them off their letters), which can hide inside a word: dropped.
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# Letters that draw nothing, though Unicode counts them as letters (Hangul fillers): dropped too.
_INVISIBLE_LETTERS = "\u115f\u1160\u3164\uffa0"
# Letters of other scripts drawn like a Latin letter, by the letter they are read as: Cyrillic,
# Greek, Armenian and Cherokee look-alikes from Unicode's confusables data (UTS #39), dotless i,
# and the small capitals of "fancy text" generators. NFKD already folds fullwidth, mathematical,
# circled and superscript letters. Written as escapes: in source they would pass for Latin.
#
# Invariant: every look-alike is folded, in whatever word and script it stands, not only in words
# that also hold a Latin letter, since a word spelt wholly in look-alikes (Komi "ԁ" with
# Ukrainian "і" and Cyrillic "е" for "die") disguises it as well as "kіll" does. Real Russian,
# Greek or Armenian text is not made a false alarm this way: the patterns are English phrases
# of several words, and nearly every word of those languages keeps a letter with no Latin
# look-alike (б д и л я, β δ λ π ω), so it stays foreign; the few that fold whole ("а", "у",
# "ее") are short and do not line up into a phrase. Firing on deliberate look-alikes is accepted:
# detection only ever adds resources.
_LOOK_ALIKES: dict[str, str] = {
    "a": "\u0430\u0410\u03b1\u0391\u0251\u13aa\u1d00",  # Cyrillic а А, Greek α Α, ɑ, Cherokee
    "b": "\u0412\u0392\u13f4\u0299",  # Cyrillic В, Greek Β, Cherokee, small capital
    "c": "\u0441\u0421\u13df\uabaf\u1d04",  # Cyrillic с С, Cherokee, small capital
    "d": "\u0501\u13a0\u1d05",  # Komi ԁ, Cherokee, small capital
    "e": "\u0435\u0415\u0395\u04bd\u13ac\u1d07",  # Cyrillic е Е, Greek Ε, Abkhazian ҽ
    "f": "\u0584\ua730",  # Armenian ք, small capital
    "g": "\u0261\u0581\u050c\u0262",  # script ɡ, Armenian ց, Komi Ԍ, small capital
    "h": "\u04bb\u041d\u0397\u0570\u13bb\u029c",  # Cyrillic һ Н, Greek Η, Armenian հ
    "i": "\u0456\u0406\u0131\u0269\u026a\u03b9\u0399\ua647\u13a5\uab75",  # і І ı ɩ ɪ ι Ι ꙇ
    "j": "\u0458\u0408\u03f3\u037f\u13ab\u1d0a",  # Cyrillic ј Ј, Greek yot ϳ Ϳ
    "k": "\u041a\u039a\u13e6\u1d0b",  # Cyrillic К, Greek Κ
    # The palochka is a bare stroke, read as l (as in "kiӏӏ"); Unicode's data also has it for i.
    "l": "\u04cf\u04c0\u01c0\u13de\u029f",  # palochka ӏ Ӏ, dental click ǀ, Cherokee
    "m": "\u041c\u039c\u13b7\u1d0d",  # Cyrillic М, Greek Μ
    "n": "\u039d\u0578\u0274",  # Greek Ν, Armenian ո, small capital
    "o": "\u043e\u041e\u03bf\u039f\u0585\u0555\u1d0f",  # Cyrillic о О, Greek ο Ο, Armenian օ Օ
    "p": "\u0440\u0420\u03c1\u03a1\u13e2\u1d18",  # Cyrillic р Р, Greek ρ Ρ
    "q": "\u051b\u0566\ua7af",  # Cyrillic ԛ, Armenian զ, small capital
    "r": "\u0280",  # small capital
    "s": "\u0455\u0405\u054f\u13da\uabaa\u13d5\ua731",  # Cyrillic ѕ Ѕ, Armenian Տ, Cherokee
    "t": "\u0422\u03a4\u13a2\u1d1b",  # Cyrillic Т, Greek Τ
    "u": "\u057d\u054d\u03c5\u1d1c",  # Armenian ս Ս, Greek υ
    "v": "\u03bd\u0475\u0474\u13d9\uaba9\u1d20",  # Greek ν, Cyrillic izhitsa ѵ Ѵ
    "w": "\u051d\u051c\u0461\u0561\u13b3\uab83\u1d21",  # Cyrillic ԝ Ԝ ѡ, Armenian ա
    "x": "\u0445\u0425\u03a7\ua7b3",  # Cyrillic х Х, Greek Χ, Latin chi
    "y": "\u0443\u0423\u04af\u04ae\u03b3\u03a5\u13a9\u028f",  # Cyrillic у У ү Ү, Greek γ Υ
    "z": "\u0396\u13c3\uab93\u1d22",  # Greek Ζ, Cherokee
}


def _fold_table() -> dict[int, str | None]:
    """The str.translate table that drops what can hide in a word and folds look-alikes."""
    # Format characters and combining marks are found only in planes 0, 1 and 14.
    codepoints = (*range(0x20000), *range(0xE0000, 0xE1000))
    table: dict[int, str | None] = {
        cp: None for cp in codepoints if unicodedata.category(chr(cp)) in _DROPPED_CATEGORIES
    }
    table.update(dict.fromkeys(map(ord, _INVISIBLE_LETTERS)))
    for latin, look_alikes in _LOOK_ALIKES.items():
        table.update(dict.fromkeys(map(ord, look_alikes), latin))
    return table


_FOLD = _fold_table()

# HTML tags and Slack tokens such as <!channel> or <@U123>, tried both kept and removed.
_MARKUP = re.compile(r"<[^<>]{0,200}>")
# "OD'd" and "OD'ed" lose their apostrophe next, and would read as "odd".
_OD = re.compile(r"\bod ?'? ?(?:e?d)\b")
# Contractions read before apostrophes go: without them "he'll" and "I'll" read as "hell", "ill".
_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"\bcan't\b", "can not"),
        (r"\bwon't\b", "will not"),
        (r"\bain't\b", "is not"),
        (r"n't\b", " not"),
        (r"'ll\b", " will"),
        (r"'re\b", " are"),
        (r"'ve\b", " have"),
        (r"'m\b", " am"),
        (r"'d\b", " would"),
    )
)
# Everything but letters, digits, spaces and clause punctuation becomes a space.
_SYMBOLS = re.compile(r"[^\w\s.!?,;:]|_")
# Trailing-off punctuation ("I want to... die", "I want to - die") does not end a clause.
_TRAILING = re.compile(r"\.{2,}|\u2026|\s-+\s|-{2,}")
_SPACES = re.compile(r"\s+")
_LONG_RUNS = re.compile(r"([a-z])\1{2,}")  # "diiiie", "killlll": three or more of a letter
_PUNCTUATION = re.compile(r"[.!?,;:]+")
# "10 kms" is a distance, not "kill myself".
_KILOMETRES = re.compile(r"\b([0-9]+|few|a|many|some|the|those|more|extra) kms\b")

# Contractions without their apostrophe, and text speak, in canonical words.
_SPEAK: dict[str, str] = {
    # contractions (apostrophes are already gone)
    "im": "i am",
    "ive": "i have",
    "id": "i would",
    "youre": "you are",
    "youd": "you would",
    "youll": "you will",
    "hes": "he is",
    "hed": "he would",
    "shes": "she is",
    "theyre": "they are",
    "theyd": "they would",
    "theyll": "they will",
    "itd": "it would",
    "its": "it is",
    "whats": "what is",
    "wats": "what is",
    "thats": "that is",
    "theres": "there is",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "cannot": "can not",
    "couldnt": "could not",
    "wont": "will not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "aint": "is not",
    # text speak
    "dnt": "do not",
    "dun": "do not",
    "cnt": "can not",
    "wanna": "want to",
    "wana": "want to",
    "wnna": "want to",
    "wanan": "want to",
    "gonna": "going to",
    "gona": "going to",
    "finna": "going to",
    "gotta": "got to",
    "tryna": "trying to",
    "imma": "i am going to",
    "ima": "i am going to",
    "u": "you",
    "ya": "you",
    "ur": "your",
    "r": "are",
    "y": "why",
    "n": "and",
    "nd": "and",
    "w": "with",
    "abt": "about",
    "bout": "about",
    "cud": "could",
    "wud": "would",
    "shud": "should",
    "ppl": "people",
    "every1": "everyone",
    "everybody": "everyone",
    "some1": "someone",
    "somebody": "someone",
    "any1": "anyone",
    "anybody": "anyone",
    "no1": "no one",
    "noone": "no one",
    "nobody": "no one",
    "rn": "right now",
    "atm": "at the moment",
    "idk": "i do not know",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "tonite": "tonight",
    "2nite": "tonight",
    "2night": "tonight",
    "2day": "today",
    "2moro": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "kms": "kill myself",
    "ded": "dead",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "hubby": "husband",
    "hubs": "husband",
    "mom": "mum",
    "mam": "mum",
    "mommy": "mum",
    "mummy": "mum",
    "neighbor": "neighbour",
    "neighbors": "neighbours",
    "meself": "myself",
    "myslf": "myself",
    "neckin": "necking",
    "toppin": "topping",
    "mself": "myself",
    "pils": "pills",
    "fiancee": "fiance",
}
# Multi-word spellings of one canonical phrase, each with a word it needs (a cheap test first).
_PHRASES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (needs, re.compile(pattern), canonical)
    for needs, pattern, canonical in (
        (" sel", r"\b(my|him|her|your|them|our) (self|selves)\b", r"\1\2"),
        ("any more", r"\bany more\b", "anymore"),
        # "ill" for "I'll" where "ill" (unwell) cannot stand
        (
            " ill",
            r"\b(scared|afraid|worried|think|sure|know|like|maybe|then|or|so|hope) ill\b",
            r"\1 i will",
        ),
        # "ill" for "I'll" before a verb or adverb it cannot stand before as "unwell"
        (
            "ill ",
            r"\bill (?=(?:only|just|never|always|be|do|go|kill|end|jump|take|make|hurt)\b)",
            "i will ",
        ),
        ("better of ", r"\bbetter of\b", "better off"),
        ("co worker", r"\bco workers?\b", "coworker"),
        ("codamol", r"\bco ?codamol\b", "cocodamol"),
        ("laws", r"\bin ?laws\b", "inlaws"),
        # "want 2 die", "going 2 end it": 2 as "to" after a verb
        (
            " 2",
            r"\b(want|wanted|going|need|ready|try|trying|plan|planning|deserve|got|have) 2\b",
            r"\1 to",
        ),
    )
)

# Key words of the patterns, whose common typos are folded into them: one letter left out
# (words of six letters or more), two neighbouring letters swapped, one letter doubled, or one
# vowel changed (six or more). Variants that are real words of their own are excluded.
_LEXICON = (
    "want",
    "kill",
    "killing",
    "myself",
    "suicide",
    "suicidal",
    "dead",
    "alive",
    "living",
    "life",
    "burden",
    "overdose",
    "overdosed",
    "pills",
    "tablets",
    "paracetamol",
    "wrists",
    "goodbye",
    "husband",
    "boyfriend",
    "girlfriend",
    "partner",
    "abusive",
    "anymore",
    "everyone",
    "without",
    "nothing",
    "reason",
    "point",
    "violent",
    "scared",
    "terrified",
    "hurting",
)
_REAL_WORDS = frozenset(
    {
        "lief",
        "loving",
        "noting",
        "overdoes",
        "sacred",
        "scare",
        "scarred",
        "scored",
        "tables",
        "tablet",
        "violet",
        "writs",
        "wrist",
    }
)
_VOWELS = "aeiou"


def _typo_variants(word: str) -> set[str]:
    out: set[str] = set()
    n = len(word)
    for i in range(n - 1):
        out.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # swapped neighbours
    for i in range(n):
        out.add(word[: i + 1] + word[i] + word[i + 1 :])  # a letter doubled
        if n >= 6 and i > 0:
            out.add(word[:i] + word[i + 1 :])  # a letter left out (never the first)
        if n >= 6 and word[i] in _VOWELS:
            out.update(word[:i] + v + word[i + 1 :] for v in _VOWELS)  # a vowel changed
    return out


_TYPOS: dict[str, str] = {}
for _key in _LEXICON:
    for _variant in _typo_variants(_key):
        if _variant not in _LEXICON and _variant not in _REAL_WORDS and _variant not in _SPEAK:
            _TYPOS.setdefault(_variant, _key)
_WORDS = {**_TYPOS, **_SPEAK}


def normalise(text: str) -> str:
    """Text NFKD-normalised, look-alikes folded, casefolded, without accents, invisible
    characters, apostrophes, symbols or extra spaces."""
    text = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    if not text.isascii():
        text = text.translate(_FOLD)  # before casefold, which turns Cyrillic "В" into "в"
    text = text.casefold()
    if "od" in text:
        text = _OD.sub(" overdosed ", text)
    if "'" in text:
        for pattern, words in _CONTRACTIONS:
            text = pattern.sub(words, text)
    # A line break ends a clause: lines of a list or a pasted log are not one sentence.
    text = _TRAILING.sub(" ", text).replace("'", "").replace("\n", " ; ")
    text = _PUNCTUATION.sub(r" \g<0> ", _SYMBOLS.sub(" ", text))  # a word per space
    return _SPACES.sub(" ", text).strip()


def canonical(normal: str) -> str:
    """Normalised text in canonical words: contractions and text speak expanded, typos folded."""
    text = _LONG_RUNS.sub(r"\1\1", normal)
    if "kms" in text:
        text = _KILOMETRES.sub(r"\1 km", text)
    text = " ".join([_WORDS.get(word, word) for word in text.split(" ")])
    for needs, pattern, canonical in _PHRASES:
        if needs in text:
            text = pattern.sub(canonical, text)
    return text


def readings(text: str) -> dict[str, int]:
    """The canonical readings of text, with and without markup, window by window; each with
    the position a match must start before to count in it (see windows)."""
    readings: dict[str, int] = {}
    for head, tail in windows(html.unescape(text)):
        parts = [(head, tail)]
        if "<" in head or (tail and "<" in tail):
            parts.append((_MARKUP.sub(" ", head), tail and _MARKUP.sub(" ", tail)))
        for first, rest in parts:
            reading = canonical(normalise(first))
            limit = len(reading) + 1
            if rest is not None:
                reading = f"{reading} {canonical(normalise(rest))}"
            readings[reading] = max(limit, readings.get(reading, 0))
    return readings


# A long text is read in overlapping windows, so the work grows with the text's length and a
# repeated text (a flood of one phrase) is read only once. Each window is a head and a tail;
# the tail starts the next window. A match counts in a window only if it starts in the head,
# so it is judged where everything after it (up to _OVERLAP characters) is there to read, as
# in "killing myself | to hit this deadline".
_WINDOW, _OVERLAP = 4000, 1000


def windows(text: str) -> set[tuple[str, str | None]]:
    """`text` cut at spaces into windows of at most _WINDOW characters, as (head, tail) pairs;
    the last window has no tail."""
    if len(text) <= _WINDOW:
        return {(text, None)}
    out: set[tuple[str, str | None]] = set()
    start = 0
    while True:
        end = start + _WINDOW
        if end >= len(text):
            out.add((text[start:], None))
            return out
        # A window is at least half _WINDOW long and its tail at most _OVERLAP, so every step
        # moves on by _WINDOW // 2 - _OVERLAP or more.
        space = text.rfind(" ", start + _WINDOW // 2, end)
        end = space if space > 0 else end
        space = text.find(" ", end - _OVERLAP, end)
        tail = space + 1 if space >= 0 else end - _OVERLAP
        out.add((text[start:tail], text[tail:end]))
        start = tail


def _unmarked(text: str) -> str:
    """`text` with HTML entities read and markup (tags, Slack tokens) removed."""
    text = html.unescape(text)
    return _MARKUP.sub(" ", text) if "<" in text else text


def plain(text: str) -> str:
    """`text` as one canonical reading, markup removed: what the model reads."""
    return canonical(normalise(_unmarked(text)))


def foreign(text: str) -> str:
    """`text` normalised for a language other than English: folded, accents and markup dropped,
    letter runs shortened, but no English contractions, text speak or typos expanded."""
    text = _unmarked(text)
    # Apostrophes part words here ("j'ai" reads as "j ai"); Polish l with a stroke has no
    # decomposition of its own.
    text = text.translate(_QUOTES).replace("'", " ").replace("\u0142", "l").replace("\u0141", "L")
    return _LONG_RUNS.sub(r"\1\1", normalise(text))
