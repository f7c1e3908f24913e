"""An ally reaching the coordinators (issue #10): from the hand-off messages, App Home, a check-in
or a DM keyword, through one path. Coordinators learn which ally wants to talk and nothing about
anyone the ally supports; the ally learns what happens next. Through the real shell on SQLite
and PostgreSQL, and through the real Bolt app for Slack."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlmodel import select

from bot.config import Coordinators
from bot.events import Action, Actor
from bot.messages import Buttons
from handlers.allies import import_roster, parse_roster
from storage.models import AuditLog, Person, Timer
from tests.conftest import ShellDriver, make_bot
from tests.slack_harness import button, last_reply, run, text_of
from tests.slack_standin import SlackStandIn

ASKED = (
    "Ali, one of the allies, would like to talk to a coordinator. Please contact them "
    "directly, within a working day if you can. They will tell you what it is about; the bot "
    "passes on nothing else."
)
TOLD = (
    "I have let the coordinators know. One of them will contact you directly, usually within "
    "a working day. You do not need to write anything here."
)
ALREADY = "The coordinators already know that you would like to talk, so I have not told them"
DANGER = "If anyone is in immediate danger, do not wait for a coordinator: call 999 now."
# A non-ally asking for a coordinator may be worried about someone, or themselves: they are
# shown the ways to an ally and urgent help instead.
ALLIES_ONLY = "Reaching the coordinators this way is for allies."
CHOICES = "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help"
ALLIES_ONLY = "Reaching the coordinators this way is for allies."
SHARED_BUTTON = "For the ally: talk to a coordinator"
ALLY_BUTTON = "I'm worried about someone / I need to talk to a coordinator"


# --- helpers ---------------------------------------------------------------------------------
def to(out: str, who: str) -> list[str]:
    """What `who` (a persona or `#channel`) was sent, without the prefix."""
    prefixes = (f"[bot -> {who}, ", f"[bot -> {who}]")
    return [line.split("] ", 1)[1] for line in out.splitlines() if line.startswith(prefixes)]


def coordinators_heard(out: str) -> list[str]:
    return to(out, "casey") + to(out, "#coordinators")


def press(sh: ShellDriver, action: str, value: str, user: str) -> str:
    """Press a button as `user` with a value of our choosing; returns what was printed."""
    start = sh.buffer.tell()
    sh.shell.deliver(sh.bot.router.dispatch(Action(action, value, Actor("shell", user))))
    sh.buffer.seek(start)
    return sh.buffer.read()


def quiet_timers(sh: ShellDriver) -> list[Timer]:
    with sh.bot.db.session() as session:
        return list(session.exec(select(Timer).where(Timer.kind == "coordinator.asked")).all())


def matched(sh: ShellDriver, *prefs: str) -> str:
    """Eve asks about stress (ali is asked first) and ali accepts; returns the accept's output."""
    sh("/as eve", "/findally", "/press Talk to an ally", *prefs, "/press stress")
    return sh("/as ali", "/press Accept")


# --- the DM keywords -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "said",
    [
        "coordinator",
        "Talk to a coordinator!",
        "I'm worried about someone",
        "im worried about SOMEONE",
    ],
)
def test_an_ally_typing_a_keyword_reaches_the_coordinators_by_dm_only(sh, said):
    out = sh("/as ali", said)
    assert to(out, "casey") == [ASKED]
    assert to(out, "#coordinators") == []  # a name never goes to the channel
    told = to(out, "ali")
    assert told[:2] == [TOLD, DANGER]
    # Nobody spoke of danger: one line and the urgent-help button, not the crisis block.
    assert not any("get help now" in line for line in told)
    assert "[1] I need urgent help" in told
    assert all("DM" not in line for line in out.splitlines() if "-> ali" in line)  # only you


def test_a_keyword_inside_a_longer_message_is_not_taken_as_one(sh):
    out = sh("/as ali", "my coordinator said hello")
    assert coordinators_heard(out) == []
    assert quiet_timers(sh) == []


def test_someone_who_is_not_an_ally_is_shown_how_to_help_and_nobody_is_told_yet(sh):
    out = sh("/as eve", "I'm worried about someone")
    said = to(out, "eve")
    assert said[0].startswith("Worried about a colleague?")
    assert "[1] Talk to an ally  [2] Talk to a coordinator  [3] I need urgent help" in said
    assert coordinators_heard(out) == []  # only when they press, sharing their own name
    assert quiet_timers(sh) == []


