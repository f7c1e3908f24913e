"""Crisis language, by concern, and the resources that answer it, by region.

`assess(text)` says which concerns a message raises: the writer's own safety (`Concern.SELF`,
every category of the Columbia suicide severity screen), harm to someone else (`OTHERS`), or
being unsafe at home (`ABUSE`). Detection only ever adds resources: it never blocks or hides the
normal path, so it errs towards flagging real risk while leaving workplace idioms alone ("this
deadline is killing me", "shoot me an email"). tests/crisis/ holds the labelled evaluation set;
`python -m bench.crisis_eval` prints recall and false alarms.

Text is first brought to one canonical spelling (casefolded, look-alike letters of other
scripts read as Latin, accents, invisible characters, markup and symbols dropped, contractions
and text speak expanded, common typos of key words folded), so each pattern is written once, in
plain words.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.messages import Block, Divider, Section
from handlers.content import Region, Resource
from handlers.context import Context

try:  # private modules, read once at import by _needs; only the cheap pre-filter relies on them
    import re._constants as _sre
    import re._parser as _parser
except ImportError:  # pragma: no cover - a Python without them reads every pattern in full
    _sre = _parser = None  # type: ignore[assignment]


class Concern(StrEnum):
    SELF = "self"  # the writer may harm themself, or already has
    OTHERS = "others"  # the writer may harm someone else
    ABUSE = "abuse"  # the writer is unsafe at home: abused, threatened or controlled


# --- normalisation ---------------------------------------------------------------------------
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


def _normalise(text: str) -> str:
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


def _canonical(normal: str) -> str:
    """Normalised text in canonical words: contractions and text speak expanded, typos folded."""
    text = _LONG_RUNS.sub(r"\1\1", normal)
    if "kms" in text:
        text = _KILOMETRES.sub(r"\1 km", text)
    text = " ".join([_WORDS.get(word, word) for word in text.split(" ")])
    for needs, pattern, canonical in _PHRASES:
        if needs in text:
            text = pattern.sub(canonical, text)
    return text


def _readings(text: str) -> dict[str, int]:
    """The canonical readings of text, with and without markup, window by window; each with
    the position a match must start before to count in it (see _windows)."""
    readings: dict[str, int] = {}
    for head, tail in _windows(html.unescape(text)):
        parts = [(head, tail)]
        if "<" in head or (tail and "<" in tail):
            parts.append((_MARKUP.sub(" ", head), tail and _MARKUP.sub(" ", tail)))
        for first, rest in parts:
            reading = _canonical(_normalise(first))
            limit = len(reading) + 1
            if rest is not None:
                reading = f"{reading} {_canonical(_normalise(rest))}"
            readings[reading] = max(limit, readings.get(reading, 0))
    return readings


# A long text is read in overlapping windows, so the work grows with the text's length and a
# repeated text (a flood of one phrase) is read only once. Each window is a head and a tail;
# the tail starts the next window. A match counts in a window only if it starts in the head,
# so it is judged where everything after it (up to _OVERLAP characters) is there to read, as
# in "killing myself | to hit this deadline".
_WINDOW, _OVERLAP = 4000, 1000


def _windows(text: str) -> set[tuple[str, str | None]]:
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


# --- patterns --------------------------------------------------------------------------------
# Written against canonical text. Every repetition is bounded or over disjoint literals, so no
# pattern can backtrack catastrophically.
_ME = r"(?:myself|himself|herself|themselves|themself)"
_PILLS = (
    r"(?:(?:sleeping|diet|pain|heart) )?(?:pills?|tablets?|meds|medication|medicine|painkillers"
    r"|paracetamol|acetaminophen|tylenol|ibuprofen|aspirin|codeine|cocodamol|antidepressants?"
    r"|sertraline|citalopram|diazepam|valium|xanax|benzos|opioids?|oxy\w{0,10}|insulin|lithium"
    r"|tramadol|morphine|fentanyl|amitriptyline|fluoxetine|prozac|mirtazapine|propranolol"
    r"|zopiclone|quetiapine|naproxen|gabapentin|pregabalin)"
)
_NUMBER = (
    r"(?:[1-9][0-9]{1,3}|(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    r"|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\w{0,6})"
)
_TAKE = (
    r"(?:take|takes|taking|took|taken|swallow|swallows|swallowing|swallowed|down|downing"
    r"|downed)"
)
# The end of a clause, or a word of time that can close one ("... end it tonight").
_CLAUSE_END = (
    r"(?= ?(?:$|[.!?,;:]|now\b|tonight\b|today\b|tomorrow\b|soon\b|for good\b|forever\b"
    r"|permanently\b|once and for all\b|this (?:time|weekend|week)\b|after\b|on my\b|when\b"
    r"|before\b|i\b|and\b|so\b|because\b|anymore\b|right now\b|next\b|at midnight\b"
    r"|on (?:the )?(?:weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b|at the weekend\b))"
)
# "go on" / "carry on" / "keep going" only when about life, not "go on holiday".
# A few words, across clause punctuation ("Sorry for everything. Goodbye").
_GAP = r"(?:[ .!?,;:]{1,4}\w+){0,6}[ .!?,;:]{1,4}"
_GO_ON = (
    r"(?:go(?:ing)? on|carry(?:ing)? on|keep(?:ing)? going)"
    r"(?= ?(?:$|[.!?,;:]|like this\b|anymore\b|any longer\b|living\b"
    r"|with (?:my |this )?life\b))"
)
_LIVE = (
    r"(?:live\b(?! (?:in|with|near|at|there|here|abroad|on|like that|somewhere|together|alone"
    r"|off|up to)\b)|living\b|be alive|being alive|stay alive|staying alive|exist\b|existing\b"
    rf"|keep living|{_GO_ON})"
)
_GONE = (
    r"(?:(?:was|were|am) (?:dead|gone|never born|not (?:here|around|alive|born))"
    r"|died|disappeared|never existed|did not exist|(?:had|would|have) never been born"
    r"|had not been born|killed myself|never woke up|did not wake up)"
)
_FAMILY = (
    r"(?:husband|wife|partner|boyfriend|girlfriend|ex|ex husband|ex wife|ex partner|fiance"
    r"|dad|father|mum|mother|stepdad|stepfather|stepmum|stepmother|brother|sister|son|daughter"
    r"|parents|inlaws|family|uncle|aunt|grandad|carer|flatmate|housemate|roommate)"
)
# Who can abuse someone at home: a partner or family member, or "he"/"she" (the most common way
# people write about a partner).
_ABUSER = rf"(?:(?:my|our|their|the kids|her|his) (?:\w+ )?{_FAMILY}s?|he|she)"
_PERSON_NOUN = (
    r"(?:manager|boss|line manager|supervisor|colleagues?|coworkers?|workmates?|teammates?"
    r"|team lead|director|ceo|client|customer|neighbours?|wife|husband|partner|ex|girlfriend"
    r"|boyfriend|mum|mother|dad|father|brother|sister|son|daughter|kids?|children|child"
    r"|baby|babies|flatmate|roommate|housemate|landlord|family|friends?|stepdad|stepmum"
    r"|inlaws|fiance|nan|grandma|grandad)"
)
_PERSON = (
    rf"(?:someone|anyone|people|everyone|him|her|them|(?:my|our|the|his|her|that|this) "
    rf"(?:\w+ )?{_PERSON_NOUN}|(?:that|this|the) (?:guy|man|woman|bloke|lad|girl|person|people"
    r"|kid|prick|idiot)|the people (?:at work|in (?:this|the) office|here)"
    r"|(?:the )?lot of (?:them|you)|them all|all of them|every one of them|all of you)"
)
_HARM = (
    r"(?:hurt|hurting|harm|harming|kill|killing|murder|murdering|stab|stabbing|shoot|shooting"
    r"|strangle|strangling|choke|choking|punch|punching|beat|beating|batter|battering|attack"
    r"|attacking|poison|poisoning|hit|hitting|smash|smashing|glass|glassing|knife|knifing"
    r"|slash|slashing)"
)
_INTENT = (
    r"(?:want to|wanted to|wanting to|going to|about to|ready to|tempted to|planning to|plan to"
    r"|intend to|i will|i might|might|could really|could seriously|could actually|could easily"
    r"|could just|feel like|thinking about|thinking of|thought about|thoughts (?:about|of)"
    r"|fantasi[sz]ing about|fantasi[sz]e about|dream(?:ing)? about|imagining|urges? to"
    r"|not to|lose control and|snap and)"
)

# How much of a medicine: "all my", "every", "the rest of", "a whole box of", "30".
_AMOUNT = (
    rf"(?:all|every|every single|everything|the rest|the lot|loads|a load|lots|a lot|a handful"
    rf"|handfuls|a whole (?:box|packet|pack|bottle|strip)|whole (?:box|packet|pack|bottle|strip)"
    rf"|boxes|packets|bottles|strips|too many|dozens|a bunch|{_NUMBER})"
)
_ALCOHOL = (
    r"(?:vodka|wine|whisky|whiskey|gin|rum|tequila|alcohol|booze|beers?|cans|cider|spirits"
    r"|drink|drinks|bottle)"
)
# Means of suicide someone may buy, keep ready or hide.
_MEANS = (
    rf"(?:rope|noose|razor blades?|razors|blades?|gun|shotgun|rifle|pistol|hose ?pipe|charcoal"
    rf"|helium|ligature|{_PILLS})"
)
# An absence explained in the next few words ("I won't be here tomorrow, I'm on leave").
_EXPLAINED = (
    r"(?!(?:[ .!?,;:]{1,4}\w+){0,8}?[ .!?,;:]{1,4}(?:leave|holiday|holidays|off|conference"
    r"|training|course|trip|appointment|wfh|working from home|ooo|out of office|sick|dentist"
    r"|doctors?|away|travelling|traveling|vacation|pto|leaving|heading|logging|finishing"
    r"|going home|signing off|offsite|visiting|moving|flight|flying|strike|strikes|striking"
    r"|snow|traffic|trains|weather|flu|covid|childcare)\b)"
)
# Company explained in the next few words ("I'm on the roof now, come up for the bbq").
_SOCIAL = (
    r"(?!(?:[ .!?,;:]{1,4}\w+){0,6}?[ .!?,;:]{1,4}(?:come|join|lunch|bbq|barbecue|coffee"
    r"|smoke|break|view|drinks?|party|meeting|call|signal|reception|wifi|fixing|repair|aerial"
    r"|gutters?|satellite|photos?|pics?)\b)"
)
# A clarification in the next few words ("I need to end it on friday, the contract I mean").
_CLARIFIED = r"(?!(?:[ .!?,;:]{1,4}\w+){0,6}?[ .!?,;:]{1,4}(?:i mean|i meant|as in)\b)"
# Slang and euphemism for killing oneself ("top myself", "neck myself", "do myself in").
_SLANG_SUICIDE = (
    r"\b(?:top|tops|topping|topped|neck|necks|necking|necked|off|offing|offed|end|ending"
    rf"|ended|finish|finishing|finished|unalive|unaliving) {_ME}\b(?! up\b| off (?:the|a)\b)"
    rf"|\b(?:do|does|doing|did|done) {_ME} in\b"
)

_SELF_PATTERNS = (
    _SLANG_SUICIDE,
    # About to do "something stupid" (a common euphemism), not "I did something stupid in Excel".
    r"\b(?:going to|might|may|could|close to|about to|want to|tempted to|scared i will"
    r"|afraid i will|worried i will|i will|feel like doing|thinking about doing) (?:just |really )?"
    r"(?:do|doing) something (?:stupid|silly|drastic|dumb|i will regret|permanent)\b"
    r"(?! (?:like|with|in|to (?:the|my|our|this)|at work|on)\b)",
    # Researching means: how to, ways to, how much is lethal, how high to die.
    r"\b(?:research\w*|googl\w*|look\w* up|look\w* into|search\w*|read\w* (?:up )?(?:on|about)"
    r"|watch\w* videos (?:on|about)|ask\w* (?:\w+ )?about) (?:\w+ ){0,2}(?:ways?|methods?|how)"
    r" (?:to|of) (?:die|dying|kill (?:myself|yourself)|killing (?:myself|yourself)"
    r"|end (?:my life|it)|hang (?:myself|yourself)|overdose|od|commit suicide)\b",
    rf"\bhow (?:many|much) (?:\w+ ){{0,2}}{_MEANS} (?:\w+ ){{0,3}}(?:it takes|it would take"
    r"|would it take|does it take|to take to|(?:is|are|would be) (?:a )?(?:lethal|fatal|deadly)"
    r"|would kill|kills you|to die|to overdose|to od|is an overdose|to not wake up)\b",
    rf"\b{_MEANS}(?: \w+){{0,3}} (?:is|are|would be|will be) (?:a )?(?:lethal|fatal|deadly)\b",
    r"\b(?:how (?:high|far|tall)|what height)\b(?: \w+){0,8} (?:to die|to kill (?:you|yourself"
    r"|me|myself)|(?:would|will) kill (?:you|me)|fatal|lethal)\b",
    # Means bought, kept ready or hidden ("I bought a rope", "I've got the rope in my car").
    rf"\b(?:bought|buy|buying|ordered|order|got|have|found|picked up|collected|hid|hidden"
    rf"|hiding|stashed|keep|kept) (?:a |an |the |some |myself a |my (?:\w+ )?|enough |all the"
    rf" |{_NUMBER} )?(?:new )?{_MEANS}(?!(?: \w+){{0,6}} (?:if (?:anyone|you|someone)|for "
    r"(?:anyone|you|headaches?|migraines?|the first aid|the office|(?:the |a |my |our )?"
    r"(?:climbing|camping|boat|sailing|garden|team|kids|swing|tent|dog|cat|raft|gym|paintball"
    r"|range|hunting|lawnmower|work|project|shed|allotment|washing line))|in (?:the|our) first"
    r" aid)\b)"
    r"(?= ?(?:$|[.!?,;:]|in my\b|ready\b(?! for\b)|and\b"
    r"|today\b|now\b|off (?:amazon|ebay|the internet|the dark web)\b|online\b"
    r"|at home\b|upstairs\b|hidden\b|under\b|out\b|loaded\b|in the (?:car|boot|shed|garage"
    r"|drawer|cupboard|wardrobe|loft)\b))",
    rf"\b{_MEANS} (?:\w+ )?(?:ready|saved|saved up|stockpiled|stashed|hidden|hoarded|put aside"
    r"|set aside|lined up|counted out|loaded)(?= ?(?:$|[.!?,;:]|now\b|and\b|for tonight\b))",
    r"\b(?:took|taken|take|got|get|getting) (?:my |his |her |the |a |my \w+ )?(?:gun|rifle"
    r"|shotgun|pistol) (?:out|down|from)\b",
    r"\bloaded (?:the |my |a )?(?:gun|rifle|shotgun|pistol)\b",
    # A note written.
    r"\b(?:written|wrote|writing|write|finished|left|leaving|drafted|done) (?:my|a|the) "
    r"(?:final |last |goodbye )?(?:note|letter)(?= ?(?:$|[.!?,;:]|for (?:my|everyone|the kids"
    r"|when|after)\b|to (?:my|everyone|the kids)\b|and\b|now\b|already\b))",
    # Where they are now: on the roof, the bridge, the ledge, the tracks.
    r"(?:\bi am (?:\w+ )?|(?:^|[.!?,;:] )(?:just )?(?:sat|stood|standing|sitting|lying|lay) )"
    r"(?:on|at|up on|on top of|by|near|at the edge of|on the edge of|in)"
    r" (?:the |a )?(?:edge of (?:the |a )?)?(?:roof|rooftop|bridge|ledge|tracks|train tracks"
    r"|railway(?: line| tracks)?|level crossing|cliff(?: edge)?|cliffs|cliff top|balcony"
    r"|top of (?:the |a )?(?:building|car park|multi storey|tower)|edge)"
    r"(?= ?(?:$|[.!?,;:]|now\b|right now\b|again\b|tonight\b|and\b|looking\b|thinking\b"
    rf"|about to\b|ready\b)){_SOCIAL}",
    # Last message, and not being a problem or burden much longer.
    r"\b(?:this is|this will be|this would be|this is going to be|here is) (?:my|the) "
    r"(?:last|final|very last) (?:message|text|post|words?)\b(?= ?(?:$|[.!?,;:]|ever\b"
    r"|to (?:you|anyone|everyone)\b|x+\b))",
    r"\bbe (?:a |an )?(?:problem|burden|bother|nuisance|trouble|pain) (?:to|for) (?:anyone"
    r"|everyone|you|you all|any of you|my family|them)(?: (?:for )?(?:much|any|very much))? "
    r"(?:longer|anymore|after (?:today|tonight))\b",
    rf"\b(?:good)?bye\b{_GAP}(?:it )?(?:was|has been|is|been) nice knowing (?:you|everyone)\b",
    rf"\b(?:thanks|thank you|sorry) for everything\b{_GAP}(?:will not|am not going to"
    r"|not going to) be (?:around|here|alive) to see\b",
    r"\b(?:take care of|look after) my (?:kids|children|dog|cat|son|daughter|family|wife"
    r"|husband|pets?|mum|boys|girls|babies|baby) for me\b(?= ?(?:$|[.!?,;:]|when\b|after\b"
    r"|please\b|x+\b))",
    r"\b(?:good)?bye (?:forever|for good|for ever|cruel world)\b",
    # Going to do it, with despair around it.
    rf"\b(?:going to|will|about to|ready to) do it (?:tonight|today|tomorrow|now|this time)\b"
    rf"{_GAP}(?:can not (?:take|do|cope with|handle) (?:it|this)|had enough|nothing left"
    r"|no way out|sorry for everything|goodbye)\b",
    r"\b(?:going to|will|about to|want to|ready to|and|then|just) jump(?: off| from)?"
    r"(?= ?(?:$|[.!?,;:]|now\b|tonight\b|today\b|tomorrow\b|off it\b))",
    r"\b(?:i will|going to|i am going to|i would|i might) be dead (?:by|before|in|soon"
    r"|tonight|tomorrow)\b(?! (?:the )?(?:end of|time|meeting|deadline))",
    rf"\b(?:will not|not going to|am not going to|might not|may not) (?:be (?:here|around"
    r"|alive)|wake up|see) (?:by |to see )?(?:tomorrow|next week|the morning|christmas"
    rf"|my birthday|the weekend|next year)\b{_EXPLAINED}(?= ?(?:$|[.!?,;:]|x+\b))",
    r"\b(?:picked|chosen|chose|set|decided on|got|have) (?:a|the) (?:date|day|time|place|spot"
    r"|method|way) (?:to|for when i|when i will|for) (?:do it|die|end it|go|kill myself"
    r"|end my life|my suicide)\b",
    r"\bplan (?:for|of) (?:how|when|where) (?:i|to) (?:would |will |am going to )?(?:do it"
    r"|die|end it|kill myself)\b",
    # Already done: pills with drink, cutting, bleeding.
    rf"\b(?:{_TAKE}|necked|necking) (?:\w+ ){{0,8}}?{_AMOUNT} (?:of )?(?:(?:my|the|her|his"
    rf"|these|those|them) )?(?:\w+ )?{_PILLS}\b",
    rf"\b(?:had|drank|drunk|drinking|{_TAKE}|necked) (?:\w+ ){{0,6}}?{_ALCOHOL} (?:\w+ ){{0,3}}?"
    rf"(?:and|with|plus|then|on top of) (?:\w+ )?{_AMOUNT} (?:of )?(?:(?:my|the|her|his) )?"
    rf"(?:\w+ )?{_PILLS}\b",
    r"\bcut (?:myself |my \w+ )?too deep(?:ly)?\b(?= ?(?:$|[.!?,;:]|this time\b|again\b"
    r"|and\b|tonight\b))",
    r"\bi am bleeding (?:a lot|badly|heavily|so much|loads|everywhere|out|really bad)\b",
    r"\b(?:can not|could not) stop (?:the )?bleeding\b",
    r"\bcut (?:myself |my \w+ )?(?:really |so |very |too )(?:deep|deeply|badly)\b"
    r"(?= ?(?:$|[.!?,;:]|this time\b|again\b|and\b|tonight\b))",
    r"\b(?:burn|burned|burnt|burning|cut|cutting|scratch\w*|hit|hitting|punch\w*|bit|bite"
    r"|biting) (?:my (?:arms?|legs?|wrists?|skin|thighs?|hands?|stomach|face|head)|myself)\b"
    r"(?: \w+){0,4} (?:on purpose|deliberately|(?:until|till|til) (?:it|they|i) (?:bled|bleed"
    r"|bleeds|was bleeding))\b",
    r"\bi (?:have )?attempted(?= ?(?:$|[.!?,;:]|before\b|last\b|again\b|twice\b|once\b"
    r"|(?:a|two|three|few|many) (?:times|years|months|weeks)\b))",
    r"\b(?:engine|car) (?:\w+ )?running in (?:the |a |my )?(?:closed |locked )?garage\b",
    r"\b(?:step|jump|throw myself|walk|lie|lay)\w* (?:off the platform|onto the (?:tracks"
    r"|railway|line)|on the (?:tracks|railway line))\b",
    r"\bwant (?:out of|to leave) (?:this|my) life\b",
    r"\bwhat is (?:even )?the point (?:anymore|of it all|of anything)(?= ?(?:$|[.!?,;:]))",
    r"\bso (?:that )?i (?:could|can|would|might) (?:just )?die\b(?! (?:laughing|of)\b)",
    r"\b(?:hope|hoping|pray|praying|wish) (?:that )?(?:the|this|my) (?:plane|flight|train|bus"
    r"|car|ferry) (?:crashes|would crash|will crash|goes down|sinks)\b",
    r"\b(?:they|everyone|my family|my kids|my children|she|he|my wife|my husband|my partner)"
    r" (?:would|will) (?:all )?be better off(?= ?(?:$|[.!?,;:]|anyway\b|honestly\b))",
    r"\bi am (?:nothing but |just |only |such )?(?:a )?(?:drain|waste of (?:space|oxygen|air"
    r"|skin)|dead weight)(?= ?(?:$|[.!?,;:]|on (?:everyone|my|them|you)\b|to (?:everyone"
    r"|my|them)\b))",
    r"\bif i am not (?:in|here|around|online|at work|back) (?:\w+ )?(?:you will|then you will"
    rf"|you would) (?:know|understand) why\b{_EXPLAINED}",
    r"\bi (?:have |had )?(?:been |started |start |keep |am )(?:cutting|self harming|burning"
    r" myself)(?= ?(?:$|[.!?,;:]|again\b|lately\b|every\b|more\b|myself\b))",
    r"\b(?:cutting|harming myself|self harming) again\b",
    # Passive: hoping to be hit by a car, no way out but dying.
    r"\b(?:hope|hoping|wish|pray|praying) (?:that )?(?:i|a (?:car|bus|lorry|truck|train))"
    r" (?:(?:would|will|could|might) )?(?:get |gets |got )?(?:hit|run over|knocked down"
    r"|killed)(?: by (?:a |the )?(?:car|bus|lorry|truck|train))?(?= ?(?:$|[.!?,;:]|by a\b"
    r"|on\b|tomorrow\b|today\b|and\b))",
    r"\bway out (?:except|but|other than|apart from) (?:dying|death|suicide|to die"
    r"|killing myself|ending it)\b",
    r"\brather be dead than (?:go through|face|deal with|feel|live|keep|carry on|do) (?:this"
    r"|another|more|any more|like this)\b",
    r"\bbetter off with (?:the |my )?(?:life insurance|insurance money|payout)\b",
    r"\b(?:will|would|am going to|going to) (?:only |just |always |forever )?(?:be|become"
    r"|remain) (?:a |an )?(?:(?:huge|massive|big|total|constant|complete|real) )?burden\b"
    r"(?! (?:to|on) the (?:team|budget|project|system|servers?|network)\b)",
    # Suicide / suicidal, with common misspellings; not films, drills, cars, careers or training.
    r"(?<!career )(?<!political )(?<!social )(?<!commercial )(?<!professional )"
    r"\bsu[iy]?[cs]{1,2}i?d(?:e|es|al|ial|le|el|ally)?\b"
    r"(?! (?:squad|missions?|doors?|bomb\w*|attacks?|runs?|sprints?|drills?|squeeze|prevention"
    r"|awareness|training|statistics|rates?|first aid|risk assessment|policy|resources)\b)",
    # Killing oneself; "killing myself to hit this deadline" and "... working late" are effort.
    rf"\bkill?(?:s|ed)? ?{_ME}\b",
    rf"\bkill?ing ?{_ME}\b(?! working\b| trying\b| to (?:hit|meet|finish|get|make|keep up"
    r"|deliver|ship|catch up|keep|please)\b| for (?:this|the|that|a|my) (?:job|company|project"
    r"|team|deadline|release|client|work)\b| (?:over|on|with) (?:this|the|that|these)\b)",
    r"\bun ?aliv(?:e|es|ed|ing)\b",
    r"\bsewer ?slid(?:e|es|ing)\b",
    r"\b(?:want to|going to|plan to|planning to|tempted to|ready to|thinking about|thought about)"
    r" self ?delet(?:e|ing)\b(?! (?:messages?|feature|option|timer)\b)",
    # Ending or taking one's own life; ending it, things or everything with intent.
    r"\b(?:end|ends|ending|ended|take|takes|taking|took|taken) (?:my|his|her|their) "
    r"(?:own )?li(?:fe|ves)\b(?! (?:back|savings|story|insurance|lessons?|seriously"
    r"|more seriously|for granted|in (?:my|his|her|their) (?:own )?hands)\b)",
    r"\bend(?:s|ing|ed)? it all\b",
    r"\b(?:want to|going to|about to|ready to|decided to|deciding to|plan to|planning to"
    r"|tempted to|thinking about|thinking of|thought about|think about|considering|close to"
    r"|to|i am|i will|just) (?:just |finally |actually |really )?end(?:ing)? (?:it|things"
    rf"|everything)(?: all)?{_CLAUSE_END}(?! (?:with|up|off|early|there|here|at|on a)\b)"
    rf"{_CLARIFIED}",
    r"\b(?:night|day|time|date|way|place|how|where|when) i (?:am going to|will|plan to|want to)"
    r" (?:die|end it|end my life|kill myself)\b",
    # Self-harm, hurting oneself, cutting, burning.
    r"\bself ?(?:harm|injur|mutilat|hurt)\w*",
    rf"\b(?:hurt|hurts|hurting|harm|harms|harming|harmed|injure|injuring|injured) {_ME}\b"
    r"(?! (?:at|in|on) the gym\b| (?:playing|lifting|running|skiing|cycling|exercising"
    r"|working out|training)\b)",
    rf"\bcut(?:s|ting)? {_ME}\b(?! (?:(?:some|a bit of|a little|any|more) )?slack\b"
    r"| (?:off|out|short|loose|free|in|shaving)\b"
    r"| on (?:a |the )?(?:paper|glass|tin|can|nail|knife)\b)",
    r"\b(?:slit|slitting|slash|slashing|open|opening|cut|cuts|cutting) (?:my|his|her|their) "
    r"wrists?\b",
    r"\b(?:cut|cuts|cutting) (?:my|his|her|their) (?:arms?|legs?|thighs?|skin|stomach)\b",
    r"\bi (?:have )?(?:already|just) cut\b(?= ?(?:$|[.!?,;:]|myself\b|again\b|tonight\b"
    r"|today\b|deep|last night\b|badly\b|and\b))",
    r"\bi (?:have )?cut again\b",
    r"\burges? to (?:cut|self harm|die|end it)\b",
    rf"\b\w+ {_ME} on purpose\b",
    # Named methods: hanging, drowning, shooting, poisoning, gassing, overdose, jumping.
    r"\b(?:hang(?:s|ing|ed)?|hung|drown(?:s|ing|ed)?|shoot(?:s|ing)?|shot|poison(?:s|ing|ed)?"
    r"|gas(?:sing|sed)?|suffocat(?:e|es|ing|ed)|strangl(?:e|es|ing|ed)|stab(?:s|bing|bed)?"
    r"|starv(?:e|es|ing|ed)|electrocut(?:e|es|ing|ed)|overdos(?:e|es|ing|ed)) "
    rf"{_ME}\b(?! in the (?:foot|feet)\b| (?:in|with) (?:my )?(?:work|emails?|tasks"
    r"|coffee|tea|books|meetings|projects)\b)",
    r"(?<!has an )(?<!have an )(?<!had an )\boverdos(?:e|es|ed|ing)\b(?! (?:of|on) (?:coffee"
    r"|caffeine|sugar|meetings|emails|chocolate|work|information|zoom|slack|memes|tv|netflix"
    r"|jargon|acronyms)\b)",
    r"\b(?:take|takes|taking|took|do|doing|did) an od\b",
    r"\blethal (?:dose|doses|amount|overdose)\b",
    rf"\bhow many (?:\w+ ){{0,2}}{_PILLS} (?:\w+ ){{0,3}}(?:(?:would|does|will) it take"
    r"|it (?:would|will|does) take|to (?:kill|die|overdose|end)|(?:is|are) (?:a )?lethal"
    r"|would kill|will kill|is enough|are enough)",
    rf"\b{_TAKE} (?:a |an |the )?(?:handful|fistful|bunch|load|loads|lot|lots|heap|whole "
    r"(?:bottle|box|pack|packet|strip)|bottle|box|pack|packet|too many|dozens|tons)s? (?:of )?"
    rf"(?:my |the |these |those |all my |her |his )?(?:\w+ )?{_PILLS}\b",
    rf"\b{_TAKE} (?:about |around |like |over |nearly |maybe )?{_NUMBER} (?:of )?"
    rf"(?:my |the |her |his |these |those )?(?:\w+ )?{_PILLS}\b",
    rf"\b{_TAKE} (?:all|every one|the rest|the lot|everything) (?:of )?(?:(?:my|the|these"
    rf"|those|her|his|our) )?(?:(?:\w+ )?{_PILLS}\b|in the (?:medicine )?(?:cabinet|cupboard"
    r"|drawer|box)\b)",
    r"\b(?:took|taken|swallowed) the whole (?:box|packet|pack|bottle|strip|lot)\b",
    r"\b(?:already|just) (?:taken|took|swallowed) (?:them all|all of them|them)\b",
    rf"\b(?:stockpil\w*|hoard\w*|stash\w*|sav(?:e|ed|ing)(?: up)?|collect\w*) (?:of )?"
    rf"(?:\w+ ){{0,2}}{_PILLS}\b",
    rf"\benough {_PILLS} to (?:kill|end|die|overdose|do it|not wake up)\b",
    rf"\b(?:chemists?|pharmac\w+)(?: \w+){{0,5}} (?:enough|more|extra|lots of) {_PILLS}\b",
    rf"\b{_PILLS} (?:would|will|could) (?:do it|do the job|kill me|finish me)\b",
    r"\b(?:tie|ties|tied|tying|made|make|making|bought|have|got) (?:a |the )?noose\b",
    r"\b(?:jump|jumps|jumping|jumped|leap|leaping|leapt|throw|throwing|threw) (?:myself )?"
    r"(?:off|from|out of) (?:a |an |the |my |this |that |our )?(?:bridge|building|roof"
    r"|rooftop|cliff|balcony|ledge|tower|window|car park|multi storey|skyscraper|overpass"
    r"|high rise)\b(?! (?:call|line|meeting)\b)",
    r"\b(?:jump|jumps|jumping|jumped|throw myself|throwing myself|threw myself|step"
    r"|steps|stepping|stepped|walk|walks|walking|walked|lie|lying|lay|drive|driving|drove)"
    r" (?:in front of|under) (?:a |an |the |my |this |that |oncoming )?(?:train|bus|lorry"
    r"|truck|car|traffic|tube|subway|tram)s?\b",
    r"\b(?:throw myself|throwing myself|threw myself|walk|walks|walking|walked|drive"
    r"|driving|drove) into (?:the |oncoming )?(?:traffic|sea|ocean|river)\b",
    r"\b(?:drive|driving|drove) (?:my car |the car )?(?:into|off) (?:a |the )?(?:tree|wall"
    r"|bridge|cliff)\b",
    r"\bcrash(?:ing|ed)? (?:my|the) car (?:on purpose|deliberately)\b",
    r"\b(?:drink|drinking|drank|swallow\w*) (?:some )?bleach\b",
    r"\b(?:use|using|used|turn|turning) (?:it|a gun|the gun|a knife|the knife) on myself\b",
    r"\b(?:painless|quick|quickest|easiest|easy|fastest|best|surest|least painful|simplest) "
    r"ways? (?:to|of) (?:die\b|dying\b|end it\b|end my life\b|kill (?:myself|yourself)\b"
    r"|commit suicide\b|go(?= ?(?:$|[.!?,;:])))",
    r"\bways? (?:to|of) (?:kill|killing) (?:yourself|myself|oneself)\b",
    # Wanting to die or to be dead; not "die laughing", "die on this hill", "rather die than".
    r"(?<!heart and )\b(?:want|wants|wanted|wanting|wish|wished|ready|deserve|deserves|deserved"
    r"|hope|hoping|prefer|rather|pray|praying)(?: to)? (?:just |simply |really |honestly "
    r"|actually )?(?:die|be dead|not be alive|not exist|stop existing|cease to exist"
    r"|go to sleep forever|fall asleep forever"
    r"|not wake up|never wake up|sleep forever|not be (?:here|around) anymore)\b"
    r"(?! (?:of|from|laughing|inside|for|a little"
    r"|on (?:this|that|the) hill)\b| than (?!(?:live|living|be alive|go on|carry on"
    r"|keep going|feel|face|wake)\b))",
    r"\bwish(?:ed|ing)? (?:that )?i (?:(?:could|would|might) (?:just )?(?:die|disappear forever"
    r"|not wake up|never wake up|sleep forever|stop existing|not exist|fade away)"
    r"|(?:was|were) (?:dead|never born|not alive|not here|gone)|(?:was|were) not (?:born|alive"
    r"|here|around)|(?:had|would|have) never (?:been born|existed)|did not exist"
    r"|did not wake up)\b",
    r"\b(?:hope|hoping|pray|praying|wish) (?:that )?i (?:just )?(?:do not|will not|never|would not"
    r"|did not) wake up\b",
    r"\b(?:go to sleep|fall asleep|go to bed|sleep) and (?:not|never|do not|did not) wake up\b",
    r"\bhope i die\b",
    r"\b(?:happy|glad|fine|ok|okay|content|relieved) (?:to|if i could|if i) (?:just )?(?:die"
    r"|never wake up|not wake up|never woke up|not exist)\b(?! (?:on|of|for|laughing)\b)",
    r"\bi (?:should|might as well|may as well|could just|ought to) (?:just )?(?:die|be dead)\b"
    r"(?! (?:of|from|laughing|for)\b)",
    r"\b(?:want to|wish i could) (?:just )?disappear(?= ?(?:$|[.!?,;:]|forever\b"
    r"|for good\b|permanently\b|and never come back\b|off the face\b))",
    r"\bfeel(?:s|ing)? like (?:dying\b(?! (?:my|his|her|their|the|it|your)\b)|not existing\b"
    r"|not being alive\b)",
    r"\b(?:thoughts?|thinking|think|dreams?|fantasi[sz]\w*|obsess\w*) (?:about|of) (?:death"
    r"|dying\b(?! (?:my|his|her|their|the|it|your)\b)|being dead|not being alive"
    r"|not waking up|my (?:own )?(?:death|funeral))\b",
    r"\b(?:fine|ok|okay|good|better|relief|mind|care|happy|easier|glad) (?:\w+ ){0,3}if i "
    r"(?:just )?(?:never|did not|do not|would not) (?:woke|wake) up\b",
    r"\b(?:would not|will not|do not|did not|could not) (?:even |really )?(?:mind|care) "
    r"(?:\w+ ){0,2}if (?:i|a (?:car|bus|lorry|truck|train)) (?:just )?(?:died|got hit|was hit"
    r"|hit me|was killed|got killed|dropped dead|never woke up|did not wake up)\b",
    r"\bif (?:i|a (?:car|bus|lorry|truck|train)) (?:just )?(?:died|got hit|was hit|hit me"
    r"|was killed|got killed|dropped dead|never woke up|did not wake up|was gone|were gone"
    r"|was dead|were dead)\b(?: \w+){0,6} (?:(?:would not|will not|do not|not) (?:even |really )?"
    r"(?:care|mind|notice|miss)|relief|blessing|for the best|(?:no one|would) (?:would )?"
    r"(?:even )?(?:notice|miss|care))\b",
    r"\b(?:death|dying|being dead|not waking up|not existing)(?: \w+){0,2} (?:be|is|sounds?"
    r"|seems?|feels?) (?:(?:like|such) )?(?:a |an )?(?:relief|release|escape|blessing|peaceful"
    r"|better|easier|welcome|so bad|that bad)\b",
    r"\b(?:welcome|long for|crave|look forward to) death\b",
    r"\bwant (?:it all|everything|all of it|the pain|life) to (?:stop|end|be over)"
    r"(?= ?(?:$|[.!?,;:]|permanently\b|forever\b|for good\b))",
    # Not wanting to live, exist or wake up ("don't want to live in London" is fine).
    r"\b(?:do not|does not|did not|no longer|never) (?:really |even |actually |honestly )?"
    rf"(?:want to|wish to|feel like|care to|want) (?:{_LIVE}|be (?:here|around) anymore\b"
    r"|wake up\b(?! (?:early|at|before|so|too|in time|for|tomorrow for)\b))",
    # No reason to live, life not worth living, no way out, no future.
    r"\bnot worth living\b",
    r"\b(?:life|living|my life|existence) (?:is not|is no longer|does not seem|does not feel"
    r"|no longer feels|no longer seems|not) (?:\w+ ){0,2}worth (?:living|it|anything)\b",
    r"\b(?:life|my life|living|existence|everything) (?:is|feels|seems|has become)"
    r" (?:so |just |totally |completely |utterly )?(?:pointless|meaningless|hopeless)\b",
    r"\blife has no (?:meaning|point|purpose)\b",
    r"\b(?:no (?:real )?|not any |lost (?:my |the |all )?|see no |(?:do not|can not) "
    r"(?:see|have|find|think of) (?:a |the |any |one |a single )?(?:single )?)"
    r"(?:reason|point|purpose|will|desire) (?:for me )?(?:(?:to|in|of|for) )?(?:me )?"
    rf"(?:{_LIVE}|life\b|get up(?= ?(?:$|[.!?,;:]|tomorrow\b|anymore\b|in the morning\b)))",
    rf"\bwhat is (?:even )?the point (?:of|in) (?:{_LIVE}|life\b|me\b|anything\b|trying\b"
    r"|getting up\b|waking up\b)",
    r"\bwhy am i (?:even |still )?(?:alive|living|breathing)\b",
    r"\bwhy i (?:even )?(?:bother|should) (?:\w+ )?(?:staying alive|stay alive|living|keep going"
    r"|go on|carry on|getting up|breathing)\b",
    r"\bnothing (?:left )?(?:to live for|worth living for|for me here|to keep me (?:here|going"
    r"|alive))\b",
    r"\b(?:tired|sick|weary|exhausted) of (?:living|being alive|life|existing|this life)\b"
    r"(?! (?:admin|insurance|hacks|coach|cycle|style)\b)",
    r"\b(?:done|finished|through) with (?:life|living|being alive|existing|this life|it all"
    r"|this world)\b(?! (?:admin|insurance|hacks|coach|cycle|style)\b)",
    r"\b(?:give|gives|giving|gave|given) up on (?:life|living|it all|everything|myself)\b",
    r"\b(?:i (?:can )?see|i can not see|i do not see|there is|there is just) no (?:other )?"
    r"way out\b(?= ?(?:$|[.!?,;:]|of (?:this|it|here|my life)(?= ?(?:$|[.!?,;:]))|anymore\b"
    r"|for me\b))",
    r"\b(?:can not|do not|no longer) see (?:a|any) (?:way out|future)(?: for (?:myself|me))?"
    r"(?= ?(?:$|[.!?,;:]|of (?:this|it)(?= ?(?:$|[.!?,;:]))|anymore\b))",
    # Cannot go on, cannot keep oneself safe.
    r"\b(?:can not|could not|unable to|no longer able to|not able to) "
    rf"(?:{_GO_ON}|keep living|live like this|stay alive|keep myself (?:alive|safe))",
    r"\b(?:not|do not|no longer) (?:feel(?:ing)? )?safe (?:with|from|around|by) myself\b",
    r"\btrust myself to (?:stay|keep myself|be) (?:safe|alive)\b",
    # Others better off without me; being a burden.
    r"\bbetter off dead\b",
    r"\b(?:better|happier|easier|kinder|simpler|fine|relieved|lighter)(?: off)?(?: for "
    rf"(?:everyone|them|all of them|my family))? (?:\w+ ){{0,2}}(?:without me\b(?! (?:while"
    rf"|for (?:a|the|two|one|\d+)|on (?:leave|holiday)|this|next|during|today|tomorrow)\b)"
    rf"|if i (?:just )?{_GONE}\b)",
    r"\b(?:no one|would not) (?:would |will |is going to )?(?:even |really )?(?:miss me\b"
    rf"|(?:notice|care|mind) (?:if|when|that) i (?:just )?{_GONE})",
    r"\b(?:i am|i feel like|i feel|feel like i am|i have become|being|i am just|i am only) "
    r"(?:(?:just|such|only|nothing but|a|an|huge|massive|big|total|constant|complete|real) )"
    r"{0,4}burden\b(?! with (?:all )?(?:these|my|the|so many|all) )",
    r"\bburden (?:to|on|for) (?:everyone|my|them|people|all|those)\b",
    # A plan, means, preparations and goodbyes.
    r"\b(?:i have|i have got|i got|i made|i have made|i have worked out|i have come up with) "
    r"(?:a |the )?plan(?= ?(?:$|[.!?]|and (?:the )?means\b|and i know (?:when|how|where)\b"
    r"|to (?:die|end|kill|overdose)\b))",
    r"\b(?:pills|tablets|means|rope|gun|everything i need) and (?:a|the|my) plan\b",
    r"\bplann?(?:ed|ing) (?:out )?my (?:own )?(?:death|suicide|funeral|exit)\b",
    r"\b(?:does not|will not|would not|can not) find me\b(?= ?(?:$|[.!?,;:]))",
    r"\b(?:giv(?:e|es|ing|en)|gave) (?:away )?(?:all )?(?:of )?my (?:things|stuff|belongings"
    r"|possessions|pets?|dog|cat|plants|books|clothes|jewellery|jewelry)\b",
    r"\b(?:something|things) to remember me by\b",
    r"\b(?:made|make|making|written|wrote|writing|write|sorted|sorting|done|finished|drafted) "
    r"(?:out |up )?(?:my|a) will\b(?: \w+){0,8} (?:note|letters?|goodbye|affairs|gone)\b",
    r"\b(?:suicide|goodbye|farewell) (?:notes?|letters?|messages?|videos?)\b",
    r"\b(?:wrote|written|writing|write|left|leaving|leave|drafted) (?:a |my )?(?:notes?"
    r"|letters?) (?:to|for) (?:my|everyone|the kids|her|him|them)\b",
    r"\b(?:put|putting|got|getting|sorted|sorting|have) (?:all )?my (?:affairs|life) "
    r"(?:in order|sorted|straight)\b",
    r"\b(?:sorted|sorting|settled|settling|tidied up|tidying up) (?:out )?my affairs\b",
    r"\b(?:when|after|once) i am (?:gone|no longer here|not here anymore"
    r"|not around anymore)\b",
    r"\bthis is (?:my |a )?(?:final |last )?goodbye\b",
    r"\bsaid my goodbyes\b",
    r"\bsaying goodbye to (?:everyone|you all|all of you|my \w+)(?= ?(?:$|[.!?,;:]|tonight\b"
    r"|today\b|now\b))",
    r"\b(?:wanted|want|needed|need|going) to say goodbye\b(?! to (?:the|our|my) (?:old|team"
    r"|office|desk|building)\b)",
    r"\btell (?:my|the) (?:kids|children|wife|husband|mum|dad|family|parents|partner|son"
    r"|daughter|boyfriend|girlfriend|sister|brother|friends) (?:that )?(?:i love (?:them|him"
    r"|her|you)|i am sorry)\b",
    r"\bgoodbye (?:forever|cruel world|for good|for ever)\b",
    rf"\b(?:sorry|thank you|thanks) for (?:everything|being|all)\b{_GAP}goodbye\b",
    rf"\bgoodbye\b{_GAP}(?:i am )?(?:sorry for everything|(?:thank you|thanks) for (?:trying"
    r"|everything|being|all)|love you all)\b",
    rf"\blove you all\b{_GAP}goodbye\b",
    rf"\b(?:last|final) message\b{_GAP}goodbye\b",
    r"\bby the time (?:you|anyone|someone|they) (?:read|reads|see|sees|get|gets) this\b"
    r"(?: \w+){0,3} (?:gone|dead|not here|no longer|too late)\b",
    r"\b(?:will not|never|not going to) (?:hear from|see) me (?:again|ever again|anymore)\b",
    r"\blast time (?:you|anyone) (?:will )?(?:hear|see|hears) (?:from )?me\b",
    r"\b(?:will not|not going to|am not going to|might not|may not) be (?:(?:here|around) "
    rf"(?:much|for much|any|for very much|for) longer|alive)\b{_EXPLAINED}",
    r"\b(?:do not|did not) (?:think|expect|plan on|intend) (?:that )?(?:i will|to|i am going to"
    r"|on) (?:be|being|still be) alive\b",
)

_OTHERS_PATTERNS = (
    rf"\b{_INTENT} (?:\w+ ){{0,2}}{_HARM} {_PERSON}\b"
    r"(?! (?:at(?! (?:work|the office|home|school|the meeting)\b)|with (?:kindness|love)"
    r"|with (?:a|the|my|this|that) (?:\w+ )?(?:news|request|question|email|idea|facts|data)"
    r"|to it|up on|in (?:a|the) (?:game|match|race|round|final|quiz))\b)"
    r"(?<!\bhit him)(?<!\bhit her)(?<!\bhit them)",
    rf"\b{_INTENT} (?:\w+ ){{0,2}}hit {_PERSON}\b(?! (?:up|with|back|at)\b)",
    rf"\b{_INTENT} (?:\w+ ){{0,2}}(?:beat|beating) {_PERSON} up\b",
    rf"\b{_INTENT} (?:\w+ ){{0,2}}run {_PERSON} over\b",
    rf"\bwant (?:{_PERSON}|them all|all of them) dead\b",
    r"\b(?:bring|bringing|take|taking|carry|carrying) (?:a |my |the )?(?:gun|knife|knives"
    r"|weapon|machete|bomb|rifle)s? (?:in)?to (?:work|the office|the meeting|school|the building"
    r"|this place)\b",
    r"\bshoot up (?:the|this|my|our) (?:office|place|school|building|workplace|company"
    r"|meeting)\b",
    rf"\bmake {_PERSON} (?:bleed|suffer)\b",
    rf"\b{_INTENT} (?:\w+ ){{0,2}}(?:use|using) (?:it|them|(?:a|the|my) (?:gun|knife|weapon"
    rf"|blade|bat|machete)) on {_PERSON}\b",
    rf"\b{_INTENT} (?:\w+ ){{0,2}}(?:set fire to|burn down|torch|petrol bomb) (?:his|her|their"
    r"|my \w+s|the) (?:house|flat|car|home|place)\b",
    # Going somewhere to do it; meaning it; a weapon with a threat.
    rf"\b{_INTENT} (?:go|come|drive|head|wait|turn up|find|track down|follow) (?:\w+ ){{0,6}}?"
    rf"(?:and|then|to) {_HARM} {_PERSON}\b",
    rf"\b(?:could|will|would|going to|want to|i will) (?:\w+ ){{0,2}}{_HARM} {_PERSON}\b{_GAP}"
    r"(?:i mean it|i am serious|i am not joking|not joking|no joke|i swear)\b",
    rf"\bmake (?:him|her|them|them all|all of them|every one of them|{_PERSON})(?: all)? "
    rf"(?:pay|suffer|regret)\b(?:{_GAP}(?:gun|knife|knives|machete|rifle|shotgun|weapon)\b"
    r"| for what (?:he|she|they) (?:did|have done|has done|said))",
)

# What someone is hit with at home ("hit me with a belt"), not "hit me with 40 tickets".
_WEAPON = (
    r"(?:belt|stick|bat|hammer|knife|bottle|plate|shoe|slipper|cable|wire|chair|pan|glass|cane"
    r"|whip|remote|mug|cup|phone|hairbrush|lead|bar|pole|rolling pin|fists?|iron|spoon|ladle"
    r"|hanger)"
)

_ABUSE_PATTERNS = (
    # Violence against me by a partner or family member (or "he"/"she").
    rf"\b{_ABUSER} (?:\w+ )?(?:hits|hit|beats|beat|slaps|slapped|punches|punched|kicks|kicked"
    r"|chokes|choked|strangles|strangled|rapes|raped|abuses|abused|batters|battered|beat up"
    r"|beats up|attacked|attacks|assaulted|assaults|pinned|pins|hurts|hurt|is hurting"
    r"|keeps hurting|bites|bit) me\b(?! up\b(?<=hit me up))(?! up\b(?<=hits me up))"
    rf"(?! (?:at|in (?:her|his|their|my) sleep|with\b(?! (?:\w+ )?(?:\w+ )?{_WEAPON}\b)"
    r"|to it|on (?:the|a|teams|slack))\b)",
    # Things thrown at me, not work ("she threw another 40 tickets at me").
    rf"\b{_ABUSER} (?:\w+ )?(?:threw|throws|throwing|chucked|chucks|hurled|hurls|lobbed) "
    r"(?!(?:\w+ ){0,3}(?:work|tickets|tasks|emails|jobs|projects|questions|curve ?balls?"
    r"|ideas|requests|problems|balls?|shade|looks?|glances?|jokes?|party|frisbee|compliments"
    r"|sweets|treats)\b)(?:\w+ ){0,3}at (?:me|my (?:head|face))\b",
    r"\b(?:scared|afraid|frightened|terrified|worried|fear|think) (?:that )?"
    rf"{_ABUSER} (?:will|would|might|is going to|could) (?:kill|hurt|hit|beat|attack"
    r"|strangle|choke|rape) me\b",
    rf"\b{_ABUSER} (?:\w+ )?(?:makes|made|forces|forced) me (?:ask|get) (?:for )?(?:his |her )?"
    r"permission\b",
    r"\b(?:have|need|got) to ask (?:his|her|their|my \w+s?) permission (?:to|before|for)\b",
    rf"\b{_ABUSER} (?:\w+ )?(?:pushed|pushes|shoved|shoves|threw|throws|grabbed|grabs) me "
    r"(?:down|over|against|into|out|onto|off|by|and|so)\b",
    rf"\b(?:my|our|their) (?:\w+ )?{_FAMILY}s? (?:\w+ )?(?:threatens|threatened|grabs|grabbed"
    r"|bites|bit|burns|burned|forces|forced|locks|locked|stalks|is stalking|stalked|controls"
    r"|scares|frightens|terrifies|pushes|pushed|shoves|shoved) me\b",
    rf"\b{_ABUSER} (?:\w+ )?(?:forces|forced|locks|locked|is stalking|keeps stalking) me\b",
    rf"\b{_ABUSER} (?:\w+ )?throws? (?:things|stuff|plates) at me\b",
    rf"\b{_ABUSER} (?:\w+ )?(?:hits|hit|beats|beat|slaps|slapped|punches|punched|kicks|kicked"
    r"|hurts|hurt|chokes|choked) (?:my|our|the) (?:mum|dad|kids|children|son|daughter|sister"
    r"|brother|wife|husband|partner|baby)\b(?! (?:at|in (?:her|his|their) sleep)\b)",
    rf"\b{_ABUSER} (?:\w+ )?(?:broke|broken|fractured|cracked) my (?:arm|wrist|nose|ribs?|jaw"
    r"|finger|hand|leg)\b",
    rf"\b{_ABUSER} (?:\w+ )?(?:broke|breaks|broken) into my (?:flat|house|home|apartment|car)\b",
    r"\babusive (?:relationship|partner|husband|wife|boyfriend|girlfriend|marriage|home"
    r"|household|family|dad|father|mum|mother|parents|ex)\b",
    rf"\b(?:(?:my|our|their|her|his|the kids) (?:\w+ )?{_FAMILY}s?|marriage|relationship|he|she)"
    r" (?:is|was|has been|gets|became|can be|is being|is really|is so|is getting) "
    r"(?:\w+ )?(?:abusive|violent|controlling|dangerous)\b",
    r"\bdomestic (?:abuse|violence)\b",
    r"\bcoercive control\b",
    r"\bsexual(?:ly)? (?:assault|assaulted|abuse|abused)\b",
    r"\b(?:i am|i have been|i was|i think i am|i feel like i am) (?:being )?(?:abused|beaten"
    r"|raped|stalked|controlled|threatened) (?:at home|by (?:my|him|her|them))?",
    r"\b(?:i am|i have been|i think i am) being (?:abused|hurt|hit|beaten|controlled"
    r"|threatened|stalked)\b",
    r"\b(?:scared|afraid|frightened|terrified|dread(?:ing)?) (?:to go|of going|to return"
    r"|of returning|going|to get) (?:back )?home\b",
    r"\b(?:do not|not) (?:have to|want to|need to) go home (?:to (?:him|her|them|my \w+))",
    r"\b(?:not|do not feel|never feel|no longer feel|do not|never) (?:feel )?safe (?:at home"
    rf"|in my (?:own )?(?:home|house|flat|apartment)|with (?:him|her|my (?:\w+ )?{_FAMILY})"
    rf"|around (?:him|her|my (?:\w+ )?{_FAMILY}))\b",
    r"\bhome (?:is not|does not feel|no longer feels|is no longer|is not feeling) safe\b",
    rf"\b(?:scared|afraid|frightened|terrified) (?:of|for my life around) (?:my )?(?:\w+ )?"
    rf"{_FAMILY}\b",
    r"\b(?:scared|afraid|frightened|terrified) (?:of )?what (?:he|she|they|my \w+) (?:will"
    r"|would|might|is going to) do\b",
    rf"\b{_ABUSER} (?:will|would|might|is going to|could) (?:hurt|hit|beat) me\b",
    rf"\bgo home(?: \w+){{0,3}} {_ABUSER} (?:will|would|is going to) (?:kill|hurt) me\b",
    r"\b(?:threaten\w*|said|says|told me|swore|swears) (?:that )?(?:(?:he|she|they) )?"
    r"(?:would|will|is going to|was going to|to) (?:kill|hurt|hit|beat|take) (?:me|the kids"
    r"|my kids|the children|our kids|my children)\b",
    rf"\b{_ABUSER} (?:\w+ ){{0,2}}(?:checks|reads|goes through|tracks|monitors) (?:all )?"
    r"(?:of )?(?:my|our) (?:phone|messages|texts|emails|location|bank|spending)\b",
    rf"\b{_ABUSER} (?:\w+ ){{0,6}}?(?:and|then|also|even|sometimes|often|always|still) "
    r"(?:\w+ )?(?:hits|slaps|punches|kicks|chokes|beats|strangles|bites|hurts) me\b"
    r"(?! up\b| (?:at|with|to it|on (?:the|a|teams|slack))\b)",
    rf"\b{_ABUSER} (?:\w+ )?(?:smashed|smashes|broke|breaks|destroyed|hid|hides) my (?:phone"
    r"|keys|car keys|passport)\b(?= ?(?:$|[.!?,;:]|so\b|and\b|again\b))",
    rf"\b{_ABUSER} (?:will not|does not|never|refuses to) (?:give|let) me (?:have )?(?:any )?"
    r"(?:money|access to (?:my|our|the) (?:money|account|bank)|my (?:money|wages|card|phone"
    r"|passport))\b(?= ?(?:$|[.!?,;:]|and\b|so\b|at all\b|of my own\b))",
    rf"\b{_ABUSER} (?:\w+ ){{0,2}}(?:tracks|monitors|checks|follows|watches) (?:where i go"
    r"|my location|everything i do|who i (?:talk|speak|text|message) to)\b",
    r"\bhid(?:e|ing)? (?:the |my )?bruises\b",
    rf"\b{_ABUSER} (?:will not|does not|never|would not) let me (?:see|have|go out"
    r"|go to work|go anywhere|work|drive|use my phone"
    r"|leave the house|leave the flat|leave home|leave (?:him|her)|talk to|keep|out"
    r"|leave(?= ?(?:$|[.!?,;:]|the relationship\b)))\b",
    rf"\b{_ABUSER} (?:\w+ )?(?:takes|took|keeps|controls) (?:all )?(?:my|our) (?:money|wages"
    r"|salary|pay|cards?|(?:bank|debit|credit) cards?|benefits|pension|passport|car keys)\b",
    rf"\b{_ABUSER} (?:\w+ )?controls (?:everything|every part of|all of) (?:i do|my life"
    r"|what i do)\b",
    r"\btells? me what (?:to wear|i can wear|to eat|i can eat)\b",
    r"\bnot allowed to (?:see|visit|talk to|call|leave|go out|have) (?:my (?:friends|family"
    r"|mum|parents|sister|brother)|the house|anyone)\b",
    rf"\bwalking on eggshells (?:at home|around (?:him|her|my (?:\w+ )?{_FAMILY}))\b",
    rf"\b(?:get|getting|run|escape|escaping|flee|fleeing) (?:away )?from (?:him|her|my "
    rf"(?:\w+ )?{_FAMILY})\b(?= ?(?:$|[.!?,;:]|he is|she is|before))",
    rf"\b{_ABUSER} (?:\w+ )?threatens? me with\b",
    r"\bbruises? (?:from|where|because|after) (?:\w+ ){0,3}(?:he|she|they|my)\b",
    rf"\b{_ABUSER} (?:left|gave me|leaves) (?:\w+ )?bruises\b",
)


def _needs(items: Any) -> frozenset[str] | None:
    """Words a match of the parsed pattern `items` must contain (any one of them), or None.

    A cheap `in` test on these lets most patterns skip most text without running the regex:
    literal runs of the pattern's compulsory parts, or the alternatives of a compulsory branch.
    """
    found: list[frozenset[str]] = []
    run = ""
    for op, arg in items:
        if op is _sre.LITERAL:
            run += chr(arg)
            continue
        if run:
            found.append(frozenset({run}))
            run = ""
        if op is _sre.BRANCH:
            alternatives = [_needs(branch) for branch in arg[1]]
            if all(a is not None for a in alternatives):
                found.append(frozenset().union(*alternatives))  # type: ignore[arg-type]
        elif op is _sre.SUBPATTERN:
            inner = _needs(arg[-1])
            if inner is not None:
                found.append(inner)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and arg[0] >= 1:
            inner = _needs(arg[2])
            if inner is not None:
                found.append(inner)
    if run:
        found.append(frozenset({run}))
    return max(found, key=lambda words: (min(map(len, words)), -len(words)), default=None)


def _parser_reads_as_expected() -> bool:
    """Whether the private parser still gives the parsed form _needs was written against."""
    try:
        return _needs(_parser.parse(r"\bx?(?:ghij|(?:klmn)+) ?yz")) == {"ghij", "klmn"}
    except Exception:  # any change in a private API costs speed only
        return False


# Without the parser, or with a changed one, every pattern is read in full: slower, never less
# accurate (a guessed pre-filter could hide a match).
_PREFILTER = _parser is not None and _parser_reads_as_expected()


def _needs_of(pattern: str) -> frozenset[str] | None:
    """The pre-filter words of `pattern`, or None when there is no pre-filter."""
    return _needs(_parser.parse(pattern)) if _PREFILTER else None


@dataclass(frozen=True)
class _Rule:
    concern: Concern
    pattern: re.Pattern[str]
    needs: frozenset[str] | None

    def matches(self, reading: str, limit: int) -> bool:
        """Whether the pattern matches `reading` somewhere starting before `limit`."""
        if self.needs is not None and not any(word in reading for word in self.needs):
            return False
        match = self.pattern.search(reading)
        return match is not None and match.start() < limit


_RULES: tuple[_Rule, ...] = tuple(
    _Rule(concern, re.compile(pattern), _needs_of(pattern))
    for concern, patterns in (
        (Concern.SELF, _SELF_PATTERNS),
        (Concern.OTHERS, _OTHERS_PATTERNS),
        (Concern.ABUSE, _ABUSE_PATTERNS),
    )
    for pattern in patterns
)


def assess(text: str) -> frozenset[Concern]:
    """The concerns `text` raises, read in full: empty for everyday language."""
    if not text or not text.strip():
        return frozenset()
    readings = _readings(text)
    found: set[Concern] = set()
    for rule in _RULES:
        if rule.concern not in found and any(rule.matches(r, n) for r, n in readings.items()):
            found.add(rule.concern)
    return frozenset(found)


# --- resources -------------------------------------------------------------------------------
def _region(ctx: Context, region_code: str | None) -> Region:
    return ctx.content.resources.region(region_code or ctx.app.organisation.region)


def _lines(ctx: Context, resources: list[Resource]) -> list[Section]:
    out = []
    for r in resources:
        key = "safety.line_link" if r.url else "safety.line"
        out.append(ctx.section(key, name=r.name, contact=r.contact, url=r.url))
    return out


def _self_blocks(ctx: Context, region: Region) -> list[Block]:
    return [
        ctx.section("safety.crisis_title"),
        ctx.section("safety.crisis_emergency", emergency=region.emergency),
        ctx.section("safety.crisis_lines_intro"),
        *_lines(ctx, region.crisis_lines),
    ]


def lead_blocks(ctx: Context, region_code: str | None, concerns: frozenset[Concern]) -> list[Block]:
    """What leads the reply to a message that raised `concerns`: for each, what to do now and
    who to call in the person's region (crisis lines are listed once)."""
    region = _region(ctx, region_code)
    blocks: list[Block] = []
    if Concern.SELF in concerns:
        blocks += _self_blocks(ctx, region)
    if Concern.OTHERS in concerns:
        blocks += [
            ctx.section("safety.others_title"),
            ctx.section("safety.others_emergency", emergency=region.emergency),
        ]
        if Concern.SELF in concerns:
            blocks.append(ctx.section("safety.others_lines_above"))
        else:
            blocks += [ctx.section("safety.others_lines_intro"), *_lines(ctx, region.crisis_lines)]
    if Concern.ABUSE in concerns:
        blocks += [
            ctx.section("safety.abuse_title"),
            ctx.section("safety.abuse_emergency", emergency=region.emergency),
            ctx.section("safety.abuse_lines_intro"),
            *_lines(ctx, region.abuse_lines),
        ]
    return [*blocks, Divider()] if blocks else []


