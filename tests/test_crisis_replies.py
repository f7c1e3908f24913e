"""Replies that fit the situation, through the real shell: each kind of danger leads with its
own guidance and lines for the person's region, nothing invites a person in crisis to become an
ally, and no crisis block appears where nobody spoke of danger. Direct messages reach the path
they ask for (handlers/intents.py)."""

from __future__ import annotations

import pytest

from tests.conftest import ShellDriver

CHOICES = "How can we help?"


def _lead(out: str) -> str:
    """What comes before the reply's own words: the lead."""
    return out.split(CHOICES)[0] if CHOICES in out else out


def test_what_the_person_typed_after_findally_is_read_and_only_that(sh: ShellDriver) -> None:
    out = sh("/findally standing on the bridge right now")
    assert "get help now" in out.splitlines()[0]
    assert "Samaritans" in _lead(out)
    assert "get help now" not in sh("/findally")


def test_harm_already_done_says_go_now_even_if_you_feel_fine(sh: ShellDriver) -> None:
    out = _lead(sh("/findally i took 30 paracetamol an hour ago but i feel fine"))
    assert "get medical help now, even if you feel fine" in out
    assert "Call *999*" in out or "Call 999" in out
    assert "if you might act on thoughts" not in out


def test_someone_else_in_danger_speaks_to_the_writer_as_the_helper(sh: ShellDriver) -> None:
    out = _lead(sh("my flatmate just texted me goodbye and said she took all her pills"))
    assert "If someone else is in danger right now" in out
    assert "Stay with them if it is safe for you" in out
    assert "Samaritans" in out


@pytest.mark.parametrize(
    ("text", "heading", "line"),
    [
        (
            "my boyfriend keeps hitting my little girl and i dont know what to do",
            "If a child is in danger right now",
            "NSPCC",
        ),
        (
            "he raped me at the christmas party and i cant tell anyone",
            "What happened is not your fault",
            "Rape Crisis",
        ),
        (
            "i havent eaten in five days and i fainted at work this morning",
            "medical emergencies",
            "Beat",
        ),
        (
            "the voices are telling me i have to hurt myself tonight",
            "If voices or thoughts are telling you",
            "Samaritans",
        ),
    ],
)
def test_each_danger_has_its_own_guidance_and_lines(
    sh: ShellDriver, text: str, heading: str, line: str
) -> None:
    out = _lead(sh(text))
    assert heading in out
    assert line in out


def test_a_crisis_dm_is_never_answered_with_an_invitation_to_become_an_ally(
    sh: ShellDriver,
) -> None:
    out = sh("i dont want to be alive anymore")
    assert "get help now" in out.splitlines()[0]
    assert "become an ally" not in out
    assert "Apply to become an ally" not in out
    assert "Apply to become an ally" in sh("hi, how does this work?")


def test_distress_sent_as_feedback_gets_help_first_and_is_not_filed(sh: ShellDriver) -> None:
    out = sh("/allyfeedback nobody would notice if i was gone, i have the pills ready")
    assert "get help now" in out.splitlines()[0]
    assert "Samaritans" in _lead(out)
    assert "Send this to the coordinators as anonymous feedback?" in out
    assert "Your comment is saved" not in out
    assert "nothing was saved" in sh("/press No, that was not feedback")


def test_a_press_to_reach_a_coordinator_shows_no_crisis_block(sh: ShellDriver) -> None:
    out = sh("/as ali", "/allystatus", "talk to a coordinator")
    assert "If anyone is in immediate danger" in out
    assert "get help now" not in out
    assert "Samaritans" not in out
    assert "I need urgent help" in out  # the crisis lines stay one click away


def test_someone_worried_about_a_colleague_can_reach_a_coordinator(sh: ShellDriver) -> None:
    out = sh("/as finn", "I'm worried about my colleague, he's been talking about ending it")
    assert "Samaritans" in out
    assert "Talk to a coordinator" in out and "Talk to an ally" in out
    out = sh("/press Talk to a coordinator")
    assert "[bot -> casey, DM] Finn is worried about a colleague" in out
    assert "I have told the coordinators your name" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "Hi, I am allybot"),
        ("help", "Hi, I am allybot"),
        ("what is an ally?", "They are not counsellors or therapists"),
        ("I want to talk to someone", "You can talk to an ally now"),
        ("can I speak to someone", "You can talk to an ally now"),
        ("EAP", "Support your organisation offers"),
        ("mental health day", "A day for your mental health"),
        ("I'm worried about a colleague", "Worried about a colleague?"),
        ("how do I become an ally", "Would you like to become an ally?"),
        ("stop messaging me", "I message you about what you start with me"),
        ("thanks!", "You are welcome"),
    ],
)
def test_a_direct_message_reaches_the_path_it_asks_for(
    sh: ShellDriver, text: str, expected: str
) -> None:
    out = sh("/as finn", text)
    assert expected in out
    assert "get help now" not in out


def test_crisis_words_with_a_request_open_mark_it_and_its_offers_say_so(sh: ShellDriver) -> None:
    for ally in ("ali", "bo", "cam", "eli"):
        sh(f"/as {ally}", "/allystatus away")
    sh("/as finn", "/findally", "/press 1", "/press Any ally")  # waiting: nobody is free
    out = sh("/findally i cant keep myself safe tonight")
    assert "get help now" in out.splitlines()[0]
    assert "none of your words are shared" in out and "I need urgent help" in out
    out = sh("/as ali", "/allystatus available")
    offer = [line for line in out.splitlines() if line.startswith("[bot -> ali, DM]")]
    assert any("This colleague may need support soon" in line for line in offer), offer
    assert "keep myself safe" not in out  # never their words
