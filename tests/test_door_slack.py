"""The Slack door (issue 22): what Slack may send that the bot does not use, fields of the wrong
type, and signed requests replayed within Slack's five minutes. Signed HTTP requests into the
real Bolt app (and Socket Mode envelopes into the real serve), a loopback Slack Web API."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from bot.config import Settings
from storage.models import Feedback, ProcessedEvent
from tests.conftest import make_bot
from tests.slack_harness import SlackHarness, button, event_body, run, sign, text_of
from tests.slack_standin import Call, SlackStandIn

FORM = "application/x-www-form-urlencoded"
COMMENT = "More ally sessions for the night shift, please."
THANKS = "Thank you. Your comment is saved without your name"
STALE = "That button no longer does anything. Type /findally to start again."
HELLO = "Hi, I am allybot."


@pytest.fixture
def standin() -> SlackStandIn:
    profile = {"display_name": "Eve", "real_name": "Eve", "email": "eve@example.com"}
    return SlackStandIn(users={"UEVE": {"id": "UEVE", "name": "eve", "profile": profile}})


@pytest.fixture
def bot(sqlite_db):
    return make_bot(sqlite_db, seed=False)


def payload_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def press_payload(action: dict[str, Any], trigger: str = "trig-p1") -> dict[str, Any]:
    """A block_actions payload as Slack sends it for a button in Eve's DM with the bot."""
    return {
        "type": "block_actions",
        "user": {"id": "UEVE"},
        "team": {"id": "T1"},
        "trigger_id": trigger,
        "container": {"type": "message", "message_ts": "7.5", "channel_id": "DUEVE"},
        "channel": {"id": "DUEVE"},
        "message": {"ts": "7.5", "blocks": []},
        "actions": [{"block_id": "b", "type": "button", "action_ts": "7.9", **action}],
    }


def eve_dm(text: object) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "DUEVE",
        "user": "UEVE",
        "text": text,
        "ts": "1.1",
    }


def web_calls(standin: SlackStandIn) -> list[Call]:
    """What the bot did towards Slack (auth.test is Bolt's own check of the token)."""
    return [c for c in standin.calls if c.method != "auth.test"]


def feedback_rows(bot) -> int:
    with bot.db.session() as session:
        return len(session.exec(select(Feedback)).all())


async def still_answers(h: SlackHarness) -> None:
    status, after = await h.command("UEVE")
    assert status == 200 and "How can we help?" in text_of(after["blocks"])


# --- 1. kinds the bot does not use -----------------------------------------------------------
UNUSED_PAYLOADS: dict[str, dict[str, Any]] = {
    "view_submission": {
        "type": "view_submission",
        "user": {"id": "UEVE"},
        "trigger_id": "t1",
        "view": {"id": "V1", "callback_id": "x", "state": {"values": {}}},
    },
    "view_submission-modal": {
        "type": "view_submission",
        "user": {"id": "UEVE"},
        "view": {"id": "V1", "type": "modal", "callback_id": "x", "state": {"values": {}}},
    },
    "view_closed": {"type": "view_closed", "user": {"id": "UEVE"}, "view": {"id": "V1"}},
    "shortcut": {"type": "shortcut", "user": {"id": "UEVE"}, "callback_id": "x"},
    "message_action": {
        "type": "message_action",
        "user": {"id": "UEVE"},
        "callback_id": "x",
        "channel": {"id": "C1"},
        "message": {"ts": "1.1", "text": "hi"},
    },
    "block_suggestion": {
        "type": "block_suggestion",
        "user": {"id": "UEVE"},
        "action_id": "findally:start",
        "block_id": "b",
        "value": "x",
    },
    "interactive_message": {
        "type": "interactive_message",
        "user": {"id": "UEVE"},
        "callback_id": "findally:start",
        "actions": [{"name": "x", "type": "button", "value": "v"}],
    },
    "dialog_submission": {
        "type": "dialog_submission",
        "user": {"id": "UEVE"},
        "callback_id": "feedback:send",
        "submission": {"x": "y"},
    },
}


