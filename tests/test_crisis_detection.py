"""Crisis detection's layers on their own: the risk cores and their idiom vetoes, the step-down
for mentions, the conversation memory, the languages, and long texts. The measure on text
nobody wrote for it is tests/test_crisis_corpus.py; the replies, tests/test_crisis_replies.py."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from handlers.safety import Concern, Detector, Level, person_key
from handlers.safety.languages import FOREIGN
from handlers.safety.memory import Memory, Trace
from handlers.safety.patterns import IDIOMS, RULES, without_idioms

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(memory=Memory())


def _patterns(detector: Detector, text: str) -> Level:
    """What the pattern layer alone makes of `text` (the model aside)."""
    return detector.observe(text).level


# --- the risk core fires whatever follows it; known idioms are vetoed ---------------------------
@pytest.mark.parametrize(
    "text",
    [
        "i bought a rope on the way home from work",
        "he said if i leave him he will kill me",
        "I've been saving up my tablets for a while now, just in case",
        "standing on the bridge right now, the water looks calm",
        "i took 30 paracetamol an hour ago but i feel fine",
        "my goodbye letters are written, one for each of the kids",
        "i dont want to be alive anymore",
    ],
)
def test_a_risk_core_fires_wherever_it_stands(detector: Detector, text: str) -> None:
    assert _patterns(detector, text) == Level.HIGH


@pytest.mark.parametrize(
    "text",
    [
        "this deadline is killing me",
        "can you kill the process on box 3",
        "dead tired after the offsite",
        "shoot me a message when you're free",
        "i could murder a curry",
        "my phone is dying, call you later",
        "she killed it in the pitch today",
        "mum will kill me if I forget her birthday",
    ],
)
def test_an_idiom_alone_raises_nothing_at_the_pattern_layer(detector: Detector, text: str) -> None:
    assert _patterns(detector, text) == Level.NONE


def test_a_risk_core_beside_an_idiom_still_fires(detector: Detector) -> None:
    text = "this job is killing me and honestly i want to kill myself"
    assert "killing me" not in without_idioms(text)
    assert _patterns(detector, text) == Level.HIGH


def test_every_rule_match_holds_one_of_its_cues() -> None:
    """The `in` pre-filter may skip a rule only where it could not match: each match must
    contain a cue (checked on every line of the corpus that any rule matches)."""
    from bench.crisis_corpus import PARTS, load
    from handlers.safety import normalise

    for part in PARTS:
        for item in load(part):
            for message in item.messages:
                for reading in normalise.readings(message):
                    reading = without_idioms(reading)
                    for rule in RULES:
                        match = rule.pattern.search(reading)
                        if match:
                            assert any(c in reading for c in rule.cues), (rule.cues, reading)
                for reading in normalise.readings(message):
                    for cues, idiom in IDIOMS:
                        if idiom.search(reading):
                            assert any(c in reading for c in cues), (cues, reading)
                foreign = normalise.foreign(message)
                for rules in FOREIGN.values():
                    for rule in rules:
                        if rule.pattern.search(foreign):
                            assert any(c in foreign for c in rule.cues), (rule.cues, foreign)


# --- mentions step down to the quiet line, never to nothing -----------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "in the suicide prevention training we practised asking 'are you thinking of killing "
        "yourself?' directly",
        "the film ends with him writing a suicide note, I cried at the cinema",
        "years ago i self harmed, i am doing well now and want to volunteer",
        "im not suicidal just exhausted",
    ],
)
def test_a_mention_gets_the_quiet_line_at_most(detector: Detector, text: str) -> None:
    assert detector.assess(text).level <= Level.QUIET


def test_negated_life_is_never_stepped_down(detector: Detector) -> None:
    text = "after the training today i realised i dont want to be alive anymore"
    assert detector.assess(text).level == Level.HIGH


# --- the conversation, not the message ----------------------------------------------------------
def test_a_weak_cue_after_distress_escalates_for_that_person_only() -> None:
    detector = Detector(memory=Memory())
    me, other = person_key("slack", "U1"), person_key("slack", "U2")
    assert detector.assess("im so tired of living", me, T0)
    assert detector.assess("tonight is the night", me, T0 + timedelta(minutes=5)).level == (
        Level.HIGH
    )
    assert detector.assess("tonight is the night", other, T0 + timedelta(minutes=5)).level < (
        Level.HIGH
    )


def test_the_memory_forgets_after_an_hour_and_holds_no_words() -> None:
    memory = Memory()
    detector = Detector(memory=memory)
    me = person_key("teams", "29:abc")
    detector.assess("im so tired of living", me, T0)
    assert all(f.type in ("float", "Concern | None", "datetime") for f in fields(Trace))
    assert "29:abc" not in repr(memory._traces)  # keyed by a digest, never the id
    later = T0 + timedelta(minutes=61)
    assert memory.recall(me, later) == (0.0, None)
    assert detector.assess("tonight is the night", me, later).level < Level.HIGH
    with pytest.raises(ValueError):
        Memory(keep=timedelta(hours=2))


# --- languages ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ya no quiero seguir viviendo, lo tengo todo pensado", "es"),
        ("je veux en finir, j'ai tout préparé pour ce soir", "fr"),
        ("ich will nicht mehr leben, ich habe Tabletten gesammelt", "de"),
        ("não aguento mais, quero morrer", "pt"),
        ("voglio farla finita stasera", "it"),
        ("nie chcę już żyć, mam wszystko przygotowane", "pl"),
        ("ik wil niet meer leven, ik heb pillen verzameld", "nl"),
    ],
)
def test_each_language_is_identified_and_read(detector: Detector, text: str, lang: str) -> None:
    found = detector.assess(text)
    assert found.lang == lang
    assert found.level == Level.HIGH
    assert Concern.SELF in found.concerns


@pytest.mark.parametrize(
    "text",
    ["me muero de risa con este meme", "ich bin todmüde nach dem Meeting", "ça me tue, ce bug"],
)
def test_idioms_of_other_languages_get_no_emergency(detector: Detector, text: str) -> None:
    assert detector.assess(text).level < Level.HIGH


# --- every message is read whole ------------------------------------------------------------
def test_a_risk_at_the_end_of_a_long_message_is_found(detector: Detector) -> None:
    work = "The migration ran overnight and replica lag is back under a second. "
    text = work * 600 + "Also, I have decided to end my life this weekend."
    found = detector.assess(text)
    assert found.level == Level.HIGH
    assert Concern.SELF in found.concerns
    assert detector.assess(work * 600).level == Level.NONE
