"""Slack over HTTP: the signed request endpoint at /slack/events.

The signature is checked here first (401), then the shape, before Bolt, which fails on much of
what follows with a 500. A signed body that is not what Slack sends (a payload that is not
JSON, no user, a user that is not an id, a button's id or value or a message's text that is
not a string) is answered 400. What the bot has no listener for is answered here too: an
interactive payload other than a button press (a modal, a shortcut) 404; an Events API
callback of a type the bot does not use 200, since Slack sends again any event not answered
2xx.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:  # the adapter adds these routes, so it imports this module
    from bot.platforms.slack.adapter import SlackPlatform

log = logging.getLogger(__name__)

PATH = "/slack/events"
# What SlackPlatform._register listens to. Only these, slash commands and url_verification
# reach Bolt.
EVENTS = frozenset({"message", "app_home_opened"})
PAYLOADS = frozenset({"block_actions"})


def add_routes(web_app: web.Application, slack: SlackPlatform) -> None:
    verifier = SignatureVerifier(slack.signing_secret)

    async def events(request: web.Request) -> web.Response:
        body = await request.text()
        signed = verifier.is_valid(
            body,
            request.headers.get("X-Slack-Request-Timestamp", ""),
            request.headers.get("X-Slack-Signature", ""),
        )
        if not signed:  # Bolt would say the same, but parses the body first (a 500 if bad)
            return web.json_response({"error": "invalid request"}, status=401)
        if problem := malformed(body, request.content_type):
            log.warning("refused a signed Slack request: %s", problem)
            return web.json_response({"error": "malformed request"}, status=400)
        if kind := unused(body, request.content_type):
            log.info("a signed Slack request the bot does not use: %r", kind[:40])
            if request.content_type == "application/json":  # an event: taken, so not sent again
                return web.Response(status=200)
            return web.json_response({"error": "unhandled request"}, status=404)
        bolt_response = await slack.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post(PATH, events)


def malformed(body: str, content_type: str) -> str | None:
    """What is wrong with a request body that Slack would never send, or None. Only what the
    bot reads is checked: a kind it does not use may have any shape (`unused` answers it)."""
    if content_type == "application/json":
        data = _json(body)
        if not isinstance(data, dict):
            return "the JSON body is not an object"
        if data.get("type") != "event_callback":
            return None if isinstance(data.get("type"), str) else "no type"
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event without a type"
        if event["type"] not in EVENTS:  # user_change's user, for one, is an object
            return None
        if event["type"] == "app_home_opened" and not _id(event.get("user")):
            return "app_home_opened without a user"
        if "user" in event and not _id(event.get("user")):
            return "an event whose user is not an id"
        # The adapter and the router read both as strings: anything else failed after the ack.
        if not _string(event.get("text")) or not _string(event.get("channel")):
            return "an event whose text or channel is not a string"
        return None
    form = _form(body)
    if "payload" in form:
        payload = _json(form["payload"])
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "a payload that is not a JSON object with a type"
        if payload["type"] not in PAYLOADS:
            return None
        user = payload.get("user")
        if not isinstance(user, dict) or not _id(user.get("id")):
            return "a payload without a user id"
        if not _object(payload.get("container")) or not _object(payload.get("channel")):
            return "a container or channel that is not an object"
        actions = payload.get("actions", [])
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "actions that are not a list of objects"
        for action in actions:
            # A button's id and value are strings the bot made; the router reads them as such.
            if not isinstance(action.get("action_id"), str) or not _string(action.get("value")):
                return "an action whose id or value is not a string"
        return None
    if "command" in form:
        if not form["command"].startswith("/") or not _id(form.get("user_id")):
            return "a slash command without a command or a user id"
        return None
    return "neither an event, a payload nor a command"


def unused(body: str, content_type: str) -> str | None:
    """The kind of a well-formed request (`malformed` found nothing) that the bot has no
    listener for, or None for one that goes to Bolt."""
    if content_type == "application/json":
        data = _json(body)
        if data["type"] == "url_verification":  # Bolt echoes the challenge
            return None
        if data["type"] != "event_callback":  # app_rate_limited, for one
            return str(data["type"])
        kind = data["event"]["type"]
        return None if kind in EVENTS else str(kind)
    form = _form(body)
    if "payload" in form:
        kind = _json(form["payload"])["type"]
        return None if kind in PAYLOADS else str(kind)
    return None  # a slash command: every name is answered, an unknown one with help


def _form(body: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def _string(value: object) -> bool:
    """A string, or absent."""
    return value is None or isinstance(value, str)


def _object(value: object) -> bool:
    """A JSON object, or absent."""
    return value is None or isinstance(value, dict)
