"""Erasure on Slack (issue 22): a requester with a name, email and title erases their data
mid-conversation over signed Slack requests; every timer and the outbox sweeper run to the
end, App Home is opened and a late press arrives; then no table and no log line holds their
Slack id, name, email, title, DM channel or old person id, and nothing is sent to them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import Coordinators
from handlers.allies import import_roster, parse_roster
from storage.models import Person
from tests.conftest import make_bot
from tests.erasure_search import logged, traces
from tests.slack_harness import button, last_reply, run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_logs_private import captured

TITLE = "Principal Quokka Wrangler"
EMAIL = "eve.quokka@example.com"


def _profile(name: str, email: str, title: str = "") -> dict:
    profile = {"display_name": name, "real_name": name, "email": email, "title": title}
    return {"id": "x", "name": name.lower(), "tz": "Europe/London", "profile": profile}


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UEVE": _profile("Evangeline", EMAIL, TITLE),
            "UALI": _profile("Ali", "ali@example.com"),
            "UCASEY": _profile("Casey", "casey@example.com"),
        }
    )


@pytest.fixture
def bot(sqlite_db):
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(people=["slack:UCASEY"], notify_by_dm=True),
    )
    rows, errors = parse_roster(
        "platform,user,name,department,topics,capacity\nslack,UALI,Ali,Engineering,stress,2\n", 2
    )
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


def test_a_slack_requester_erased_mid_conversation_leaves_nothing(bot, standin):

    async def scenario(h) -> int:
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "stress"), ephemeral=True)
        offer = standin.called("chat.postMessage")[-1]
        await h.press("UALI", button(offer["blocks"], "Accept"), channel="DUALI")
        await h.command("UEVE", "", name="/allystatus")  # something to Eve's DM, settled there
        dm = {"type": "message", "channel_type": "im", "channel": "DUEVE", "user": "UEVE"}
        await h.event({**dm, "text": "thank you", "ts": "1.1"}, "Ev-thanks")
        with bot.db.session() as session:
            old_id = session.exec(select(Person.id).where(Person.platform_user_id == "UEVE")).one()
        _, asked = await h.command("UEVE", "delete", name="/allyprivacy")
        await h.press("UEVE", button(asked["blocks"], "Yes, delete everything"), channel="DUEVE")
        erased_at = len(standin.calls)
        # Everything over time runs to its end, the sweeper sends what is left, App Home opens,
        # and a press of an old button arrives.
        for _ in range(12):
            bot.clock.advance(timedelta(days=5))
            await h.slack.deliver(bot.router.sweep())
            await h.slack.deliver(bot.router.unsent())
        await h.event({"type": "app_home_opened", "user": "UEVE", "tab": "home"}, "Ev-home")
        await h.press("UEVE", {"action_id": "follow_up:answer", "value": "1:5"}, channel="DUEVE")
        later = standin.calls[erased_at:]
        to_eve = [c for c in later if c.args.get("channel") == "DUEVE"]
        assert len(to_eve) == 1 and "before you deleted your data" in text_of(
            to_eve[0].args["blocks"]
        )
        return old_id

    # Logged as `serve` logs, everything at DEBUG, the libraries' lines included.
    with captured("DEBUG", "DEBUG") as log:
        old_id = asyncio.run(run(bot, standin, scenario))
    done = [
        c for c in standin.calls if c.method == "chat.postMessage" and c.args["channel"] == "DUEVE"
    ]
    assert any("no longer holds anything about you" in text_of(c.args["blocks"]) for c in done)
    words = ["UEVE", "Evangeline", EMAIL, TITLE, "DUEVE"]
    assert traces(bot.db, words, old_id) == []
    assert logged(log.getvalue(), words, old_id) == []
    with bot.db.session() as session:
        assert session.exec(select(Person).where(Person.platform_user_id == "UEVE")).first() is None
