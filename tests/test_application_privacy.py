"""Application answers never go to a channel (issue #10): the coordinators' channel hears only
that an application is waiting; a coordinator who presses Review it reads it where only they
can see it. A channel the platform found is not private gets numbers only, and coordinators are
DMed instead. Through the real shell and router, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.config import Coordinators
from bot.events import Action, Actor
from tests.conftest import ShellDriver, make_bot
from tests.test_ally_lifecycle import applications, apply_as, press, to

WAITING = (
    "[bot -> #coordinators] A new application to become an ally is waiting. Press Review it to "
    "read it: it opens where only you can see it, and only coordinators can open it."
)
REVIEW_BUTTON = "[bot -> #coordinators] [1] Review it"
# What finn typed or was prefilled with (tests.test_ally_lifecycle.apply_as).
ANSWERS = ("Analyst", "finn@example.com", "Because I care", "I listen well", "It matters")
HOSTILE = "<!channel> <@U999> *bold*"


def channel_only(db, counts_only: bool = False) -> ShellDriver:
    """Casey is told only in #coordinators (no DMs from app.yaml)."""
    coordinators = Coordinators(people=["shell:casey"], channel="coordinators", notify_by_dm=False)
    sh = ShellDriver(make_bot(db, coordinators=coordinators))
    if counts_only:  # as a platform says after finding the channel public (Slack: serve)
        sh.bot.router.counts_only = frozenset({"coordinators"})
    return sh


def assert_nothing_personal(lines: list[str]) -> None:
    for line in lines:
        for private in ("Finn", "finn", *ANSWERS, HOSTILE, "<!channel>"):
            assert private not in line, line


def app_id(sh: ShellDriver) -> str:
    return str(applications(sh)[0].id)


# --- the channel hears only that one is waiting -------------------------------------------------
def test_the_channel_is_told_an_application_is_waiting_and_nothing_else(sh):
    out = apply_as(sh, skills=HOSTILE)
    assert to(out, "#coordinators") == [WAITING, REVIEW_BUTTON]
    # casey's DM (app.yaml: notify_by_dm) is private and carries the whole application
    casey = "\n".join(to(out, "casey"))
    assert "[bot -> casey, DM] Application to become an ally: Finn · sent 02 Mar 2026" in casey
    for answer in (*ANSWERS[:3], HOSTILE, ANSWERS[4]):
        assert f"[bot -> casey, DM] {answer}" in casey
    assert "[bot -> casey, DM] [1] Approve  [2] Decline  [3] Ask for more information" in casey
    for who in ("gus", "eve", "ali"):
        assert to(out, who) == []


def test_a_coordinator_who_presses_review_reads_it_only_themselves_and_decides(db):
    sh = channel_only(db)
    out = apply_as(sh)
    assert to(out, "#coordinators") == [WAITING, REVIEW_BUTTON]
    assert to(out, "casey") == []  # no DMs in this organisation: the channel is the way in

    out = press(sh, "application:review", app_id(sh), "casey")
    lines = out.splitlines()
    assert lines and all(line.startswith("[bot -> casey, only you] ") for line in lines)
    assert lines[0] == (
        "[bot -> casey, only you] Application to become an ally: Finn · sent 02 Mar 2026"
    )
    for answer in ANSWERS:
        assert f"[bot -> casey, only you] {answer}" in lines
    assert "[bot -> casey, only you] [1] Approve  [2] Decline  [3] Ask for more information" in out
    assert applications(sh)[0].status == "pending"  # reading changes nothing

    # the buttons of the private copy decide; the channel hears who handled it, not whose it was
    out = sh("/as casey", "/press Approve")
    assert "[bot -> casey, only you] Finn's application was approved by Casey." in out
    assert to(out, "#coordinators") == [
        "[bot -> #coordinators] An application was approved by Casey. Nothing more is needed here."
    ]
    assert_nothing_personal(to(out, "#coordinators"))
    assert to(out, "finn")[0].startswith("[bot -> finn, DM] Welcome to the ally network!")
    assert applications(sh)[0].status == "approved"

    # Review it pressed again later: nothing left to read
    out = press(sh, "application:review", app_id(sh), "casey")
    assert out.splitlines() == [
        "[bot -> casey, only you] Finn's application was already approved by Casey on "
        "02 Mar 2026 10:00 UTC, so there is nothing to review."
    ]


