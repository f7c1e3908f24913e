"""A loopback stand-in for the Slack Web API: real HTTP on a free port, every call recorded.

It also plays the `response_url` endpoints Slack gives to slash commands and buttons.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.time)  # when it arrived (conversations.history)


def default_channels() -> dict[str, dict[str, Any]]:
    """The workspace's channels by id: #coordinators is private with the bot in it."""
    return {
        "CCOORDS": {"id": "CCOORDS", "name": "coordinators", "is_private": True},
        "CGENERAL": {"id": "CGENERAL", "name": "general", "is_private": False},
    }


@dataclass
class SlackStandIn:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # conversations.list and conversations.info answer from these (channel id -> channel)
    channels: dict[str, dict[str, Any]] = field(default_factory=default_channels)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)  # method -> statuses to give
    refusals: dict[str, str] = field(default_factory=dict)  # method -> Slack error, every time
    # Fault tests (tests/test_fault_kill.py) kill the bot from these. `before_call` sees each Web
    # API or response_url call as it arrives: True means it never got through (not recorded,
    # not answered). `after_call` runs once a recorded call's answer has been sent.
    before_call: Callable[[Call], Awaitable[bool]] | None = None
    after_call: Callable[[Call], Awaitable[None]] | None = None
    # Awaited once a Web API call is recorded (it shows in history at once), before it is
    # answered: a slow Slack, which may take a post and answer a sender that has died since.
    before_answer: Callable[[Call], Awaitable[None]] | None = None
    server: TestServer | None = None
    _arrived: asyncio.Condition | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def response_url(self, name: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/respond/{name}"))

    def fail_next(self, method: str, *statuses: int) -> None:
        self.failures.setdefault(method, []).extend(statuses)

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    async def wait_for(
        self, match: Callable[[Call], bool], start: int = 0, timeout: float = 30
    ) -> Call:
        """The first call from index `start` on that matches, waiting for it if need be."""
        assert self._arrived is not None

        async def seek() -> Call:
            async with self._arrived:
                while True:
                    found = next((c for c in self.calls[start:] if match(c)), None)
                    if found is not None:
                        return found
                    await self._arrived.wait()

        return await asyncio.wait_for(seek(), timeout)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._arrived = asyncio.Condition()
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            return {**args, **json.loads(raw or "{}")}
        args.update(parse_qsl(raw))
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    socket_envelopes: list[dict[str, Any]] = field(default_factory=list)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, push the queued envelopes, record what the app sends back."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.socket_envelopes:
            await ws.send_json(envelope)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                self.calls.append(Call("socket:ack", json.loads(msg.data)))
                async with self._arrived:
                    self._arrived.notify_all()
        return ws

    async def _respond(self, request: web.Request) -> web.Response:
        call = Call(f"respond:{request.match_info['name']}", await self._args(request))
        if self.before_call is not None and await self.before_call(call):
            return web.Response(status=503)
        self.calls.append(call)
        return await self._answered(request, call, web.Response(text="ok"))

    async def _answered(
        self, request: web.Request, call: Call, response: web.Response
    ) -> web.Response:
        """Send the answer, then run `after_call` (the answer is out before it runs)."""
        if self.after_call is not None:
            await response.prepare(request)
            await response.write_eof()
            await self.after_call(call)
        return response

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        if self.before_call is not None and await self.before_call(Call(method, args)):
            return web.Response(status=503)
        pending = self.failures.get(method)
        if pending:
            status = pending.pop(0)
            self.calls.append(Call(f"{method}!{status}", args))
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=status, headers=headers
            )
        call = Call(method, args)
        self.calls.append(call)
        async with self._arrived:
            self._arrived.notify_all()
        if method in self.refusals:
            return web.json_response({"ok": False, "error": self.refusals[method]})
        if self.before_answer is not None:
            await self.before_answer(call)
        return await self._answered(request, call, web.json_response(self._answer(method, args)))

    def _history(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's messages posted in a channel, newest first: those that arrived after
        `oldest` (compared with when each arrived: a ts here is a call's number), `limit` at
        most."""
        channel, oldest = args.get("channel"), float(args.get("oldest") or 0)
        limit = min(int(args.get("limit") or 100), 1000)
        # a channel is asked for by id; the bot posts to it by id or by "#name"
        name = self.channels.get(str(channel), {}).get("name")
        places = {channel, f"#{name}"} if name else {channel}
        found = [
            {
                "type": "message",
                "ts": f"{n}.0",  # what chat.postMessage answered for it
                "user": "UBOT",
                "bot_id": "BBOT",
                "text": c.args.get("text", ""),
                "blocks": c.args.get("blocks") or [],
            }
            for n, c in enumerate(self.calls, 1)
            if c.method == "chat.postMessage" and c.args.get("channel") in places and c.at >= oldest
        ]
        return found[::-1][:limit]

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            assert self.server is not None
            return {"ok": True, "url": str(self.server.make_url("/socket")).replace("http", "ws")}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        if method == "conversations.open":
            users = sorted(str(args.get("users", "")).split(","))
            return {
                "ok": True,
                "channel": {"id": ("G" if len(users) > 1 else "D") + "_".join(users)},
            }
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return {"ok": True, "channel": args.get("channel"), "ts": f"{len(self.calls)}.0"}
        if method == "conversations.history":
            return {"ok": True, "messages": self._history(args), "has_more": False}
        if method == "users.profile.get":
            user = self.users.get(args.get("user", ""))
            return (
                {"ok": True, "profile": user["profile"]}
                if user
                else {"ok": False, "error": "user_not_found"}
            )
        if method == "conversations.list":
            return {
                "ok": True,
                "channels": list(self.channels.values()),
                "response_metadata": {"next_cursor": ""},
            }
        if method == "conversations.info":
            found = self.channels.get(args.get("channel", ""))
            return (
                {"ok": True, "channel": found}
                if found
                else {"ok": False, "error": "channel_not_found"}
            )
        if method == "users.info":
            user = self.users.get(args.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        return {"ok": True}
