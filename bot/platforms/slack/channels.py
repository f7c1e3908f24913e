"""Is the coordinators' channel private? Asked of the Slack Web API when `serve` starts and by
`allybot check --online`.

Slack's conversations.info takes a channel id and app.yaml names the channel, so the id is
found with conversations.list first (scopes channels:read and groups:read; a private channel is
listed only when the bot is a member). Anything but "private, and the bot is in it" fails
closed: the channel then gets numbers only (the digest), and alerts and application notices go
to each coordinator by DM.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

MAX_PAGES = 50  # 1,000 channels a page: far more than a workspace has


@dataclass(frozen=True)
class ChannelCheck:
    """The outcome of one check. `problem` and `fix` are plain words for the log and the CLI;
    they name the channel, never a person."""

    channel: str
    private: bool
    problem: str = ""
    fix: str = ""


def fix_for(channel: str) -> str:
    return (
        f"make #{channel} a private channel and invite the bot to it (/invite @allybot), or "
        "name a private channel the bot is in under coordinators.channel in app.yaml"
    )


async def check_private(client: AsyncWebClient, channel: str) -> ChannelCheck:
    """Whether `channel` (a name from app.yaml) is a private channel the bot is a member of."""
    try:
        found = await channel_id(client, channel)
        if found is None:
            return ChannelCheck(
                channel,
                False,
                f"the bot can see no channel called #{channel} (it may not exist, or be "
                "private without the bot in it)",
                fix_for(channel),
            )
        info = (await client.conversations_info(channel=found)).get("channel") or {}
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response else "error"
        fix = fix_for(channel)
        if error in ("missing_scope", "not_allowed_token_type"):
            fix = (
                "reinstall the app with `allybot manifest slack`, which asks for channels:read "
                "and groups:read, then " + fix
            )
        return ChannelCheck(channel, False, f"#{channel} cannot be read ({error})", fix)
    except Exception as exc:  # the network: unknown is treated as not private
        return ChannelCheck(
            channel,
            False,
            f"#{channel} cannot be read ({type(exc).__name__})",
            "check SLACK_BOT_TOKEN and the network, then restart",
        )
    if not info.get("is_private"):
        return ChannelCheck(channel, False, f"#{channel} is a public channel", fix_for(channel))
    if info.get("is_archived"):
        return ChannelCheck(channel, False, f"#{channel} is archived", fix_for(channel))
    return ChannelCheck(channel, True)


async def channel_id(client: AsyncWebClient, channel: str) -> str | None:
    """The id of the channel called `channel` (a name from app.yaml): public, or private with
    the bot in it; None if the bot can see no such channel."""
    cursor = None
    for _ in range(MAX_PAGES):
        resp = await client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=1000,
            cursor=cursor,
        )
        for found in resp.get("channels") or []:
            if found.get("name") == channel and found.get("id"):
                return str(found["id"])
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None
