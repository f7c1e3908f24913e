"""Rate limits per person, kind and clear (issue 12): applications and anonymous feedback.

Shell on SQLite and PostgreSQL, and feedback over signed Slack HTTP into the real Bolt app. The
injected clock moves past each window to show the limit lifts. START is Monday 2 March 2026
10:00 UTC (10:00 in London too); app.yaml allows 3 applications in 30 days, and 5 comments a
clock hour and 20 a day.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlmodel import select

from bot.config import Coordinators
from storage.models import Application, Conversation, Feedback, RateCount
from tests.conftest import ShellDriver, make_bot
from tests.slack_harness import run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_ally_lifecycle import apply_as
from tests.test_apply import replay
from tests.test_slack import _profile

FINN = "[bot -> finn, DM] "
WAITING = "[bot -> #coordinators] A new application to become an ally is waiting."
COPY_TO_CASEY = "[bot -> casey, DM] Application to become an ally: Finn"
WITHDRAWN = "An application to become an ally has been withdrawn by the applicant."
TOO_MANY_APPLICATIONS = (
    f"{FINN}You have sent 3 applications to become an ally in the last 30 days, so a new one "
    "cannot be started just now: each one goes to every coordinator to read. You are welcome to "
    "apply again from 02 April 2026. If you would like to talk about becoming an ally before "
    "then, you can message one of the ally coordinators (Casey) directly.\n"
)
PRIVACY_NOTICE = f"{FINN}Before you start: what happens to your answers"
THANKS = "Thank you. Your comment is saved without your name"
OVER_HOUR = (
    "Thank you for taking the time to write. To keep feedback fair, each person can leave up to "
    "5 comments an hour, so this one was not saved. You can send more from {time}."
)
OVER_DAY = (
    "Thank you for taking the time to write. To keep feedback fair, each person can leave up to "
    "20 comments a day, so this one was not saved. You can send more tomorrow."
)


def applications(sh: ShellDriver) -> list[Application]:
    with sh.bot.db.session() as session:
        return list(session.exec(select(Application).order_by(Application.id)))


def drafts(sh: ShellDriver) -> list[Conversation]:
    with sh.bot.db.session() as session:
        return list(session.exec(select(Conversation)))


def comments(bot) -> int:
    with bot.db.session() as session:
        return len(session.exec(select(Feedback)).all())


def counts(bot) -> list[RateCount]:
    with bot.db.session() as session:
        return list(session.exec(select(RateCount)))


# --- applications ------------------------------------------------------------------------------
def test_sending_and_withdrawing_over_and_over_stops_at_three_and_lifts_after_30_days(sh):
    """Finn sends and withdraws, again and again. The third application comes back for more
    information and is sent again: the same application, counted once, and the coordinators
    hear of its return once even when the send is pressed twice (a real applicant is not held
    back). Withdrawn too, the fourth try is told kindly and at once, before any question, when
    Finn can apply again and whom to talk to; nothing is started. The day named is the day it
    lifts."""
    out = "".join(apply_as(sh) + sh("/allyapply withdraw") for _ in range(2))
    out += apply_as(sh)
    sh("/as casey", "/press Ask for more information")
    sh("/as finn", "/press Update my application")
    [submit] = [b for b in sh.shell.latest[sh.shell.persona.id] if b.label == "Send my application"]
    again = sh("/press Send my application")
    assert "Thank you, your application is on its way to the coordinators." in again
    assert again.count("[bot -> #coordinators] An application has come back") == 1
    assert again.count(COPY_TO_CASEY) == 1
    replayed = replay(sh, submit)  # the same press again, as a fresh click
    assert "#coordinators" not in replayed and "casey" not in replayed
    out += sh("/allyapply withdraw")
    assert out.count(WAITING) == 3 and out.count(COPY_TO_CASEY) == 3
    assert out.count(f"[bot -> #coordinators] {WITHDRAWN}") == 3
    assert out.count(f"[bot -> casey, DM] {WITHDRAWN}") == 3
    assert [a.status for a in applications(sh)] == ["withdrawn"] * 3

    for way_in in ("/allyapply", "apply", "Become an ally!"):
        assert sh(way_in) == TOO_MANY_APPLICATIONS
    assert drafts(sh) == [] and len(applications(sh)) == 3

    sh.bot.clock.advance(timedelta(days=29, hours=23, minutes=59))
    assert sh("/allyapply").startswith(TOO_MANY_APPLICATIONS)  # (awareness posts follow)
    sh.bot.clock.advance(timedelta(minutes=1))  # 1 April, 10:00: the first leaves the window
    out = sh("/allyapply")
    assert out.startswith(PRIVACY_NOTICE) and "You have sent" not in out


# --- feedback, shell ---------------------------------------------------------------------------
def test_feedback_stops_at_five_an_hour_and_twenty_a_day_and_counts_name_nobody(sh):
    """Five comments a clock hour, then a kind refusal saying when, with nothing kept; the next
    hour it lifts. Twenty in a day, then "tomorrow", and the next day it lifts. The counts hold
    no person and no comment, and go when their window ends."""
    said = [sh("/as gus", f"/allyfeedback comment {n}") for n in range(4)]
    assert "Send it anonymously" in sh("feedback: the lifts are slow")  # offered, not kept
    said.append(sh("/allyfeedback comment 4"))
    assert all(f"[bot -> gus, only you] {THANKS}" in out for out in said)
    out = sh("/press Send it anonymously")  # the fifth came first: this one is one too many
    assert OVER_HOUR.format(time="11:00") in out and "“the lifts are slow”" in out
    out = sh("/allyfeedback one too many")
    assert out.splitlines() == [
        f"[bot -> gus, only you] {OVER_HOUR.format(time='11:00')} If something needs a "
        "coordinator now, you can write to one directly, and if something is on your mind, an "
        "ally can listen.",
        "[bot -> gus, only you]   (Your comment, so you can keep it for later: “one too many”)",
    ]
    assert comments(sh.bot) == 5
    # The DM way is refused before anything is offered: no "Send it anonymously" button.
    out = sh("feedback: and another")
    assert OVER_HOUR.format(time="11:00") in out and "Send it anonymously" not in out
    # Someone else is not held back by Gus.
    assert THANKS in sh("/as hana", "/allyfeedback mine")
    assert comments(sh.bot) == 6

    # The counts: a digest of person and window, a number and when it ends. Nothing else.
    assert set(RateCount.model_fields) == {"key", "count", "ends_at"}
    rows = counts(sh.bot)
    assert sorted(r.count for r in rows) == [1, 1, 5, 5]  # gus's and hana's hour and day
    assert all(re.fullmatch(r"feedback:[0-9a-f]{32}", r.key) for r in rows)

    for hour in ("11:00", "12:00", "13:00"):
        out = sh("/wait 1h", "/as gus", *(f"/allyfeedback {hour} {n}" for n in range(5)))
        assert out.count(THANKS) == 5, hour
    assert comments(sh.bot) == 21
    out = sh("/wait 1h", "/as gus", "/allyfeedback the twenty-first")  # 14:00
    assert OVER_DAY in out and comments(sh.bot) == 21
    # Refused by the day, the new hour's count was undone with it.
    assert sorted(r.count for r in counts(sh.bot) if r.count) == [1, 20]  # hana's day, gus's

    out = sh("/wait 10h", "/as gus", "/allyfeedback a new day")  # Tuesday 00:00
    assert THANKS in out and comments(sh.bot) == 22
    assert sorted(r.count for r in counts(sh.bot)) == [1, 1]  # Monday's counts are gone


# --- feedback, Slack ---------------------------------------------------------------------------
def test_feedback_over_slack_is_refused_privately_past_five_and_lifts_the_next_hour(sqlite_db):
    """Signed /allyfeedback slash commands: the sixth in an hour is answered only to Eve, with
    the time it lifts, nothing is posted anywhere, and after the hour a comment is kept."""
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(
            people=["slack:UCASEY"], channel="coordinators", notify_by_dm=True
        ),
    )
    standin = SlackStandIn(
        users={
            "UEVE": _profile("Eve", "eve@example.com"),
            "UCASEY": _profile("Casey", "casey@example.com"),
        }
    )

    async def said_to_eve(h, text: str) -> str:
        """What Eve is shown for one /allyfeedback: the ack, and any reply after it."""
        start = len(standin.calls)
        status, body = await h.command("UEVE", text, name="/allyfeedback")
        assert status == 200
        shown = [text_of(body["blocks"])] if body.get("blocks") else []
        shown += [
            text_of(c.args["blocks"])
            for c in standin.calls[start:]
            if c.method.startswith("respond:") and c.args.get("blocks")
        ]
        return "\n".join(shown)

    async def scenario(h):
        first = [await said_to_eve(h, f"the night shift needs more allies {n}") for n in range(5)]
        over = await said_to_eve(h, "and the canteen closes too early")
        bot.clock.advance(timedelta(minutes=59, seconds=59))
        still = await said_to_eve(h, "one second early")
        bot.clock.advance(timedelta(seconds=1))
        later = await said_to_eve(h, "thank you for the quiet room")
        return first, over, still, later

    first, over, still, later = asyncio.run(run(bot, standin, scenario))
    assert all(THANKS in shown for shown in first)
    assert OVER_HOUR.format(time="11:00") in over and THANKS not in over
    assert "and the canteen closes too early" in over  # handed back, to keep
    assert OVER_HOUR.format(time="11:00") in still
    assert THANKS in later
    assert comments(bot) == 6
    assert not standin.called("chat.postMessage")  # nothing to a channel or a coordinator
