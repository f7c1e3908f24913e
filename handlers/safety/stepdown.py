"""Mentions, not use: what lowers an emergency-first reply to the quiet line, never to nothing.

A message about suicide-prevention training, a film, a song, how to help someone in general, a
past that is over, or a scoped denial ("i am not suicidal, just exhausted") still gets the quiet
"if you are not safe right now, here is help" line: a mention can hide real risk, so it is
never ignored. A mention counts only in the sentence of the danger it frames (`clause`). Rules
marked firm (negated life: "i do not want to be alive anymore") are never stepped down, nor is
harm already done; another person in danger is not stepped down by a helping frame ("how do i
help, he took 30 pills"), which is the very reason to lead with the emergency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.safety.concerns import Concern

_MENTIONS = tuple(
    re.compile(p)
    for p in (
        # training, courses, policy, study
        r"\b(?:training|course|module|workshop|webinar|e ?learning|first aider|first aid|mhfa"
        r"|asist|safetalk|quiz|lesson|lecture|seminar|certificate|role ?play|scenario"
        r"|case study|assignment|essay|dissertation|thesis|handbook"
        r"|toolkit|awareness (?:week|day|month|session|campaign)|prevention|statistics|stats"
        r"|leaflet|poster|resource pack|signpost\w*|warning signs)\b",
        # films, books, news, games
        r"(?<!\blike a )(?<!\blike )\b(?:film|movie|series|episode|season finale|book|novel"
        r"|chapter|character"
        r"|characters|documentary|podcast|article|the news|headline|news story|storyline|plot"
        r"|spoiler|trailer|netflix|bbc|true crime|anime|manga|protagonist|villain|screenplay"
        r"|audiobook|video game|play ?through|fan ?fic\w*|sitcom)\b",
        # songs and poems
        r"\b(?:song|songs|lyrics?|chorus|verse|album|singer|rapper|poem|poems|poetry"
        r"|poet|karaoke|spotify|playlist|sings|sang)\b",
        # the past, over
        r"\b(?:years ago|months ago|(?:when|back when) i was (?:\w+ ){0,2}(?:young|younger|teen"
        r"|teenager|kid|child|at uni|at school|in school|\d+)|in the past|i used to|back in (?:\d+"
        r"|the day|school|uni|my twenties))\b(?=(?: \S+){0,60}? (?:better now|recovered|recovery"
        r"|doing well"
        r"|doing ok|doing okay|doing fine|got through|no longer|not anymore|do not anymore"
        r"|clean for|free for|since then|therapy helped|much happier)\b)",
        r"\b(?:i am|i have been|been) (?:\w+ ){0,1}(?:in recovery|recovered|clean|free|sober)"
        r" (?:for |since )",
        # a scoped denial
        r"\b(?:i am not|i am not being|not that i am|i am definitely not|i am honestly not"
        r"|not feeling) (?:\w+ ){0,1}(?:suicidal|going to (?:do anything|hurt myself|kill myself"
        r"|harm myself)|in (?:any )?danger|at risk|unsafe)\b",
        r"\b(?:no|never|not) (?:\w+ ){0,1}(?:thoughts|thinking) of (?:suicide|ending|killing"
        r"|hurting|harming)\b",
        r"\b(?:do not|not going to|would never|will never) (?:\w+ ){0,1}(?:hurt|harm|kill)"
        r" (?:myself|anyone|anybody)\b",
    )
)
# How to help someone in general: steps down only what is about the writer.
_HELPING = re.compile(
    r"\b(?:how (?:do|can|should|would|could) (?:i|we|you|one|someone|people) (?:best )?(?:help"
    r"|support|talk to|approach|respond|spot|recogni[sz]e|ask|reach out)|what (?:should|do|can"
    r"|would) (?:i|we|you) (?:say|do) (?:if|when|to)|(?:tips|advice|guidance|resources) (?:on"
    r"|for|about)|(?:is|are) there (?:any )?(?:resources|training|guidance)|signs? (?:that|of)"
    r" (?:someone|a person|a colleague))\b"
)
_NOT_STEPPED_DOWN_BY_HELPING = frozenset({Concern.HARM_DONE, Concern.SOMEONE_ELSE})
_NEVER_STEPPED_DOWN = frozenset({Concern.HARM_DONE})


@dataclass(frozen=True)
class Framing:
    """How a message frames its words of danger: as a mention, or as a general question about
    helping someone."""

    mention: bool
    helping: bool

    def steps_down(self, concerns: frozenset[Concern]) -> bool:
        """Whether an emergency-first reply for `concerns` becomes the quiet line."""
        if concerns & _NEVER_STEPPED_DOWN:
            return False
        return self.mention or (self.helping and not concerns & _NOT_STEPPED_DOWN_BY_HELPING)


def framing(reading: str) -> Framing:
    return Framing(any(m.search(reading) for m in _MENTIONS), bool(_HELPING.search(reading)))


_SENTENCE_END = re.compile(r" [.!?;] ")


def clause(reading: str, start: int, end: int) -> str:
    """The sentence of `reading` around a match at start..end: a mention steps a danger down
    only where it frames that danger ("in the film, he kills himself"), not in a sentence of
    its own ("sorry about the slides. i am going to take them all tonight")."""
    before = max((m.end() for m in _SENTENCE_END.finditer(reading, 0, start)), default=0)
    after = _SENTENCE_END.search(reading, end)
    return reading[before : after.start() if after else len(reading)]
