"""Slack end to end: signed HTTP requests into the real Bolt app, a loopback Slack Web API."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block

from bot.config import Coordinators, Settings, Slack
from handlers.allies import import_roster, parse_roster
from tests.conftest import make_bot
from tests.slack_harness import button, last_reply, run, sign, text_of
from tests.slack_standin import SlackStandIn

ROSTER = """platform,user,name,department,topics,capacity
slack,UALI,Ali,Engineering,stress;workload,2
slack,UBO,Bo,Finance,grief,1
"""
EVIL = "<!channel> *Eve* <https://evil.example|click me> & <@U999>"


def eve_dm(text: str) -> dict:
    """A message.im event from Eve, as Slack sends it."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "DUEVE",
        "user": "UEVE",
        "text": text,
        "ts": "1.1",
    }


def _profile(name: str, email: str) -> dict:
    return {
        "id": "x",
        "name": name.lower(),
        "tz": "Europe/London",
        "profile": {"display_name": name, "real_name": name, "email": email},
    }


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UEVE": _profile("Eve", "eve@example.com"),
            "UALI": _profile("Ali", "ali@example.com"),
            "UBO": _profile("Bo", "bo@example.com"),
            "UCASEY": _profile("Casey", "casey@example.com"),
            "UEVIL": _profile(EVIL, "evil@example.com"),
        }
    )


@pytest.fixture
def bot(sqlite_db):
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


def all_blocks(standin: SlackStandIn) -> list[list[dict]]:
    found = []
    for call in standin.calls:
        if "blocks" in call.args:
            found.append(call.args["blocks"])
        if "view" in call.args:
            found.append(call.args["view"]["blocks"])
    return found


def assert_valid_block_kit(standin: SlackStandIn) -> None:
    for blocks in all_blocks(standin):
        assert len(blocks) <= 100
        for raw in blocks:
            Block.parse(raw).validate_json()
    for call in standin.calls:
        if "blocks" in call.args:
            assert call.args.get("text"), f"{call.method} has no text fallback"


def test_url_verification_echoes_the_challenge(bot, standin):
    async def scenario(h):
        return await h.post(
            '{"type":"url_verification","challenge":"abc123","token":"t"}', "application/json"
        )

    status, body = asyncio.run(run(bot, standin, scenario))
    assert status == 200 and "abc123" in body


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Signature": ""},
        sign("command=%2Ffindally&user_id=UEVE", int(time.time()) - 6 * 60),
        sign("command=%2Ffindally&user_id=UEVE", secret="wrong-secret"),
    ],
    ids=["forged", "missing", "six-minutes-old", "wrong-secret"],
)
def test_bad_signatures_are_rejected_with_401(bot, standin, headers):
    async def scenario(h):
        return await h.post(
            "command=%2Ffindally&user_id=UEVE", "application/x-www-form-urlencoded", headers
        )

    status, _ = asyncio.run(run(bot, standin, scenario))
    assert status == 401
    assert not [c for c in standin.calls if c.method != "auth.test"]


def test_findally_is_acked_privately_and_posts_nothing_in_a_channel(bot, standin):
    async def scenario(h):
        started = time.perf_counter()
        status, body = await h.command("UEVE", "feeling flat")
        return status, body, time.perf_counter() - started

    status, body, elapsed = asyncio.run(run(bot, standin, scenario))
    assert status == 200 and elapsed < 3
    assert body["response_type"] == "ephemeral"
    assert "Only you can see this." in text_of(body["blocks"])
    assert [b["text"]["text"] for b in body["blocks"][-2]["elements"]] == [
        "Talk to an ally",
        "Just show me resources",
        "I need urgent help",
    ]
    assert not standin.called("chat.postMessage")
    assert_valid_block_kit(standin)


def test_whole_path_from_command_to_group_dm(bot, standin):
    async def scenario(h):
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        prefs = last_reply(standin)
        await h.press("UEVE", button(prefs["blocks"], "stress"), ephemeral=True)
        offer = standin.called("chat.postMessage")[-1]
        assert offer["channel"] == "DUALI"
        assert "A colleague would like to talk." in text_of(offer["blocks"])
        await h.press(
            "UALI",
            button(offer["blocks"], "Accept"),
            channel="DUALI",
            message_blocks=offer["blocks"],
        )
        # a second press of the same (replayed) button changes nothing
        await h.press(
            "UALI",
            button(offer["blocks"], "Accept"),
            channel="DUALI",
            message_blocks=offer["blocks"],
        )

    asyncio.run(run(bot, standin, scenario))
    intro = [c for c in standin.called("chat.postMessage") if c["channel"] == "GUALI_UEVE"]
    assert len(intro) == 1 and "Eve, meet Ali." in text_of(intro[0]["blocks"])
    opened = [c["users"] for c in standin.called("conversations.open")]
    assert "UALI,UEVE" in opened
    updates = standin.called("chat.update")
    assert updates and all(u["channel"] == "DUALI" for u in updates)
    assert "You accepted this request." in text_of(updates[0]["blocks"])  # rewritten offer
    assert not any(b["type"] == "actions" for u in updates for b in u["blocks"])
    # Pressed in their DM with the bot: the answer is a message there (not ephemeral), which
    # the bot can find again after a crash instead of sending it twice.
    reply = standin.called("chat.postMessage")[-1]
    assert reply["channel"] == "DUALI" and "already moved on" in text_of(reply["blocks"])
    assert_valid_block_kit(standin)