def test_interactive_payloads_the_bot_does_not_use_are_a_404_before_bolt(bot, standin):
    """A modal, a shortcut, an old attachment button or dialog: the bot shows none of them, so
    each signed one is answered 404 with a JSON error (never a 500), and does nothing."""

    async def scenario(h: SlackHarness) -> tuple[dict[str, tuple[int, str]], list[Call], list]:
        answers = {k: await h.post(payload_body(p), FORM) for k, p in UNUSED_PAYLOADS.items()}
        await h.slack.drain()
        did = web_calls(standin)
        with bot.db.session() as session:  # the events the router saw
            dispatched = session.exec(select(ProcessedEvent)).all()
        await still_answers(h)
        return answers, did, dispatched

    answers, did, dispatched = asyncio.run(run(bot, standin, scenario))
    assert {k: s for k, (s, _) in answers.items()} == dict.fromkeys(UNUSED_PAYLOADS, 404)
    assert all(json.loads(body) == {"error": "unhandled request"} for _, body in answers.values())
    assert did == [] and dispatched == []


def test_events_the_bot_does_not_use_are_taken_and_url_verification_still_works(bot, standin):
    """Slack sends again an event that is not answered 2xx (and turns off delivery to an app
    that keeps failing): one the bot has no use for is taken with a 200 and ignored."""
    unused: dict[str, dict[str, Any]] = {
        "reaction_added": {"type": "reaction_added", "user": "UEVE", "item": {"channel": "C1"}},
        "app_mention": {"type": "app_mention", "user": "UEVE", "text": "hi", "channel": "C1"},
        "user_change": {"type": "user_change", "user": {"id": "UEVE", "name": "eve"}},
        "app_uninstalled": {"type": "app_uninstalled"},
    }

    async def scenario(h: SlackHarness) -> tuple[dict[str, int], tuple[int, str], list[Call]]:
        statuses = {k: await h.event(e, f"Ev-{k}") for k, e in unused.items()}
        limited = {"type": "app_rate_limited", "team_id": "T1", "minute_rate_limited": 1}
        statuses["app_rate_limited"] = (await h.post(json.dumps(limited), "application/json"))[0]
        challenge = await h.post(
            '{"type":"url_verification","challenge":"abc123","token":"t"}', "application/json"
        )
        did = web_calls(standin)
        await still_answers(h)
        return statuses, challenge, did

    statuses, challenge, did = asyncio.run(run(bot, standin, scenario))
    assert statuses == dict.fromkeys([*unused, "app_rate_limited"], 200)
    assert challenge[0] == 200 and "abc123" in challenge[1]
    assert did == []


# --- 2. fields of the wrong type ---------------------------------------------------------------
WRONG_TYPES = {
    "value-an-object": payload_body(press_payload({"action_id": "findally:start", "value": {}})),
    "value-a-list": payload_body(press_payload({"action_id": "findally:start", "value": [1]})),
    "value-a-number": payload_body(press_payload({"action_id": "findally:start", "value": 7})),
    "action-id-an-object": payload_body(press_payload({"action_id": {"x": 1}, "value": "v"})),
    "channel-a-number": payload_body(
        {**press_payload({"action_id": "findally:start", "value": ""}), "channel": 5}
    ),
    "container-a-string": payload_body(
        {**press_payload({"action_id": "findally:start", "value": ""}), "container": "x"}
    ),
    "text-a-number": event_body(eve_dm(5), "Ev-n"),
    "text-an-object": event_body(eve_dm({"text": "hi"}), "Ev-o"),
    "channel-a-list": event_body({**eve_dm("hi"), "channel": ["DUEVE"]}, "Ev-c"),
}


