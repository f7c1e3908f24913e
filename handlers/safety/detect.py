"""Reading a message for danger: the pattern layer, the model, the step-down, the conversation.

    pattern layer (patterns.py, languages.py)   risk cores, idioms vetoed      -> level, concerns
    model (model.py)                            shipped linear classifier      -> level, concern
    step-down (stepdown.py)                     mentions lower HIGH to QUIET   (never to NONE)
    memory (memory.py)                          a weak cue after distress      -> escalates

The stronger of the two readings wins: a missed crisis is the worst failure. Nothing here
touches a database, a network or the bot: it is fast, pure work that crisis help can rely on
while everything else fails. `observe` does the reading and `decide` the judging, so the
thresholds can be tuned (bench/train_crisis.py) without reading every line again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from handlers.safety import languages, normalise, patterns, stepdown
from handlers.safety.concerns import Concern, Level
from handlers.safety.memory import Memory
from handlers.safety.model import Model, shipped


@dataclass(frozen=True)
class Assessment:
    level: Level = Level.NONE
    concerns: frozenset[Concern] = field(default_factory=frozenset)
    lang: str = "en"
    danger: float = 0.0  # the model's chance of danger, for benchmarks; never stored

    def __bool__(self) -> bool:
        return self.level > Level.NONE


NOTHING = Assessment()
_FEWEST = 4
_SHORT = 600  # characters: up to this, language identification may be unsure


@dataclass(frozen=True)
class Observation:
    """What one message shows, before any threshold is applied."""

    lang: str
    level: Level  # the pattern layer's
    concerns: frozenset[Concern]  # the pattern layer's
    firm: bool
    framing: stepdown.Framing
    danger: float  # the model's
    concern: Concern  # the model's likeliest
    cue: bool  # a weak cue ("tonight is the night"): escalates after earlier distress
    words: int  # how many words (with a letter in them) the model read
    danger_words: bool  # a word of danger, broadly (patterns.DANGER_WORDS), is there


@dataclass(frozen=True)
class Thresholds:
    high: float  # the model's chance of danger that leads with the emergency
    quiet: float  # ... that adds the quiet line
    weak: float  # ... that escalates after earlier distress


class Detector:
    def __init__(
        self,
        model: Model | None = None,
        memory: Memory | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.model = model or shipped()
        self.memory = memory if memory is not None else Memory()
        self.thresholds = thresholds or Thresholds(**self.model.thresholds)

    def observe(self, text: str) -> Observation:
        lang = languages.identify(text)
        level, concerns, firm, cue = Level.NONE, set(), False, False
        # The clause where each pattern matched: read for how it is framed.
        around: list[str] = []

        def matched(rule: patterns.Rule, reading: str, match: re.Match[str]) -> None:
            nonlocal level, firm
            level = max(level, rule.level)
            concerns.add(rule.concern)
            firm = firm or rule.firm
            around.append(stepdown.clause(reading, match.start(), match.end()))

        for reading, limit in normalise.readings(text).items():
            reading = patterns.without_idioms(reading)
            cue = cue or patterns.WEAK_CUES.search(reading) is not None
            for rule in patterns.RULES:
                match = rule.search(reading)
                if match is not None and match.start() < limit:
                    matched(rule, reading, match)
        # Every language's cores are read, whatever the identification says, for a message short
        # enough that it can be unsure ("quero morrer"); a long one is read in its own language.
        foreign = (
            languages.FOREIGN.values() if len(text) <= _SHORT else [languages.FOREIGN.get(lang, ())]
        )
        for head, tail in normalise.windows(text) if lang != "en" or len(text) <= _SHORT else ():
            reading = normalise.foreign(f"{head} {tail}" if tail else head)
            for rules in foreign:
                for rule in rules:
                    match = rule.search(reading)
                    if match is not None:
                        matched(rule, reading, match)
        reading = reading_for_model(text, lang)
        score = self.model.score(reading)
        return Observation(
            lang,
            level,
            frozenset(concerns),
            firm,
            # A pattern's danger is framed by its own clause; the model's, by its window.
            stepdown.framing(" ; ".join(around) if around else score.window),
            score.danger,
            score.concern,
            cue,
            sum(1 for w in reading.split() if any(c.isalpha() for c in w)),
            # In the window the model scored: the danger it found must be worded there.
            lang != "en" or patterns.DANGER_WORDS.search(score.window) is not None,
        )

    def decide(
        self,
        seen: Observation,
        earlier: tuple[float, Concern | None] = (0.0, None),
        thresholds: Thresholds | None = None,
    ) -> Assessment:
        """The answer to one observation, given the person's decayed earlier score."""
        t = thresholds or self.thresholds
        # Under _FEWEST words ("no", "one too many") the model has too little to go on and its
        # guesses are noise; the patterns (and the memory) still read them.
        danger = seen.danger if seen.words >= _FEWEST else 0.0
        model_level = (
            Level.HIGH
            if danger >= t.high and seen.danger_words
            else Level.QUIET
            if danger >= t.quiet
            else Level.NONE
        )
        concerns = set(seen.concerns)
        if model_level > Level.NONE and (not concerns or model_level == Level.HIGH):
            concerns.add(seen.concern)
        level = max(seen.level, model_level)
        if level == Level.HIGH and not seen.firm and seen.framing.steps_down(frozenset(concerns)):
            level = Level.QUIET
        before, before_concern = earlier
        if level < Level.HIGH and (seen.cue or danger >= t.weak) and before >= t.quiet:
            # A farewell-like cue after distress is among the strongest signs there are.
            level = Level.HIGH if seen.cue or before >= t.high else max(level, Level.QUIET)
            concerns.add(before_concern or seen.concern)
        return Assessment(level, frozenset(concerns), seen.lang, danger)

    def trace(self, assessment: Assessment, thresholds: Thresholds | None = None) -> float:
        """The score a reading leaves in the person's memory."""
        t = thresholds or self.thresholds
        floor = {Level.HIGH: t.high, Level.QUIET: t.quiet, Level.NONE: 0.0}[assessment.level]
        return max(assessment.danger, floor)

    def assess(self, text: str, key: str | None = None, now: datetime | None = None) -> Assessment:
        """How strongly `text` calls for crisis help, and for which concerns.

        With `key` (see memory.person_key) and `now`, earlier messages of the same person in
        the last hour count: a weak cue after distress escalates."""
        if not isinstance(text, str) or not text.strip():
            return NOTHING
        seen = self.observe(text)
        if key is None or now is None:
            return self.decide(seen)
        found = self.decide(seen, self.memory.recall(key, now))
        self.memory.note(key, now, self.trace(found), next(iter(sorted(found.concerns)), None))
        return found


def reading_for_model(text: str, lang: str) -> str:
    """What the model reads: English in canonical words with the known idioms taken out (as the
    patterns read it), other languages normalised only."""
    if lang != "en":
        return normalise.foreign(text)
    return patterns.without_idioms(normalise.plain(text))
