"""`allybot serve`: one asyncio loop, one aiohttp server (/healthz, /slack/events), the sweeper.

Slack runs over Socket Mode when SLACK_APP_TOKEN is set, otherwise over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app import AllyBot
from bot.scheduler import Calendar, start
from handlers.yamlfile import Problem, ProblemsFound

if TYPE_CHECKING:  # imported only when Slack is configured (it loads slack_bolt)
    from bot.platforms.slack.adapter import SlackPlatform

log = logging.getLogger(__name__)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_web_app(bot: AllyBot) -> tuple[web.Application, SlackPlatform | None]:
    """The aiohttp app and the Slack platform (None when Slack is not configured)."""
    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    slack = None
    s = bot.settings
    if s.slack_bot_token:
        from bot.platforms.slack.adapter import SlackPlatform

        if not s.slack_app_token and not s.slack_signing_secret:
            raise ProblemsFound(
                [
                    Problem(
                        "environment",
                        None,
                        "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN "
                        "(Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is",
                        "set one of them; see the README's Slack section",
                    )
                ]
            )
        slack = SlackPlatform(
            bot,
            s.slack_bot_token,
            s.slack_signing_secret or "unused",
            api_url=s.slack_api_url,
            socket_mode=bool(s.slack_app_token),
        )
        slack.add_routes(web_app)
    return web_app, slack


async def serve(bot: AllyBot, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or until `stop` is set, when one is given)."""
    web_app, slack = build_web_app(bot)
    if slack is None:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    "no platform is configured",
                    "set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or "
                    "SLACK_SIGNING_SECRET), or try `allybot shell --demo`",
                )
            ]
        )

    # Before any event or timer runs: a coordinator channel that is not private is numbers-only.
    await slack.check_coordinator_channel()
    calendar = Calendar(bot.router, slack)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, port=bot.settings.port)
    await site.start()
    scheduler = await start(calendar, bot.settings.app.organisation.timezone)
    socket_handler = None
    if bot.settings.slack_app_token:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(slack.app, bot.settings.slack_app_token)
        await socket_handler.connect_async()
        log.info("Slack connected over Socket Mode")
    log.info("serving on port %s", bot.settings.port)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        calendar.stop()
        if socket_handler is not None:
            await socket_handler.close_async()
        await slack.drain()
        await runner.cleanup()