def test_the_notice_stays_pressable_for_every_coordinator(db):
    sh = channel_only(db)
    apply_as(sh)
    pressed = Action("application:review", app_id(sh), Actor("shell", "casey"))
    out = sh.bot.router.dispatch(pressed)
    assert out.keep_pressed  # Slack leaves the shared notice's button in place
    assert {type(o.to).__name__ for o in out} == {"OnlyYou"}


@pytest.mark.parametrize("who", ["gus", "finn"])
def test_a_non_coordinator_pressing_review_is_refused_and_sees_nothing(db, who):
    sh = channel_only(db)
    apply_as(sh)
    out = press(sh, "application:review", app_id(sh), who)
    assert out.splitlines() == [
        f"[bot -> {who}, only you] Only the network's coordinators can read applications, "
        "so nothing is shown."
    ]
    outbox = sh.bot.router.dispatch(Action("application:review", app_id(sh), Actor("shell", who)))
    assert outbox.keep_pressed  # the shared notice is left alone
    assert applications(sh)[0].status == "pending"


@pytest.mark.parametrize("value", ["", "abc", "-1", "²", "999999", "1" * 2_000, "<!channel>"])
def test_review_with_a_bad_value_says_so_plainly(db, value):
    sh = channel_only(db)
    apply_as(sh)
    out = press(sh, "application:review", value, "casey")
    assert out.splitlines() == [
        "[bot -> casey, only you] That application no longer exists, so there is nothing to read."
    ]
    assert applications(sh)[0].status == "pending"


def test_a_returned_application_is_announced_without_a_name_and_reviewed_privately(db):
    sh = channel_only(db)
    apply_as(sh)
    press(sh, "application:review", app_id(sh), "casey")
    out = sh("/as casey", "/press Ask for more information")
    assert to(out, "#coordinators") == [
        "[bot -> #coordinators] An application was sent back for more information by Casey. "
        "Nothing more is needed here."
    ]
    out = press(sh, "application:review", app_id(sh), "casey")
    assert "[bot -> casey, only you]   (Waiting for the applicant to add more information.)" in out
    out = sh("/as finn", "/press Update my application", "submit")
    assert to(out, "#coordinators") == [
        "[bot -> #coordinators] An application has come back with the information a "
        "coordinator asked for. Press Review it to read it: it opens where only you can see it, "
        "and only coordinators can open it.",
        REVIEW_BUTTON,
    ]


# --- a channel that is not private: numbers only ------------------------------------------------
def test_a_channel_that_is_not_private_gets_no_notice_and_coordinators_are_dmed(db):
    sh = channel_only(db, counts_only=True)
    out = apply_as(sh)
    assert to(out, "#coordinators") == []
    casey = "\n".join(to(out, "casey"))
    assert "[bot -> casey, DM] Application to become an ally: Finn · sent 02 Mar 2026" in casey
    assert "[bot -> casey, DM] Because I care" in casey

    out = sh("/as casey", "/press Approve")
    assert "[bot -> casey, only you] Finn's application was approved by Casey." in out
    assert to(out, "#coordinators") == []


def test_alerts_go_by_dm_and_the_digest_still_goes_to_a_channel_that_is_not_private(db):
    sh = channel_only(db, counts_only=True)
    apply_as(sh)
    out = sh("/as finn", "/allyapply withdraw")
    assert to(out, "#coordinators") == []
    assert "[bot -> casey, DM] An application to become an ally has been withdrawn" in out

    out = sh("/wait 7d")
    channel = to(out, "#coordinators")
    assert channel and channel[0] == (
        "[bot -> #coordinators] Ally network: the week of 02 Mar to 09 Mar 2026"
    )
    assert_nothing_personal(channel)
    # the digest reaches casey by DM too, where anything beyond numbers may go
    assert "[bot -> casey, DM] Ally network: the week of 02 Mar to 09 Mar 2026" in out
