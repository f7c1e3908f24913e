"""Crisis language detection and crisis resources by region."""

from __future__ import annotations

import html
import re
import unicodedata

from bot.messages import Block, Divider, Section
from handlers.content import Resource
from handlers.context import Context

# Typographic apostrophes and quotes mapped to straight ones (before NFKC, which would split the
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
# Invisible format characters and stray combining marks, which can split a word in two.
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# HTML tags and Slack tokens such as <!channel> or <@U123>, tried both kept and removed.
_MARKUP = re.compile(r"<[^<>]{0,200}>")
# Everything but letters, digits, spaces and clause punctuation becomes a space.
_SYMBOLS = re.compile(r"[^\w\s.!?,;:]|_")
_CLAUSE_PUNCTUATION = re.compile(r"[.!?,;:]+")
_SPACES = re.compile(r"\s+")

# Building blocks shared by several patterns. Every repetition is bounded or over disjoint
# literals, so no pattern can backtrack catastrophically.
_SELF = r"(?:my ?self|him ?self|her ?self|them ?selves|them ?self)"
_PILLS = r"(?:pills|tablets|meds|medication|medicine|painkillers|paracetamol|sleeping pills)"
_CLAUSE_END = (
    r"(?= ?(?:$|[.!?,;:]|now\b|tonight\b|today\b|soon\b|for good\b|forever\b|permanently\b"
    r"|once and for all\b))"
)
# "go on" / "carry on" / "keep going" only when about life, not "go on holiday".
_GO_ON = (
    r"(?:go(?:ing)? on|carry(?:ing)? on|keep(?:ing)? going)"
    r"(?= ?(?:$|[.!?,;:]|like this\b|any ?more\b|any longer\b|living\b"
    r"|with (?:my |this )?life\b))"
)

