"""Slack slash-command benchmark: allybot in HTTP mode against a bare Bolt AsyncApp.

Both run in this process on loopback, against the same stand-in Slack Web API, and receive the
same signed `/findally` commands. The bare app is set up as allybot is: process_before_response,
the same reply blocks in the ack, and no Web API call (allybot makes none for `/findally` from
someone it knows). The two are run interleaved, round by round, so that a busy neighbour on the
machine slows both alike; what is printed is allybot's own cost per ack over the bare app's, with
its spread over the rounds. For allybot it also times a request from the button press to the
offer reaching the stand-in. Prints p50/p95/p99, requests per second and peak memory.

    .venv/bin/python -m bench.slack_bench [--requests 400] [--concurrency 50]
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bench.measure import main, pct, peak_memory, ratios, summary
from bot.app import AllyBot, build
from bot.clock import Clock
from bot.config import REPO_ROOT, Settings, load_settings
from bot.platforms.slack.adapter import make_client
from bot.serve import build_web_app
from handlers.allies import import_roster, parse_roster
from tests.slack_harness import SECRET, TOKEN, sign
from tests.slack_standin import SlackStandIn

POOL = 100
ROUNDS = 10  # each level's requests are sent in this many rounds, alternating the two apps


def command_body(user: str, n: int, standin: SlackStandIn) -> str:
    return urlencode(
        {
            "token": "t",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": user,
            "command": "/findally",
            "text": "",
            "trigger_id": f"bench-{user}-{n}",
            "response_url": standin.response_url(f"b{n}"),
        }
    )


def start_body(user: str, n: int, standin: SlackStandIn) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "trigger_id": f"press-{user}-{n}",
        "response_url": standin.response_url(f"p{n}"),
        "container": {
            "type": "message",
            "is_ephemeral": True,
            "message_ts": "1.1",
            "channel_id": "C1",
        },
        "actions": [
            {
                "type": "button",
                "action_id": "findally:start#0",
                "value": '{"t":null,"o":0,"a":0}',
                "action_ts": "1.2",
                "text": {"type": "plain_text", "text": "Any ally"},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def fire(url: str, bodies: list[str], concurrency: int) -> tuple[list[float], float]:
    """POST every body, signed, `concurrency` at a time. Returns latencies and wall time."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as http:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
                t0 = time.perf_counter()
                async with http.post(url, data=body.encode(), headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


async def bare_app(standin: SlackStandIn, reply: dict[str, Any]) -> web.Application:
    """The baseline: a plain Bolt AsyncApp set up as allybot's is (process_before_response, so
    the ack is the HTTP answer) that acks `/findally` with allybot's own reply (the same
    blocks) and makes no Web API call, as allybot makes none for it."""
    app = AsyncApp(
        client=make_client(TOKEN, standin.url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.command("/findally")
    async def findally(ack: Any) -> None:
        await ack(**reply)

    web_app = web.Application()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app.router.add_post("/slack/events", events)
    return web_app


def allybot(standin: SlackStandIn, data: Path, allies: int, **changes: Any) -> AllyBot:
    """allybot on a fresh SQLite file, talking to the stand-in, with `allies` allies of
    capacity 10 (and `changes` to app.yaml)."""
    settings = load_settings({"ALLYBOT_CONFIG": str(REPO_ROOT / "app.yaml")})
    settings = Settings(
        **{
            **settings.__dict__,
            "app": settings.app.model_copy(update=changes),
            "database_url": f"sqlite:///{data / 'b.db'}",
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
            "slack_api_url": standin.url,
        }
    )
    bot = build(settings, clock=Clock())
    roster = "platform,user,name,department,topics,capacity\n" + "".join(
        f"slack,UA{i:04d},Ally {i},Dept {i % 7},stress,10\n" for i in range(allies)
    )
    rows, errors = parse_roster(roster, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


def allybot_app(standin: SlackStandIn, data: Path, allies: int) -> tuple[web.Application, Any]:
    return build_web_app(allybot(standin, data, allies))


async def first_reply(url: str, standin: SlackStandIn) -> dict[str, Any]:
    """allybot's ack of a `/findally`: the ephemeral reply, as Slack receives it."""
    body = command_body("UE0000", 0, standin)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        reply: dict[str, Any] = await resp.json()
    assert reply.get("blocks"), reply
    return reply


def spread(values: list[float]) -> str:
    """The median of per-round figures, and their range."""
    ordered = sorted(values)
    return f"{ordered[len(ordered) // 2]:7.2f} ({ordered[0]:.2f} to {ordered[-1]:.2f})"


async def run(requests: int, concurrency: int) -> None:
    standin = SlackStandIn()
    await standin.start()
    names = ("bare Bolt", "allybot")
    results: dict[tuple[str, int], tuple[list[float], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ally_app, slack = allybot_app(standin, Path(tmp), allies=max(50, requests // 5))
        servers = {"allybot": TestServer(ally_app, host="127.0.0.1")}
        await servers["allybot"].start_server()
        url = {"allybot": str(servers["allybot"].make_url("/slack/events"))}
        reply = await first_reply(url["allybot"], standin)
        servers["bare Bolt"] = TestServer(await bare_app(standin, reply), host="127.0.0.1")
        await servers["bare Bolt"].start_server()
        url["bare Bolt"] = str(servers["bare Bolt"].make_url("/slack/events"))
        # Employees who have used the bot before (their profiles are known): the steady state.
        pool = [f"UE{i:04d}" for i in range(POOL)]
        for name in names:
            await fire(
                url[name], [command_body(u, -i - 1, standin) for i, u in enumerate(pool)], 10
            )
        await slack.drain()
        per_round = max(1, requests // ROUNDS)
        n = 0
        for c in (1, concurrency):
            lat: dict[str, list[float]] = {name: [] for name in names}
            wall = dict.fromkeys(names, 0.0)
            calls = dict.fromkeys(names, 0)
            p50s: dict[str, list[float]] = {name: [] for name in names}
            for r in range(ROUNDS):  # interleaved, each going first in turn: drift hits both
                for name in names if r % 2 == 0 else names[::-1]:
                    bodies = []
                    for i in range(per_round):
                        n += 1
                        bodies.append(command_body(pool[i % POOL], n, standin))
                    before = len(standin.calls)
                    round_lat, round_wall = await fire(url[name], bodies, c)
                    if name == "allybot":
                        await slack.drain()
                    calls[name] += len(standin.calls) - before
                    lat[name] += round_lat
                    wall[name] += round_wall
                    p50s[name].append(pct(round_lat, 50))
            for name in names:
                results[(name, c)] = (lat[name], wall[name])
                print(
                    summary(f"{name} ack, concurrency {c}", lat[name]),
                    f" {len(lat[name]) / wall[name]:7.1f} req/s  ({calls[name]} Web API calls)",
                )
            extra = [a - b for a, b in zip(p50s["allybot"], p50s["bare Bolt"], strict=True)]
            times = [a / b for a, b in zip(p50s["allybot"], p50s["bare Bolt"], strict=True)]
            print(f"{'  allybot cost per ack, p50 (ms)':<34} {spread(extra)}  over {ROUNDS} rounds")
            print(f"{'  allybot/bare p50 per round':<34} {spread(times)}")
            fresh = [f"UR{c}x{i:04d}" for i in range(max(1, requests // 2))]
            offer_lat = await offers(url["allybot"], fresh, c, standin, slack)
            print(summary(f"allybot press -> offer, concurrency {c}", offer_lat))
        for server in servers.values():
            await server.close()
        print(peak_memory())
    await standin.stop()
    print()
    print("\n".join(ratios(results, "bare Bolt", per_round * ROUNDS, (1, concurrency))))


async def offers(
    url: str, users: list[str], concurrency: int, standin: SlackStandIn, slack: Any
) -> list[float]:
    """Press "Any ally" for each user and time how long until an offer DM reaches Slack, with
    `concurrency` presses waiting at a time.

    Offers name nobody (only the ally who accepts learns who asked), so an offer cannot be told
    apart from another by its requester: the k-th press waits for the k-th offer to arrive
    (first come, first served, which is what the queue does)."""
    sem = asyncio.Semaphore(concurrency)
    out: list[float] = []
    pressed = 0
    arrived = 0
    changed = asyncio.Condition()
    start = len(standin.calls)

    async def watch() -> None:
        nonlocal arrived
        seen = start
        for _ in users:
            call = await standin.wait_for(is_offer, seen)
            seen = standin.calls.index(call, seen) + 1
            async with changed:
                arrived += 1
                changed.notify_all()

    watcher = asyncio.create_task(watch())
    async with aiohttp.ClientSession() as http:

        async def one(i: int, user: str) -> None:
            nonlocal pressed
            body = start_body(user, i, standin)
            async with sem:
                pressed += 1
                mine = pressed
                t0 = time.perf_counter()
                async with http.post(
                    url,
                    data=body.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
                ):
                    pass
                async with changed:
                    await changed.wait_for(lambda: arrived >= mine)
                out.append(time.perf_counter() - t0)

        await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    await watcher
    await slack.drain()
    return out


def is_offer(call: Any) -> bool:
    return call.method == "chat.postMessage" and "offer:accept" in json.dumps(
        call.args.get("blocks", "")
    )


if __name__ == "__main__":
    main(run, __doc__)
