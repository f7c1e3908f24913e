"""Table tests for crisis language detection in the free text of support requests."""

from __future__ import annotations

import pytest

from handlers.safety import looks_like_crisis

FLAGGED = [
    "I want to kill myself",
    "i want to kill my self",
    "I'm going to killmyself tonight",
    "honestly i just wanna die",
    "I want to die.",
    "I want to end my life",
    "<!channel> I want to end my life",
    "I've been thinking about ending my own life",
    "I keep thinking about suicide",
    "I've been feeling SUICIDAL for weeks",
    "been feeling suicdal lately",
    "having sucidal thoughts again",
    "I self-harm when things get bad",
    "I've started self harming again",
    "I keep cutting myself",
    "I cut my wrists last year and the urge is back",
    "I don't want to live anymore",
    "I dont want to be alive",
    "I do not want to wake up tomorrow",
    "I don’t want to be here anymore",
    "I'm so done with life",
    "Everyone would be better off without me",
    "they'd all be better off if I was dead",
    "I'd be better off dead",
    "I can't go on",
    "I can’t go on like this",
    "There's no reason to live",
    "I have nothing left to live for",
    "I've been thinking about ending it all",
    "I'm thinking about ending things.",
    "I have a plan.",
    "I've been stockpiling my pills",
    "thinking of taking a handful of sleeping pills",
    "I overdosed last month",
    "I want to hang myself",
    "I want to jump off a bridge",
    "sometimes I want to step in front of a train",
    "kms",
    "ugh kms fr",
    "I want to unalive myself",
    "thinking about sewerslide",
    "I   WANT   to    DIE",
    "I want to... die",
    "I wish I was dead",
    "I wish I'd never been born",
    "life isn't worth living",
    "my life is not worth it any more",
    "I feel like such a burden to everyone",
    "I'm tired of being alive",
    "I've lost the will to live",
    "I don't feel safe with myself tonight",
    "I can't keep myself safe",
    "I won't be around much longer",
    "my colleague told me he wants to kill himself",
    "what's the point of living",
    "I want to hurt myself",
    "I’ve written a goodbye note",
    "I'd rather be dead than live like this",
    "I want to disappear forever",
    "su\u200bicidal",
    "\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f \uff44\uff49\uff45",
    "I hope I don't wake up",
    "I keep thinking about killing myself",
]

NOT_FLAGGED = [
    "",
    "She is very skilled at negotiation",
    "The dark mode is a killer feature",
    "This bug is killing me",
    "this deadline is killing me",
    "Can someone kill the build?",
    "kill the process and restart it",
    "I'm dying to try the new cafe",
    "I'm dying to know how the offsite went",
    "I could kill for a coffee",
    "The deadline moved to Friday",
    "We watched the suicide squad film last night",
    "Taking that role would be career suicide",
    "I'm dead tired after the release",
    "We had to cut the budget again",
    "I'm done with this project",
    "I'm so done with this sprint",
    "I shot myself in the foot by volunteering",
    "I've been drowning myself in work",
    "I need to cut myself some slack",
    "I'd rather die than sit through another stand-up",
    "I'm ready to die on this hill about tabs",
    "I nearly died laughing at the retro",
    "I'm going to die of boredom in this meeting",
    "Python 3.8 has reached end of life",
    "I can't go on holiday until March",
    "We can't go on the team trip",
    "no point going on with this approach",
    "The team is better off without the old CRM",
    "I don't want to live in London any more",
    "I don't want to wake up early for the 7am call",
    "I ran 10 kms this morning",
    "I've had an overdose of meetings this week",
    "I'm burning out and need to talk to someone",
    "I'm struggling with anxiety at work",
    "Cross my heart and hope to die",
    "I want to take my life back from work",
    "I hurt myself at the gym",
    "my manager is driving me crazy",
    "Turn on self-deleting messages please",
    "life is worth living",
    "I'm thinking about ending things with my partner",
    "I have a plan for the migration",
    "Let's terminate the instance and execute the script",
    "I've been killing myself to hit this deadline",
    "thinking of dying my hair blue",
    "I threw myself into the project",
    "I jumped off the call early",
    "the old reporting system needs to die",
    "walked into a wall with this task",
]


@pytest.mark.parametrize("text", FLAGGED)
def test_flags_crisis_language(text: str) -> None:
    assert looks_like_crisis(text) is True


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_ignores_everyday_language(text: str) -> None:
    assert looks_like_crisis(text) is False


def test_empty_input_is_not_crisis() -> None:
    assert looks_like_crisis("") is False
    assert looks_like_crisis("   \n\t ") is False


def _filler(length: int) -> str:
    sentence = "The sprint review overran and the deadline is killing me. "
    return (sentence * (length // len(sentence) + 1))[:length]


def test_long_input_with_crisis_phrase_at_the_end() -> None:
    phrase = " I want to end my life"
    text = _filler(10_000 - len(phrase)) + phrase
    assert len(text) == 10_000
    assert looks_like_crisis(text) is True


def test_long_input_without_crisis_phrase() -> None:
    text = _filler(10_000)
    assert len(text) == 10_000
    assert looks_like_crisis(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "a" * 10_000,
        "kill " * 2_000,
        "want to " * 1_250,
        "i dont want to " * 700,
        "no reason to " * 800,
        "better if i " * 900,
        "self " * 2_000,
        "!" * 10_000,
        " " * 10_000,
        "\u200b" * 10_000,
    ],
)
def test_hostile_input_is_handled(text: str) -> None:
    assert looks_like_crisis(text) is False


def test_markup_is_read_as_text() -> None:
    assert looks_like_crisis("<!channel> I want to end my life") is True
    assert looks_like_crisis("<p>*I   want to <b>kill</b> myself*</p>") is True
    assert looks_like_crisis("I don&#39;t want to live anymore") is True