_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        # Suicide / suicidal, with common misspellings; not films, drills, cars or careers.
        r"(?<!career )(?<!political )(?<!social )(?<!commercial )(?<!professional )"
        r"\bsu[iy]?[cs]{1,2}i?d(?:e|es|al|ial|le|el|ally)?\b"
        r"(?! (?:squad|missions?|doors?|bomb\w*|attacks?|runs?|sprints?|drills?|squeeze)\b)",
        # Killing oneself (or a colleague killing themself), including "kms" and algospeak.
        # "killing myself to hit this deadline" and "... working late" are effort idioms.
        rf"\bkill?(?:s|ed)? ?{_SELF}\b",
        rf"\bkill?ing ?{_SELF}\b(?! working\b| to (?:hit|meet|finish|get|make|keep up|deliver"
        r"|ship|catch up)\b)",
        r"\bend(?:s|ing)? my ?self\b",
        r"(?<!\d)(?<!\d )(?<!few )\bkms\b",
        r"\bun ?aliv(?:e|es|ed|ing)\b",
        r"\bsewer ?slid(?:e|es|ing)\b",
        r"\b(?:(?:want|wanna|going|gonna|plan|planning|tempted|ready) to|thinking about"
        r"|thought about) self ?delet(?:e|ing)\b(?! (?:messages?|feature|option|timer)\b)",
        # Ending or taking one's own life; "end it all"; ending it/things with intent.
        r"\b(?:end|ends|ending|ended|take|takes|taking|took|taken) (?:my|his|her|their) "
        r"(?:own )?li(?:fe|ves)\b(?! (?:back|savings|story|insurance|lessons?|seriously"
        r"|more seriously|for granted|in (?:my|his|her|their) (?:own )?hands)\b)",
        r"\bend(?:ing)? it all\b",
        r"\b(?:want|wanna|going|gonna|plan|planning|ready|decided|deciding|tempted|thinking about"
        r"|thought about|think about|thinking of|thought of|considering|close to) (?:to )?"
        rf"(?:just )?end(?:ing)? (?:it|things|everything){_CLAUSE_END}",
        # Self-harm, hurting oneself, cutting.
        r"\bself ?(?:harm|injur|mutilat|hurt)\w*",
        rf"\b(?:hurt|hurts|hurting|harm|harms|harming|harmed|injure|injuring|injured) {_SELF}\b"
        r"(?! (?:at|in|on) the gym\b| (?:playing|lifting|running|skiing|cycling|exercising"
        r"|working out|training)\b)",
        rf"\bcut(?:s|ting)? {_SELF}\b(?! (?:(?:some|a bit of|a little|any|more) )?slack\b"
        r"| (?:off|out|short|loose|free|in|shaving)\b"
        r"| on (?:a |the )?(?:paper|glass|tin|can|nail|knife)\b)",
        r"\b(?:slit|slitting|slash|slashing|open|opening|cut|cuts|cutting) (?:my|his|her|their) "
        r"wrists?\b",
        r"\b(?:cut|cuts|cutting) (?:my|his|her|their) (?:arms|legs|thighs|skin)\b",
        # Named methods: hanging, drowning, shooting, poisoning, starving, overdose, jumping.
        r"\b(?:hang(?:s|ing|ed)?|hung|drown(?:s|ing|ed)?|shoot(?:s|ing)?|shot|poison(?:s|ing|ed)?"
        r"|gas(?:sing|sed)?|suffocat(?:e|es|ing|ed)|strangl(?:e|es|ing|ed)|stab(?:s|bing|bed)?"
        r"|starv(?:e|es|ing|ed)|electrocut(?:e|es|ing|ed)|overdos(?:e|es|ing|ed)) "
        rf"{_SELF}\b(?! in the (?:foot|feet)\b| (?:in|with) (?:my )?(?:work|emails?|tasks"
        r"|coffee|tea|books|meetings|projects)\b)",
        r"\boverdos(?:e|es|ed|ing)\b(?! (?:of|on) (?:coffee|caffeine|sugar|meetings|emails"
        r"|chocolate|work|information|zoom|slack|memes|tv|netflix|jargon|acronyms)\b)",
        r"\b(?:take|takes|taking|took|do|doing|did) an od\b",
        r"\b(?:take|taking|took|swallow|swallowing|swallowed|down|downing|downed) (?:a |an |the )?"
        r"(?:handful|fistful|bunch|load|whole (?:bottle|box|pack|packet|strip)|bottle|box|pack"
        rf"|packet)s? (?:of )?(?:my |the |these |those |all my )?{_PILLS}\b",
        r"\b(?:take|taking|took|swallow|swallowing|swallowed) (?:all|every one) (?:of )?"
        rf"(?:my |the |these |those )?{_PILLS} (?:at once|in one go|together)\b",
        rf"\b(?:stockpil\w*|hoard\w*|stash\w*|sav(?:e|ed|ing) up) (?:\w+ ){{0,2}}{_PILLS}\b",
        rf"\benough {_PILLS} to (?:kill|end|die|overdose|do it|not wake up)\b",
        r"\b(?:tie|ties|tied|tying|made|make|making|bought|have|got) (?:a |the )?noose\b",
        r"\b(?:jump|jumps|jumping|jumped|leap|leaping|leapt|throw|throwing|threw) (?:my ?self )?"
        r"(?:off|from|out of) (?:a |an |the |my |this |that |our )?(?:bridge|building|roof"
        r"|rooftop|cliff|balcony|ledge|tower|window|car park|multi storey|skyscraper|overpass"
        r"|high rise)\b",
        r"\b(?:jump|jumps|jumping|jumped|throw my ?self|throwing my ?self|threw my ?self|step"
        r"|steps|stepping|stepped|walk|walks|walking|walked|lie|lying|lay|drive|driving|drove)"
        r" (?:in front of|under) (?:a |an |the |my |this |that |oncoming )?(?:train|bus|lorry"
        r"|truck|car|traffic|tube|subway|tram)s?\b",
        r"\b(?:throw my ?self|throwing my ?self|threw my ?self|walk|walks|walking|walked|drive"
        r"|driving|drove) into (?:the |oncoming )?(?:traffic|sea|ocean|river)\b",
        r"\b(?:drive|driving|drove) (?:my car |the car )?(?:into|off) (?:a |the )?(?:tree|wall"
        r"|bridge|cliff)\b",
        # Wanting to die or to be dead; not "die laughing", "die on this hill", "rather die than".
        r"(?<!heart and )\b(?:want|wants|wanted|wanting|wanna|wish|wished|ready|deserve"
        r"|deserves|deserved|hope|hoping|prefer|rather)(?: to| 2)? (?:just |simply |really "
        r"|honestly |actually )?(?:die|be dead|not be alive|not exist|stop existing|cease to exist"
        r"|not wake up|never wake up|sleep forever)\b(?! (?:of|from|laughing|inside|for|a little"
        r"|on (?:this|that|the) hill)\b| than (?!(?:live|living|be alive|go on|carry on"
        r"|keep going|feel|face|wake)\b))",
        r"\bwish (?:that )?(?:i|id|i had) (?:(?:could|would|might) (?:just )?(?:die"
        r"|disappear forever|not wake up|never wake up|sleep forever|stop existing)|(?:was|were) "
        r"(?:dead|never born|not alive|not here|gone)|(?:wasnt|werent) (?:born|alive|here|around)"
        r"|never (?:been born|existed)|didnt exist|didnt wake up)\b",
        r"\bhop(?:e|ing) (?:that )?i (?:dont|do not|never|wont|will not) wake up\b",
        r"\bi (?:should|might as well|may as well|could just|ought to) (?:just )?(?:die|be dead)\b"
        r"(?! (?:of|from|laughing|for)\b)",
        r"\b(?:want|wanna|wish i could) (?:to )?(?:just )?disappear(?= ?(?:$|[.!?,;:]|forever\b"
        r"|for good\b|permanently\b|and never come back\b|off the face\b))",
        r"\bfeel(?:s|ing)? like (?:dying\b(?! (?:my|his|her|their|the|it|your)\b)|not existing\b"
        r"|not being alive\b)",
        r"\b(?:thoughts?|thinking|think|dreams?|fantasi[sz]\w*|obsess\w*) (?:about|of) (?:death"
        r"|dying\b(?! (?:my|his|her|their|the|it|your)\b)|being dead|not being alive"
        r"|not waking up|my (?:own )?(?:death|funeral))\b",
        # Not wanting to live, exist or wake up ("don't want to live in London" is fine).
        r"\b(?:(?:do|does|did)(?:nt| not)|dnt|dun|no longer|never) (?:really |even |actually "
        r"|honestly )?(?:want|wanna|wish|feel like)(?: to| 2)? (?:live\b(?! (?:in|with|near|at"
        r"|there|here|abroad|on|like that|somewhere|together|alone|off|up to)\b)|living\b"
        r"|be alive\b|stay alive\b|exist\b|be (?:here|around) any ?more\b"
        rf"|wake up\b(?! (?:early|at|before|so|too|in time|for)\b)|{_GO_ON})",
        # Life not worth living, no reason to live, done with / tired of life.
        r"\bnot worth living\b",
        r"\b(?:life|living|my life|existence) (?:isnt|is not|aint|is no longer|doesnt seem"
        r"|does not seem|doesnt feel|does not feel|no longer feels|no longer seems|not) "
        r"(?:\w+ ){0,2}worth (?:living|it|anything)\b",
        r"\b(?:no |not any |lost (?:my |the |all )?|see no |(?:dont|cant|cannot) see "
        r"(?:a |the |any )?)"
        r"(?:reason|point|purpose|will|desire) (?:to|in|of|for) (?:liv(?:e|ing)|be(?:ing)? alive"
        rf"|stay(?:ing)? alive|exist(?:ing)?|life|{_GO_ON})",
        r"\bwhat(?:s| is) the point (?:of|in) (?:living|life|being alive|staying alive|existing"
        rf"|{_GO_ON})",
        r"\bnothing (?:left )?(?:to live for|worth living for)\b",
        r"\b(?:tired|sick|weary|exhausted) of (?:living|being alive|life|existing|this life)\b"
        r"(?! (?:admin|insurance|hacks|coach|cycle|style)\b)",
        r"\b(?:done|finished|through) with (?:life|living|being alive|existing|this life|it all"
        r"|this world)\b(?! (?:admin|insurance|hacks|coach|cycle|style)\b)",
        r"\b(?:give|gives|giving|gave|given) up on (?:life|living|it all|everything)\b",
        # Can't go on, can't keep oneself safe.
        r"\b(?:cant|cannot|can not|couldnt|could not|unable to|no longer able to|not able to) "
        rf"(?:{_GO_ON}|keep living|live like this|stay alive|keep my ?self (?:alive|safe))",
        r"\b(?:not|dont|do not|no longer) (?:feel(?:ing)? )?safe (?:with|from|around|by) "
        r"my ?self\b",
        # Others better off without me; being a burden.
        r"\bbetter off (?:dead|without me)\b",
        r"\b(?:better|happier|easier) (?:off )?(?:without me|if i (?:(?:was|were) (?:dead|gone"
        r"|not (?:here|around|alive)|never born)|(?:wasnt|werent|was not|were not) (?:here|around"
        r"|alive|born)|died|never existed|didnt exist|disappeared|had never been born"
        r"|killed my ?self))\b",
        r"\b(?:im|i am|i feel like|i feel|feel like im|ive become|i have become|being) "
        r"(?:(?:just|such|only|nothing but|a|an|huge|massive|big|total|constant) ){0,4}burden\b",
        # A plan, means or goodbye note; not being around much longer.
        r"\b(?:i have|ive got|ive made|i have made|ive|i got|i made) (?:a |the )?plan"
        r"(?= ?(?:$|[.!?]|and (?:the )?means\b))",
        r"\b(?:wr(?:ote|itten|iting|ite)) (?:a |my )?(?:goodbye|suicide) (?:notes?|letters?)\b",
        r"\b(?:wont|will not|not going to|not gonna|might not|may not) be (?:(?:here|around) "
        r"(?:much|for much|any|for very much) longer|alive)\b",
    )
)


