"""The Slack app manifest, built from app.yaml and the router's commands."""

from __future__ import annotations

from typing import Any

import yaml

from bot.config import AppConfig
from bot.router import COMMANDS
from handlers.content import Content

# Only what the bot uses: replies and DMs, slash commands, opening DMs and group DMs, reading
# DMs sent to it, and profile names, time zones and emails. Awareness posts add
# chat:write.public, so they reach public channels the bot has not been invited to. A
# coordinator channel adds channels:read and groups:read (names and privacy, never messages), to
# check at start that it is private.
CHANNEL_CHECK = ["channels:read", "groups:read"]
SCOPES = [
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "mpim:write",
    "users:read",
    "users:read.email",
]
EVENTS = ["app_home_opened", "message.im"]
# Commands that name people: Slack sends mentions in them as user ids (<@U0123|name>).
NAMES_PEOPLE = {"allyadmin"}


def build(app: AppConfig, content: Content, request_url: str | None = None) -> dict[str, Any]:
    """Socket Mode unless `request_url` (https://host) is given for HTTP delivery."""
    name = f"allybot ({app.organisation.name})"[:35]
    events_url = f"{request_url.rstrip('/')}/slack/events" if request_url else None
    commands = []
    for command in COMMANDS:
        entry = {
            "command": f"/{command}",
            "description": content.plain(f"commands.{command}_description"),
            "usage_hint": content.plain(f"commands.{command}_hint"),
            "should_escape": command in NAMES_PEOPLE,
        }
        if events_url:
            entry["url"] = events_url
        commands.append(entry)
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": EVENTS},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": events_url is None,
        "token_rotation_enabled": False,
    }
    if events_url:
        settings["event_subscriptions"]["request_url"] = events_url
        settings["interactivity"]["request_url"] = events_url
    return {
        "display_information": {
            "name": name,
            "description": content.plain("commands.app_description")[:140],
            "background_color": "#2f4858",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "allybot", "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {
            "scopes": {
                "bot": SCOPES
                + (["users.profile:read"] if app.slack.department_field else [])
                + (["chat:write.public"] if app.awareness.channels else [])
                + (CHANNEL_CHECK if app.coordinators.channel else [])
            }
        },
        "settings": settings,
    }


def render(app: AppConfig, content: Content, request_url: str | None = None) -> str:
    return yaml.safe_dump(build(app, content, request_url), sort_keys=False, allow_unicode=True)
