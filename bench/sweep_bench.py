"""The sweeper against everyone else (issue 13): how fast `/findally` is acked over signed Slack
HTTP while a sweep of 1,000 due timers runs, and how long 200 awareness posts take when each
Slack call costs 100 ms.

allybot runs in this process on loopback (SQLite file, the real aiohttp app and Bolt adapter),
against the stand-in Slack Web API. The timers are the monthly check-ins of 1,000 allies, all
due at once: each DMs its ally and plans the next.

    .venv/bin/python -m bench.sweep_bench [--requests 400] [--concurrency 50]

--requests: /findally requests measured without a sweep (the baseline); --concurrency is unused
(one person at a time, as acks during a sweep are what is measured).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bench.measure import main, peak_memory, summary
from bench.slack_bench import allybot, command_body, fire
from bot import scheduler
from bot.app import AllyBot
from bot.config import Awareness, Coordinators
from bot.scheduler import Calendar
from bot.serve import build_web_app
from handlers.care import CHECK_IN
from storage.models import AllyProfile, Timer
from tests.slack_harness import sign
from tests.slack_standin import Call, SlackStandIn

ALLIES = 1000
CHANNELS = [f"team-{n:03}" for n in range(200)]
ROUND_TRIP = 0.1  # seconds a Slack call takes in the broadcast
AT_ONCE = scheduler.POSTS_AT_ONCE


def make(standin: SlackStandIn, data: Path, **changes: Any) -> AllyBot:
    return allybot(standin, data, ALLIES, **changes)


def due_now(bot: AllyBot) -> int:
    """Every ally's check-in falls due at once."""
    due = bot.clock.now() - timedelta(minutes=1)
    with bot.db.session() as session:
        allies = session.exec(select(AllyProfile.person_id)).all()
        session.add_all(Timer(kind=CHECK_IN, subject_id=a, due_at=due) for a in allies)
    return len(allies)


async def stall(requests: int) -> None:
    standin = SlackStandIn()
    await standin.start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = make(standin, Path(tmp))
        web_app, platforms = build_web_app(bot)
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url("/slack/events"))
        pool = [f"UE{i:04d}" for i in range(100)]
        await fire(url, [command_body(u, -i - 1, standin) for i, u in enumerate(pool)], 10)
        await platforms.drain()
        n = iter(range(10**9))
        quiet, _ = await fire(
            url, [command_body(pool[i % 100], next(n), standin) for i in range(requests)], 1
        )
        print(summary("/findally ack, no sweep", quiet))

        timers = due_now(bot)
        calendar = Calendar(bot.router, platforms)
        started = time.perf_counter()
        sweeping = asyncio.create_task(calendar.sweep())
        during: list[float] = []
        while not sweeping.done():
            lat, _ = await fire(url, [command_body(pool[next(n) % 100], next(n), standin)], 1)
            during.extend(lat)
        await sweeping
        swept = time.perf_counter() - started
        await platforms.drain()
        over = sum(1 for t in during if t > 3.0)
        print(summary(f"/findally ack, {timers} timers due", during))
        print(
            f"{'':<34} {len(during)} acks during the sweep, {over} over Slack's 3 s; "
            f"the sweep took {swept:.1f} s ({timers / swept:.0f} timers/s)"
        )
        print(
            f"{'ratio (sweep / no sweep)':<34} p50 "
            f"{_p(during, 50) / _p(quiet, 50):.2f}  p99 {_p(during, 99) / _p(quiet, 99):.2f}"
        )
        await server.close()
        bot.db.dispose()
    await standin.stop()


def _p(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def broadcast(at_once: int) -> float:
    """200 channels' awareness post, each Slack call taking ROUND_TRIP: seconds to send all."""
    standin = SlackStandIn()
    await standin.start()
    scheduler.POSTS_AT_ONCE = at_once

    async def slow(call: Call) -> bool:
        if call.method == "chat.postMessage":
            await asyncio.sleep(ROUND_TRIP)
        return False

    with tempfile.TemporaryDirectory() as tmp:
        bot = make(
            standin,
            Path(tmp),
            coordinators=Coordinators(people=["slack:UCASEY"], channel=None, digest="off"),
            awareness=Awareness(channels=CHANNELS),
        )
        web_app, platforms = build_web_app(bot)
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        body = urlencode(
            {
                "team_id": "T1",
                "channel_id": "C1",
                "user_id": "UCASEY",
                "command": "/allyadmin",
                "text": "awareness send weekly-tips",
                "trigger_id": "t",
                "response_url": standin.response_url("admin"),
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        async with aiohttp.ClientSession() as http:
            url = str(server.make_url("/slack/events"))
            async with http.post(url, data=body.encode(), headers=headers) as resp:
                assert resp.status == 200
        await platforms.drain()
        standin.before_call = slow
        started = time.perf_counter()
        sent = await Calendar(bot.router, platforms).send_posts()
        took = time.perf_counter() - started
        assert sent == len(CHANNELS), sent
        await server.close()
        bot.db.dispose()
    await standin.stop()
    return took


async def run(requests: int, _concurrency: int) -> None:
    print("machine: 2 cores, shared with other work; SQLite file")
    await stall(requests)
    print(peak_memory())
    print()
    together = [await broadcast(AT_ONCE) for _ in range(3)]
    one_by_one = await broadcast(1)
    print(
        f"{'200 channels at 100 ms, together':<34} "
        f"{min(together):.2f} / {sorted(together)[1]:.2f} / {max(together):.2f} s (min/med/max)"
    )
    print(f"{'200 channels, one at a time':<34} {one_by_one:.2f} s")
    print(f"{'ratio (one at a time / together)':<34} {one_by_one / sorted(together)[1]:.1f}")


if __name__ == "__main__":
    main(run, __doc__)
