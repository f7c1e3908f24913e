"""Crisis language in disguise (issue 22): letters of other scripts drawn like Latin ones,
invisible characters, accents and fancy-text letters inside a phrase still raise its concern,
while ordinary Russian, Greek and accented text raises nothing. Look-alikes are written as
escapes, since in source they would pass for the Latin letters they imitate."""

from __future__ import annotations

import pytest

from handlers.safety import Concern, Level
from handlers.safety import assess as _assess
from storage.db import Database
from tests.conftest import ShellDriver, make_bot


def raised(text: str) -> frozenset[Concern]:
    """The concerns an emergency-first reply leads with; empty if it is not one."""
    found = _assess(text)
    return found.concerns if found.level == Level.HIGH else frozenset()


SELF, OTHERS, ABUSE = Concern.SELF, Concern.OTHERS, Concern.ABUSE

# Each missed before look-alikes were folded and accents dropped.
DISGUISED = [
    # Cyrillic
    ("I want to k\u0456ll myself", {SELF}),  # the Ukrainian і
    ("I want to kill mys\u0435lf", {SELF}),
    ("\u0456 w\u0430nt t\u043e d\u0456\u0435", {SELF}),
    ("I want to \u0501\u0456\u0435", {SELF}),  # a word wholly in look-alikes
    ("I W\u0410NT TO \u041a\u0406LL MYSELF", {SELF}),  # capitals: А К І
    ("I took 30 \u0440\u0456\u04cf\u04cf\u0455", {Concern.HARM_DONE}),  # р і ӏ ӏ ѕ
    ("my husband h\u0456ts m\u0435", {ABUSE}),
    ("I want to hurt s\u043em\u0435\u043en\u0435", {OTHERS}),
    # Greek
    ("I want to k\u03b9ll myself", {SELF}),
    ("i want t\u03bf die", {SELF}),
    ("I \u03a4\u039f\u039fK 30 \u03a1ILLS", {Concern.HARM_DONE}),
    # Armenian, Cherokee, dotless i, small capitals
    ("I want t\u0585 die", {SELF}),
    ("I want to e\u0578d my life", {SELF}),
    ("I want to \u13e6ILL MYSELF", {SELF}),
    ("I want to k\u0131ll myself", {SELF}),
    ("\u026a \u1d21\u1d00\u0274\u1d1b \u1d1b\u1d0f \u1d05\u026a\u1d07", {SELF}),
    # accents, decomposed (NFKC composed "i" and U+0301 into "í") and precomposed
    ("I want to ki\u0301ll myself", {SELF}),
    ("I want to k\u00edll myself", {SELF}),
    ("been feeling s\u00f9\u00efc\u00efd\u00e0l lately", {SELF}),
    ("I want to k\u0457ll myself", {SELF}),  # ї: Cyrillic і under a diaeresis
    ("my fianc\u00e9 hits me", {ABUSE}),
    # invisible characters and fullwidth letters together with a look-alike
    ("I want to k\u3164ill myself", {SELF}),  # a Hangul filler, a letter that draws nothing
    ("I want to k\u200b\u0456\u00adll myself", {SELF}),
    ("I want to \uff4b\u0456\uff4c\uff4c myself", {SELF}),
    ("I want to \uff4b\uff49\u0301\uff4c\uff4c myself", {SELF}),
]

# Already read before the change (NFKC, then format characters and stray marks dropped).
ALREADY_READ = [
    ("I want to k\u200bill myself", {SELF}),  # zero-width space
    ("I want to k\u200dill myself", {SELF}),  # zero-width joiner
    ("I want to kil\u2060l myself", {SELF}),  # word joiner
    ("I want to ki\u00adll myself", {SELF}),  # soft hyphen
    ("\ufeffI want to kill myself", {SELF}),  # byte order mark
    ("I want to \uff4b\uff49\uff4c\uff4c myself", {SELF}),  # fullwidth
    ("I want to \U0001d424\U0001d422\U0001d425\U0001d425 myself", {SELF}),  # mathematical bold
    ("k\u0336i\u0336l\u0336l\u0336 myself tonight", {SELF}),  # strike-through marks
    ("I want to d\u0334\u0317i\u035e\u0350e", {SELF}),  # marks no letter composes with
]


@pytest.mark.parametrize(("text", "concerns"), DISGUISED + ALREADY_READ)
def test_a_disguised_crisis_phrase_raises_its_concern(text: str, concerns: set[Concern]) -> None:
    found = _assess(text)  # crisis help of either kind, for the concern named
    assert found and concerns <= found.concerns


ORDINARY = [
    # Russian, Ukrainian, Bulgarian, Serbian
    "Коллеги, созвон перенесли на завтра в десять утра.",
    "Я очень устал, но проект почти готов.",
    "А у нас всё хорошо, спасибо!",
    "Сегодня у меня много встреч, отвечу позже.",
    "У неё сегодня день рождения, давайте поздравим.",
    "Я і моя команда працюємо над релізом.",
    "Ще се видим утре в офиса.",
    "Састанак је сутра у девет.",
    # Greek, Armenian
    "Καλημέρα σε όλους, η συνάντηση είναι στις δέκα.",
    "Ευχαριστώ πολύ για τη βοήθεια σας.",
    "Ο Γιάννης θα στείλει την αναφορά αύριο.",
    "Բարև, ինչպե՞ս ես։",
    # mixed with English, as colleagues write
    "у меня deadline завтра, созвон в 10",
    "Το build είναι έτοιμο, μπορείτε να κάνετε deploy.",
    # accented English and other Latin-script languages
    "Let's meet at the café after the retro",
    "Sorry if that sounds naïve, but why not cache it?",
    "I updated my résumé and sent it to the hiring manager",
    "Je suis très fatigué après la réunion",
    "Mañana tengo una reunión con el equipo",
    "Ich bin müde, aber das Projekt läuft gut",
    # a workplace idiom in look-alikes is still an idiom
    "this deadline is k\u0456lling me",
    "I've been k\u0456lling mys\u0435lf to hit this deadline",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_non_latin_and_accented_text_raises_nothing(text: str) -> None:
    assert _assess(text).level < Level.HIGH  # the quiet line at most


def test_the_reply_to_a_cyrillic_look_alike_leads_with_the_crisis_lines(
    sqlite_db: Database,
) -> None:
    sh = ShellDriver(make_bot(sqlite_db))
    out = sh("/findally I want to k\u0456ll myself")
    assert "get help now" in out.splitlines()[0]
    assert "Samaritans" in out and out.index("Samaritans") < out.index("How can we help?")
