"""Teams benchmark: allybot's /api/messages against a bare Agents SDK app, side by side.

Both run in this process on loopback, behind the Agents SDK's aiohttp CloudAdapter, against the
same loopback Bot Connector stand-in, in no-auth mode (token validation is the same cost for
both and needs Entra). Both receive the same `findally` messages from a pool of employees who
have used the bot before: 400 at concurrency 1, then 400 at concurrency 50. The bare app
replies with one message through the turn's connector client, inside the request, as a plain
Agents SDK bot does; allybot acknowledges at once and replies after the commit. Prints the
acknowledgement time (p50/p95/p99), requests per second, the time until every reply reached
the stand-in, and peak memory.

    .venv/bin/python -m bench.teams_bench [--requests 400] [--concurrency 50]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from bench.measure import main, peak_memory, ratios, summary
from bot.app import build
from bot.clock import Clock
from bot.config import REPO_ROOT, Settings, load_settings
from bot.platforms.teams.adapter import TurnClients
from bot.serve import build_web_app
from tests import teams_activities as act
from tests.teams_standin import ConnectorStandIn

POOL = 100


class _Echo:
    """The smallest useful Agents SDK bot: one reply per message."""

    async def on_turn(self, context: TurnContext) -> None:
        if context.activity.type == "message":
            await context.send_activity(Activity(type="message", text="hello"))


def bare_app() -> web.Application:
    adapter = CloudAdapter(channel_service_client_factory=TurnClients())
    agent = _Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        request["claims_identity"] = ClaimsIdentity({}, authentication_type="anonymous")
        return await adapter.process(request, agent) or web.Response(status=200)

    web_app = web.Application()
    web_app.router.add_post("/api/messages", messages)
    return web_app


def allybot_app(data: Path) -> tuple[web.Application, Any]:
    settings = load_settings({"ALLYBOT_CONFIG": str(REPO_ROOT / "app.yaml")})
    settings = Settings(
        **{
            **settings.__dict__,
            "database_url": f"sqlite:///{data / 'b.db'}",
            "teams_no_auth": True,
            "teams_app_id": act.APP_ID,
        }
    )
    bot = build(settings, clock=Clock())
    web_app, platforms = build_web_app(bot)
    teams = platforms.platforms["teams"]
    return web_app, teams


async def fire(
    url: str, bodies: list[dict[str, Any]], concurrency: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as http:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                async with http.post(url, json=body) as resp:
                    await resp.read()
                    assert resp.status in (200, 202), resp.status
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


async def run(requests: int, concurrency: int) -> None:
    standin = ConnectorStandIn()
    await standin.start()
    pool = [act.TeamsUser.make(f"Employee {i}") for i in range(POOL)]
    for user in pool:
        standin.add_user(user)
    results: dict[tuple[str, int], tuple[list[float], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("bare Agents SDK", "allybot"):
            if name == "allybot":
                web_app, teams = allybot_app(Path(tmp))
                teams.connector.conversations.interval = 0.0  # the stand-in has no limits
                teams.connector.tenants.interval = 0.0
            else:
                web_app, teams = bare_app(), None
            server = TestServer(web_app, host="127.0.0.1")
            await server.start_server()
            url = str(server.make_url("/api/messages"))
            # Everyone has used the bot before (profile and conversation known).
            warm = [act.message(u, "findally", service_url=standin.service_url) for u in pool]
            await fire(url, warm, 10)
            if teams is not None:
                await teams.drain()
            for c in (1, concurrency):
                before = len(standin.calls)
                bodies = [
                    act.message(pool[i % POOL], "findally", service_url=standin.service_url)
                    for i in range(requests)
                ]
                t0 = time.perf_counter()
                lat, wall = await fire(url, bodies, c)
                if teams is not None:
                    await teams.drain()
                replied = time.perf_counter() - t0
                results[(name, c)] = (lat, wall)
                sends = len([x for x in standin.calls[before:] if x.kind == "send"])
                print(
                    summary(f"{name} ack, concurrency {c}", lat),
                    f" {requests / wall:7.1f} req/s  ({sends} replies, all in {replied:.2f} s)",
                )
            await server.close()
            print(peak_memory())
    await standin.stop()
    print()
    print("\n".join(ratios(results, "bare Agents SDK", requests, (1, concurrency))))


if __name__ == "__main__":
    main(run, __doc__)