def test_an_applicant_answering_coordinator_is_answering_the_question(sh):
    sh("/as finn", "apply", "/press 1", "/press 1")  # consent, keep the name: job title next
    out = sh("Coordinator")
    assert "Saved." in to(out, "finn")
    assert coordinators_heard(out) == []


def test_paused_and_onboarding_allies_can_reach_the_coordinators_too(sh):
    sh("/as casey", "/allyadmin pause bo")
    out = sh("/as bo", "talk to a coordinator")
    assert to(out, "casey") == [ASKED.replace("Ali", "Bo")]
    assert to(out, "bo")[0] == TOLD


def test_asking_again_within_the_hour_tells_the_coordinators_once(sh):
    first = sh("/as ali", "coordinator")
    again = sh("worried about someone") + press(sh, "care:coordinator", "", "ali")
    assert to(first, "casey") == [ASKED]
    assert coordinators_heard(again) == []
    assert [line for line in to(again, "ali") if line.startswith(ALREADY)] != []
    assert len(to(again, "ali")) == 2 * len(to(first, "ali"))  # same advice, danger line too
    assert len(quiet_timers(sh)) == 1
    out = sh("/wait 61m", "coordinator")  # the window has passed: a new request is news
    assert to(out, "casey") == [ASKED]


def test_one_ally_asking_does_not_quiet_another(sh):
    sh("/as ali", "coordinator")
    out = sh("/as cam", "coordinator")
    assert to(out, "casey") == [ASKED.replace("Ali", "Cam")]


def test_with_no_coordinator_to_dm_the_ally_is_told_plainly(db):
    bot = make_bot(db, coordinators=Coordinators(people=[], channel="coordinators"))
    sh = ShellDriver(bot)
    out = sh("/as ali", "coordinator")
    assert to(out, "ali")[0].startswith("No coordinator can be reached through the bot yet")
    assert to(out, "#coordinators") == []
    assert quiet_timers(sh) == []


# --- the hand-off messages -------------------------------------------------------------------
def test_the_group_dm_button_tells_the_coordinators_about_the_ally_only(sh):
    out = matched(sh)
    intro = to(out, "eve+ali")
    assert intro[-1] == f"[1] Mark as finished  [2] {SHARED_BUTTON}"
    out = sh(f"/press {SHARED_BUTTON}")
    assert to(out, "casey") == [ASKED]
    heard = " ".join(coordinators_heard(out))
    assert "Eve" not in heard and "stress" not in heard and "request" not in heard.lower()
    assert to(out, "eve") == [] and to(out, "eve+ali") == []  # the requester sees nothing
    assert to(out, "ali")[0] == TOLD


def test_the_requester_pressing_the_shared_button_is_answered_plainly(sh):
    matched(sh)
    sh("/as eve")
    out = sh(f"/press {SHARED_BUTTON}")
    lines = out.splitlines()
    assert lines[0].startswith(f"[bot -> eve, only you] {ALLIES_ONLY}")
    assert lines[1] == f"[bot -> eve, only you] {CHOICES}"
    assert all(line.startswith("[bot -> eve, only you]") for line in lines)  # nobody else
    assert quiet_timers(sh) == []


def test_the_anonymous_hand_off_to_the_ally_carries_the_button(sh):
    out = matched(sh, "/press Stay anonymous")
    ally = to(out, "ali")
    assert ally[-1] == f"[1] End conversation  [2] {ALLY_BUTTON}"  # the relay (test_relay.py)
    out = sh(f"/press {ALLY_BUTTON}")
    assert to(out, "casey") == [ASKED]
    assert "Eve" not in " ".join(coordinators_heard(out))


def test_the_check_in_button_uses_the_same_path(sh):
    sh("/as ali", "coordinator")
    out = press(sh, "care:coordinator", "", "ali")  # as from a check-in, within the hour
    assert coordinators_heard(out) == []
    assert to(out, "ali")[0].startswith(ALREADY)


def test_app_home_offers_the_button_to_allies_only(bot):
    def labels(user: str) -> list[str]:
        view = bot.router.home(Actor("shell", user))
        return [
            b.label for block in view.blocks if isinstance(block, Buttons) for b in block.buttons
        ]

    assert ALLY_BUTTON in labels("ali")
    assert ALLY_BUTTON not in labels("eve")