def test_crisis_words_put_the_crisis_block_in_the_ack(bot, standin):
    async def scenario(h):
        return await h.command("UEVE", "i think i want to kill myself")

    _, body = asyncio.run(run(bot, standin, scenario))
    words = text_of(body["blocks"])
    assert words.index("get help now") < words.index("How can we help?")
    assert "Call 999" in words and "116 123" in words


def test_no_ally_alerts_the_coordinator_channel_and_dm_without_identity(bot, standin):
    async def scenario(h):
        await h.command("UALI", "away", name="/allystatus")
        await h.command("UBO", "away", name="/allystatus")
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        prefs = last_reply(standin)
        await h.press("UEVE", button(prefs["blocks"], "Any ally"), ephemeral=True)

    asyncio.run(run(bot, standin, scenario))
    posts = standin.called("chat.postMessage")
    channel = [p for p in posts if p["channel"] == "#coordinators"]
    dm = [p for p in posts if p["channel"] == "DUCASEY"]
    assert channel and dm
    for p in channel + dm:
        assert "found no available ally" in text_of(p["blocks"])
        assert "Eve" not in str(p) and "UEVE" not in str(p)


def test_dm_events_reach_the_router_once_and_bot_messages_are_ignored(bot, standin):
    async def scenario(h):
        msg = eve_dm("hello")
        await h.event(msg, "Ev1")
        await h.event(msg, "Ev1", {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
        await h.event(msg, "Ev1")
        await h.event({**msg, "bot_id": "BBOT", "user": "UBOT"}, "Ev2")
        await h.event({**msg, "subtype": "message_changed"}, "Ev3")

    asyncio.run(run(bot, standin, scenario))
    replies = [p for p in standin.called("chat.postMessage") if p["channel"] == "DUEVE"]
    assert len(replies) == 1 and "Hi, I am allybot." in text_of(replies[0]["blocks"])


def test_rate_limited_and_failing_calls_are_retried(bot, standin):
    standin.fail_next("chat.postMessage", 429, 500)

    async def scenario(h):
        await h.event(
            eve_dm("hi"),
            "Ev9",
        )

    asyncio.run(run(bot, standin, scenario))
    methods = [c.method for c in standin.calls if c.method.startswith("chat.postMessage")]
    assert methods == ["chat.postMessage!429", "chat.postMessage!500", "chat.postMessage"]


def test_a_failure_that_outlasts_retries_keeps_the_state_change(bot, standin, caplog):
    standin.fail_next("chat.postMessage", *[500] * 10)

    async def scenario(h):
        await h.command("UALI", "away", name="/allystatus")
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        prefs = last_reply(standin)
        await h.press("UEVE", button(prefs["blocks"], "grief"), ephemeral=True)

    asyncio.run(run(bot, standin, scenario))
    from sqlmodel import select

    from storage.models import Offer

    with bot.db.session() as session:
        assert len(session.exec(select(Offer)).all()) == 1  # the offer exists
    assert "slack DirectMessage failed" in caplog.text
    assert "Bo" not in caplog.text and "UBO" not in caplog.text


def test_user_text_is_shown_literally_everywhere(bot, standin):
    async def scenario(h):
        _, body = await h.command("UEVIL", "hi")
        await h.press("UEVIL", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        prefs = last_reply(standin)
        await h.press("UEVIL", button(prefs["blocks"], "grief"), ephemeral=True)
        offer = standin.called("chat.postMessage")[-1]
        await h.press("UBO", button(offer["blocks"], "Accept"), channel="DUBO")

    asyncio.run(run(bot, standin, scenario))
    (offer,) = [p for p in standin.called("chat.postMessage") if p["channel"] == "DUBO"]
    assert "evil" not in offer["text"]  # an offer never names the requester
    shown = [p for p in standin.called("chat.postMessage") if p["channel"] == "GUBO_UEVIL"]
    assert len(shown) == 1  # the group DM introduction
    for post in shown:
        elements = [
            el
            for b in post["blocks"]
            if b["type"] == "rich_text"
            for s in b["elements"]
            for el in s["elements"]
        ]
        assert {"type": "text", "text": EVIL} in elements or any(
            el.get("text") == EVIL for el in elements
        )  # a text element, never parsed
        assert all(el["type"] in ("text", "link") for el in elements)
        assert not any(el.get("url") == "https://evil.example" for el in elements)
        assert "<!channel>" not in post["text"] and "&lt;!channel&gt;" in post["text"]
    assert_valid_block_kit(standin)


def test_app_home_for_each_role(bot, standin):
    async def scenario(h):
        for user in ("UEVE", "UALI", "UCASEY"):
            await h.event(
                {"type": "app_home_opened", "user": user, "tab": "home", "channel": "D" + user},
                f"home-{user}",
            )

    asyncio.run(run(bot, standin, scenario))
    views = {c["user_id"]: text_of(c["view"]["blocks"]) for c in standin.called("views.publish")}
    assert "Interested in becoming an ally?" in views["UEVE"]
    assert "Your ally status: available · 0 of 2 conversations open" in views["UALI"]
    assert "Coordinator view." in views["UCASEY"]
    assert "Your ally status" not in views["UEVE"]
    assert_valid_block_kit(standin)


def test_slash_command_form_with_a_huge_text_is_answered(bot, standin):
    async def scenario(h):
        return await h.command("UEVE", "x" * 10_000)

    status, body = asyncio.run(run(bot, standin, scenario))
    assert status == 200 and "How can we help?" in text_of(body["blocks"])
    assert urlencode({"a": 1})  # keeps the import honest for form bodies


def test_healthz_answers(bot, standin):
    async def scenario(h):
        async with h.http.get(h.server.make_url("/healthz")) as resp:
            return resp.status, await resp.json()

    assert asyncio.run(run(bot, standin, scenario)) == (200, {"ok": True})


def _outside_department_request(h, standin):
    async def go():
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press(
            "UEVE",
            button(last_reply(standin)["blocks"], "Outside my department: no"),
            ephemeral=True,
        )
        return last_reply(standin)

    return go()


def test_department_is_asked_for_when_someone_wants_an_ally_outside_it(bot, standin):
    async def scenario(h):
        asked = await _outside_department_request(h, standin)
        assert "Which department are you in?" in text_of(asked["blocks"])
        await h.press("UEVE", button(asked["blocks"], "Engineering"), ephemeral=True)
        prefs = last_reply(standin)
        assert "someone outside my department: yes" in text_of(prefs["blocks"])
        await h.press("UEVE", button(prefs["blocks"], "stress"), ephemeral=True)

    asyncio.run(run(bot, standin, scenario))
    offers = [p["channel"] for p in standin.called("chat.postMessage")]
    assert offers == ["DUBO"]  # ali has stress but is in Engineering, like Eve now is


def test_department_comes_from_the_configured_profile_field(sqlite_db, standin):
    bot = make_bot(sqlite_db, seed=False, slack=Slack(department_field="Xf0DEPT1"))
    rows, _ = parse_roster(ROSTER, 2)
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    standin.users["UEVE"]["profile"]["fields"] = {"Xf0DEPT1": {"value": "Engineering"}}

    async def scenario(h):
        await h.event(
            eve_dm("hi"),
            "Ev-dept",
        )
        prefs = await _outside_department_request(h, standin)
        assert "someone outside my department: yes" in text_of(prefs["blocks"])  # not asked

    asyncio.run(run(bot, standin, scenario))
    assert standin.called("users.profile.get")


def test_serve_over_socket_mode(bot, standin, unused_port):
    """`allybot serve` with an app token: commands arrive and are acked over the WebSocket."""
    from bot.serve import serve

    standin.socket_envelopes.append(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "token": "t",
                "team_id": "T1",
                "channel_id": "C1",
                "user_id": "UEVE",
                "command": "/findally",
                "text": "",
                "trigger_id": "trig-sock",
                "response_url": "https://hooks.invalid/x",
            },
        }
    )

    async def scenario():
        await standin.start()
        bot.settings = Settings(
            **{
                **bot.settings.__dict__,
                "slack_bot_token": "xoxb-t",
                "slack_app_token": "xapp-t",
                "slack_api_url": standin.url,
                "port": unused_port,
            }
        )
        stop = asyncio.Event()
        server = asyncio.create_task(serve(bot, stop))
        try:
            ack = await standin.wait_for(lambda c: c.method == "socket:ack")
        finally:
            stop.set()
            await server
            await standin.stop()
        return ack.args

    ack = asyncio.run(scenario())
    assert ack["envelope_id"] == "env-1"
    assert "Only you can see this." in text_of(ack["payload"]["blocks"])


def test_a_locked_database_gets_a_prompt_try_again_and_healthz_stays_up(bot, standin):
    """Another process holds SQLite's write lock (a long migration, a stuck job): the ack still
    comes within Slack's 3 s, says to try again, and still leads with the crisis lines when
    the words call for them; /healthz answers; once the lock is gone all is as before."""
    import sqlite3

    path = bot.db.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)

    async def scenario(h):
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            status, body = await h.command("UEVE", "i want to kill myself")
            took = time.monotonic() - started
            async with h.http.get(h.server.make_url("/healthz")) as resp:
                health = resp.status
        finally:
            holder.execute("ROLLBACK")
        _, after = await h.command("UEVE")
        return status, body, took, health, after

    status, body, took, health, after = asyncio.run(run(bot, standin, scenario))
    holder.close()
    words = text_of(body["blocks"])
    assert status == 200 and took < 3.0
    assert "very busy right now and nothing was changed" in words
    assert words.index("get help now") < words.index("very busy")
    assert health == 200
    assert "How can we help?" in text_of(after["blocks"])