def _normalise(text: str) -> str:
    """Return text NFKC-normalised and casefolded, without apostrophes, symbols or extra spaces."""
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES)).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = _SYMBOLS.sub(" ", text.replace("'", ""))
    return _SPACES.sub(" ", text).strip()


def _variants(text: str) -> set[str]:
    """Return the normalised readings of text: with and without markup and clause punctuation."""
    unescaped = html.unescape(text)
    readings: set[str] = set()
    for source in (unescaped, _MARKUP.sub(" ", unescaped)):
        normal = _normalise(source)
        readings.add(normal)
        # Without clause punctuation, so "I want to... die" still reads as one phrase.
        readings.add(_SPACES.sub(" ", _CLAUSE_PUNCTUATION.sub(" ", normal)).strip())
    return readings


def looks_like_crisis(text: str) -> bool:
    """Return True when free text suggests the writer (or someone they mention) may be at risk.

    Detection only ever adds crisis resources, so it errs towards flagging genuine risk phrasing
    while ignoring workplace hyperbole such as "this deadline is killing me".
    """
    if not text:
        return False
    return any(pattern.search(reading) for reading in _variants(text) for pattern in _PATTERNS)


# --- crisis resources ------------------------------------------------------------------------
def _lines(ctx: Context, resources: list[Resource]) -> list[Section]:
    out = []
    for r in resources:
        key = "safety.line_link" if r.url else "safety.line"
        out.append(ctx.section(key, name=r.name, contact=r.contact, url=r.url))
    return out


def crisis_blocks(ctx: Context, region_code: str | None) -> list[Block]:
    """Emergency number and crisis lines for the region: shown first, never hidden."""
    region = ctx.content.resources.region(region_code or ctx.app.organisation.region)
    return [
        ctx.section("safety.crisis_title"),
        ctx.section("safety.crisis_emergency", emergency=region.emergency),
        ctx.section("safety.crisis_lines_intro"),
        *_lines(ctx, region.crisis_lines),
        Divider(),
    ]


def resource_blocks(ctx: Context, region_code: str | None) -> list[Block]:
    """Everything for the region: crisis lines, other support, and what work offers."""
    resources = ctx.content.resources
    region = resources.region(region_code or ctx.app.organisation.region)
    blocks: list[Block] = [
        ctx.section("safety.resources_title", region=region.name),
        ctx.section("safety.crisis_emergency", emergency=region.emergency),
        *_lines(ctx, region.crisis_lines + region.support),
    ]
    if resources.workplace:
        blocks += [ctx.section("safety.workplace_title"), *_lines(ctx, resources.workplace)]
    return blocks
