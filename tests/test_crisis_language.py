"""Crisis language by concern: the detector on its own, the reply that leads with the right
resources for the person's region (through the real shell), and the resources every region
must have. The measure on text nobody wrote for it is tests/test_crisis_corpus.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handlers.content import CONTENT_DIR, load_content
from handlers.safety import Concern, Level
from handlers.safety import assess as _assess
from handlers.yamlfile import ProblemsFound
from tests.conftest import ShellDriver, make_bot


def raised(text: str) -> frozenset[Concern]:
    """The concerns an emergency-first reply leads with; empty if it is not one."""
    found = _assess(text)
    return found.concerns if found.level == Level.HIGH else frozenset()


SELF, OTHERS, ABUSE = Concern.SELF, Concern.OTHERS, Concern.ABUSE

RAISED = [
    ("I want to kill myself", {SELF}),
    ("i want to kill my self", {SELF}),
    ("I'm going to killmyself tonight", {SELF}),
    ("honestly i just wanna die", {SELF}),
    ("I want to... die", {SELF}),
    ("<!channel> I want to end my life", {SELF}),
    ("been feeling suicdal lately", {SELF}),
    ("I don’t want to be here anymore", {SELF}),
    ("they'd all be better off if I was dead", {SELF}),
    ("I have a plan.", {SELF}),
    ("ugh kms fr", {SELF}),
    ("I   WANT   to    DIE", {SELF}),
    ("su\u200bicidal", {SELF}),
    ("\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f \uff44\uff49\uff45", {SELF}),
    ("my colleague told me he wants to kill himself", {Concern.SOMEONE_ELSE}),
    ("i od'd last night", {SELF}),
    ("I took 30 pills", {Concern.HARM_DONE}),
    ("i've swallowed a bottle of paracetamol", {Concern.HARM_DONE}),
    ("I already cut", {SELF}),
    ("this is goodbye", {SELF}),
    ("tell my kids I love them", {SELF}),
    ("ive been stockpiling my meds", {SELF}),
    ("i dnt want 2 live anymore", {SELF}),
    ("I want to hurt someone", {OTHERS}),
    ("I want to kill my manager", {OTHERS}),
    ("I'm going to hurt him", {OTHERS}),
    ("im scared ill hurt my baby", {OTHERS}),
    ("my husband hits me", {ABUSE}),
    ("I'm scared to go home", {ABUSE}),
    ("he said he'd kill me if I told anyone", {ABUSE}),
    ("MY BF SLAPPED ME", {ABUSE}),
    ("my partner hits me and I want to die", {SELF, ABUSE}),
    ("I want to hurt him and then kill myself", {SELF, OTHERS}),
]

EVERYDAY = [
    "",
    "   \n\t ",
    "this deadline is killing me",
    "I've been killing myself to hit this deadline",
    "shoot me an email",
    "I could murder a coffee",
    "dying to see the results",
    "kill the process and restart it",
    "the build is dead",
    "hang on",
    "cut the cord",
    "drop dead gorgeous slides",
    "my manager will kill me if this is late",
    "slit the envelope open",
    "I ran 10 kms this morning",
    "I'm going to die of boredom in this meeting",
    "I'd rather die than sit through another stand-up",
    "Taking that role would be career suicide",
    "I'm thinking about ending things with my partner",
    "I have a plan for the migration",
    "my husband beat me at scrabble",
    "she hit me up on Teams",
    "I could kill for a coffee",
    "I don't want to live in London any more",
    "the ally training on suicide prevention was really good",
]


@pytest.mark.parametrize(("text", "concerns"), RAISED)
def test_raises_the_concerns_it_should(text: str, concerns: set[Concern]) -> None:
    found = _assess(text)  # crisis help of either kind, for the concern named
    assert found and concerns <= found.concerns


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_language_raises_nothing(text: str) -> None:
    assert _assess(text).level < Level.HIGH  # the quiet line at most


def test_markup_and_entities_are_read_as_text() -> None:
    assert {SELF} <= raised("<p>*I   want to <b>kill</b> myself*</p>")
    assert {SELF} <= raised("I don&#39;t want to live anymore")
    assert {ABUSE} <= raised("my husband &lt;b&gt;hits&lt;/b&gt; me")


def _filler(length: int) -> str:
    sentence = "The sprint review overran and the deadline is killing me. "
    return (sentence * (length // len(sentence) + 1))[:length]


def test_the_whole_of_a_long_text_is_read() -> None:
    for phrase in (" I want to end my life", " my husband hits me", " I'm going to hurt him"):
        text = _filler(200_000) + phrase
        assert _assess(text), phrase
    assert _assess(_filler(200_000)).level < Level.HIGH


@pytest.mark.parametrize("before", ["#" * 3_000, "word " * 598, "x" * 5_000, "é " * 1_990])
def test_a_phrase_anywhere_in_a_long_text_is_found(before: str) -> None:
    for offset in range(0, 60, 13):
        text = "a " * offset + before + " I want to die " + "# " * 50_000
        assert {SELF} <= raised(text), offset


def test_a_window_edge_does_not_change_the_meaning() -> None:
    # "killing myself to hit this deadline" is effort wherever a long text happens to be cut
    for shift in range(0, 120, 7):
        text = "x " * shift + "I've been killing myself to hit this deadline. " * 3_000
        assert _assess(text).level < Level.HIGH, shift


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        "kill " * 200_000,
        "want to " * 125_000,
        "i dont want to " * 66_000,
        "no reason to " * 77_000,
        "better if i " * 90_000,
        "my husband " * 90_000,
        "self " * 200_000,
        "!" * 1_000_000,
        " " * 1_000_000,
        "\u200b" * 1_000_000,
        "<" * 1_000_000,
        "<b>&amp;" * 125_000,
        "'" * 1_000_000,
        "i want to kill " * 66_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_a_megabyte_of_hostile_text_is_read_quickly(text: str) -> None:
    _assess(text)  # a flood is read whole, without error (bench/crisis_speed.py times it)
    assert SELF in raised(text + " I want to end my life")


# --- resources.yaml: every region has domestic abuse lines -------------------------------------
@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def test_every_region_has_abuse_lines() -> None:
    regions = load_content().resources.regions
    assert set(regions) >= {"GB", "IE", "US", "CA", "AU", "ANY"}
    assert all(region.abuse_lines for region in regions.values())
    contacts = " ".join(r.contact for region in regions.values() for r in region.abuse_lines)
    for number in ("0808 2000 247", "1800 341 900", "1-800-799-7233", "1800 737 732"):
        assert number in contacts


def test_a_region_without_abuse_lines_is_reported_at_its_line(content: Path) -> None:
    path = content / "resources.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("    abuse_lines:"))
    end = start + 1
    while lines[end].startswith("      "):
        end += 1
    text = "".join(lines[:start] + lines[end:])
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_content(content)
    found = str(caught.value)
    line = next(n for n, line in enumerate(text.splitlines(), 1) if line == "  GB:")
    assert f"content/resources.yaml:{line}: region `GB` has no `abuse_lines`" in found
    assert "fix: add `abuse_lines:`" in found
    assert "Traceback" not in found


# --- the reply, through the shell ----------------------------------------------------------------
def test_self_leads_with_the_crisis_lines_for_gb_and_us(sh):
    out = sh("/findally I keep thinking about ending it all")
    assert "get help now" in out.splitlines()[0]
    assert "Call *999*" in out or "Call 999" in out
    assert "Samaritans" in out and out.index("Samaritans") < out.index("How can we help?")
    sh("/as hana")
    out = sh("/findally i wanna die")
    assert "get help now" in out.splitlines()[0]
    assert "911" in out and "988" in out and out.index("988") < out.index("How can we help?")
    assert "Domestic" not in out.split("How can we help?")[0]


def test_abuse_leads_with_the_abuse_lines_for_gb_and_us(sh):
    out = sh("/findally my husband hits me and I'm scared to go home")
    before_choices = out.split("How can we help?")[0]
    assert "You deserve to be safe" in out.splitlines()[0]
    assert "If you are in danger right now, call 999" in before_choices
    assert "National Domestic Abuse Helpline" in before_choices
    assert "0808 2000 247" in before_choices
    assert "get help now" not in before_choices  # no suicide crisis block for this
    assert "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help" in out
    sh("/as hana")
    out = sh("my boyfriend hits me")
    assert "You deserve to be safe" in out.splitlines()[0]
    assert "call 911" in out and "1-800-799-7233" in out and "START to 88788" in out
    assert "0808 2000 247" not in out


def test_harm_to_others_leads_with_emergency_guidance_and_crisis_lines(sh):
    out = sh("/findally I want to hurt someone")
    before_choices = out.split("How can we help?")[0]
    assert "If anyone is in immediate danger, call 999" in before_choices
    assert "hurting someone" in before_choices and "Samaritans" in before_choices
    sh("/as hana")
    out = sh("I'm going to hurt him")
    assert "If anyone is in immediate danger, call 911" in out and "988" in out


def test_two_concerns_get_both_blocks_and_the_crisis_lines_once(sh):
    out = sh("my partner hits me and I want to die")
    lines = out.splitlines()
    assert "get help now" in lines[0]
    assert "Samaritans" in out and "National Domestic Abuse Helpline" in out
    out = sh("I want to hurt him and then kill myself")
    assert out.count("Samaritans") == 1
    assert "The lines above can help with this too." in out


def test_everyday_idioms_add_nothing(sh):
    for line in (
        "/findally this deadline is killing me",
        "shoot me an email when you're free",
        "/findally my manager will kill me if this is late",
    ):
        out = sh(line)
        assert "get help now" not in out and "deserve to be safe" not in out, line
        assert "immediate danger" not in out, line


def test_a_crisis_phrase_after_ten_thousand_characters_is_read(sh):
    long = _filler(12_000)
    out = sh(f"/findally {long} I want to end my life")
    assert "get help now" in out.splitlines()[0]
    assert "How can we help?" in out  # the normal path goes on
    out = sh(f"{long} my husband hits me")
    assert "You deserve to be safe" in out.splitlines()[0]
    assert long[:200] not in out  # the text itself is never echoed
    out = sh(f"/findally {long}")
    assert "get help now" not in out


def test_button_presses_are_not_read_for_crisis_language(sh):
    sh("/findally")
    out = sh("/press Just show me resources")
    assert "get help now" not in out


def test_a_questionnaire_answer_gets_the_crisis_block_and_the_questionnaire_goes_on(sh):
    me = "[bot -> finn, DM] "
    sh("/as finn", "/allyapply", "/press I understand, let's start", "/press 1")
    sh("Analyst", "/press 1", "finn@example.com")
    out = sh("honestly some days I want to die")
    lines = out.splitlines()
    assert "get help now" in lines[0]
    assert "Samaritans" in out
    assert f"{me}Saved." in out
    assert "Question 6 of 8" in out
    assert out.index("Samaritans") < out.index("Question 6 of 8")


def test_urgent_help_and_resources_show_the_abuse_lines(sh):
    out = sh("/findally", "/press I need urgent help")
    assert "Samaritans" in out and "Not safe at home?" in out and "0808 2000 247" in out
    out = sh("/resources")
    assert "Not safe at home?" in out and "Men's Advice Line" in out
    sh("/as hana")
    out = sh("/resources")
    assert "1-800-799-7233" in out and "0808 2000 247" not in out


def test_crisis_resources_lead_even_when_handling_the_message_fails(sqlite_db):
    sh = ShellDriver(make_bot(sqlite_db))
    with sqlite_db.engine.begin() as conn:  # /findally can no longer read requests
        conn.exec_driver_sql("DROP TABLE supportrequest")
    out = sh("/findally I want to end my life").splitlines()
    assert "get help now" in out[0] and out[0].startswith("[bot -> eve, only you]")
    assert any("Call 999" in line for line in out)
    assert any("something went wrong" in line for line in out)
