"""`allybot serve`: one asyncio loop, one aiohttp server for every platform (/slack/events,
/api/messages), /healthz, and the scheduler.

Slack runs over Socket Mode when SLACK_APP_TOKEN is set, otherwise over HTTP. Teams runs when
MICROSOFT_APP_ID is set (or ALLYBOT_TEAMS_NO_AUTH=1, for local tests). With both, a message
goes out through the platform of the person it is for (bot/platforms/fanout.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import AllyBot
from bot.platforms.base import Platform
from bot.platforms.fanout import Fanout
from bot.scheduler import Calendar, start
from handlers.yamlfile import Problem, ProblemsFound

log = logging.getLogger(__name__)

STOP_SECONDS = 3.0  # how long a stop waits for a running sweep (serve stops within 5 s)


async def healthz(_request: web.Request) -> web.Response:
    """Alive: answered without the database, so a locked database never makes it fail."""
    return web.json_response({"ok": True})


def readyz(bot: AllyBot) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Ready: the database takes a write (in a thread, waiting BUSY_SECONDS at most)."""

    async def answer(_request: web.Request) -> web.Response:
        try:
            await asyncio.to_thread(bot.db.ping)
        except Exception as exc:
            log.warning("readyz: the database takes no writes (%s)", type(exc).__name__)
            return web.json_response({"ok": False, "database": "unavailable"}, status=503)
        return web.json_response({"ok": True})

    return answer


def build_platforms(bot: AllyBot) -> Fanout:
    """Every platform the settings configure (the SDK of each is imported only if it is)."""
    platforms: list[Platform] = []
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
        platforms.append(
            SlackPlatform(
                bot,
                s.slack_bot_token,
                s.slack_signing_secret or "unused",
                api_url=s.slack_api_url,
                socket_mode=bool(s.slack_app_token),
            )
        )
    if s.teams_enabled:
        from bot.platforms.teams.adapter import TeamsPlatform

        if s.teams_app_id and not s.teams_app_password and not s.teams_no_auth:
            raise ProblemsFound(
                [
                    Problem(
                        "environment",
                        None,
                        "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not",
                        "set the client secret of the bot's app registration; see the "
                        "README's Teams section",
                    )
                ]
            )
        platforms.append(TeamsPlatform(bot))
    teams = s.app.teams
    private = bool(teams.coordinators_channel) and teams.coordinators_channel_private
    if s.teams_enabled and not s.slack_bot_token and s.app.coordinators.channel and not private:
        # Teams alone, and no Teams channel the bot may post alerts in: the coordinators'
        # channel gets the digest's numbers only, and everything else goes to them by DM.
        bot.router.counts_only = bot.router.counts_only | {s.app.coordinators.channel}
    fanout = Fanout(bot, platforms)
    if len(platforms) > 1:
        for platform in platforms:
            platform.fanout = fanout
    return fanout


def build_web_app(bot: AllyBot) -> tuple[web.Application, Fanout]:
    """The aiohttp app with every configured platform's routes, and the platforms."""
    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz(bot))
    platforms = build_platforms(bot)
    platforms.add_routes(web_app)
    return web_app, platforms


async def serve(
    bot: AllyBot, stop: asyncio.Event | None = None, started: asyncio.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or until `stop` is set, when one is given); `started` is set
    once the port is open and the scheduler runs."""
    web_app, platforms = build_web_app(bot)
    if not platforms.platforms:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    "no platform is configured",
                    "set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET), or "
                    "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, or try `allybot shell --demo`",
                )
            ]
        )
    slack = platforms.platforms.get("slack")
    if slack is not None:
        from bot.platforms.slack.adapter import SlackPlatform

        assert isinstance(slack, SlackPlatform)
        # Before any event or timer runs: a coordinator channel that is not private is
        # numbers-only.
        await slack.check_coordinator_channel()
    calendar = Calendar(bot.router, platforms)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, port=bot.settings.port)
    await site.start()
    scheduler = await start(calendar, bot.settings.app.organisation.timezone)
    socket_handler = None
    if slack is not None and bot.settings.slack_app_token:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(slack.app, bot.settings.slack_app_token)
        await socket_handler.connect_async()
        log.info("Slack connected over Socket Mode")
    log.info("serving %s on port %s", ", ".join(platforms.platforms), bot.settings.port)
    if started is not None:
        started.set()
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
        # A running sweep ends after its current timer and gives its other claims back.
        await calendar.stopped(STOP_SECONDS)
        if socket_handler is not None:
            await socket_handler.close_async()
        await platforms.drain()
        await runner.cleanup()