@pytest.mark.parametrize("value", ["", "<!channel>", "9" * 5000, "1"])
def test_hostile_values_change_nothing_for_others(sh, value):
    out = press(sh, "care:coordinator", value, "eve")
    assert out.splitlines()[0].startswith(f"[bot -> eve, only you] {ALLIES_ONLY}")
    assert all(line.startswith("[bot -> eve, only you]") for line in out.splitlines())
    out = press(sh, "care:coordinator", value, "ali")  # the value is ignored: it names nobody
    assert to(out, "casey") == [ASKED]


def test_logs_and_audit_name_nobody(sh, caplog):
    caplog.set_level(logging.INFO)
    matched(sh)
    sh(f"/press {SHARED_BUTTON}", "coordinator")
    text = caplog.text
    assert "Ali" not in text and "Eve" not in text and "stress" not in text
    with sh.bot.db.session() as session:
        ali = session.exec(select(Person.id).where(Person.platform_user_id == "ali")).one()
        rows = session.exec(select(AuditLog).where(AuditLog.name == "care:coordinator")).all()
    assert [r.person_id for r in rows] == [ali]  # the ally's own act, by internal id


# --- Slack: the real Bolt app and a loopback Web API -----------------------------------------
ROSTER = """platform,user,name,department,topics,capacity
slack,UALI,Ali,Engineering,stress;workload,2
"""


def _profile(name: str) -> dict:
    return {
        "id": "x",
        "name": name.lower(),
        "tz": "Europe/London",
        "profile": {"display_name": name, "real_name": name, "email": f"{name}@example.com"},
    }


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(users={u: _profile(u[1:].title()) for u in ("UEVE", "UALI", "UCASEY")})


@pytest.fixture
def slack_bot(sqlite_db):
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(
            people=["slack:UCASEY"], channel="coordinators", notify_by_dm=True
        ),
    )
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


def test_slack_the_group_dm_button_answers_privately_and_leaves_the_message_alone(
    slack_bot, standin
):
    async def scenario(h):
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "stress"), ephemeral=True)
        offer = standin.called("chat.postMessage")[-1]
        await h.press(
            "UALI",
            button(offer["blocks"], "Accept"),
            channel="DUALI",
            message_blocks=offer["blocks"],
        )
        intro = [c for c in standin.called("chat.postMessage") if c["channel"] == "GUALI_UEVE"]
        assert len(intro) == 1
        shared = button(intro[0]["blocks"], SHARED_BUTTON)
        assert shared["action_id"].startswith("care:coordinator")
        before = len(standin.calls)
        await h.press("UALI", shared, channel="GUALI_UEVE", message_blocks=intro[0]["blocks"])
        ally_press = standin.calls[before:]
        before = len(standin.calls)
        await h.press("UEVE", shared, channel="GUALI_UEVE", message_blocks=intro[0]["blocks"])
        return ally_press, standin.calls[before:]

    ally_press, eve_press = asyncio.run(run(slack_bot, standin, scenario))
    posts = [c.args for c in ally_press if c.method == "chat.postMessage"]
    assert [p["channel"] for p in posts] == ["DUCASEY"]  # one DM, to the coordinator only
    assert "Ali, one of the allies, would like to talk" in text_of(posts[0]["blocks"])
    assert "Eve" not in str(posts[0]) and "stress" not in str(posts[0])
    replies = [c.args for c in ally_press if c.method.startswith("respond:")]
    assert len(replies) == 1 and replies[0]["response_type"] == "ephemeral"
    assert TOLD in text_of(replies[0]["blocks"]) and "999" in text_of(replies[0]["blocks"])
    # The shared message keeps its buttons: nothing shows the requester that the ally asked.
    assert not [c for c in ally_press + eve_press if c.method == "chat.update"]
    # The requester pressing it is answered only to her, and nobody is told anything.
    assert not [c for c in eve_press if c.method == "chat.postMessage"]
    eve_replies = [c.args for c in eve_press if c.method.startswith("respond:")]
    assert len(eve_replies) == 1
    assert text_of(eve_replies[0]["blocks"]).startswith(ALLIES_ONLY)
