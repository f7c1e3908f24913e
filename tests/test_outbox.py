"""The transactional outbox: a message committed with its change is sent even if the process
that committed it dies first, a failed send is tried again, nothing goes out twice, and a
pressed message is rebuilt from the bot's own copy. Over signed HTTP into the real Bolt app,
with the loopback Slack Web API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from bot.config import Delivery
from bot.events import Action, Actor
from bot.messages import OnlyYou, message_from
from bot.platforms.slack.blocks import action_name, row_of
from bot.scheduler import Calendar
from handlers.allies import import_roster, parse_roster
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import make_bot
from tests.slack_harness import SlackHarness, button, last_reply, run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import ROSTER, _profile

ASKING = "We are asking an ally"
OFFER = "A colleague would like to talk."


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UEVE": _profile("Eve", "eve@example.com"),
            "UALI": _profile("Ali", "ali@example.com"),
            "UBO": _profile("Bo", "bo@example.com"),
        }
    )


def _bot(database):
    bot = make_bot(database, seed=False, delivery=Delivery(retry_seconds=0, lease_seconds=60))
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


@pytest.fixture
def bot(sqlite_db):
    return _bot(sqlite_db)


def posts_to(standin: SlackStandIn, channel: str, words: str) -> list[dict]:
    return [
        c
        for c in standin.called("chat.postMessage")
        if c["channel"] == channel and words in text_of(c["blocks"])
    ]


def tags(standin: SlackStandIn) -> list[int]:
    """The outbox row of every message Slack received (ack bodies are not calls)."""
    found = []
    for c in standin.calls:
        blocks = c.args.get("blocks") or [{}]
        sent = c.method == "chat.postMessage" or c.method.startswith("respond:")
        row = row_of(blocks[0].get("block_id"))
        if sent and row is not None and not c.args.get("replace_original"):
            found.append(row)
    return found


async def _start_request_without_sending(h: SlackHarness) -> None:
    """Eve asks for any ally, and the process dies right after the commit: the press is
    handled by the router, and nothing it returned is sent."""
    _, body = await h.command("UEVE")
    await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
    any_ally = button(last_reply(h.standin)["blocks"], "Any ally")
    out = h.bot.router.dispatch(
        Action(action_name(any_ally["action_id"]), any_ally["value"], Actor("slack", "UEVE"))
    )
    assert OnlyYou in {type(o.to) for o in out} and all(o.receipt for o in out)


def test_what_was_committed_goes_out_after_the_process_that_committed_it_died(bot, standin):
    async def scenario(h: SlackHarness):
        await _start_request_without_sending(h)
        assert not posts_to(standin, "DUALI", OFFER)
        # Still within the dead process's claim: nobody else sends it yet.
        await Calendar(bot.router, h.slack).sweep()
        assert not posts_to(standin, "DUALI", OFFER)
        bot.clock.advance(timedelta(seconds=61))
        await Calendar(bot.router, h.slack).sweep()
        await Calendar(bot.router, h.slack).sweep()  # a second sweep finds nothing to send

    asyncio.run(run(bot, standin, scenario))
    assert len(posts_to(standin, "DUALI", OFFER)) == 1
    # The reply Eve could not see (its request is gone) reaches her by DM, once.
    assert len(posts_to(standin, "DUEVE", ASKING)) == 1
    with bot.db.session() as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert rows and {r.status for r in rows} == {OutboxStatus.SENT}
    assert sorted(tags(standin)) == sorted(set(tags(standin)))


def test_a_failed_send_is_tried_again_and_arrives_once(bot, standin):
    async def scenario(h: SlackHarness):
        standin.refusals["chat.postMessage"] = "internal_error"  # Slack is having a bad day
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "Any ally"), ephemeral=True)
        assert len(posts_to(standin, "DUALI", OFFER)) == 1  # refused
        del standin.refusals["chat.postMessage"]
        await Calendar(bot.router, h.slack).sweep()  # retry_seconds is 0 here

    asyncio.run(run(bot, standin, scenario))
    # Refused once, then delivered once.
    assert len(posts_to(standin, "DUALI", OFFER)) == 2
    with bot.db.session() as session:
        offer_rows = [
            r for r in session.exec(select(OutboxMessage)) if r.key and r.key.startswith("offer")
        ]
    assert [(r.status, r.attempts) for r in offer_rows] == [(OutboxStatus.SENT, 2)]


def test_a_message_slack_can_never_deliver_is_not_tried_again(bot, standin):
    async def scenario(h: SlackHarness):
        standin.refusals["chat.postMessage"] = "channel_not_found"
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "Any ally"), ephemeral=True)
        tried = len(standin.called("chat.postMessage"))
        bot.clock.advance(timedelta(hours=2))
        await Calendar(bot.router, h.slack).sweep()
        return tried

    tried = asyncio.run(run(bot, standin, scenario))
    # The expired offer moved on; but no message was ever posted a second time.
    calls = standin.called("chat.postMessage")
    assert tried >= 1 and len(tags(standin)) == len(set(tags(standin)))
    assert all(c.get("blocks") for c in calls)
    with bot.db.session() as session:
        failed = session.exec(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        ).all()
    assert failed and all(r.attempts == 1 for r in failed)


def test_a_dm_that_went_out_just_before_the_process_died_is_not_sent_again(bot, standin):
    async def scenario(h: SlackHarness):
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "Any ally"), ephemeral=True)
        # Delivered, but the process died before it wrote so: the row is still claimed.
        with bot.db.session() as session:
            session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.key).startswith("offer"))
                .values(status=OutboxStatus.SENDING, sent_at=None)
            )
        bot.clock.advance(timedelta(seconds=61))
        await Calendar(bot.router, h.slack).sweep()

    asyncio.run(run(bot, standin, scenario))
    assert len(posts_to(standin, "DUALI", OFFER)) == 1
    assert standin.called("conversations.history")  # it looked before sending again
    with bot.db.session() as session:
        offer = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.key).startswith("offer"))
        ).one()
    assert offer.status == OutboxStatus.SENT


def test_two_processes_each_claim_a_different_message(db):
    first, second = _bot(db), _bot(db)
    eve = Actor("slack", "UEVE")
    out = first.router.dispatch(Action("findally:urgent", "", eve))
    out += first.router.dispatch(Action("findally:resources", "", eve))
    assert len(out) >= 2
    for bot in (first, second):
        bot.clock.advance(timedelta(seconds=61))
    one, two = first.router.unsent(), second.router.unsent()
    rows = [o.receipt.row for o in one + two if o.receipt]
    assert sorted(rows) == sorted({o.receipt.row for o in out if o.receipt})
    assert not {o.receipt.row for o in one if o.receipt} & {o.receipt.row for o in two if o.receipt}


def test_words_are_sealed_and_dropped_once_sent(bot, standin):
    async def scenario(h: SlackHarness):
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "Any ally"), ephemeral=True)

    asyncio.run(run(bot, standin, scenario))
    with bot.db.session() as session:
        rows = session.exec(select(OutboxMessage)).all()
        raw = " ".join(
            str(v)
            for row in session.execute(text("SELECT * FROM outboxmessage")).all()
            for v in row
        )
    assert ASKING not in raw and OFFER not in raw and "Eve" not in raw
    # Words are kept (sealed) only for a message with buttons, to rebuild it when pressed.
    kept = [message_from(bot.router.sealer.open(r.body)["m"]) for r in rows if r.body]
    assert kept and all(m.buttons() for m in kept)


def test_a_pressed_message_is_rebuilt_from_the_bots_own_copy(bot, standin):
    forged = [{"type": "section", "text": {"type": "mrkdwn", "text": "<!channel> forged"}}]

    async def scenario(h: SlackHarness):
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "Any ally"), ephemeral=True)
        offer = posts_to(standin, "DUALI", OFFER)[0]
        # Bo presses a button of Ali's offer (a tampered block id): nothing is rebuilt for him.
        updates_before = len(standin.called("chat.update"))
        await h.press(
            "UBO", button(offer["blocks"], "Pass"), channel="DUALI", message_blocks=forged
        )
        bo_updates = len(standin.called("chat.update")) - updates_before
        await h.press(
            "UALI", button(offer["blocks"], "Accept"), channel="DUALI", message_blocks=forged
        )
        return bo_updates

    bo_updates = asyncio.run(run(bot, standin, scenario))
    assert bo_updates == 0
    updated = [c for c in standin.called("chat.update") if c["channel"] == "DUALI"]
    assert updated
    for call in updated:
        assert "forged" not in str(call["blocks"])


def test_a_reply_carried_by_the_ack_is_recorded_sent_with_the_command(bot, standin):
    async def scenario(h: SlackHarness):
        _, body = await h.command("UEVE")
        with bot.db.session() as session:
            rows = session.exec(select(OutboxMessage)).all()
        # Written sent in the command's own transaction: nothing is left to settle or resend.
        assert [(r.status, r.platform) for r in rows] == [(OutboxStatus.SENT, "slack")]
        assert row_of(body["blocks"][0]["block_id"]) == rows[0].id
        bot.clock.advance(timedelta(minutes=5))
        await Calendar(bot.router, h.slack).sweep()
        return body

    body = asyncio.run(run(bot, standin, scenario))
    assert button(body["blocks"], "Talk to an ally")
    assert not standin.called("chat.postMessage")  # the choices reached Eve once, in the ack
