"""Slack over HTTP: the signed request endpoint at /slack/events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

if TYPE_CHECKING:  # the adapter adds these routes, so it imports this module
    from bot.platforms.slack.adapter import SlackPlatform

PATH = "/slack/events"


def add_routes(web_app: web.Application, slack: SlackPlatform) -> None:
    async def events(request: web.Request) -> web.Response:
        bolt_response = await slack.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post(PATH, events)
