"""Drives the real aiohttp + Bolt app over HTTP with signed Slack payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import AllyBot
from bot.config import Settings
from bot.serve import build_web_app
from tests.slack_standin import SlackStandIn

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API callback as Slack sends it."""
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class SlackHarness:
    def __init__(self, bot: AllyBot, standin: SlackStandIn):
        self.bot = bot
        self.standin = standin
        self.server: TestServer | None = None
        self.http: aiohttp.ClientSession | None = None
        self._n = 0

    async def start(self) -> None:
        await self.standin.start()
        self.bot.settings = Settings(
            **{
                **self.bot.settings.__dict__,
                "slack_bot_token": TOKEN,
                "slack_signing_secret": SECRET,
                "slack_api_url": self.standin.url,
            }
        )
        web_app, platforms = build_web_app(self.bot)
        self.slack = platforms.platforms["slack"]
        self.server = TestServer(web_app, host="127.0.0.1")
        await self.server.start_server()
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.slack.drain()
        if self.http:
            await self.http.close()
        if self.server:
            await self.server.close()
        await self.standin.stop()

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        assert self.server and self.http
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        async with self.http.post(
            self.server.make_url("/slack/events"), data=body.encode(), headers=all_headers
        ) as resp:
            return resp.status, await resp.text()

    async def command(
        self, user: str, text: str = "", name: str = "/findally"
    ) -> tuple[int, dict[str, Any]]:
        n = self._next()
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "channel_id": "CGENERAL",
                "user_id": user,
                "command": name,
                "text": text,
                "trigger_id": f"trig-{n}",
                "response_url": self.standin.response_url(f"cmd{n}"),
            }
        )
        status, raw = await self.post(body, "application/x-www-form-urlencoded")
        await self.slack.drain()
        return status, (json.loads(raw) if raw.startswith("{") else {"raw": raw})

    async def press(
        self,
        user: str,
        button: dict[str, Any],
        *,
        channel: str = "D1",
        ephemeral: bool = False,
        message_blocks: list | None = None,
        ts: str | None = None,
        response_url: str | None = None,
    ) -> int:
        n = self._next()
        ts = ts or f"{n}.5"
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "trigger_id": f"trig-a{n}",
            "response_url": response_url or self.standin.response_url(f"act{n}"),
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": channel},
            "message": {"ts": ts, "blocks": message_blocks or []},
            # The block id says which message (outbox row) the button was in, as Slack sends it.
            "actions": [{"block_id": "b", **button, "type": "button", "action_ts": f"{n}.9"}],
        }
        status, _ = await self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        await self.slack.drain()
        return status

    async def event(
        self, event: dict[str, Any], event_id: str, headers: dict[str, str] | None = None
    ) -> int:
        status, _ = await self.post(event_body(event, event_id), "application/json", headers)
        await self.slack.drain()
        return status


def last_reply(standin: SlackStandIn) -> dict[str, Any]:
    """The newest ephemeral reply sent through a response_url (not a pressed-button update)."""
    replies = [
        c.args
        for c in standin.calls
        if c.method.startswith("respond:") and not c.args.get("replace_original")
    ]
    return replies[-1]


def buttons_in(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        if block.get("type") == "actions":
            for el in block["elements"]:
                found.append(
                    {
                        "action_id": el["action_id"],
                        "value": el.get("value", ""),
                        "text": el["text"],
                        "block_id": block.get("block_id", "b"),
                    }
                )
    return found


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    for b in buttons_in(blocks):
        if b["text"]["text"] == label:
            return b
    raise AssertionError(
        f"no button {label!r} in {[b['text']['text'] for b in buttons_in(blocks)]}"
    )


def text_of(blocks: list[dict[str, Any]]) -> str:
    """All the words in Block Kit blocks, as a reader would see them."""
    out = []
    for block in blocks:
        if block["type"] == "rich_text":
            for section in block["elements"]:
                out.append("".join(el.get("text", "") for el in section["elements"]))
        elif block["type"] == "context":
            out.extend(el.get("text", "") for el in block["elements"])
        elif block["type"] == "section":
            out.append(block["text"]["text"])
    return "\n".join(out)


async def run(
    bot: AllyBot, standin: SlackStandIn, scenario: Callable[[SlackHarness], Awaitable[Any]]
) -> Any:
    harness = SlackHarness(bot, standin)
    await harness.start()
    try:
        return await scenario(harness)
    finally:
        await harness.stop()
