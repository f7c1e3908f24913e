"""The risk-core layer: English patterns that match the risk itself wherever it stands.

A pattern names the core of a danger (means, intent, a farewell, harm done, an assault, danger
to someone else) and fires whatever words follow it: a missed crisis is the worst failure, so
the default is to fire. Known idioms ("this deadline is killing me", "kill the process", "dead
tired", "shoot me a message") are taken out of the text first by a list of their own (`IDIOMS`)
so that no pattern sees them.

Patterns are written against canonical text (see normalise.py): lowercase, contractions and text
speak expanded ("i am", "do not", "kill myself"), punctuation as words of its own. Every rule
names cue words, one of which each of its matches contains, so most rules skip most text with
an `in` test; tests/test_crisis_patterns.py checks that every match holds a cue. Every
repetition is bounded or over disjoint literals, so no pattern backtracks catastrophically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from handlers.safety.concerns import Concern, Level


@dataclass(frozen=True)
class Rule:
    concern: Concern
    level: Level
    cues: tuple[str, ...]
    pattern: re.Pattern[str]
    firm: bool  # never stepped down by a mention (negated life: "i do not want to be alive")

    def search(self, reading: str) -> re.Match[str] | None:
        if not any(cue in reading for cue in self.cues):
            return None
        return self.pattern.search(reading)


def _alt(words: Iterable[str]) -> str:
    return "(?:" + "|".join(sorted(set(words), key=len, reverse=True)) + ")"


# --- vocabulary ------------------------------------------------------------------------------
_ME = r"(?:myself|me)"
PILL_WORDS = (
    "pill",
    "pills",
    "tablet",
    "tablets",
    "meds",
    "medication",
    "medicine",
    "painkillers",
    "paracetamol",
    "acetaminophen",
    "tylenol",
    "ibuprofen",
    "aspirin",
    "codeine",
    "cocodamol",
    "antidepressants",
    "sertraline",
    "citalopram",
    "diazepam",
    "valium",
    "xanax",
    "benzos",
    "opioids",
    "oxy",
    "oxycodone",
    "insulin",
    "lithium",
    "tramadol",
    "morphine",
    "fentanyl",
    "amitriptyline",
    "fluoxetine",
    "prozac",
    "mirtazapine",
    "propranolol",
    "zopiclone",
    "quetiapine",
    "naproxen",
    "gabapentin",
    "pregabalin",
    "sleeping tablets",
    "sleeping pills",
    "capsules",
    "heroin",
)
_PILLS = _alt(PILL_WORDS)
MEANS_WORDS = (
    "rope",
    "noose",
    "razor",
    "razors",
    "razor blades",
    "blade",
    "blades",
    "gun",
    "shotgun",
    "rifle",
    "pistol",
    "hose pipe",
    "hosepipe",
    "charcoal",
    "helium",
    "ligature",
    "bullet",
    "bullets",
    "cord",
    "belt",
    "exit bag",
)
_MEANS = _alt((*MEANS_WORDS, *PILL_WORDS))
_NUMBER = (
    r"(?:[1-9][0-9]{0,3}|(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
    r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty"
    r"|seventy|eighty|ninety|hundred)\w{0,6})"
)
_MANY = (  # ten or more: "took two paracetamol" is an ordinary dose
    r"(?:[1-9][0-9]{1,3}|(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    r"|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\w{0,6})"
)
_AMOUNT = (
    rf"(?:all|every|everything|the rest|the lot|loads|a load|lots|a lot|a handful|handfuls"
    rf"|a whole|whole|boxes|packets|bottles|strips|too many|dozens|a bunch|double|triple"
    rf"|a box|a packet|a bottle|a strip|two boxes|enough|{_MANY})"
)
_FAMILY_WORDS = (
    "husband",
    "wife",
    "partner",
    "boyfriend",
    "girlfriend",
    "ex",
    "fiance",
    "dad",
    "father",
    "mum",
    "mother",
    "stepdad",
    "stepfather",
    "stepmum",
    "stepmother",
    "brother",
    "sister",
    "son",
    "daughter",
    "parents",
    "inlaws",
    "family",
    "uncle",
    "aunt",
    "grandad",
    "carer",
    "flatmate",
    "housemate",
    "roommate",
    "spouse",
    "other half",
    "bf",
    "gf",
    "hubby",
)
_FAMILY = _alt(_FAMILY_WORDS)
_ABUSER = rf"(?:(?:my|our|their|the kids|her|his) (?:\w+ )?{_FAMILY}s?|he|she)"
_PERSON_NOUNS = (
    "manager",
    "boss",
    "line manager",
    "supervisor",
    "colleague",
    "colleagues",
    "coworker",
    "coworkers",
    "workmate",
    "teammate",
    "team lead",
    "director",
    "ceo",
    "client",
    "customer",
    "neighbour",
    "neighbours",
    *_FAMILY_WORDS,
    "kid",
    "kids",
    "children",
    "child",
    "baby",
    "landlord",
    "friend",
    "friends",
    "nan",
    "grandma",
)
_PERSON = (
    rf"(?:someone|anyone|people|everyone|him|her|them|(?:my|our|the|his|her|that|this) "
    rf"(?:\w+ )?{_alt(_PERSON_NOUNS)}|(?:that|this|the) (?:guy|man|woman|bloke|lad|girl|person"
    r"|kid|prick|idiot)|them all|all of them|all of you)"
)
HARM_WORDS = (
    "hurt",
    "hurting",
    "harm",
    "harming",
    "kill",
    "killing",
    "murder",
    "murdering",
    "stab",
    "stabbing",
    "shoot",
    "shooting",
    "strangle",
    "strangling",
    "choke",
    "choking",
    "punch",
    "punching",
    "beat",
    "beating",
    "batter",
    "attack",
    "attacking",
    "poison",
    "poisoning",
    "smash",
    "glass",
    "knife",
    "slash",
    "run over",
    "hit",
    "hitting",
)
_HARM = _alt(HARM_WORDS)
_INTENT = (
    r"(?:want to|wanted to|wanting to|going to|about to|ready to|tempted to|planning to|plan to"
    r"|intend to|i will|i might|might|could really|could seriously|could actually|could easily"
    r"|could just|feel like|thinking about|thinking of|thought about|thoughts (?:about|of)"
    r"|fantasi[sz]\w* about|dream\w* about|imagining|urges? to|not to|lose control and|snap and"
    r"|gonna|will end up)"
)
_CHILD = (
    r"(?:my|our|the|his|her|their|a|that|this) (?:\w+ )?(?:son|daughter|kid|kids|child|children"
    r"|baby|toddler|boy|girl|little one|stepson|stepdaughter|nephew|niece|grandson"
    r"|granddaughter|pupil|student)s?"
)
_OTHER_ADULT = (
    r"(?:my|our|a|the|his|her) (?:\w+ )?(?:colleague|coworker|workmate|teammate|friend|mate"
    r"|flatmate|housemate|roommate|brother|sister|mum|mother|dad|father|husband|wife|partner"
    r"|boyfriend|girlfriend|son|daughter|cousin|neighbour|manager|boss|report|bestie|bff|pal)"
    r"|(?:someone|somebody) (?:on|in|at) (?:my|our|the) (?:team|office|floor|work)"
)
_THIRD = r"(?:he|she|they|him|her|them)"

# --- idioms, taken out before any pattern reads the text --------------------------------------
# Each is a way of speaking that uses a word of danger for something ordinary. A veto is a
# known idiom, never a continuation a pattern needs: anything not listed here still fires.
_IDIOM_SOURCES = (
    r"\b(?:is|are|was|were|its|it is|this is|that is|they are|it was) (?:\w+ )?killing "
    r"(?:me|my (?:back|feet|knees|vibe|mood|buzz|brain|eyes|soul))\b",
    r"\bkilling (?:me|it) (?:softly|slowly)?(?= ?(?:with|lol|haha|\.|!|$))(?<=killing it)",
    r"\bkill(?:ed|ing|s)? (?:the|a|that|this|my|our|all|every|those) (?:\w+ )?(?:process"
    r"|processes|job|jobs|task|tasks|server|servers|container|pod|pods|tab|tabs|app|apps|bug"
    r"|bugs|lights|engine|session|query|queries|thread|meeting|vibe|mood|buzz|feature|project"
    r"|deal|time|battery|weeds|plants|plant|slugs|pests|spiders|wasps|flies|ants|mice|germs"
    r"|bacteria|conversation|idea|build|pipeline|branch|deploy|workflow|connection|script|boss"
    r"|level|round|game|match|competition|presentation|interview|exam|pitch|demo|audition"
    r"|gig|set|dragon|zombies?|monsters?|final boss|enemies|enemy)\b",
    r"\bkill (?:-9|9|pid|it with fire|two birds|time)\b",
    r"\bkilled it\b",
    r"\b(?:killer|killers) (?:app|feature|deal|heels|view|workout|set|line|look|queen|sudoku)\b",
    r"\bto die for\b",
    r"\b(?:die|died|dying|dead) (?:of|from|with) (?:embarrassment|shame|boredom|laughter"
    r"|laughing|cringe|envy|jealousy|curiosity|excitement|happiness|cuteness|heat|thirst)\b",
    r"\bdying to (?:see|know|try|hear|meet|go|get|tell|read|watch|visit|find out)\b",
    r"\b(?:dead|dying) (?:tired|beat|on my feet|easy|simple|serious|right|centre|center|end"
    r"|heat|quiet|ringer|cert|keen|good|slow|wood|weight|line|lines|batteries|battery|link"
    r"|links|code|letter|pixel|pixels|zone|air|calm|last|loss|stop|set)\b",
    r"\b(?:phone|battery|laptop|plant|plants|car|printer|pc|computer|mouse|keyboard|headphones"
    r"|torch|kindle|ipad|tablet|wifi|router|server|fridge|engine) (?:\w+ )?(?:is|was|has|are"
    r") (?:\w+ )?(?:dying|dead|died|about to die)\b",
    r"\bshoot (?:me|you|him|her|them|us) (?:a|an) (?:\w+ )?(?:message|email|mail|text|dm|line"
    r"|note|invite|link|ping|reply)\b",
    r"\bshoot (?:over|across) (?:a|an|the)\b",
    r"\b(?:could|would) (?:murder|kill) (?:a|for a|for an|for some|some) (?:\w+ )?(?:curry"
    r"|coffee|pint|beer|burger|pizza|kebab|drink|cup of tea|cuppa|tea|sandwich|nap|holiday"
    r"|sleep|chocolate|wine|takeaway|bacon)\b",
    r"\b(?:my|the|his|her|our) (?:\w+ )?(?:mum|mom|dad|boss|manager|wife|husband|partner"
    r"|girlfriend|boyfriend|team|teacher|she|he) (?:is going to|will|would|is gonna) "
    r"(?:kill|murder) me (?:if|when|for)\b(?!(?: \w+){0,4} (?:leave|tell|go to|report|call)\b)",
    r"\bbreak a leg\b",
    r"\bdead ?line\b",
    r"\bover ?dosed? on (?:coffee|caffeine|sugar|chocolate|netflix|tv|carbs|cake|sweets|sun"
    r"|memes|content|meetings|podcasts|cheese)\b",
    r"\bbleeding edge\b",
    r"\bi (?:nearly|almost) died (?:laughing|of)\b",
    r"\bkill myself laughing\b",
    r"\b(?:killing|killed|kill) myself (?:to|trying to|over|for|at) (?:get|finish|meet|hit|make"
    r"|deliver|keep|sort|write|fix|cover|do|prepare|learn|study|train|work|the gym|this|it|nothing)"
    r"\b",
    r"\b(?:dead|killing) (?:funny|hilarious)\b",
    r"\bi am dead\b(?= ?(?:lol|lmao|haha|\U0001f602|\U0001f480))",
    r"\b(?:lol|lmao|haha) i am dead\b",
    r"\bhang (?:on|out|in there|tight|up|about|around|fire|a left|a right|the (?:picture|washing"
    r"|painting|pictures|art|shelf|curtains|coats?|decorations|lights|bunting)|up the phone)\b",
    r"\b(?:cut|cutting) (?:costs?|corners|ties|the cord|to the chase|it fine|it close|back"
    r"|down|out|in|loose|off|my losses|losses|a deal|the budget|the grass|the hedge|my hair"
    r"|the cake|the onions?|some slack|a long story short|the scope|a release|a branch|scope)\b",
    r"\bcut (?:myself|my finger|my thumb|my hand) (?:\w+ )?(?:shaving|chopping|cooking|slicing"
    r"|opening|on (?:a|the) (?:\w+ )?(?:paper|knife|glass|tin|can|box|envelope|mandoline"
    r"|grater|fence|saw))\b",
    r"\bburn(?:ed|t)? (?:myself|my (?:hand|arm|finger|fingers|tongue|mouth|wrist)) (?:\w+ )?(?:on"
    r" (?:the|a) (?:oven|kettle|iron|pan|stove|hob|tray|pizza|coffee|tea|soup|grill|bbq"
    r"|barbecue)|cooking|baking|ironing|making)\b",
    r"\bend (?:it|this|the call|the meeting|the sprint|the day|the week|the quarter|the year"
    r"|the contract|the trial|the subscription|the lease|the project) (?:on|at|with|early"
    r"|by|before)\b(?! (?:my life|myself)\b)",
    r"\b(?:suicide|suicidal) (?:squad|mission|run|doors?|pace|drills?|sprints?|shifts?"
    r"|lane|king|blonde)\b",
    r"\bjump (?:on|onto|in|into) (?:a|the) (?:call|meeting|zoom|teams|huddle|thread|chat"
    r"|queue|bandwagon|train|bus|tube|ticket|task|project)\b",
    r"\bjump(?:ing)? (?:ship|the gun|the queue|through hoops|at the chance|for joy|to"
    r" conclusions)\b",
    r"\b(?:kill|murder) (?:him|her|them) with kindness\b",
    r"\b(?:food|tummy|stomach) (?:poisoning|bug)\b",
    r"\b(?:gun|guns) (?:show|range|club|licen[cs]e|safe)\b",
    r"\bshot (?:of (?:espresso|tequila|vodka|whisky|coffee)|glass|glasses|list|caller)\b",
    r"\b(?:flu|covid|booster|tetanus) (?:shot|jab)\b",
)
# Each idiom's cue words, one of which each of its matches holds (as the rules' cues are):
# most text skips most idioms with an `in` test. In the order of _IDIOM_SOURCES.
_IDIOM_CUES: tuple[tuple[str, ...], ...] = (
    ("killing",),
    ("killing",),
    ("kill",),
    ("kill",),
    ("killed",),
    ("killer",),
    ("to die for",),
    ("die", "dead", "dying"),
    ("dying to",),
    ("dead", "dying"),
    ("dying", "dead", "died"),
    ("shoot",),
    ("shoot",),
    ("murder", "kill"),
    ("kill", "murder"),
    ("break a leg",),
    ("dead",),
    ("over",),
    ("bleeding edge",),
    ("died",),
    ("kill myself laughing",),
    ("myself",),
    ("funny", "hilarious"),
    ("i am dead",),
    ("i am dead",),
    ("hang",),
    ("cut",),
    ("cut",),
    ("burn",),
    ("end",),
    ("suicid",),
    ("jump",),
    ("jump",),
    ("kindness",),
    ("poisoning", "bug"),
    ("gun",),
    ("shot",),
    ("shot", "jab"),
)
IDIOMS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = tuple(
    zip(_IDIOM_CUES, (re.compile(p) for p in _IDIOM_SOURCES), strict=True)
)


def _placeholder(match: re.Match[str]) -> str:
    # As long as the idiom, so every position after it stays where it was: a long text's window
    # counts a match only if it starts before a limit measured on the text as read.
    return (
        " idiom ".ljust(len(match.group(0)))
        if len(match.group(0)) >= 7
        else " " * len(match.group(0))
    )


def without_idioms(reading: str) -> str:
    """`reading` with every known idiom replaced by the word "idiom", which no pattern reads
    (and the model reads as the ordinary word it stands for), at the same length."""
    for cues, idiom in IDIOMS:
        if any(cue in reading for cue in cues) and idiom.search(reading):
            reading = idiom.sub(_placeholder, reading)
    return reading


# --- the rules -------------------------------------------------------------------------------
_WISH = r"(?:wish|wishing|wished|want|wanted|wanting|would rather|rather|prefer|hope|hoping)"
_DEAD = (
    r"(?:(?:be |was |were |am |to be )?(?:dead|gone|not here|not alive|not around|not exist"
    r"|never born)|to die|die|disappear forever|to disappear forever|to not exist|not to exist"
    r"|to not wake up|not to wake up|to never wake up|never wake up|to fall asleep and never"
    r"|to go to sleep and never|it all to (?:stop|end|be over)|it to be over|everything to stop"
    r"|to stop existing|to not be here|not to be here|to be with (?:my )?\w+ (?:in heaven|again))"
)
_NO_LIFE = (
    r"(?:alive|live|living|exist|existing|be here|be around|wake up|go on|carry on|keep going"
    r"|stay alive|keep living|continue|be in this world|breathe|breathing)"
)
_RAW: tuple[tuple[Concern, Level, tuple[str, ...], str, bool], ...] = (
    # --- the writer's own life ---------------------------------------------------------------
    (
        Concern.SELF,
        Level.HIGH,
        ("suicid",),
        r"\b(?:i am|i feel|i felt|i have been|i have felt|feeling|i get|i got|i keep getting|been"
        r"|getting|becoming|i was|i am so|i am really|i am a bit|i am kind of|i am starting to"
        r"|i am going) (?:\w+ ){0,2}suicidal\b|\bsuicidal (?:again|thoughts|feelings|ideation"
        r"|urges|tonight|today|right now)\b|\b(?:commit|committing|attempt|attempting|consider"
        r"|considering|contemplating|thinking about|thinking of) suicide\b|\bmy suicide\b",
        False,
    ),
    (Concern.SELF, Level.QUIET, ("suicid",), r"\bsuicid\w*\b", False),
    (
        Concern.SELF,
        Level.HIGH,
        ("self", "life", "it all", "my own", "unaliv"),
        r"\b(?:kill|killing|killed|kil|end|ending|ended|unalive|unaliving|off|offing|top|topping"
        r"|neck|necking|finish|finishing|do|doing) my ?self(?: in\b| off\b)?(?! (?:laughing"
        r"|to (?:get"
        r"|finish|meet|hit|make|deliver|keep)|trying to|over (?:this|it|a)|for (?:this|nothing"
        r"|a))\b)"
        r"|\b(?:end|ending|ended|take|taking|took) (?:my (?:own )?life|it all|my own)\b"
        r"|\bunaliv\w*\b",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        (
            "end it",
            "end things",
            "ending it",
            "ending things",
            "over with",
            "check out",
            "checking out",
            "call it quits",
            "finish",
            "end",
            "check",
            "over with",
        ),
        r"\b(?:end|ending|finish|finishing) (?:it|things|everything)(?: all)?\b(?! (?:with|between)"
        r" (?:him|her|them|my|us)\b| there\b| here\b| for (?:today|now|the day|the week)\b)"
        r"|\b(?:get|getting) it over with\b(?= ?(?:$|[.!?,;:]|tonight|soon"
        r"|for good))|\bcheck(?:ing)? out (?:early|for good|permanently|of (?:life|this world))\b"
        r"|\bcall it quits on (?:life|everything|living)\b",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        ("wish", "want", "rather", "prefer", "hope"),
        rf"\b(?:i|i am|i have|i kind of|i just|i really|i sometimes|i often|i honestly|part of me)"
        rf" (?:\w+ ){{0,3}}{_WISH} (?:\w+ ){{0,3}}(?:i |that i |i could |i would |to |i had )?"
        rf"{_DEAD}\b(?! than\b)",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        ("not", "never", "no longer", "no reason", "no point", "no will"),
        rf"\b(?:do not|does not|did not|not|never|no longer) (?:\w+ ){{0,2}}(?:want|wish|care|feel"
        rf" like|see (?:a|the|any) (?:reason|point)|have (?:a|any) reason|have the (?:energy|will"
        rf"|strength)|know how|think i can|think i will|sure i (?:want"
        rf"|can)) (?:\w+ ){{0,2}}(?:to )?"
        rf"(?:be |keep |stay |not )?{_NO_LIFE}\b(?! (?:in|with|near|at|there|here|abroad|on|like"
        r" that|together|alone|off|early|for|before|in time|on time|this early|so early)\b)"
        rf"|\bno (?:reason|point|will|desire|wish) (?:left )?(?:in |to |for )?(?:\w+ ){{0,1}}"
        rf"(?:living|life|{_NO_LIFE})\b"
        r"|\b(?:can not|could not|do not) (?:see|find|think of) (?:a|any|one|the) (?:reason|point)"
        r" (?:not to|to not|to stay|to keep|to live|in living|to be alive|to go on|to carry on)",
        True,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        ("better off", "burden", "waste of", "without me"),
        r"\b(?:better off|be better|happier|easier) (?:\w+ ){0,2}without me\b"
        r"|\b(?:i am|i feel like|feel like i am|i am just|i am such|i am only) (?:a |an |such a "
        r"|the )?(?:\w+ )?(?:burden|waste of (?:space|oxygen|air|skin|life))\b(?! (?:with|asking"
        r"|by asking) (?:all )?(?:these|my|the|so many) (?:questions|emails|requests|messages)\b)"
        r"|\bburden (?:to|on|for) (?:everyone|everybody|you|my|them|all)\b",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        (
            "not be here",
            "not be around",
            "will not be",
            "be gone",
            "not going to be",
            "last day",
            "last time",
        ),
        r"\b(?:i will not|i am not going to|i will no longer|i might not|i may not|i will be gone"
        r"|i am going to be gone|i will not be) (?:be )?(?:here|around|alive|gone)? ?(?:much|for"
        r" much|any|for)? ?(?:longer|tomorrow|next week|by (?:monday|the weekend|tomorrow|morning"
        r"|then)|after (?:tonight|today|this)|to see|when you get back|for long)\b"
        r"(?!(?:[ .!?,;:]{1,4}\w+){0,8}?[ .!?,;:]{1,4}(?:leave|holiday|holidays|off|course|trip"
        r"|appointment|wfh|ooo|sick|dentist|doctor|doctors|away|vacation|pto|leaving|offsite|moving"
        r"|flight|notice|contract|job|role|new|training|conference|strike|parental|maternity"
        r"|paternity|annual|visiting|travelling|traveling|wedding|funeral|jury|exam|exams|surgery"
        r"|operation|festival|conference|site|client|kids|childcare)\b)",
        False,
    ),
    (
        Concern.SELF,
        Level.QUIET,
        (
            "point",
            "anymore",
            "any more",
            "any longer",
            "give up",
            "giving up",
            "cope",
            "done with",
            "nothing left",
            "empty",
            "hopeless",
            "no way out",
            "no future",
            "trapped",
            "tired of",
            "sick of",
            "exhausted by",
            "go on",
            "keep going",
            "carry on",
            "live for",
            "given up",
            "give up",
            "nothing left",
        ),
        r"\b(?:what is|see|no|not any|there is no|do not see the|can not see the) (?:the )?point "
        r"(?:in |of )?(?:anything|anymore|it all|any of (?:it|this)|trying|living|life|going on"
        r"|carrying on|me|being here|getting up)\b"
        r"|\b(?:can not|could not|can no longer) (?:do this|go on|carry on|keep going|cope|take"
        r" (?:it|this|any more|anymore)|handle (?:it|this|life)|face (?:it|anything|tomorrow"
        r"|another"
        r" day)|keep (?:doing|living) (?:this|like this))(?: \w+)? (?:anymore|any longer|like this"
        r"|much longer|for much longer)\b"
        r"|\b(?:giving up|give up|given up|done) (?:on )?(?:life|living|everything|myself|trying"
        r"|it all)\b|\bnothing (?:left|to live for)\b|\b(?:no way out|no future for me|trapped with"
        r" no way)\b"
        r"|\b(?:tired|sick|exhausted|weary) of (?:everything|fighting|it all|trying)\b",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        ("tired of", "sick of", "exhausted of", "weary of", "done with"),
        r"\b(?:so |really |just )?(?:tired|sick|exhausted|weary|done) (?:of|with) (?:living|life"
        r"|being alive|existing|waking up|being me|this life)\b(?! (?:in|with|near|at|on) )",
        False,
    ),
    # --- plans and means ----------------------------------------------------------------------
    (
        Concern.SELF,
        Level.HIGH,
        MEANS_WORDS + PILL_WORDS,
        rf"\b(?:hid|hide|hidden|hiding|stashed|stashing|saving|saved|stockpil\w*|hoard\w*|counted"
        rf"|counting|gathered|gathering|collecting|lined up|put aside|set aside) (?:up |out )?"
        rf"(?:\w+ ){{0,3}}{_MEANS}s?\b"
        rf"|\b(?:bought|buy|buying|ordered|order|ordering|got|have|found|picked up|tied|tying"
        rf"|testing"
        rf"|tested|checked|looking at|holding|sorted"
        rf"|getting) (?:\w+ ){{0,3}}{_alt(MEANS_WORDS[:-4])}s?\b"
        r"(?<!razor)(?<!razors)(?<!blade)(?<!blades)(?<!belt)(?<!cord)(?! (?:for|to) (?:my |the "
        r"|a |our"
        r" )?(?:\w+ )?(?:headache|migraine|cold|flu|period|back|tooth|toothache|pain|cramps"
        r"|hangover|fever|allergy|allergies|hay fever|blood pressure|anxiety|asthma|diabetes"
        r"|thyroid"
        r"|heart|cholesterol|infection|dog|cat|climbing|camping|tent|boat|garden|gardening|shed"
        r"|swing|hammock|range|hunting|club|project|course|sailing|gym|washing|paintball|work"
        r"|prescription|doctor|pharmacy|chemist|kids|son|daughter|mum|dad|nan|grandma)\b)"
        r"(?<!got my pills)(?<!got my meds)(?<!have my meds)(?<!have my pills)"
        r"(?<!collected my prescription)",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        (
            "how many",
            "how much",
            "lethal",
            "fatal",
            "deadly",
            "overdose",
            "how high",
            "what height",
            "how far",
            "painless",
            "quickest",
            "easiest",
            "way to die",
            "ways to die",
            "methods",
            "ways to",
            "way to",
            "methods",
            "how to",
        ),
        rf"\bhow (?:many|much) (?:\w+ ){{0,2}}{_MEANS} (?:\w+ ){{0,3}}(?:it takes|would it take"
        rf"|does it take|to take|is"
        rf" (?:a )?(?:lethal|fatal|deadly|too much)|would kill|to die|to overdose|to not wake up"
        rf"|before (?:it|you) )\b"
        rf"|\b{_MEANS}(?: \w+){{0,3}} (?:is|are|would be|will be) (?:a )?(?:lethal|fatal|deadly)\b"
        r"|\b(?:lethal|fatal|deadly) (?:dose|amount|height|combination|combo)\b"
        r"|\b(?:how (?:high|far|tall)|what height)\b(?: \w+){0,8} (?:to die|to kill|(?:would|will)"
        r" kill|fatal|lethal|survive)\b"
        r"|\b(?:painless|quickest|easiest|quick|best|surest|least painful) (?:way|ways|method"
        r"|methods)"
        r" (?:to|of) (?:die|dying|go|going|end|do it|kill)\b"
        r"|\b(?:ways|methods|how) to (?:die|kill (?:myself|yourself|oneself)|end (?:my|your) life"
        r"|overdose|hang (?:myself|yourself))\b",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        (
            "note",
            "letter",
            "goodbye",
            "good bye",
            "farewell",
            "last message",
            "final message",
            "affairs",
            "will",
            "giving away",
            "give away",
            "given away",
            "look after",
            "take care of",
            "giv",
            "gave",
            "goodbyes",
            "affairs",
            "look after",
            "feed",
            "adopt",
            "take care",
            "suicide",
        ),
        r"\b(?:suicide|goodbye|good bye) (?:\w+ )?(?:note|notes|letter|letters|message|messages"
        r"|video"
        r"|post|email|text)\b(?! (?:from|to) (?:the|our|my) (?:team|company|ceo|manager|boss|school"
        r"|office|colleagues|clients)\b)"
        r"|\b(?:this is|here is|this will be|these are) my (?:last|final|very last) (?:message|text"
        r"|words|post|goodbye)\b(?! (?:from me )?(?:today|tonight|before|for (?:today|the day|the"
        r" week|this week|now|a while)|of the day|on this|in this|here|on here|got|until|till)\b)"
        r"|\b(?:written|wrote|writing|write|finished|left|leaving|drafted|done|recorded|recording)"
        r" (?:my|a|the|some) (?:\w+ )?(?:notes?|letters) (?:to|for) (?:my|everyone|the kids|each"
        r" of|them|you all|people|whoever)\b(?!(?: \w+){0,4} (?:birthday|christmas|wedding"
        r"|retirement|leaving do|thank you|card)\b)"
        r"|\bmy goodbyes\b|\b(?:say|said|saying) (?:my )?goodbyes? (?:to (?:everyone|everybody|you"
        r" all|the world|all of you|my \w+)|forever|for good|for the last time)\b(?!(?: \w+){0,6}"
        r" (?:leav\w*|retir\w*|new job|moving|last day|farewell do|party|drinks|emigrat\w*)\b)"
        r"|\bgoodbye (?:world|cruel world|forever|everyone forever)\b"
        r"|\b(?:put|putting|got|sorted|sorting|getting|have) (?:all )?my affairs (?:in order"
        r"|sorted)\b"
        r"|\b(?:giving|give|gave|given) (?:away )?(?:all )?(?:my|of my) (?:things|stuff|belongings"
        r"|possessions|clothes|books|games|plants|cat|dog)\s?(?:away)?\b(?!(?: \w+){0,6} (?:charity"
        r" shop|declutter\w*|moving|move|marie kondo|spring clean\w*|car boot|ebay|vinted|sale"
        r"|downsiz\w*|clear\w* out)\b)"
        r"|\b(?:who will|who would|someone to|please|will you|can you|could you) (?:\w+ ){0,2}"
        r"(?:look after|take care of|feed|have|take|adopt|keep) (?:my|the) (?:cat|cats|dog|dogs"
        r"|kids|children|plants|pets?|rabbit|fish|budgie) (?:\w+ ){0,3}(?:when i am gone|after i am"
        r" gone|once i am gone|when i am not here|after i die|when i die|if anything happens|for"
        r" me(?= ?(?:$|[.!?,;:]|after|when|forever|from now)))",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        (
            "roof",
            "bridge",
            "ledge",
            "tracks",
            "railway",
            "cliff",
            "balcony",
            "edge",
            "top of",
            "platform",
            "motorway",
            "overpass",
            "crossing",
            "overpass",
        ),
        r"(?:\bi am (?:\w+ ){0,2}|\b(?:sat|stood|standing|sitting|lying|lay|parked|walking|driving"
        r"|went|going|heading|here|up) (?:\w+ ){0,1})(?:on|at|up on|on top of|by|near|at the edge"
        r" of|on the edge of|in|to|under|off) (?:the |a |this )?(?:edge of (?:the |a )?)?(?:roof"
        r"|rooftop|bridge|ledge|tracks|train tracks|railway(?: line| tracks| bridge)?"
        r"|level crossing"
        r"|cliff(?: edge)?|cliffs|cliff top|balcony|top of (?:the |a |my )?(?:building|car park"
        r"|multi storey|tower|block|flats)|edge|platform edge|motorway bridge|overpass)\b"
        r"(?!(?: \w+){0,6} (?:come|join|lunch|bbq|barbecue|coffee|smoke|break|view|drinks?|party"
        r"|meeting|call|signal|reception|wifi|fixing|repair|aerial|gutters?|satellite|photos?|pics?"
        r"|sunset|sunrise|fireworks|picnic|run|walk|hike|cycle|bike|jog|train|delayed|commute"
        r"|survey|inspection|solar|tiles|leak|chimney|pigeons|terrace|garden)\b)",
        False,
    ),
    (
        Concern.SELF,
        Level.QUIET,
        ("made", "decided", "picked", "chosen", "set"),
        r"\b(?:i have|i am|i) (?:made|decided|picked|chosen|set) (?:my decision|up my mind|the"
        r" date|a date|the day|a day|how|when|where)\b(?= ?(?:$|[.!?,;:]|to end|to do it|it is"
        r"|and i am at peace|i am at peace|no going back|for (?:tonight|friday|sunday)))"
        r"",
        False,
    ),
    (
        Concern.SELF,
        Level.QUIET,
        ("when i", "after i", "once i", "if i die"),
        r"\b(?:when|after|once) i am (?:gone|dead|not here|no longer here|not around)\b"
        r"|\b(?:when|after|once|if) i die\b(?! (?:of|from|in (?:a|the) game)\b)",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        ("take", "taking", "swallow", "down", "neck"),
        rf"\b{_INTENT} (?:just )?(?:take|taking|swallow|swallowing|down|downing|neck|necking)"
        rf" (?:\w+ ){{0,2}}{_AMOUNT} (?:\w+ ){{0,3}}{_PILLS}",
        False,
    ),
    # --- self-harm ----------------------------------------------------------------------------
    (
        Concern.SELF,
        Level.HIGH,
        (
            "cut",
            "burn",
            "hurt",
            "harm",
            "hit",
            "punish",
            "scratch",
            "carve",
            "bang",
            "punch",
            "sh",
            "starve",
            "starv",
            "bit",
            "bang",
            "carv",
            "scratch",
            "relaps",
            "slipped",
            "broke my streak",
            "self",
        ),
        r"\b(?:cut|cuts|cutting|burn|burns|burning|burnt|burned|hurt|hurting|harm|harming|hit"
        r"|hitting|punish|punishing|scratch\w*|carv\w*|bang\w*|punch\w*|bite|biting|starve"
        r"|starving) (?:my ?self|my (?:arms?|wrists?|legs?|thighs?|skin|stomach|hips?|head against"
        r"|hands?|body))\b(?! (?:shaving|chopping|cooking|slicing|on (?:a|the) (?:paper|knife|glass"
        r"|tin|can|box|oven|kettle|iron|pan|stove|door|desk|table|cupboard|shelf)|in the (?:gym"
        r"|garden|kitchen)|at (?:the )?(?:gym|work|football|netball|rugby|training)|playing"
        r"|lifting|running)\b)"
        r"|\b(?:i|i have|i have been|i am|been|started|start|keep|kept"
        r"|i still) (?:\w+ )?self ?harm\w*"
        r"|\bsh (?:again|urges?|relapse|scars?|wounds?)\b|\burges? to (?:cut"
        r"|burn|self harm|hurt (?:my ?self))\b"
        r"|\b(?:relapsed|relapse|slipped up|broke my streak)\b(?= (?:\w+ ){0,6}(?:cut|blade"
        r"|clean|harm|scars?))",
        False,
    ),
    (Concern.SELF, Level.QUIET, ("self harm", "selfharm"), r"\bself ?harm\w*\b", False),
    (
        Concern.SELF,
        Level.QUIET,
        ("goodbye", "good bye", "the end", "this is it"),
        r"\b(?:this is|so this is|i guess this is|well this is) (?:goodbye|good bye|the end|it)\b"
        r"(?= ?(?:$|[.!?,;:]|then|everyone|all|x))|\bgoodbye (?:everyone|all|forever|for good)\b",
        False,
    ),
    (
        Concern.SELF,
        Level.HIGH,
        ("cut", "burn"),
        r"\b(?:i|i have|i just|just|i already|already|i have already) (?:cut|burned|burnt)"
        r"(?: again| tonight| today| last night)?(?= ?(?:$|[.!?,;:]))",
        False,
    ),
    # --- harm already done --------------------------------------------------------------------
    (
        Concern.HARM_DONE,
        Level.HIGH,
        (
            "took",
            "taken",
            "swallowed",
            "downed",
            "necked",
            "had",
            "overdos",
            "drank",
            "drunk",
            "bleed",
            "bleeding",
            "blood",
            "ate",
            "injected",
            "mixed",
            "washed down",
            "popped",
            " od",
            "overdos",
            "drank",
            "drunk",
            "bleed",
            "blood",
        ),
        rf"\b(?:i |i have |i just |just |i already |already |i have already )(?:took|taken"
        rf"|swallowed|downed|necked|had|popped|injected|ate|mixed|washed down|chucked back)"
        rf" (?:\w+ ){{0,3}}{_AMOUNT} (?:\w+ ){{0,3}}{_PILLS}"
        rf"|\b(?:i |i have |just |i just )(?:took|taken|swallowed|downed|necked|popped) (?:\w+ )"
        rf"{{0,2}}{_PILLS} (?:\w+ ){{0,4}}(?:with|and) (?:\w+ ){{0,3}}(?:vodka|wine|whisky|whiskey"
        r"|gin|rum|alcohol|booze|beers?|cider|drink|bottle)\b"
        r"|\b(?:i |i have |just |i just |i think i )(?:overdosed|od|overdose)\b"
        r"|\b(?:i |i have |just |i just )(?:drank|drunk|swallowed|had|took) (?:\w+ ){0,2}(?:bleach"
        r"|antifreeze|weedkiller|weed killer|poison|rat poison|drain cleaner|pesticide|paraquat"
        r"|bottle of (?:pills|tablets))\b"
        r"|\b(?:will not|would not|does not|can not|is not|not|won t) (?:\w+ ){0,1}(?:stop"
        r" bleeding|stopping bleeding|stop the bleeding)\b|\bbleeding (?:a lot|loads|badly|heavily"
        r"|everywhere|through)\b|\b(?:so much|lot of|loads of) blood\b(?! (?:test|tests|donation"
        r"|pressure|sugar|work)\b)",
        False,
    ),
    # --- harm to others -----------------------------------------------------------------------
    (
        Concern.OTHERS,
        Level.HIGH,
        HARM_WORDS,
        rf"\b{_INTENT} (?:\w+ ){{0,2}}{_HARM} (?:\w+ ){{0,1}}{_PERSON}\b"
        r"(?! (?:at (?:chess|cards|pool|darts|fifa|tennis|squash|scrabble|monopoly|golf)|in (?:a"
        r"|the)"
        r" (?:game|match|race|round|final|quiz)|with (?:kindness|love)|up on)\b)",
        False,
    ),
    (
        Concern.OTHERS,
        Level.HIGH,
        (
            "gun",
            "knife",
            "knives",
            "weapon",
            "machete",
            "bomb",
            "rifle",
            "shoot up",
            "suffer",
            "pay for",
            "bleed",
            "dead",
            "make",
            "pay",
            "want",
        ),
        r"\b(?:bring|bringing|take|taking|carry|carrying|brought|got|have) (?:a |my |the )?(?:gun"
        r"|knife|knives|weapon|machete|bomb|rifle)s? (?:\w+ ){0,2}(?:in)?to (?:work|the office|the"
        r" meeting|school|the building|this place|his house|her house|their house)\b"
        r"|\bshoot up (?:the|this|my|our) (?:office|place|school|building|workplace|company"
        r"|meeting)\b"
        rf"|\bmake {_PERSON} (?:bleed|suffer|pay)\b(?! for (?:lunch|dinner|drinks|the (?:drinks"
        r"|round|pizza)))"
        rf"|\bwant (?:{_PERSON}|them all|all of them) dead\b",
        False,
    ),
    # --- unsafe at home -----------------------------------------------------------------------
    (
        Concern.ABUSE,
        Level.HIGH,
        (
            "hit",
            "beat",
            "slap",
            "punch",
            "kick",
            "chok",
            "strangl",
            "abus",
            "batter",
            "attack",
            "assault",
            "pin",
            "hurt",
            "bit",
            "push",
            "shov",
            "grab",
            "threaten",
            "lock",
            "stalk",
            "throw",
            "threw",
            "kill",
            "control",
            "burn",
            "spat",
            "drag",
        ),
        rf"\b{_ABUSER} (?:\w+ ){{0,2}}(?:hits|hit|beats|beat|slaps|slapped|punches|punched|kicks"
        r"|kicked|chokes|choked|strangles|strangled|abuses|abused|batters|battered|beat up|beats up"
        r"|attacked|attacks|assaulted|assaults|pinned|pins|hurts|hurt|is hurting|keeps hurting"
        r"|bites"
        r"|bit|pushed|pushes|shoved|shoves|grabbed|grabs|threatens|threatened|locks|locked|stalks"
        r"|is stalking|stalked|controls|burned|burnt|spat at|spits at|dragged|drags|throws things"
        r" at|threw (?:\w+ ){0,2}at) me\b(?! (?:up|at(?! (?:work|the office|home|school|the"
        r" meeting|night|the party)\b)|in (?:her|his|their|my) sleep|with (?:a|the|another|more"
        r"|so many|loads of|tickets|emails|work"
        r"|questions|a question|a deadline|the news|an idea|a request|facts|data)|to it|on (?:teams"
        r"|slack|email))\b)",
        False,
    ),
    (
        Concern.ABUSE,
        Level.HIGH,
        (
            "kill",
            "hurt",
            "hit",
            "beat",
            "take the kids",
            "take my kids",
            "threat",
            "take",
            "threaten",
        ),
        r"\b(?:threaten\w*|said|says|told me|swore|swears|warned|promised|keeps saying) (?:that )?"
        r"(?:if i (?:\w+ ){1,4})?(?:(?:he|she|they) )?(?:would|will|is going to|was going to|to"
        r"|will"
        r" actually|will really|would really) (?:kill|hurt|hit|beat|take|end) (?:me|the kids"
        r"|my kids"
        r"|the children|our kids|my children|us)\b"
        r"|\b(?:scared|afraid|frightened|terrified|worried|fear|think|sure) (?:that )?"
        rf"{_ABUSER} (?:will|would|might|is going to|could|is gonna) (?:\w+ )?(?:kill|hurt|hit|beat"
        r"|attack|strangle|choke|rape) me\b",
        False,
    ),
    (
        Concern.ABUSE,
        Level.HIGH,
        (
            "safe",
            "scared",
            "afraid",
            "frightened",
            "terrified",
            "dread",
            "eggshells",
            "abusive",
            "violent",
            "controlling",
            "domestic",
            "coercive",
            "bruis",
            "permission",
            "allowed",
            "not let me",
            "escape",
            "flee",
            "money",
            "phone",
            "passport",
            "locked",
            "took my",
            "takes my",
            "reads",
            "checks",
            "locks me",
            "money",
            "bank",
            "phone",
            "location",
            "messages",
            "emails",
            "dangerous",
        ),
        r"\b(?:not|do not feel|never feel|no longer feel|do not|never|is not|am not) (?:feel )?safe"
        r" (?:at home|in my (?:own )?(?:home|house|flat|apartment)|going home|to go home"
        r"|with (?:him"
        rf"|her|my (?:\w+ )?{_FAMILY})|around (?:him|her|my (?:\w+ )?{_FAMILY}))\b"
        r"|\bhome (?:is not|does not feel|no longer feels|is no longer) safe\b"
        r"|\b(?:scared|afraid|frightened|terrified|dread\w*) (?:to go|of going|to return|of"
        r" returning|going|to get|to be) (?:back )?home\b"
        rf"|\b(?:scared|afraid|frightened|terrified) (?:of|for my life around) (?:my )?(?:\w+ )?"
        rf"{_FAMILY}\b(?! (?:finding out|seeing|knowing|being disappointed|judging)\b)"
        rf"|\bwalking on eggshells (?:at home|around (?:him|her|my (?:\w+ )?{_FAMILY}))\b"
        r"|\babusive (?:relationship|partner|husband|wife|boyfriend|girlfriend|marriage|home"
        r"|household|family|dad|father|mum|mother|parents|ex)\b"
        rf"|\b(?:(?:my|our|their|her|his) (?:\w+ )?{_FAMILY}s?|marriage|relationship|he|she)"
        r" (?:is|was|has been|gets|became|can be|is being|is really|is so|is getting) "
        r"(?:\w+ )?(?:abusive|violent|controlling|dangerous)\b"
        r"|\bdomestic (?:abuse|violence)\b(?! (?:training|awareness|policy|course|module|charity"
        r"|week|month|day|statistics|stats)\b)|\bcoercive control\b(?! (?:training|awareness"
        r"|policy|course|module)\b)"
        r"|\b(?:hid\w*|cover\w*|explain\w*) (?:up )?(?:the |my )?bruises\b"
        rf"|\b{_ABUSER} (?:\w+ ){{0,2}}(?:will not|does not|never|refuses to|would not) (?:let"
        rf"|give|allow)"
        r" me (?:to )?(?:have |see |go out|leave (?:him|her|the house|the flat|home)|use my"
        r"|keep my|talk to"
        r" (?:my|anyone|friends)|work\b|drive\b|access|any money)"
        rf"|\b{_ABUSER} (?:\w+ ){{0,2}}(?:takes|took|keeps|controls|checks|reads|tracks|monitors)"
        r" (?:all )?(?:of )?(?:my|our) (?:money|wages|salary|pay|cards?|bank|benefits|passport"
        r"|car keys|phone|messages|texts|emails|location|spending)\b"
        rf"|\b{_ABUSER} (?:\w+ ){{0,2}}(?:makes|made|forces|forced) me (?:ask|get) (?:for )?"
        r"(?:his |her )?permission\b|\bnot allowed to (?:see|visit|talk to|call|leave|go out|have)"
        r" (?:my (?:friends|family|mum|parents|sister|brother)|the house|anyone)\b"
        r"|\b(?:locked|locks) me (?:in (?:the|my|a) (?:room|house|flat|bedroom|cupboard|shed|car)"
        r"|out (?:of (?:the|my|our) (?:house|flat|home) (?:at night|overnight|all night"
        r"|in the)))\b",
        False,
    ),
    # --- a child at risk ----------------------------------------------------------------------
    (
        Concern.CHILD,
        Level.HIGH,
        (
            "son",
            "daughter",
            "kid",
            "child",
            "baby",
            "toddler",
            "boy",
            "girl",
            "little one",
            "nephew",
            "niece",
            "grandson",
            "granddaughter",
            "pupil",
            "student",
            "stepson",
            "stepdaughter",
        ),
        rf"\b(?:i|he|she|they|my (?:\w+ )?{_FAMILY}|someone|her (?:\w+ )?boyfriend|his (?:\w+ )?"
        rf"girlfriend) (?:\w+ ){{0,2}}(?:hit|hits|hitting|smacked|smacks|slapped|slaps|beat|beats"
        r"|beating|punched|punches|kicked|kicks|shook|shakes|shaking|hurt|hurts|hurting|burned"
        r"|burnt|choked|strangled|threw|pushed|grabbed|locked|starved|starves|touched|touches"
        r"|touching|abused|abuses|abusing|molested|groomed|grooming|neglect\w*|left|leaves|leaving"
        rf"|screams at|bruised|whipped|belted) {_CHILD}\b(?! (?:at (?:school|the|football|nursery)"
        r"|off (?:at|to)|with (?:my|her|his|their) (?:mum|mom|dad|nan|grandma|grandparents|sister"
        r"|brother|aunt|uncle|childminder|nanny)|a (?:voicemail|message|note|present|gift)"
        r"|in (?:the|a) (?:game|match|photo|picture|car seat)|to (?:play|go|school)|alone for a"
        r" (?:minute|moment|second))\b)"
        rf"|\b(?:afraid|scared|terrified|worried|frightened|fear) (?:that )?(?:i|i will|i might"
        rf"|i am"
        rf" going to) (?:\w+ ){{0,2}}(?:hurt|hit|harm|shake|snap at|lose it with|kill) {_CHILD}\b"
        rf"|\b(?:want to|going to|might|could|will) (?:\w+ ){{0,1}}(?:hurt|harm|kill|shake|smother"
        rf"|drown|strangle) {_CHILD}\b"
        rf"|\b{_CHILD} (?:\w+ ){{0,3}}(?:is being|was|is|got|has been|keeps getting) (?:\w+ )?"
        r"(?:abused|hit|beaten|hurt|neglected|groomed|touched|molested|starved|left alone|bruised"
        r"|burned)\b(?! (?:at|in|playing|by (?:a|the) (?:ball|door|swing))\b)",
        False,
    ),
    # --- sexual assault -----------------------------------------------------------------------
    (
        Concern.ASSAULT,
        Level.HIGH,
        (
            "rape",
            "raped",
            "assault",
            "abuse",
            "forced",
            "touched",
            "did not stop",
            "drugged",
            "spiked",
            "consent",
            "made me",
            "groped",
            "molest",
            "without my",
            "against my will",
            "rap",
            "grabbed",
            "groped",
            "molest",
            "spiked",
            "drugged",
            "woke",
            "woken",
            "waking",
            "consent",
            "will",
        ),
        r"\b(?:raped|rape|raping)\b(?! (?:scene|jokes?|culture|statistics|stats|trial|case|charges?"
        r"|awareness|crisis (?:centre|center|line)|alarm|training|seed|field|oil|seed oil)\b)"
        r"|\bsexual(?:ly)? (?:assault|assaulted|abuse|abused|harass\w*|attacked)\b(?! (?:training"
        r"|awareness|policy|course|module|statistics|stats|case|cases|trial|claims?|allegations?"
        r"|charges?)\b)"
        r"|\b(?:forced|forcing|pressured|made) me (?:to )?(?:have sex|sleep with|do (?:sexual|stuff"
        r"|things)|into (?:sex|bed|it)|perform|touch (?:him|her|it))\b"
        r"|\b(?:he|she|they|someone|a (?:man|guy|colleague)"
        r"|my (?:\w+ )?\w+) (?:\w+ ){0,2}(?:touched"
        r"|groped|molested|grabbed) (?:me|my (?:breasts?|chest|bum|bottom|arse|ass|crotch|thighs?"
        r"|privates|body))\b(?! (?:on the (?:shoulder|arm)|to (?:get|say)))"
        r"|\b(?:did not|would not|wouldnt|didnt|never) stop (?:when|even when|after"
        r"|though) i (?:said"
        r" no|told him|told her|asked|begged|cried|said stop|pushed)"
        r"|\b(?:drink|drinks|i) (?:was|were|got) (?:spiked|drugged)\b|\b(?:spiked|drugged) (?:my"
        r" drink|me)\b|\bwithout (?:my )?consent\b|\bagainst my will\b"
        r"|\b(?:woke|woken|waking) up (?:\w+ ){0,3}(?:with|to) (?:him|her|them|someone|a \w+) "
        r"(?:on|inside|touching|undressing|on top of) me\b",
        False,
    ),
    # --- someone else in danger ---------------------------------------------------------------
    (
        Concern.SOMEONE_ELSE,
        Level.HIGH,
        (
            "suicid",
            "kill",
            "end",
            "overdos",
            "took",
            "pills",
            "tablets",
            "goodbye",
            "bridge",
            "roof",
            "ledge",
            "knife",
            "hurt",
            "harm",
            "cut",
            "not breathing",
            "edge",
            "tracks",
            "taken",
            "swallowed",
            "downed",
            "unconscious",
            "will not wake",
            "collapsed",
            "wake",
            "breathing",
            "unresponsive",
            "blue",
            "locked in",
            "worried",
            "collapsed",
            "unconscious",
            "want to be",
            "be alive",
            "live",
        ),
        rf"\b(?:{_OTHER_ADULT}|{_THIRD}) (?:\w+ ){{0,3}}(?:is|was|has been|keeps|kept|said|says"
        rf"|told"
        r" me|texted|messaged|posted|talks?|talking|talked|mentioned|threatening|threatened"
        r"|wants?|wanted|going|might|could|tried|trying|is going) (?:\w+ ){0,3}(?:suicid\w*|to kill"
        r" (?:himself|herself|themselves|themself)|killing (?:himself|herself|themselves|themself)"
        r"|kill (?:himself|herself|themselves)|end (?:it|it all|his life|her life|their life"
        r"|things)"
        r"|ending (?:it|his life|her life|their life|things)|(?:not|no) (?:wanting|want) to (?:be"
        r" alive|live|be here)|self harm\w*|hurt (?:himself|herself|themselves)|harm (?:himself"
        r"|herself|themselves)|cut (?:himself|herself|themselves)|overdos\w*|goodbye)\b"
        rf"|\b(?:{_OTHER_ADULT}|{_THIRD}) (?:\w+ ){{0,2}}(?:took|has taken|swallowed|downed)"
        rf" (?:\w+ ){{0,3}}{_PILLS}\b(?! (?:for|with (?:food|water))\b)"
        rf"|\b(?:{_OTHER_ADULT}|{_THIRD}) (?:is|was) (?:\w+ ){{0,1}}(?:not breathing|unconscious"
        r"|collapsed|unresponsive|blue|on the (?:bridge|roof|ledge|edge|tracks)|locked in the"
        r" (?:bathroom|toilet|car|garage) with)\b"
        r"|\b(?:will not|can not|does not|would not) (?:wake (?:him|her|them)"
        r"|wake up)\b(?<!i can not"
        r" wake up)"
        rf"|\bworried (?:about|that|for) (?:\w+ ){{0,3}}(?:{_OTHER_ADULT}) (?:\w+ ){{0,8}}(?:suicid"
        r"\w*|end (?:it|things|his life|her life)|kill (?:himself|herself|themselves)"
        r"|hurt (?:himself"
        r"|herself|themselves)|self harm\w*|goodbye|giving (?:away )?(?:his|her|their) (?:things"
        r"|stuff)|not (?:be )?(?:here|around)|do something (?:stupid|drastic))",
        False,
    ),
    # --- psychosis ----------------------------------------------------------------------------
    (
        Concern.PSYCHOSIS,
        Level.HIGH,
        (
            "voice",
            "voices",
            "telling me",
            "tell me to",
            "told me to",
            "watching me",
            "following me",
            "implant",
            "chip",
            "controlling my",
            "messages",
            "not real",
            "what is real",
            "tracker",
            "device",
            "implant",
            "chip",
            "real",
            "signs",
            "signals",
            "hear",
        ),
        r"\b(?:the )?voices? (?:\w+ ){0,3}(?:tell|tells|telling|told|say|says|saying|said|want"
        r"|wants|order|ordering|command\w*|keep|will not stop|are back"
        r"|are getting louder)\b(?! (?:on the (?:call|phone"
        r"|podcast|radio)|in the (?:meeting|office|room|podcast|audiobook|next room))\b)"
        r"|\bhear\w* (?:voices|things (?:that|nobody|no one)|someone (?:talking|telling) (?:in my"
        r" head|me to))\b"
        r"|\b(?:god|the devil|satan|they|someone|something|the tv|the radio|the neighbours|a"
        r" voice) (?:\w+ ){0,2}(?:is |are |keeps |keep )?(?:telling|told|tells|ordering|ordered"
        r"|commanding|commanded) me (?:to|that i (?:must|have to|should|need to))"
        r" (?:\w+ ){0,3}(?:hurt|kill|harm|die|end|jump|cut|burn|punish|sacrifice|stab|attack"
        r"|do it)\b"
        r"|\b(?:they|people|someone|the government|mi5|the fbi|my neighbours|cameras) (?:are |is"
        r" )?(?:\w+ )?(?:watching|following|tracking|monitoring|poisoning|controlling"
        r"|reading) (?:me"
        r"|my (?:thoughts|mind|brain|food))\b(?! (?:on (?:teams|slack|linkedin|instagram|twitter"
        r"|tiktok)|at (?:the|work)|present)\b)"
        r"|\b(?:chip|implant|tracker|device) in my (?:head|brain|body|teeth|arm)\b"
        r"|\b(?:i do not know|can not tell|not sure) (?:what is|what s) real\b"
        r"|\b(?:messages|signs|signals) (?:meant )?(?:for me )?(?:in|from|on) (?:the tv|the radio"
        r"|the news|number plates|the walls)\b",
        False,
    ),
    # --- eating-disorder danger ---------------------------------------------------------------
    (
        Concern.EATING,
        Level.HIGH,
        (
            "eat",
            "ate",
            "food",
            "purg",
            "throw up",
            "throwing up",
            "threw up",
            "vomit",
            "sick",
            "laxative",
            "fainted",
            "faint",
            "starv",
            "calories",
            "binge",
            "weigh",
        ),
        r"\b(?:not|have not|has not|did not|have not been able to|can not|could not|stopped|stop)"
        r" (?:\w+ ){0,1}(?:eaten|eating|eat|kept (?:food|anything) down|had (?:any )?food) (?:\w+ )"
        r"{0,3}(?:in|for) (?:days|a week|weeks|\d+ days|two days|three days|four days|five days"
        r"|several days|a few days)\b"
        r"|\b(?:purg\w*|throwing up|throw up|threw up|vomit\w*|making myself sick|made myself sick"
        r"|make myself sick) (?:\w+ ){0,6}(?:blood|every meal|after every|(?:\d+|several|five"
        r"|six|ten) times a day|chest pain|heart|faint|dizzy|passed out|can not stop)\b"
        r"|\b(?:blood|bloody) (?:\w+ ){0,3}(?:when i (?:purge|throw up|vomit|make myself sick)|in"
        r" (?:my )?(?:vomit|sick))\b"
        r"|\b(?:\d+|a box of|a packet of|loads of|handfuls of|a whole box of) laxatives\b"
        r"|\blaxatives (?:\w+ ){0,4}(?:a day|every day|every night|daily)\b"
        r"|\b(?:fainted|passed out|blacked out|keep fainting|collapsed|heart (?:is )?(?:racing"
        r"|skipping|pounding|fluttering)|chest (?:pain|hurts)) (?:\w+ ){0,8}(?:not eat\w*|not"
        r" eaten|starv\w*|restrict\w*|fasting|purg\w*|laxatives|calories|throw\w* up)\b"
        r"|\b(?:not eat\w*|not eaten|starv\w*|restrict\w*|purg\w*|laxatives|throw\w* up) (?:\w+ )"
        r"{0,8}(?:fainted|passed out|blacked out|keep fainting|collapsed|heart (?:is )?(?:racing"
        r"|skipping|pounding|fluttering|weird)|chest (?:pain|hurts)|dizzy|can not stand)\b"
        r"|\b(?:only|just) (?:eaten|eating|had|have) (?:\d{1,3}|a few hundred|one hundred"
        r"|two hundred)"
        r" calories (?:\w+ ){0,3}(?:in|for|a) (?:days|a week|week|day)\b",
        False,
    ),
)

# Weak cues: nothing alone, but after earlier distress in the last hour they escalate (the
# conversation memory, detect.py): "tonight is the night" after "i am so tired of living".
WEAK_CUES = re.compile(
    r"\b(?:(?:tonight|today|tomorrow|this weekend) is the (?:night|day)|it is time|its time"
    r"|i know what i (?:have|need|am going) to do|thank you for everything|thanks for everything"
    r"|goodbye|good bye|bye everyone|bye all|it will (?:all )?be over soon|not long now|this is it"
    r"|i am ready|i am at peace|see you on the other side|take care of (?:yourself|everyone|them)"
    r"|it is sorted|its sorted|sorted it|no going back|made my decision|made up my mind"
    r"|decided|one last|for the last time|you will not hear from me|forgive me|i am sorry for"
    r" everything|sorry for everything|love you all)\b"
)

# Words of danger, broadly: the model alone leads with the emergency only when one of these
# is there, since a message without any ("sorry my bad, i have updated it now") that the model
# scores high is its noise, not a crisis. It still gets the quiet line.
DANGER_WORDS = re.compile(
    r"\b(?:di(?:e|ed|es|ing)|dead|death|deadly|kill\w*|suicid\w*|end(?:ing|ed)?|alive|liv(?:e|ing)"
    r"|life|hurt\w*|harm\w*|pills?|tablets?|meds|medication|overdos\w*|od|rope|noose|bridge|roof"
    r"|ledge|jump\w*|goodbye|bye|gone|pain|scared|afraid|terrified|frightened|hit\w*|beat\w*"
    r"|slap\w*|punch\w*|kick\w*|chok\w*|strangl\w*|safe|unsafe|abus\w*|rap(?:e|ed|ing)|assault\w*"
    r"|touch\w*|forc\w*|voices?|starv\w*|purg\w*|vomit\w*|throw\w* up|faint\w*|bleed\w*|blood"
    r"|cut\w*|burn\w*|swallow\w*|knife|knives|gun|blade|razor|hang\w*|drown\w*|poison\w*|bleach"
    r"|burden|worthless|hopeless|point|anymore|forever|tonight|disappear\w*|exist\w*|wake|sleep"
    r"|letter|note|will|plan\w*|threat\w*|control\w*|lock\w*|weapon|stab\w*|shoot\w*|murder\w*"
    r"|unaliv\w*|kms|ending|over|done|enough|can not|cannot|nothing|nobody|no one|alone|help"
    r"|child|kid|son|daughter|baby|watch\w*|follow\w*|real|heart|chest|dizzy|laxatives?|eat\w*"
    r"|ate|calories|weight|sick|tired|exhausted|trapped|escape|leave|leaving|away|last|final)\b"
)

RULES: tuple[Rule, ...] = tuple(
    Rule(concern, level, cues, re.compile(pattern), firm)
    for concern, level, cues, pattern, firm in _RAW
)
