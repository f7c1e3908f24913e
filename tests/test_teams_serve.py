"""`allybot serve` with Teams: /api/messages in the same server and loop as /healthz and the
scheduler, through the CLI's own settings (the environment)."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.config import Settings
from bot.serve import serve
from handlers.yamlfile import ProblemsFound
from tests import teams_activities as act
from tests.conftest import make_bot
from tests.teams_standin import ConnectorStandIn


def test_serve_answers_teams_and_healthz_on_one_port(db, unused_port):
    bot = make_bot(db)
    standin = ConnectorStandIn()
    eve = act.TeamsUser.make("Eve Teams")

    async def scenario() -> tuple[int, int, int]:
        await standin.start()
        standin.add_user(eve)
        bot.settings = Settings(
            **{**bot.settings.__dict__, "teams_no_auth": True, "port": unused_port}
        )
        stop, started = asyncio.Event(), asyncio.Event()
        server = asyncio.create_task(serve(bot, stop, started))
        base = f"http://127.0.0.1:{unused_port}"
        try:
            await started.wait()
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/healthz") as resp:
                    health = resp.status
                async with http.get(f"{base}/readyz") as resp:
                    assert resp.status == 200 and (await resp.json())["ok"] is True
                activity = act.message(eve, "resources", service_url=standin.service_url)
                async with http.post(f"{base}/api/messages", json=activity) as resp:
                    accepted = resp.status
                far = act.message(
                    eve, "resources", service_url="https://smba.trafficmanager.net/teams/"
                )
                async with http.post(f"{base}/api/messages", json=far) as resp:
                    refused = resp.status
                await standin.wait_for(lambda c: c.kind == "send")
        finally:
            stop.set()
            await server
            await standin.stop()
        return health, accepted, refused

    health, accepted, refused = asyncio.run(scenario())
    assert (health, accepted, refused) == (200, 202, 401)
    cards = standin.cards_to(eve.aad_id)
    assert cards and "Samaritans" in str(cards[0])
    # no-auth mode sends no token outward
    assert all(c.authorization is None for c in standin.calls)


def test_teams_without_its_secret_does_not_start(db):
    bot = make_bot(db)
    bot.settings = Settings(
        **{**bot.settings.__dict__, "teams_app_id": act.APP_ID, "teams_app_password": None}
    )
    try:
        asyncio.run(serve(bot, asyncio.Event()))
    except ProblemsFound as exc:
        assert "MICROSOFT_APP_PASSWORD" in str(exc.problems[0])
    else:
        raise AssertionError("serve started without MICROSOFT_APP_PASSWORD")