def supporter_blocks(
    ctx: Context, region_code: str | None, concerns: frozenset[Concern], who: str
) -> list[Block]:
    """For someone supporting the writer of words that raised `concerns` (the other side of a
    relay): what to do now and whom to point them to, in the writer's region (`region_code`).
    `who` names the writer as the reader knows them ("your colleague")."""
    if not concerns:
        return []
    region = _region(ctx, region_code)
    blocks: list[Block] = [
        Divider(),
        ctx.section("safety.supporter_title", who=who),
        ctx.section("safety.supporter_emergency", emergency=region.emergency),
    ]
    if concerns & {Concern.SELF, Concern.OTHERS}:
        blocks += [ctx.section("safety.supporter_lines_intro"), *_lines(ctx, region.crisis_lines)]
    if Concern.ABUSE in concerns:
        blocks += [ctx.section("safety.supporter_abuse_intro"), *_lines(ctx, region.abuse_lines)]
    return blocks


def crisis_blocks(ctx: Context, region_code: str | None) -> list[Block]:
    """Urgent help: the emergency number and crisis lines, then a short section with the
    domestic abuse lines, so both are one click away. Shown first, never hidden."""
    region = _region(ctx, region_code)
    return [
        *_self_blocks(ctx, region),
        ctx.section("safety.abuse_short_title"),
        *_lines(ctx, region.abuse_lines),
        Divider(),
    ]


def resource_blocks(ctx: Context, region_code: str | None) -> list[Block]:
    """Everything for the region: crisis lines, other support, abuse lines, what work offers."""
    resources = ctx.content.resources
    region = _region(ctx, region_code)
    blocks: list[Block] = [
        ctx.section("safety.resources_title", region=region.name),
        ctx.section("safety.crisis_emergency", emergency=region.emergency),
        *_lines(ctx, region.crisis_lines + region.support),
        ctx.section("safety.abuse_short_title"),
        *_lines(ctx, region.abuse_lines),
    ]
    if resources.workplace:
        blocks += [ctx.section("safety.workplace_title"), *_lines(ctx, resources.workplace)]
    return blocks
