"""Slack and the calendar: weekly tips and the digest posted by the real Calendar through the
real Bolt app and slack_sdk client, pacing, retries, the awareness buttons, "Send now", and the
scheduler's leader lock.

The Slack Web API is the loopback stand-in; the bot's time moves only by `bot.clock.advance`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import select

from bot.config import Coordinators
from bot.platforms.pacing import Pacer
from bot.platforms.slack.blocks import action_name
from bot.scheduler import Calendar
from handlers.allies import import_roster, parse_roster
from storage.db import Database
from storage.deliveries import RETRY_AFTER
from storage.leader import Leadership
from storage.models import Delivery
from tests.conftest import START, make_bot
from tests.slack_harness import button, buttons_in, last_reply, run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import _profile, assert_valid_block_kit

ROSTER = "platform,user,name,department,topics,capacity\nslack,UALI,Ali,Engineering,stress,2\n"
TIP_TITLE = "Weekly wellbeing tip"
FIRST_TIP = "Changes in someone often say more than any single sign."
SECOND_TIP = "Working through lunch can feel efficient"
WEDNESDAY_TIP_DUE = timedelta(days=2, seconds=30)  # Mon 02 Mar 10:00 -> Wed 04 Mar 10:00:30
MONDAY_DIGEST_DUE = timedelta(days=6, hours=23, seconds=30)  # -> Mon 09 Mar 09:00:30
FINDALL_CHOICES = ["Talk to an ally", "Just show me resources", "I need urgent help"]


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UEVE": _profile("Eve", "eve@example.com"),
            "UALI": _profile("Ali", "ali@example.com"),
            "UCASEY": _profile("Casey", "casey@example.com"),
        }
    )


def slack_bot(database: Database, channel: str | None = "coordinators"):
    bot = make_bot(
        database,
        seed=False,
        coordinators=Coordinators(people=["slack:UCASEY"], channel=channel, notify_by_dm=True),
    )
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    bot.router.plan_calendar()  # the calendar counts from START, as when `serve` starts
    return bot


@pytest.fixture
def bot(db):
    return slack_bot(db)


# --- helpers -----------------------------------------------------------------------------------
def posts_to(standin: SlackStandIn, channel: str, start: int = 0) -> list[dict]:
    return [
        c.args
        for c in standin.calls[start:]
        if c.method == "chat.postMessage" and c.args["channel"] == channel
    ]


def deliveries(bot, message: str) -> list[Delivery]:
    with bot.db.session() as session:
        return list(
            session.exec(
                select(Delivery)
                .where(Delivery.message == message, Delivery.target != "task")
                .order_by(Delivery.id)
            ).all()
        )


def assert_tip_post(post: dict, words: str) -> None:
    """One awareness post as Slack gets it: valid blocks, a text fallback, the two buttons."""
    for raw in post["blocks"]:
        Block.parse(raw).validate_json()
    assert TIP_TITLE in text_of(post["blocks"]) and words in text_of(post["blocks"])
    assert TIP_TITLE in post["text"] and words in post["text"]
    found = {b["text"]["text"]: action_name(b["action_id"]) for b in buttons_in(post["blocks"])}
    assert found == {
        "Talk to an ally": "awareness:findally",
        "Support resources": "awareness:resources",
    }


async def on_the_calendar(h) -> Calendar:
    """The calendar of this process, as leader (always on SQLite, the lock on PostgreSQL)."""
    calendar = Calendar(h.bot.router, h.slack)
    await calendar.check_leader()  # catches up: nothing is due at START
    assert calendar.leader
    return calendar


class FakeTime:
    """A monotonic clock that moves only when the Pacer sleeps on it. A sleep yields to the
    loop before it ends, as a real one does, so concurrent waits can interleave."""

    def __init__(self, calls: list | None = None):
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.posted_before_sleep: list[int] = []
        self._calls = calls

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        wake = self.t + seconds
        self.sleeps.append(seconds)
        if self._calls is not None:
            self.posted_before_sleep.append(
                sum(1 for c in self._calls if c.method == "chat.postMessage")
            )
        await asyncio.sleep(0)
        self.t = max(self.t, wake)


def go(bot, standin: SlackStandIn, scenario, fake: FakeTime | None = None):
    """Run `scenario` against the real app. The platform's Pacer keeps Slack's pace on a fake
    monotonic clock (its injection point), so a second post to a channel does not wait for
    real."""
    fake = fake or FakeTime(standin.calls)

    async def paced(h):
        h.slack.pacer = Pacer(interval=1.0, clock=fake.now, sleep=fake.sleep)
        return await scenario(h)

    return asyncio.run(run(bot, standin, paced))


# --- 1. a weekly tip falls due ---------------------------------------------------------------
def test_a_weekly_tip_falls_due_and_is_posted_to_general_once(bot, standin):
    async def scenario(h):
        calendar = await on_the_calendar(h)
        try:
            assert not posts_to(standin, "#general")  # nothing is due on Monday
            bot.clock.advance(WEDNESDAY_TIP_DUE)
            await calendar.run()
            first = posts_to(standin, "#general")
            await calendar.run()
            await calendar.run()
            return first
        finally:
            calendar.stop()

    first = go(bot, standin, scenario)
    assert len(first) == 1
    posts = posts_to(standin, "#general")
    assert posts == first  # the later runs posted nothing
    assert_tip_post(posts[0], FIRST_TIP)
    (row,) = deliveries(bot, "weekly-tips")
    assert (row.target, row.tip, row.status, row.attempts) == (
        "#general",
        "notice-changes",
        "sent",
        1,
    )
    assert row.occurrence == "2026-03-04T10:00" and row.sent_at is not None
    assert_valid_block_kit(standin)


def test_the_next_week_posts_the_next_tip(bot, standin):
    async def scenario(h):
        calendar = await on_the_calendar(h)
        try:
            bot.clock.advance(WEDNESDAY_TIP_DUE)
            await calendar.run()
            bot.clock.advance(timedelta(days=7))
            await calendar.run()
        finally:
            calendar.stop()

    go(bot, standin, scenario)
    posts = posts_to(standin, "#general")
    assert len(posts) == 2
    assert_tip_post(posts[0], FIRST_TIP)
    assert_tip_post(posts[1], SECOND_TIP)
    assert [(r.tip, r.status) for r in deliveries(bot, "weekly-tips")] == [
        ("notice-changes", "sent"),
        ("protect-your-breaks", "sent"),
    ]


# --- 2. rate limits, server errors, and a failure that outlasts the retries --------------------
def test_a_rate_limit_then_a_server_error_still_posts_the_tip_once(bot, standin):
    standin.fail_next("chat.postMessage", 429, 500)

    async def scenario(h):
        calendar = await on_the_calendar(h)
        try:
            bot.clock.advance(WEDNESDAY_TIP_DUE)
            await calendar.run()
            await calendar.run()
        finally:
            calendar.stop()

    go(bot, standin, scenario)
    tried = [c.method for c in standin.calls if c.method.startswith("chat.postMessage")]
    assert tried == ["chat.postMessage!429", "chat.postMessage!500", "chat.postMessage"]
    (post,) = posts_to(standin, "#general")
    assert_tip_post(post, FIRST_TIP)
    (row,) = deliveries(bot, "weekly-tips")
    assert row.status == "sent" and row.attempts == 1  # retried inside one claim


def test_a_failure_that_outlasts_the_retries_is_sent_after_retry_after(bot, standin):
    standin.fail_next("chat.postMessage", *[500] * 10)

    async def scenario(h):
        calendar = await on_the_calendar(h)
        try:
            bot.clock.advance(WEDNESDAY_TIP_DUE)
            await calendar.run()
            failed = deliveries(bot, "weekly-tips")
            tries = len([c for c in standin.calls if c.method == "chat.postMessage!500"])
            standin.failures.clear()  # Slack is healthy again
            sent_at_once = await calendar.send_posts()
            bot.clock.advance(RETRY_AFTER)  # not yet: the retry waits more than RETRY_AFTER
            sent_at_two_minutes = await calendar.send_posts()
            await calendar.run()
            before_retry = len(posts_to(standin, "#general"))
            bot.clock.advance(timedelta(seconds=1))
            sent_later = await calendar.send_posts()
            sent_again = await calendar.send_posts()
            await calendar.run()
            return (
                failed,
                tries,
                before_retry,
                [
                    sent_at_once,
                    sent_at_two_minutes,
                    sent_later,
                    sent_again,
                ],
            )
        finally:
            calendar.stop()

    failed, tries, before_retry, sent = go(bot, standin, scenario)
    assert [(r.status, r.attempts) for r in failed] == [("failed", 1)]
    assert tries == 4  # the first try and three retries by the client, then it gives up
    assert before_retry == 0
    assert sent == [0, 0, 1, 0]
    (post,) = posts_to(standin, "#general")
    assert_tip_post(post, FIRST_TIP)
    (row,) = deliveries(bot, "weekly-tips")
    assert (row.status, row.attempts, row.tip) == ("sent", 2, "notice-changes")


# --- 3. pacing ---------------------------------------------------------------------------------
def test_pacer_spaces_posts_to_one_channel_and_not_across_channels():
    fake = FakeTime()
    pacer = Pacer(interval=1.0, clock=fake.now, sleep=fake.sleep)

    async def scenario():
        waited = []
        for _ in range(3):
            before = fake.t
            await pacer.wait("#general")
            waited.append(fake.t - before)
        t = fake.t
        for channel in ("#random", "#coordinators", "DUCASEY"):
            await pacer.wait(channel)
        others = fake.t - t
        fake.t += 5.0  # a while later, #general has had its rest
        before = fake.t
        await pacer.wait("#general")
        return waited, others, fake.t - before

    waited, others, later = asyncio.run(scenario())
    assert waited == pytest.approx([0.0, 1.0, 1.0])
    assert fake.sleeps == pytest.approx([1.0, 1.0])
    assert others == 0.0 and later == 0.0


def test_pacer_serialises_concurrent_waits_on_one_channel():
    fake = FakeTime()
    pacer = Pacer(interval=1.0, clock=fake.now, sleep=fake.sleep)

    async def stamp(channel: str) -> float:
        started = fake.t
        await pacer.wait(channel)
        return fake.t - started

    async def scenario():
        same = await asyncio.gather(*(stamp("#general") for _ in range(4)))
        sleeps_same = list(fake.sleeps)
        fake.t += 10.0
        fake.sleeps.clear()
        spread = await asyncio.gather(*(stamp(c) for c in ("#a", "#b", "#c", "DUCASEY")))
        return same, sleeps_same, spread

    same, sleeps_same, spread = asyncio.run(scenario())
    assert sorted(same) == pytest.approx([0.0, 1.0, 2.0, 3.0])  # one turn each, in order
    assert sleeps_same == pytest.approx([1.0, 1.0, 1.0])
    assert spread == [0.0] * 4 and fake.sleeps == []  # nobody waited


def test_scheduled_posts_to_one_channel_are_paced_by_the_slack_platform(bot, standin):
    fake = FakeTime(standin.calls)

    async def scenario(h):
        for item in ("weekly-tips", "time-to-talk-day"):
            status, body = await h.command("UCASEY", f"awareness send {item}", name="/allyadmin")
            assert status == 200 and "is on its way to #general" in text_of(body["blocks"])
        calendar = Calendar(bot.router, h.slack)
        await calendar.sweep()

    go(bot, standin, scenario, fake)
    posts = posts_to(standin, "#general")
    assert len(posts) == 2
    assert "Time to Talk Day" in text_of(posts[1]["blocks"])
    # Posts go out together, but the second to one channel waits its second (the first may
    # still be on its way then).
    assert fake.sleeps == pytest.approx([1.0]) and fake.posted_before_sleep in ([0], [1])
    assert [r.status for r in deliveries(bot, "time-to-talk-day")] == ["sent"]
    assert_valid_block_kit(standin)


# --- 4. the buttons under a channel post -------------------------------------------------------
async def _post_the_tip(h) -> dict:
    calendar = await on_the_calendar(h)
    try:
        h.bot.clock.advance(WEDNESDAY_TIP_DUE)
        await calendar.run()
    finally:
        calendar.stop()
    (post,) = posts_to(h.standin, "#general")
    return post


def _replies_since(standin: SlackStandIn, start: int) -> list:
    return [c for c in standin.calls[start:] if c.method.startswith("respond:")]


@pytest.mark.parametrize(
    ("label", "words", "choices"),
    [
        ("Talk to an ally", "How can we help?", FINDALL_CHOICES),
        ("Support resources", "Support for you (", []),
    ],
    ids=["talk-to-an-ally", "support-resources"],
)
def test_a_button_on_a_channel_post_answers_only_the_presser_and_leaves_the_post(
    bot, standin, label, words, choices
):
    async def scenario(h):
        post = await _post_the_tip(h)
        start = len(standin.calls)
        status = await h.press(
            "UEVE", button(post["blocks"], label), channel="CGENERAL", message_blocks=post["blocks"]
        )
        assert status == 200
        return start

    start = go(bot, standin, scenario)
    replies = _replies_since(standin, start)
    assert len(replies) == 1, [c.method for c in standin.calls[start:]]
    reply = replies[0].args
    assert reply["response_type"] == "ephemeral" and not reply["replace_original"]
    assert words in text_of(reply["blocks"]) and reply["text"]
    assert [b["text"]["text"] for b in buttons_in(reply["blocks"])][:3] == choices
    after = [c.method for c in standin.calls[start:]]
    assert "chat.update" not in after  # the post stays as it is for everyone else
    assert "chat.postMessage" not in after  # and nothing new appears in the channel
    assert len(posts_to(standin, "#general")) == 1
    assert_valid_block_kit(standin)


def test_talk_to_an_ally_from_a_channel_post_leads_to_an_offer_that_is_updated(bot, standin):
    """The awareness post is never rewritten; an ally's offer, pressed in a DM, is."""

    async def scenario(h):
        post = await _post_the_tip(h)
        start = len(standin.calls)
        await h.press(
            "UEVE",
            button(post["blocks"], "Talk to an ally"),
            channel="CGENERAL",
            message_blocks=post["blocks"],
        )
        choices = last_reply(standin)
        await h.press("UEVE", button(choices["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "stress"), ephemeral=True)
        (offer,) = posts_to(standin, "DUALI", start)
        await h.press(
            "UALI",
            button(offer["blocks"], "Accept"),
            channel="DUALI",
            message_blocks=offer["blocks"],
        )
        return start

    start = go(bot, standin, scenario)
    updates = [c.args for c in standin.calls[start:] if c.method == "chat.update"]
    # the offer is rewritten from the bot's own state (the press here carries no real ts, so
    # the pressed-message update follows it to the same DM); the post itself is never touched
    assert {u["channel"] for u in updates} == {"DUALI"}
    assert "You accepted this request." in text_of(updates[0]["blocks"])
    assert not any(b["type"] == "actions" for u in updates for b in u["blocks"])
    intro = posts_to(standin, "GUALI_UEVE")
    assert len(intro) == 1 and "Eve, meet Ali." in text_of(intro[0]["blocks"])
    assert len(posts_to(standin, "#general")) == 1
    assert_valid_block_kit(standin)


# --- 5. "Send now" from the coordinators' desk -----------------------------------------------
def _send_now_button(blocks: list[dict], item: str) -> dict:
    found = [
        b
        for b in buttons_in(blocks)
        if action_name(b["action_id"]) == "awareness:send" and b["value"] == item
    ]
    assert len(found) == 1, buttons_in(blocks)
    assert found[0]["text"]["text"] == "Send now"
    return found[0]


def test_send_now_queues_the_tip_and_the_sweep_posts_it_once(bot, standin):
    async def scenario(h):
        calendar = Calendar(bot.router, h.slack)
        status, desk = await h.command("UCASEY", "awareness", name="/allyadmin")
        assert status == 200 and desk["response_type"] == "ephemeral"
        assert "Coming up on the awareness calendar" in text_of(desk["blocks"])
        for raw in desk["blocks"]:
            Block.parse(raw).validate_json()
        send = _send_now_button(desk["blocks"], "weekly-tips")

        await h.press("UCASEY", send, channel="CGENERAL", ephemeral=True)
        first_reply = text_of(last_reply(standin)["blocks"])
        queued = [(r.status, r.occurrence) for r in deliveries(bot, "weekly-tips")]
        await calendar.sweep()
        after_first = len(posts_to(standin, "#general"))

        # pressed again in the same minute, from a fresh desk: nothing more
        _, desk = await h.command("UCASEY", "awareness", name="/allyadmin")
        await h.press(
            "UCASEY", _send_now_button(desk["blocks"], "weekly-tips"), channel="C1", ephemeral=True
        )
        second_reply = text_of(last_reply(standin)["blocks"])
        await calendar.sweep()
        await calendar.sweep()
        return first_reply, queued, after_first, second_reply

    first_reply, queued, after_first, second_reply = go(bot, standin, scenario)
    assert f"{TIP_TITLE} is on its way to #general." in first_reply
    assert queued == [("queued", "now-2026-03-02T10:00")]
    assert after_first == 1
    assert "was sent to #general a moment ago, so it was not sent twice" in second_reply
    (post,) = posts_to(standin, "#general")
    assert_tip_post(post, FIRST_TIP)
    (row,) = deliveries(bot, "weekly-tips")
    assert (row.status, row.tip) == ("sent", "notice-changes")
    assert_valid_block_kit(standin)


def test_a_send_now_button_pressed_by_someone_else_is_refused(bot, standin):
    async def scenario(h):
        _, desk = await h.command("UCASEY", "awareness", name="/allyadmin")
        send = _send_now_button(desk["blocks"], "weekly-tips")
        await h.press("UEVE", send, channel="CGENERAL", ephemeral=True)  # a replayed payload
        await Calendar(bot.router, h.slack).sweep()
        return text_of(last_reply(standin)["blocks"])

    refusal = go(bot, standin, scenario)
    assert "/allyadmin is for the network's coordinators" in refusal
    assert deliveries(bot, "weekly-tips") == []
    assert posts_to(standin, "#general") == []


def test_after_send_now_the_wednesday_post_is_the_next_tip(bot, standin):
    async def scenario(h):
        await h.command("UCASEY", "awareness send weekly-tips", name="/allyadmin")
        calendar = await on_the_calendar(h)  # its catch-up run also sends what is queued
        try:
            bot.clock.advance(WEDNESDAY_TIP_DUE)
            await calendar.run()
        finally:
            calendar.stop()

    go(bot, standin, scenario)
    posts = posts_to(standin, "#general")
    assert len(posts) == 2
    assert_tip_post(posts[0], FIRST_TIP)
    assert_tip_post(posts[1], SECOND_TIP)


# --- 6. the leader lock --------------------------------------------------------------------------
def _take_over(leadership: Leadership, attempts: int = 1000) -> bool:
    """hold() until it answers True. The lock goes with the old leader's connection, which the
    server ends a moment after the client closes it, so the first try may just miss it."""
    return any(leadership.hold() for _ in range(attempts))


def test_only_one_process_holds_the_postgresql_leader_lock(postgres_url):
    if postgres_url is None:
        pytest.skip("PostgreSQL server programs not installed")
    first_db, second_db = Database(postgres_url), Database(postgres_url)
    first, second = Leadership(first_db), Leadership(second_db)
    try:
        assert first.hold() is True
        assert second.hold() is False
        assert first.hold() is True  # a held lock is kept, not taken twice or lost
        assert second.hold() is False
        first.release()
        assert _take_over(second)
        assert second.hold() is True
        assert first.hold() is False  # the old leader is now the follower
        second.release()
        assert _take_over(first)
    finally:
        first.release()
        second.release()
        first_db.dispose()
        second_db.dispose()


def test_a_follower_calendar_does_not_post_on_postgresql(db, standin):
    if db.is_sqlite:
        pytest.skip("SQLite has one process per file, which always leads")
    bot = slack_bot(db)

    async def scenario(h):
        leader = Calendar(bot.router, h.slack)
        follower = Calendar(bot.router, h.slack)
        try:
            await leader.check_leader()
            await follower.check_leader()
            assert (leader.leader, follower.leader) == (True, False)
            bot.clock.advance(WEDNESDAY_TIP_DUE)
            await follower.run()
            by_follower = len(posts_to(standin, "#general"))
            await leader.run()
            await follower.run()
            return by_follower
        finally:
            leader.stop()
            follower.stop()

    by_follower = go(bot, standin, scenario)
    assert by_follower == 0
    assert len(posts_to(standin, "#general")) == 1


def test_sqlite_always_leads(sqlite_db):
    first, second = Leadership(sqlite_db), Leadership(Database(sqlite_db.url))
    assert [first.hold(), second.hold(), first.hold()] == [True, True, True]
    first.release()
    assert second.hold() is True
    second.db.dispose()


# --- 7. the weekly digest --------------------------------------------------------------------
@pytest.mark.parametrize("channel", ["coordinators", None], ids=["channel-and-dm", "dm-only"])
def test_monday_digest_goes_to_the_coordinators_once(db, standin, channel):
    bot = slack_bot(db, channel=channel)

    async def scenario(h):
        calendar = await on_the_calendar(h)
        try:
            bot.clock.advance(MONDAY_DIGEST_DUE)
            assert bot.clock.now() == datetime(2026, 3, 9, 9, 0, 30, tzinfo=START.tzinfo)
            await calendar.run()
            await calendar.run()
            await calendar.sweep()
        finally:
            calendar.stop()

    go(bot, standin, scenario)
    expected = {"DUCASEY"} | ({f"#{channel}"} if channel else set())
    posts = standin.called("chat.postMessage")
    assert sorted(p["channel"] for p in posts) == sorted(expected)  # each once, nothing else
    for post in posts:
        words = text_of(post["blocks"])
        assert "Ally network: the week of" in words
        assert "fewer than 5" in words and "fewer than 5" in post["text"]
        assert "Ali" not in words and "Eve" not in words
    rows = deliveries(bot, "digest")
    assert sorted(r.target[0] for r in rows) == sorted(["d"] + (["#"] if channel else []))
    assert all(r.status == "sent" and r.occurrence == "2026-03-09T09:00" for r in rows)
    # the Wednesday tip fell due days before, beyond the grace window: missed, not posted
    assert not posts_to(standin, "#general")
    assert_valid_block_kit(standin)
