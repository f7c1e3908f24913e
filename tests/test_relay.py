"""The anonymous relay (issue 12): an anonymous requester and the ally who accepted them talk
through the bot, labelled "your colleague" / "your ally", never stored, crisis-checked on the
way. The shell on SQLite and PostgreSQL; the same conversation on the shell, Slack and Teams;
and a requester on Teams with an ally on Slack.

The demo organisation: Eve (Engineering, GB) asks anonymously for "workload", which only Ali
(capacity 2) offers; Gus asks the same; Hana is in the US.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.app import AllyBot
from bot.config import Coordinators, load_app_config
from bot.config import Relay as RelaySettings
from handlers.allies import import_roster, parse_roster
from handlers.yamlfile import ProblemsFound
from storage import retention
from storage.models import OutboxMessage, Relay, SupportRequest
from tests.conftest import ShellDriver, make_bot
from tests.platform_drivers import (
    PEOPLE,
    Driver,
    ShellPlatformDriver,
    teams_card_lines,
)
from tests.slack_harness import SECRET, TOKEN, SlackHarness, button, text_of
from tests.slack_standin import SlackStandIn
from tests.teams_activities import TeamsUser
from tests.teams_harness import TeamsHarness
from tests.teams_standin import ConnectorStandIn
from tests.test_admin_requests import press, to
from tests.test_config_check import GOOD
from tests.test_logs_private import captured
from tests.test_platform_contract import play
from tests.test_privacy import _everything_stored
from tests.test_slack import _profile

SECRET_WORDS = "my manager quokka-velvet-4471 shouts at me every day"
ANSWER = "that sounds exhausting, tell me more"
CRISIS = "honestly i dont want to be here anymore"


# --- helpers ---------------------------------------------------------------------------------
def ask_anonymously(sh: ShellDriver, who: str = "eve", topic: str = "workload") -> str:
    return sh(
        f"/as {who}",
        "/findally",
        "/press Talk to an ally",
        "/press Stay anonymous",
        f"/press {topic}",
    )


def relays(bot) -> list[Relay]:
    with bot.db.session() as session:
        return list(session.exec(select(Relay).order_by(Relay.id)))


def request_status(bot) -> list[str]:
    with bot.db.session() as session:
        return list(session.exec(select(SupportRequest.status).order_by(SupportRequest.id)))


def stored_anywhere(bot) -> str:
    """Every row of every table (and the SQLite file), with the outbox's sealed messages
    opened: what the bot keeps, as someone with the database and its key would read it."""
    opened = []
    with bot.db.session() as session:
        for row in session.exec(select(OutboxMessage)):
            if row.body:
                opened.append(json.dumps(bot.router.sealer.open(row.body), ensure_ascii=False))
    return _everything_stored(bot) + "\n".join(opened)


def lines_to(out: str, who: str) -> str:
    return "\n".join(to(out, who))


# What needs no second database: the conditional updates run on both in the other tests.
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


# --- the shell -------------------------------------------------------------------------------
def test_an_anonymous_pair_talks_through_the_bot_and_nothing_is_kept(sh, bot, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # even with SQL echo on
    try:
        ask_anonymously(sh)
        opened = sh("/as ali", "/press Accept")
        to_eve, to_ali = lines_to(opened, "eve"), lines_to(opened, "ali")
        assert "Ali (Engineering) has accepted and is ready to talk." in to_eve
        assert "[1] Introduce us  [2] End conversation" in to_eve
        assert "not counsellors" in to_eve
        assert "through me" in to_ali and "[1] End conversation" in to_ali
        said = sh("/as eve", SECRET_WORDS)
        assert f"[bot -> ali, DM] Your colleague: {SECRET_WORDS}" in said
        assert "[bot -> eve, only you]   (Passed on to your ally.)" in said
        answered = sh("/as ali", ANSWER)
        assert f"[bot -> eve, DM] Your ally: {ANSWER}" in answered
        assert "[bot -> ali, only you]   (Passed on to your colleague.)" in answered
        # A command is still a command, and a button still a button.
        assert "You are connected with Ali." in sh("/as eve", "/findally")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    everything_ali_saw = lines_to(sh.buffer.getvalue(), "ali")
    assert "Eve" not in everything_ali_saw and "eve@" not in everything_ali_saw
    assert "quokka" not in stored_anywhere(bot) and ANSWER not in stored_anywhere(bot)
    assert "quokka" not in caplog.text and ANSWER not in caplog.text
    with bot.db.engine.connect() as conn:
        audit = conn.execute(text("SELECT name, person_id FROM auditlog")).all()
    assert not [row for row in audit if row.name.startswith(("relay:", "dm")) and row.person_id]


@SQLITE_ONLY
def test_worrying_words_reach_the_other_side_with_the_writer_s_crisis_lines(sh):
    ask_anonymously(sh, "hana")  # Hana is in the US; Ali, who accepts, in the UK
    sh("/as ali", "/press Accept")
    out = sh("/as hana", CRISIS)
    to_hana, to_ali = lines_to(out, "hana"), lines_to(out, "ali")
    assert "get help now" in to_hana and "988" in to_hana  # the writer's own, from the router
    assert to_ali.startswith(f"Your colleague: {CRISIS}")
    assert "What your colleague just wrote may mean they are not safe right now." in to_ali
    assert "call 911" in to_ali and "988" in to_ali  # the writer's region, not the reader's
    assert "999" not in to_ali and "Samaritans" not in to_ali
    assert "I'm worried about someone / I need to talk to a coordinator" in to_ali
    # The other way, the ally's worrying words reach the requester with the ally's lines.
    to_hana = lines_to(sh("/as ali", CRISIS), "hana")
    assert "What your ally just wrote may mean they are not safe right now." in to_hana
    assert "call 999" in to_hana and "988" not in to_hana


@SQLITE_ONLY
@pytest.mark.parametrize("ender", ["eve", "ali"])
def test_either_side_ends_it_kindly_and_the_request_is_finished(sh, bot, ender):
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")
    assert sh.ally("ali").open_count == 1
    sh("/as eve", "hello")
    out = sh(f"/as {ender}", "/press End conversation")
    if ender == "eve":
        assert "[bot -> eve, DM] You have ended the conversation." in out
        assert "[bot -> ali, DM] Your colleague has ended the conversation. Thank you" in out
    else:
        assert "[bot -> ali, DM] You have ended the conversation. Thank you" in out
        assert "[bot -> eve, DM] Your ally has ended the conversation." in out
    (relay,) = relays(bot)
    assert (relay.status, relay.closed_by) == ("closed", "requester" if ender == "eve" else "ally")
    assert request_status(bot) == ["finished"] and sh.ally("ali").open_count == 0
    after = sh("/as eve", "are you still there?")  # no longer passed on: the usual help
    assert "[bot -> ali" not in after and "Hi, I am allybot." in after
    assert "already ended" in press(sh, "relay:end", str(relay.id), ender)  # a replayed press


@SQLITE_ONLY
def test_introducing_closes_the_relay_and_introduces_them_as_today(sh, bot):
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")
    out = sh("/as eve", "/press Introduce us")
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out
    assert (
        "[bot -> eve+ali, group DM]   (The anonymous conversation through allybot has closed."
        in out
    )
    (relay,) = relays(bot)
    assert (relay.status, relay.closed_by) == ("closed", "revealed")
    assert request_status(bot) == ["matched"]  # they talk on, and finish as before
    assert "[bot -> ali" not in sh("/as eve", "thanks!")


@SQLITE_ONLY
def test_a_silent_relay_closes_after_idle_days_and_each_message_pushes_that_back(sh, bot):
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")  # idle_days is 3 (app.yaml)
    sh("/wait 2d")
    assert "Your colleague: still here" in sh("/as eve", "still here")
    out = sh("/wait 2d")  # 4 days after opening, 2 after the last message
    assert "has closed after" not in out and relays(bot)[0].status == "open"
    out = sh("/wait 1d")
    assert "[bot -> eve, DM] Your conversation with your ally has closed after 3 days" in out
    assert "[bot -> ali, DM] Your conversation with your colleague has closed after 3 days" in out
    assert relays(bot)[0].closed_by == "idle"
    assert request_status(bot) == ["finished"] and sh.ally("ali").open_count == 0


def test_too_many_messages_get_slow_down_and_are_not_passed_on(db):
    """3 a minute and 5 a day here; each window starts with the first message after the last
    one ended (the clock is moved on directly: no timer is involved)."""
    sh = ShellDriver(make_bot(db, relay=RelaySettings(per_minute=3, per_day=5)))
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")
    out = sh("/as eve", "one", "two", "three", "four")
    assert [line for line in to(out, "ali") if line.startswith("Your colleague")] == [
        "Your colleague: one",
        "Your colleague: two",
        "Your colleague: three",
    ]
    assert "[bot -> eve, only you] That is a lot of messages in a short time, so I have" in out
    sh.bot.clock.advance(timedelta(minutes=1))
    assert "Your colleague: five" in sh("five")  # a new minute; four was not counted
    out = sh("six", "seven")
    assert "Your colleague: six" in out and "seven" not in lines_to(out, "ali")
    assert "You have sent 5 messages today, the most one person can send in a day" in out
    sh.bot.clock.advance(timedelta(days=1))
    assert "Your colleague: eight" in sh("eight")
    assert "Your ally: each person has their own" in sh("/as ali", "each person has their own")


@SQLITE_ONLY
def test_a_tampered_or_foreign_end_is_refused_and_changes_nothing(sh, bot):
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")
    (relay,) = relays(bot)
    for value in (str(relay.id), "1 OR 1=1", "-1", "99999"):
        out = press(sh, "relay:end", value, "gus")
        assert "[bot -> gus, only you] That button belongs to someone else's message" in out
        assert "[bot -> eve" not in out and "[bot -> ali" not in out
    assert "someone else's" in press(sh, "relay:reply", str(relay.id), "bo")
    assert relays(bot)[0].status == "open" and request_status(bot) == ["matched"]


@SQLITE_ONLY
def test_an_ally_in_two_relays_chooses_where_their_words_go(sh, bot):
    ask_anonymously(sh, "eve")
    sh("/as ali", "/press Accept")
    ask_anonymously(sh, "gus")
    out = sh("/as ali", "/press Accept")
    assert "[1] Reply here  [2] End conversation" in lines_to(out, "ali")
    first, second = relays(bot)
    out = sh("/as ali", "who is this for?")  # two open, none chosen: nothing passed on
    assert "[bot -> eve" not in out and "[bot -> gus" not in out
    assert "You have 2 conversations open, so I have not passed this on." in out
    assert (
        f"[1] To your colleague (conversation {first.id})  "
        f"[2] To your colleague (conversation {second.id})"
    ) in out
    out = sh(f"/press To your colleague (conversation {first.id})", "hello first")
    assert f"goes to your colleague (conversation {first.id})" in out
    assert "[bot -> eve, DM] Your ally: hello first" in out and "[bot -> gus" not in out
    out = sh("/as gus", "hi from the second")
    assert f"Your colleague (conversation {second.id}): hi from the second" in lines_to(out, "ali")
    assert "[1] Reply here  [2] End conversation" in lines_to(out, "ali")
    out = sh("/as ali", "/press Reply here", "hello second")
    assert "[bot -> gus, DM] Your ally: hello second" in out and "[bot -> eve" not in out
    # A choice button on an older message still switches back.
    assert "goes to your colleague" in press(sh, "relay:reply", str(first.id), "ali")
    assert "[bot -> eve, DM] Your ally: again to eve" in sh("again to eve")
    # Gus ends his; Ali's words go to the one left, unasked.
    sh("/as gus", "/press End conversation")
    assert "[bot -> eve, DM] Your ally: just us now" in sh("/as ali", "just us now")


@SQLITE_ONLY
def test_a_questionnaire_in_progress_waits_while_a_relay_is_open(sh):
    sh("/as eve", "apply", "/press 1")  # the questionnaire has started
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")
    out = sh("/as eve", "Eve Example")
    assert "[bot -> ali, DM] Your colleague: Eve Example" in out
    assert "Your ally application waits while this conversation is open" in out


@SQLITE_ONLY
def test_erasing_ends_the_relay_and_tells_the_other_side_kindly(sh, bot):
    ask_anonymously(sh)
    sh("/as ali", "/press Accept")
    out = sh("/as ali", "/allyprivacy delete", "/press Yes, delete everything")
    assert "[bot -> eve, DM] Your ally is no longer available here" in out
    assert relays(bot)[0].closed_by == "erased"
    ask_anonymously(sh, "gus", "stress")  # Eli, now: Ali has gone
    sh("/as eli", "/press Accept")
    out = sh("/as gus", "/allyprivacy delete", "/press Yes, delete everything")
    assert "[bot -> eli, DM] Your colleague has ended the conversation." in out
    assert [r.closed_by for r in relays(bot)] == ["erased", "erased"]
    assert request_status(bot) == ["finished", "finished"]


# --- the same conversation on each platform ---------------------------------------------------
async def relayed_conversation(d: Driver) -> None:
    await d.command("requester", "findally")
    await d.press("requester", "Talk to an ally")
    await d.press("requester", "Stay anonymous: no")
    await d.press("requester", "stress")
    await d.press("ally", "Accept")
    await d.dm("requester", SECRET_WORDS)
    await d.dm("ally", ANSWER)
    await d.dm("requester", CRISIS)
    await d.press("requester", "End conversation")


def bot_of(d: Driver) -> AllyBot:
    return d.shell.bot if isinstance(d, ShellPlatformDriver) else d.bot  # type: ignore[attr-defined]


@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_the_relay_on_each_platform(platform, sqlite_db):
    with captured("DEBUG", "DEBUG") as log:  # as verbose as a deployment can be
        d = play(platform, sqlite_db, relayed_conversation)
    to_ally, to_requester = d.shown("ally"), d.shown("requester")
    assert any(t.startswith("Thank you for accepting.") for t in to_ally)
    assert f"Your colleague: {SECRET_WORDS}" in to_ally
    assert f"Your ally: {ANSWER}" in to_requester
    assert f"Your colleague: {CRISIS}" in to_ally
    assert "What your colleague just wrote may mean they are not safe right now." in to_ally
    assert any("get help now" in t for t in to_requester)  # the writer's own resources
    assert any(t.startswith("You have ended the conversation.") for t in to_requester)
    assert any(t.startswith("Your colleague has ended the conversation.") for t in to_ally)
    assert not any(PEOPLE["requester"] in t or "requester@" in t for t in to_ally)
    assert "quokka" not in stored_anywhere(bot_of(d)) and ANSWER not in stored_anywhere(bot_of(d))
    assert "quokka" not in log.getvalue() and ANSWER not in log.getvalue()
    assert [r.closed_by for r in relays(bot_of(d))] == ["requester"]


# --- a requester on Teams, an ally on Slack ---------------------------------------------------
def seen_by(h: TeamsHarness, user: TeamsUser) -> list[str]:
    return [line for card in h.standin.cards_to(user.aad_id) for line in teams_card_lines(card)]


def test_a_requester_on_teams_talks_with_an_ally_on_slack(sqlite_db):
    bot = make_bot(
        sqlite_db, seed=False, coordinators=Coordinators(people=["slack:UCASEY"], channel=None)
    )
    rows, errors = parse_roster(
        "platform,user,name,department,topics,capacity\nslack,UALI,Ali,Engineering,stress,2\n", 2
    )
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    slack = SlackStandIn(users={"UALI": _profile("Ali", "ali@example.com")})

    def to_ali() -> list[str]:
        return [
            text_of(c["blocks"])
            for c in slack.called("chat.postMessage")
            if c["channel"] == "DUALI"
        ]

    async def scenario(h: TeamsHarness, s: SlackHarness) -> None:
        eve = h.user("Eve Example")
        await h.say(eve, "findally")
        for label in ("Talk to an ally", "Stay anonymous: no", "stress"):
            await h.press(eve, label)
        offer = slack.called("chat.postMessage")[-1]
        assert offer["channel"] == "DUALI" and "Eve" not in text_of(offer["blocks"])
        accept = button(offer["blocks"], "Accept")
        await s.press("UALI", accept, channel="DUALI", message_blocks=offer["blocks"])
        assert any(t.startswith("Ali (Engineering) has accepted") for t in seen_by(h, eve))
        await h.say(eve, SECRET_WORDS)
        assert f"Your colleague: {SECRET_WORDS}" in to_ali()[-1]
        ali_says = {"type": "message", "channel_type": "im", "channel": "DUALI", "user": "UALI"}
        await s.event({**ali_says, "text": ANSWER, "ts": "7.7"}, "EvAli")
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        await s.event({**ali_says, "text": ANSWER, "ts": "7.7"}, "EvAli", retry)  # Slack again
        assert h.platforms is not None
        await h.platforms.drain()
        assert seen_by(h, eve).count(f"Your ally: {ANSWER}") == 1  # the retry is handled once
        await h.press(eve, "End conversation")
        await h.platforms.drain()
        assert any(t.startswith("You have ended the conversation.") for t in seen_by(h, eve))
        assert "Your colleague has ended the conversation." in to_ali()[-1]
        seen_by_ali = " ".join(to_ali())
        assert "Eve" not in seen_by_ali and eve.email not in seen_by_ali

    async def go() -> None:
        await slack.start()
        h = TeamsHarness(bot, ConnectorStandIn())
        try:
            await h.start(
                slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url
            )
            assert h.platforms is not None
            s = SlackHarness(bot, slack)  # signed Slack requests into the same web app
            s.server, s.http, s.slack = h.server, h.http, h.platforms.platforms["slack"]
            await scenario(h, s)
        finally:
            await h.stop()
            await slack.stop()

    asyncio.run(go())
    assert "quokka" not in stored_anywhere(bot) and ANSWER not in stored_anywhere(bot)


@SQLITE_ONLY  # SQLite enforces the foreign key from the relay to the request too
def test_a_relay_goes_with_its_request_when_retention_is_up(sh, bot):
    ask_anonymously(sh)
    sh("/as ali", "/press Accept", "/press End conversation")
    later = bot.clock.now() + timedelta(days=91)  # requests are kept 90 days (app.yaml)
    with bot.db.session() as session:
        removed = retention.purge(
            session,
            requests_before=later - timedelta(days=90),
            applications_before=later,
            audit_before=later,
            events_before=later,
            now=later,
        )
    assert (removed["relays"], removed["requests"]) == (1, 1)
    assert relays(bot) == []


@pytest.mark.parametrize(
    ("settings", "line", "problem"),
    [
        ("idle_days: 0", 2, "relay.idle_days: Input should be greater than or equal to 1"),
        ("per_minute: 30\n  per_day: 10", 1, "per_day must be at least per_minute"),
    ],
)
def test_relay_settings_are_checked_with_their_line(tmp_path, settings, line, problem):
    path = tmp_path / "app.yaml"
    path.write_text(f"{GOOD}relay:\n  {settings}\n")
    with pytest.raises(ProblemsFound) as found:
        load_app_config(path)
    (shown,) = [str(p) for p in found.value.problems]
    assert shown.startswith(f"{path}:{GOOD.count(chr(10)) + line}: ") and problem in shown
