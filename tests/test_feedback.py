"""Anonymous feedback: /allyfeedback and the "feedback ..." DM, kept sealed by week only,
released to the coordinators once, in the weekly digest. SQLite and PostgreSQL.

START is Monday 2 March 2026 10:00 (London = UTC); the digest goes out on Mondays at 09:00.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.config import Coordinators
from bot.events import Actor, Command
from bot.platforms.shell.console import PLATFORM
from bot.platforms.slack.blocks import to_blocks
from handlers import feedback
from storage.models import AuditLog, Delivery, Feedback, OutboxMessage, Person
from tests.conftest import ShellDriver, make_bot

HOSTILE = "<!channel> <@U999> *bold* [x](https://evil.example)"
COMMENT = "More ally sessions for the night shift, please."
THANKS = (
    "Thank you. Your comment is saved without your name or the time you wrote it. The "
    "coordinators will read it in their weekly digest on {date}"
)


def rows(sh: ShellDriver) -> list[Feedback]:
    with sh.bot.db.session() as session:
        return list(session.exec(select(Feedback)))


def opened(sh: ShellDriver) -> list[dict]:
    return [sh.bot.router.sealer.open(row.text) for row in rows(sh)]


def lines_to(out: str, where: str) -> list[str]:
    prefix = f"[bot -> {where}] "
    return [line.removeprefix(prefix) for line in out.splitlines() if line.startswith(prefix)]


def comments_in(lines: list[str]) -> list[str]:
    """The comments of a digest as the coordinator reads them (between title and note)."""
    start = next((i for i, line in enumerate(lines) if "Anonymous comments" in line), None)
    if start is None:
        return []
    out = []
    for line in lines[start + 1 :]:
        if line.startswith("  ("):
            break
        out.append(line)
    return out


# --- writing a comment ---------------------------------------------------------------------
def test_a_comment_is_kept_sealed_by_week_with_no_name_and_the_writer_told_when(sh):
    out = sh("/as finn", f"/allyfeedback {COMMENT}")
    assert lines_to(out, "finn, only you") == [
        THANKS.format(date="Monday 09 March")
        + ", together with any others from this week, and the bot deletes it once it has been "
        "shared."
    ]
    [row] = rows(sh)
    assert row.week_of == date(2026, 3, 2)  # the Monday of the week: no day, no time
    assert COMMENT not in row.text and "finn" not in row.text.lower()  # sealed
    assert opened(sh) == [{"comment": COMMENT}]
    # nowhere to keep a person (the token is random, made for the DM path's button)
    assert set(Feedback.model_fields) == {"id", "text", "week_of", "token"}
    with sh.bot.db.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.name == "allyfeedback")).all()
    assert [(a.person_id, a.outcome) for a in audit] == [(None, "ok")]  # audited, not by whom


def outbox_words(sh) -> list[str]:
    """The words of every message row the bot still holds (sealed) in its outbox."""
    with sh.bot.db.session() as session:
        bodies = session.exec(select(OutboxMessage.body)).all()
    return [json.dumps(sh.bot.router.sealer.open(b)) for b in bodies if b]


def test_a_dm_starting_with_feedback_is_kept_once_the_writer_confirms(sh):
    out = sh("/as gus", "Feedback: the quiet room is always booked")
    assert lines_to(out, "gus, only you")[:3] == [
        "Send this to the coordinators as anonymous feedback? Your name is not kept with it.",
        "“the quiet room is always booked”",
        "[1] Send it anonymously  [2] No, that was not feedback",
    ]
    assert rows(sh) == []  # nothing is kept before the writer says so
    assert not any("quiet room" in words for words in outbox_words(sh))  # not even to send it
    out = sh("/press Send it anonymously")
    assert lines_to(out, "gus, only you")[0].startswith(THANKS.format(date="Monday 09 March"))
    out = sh("/press Send it anonymously")  # pressed again, or replayed: still one copy
    assert lines_to(out, "gus, only you") == [
        "That comment is already saved, once. Nothing more was kept."
    ]
    assert len(rows(sh)) == 1
    sh("anonymous feedback   thank you all", "/press 1")
    assert opened(sh) == [
        {"comment": "the quiet room is always booked"},
        {"comment": "thank you all"},
    ]
    with sh.bot.db.session() as session:
        audit = session.exec(select(AuditLog).where(AuditLog.name == "feedback:send")).all()
    assert [a.person_id for a in audit] == [None, None, None]  # three presses, no person
    # a word that merely starts the same, or a message about feedback, is not one
    out = sh("feedbacks are hard to give")
    assert "Send this to the coordinators" not in out and len(rows(sh)) == 2


def test_a_dm_about_feedback_that_is_not_a_comment_keeps_nothing_and_offers_an_ally(sh):
    out = sh("/as gus", "feedback from my review really upset me, can someone help")
    assert "Send this to the coordinators as anonymous feedback?" in out
    out = sh("/press No, that was not feedback")
    assert "[bot -> gus, only you] No problem: nothing was saved." in out
    assert "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help" in out
    assert rows(sh) == []


@pytest.mark.parametrize("typed", ["/allyfeedback", "/allyfeedback    ", "feedback", "FEEDBACK:"])
def test_an_empty_comment_gets_plain_help_and_nothing_is_kept(sh, typed):
    out = sh("/as finn", typed)
    [line] = lines_to(out, "finn, only you")
    assert line.startswith("Type /allyfeedback and your comment")
    assert "At most 1500 characters." in line
    assert rows(sh) == []


def test_a_huge_comment_is_refused_plainly_and_nothing_is_kept(sh):
    out = sh("/as finn", "/allyfeedback " + "x" * 1501)
    assert lines_to(out, "finn, only you") == [
        "That comment is 1501 characters long, and the most is 1500. Please shorten it and "
        "send it again. Nothing was saved."
    ]
    out = sh("/allyfeedback " + "y" * 50_000)  # cut to 10,000 on the way in; still too long
    assert "is 10000 characters long" in out
    assert rows(sh) == []
    sh("/allyfeedback " + "z" * 1500)
    assert opened(sh) == [{"comment": "z" * 1500}]


def test_a_replayed_command_keeps_one_comment(bot):
    event = Command("allyfeedback", COMMENT, Actor(PLATFORM, "finn"), event_id="Ev-feedback-1")
    first, again = bot.router.dispatch(event), bot.router.dispatch(event)
    assert first and not again
    with bot.db.session() as session:
        assert len(session.exec(select(Feedback)).all()) == 1


def test_nothing_logged_names_the_writer(sh, caplog):
    caplog.set_level(logging.DEBUG)
    with sh.bot.db.session() as session:
        finn = session.exec(select(Person).where(Person.platform_user_id == "finn")).one()
    sh("/as finn", f"/allyfeedback {COMMENT}", "feedback another one")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("finn", "Finn", COMMENT, "another one", f"person {finn.id}"):
        assert secret not in logged


def test_with_the_digest_off_comments_are_not_collected(db):
    cfg = Coordinators(people=["shell:casey"], channel="coordinators", digest="off")
    sh = ShellDriver(make_bot(db, coordinators=cfg))
    out = sh("/as finn", f"/allyfeedback {COMMENT}")
    assert lines_to(out, "finn, only you")[0].startswith("Comments are not being collected")
    assert rows(sh) == []


# --- releasing it --------------------------------------------------------------------------
def test_comments_reach_every_coordinator_once_in_the_next_weeks_digest(sh):
    sh("/as finn", f"/allyfeedback {HOSTILE}", "/as gus", f"/allyfeedback {COMMENT}")
    out = sh("/wait 7d")  # Monday 9 March 09:00: the week of 2 March has ended
    for where in ("#coordinators", "casey, DM"):
        lines = lines_to(out, where)
        assert "Anonymous comments from colleagues (2)" in lines
        # in the order of their words, not of their writing; shown exactly as typed
        assert comments_in(lines) == [f"“{HOSTILE}”", f"“{COMMENT}”"]
    # the comments themselves are gone; only the digest's sealed copy is left until it is sent
    assert [sorted(p) for p in opened(sh)] == [["comments", "digest"]]

    out = sh("/wait 7d")  # the next digest: nothing twice, and the copy is deleted
    assert out.count("Ally network: the week of 09 Mar to 16 Mar 2026") == 2
    assert "Anonymous comments" not in out and COMMENT not in out
    assert rows(sh) == []


def test_a_comment_from_the_digests_own_week_waits_for_the_next_one(sh):
    sh("/wait 6d", "/wait 22h")  # Monday 9 March 08:00, an hour before the digest
    sh("/as finn", f"/allyfeedback {COMMENT}")
    out = sh("/wait 2h")
    assert "Ally network: the week of 02 Mar" in out and "Anonymous comments" not in out
    out = sh("/wait 7d")
    assert comments_in(lines_to(out, "casey, DM")) == [f"“{COMMENT}”"]


def test_a_channel_found_public_gets_the_numbers_but_never_the_comments(db):
    cfg = Coordinators(people=["shell:casey"], channel="coordinators", notify_by_dm=True)
    sh = ShellDriver(make_bot(db, coordinators=cfg))
    sh.bot.router.counts_only = frozenset({"coordinators"})
    sh("/as finn", f"/allyfeedback {COMMENT}")
    out = sh("/wait 7d")
    channel, dm = lines_to(out, "#coordinators"), lines_to(out, "casey, DM")
    assert channel[0].startswith("Ally network: the week of")
    assert COMMENT not in "\n".join(channel) and comments_in(channel) == []
    assert comments_in(dm) == [f"“{COMMENT}”"]


def test_a_retried_post_and_a_second_scheduler_show_the_same_comments_once(db):
    bots = [make_bot(db), make_bot(db, seed=False)]  # two processes on one database
    sh = ShellDriver(bots[0])
    sh("/as finn", f"/allyfeedback {COMMENT}")
    for b in bots:
        b.clock.advance(datetime(2026, 3, 9, 9, 0, tzinfo=UTC) - b.clock.now())
        b.router.plan_calendar()
    first = bots[0].router.claim_posts()  # claims both digest posts (and renders them)
    assert len([p for p in first if "Ally network" in p.message.fallback_text()]) == 2
    assert bots[1].router.claim_posts() == []  # the other process finds nothing to send
    for post in first:
        assert post.posting is not None
        bots[0].router.posted(post.posting, sent=False)  # the platform failed: try again later
    for b in bots:
        b.clock.advance(timedelta(minutes=3))
    again = bots[1].router.claim_posts()  # the retry happens in the other process
    texts = [item.message.fallback_text() for item in again]
    assert len(texts) == 2 and all(f"“{COMMENT}”" in t for t in texts)
    for post in again:
        assert post.posting is not None
        bots[1].router.posted(post.posting, sent=True)
    with bots[0].db.session() as session:
        statuses = {d.status for d in session.exec(select(Delivery)) if d.message == "digest"}
    assert statuses == {"sent"}


def test_on_slack_a_comment_is_literal_text(sh):
    sh("/as finn", f"/allyfeedback {HOSTILE}")
    bot = sh.bot
    bot.clock.advance(datetime(2026, 3, 9, 9, 0, tzinfo=UTC) - bot.clock.now())
    bot.router.plan_calendar()
    posts = bot.router.claim_posts()
    assert len(posts) == 2
    for post in posts:
        words = json.dumps(to_blocks(post.message))
        # Rich text elements of type "text" are literal: no ping, no mention, no link
        assert json.dumps({"type": "text", "text": HOSTILE}) in words
        for kind in ("broadcast", "user", "link"):
            assert f'"type": "{kind}"' not in words


def test_the_release_date_follows_the_digest_setting(db):
    cfg = Coordinators(people=["shell:casey"], digest="friday 17:30")
    bot = make_bot(db, coordinators=cfg)
    with bot.db.session() as session:
        ctx = bot.router.context(session, bot.clock.now())
        assert f"{feedback.next_release(ctx):%a %d %b %H:%M}" == "Fri 13 Mar 17:30"