MALFORMED = {
    "payload-not-json": ("payload=notjson", "application/x-www-form-urlencoded"),
    "payload-a-list": (urlencode({"payload": "[]"}), "application/x-www-form-urlencoded"),
    "payload-no-user": (
        urlencode({"payload": '{"type": "block_actions", "actions": [{"action_id": "x"}]}'}),
        "application/x-www-form-urlencoded",
    ),
    "user-an-object": (
        urlencode({"payload": '{"type": "block_actions", "user": {"id": {"x": 1}}}'}),
        "application/x-www-form-urlencoded",
    ),
    "home-no-user": (
        '{"type": "event_callback", "event_id": "E1", "event": {"type": "app_home_opened"}}',
        "application/json",
    ),
    "json-a-list": ("[]", "application/json"),
    "json-broken": ("{not json", "application/json"),
    "command-no-user": (urlencode({"command": "/findally"}), "application/x-www-form-urlencoded"),
    "nothing-slack-sends": (urlencode({"hello": "world"}), "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("body,content_type", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_request_is_a_400_not_a_crash(bot, standin, body, content_type):
    async def scenario(h):
        status, text = await h.post(body, content_type)
        unsigned = await h.post(body, content_type, {"X-Slack-Signature": "v0=forged"})
        _, after = await h.command("UEVE")
        return status, text, unsigned[0], after

    status, text, unsigned, after = asyncio.run(run(bot, standin, scenario))
    assert status == 400 and "Traceback" not in text
    assert unsigned == 401  # a bad signature is still refused as such
    assert "How can we help?" in text_of(after["blocks"])  # and the bot still works


def test_an_answer_never_goes_to_a_response_url_that_is_not_slacks(bot, standin):
    """A press whose payload names a response_url elsewhere (another server on this machine,
    playing an attacker's): nothing is sent there; the answer reaches the person by DM."""
    elsewhere = SlackStandIn()

    async def scenario(h):
        await elsewhere.start()
        try:
            _, body = await h.command("UEVE")
            before = len(standin.calls)
            await h.press(
                "UEVE",
                button(body["blocks"], "Talk to an ally"),
                ephemeral=True,
                response_url=elsewhere.response_url("steal"),
            )
            return [c.method for c in standin.calls[before:]], list(elsewhere.calls)
        finally:
            await elsewhere.stop()

    methods, stolen = asyncio.run(run(bot, standin, scenario))
    assert stolen == []
    assert "chat.postMessage" in methods  # the answer went by DM instead


def test_a_press_that_fails_leaves_the_message_and_its_buttons(bot, standin):
    """The database fails under "Any ally": the person is told nothing changed, and the
    message they pressed keeps its buttons (no "✓ Any ally"), so they can simply press again."""

    async def scenario(h):
        _, body = await h.command("UEVE")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        prefs = last_reply(standin)
        with bot.db.engine.begin() as conn:  # a real failure inside the handler
            conn.exec_driver_sql("ALTER TABLE supportrequest RENAME TO supportrequest_gone")
        before = len(standin.calls)
        await h.press("UEVE", button(prefs["blocks"], "Any ally"), ephemeral=True)
        return standin.calls[before:]

    calls = asyncio.run(run(bot, standin, scenario))
    replies = [c.args for c in calls if c.method.startswith("respond:")]
    assert any("something went wrong" in text_of(r.get("blocks", [])) for r in replies)
    assert not any(r.get("replace_original") in (True, "true") for r in replies)
    assert not [c for c in calls if c.method == "chat.update"]
