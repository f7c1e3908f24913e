"""Teams end to end: activities over real HTTP into the real Agents SDK adapter, replies read
from a loopback Bot Connector stand-in (and, with auth on, a loopback token issuer)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.app import AllyBot
from bot.config import Coordinators, Teams
from bot.messages import Channel, DirectMessage, GroupDM, Message, Outgoing, Section, Span
from bot.platforms.teams.connector import NoTokens
from bot.scheduler import Calendar
from handlers.allies import import_roster, parse_roster
from storage import addresses
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person, PersonAddress
from tests import teams_activities as act
from tests.conftest import make_bot
from tests.slack_harness import SECRET, TOKEN, text_of
from tests.slack_standin import SlackStandIn
from tests.teams_harness import TeamsHarness, _walk
from tests.teams_standin import ConnectorStandIn, TokenIssuer, spare_key

ALI, BO, CASEY = (act.TeamsUser.make(n) for n in ("Ali Ally", "Bo Ally", "Casey Coordinator"))
HOSTILE = "**x** [y](https://evil.example) <at>z</at>"
CHANNEL = "19:abc@thread.tacv2"
TEAM = "19:team@thread.tacv2"
CRISIS = "honestly i dont want to be here anymore"


def teams_bot(db: Database, roster: str = "", channel: str | None = None, **config: Any) -> AllyBot:
    """A Teams organisation: Casey coordinates; allies imported by their Entra object ids."""
    coordinators = Coordinators(
        people=[f"teams:{CASEY.aad_id}"], notify_by_dm=True, channel=channel
    )
    bot = make_bot(db, seed=False, coordinators=coordinators, **config)
    rows, errors = parse_roster(
        "platform,user,name,department,topics,capacity\n"
        + (roster or f"teams,{ALI.aad_id},Ali Ally,Engineering,stress;workload,2\n"),
        2,
    )
    assert not errors, errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


def run(
    bot: AllyBot,
    scenario: Callable[[TeamsHarness], Awaitable[Any]],
    issuer: TokenIssuer | None = None,
    **settings: Any,
) -> Any:
    async def go() -> Any:
        h = TeamsHarness(bot, ConnectorStandIn(), issuer)
        await h.start(**settings)
        for person in (ALI, BO, CASEY):
            h.standin.add_user(person)
        try:
            return await scenario(h)
        finally:
            await h.stop()

    return asyncio.run(go())


def card_json(h: TeamsHarness, user: act.TeamsUser) -> list[str]:
    return [json.dumps(card, ensure_ascii=False) for card in h.standin.cards_to(user.aad_id)]


async def ask_for_an_ally(h: TeamsHarness, user: act.TeamsUser) -> None:
    await h.say(user, "findally")
    await h.press(user, "Talk to an ally")
    await h.press(user, "stress")


# --- 1. findally to hand-off ------------------------------------------------------------------
def _hand_off(db: Database, ally_wrote_first: bool) -> None:
    bot = teams_bot(db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        if ally_wrote_first:
            await h.say(ALI, "help")
        status, _ = await h.say(eve, "findally")
        assert status == 202
        assert "How can we help?" in h.texts(eve)[-1]
        body = await h.press(eve, "Talk to an ally")
        assert body["statusCode"] == 200
        pressed = json.dumps(body["value"], ensure_ascii=False)
        assert "✓ Talk to an ally" in pressed and "Action.Execute" not in pressed
        await h.press(eve, "stress")
        creates = len(h.standin.created())
        assert creates == (0 if ally_wrote_first else 1)  # a chat is opened when there is none
        offer = h.texts(ALI)[-1]
        assert offer.startswith("A colleague would like to talk.")
        assert "Eve" not in offer
        await h.press(ALI, "Accept")
        eve_link = "https://teams.microsoft.com/l/chat/0/0?users=" + ALI.upn
        ali_link = "https://teams.microsoft.com/l/chat/0/0?users=" + eve.upn
        assert eve_link in card_json(h, eve)[-1] and ali_link not in card_json(h, eve)[-1]
        assert ali_link in card_json(h, ALI)[-1]
        assert "Eve Example , meet  Ali Ally" in h.texts(eve)[-1]

    run(bot, scenario)


def test_findally_to_hand_off_with_an_ally_who_has_written(db):
    _hand_off(db, ally_wrote_first=True)


def test_findally_to_hand_off_opens_a_chat_with_an_ally_who_never_wrote(sqlite_db):
    _hand_off(sqlite_db, ally_wrote_first=False)


def test_an_ally_who_did_not_accept_never_learns_who_asked(sqlite_db):
    roster = (
        f"teams,{ALI.aad_id},Ali Ally,Engineering,stress,2\n"
        f"teams,{BO.aad_id},Bo Ally,Engineering,stress,2\n"
    )
    bot = teams_bot(sqlite_db, roster)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        await ask_for_an_ally(h, eve)
        first = ALI if h.standin.cards_to(ALI.aad_id) else BO
        other = BO if first is ALI else ALI
        await h.press(first, "Pass")
        await h.press(other, "Accept")
        assert "Eve" not in " ".join(card_json(h, first))
        assert eve.upn not in " ".join(card_json(h, first))
        updated = json.dumps(h.standin.updates(first.aad_id), ensure_ascii=False)
        assert "Eve" not in updated and eve.upn not in updated
        assert "Eve" in h.texts(other)[-1]

    run(bot, scenario)


# --- 2. a channel @mention --------------------------------------------------------------------
def test_a_channel_mention_is_answered_in_the_personal_chat_only(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        url = h.standin.service_url
        activity = act.channel_mention(eve, "findally", CHANNEL, TEAM, service_url=url)
        status, _ = await h.post(activity)
        assert status == 202
        assert h.standin.sent(CHANNEL) == []
        assert not any(
            (c.conversation_id or "").startswith("19:")
            for c in h.standin.calls
            if c.kind in ("send", "update")
        )
        texts = h.texts(eve)
        assert texts[0].startswith("You wrote to me in a shared conversation")
        assert "How can we help?" in texts[1]

    run(bot, scenario)


# --- 3. user text is literal ------------------------------------------------------------------
def _markdown_blocks(card: dict[str, Any]) -> list[str]:
    return [n["text"] for n in _walk(card) if n.get("type") == "TextBlock"]


def _runs(card: dict[str, Any]) -> list[str]:
    return [n["text"] for n in _walk(card) if n.get("type") == "TextRun"]


def test_user_text_is_only_ever_a_text_run(sqlite_db):
    bot = teams_bot(sqlite_db)
    typed = "**x** [y](https://evil.example)"

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user(f"Eve {HOSTILE}")
        await h.say(eve, f"feedback: {typed}")
        await ask_for_an_ally(h, eve)
        await h.press(ALI, "Accept")
        cards = h.standin.cards_to(eve.aad_id) + h.standin.cards_to(ALI.aad_id)
        runs = [t for c in cards for t in _runs(c)]
        assert typed in runs  # the feedback, quoted back as typed
        assert any(f"Eve {HOSTILE}" in t for t in runs)  # the name, in the hand-off to Ali
        for card in cards:
            for block in _markdown_blocks(card):
                assert "evil.example" not in block and "**x**" not in block, block

    run(bot, scenario)


# --- 4. crisis --------------------------------------------------------------------------------
def test_crisis_language_leads_with_the_crisis_lines(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        await h.say(eve, CRISIS)
        texts = h.texts(eve)
        assert "get help now" in texts[0]
        assert any("999" in t for t in texts)

    run(bot, scenario)


# --- 5. install, uninstall, team updates ------------------------------------------------------
def _teams_address(bot: AllyBot, aad_id: str) -> PersonAddress | None:
    with bot.db.session() as session:
        return session.exec(select(PersonAddress).where(PersonAddress.user_id == aad_id)).first()


def test_installing_welcomes_and_keeps_the_chat_and_removing_forgets_it(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        url = h.standin.service_url
        status, _ = await h.post(act.installation_update(eve, "add", service_url=url))
        assert status in (200, 202)
        assert len(h.standin.cards_to(eve.aad_id)) == 1  # the welcome
        row = _teams_address(bot, eve.aad_id)
        assert row is not None
        assert (row.conversation_id, row.service_url, row.tenant_id) == (
            eve.conversation_id,
            url,
            act.TENANT_ID,
        )
        await h.post(act.installation_update(eve, "remove", service_url=url))
        row = _teams_address(bot, eve.aad_id)
        assert row is not None and row.conversation_id is None
        assert len(h.standin.cards_to(eve.aad_id)) == 1  # no goodbye into a removed chat

        before = len(h.standin.calls)
        team_update = act.conversation_update(eve, service_url=url)
        team_update["conversation"] = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": act.TENANT_ID,
            "id": CHANNEL,
        }
        team_update["channelData"].update({"team": {"id": TEAM}, "channel": {"id": CHANNEL}})
        status, _ = await h.post(team_update)
        assert status in (200, 202)
        assert not [c for c in h.standin.calls[before:] if c.kind in ("send", "create")]

    run(bot, scenario)


# --- 6. an ally Teams refuses -----------------------------------------------------------------
def test_an_unreachable_ally_is_skipped_and_coordinators_told_once(sqlite_db):
    roster = (
        f"teams,{ALI.aad_id},Ali Ally,Engineering,stress,2\n"
        f"teams,{BO.aad_id},Bo Ally,Engineering,stress,2\n"
    )
    bot = teams_bot(sqlite_db, roster)

    async def scenario(h: TeamsHarness) -> None:
        await h.say(CASEY, "help")
        h.standin.refuse_member(ALI.aad_id, 403, "MessageWritesBlocked")
        eve, finn = h.user("Eve Example"), h.user("Finn Other")
        await ask_for_an_ally(h, eve)
        refused = [c for c in h.standin.calls if c.status == 403]
        assert refused, "the offer was first tried with Ali"
        assert h.texts(BO)[-1].startswith("A colleague would like to talk.")
        told = [t for t in h.texts(CASEY) if "cannot be reached" in t]
        assert len(told) == 1 and "Ali Ally" in told[0] and "Eve" not in told[0]
        tries = len(refused)
        await ask_for_an_ally(h, finn)
        assert len([c for c in h.standin.calls if c.status == 403]) == tries  # skipped
        assert len([t for t in h.texts(CASEY) if "cannot be reached" in t]) == 1
        # The offers that could not reach Ali are settled as undeliverable: no sweep tries
        # them (and Teams' refusal) again.
        with bot.db.session() as session:
            stuck = session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING))
                )
            ).all()
        assert stuck == []

    run(bot, scenario)


def test_an_ally_imported_by_email_is_matched_when_they_first_write(sqlite_db):
    ana = act.TeamsUser.make("Ana Ally")
    bot = teams_bot(sqlite_db, f"teams,{ana.email.upper()},Ana Ally,People,stress,3\n")

    async def scenario(h: TeamsHarness) -> None:
        h.standin.add_user(ana)  # Teams' member list gives her email on first contact
        await h.say(ana, "allystatus")
        said = " ".join(h.texts(ana)[-1].split())  # the card's text runs, joined by spaces
        assert "Your ally status: available · 0 of 3 conversations open" in said
        with bot.db.session() as session:
            person = addresses.person_with(session, "teams", ana.aad_id)
            assert person is not None and person.email == ana.email

    run(bot, scenario)


# --- 7. rate limits ---------------------------------------------------------------------------
def test_a_throttled_send_is_retried_and_arrives_once(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        h.standin.fail_next("send", (429, {}, {"Retry-After": "0"}), 503, 502)
        await h.say(eve, "findally")
        assert [c.status for c in h.standin.calls if c.kind == "send"] == [429, 503, 502, 201]
        assert len(h.standin.cards_to(eve.aad_id)) == 1

    run(bot, scenario)


def test_a_forbidden_send_is_not_retried(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        h.standin.fail_next("send", 403)
        await h.say(eve, "findally")
        assert [c.status for c in h.standin.calls if c.kind == "send"] == [403]
        assert h.standin.cards_to(eve.aad_id) == []

    run(bot, scenario)


def test_sends_into_one_chat_keep_to_seven_a_second(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        now = [0.0]
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            now[0] += seconds

        pacer = h.teams.connector.conversations
        pacer.interval, pacer.clock, pacer.sleep = 1 / 7, lambda: now[0], sleep
        message = {"type": "message", "text": "hello"}
        for _ in range(8):
            await h.teams.connector.send(
                h.standin.service_url, act.TENANT_ID, eve.conversation_id, message
            )
        assert len(h.standin.sent(eve.conversation_id)) == 8
        assert sum(slept) >= 1.0 - 1e-9

    run(bot, scenario)


# --- 8. bad input -----------------------------------------------------------------------------
def test_bad_requests_are_refused_and_nothing_crashes(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        url = h.standin.service_url
        assert (await h.post(b"{not json"))[0] == 400
        assert (await h.post(b"[1, 2]"))[0] == 400
        no_conversation = act.message(eve, "findally", service_url=url)
        del no_conversation["conversation"]
        assert (await h.post(no_conversation))[0] == 400
        for sender in (None, {}, {"id": ""}, {"id": ["29:x"]}):  # nobody, or nobody readable
            nobody = act.message(eve, "findally", service_url=url)
            nobody["from"] = sender
            assert (await h.post(nobody))[0] == 400
            pressed = act.card_action(eve, "findally:talk", {}, reply_to_id="1", service_url=url)
            pressed["from"] = sender
            assert (await h.post(pressed))[0] == 400
        big = json.dumps(act.message(eve, "x" * (300 * 1024), service_url=url)).encode()
        assert (await h.post(big))[0] == 413
        unknown = act.card_action(eve, "x", {}, reply_to_id="1", service_url=url)
        unknown["name"] = "composeExtension/query"
        assert (await h.post(unknown))[0] in (200, 501)
        junk = act.card_action(eve, "findally", {"junk": [1, {"a": None}]}, "1", service_url=url)
        status, body = await h.post(junk)
        assert status == 200
        assert body["type"] == "application/vnd.microsoft.activity.message"  # a plain message
        assert "/findally" in body["value"]
        assert h.standin.calls == []  # none of it made the bot write to anyone
        replayed = act.message(eve, "findally", service_url=url, activity_id="42")
        await h.post(replayed)
        await h.post(replayed)
        assert len(h.standin.cards_to(eve.aad_id)) == 1
        assert (await h.say(eve, "findally"))[0] == 202  # and it still works

    run(bot, scenario)


# --- 9. no-auth mode --------------------------------------------------------------------------
def test_no_auth_mode_refuses_a_real_service_url_and_sends_no_token(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        real = act.message(eve, "findally", service_url="https://smba.trafficmanager.net/teams/")
        assert (await h.post(real))[0] == 401
        assert h.standin.calls == []
        await h.say(eve, "findally")
        assert h.standin.calls and all(c.authorization is None for c in h.standin.calls)

    run(bot, scenario)


# --- 10. auth mode ----------------------------------------------------------------------------
def test_auth_mode_accepts_good_tokens_and_refuses_every_bad_one(sqlite_db):
    bot = teams_bot(sqlite_db)
    issuer = TokenIssuer()

    async def scenario(h: TeamsHarness) -> None:
        # The outbound token would come from Entra through MSAL, which is off this machine.
        h.teams.connector.tokens = NoTokens()
        eve = h.user("Eve Example")
        url = h.standin.service_url

        def mint(**kw: Any) -> dict[str, str]:
            service_url = kw.pop("service_url", url)
            return {"Authorization": f"Bearer {issuer.mint(act.APP_ID, service_url, **kw)}"}

        bad = {
            "missing": {},
            "expired": mint(now=time.time() - 7200),
            "wrong audience": mint(audience="someone-else"),
            "wrong issuer": mint(issuer="https://evil.example"),
            "wrong serviceurl": mint(service_url="http://127.0.0.1:9/"),
            "forged": mint(key=spare_key()),
        }
        for why, headers in bad.items():
            status, _ = await h.post(act.message(eve, "findally", service_url=url), headers)
            assert status == 401, why
        assert h.standin.calls == []
        status, _ = await h.say(eve, "findally")
        assert status in (200, 202)
        assert "How can we help?" in h.texts(eve)[-1]

    run(bot, scenario, issuer)


# --- 11. one person on Slack and Teams --------------------------------------------------------
def test_a_person_on_slack_and_teams_hears_where_they_last_were(sqlite_db):
    bot = teams_bot(sqlite_db)
    slack = SlackStandIn(users={})

    async def scenario(h: TeamsHarness) -> None:
        eve = h.user("Eve Example")
        with bot.db.session() as session:
            person = Person(
                platform="slack",
                platform_user_id="UEVE",
                display_name="Eve Example",
                email=eve.email,
                created_at=bot.clock.now(),
                updated_at=bot.clock.now(),
            )
            session.add(person)
            session.flush()
            eve_id = person.id
            assert eve_id is not None
        await h.say(eve, "help")  # Teams finds her by email and keeps her chat
        with bot.db.session() as session:
            assert addresses.find(session, eve_id, "teams") is not None
            ali_id = addresses.person_with(session, "teams", ALI.aad_id).id  # type: ignore
        hello = Message((Section((Span("hello there"),)),))
        await h.platforms.deliver([Outgoing(DirectMessage(eve_id), hello)])  # type: ignore
        assert "hello there" in h.texts(eve)[-1]
        assert not slack.called("chat.postMessage")
        with bot.db.session() as session:
            addresses.set_active(session, eve_id, "slack")
        await h.platforms.deliver([Outgoing(DirectMessage(eve_id), hello)])  # type: ignore
        posts = slack.called("chat.postMessage")
        assert len(posts) == 1 and "hello there" in text_of(posts[0]["blocks"])
        intro = Message((Section((Span("meet"),)),))
        await h.platforms.deliver([Outgoing(GroupDM((eve_id, ali_id)), intro)])  # type: ignore
        to_eve = text_of(slack.called("chat.postMessage")[-1]["blocks"])
        assert "Ali Ally" in to_eve and "Microsoft Teams" in to_eve
        to_ali = h.texts(ALI)[-1]
        assert "Eve Example" in to_ali and eve.email in to_ali and "Slack" in to_ali

    async def go() -> None:
        await slack.start()
        h = TeamsHarness(bot, ConnectorStandIn())
        try:
            await h.start(
                slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url
            )
            h.standin.add_user(ALI)
            await scenario(h)
        finally:
            await h.stop()
            await slack.stop()

    asyncio.run(go())


# --- 12. awareness ----------------------------------------------------------------------------
def test_a_due_awareness_post_reaches_the_teams_channel_once(sqlite_db):
    bot = teams_bot(sqlite_db, teams=Teams(awareness_channels=[CHANNEL]))

    async def scenario(h: TeamsHarness) -> None:
        await h.say(h.user("Eve Example"), "help")  # the bot learns where its Bot Connector is
        assert h.platforms is not None
        calendar = Calendar(bot.router, h.platforms)
        await calendar.check_leader()
        try:
            for delta in (timedelta(days=2, seconds=30), timedelta(minutes=1)):
                bot.clock.advance(delta)
                await calendar.sweep()
                await calendar.run()
                await h.platforms.drain()
        finally:
            calendar.stop()
        posts = [
            " ".join(n["text"] for n in _walk(a) if n.get("type") in ("TextRun", "TextBlock"))
            for a in h.standin.sent(CHANNEL)
        ]
        assert len([p for p in posts if "Weekly wellbeing tip" in p]) == 1
        assert any("findally" in p for p in posts)

    run(bot, scenario)


# --- the coordinators' channel on both platforms ----------------------------------------------
def _both(bot: AllyBot, scenario: Callable[[TeamsHarness, SlackStandIn], Awaitable[None]]) -> None:
    slack = SlackStandIn()

    async def go() -> None:
        await slack.start()
        h = TeamsHarness(bot, ConnectorStandIn())
        try:
            await h.start(
                slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url
            )
            await scenario(h, slack)
        finally:
            await h.stop()
            await slack.stop()

    asyncio.run(go())


def test_an_alert_reaches_each_platforms_coordinator_channel_once(sqlite_db):
    private = Teams(coordinators_channel=CHANNEL, coordinators_channel_private=True)
    bot = teams_bot(sqlite_db, channel="coordinators", teams=private)
    alert = Outgoing(Channel("coordinators"), Message((Section((Span("a request waits"),)),)))

    async def scenario(h: TeamsHarness, slack: SlackStandIn) -> None:
        h.standin.add_user(CASEY)
        await h.say(CASEY, "help")  # the bot learns where the tenant's Bot Connector is
        await h.platforms.deliver([alert])  # type: ignore[union-attr]
        # each platform delivers what the other hands it as its own, never back again
        await h.teams.deliver([alert])
        assert len(slack.called("chat.postMessage")) == 2
        assert len(h.standin.sent(CHANNEL)) == 2

    _both(bot, scenario)


def test_a_teams_channel_not_said_to_be_private_gets_the_numbers_only(sqlite_db):
    bot = teams_bot(sqlite_db, channel="coordinators", teams=Teams(coordinators_channel=CHANNEL))
    alert = Outgoing(Channel("coordinators"), Message((Section((Span("a request waits"),)),)))

    async def scenario(h: TeamsHarness, slack: SlackStandIn) -> None:
        h.standin.add_user(CASEY)
        await h.say(CASEY, "help")
        await h.platforms.deliver([alert])  # type: ignore[union-attr]
        assert len(slack.called("chat.postMessage")) == 1
        assert h.standin.sent(CHANNEL) == []  # an alert: not in a channel Teams cannot vouch for
        assert await h.platforms.broadcast(alert)  # type: ignore[union-attr]
        assert len(h.standin.sent(CHANNEL)) == 1  # a scheduled post (the digest): numbers only

    _both(bot, scenario)


def test_another_organisation_s_user_is_refused_whatever_their_email(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> None:
        # Someone of another tenant (a shared channel) whose directory email is Casey's.
        stranger = act.TeamsUser.make("Stranger", email=CASEY.email)
        h.standin.add_user(stranger)
        foreign = act.message(stranger, "allyadmin", service_url=h.standin.service_url)
        foreign["conversation"]["tenantId"] = "9e1d0c2b-0000-4000-8000-000000000000"
        foreign["channelData"]["tenant"]["id"] = "9e1d0c2b-0000-4000-8000-000000000000"
        assert (await h.post(foreign))[0] == 401
        assert h.standin.calls == []
        with bot.db.session() as session:
            assert addresses.person_with(session, "teams", stranger.aad_id) is None
        assert (await h.say(CASEY, "allyadmin"))[0] == 202  # our own tenant still talks

    run(bot, scenario, teams_tenant_id=act.TENANT_ID)


def test_a_message_naming_many_people_looks_each_up_once_and_ten_at_most(sqlite_db):
    bot = teams_bot(sqlite_db)
    crowd = [act.TeamsUser.make(f"Person {i}") for i in range(30)]

    async def scenario(h: TeamsHarness) -> None:
        for person in crowd:
            h.standin.add_user(person)
        named = " ".join(f"<at>{p.name}</at>" for p in crowd * 3)
        activity = act.channel_mention(
            CASEY,
            f"allyadmin pause {named}",
            CHANNEL,
            TEAM,
            service_url=h.standin.service_url,
            others=crowd,
        )
        assert (await h.post(activity))[0] in (200, 202)
        lookups = [c for c in h.standin.calls if c.kind == "member"]
        assert len(lookups) <= 11  # the writer, then ten people at most
        assert len({c.member_id for c in lookups}) == len(lookups)  # nobody twice

    run(bot, scenario)


def test_only_a_message_in_their_own_chat_makes_someone_reachable_again(sqlite_db):
    bot = teams_bot(sqlite_db)
    with bot.db.session() as session:
        ali = addresses.person_with(session, "teams", ALI.aad_id)
        assert ali is not None and ali.id is not None
        now = bot.clock.now()
        assert addresses.mark_unreachable(session, ali.id, "teams", ALI.aad_id, now)
        addresses.remember_reference(session, ali.id, "teams", ALI.aad_id, now, service_url="x")
        assert addresses.find(session, ali.id, "teams").unreachable  # a channel post: blocked
        addresses.remember_reference(
            session, ali.id, "teams", ALI.aad_id, now, conversation_id="a:1"
        )
        assert not addresses.find(session, ali.id, "teams").unreachable