@pytest.mark.parametrize("body", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_field_of_the_wrong_type_is_a_400_at_the_door(bot, standin, body):
    """A button's value or id, a message's text or channel, that is not a string (a press's
    channel or container that is not an object) failed in Bolt with a 500, or after the ack
    with no answer: it is refused before Bolt, and nothing happens."""
    content_type = "application/json" if body.startswith("{") else FORM

    async def scenario(h: SlackHarness) -> tuple[int, str, list[Call]]:
        status, text = await h.post(body, content_type)
        await h.slack.drain()
        did = web_calls(standin)
        await still_answers(h)
        return status, text, did

    status, text, did = asyncio.run(run(bot, standin, scenario))
    assert status == 400, (status, text)
    assert json.loads(text) == {"error": "malformed request"}
    assert did == []


def test_over_socket_mode_a_field_of_the_wrong_type_gets_a_plain_answer(
    bot, standin, unused_port, caplog
):
    """Socket Mode skips the HTTP door, so the listeners read each field for what it is: a
    press whose value is an object is out of date, a DM whose text is a number says nothing
    (so: help), and no work fails."""
    from bot.serve import serve

    press = press_payload({"action_id": "findally:start", "value": {"x": 1}}, "trig-sock-1")
    standin.socket_envelopes.extend(
        [
            {"envelope_id": "env-press", "type": "interactive", "payload": press},
            {
                "envelope_id": "env-dm",
                "type": "events_api",
                "payload": json.loads(event_body(eve_dm(5), "Ev-sock-1")),
            },
        ]
    )

    def said(words: str):
        return lambda c: c.method == "chat.postMessage" and words in text_of(c.args["blocks"])

    async def scenario() -> None:
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
            await standin.wait_for(said(STALE), timeout=10)
            await standin.wait_for(said(HELLO), timeout=10)
        finally:
            stop.set()
            await server
            await standin.stop()

    asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- 3. replays --------------------------------------------------------------------------------
def test_a_replayed_slash_command_keeps_one_comment_and_is_still_acked(bot, standin):
    """The same signed /allyfeedback sent three times within five minutes (one trigger id):
    one comment, one thank-you; each replay gets an empty 200 ack and changes nothing."""
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": "DUEVE",
            "user_id": "UEVE",
            "command": "/allyfeedback",
            "text": COMMENT,
            "trigger_id": "trig-replayed",
            # not Slack's: anything said after the ack would go by DM, where it can be seen
            "response_url": "https://hooks.invalid/commands/replayed",
        }
    )

    async def scenario(h: SlackHarness) -> list[tuple[int, str]]:
        signed = sign(body)  # the very request, headers and all, three times
        answers = [await h.post(body, FORM, signed) for _ in range(3)]
        await h.slack.drain()
        return answers

    answers = asyncio.run(run(bot, standin, scenario))
    assert [status for status, _ in answers] == [200, 200, 200]
    assert THANKS in text_of(json.loads(answers[0][1])["blocks"])
    assert [text for _, text in answers[1:]] == ["", ""]
    assert feedback_rows(bot) == 1
    thanks = [c for c in standin.calls if THANKS in text_of(c.args.get("blocks") or [])]
    assert thanks == []  # the one thank-you was the first ack; no replay sent another


def test_a_replayed_press_keeps_one_comment(bot, standin):
    """Eve's "feedback ..." DM asks whether to send it; the same signed press of "Send it
    anonymously" arrives three times: one comment, one thank-you."""

    async def scenario(h: SlackHarness) -> list[int]:
        assert await h.event(eve_dm(f"feedback {COMMENT}"), "Ev-fb") == 200
        asked = standin.called("chat.postMessage")[-1]["blocks"]
        send = button(asked, "Send it anonymously")
        body = payload_body(press_payload(send, "trig-fb-press"))
        signed = sign(body)
        statuses = [(await h.post(body, FORM, signed))[0] for _ in range(3)]
        await h.slack.drain()
        return statuses

    statuses = asyncio.run(run(bot, standin, scenario))
    assert statuses == [200, 200, 200]
    assert feedback_rows(bot) == 1
    thanks = [c for c in standin.calls if THANKS in text_of(c.args.get("blocks") or [])]
    assert len(thanks) == 1
