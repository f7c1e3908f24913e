"""Drives the real aiohttp app and the real Agents SDK adapter over HTTP with Teams activities,
against a loopback Bot Connector stand-in (and, with auth on, a loopback OpenID/JWKS issuer)."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import AllyBot
from bot.config import Settings
from bot.platforms.fanout import Fanout
from bot.platforms.teams.adapter import TeamsPlatform
from bot.serve import build_web_app
from tests import teams_activities as act
from tests.teams_standin import ConnectorStandIn, TokenIssuer


class TeamsHarness:
    def __init__(self, bot: AllyBot, standin: ConnectorStandIn, issuer: TokenIssuer | None = None):
        self.bot, self.standin, self.issuer = bot, standin, issuer
        self.server: TestServer | None = None
        self.http: aiohttp.ClientSession | None = None
        self.platforms: Fanout | None = None

    @property
    def teams(self) -> TeamsPlatform:
        assert self.platforms is not None
        platform = self.platforms.platforms["teams"]
        assert isinstance(platform, TeamsPlatform)
        return platform

    async def start(self, **settings: Any) -> None:
        """Serve the bot's web app; no-auth mode unless an issuer was given."""
        await self.standin.start()
        if self.issuer is not None:
            await self.issuer.start()
            auth = {
                "teams_app_id": act.APP_ID,
                "teams_app_password": "unused-in-tests",
                "teams_tenant_id": act.TENANT_ID,
                "teams_openid_url": self.issuer.openid_url,
            }
        else:
            auth = {"teams_no_auth": True, "teams_app_id": act.APP_ID}
        self.bot.settings = Settings(**{**self.bot.settings.__dict__, **auth, **settings})
        web_app, self.platforms = build_web_app(self.bot)
        # Retries happen at once in tests (the pace and backoff are injected, never slept).
        self.teams.connector.retry_base = 0.0
        self.teams.connector.conversations.interval = 0.0
        self.teams.connector.tenants.interval = 0.0
        self.server = TestServer(web_app, host="127.0.0.1")
        await self.server.start_server()
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self.platforms is not None:
            await self.platforms.drain()
        if self.http:
            await self.http.close()
        if self.server:
            await self.server.close()
        await self.standin.stop()
        if self.issuer is not None:
            await self.issuer.stop()

    async def post(
        self, activity: dict[str, Any] | str | bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """POST /api/messages and wait for the work it started; (status, JSON body or None)."""
        assert self.server is not None and self.http is not None
        url = str(self.server.make_url("/api/messages"))
        if isinstance(activity, dict):
            if self.issuer is not None and headers is None:
                token = self.issuer.mint(act.APP_ID, activity.get("serviceUrl"))
                headers = {"Authorization": f"Bearer {token}"}
            async with self.http.post(url, json=activity, headers=headers or {}) as resp:
                status, text = resp.status, await resp.text()
        else:
            hdrs = {"Content-Type": "application/json", **(headers or {})}
            async with self.http.post(url, data=activity, headers=hdrs) as resp:
                status, text = resp.status, await resp.text()
        await self.teams.drain()
        try:
            import json

            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    # --- a person's side ----------------------------------------------------------------------
    def user(self, name: str, email: str | None = None) -> act.TeamsUser:
        user = act.TeamsUser.make(name, email)
        self.standin.add_user(user)
        return user

    async def say(self, user: act.TeamsUser, text: str) -> tuple[int, Any]:
        return await self.post(act.message(user, text, service_url=self.standin.service_url))

    async def press(self, user: act.TeamsUser, label: str, start: int = 0) -> dict[str, Any]:
        """Press the button labelled `label` on the latest card sent to `user` that has one;
        the invoke response's body (the card that replaces it)."""
        for call in reversed(self.standin.calls[start:]):
            if call.kind not in ("send", "update") or self._aad_of(call) != user.aad_id:
                continue
            for card in _cards(call.body):
                action = _find_action(card, label)
                if action is not None:
                    activity_id = call.activity_id if call.kind == "update" else call.response_id
                    status, body = await self.post(
                        act.card_action(
                            user,
                            action["verb"],
                            action["data"],
                            reply_to_id=activity_id,
                            service_url=self.standin.service_url,
                        )
                    )
                    assert status == 200, (status, body)
                    return body
        raise AssertionError(f"no button {label!r} on any card sent to {user.name}")

    def _aad_of(self, call: Any) -> str | None:
        return self.standin.conversations.get(call.conversation_id or "")

    def texts(self, user: act.TeamsUser) -> list[str]:
        """Every piece of text in every card sent to `user`, in order (one string per card)."""
        return [_card_text(card) for card in self.standin.cards_to(user.aad_id)]


def _cards(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    return [
        a["content"] for a in body.get("attachments") or [] if a.get("contentType") == act.CARD_TYPE
    ]


def _walk(node: Any):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _find_action(card: dict[str, Any], label: str) -> dict[str, Any] | None:
    for node in _walk(card):
        if node.get("type") == "Action.Execute" and node.get("title", "").startswith(label):
            return node
    return None


def _card_text(card: dict[str, Any]) -> str:
    parts = []
    for node in _walk(card):
        if node.get("type") in ("TextRun", "TextBlock") and isinstance(node.get("text"), str):
            parts.append(node["text"])
    return " ".join(parts)
