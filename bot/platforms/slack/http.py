"""Slack over HTTP: the signed request endpoint at /slack/events.

The signature is checked here first (401), then the shape: a signed body that is not what
Slack sends (a payload that is not JSON, no user, a user that is not an id) is answered 400,
before Bolt, which would fail on it with a 500.
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
        bolt_response = await slack.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post(PATH, events)


def malformed(body: str, content_type: str) -> str | None:
    """What is wrong with a request body that Slack would never send, or None."""
    if content_type == "application/json":
        data = _json(body)
        if not isinstance(data, dict):
            return "the JSON body is not an object"
        if data.get("type") != "event_callback":
            return None if isinstance(data.get("type"), str) else "no type"
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event without a type"
        if event["type"] == "app_home_opened" and not _id(event.get("user")):
            return "app_home_opened without a user"
        if "user" in event and not _id(event.get("user")):
            return "an event whose user is not an id"
        return None
    form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
    if "payload" in form:
        payload = _json(form["payload"])
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "a payload that is not a JSON object with a type"
        user = payload.get("user")
        if not isinstance(user, dict) or not _id(user.get("id")):
            return "a payload without a user id"
        actions = payload.get("actions", [])
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "actions that are not a list of objects"
        return None
    if "command" in form:
        if not form["command"].startswith("/") or not _id(form.get("user_id")):
            return "a slash command without a command or a user id"
        return None
    return "neither an event, a payload nor a command"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64
