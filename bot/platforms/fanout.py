"""One process, several platforms: each message goes out through the platform of the person it
is for (the one they last used), and each channel post through the platform that has that
channel. With a single platform this is a pass-through that reads nothing.

A pair on different platforms (a Slack requester, a Teams ally) cannot share a chat: each gets
the introduction in their own app, with the other's name, platform and email to write to.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from aiohttp import web
from sqlmodel import Session

from bot.config import TEAMS_PREFIX, teams_channel
from bot.messages import (
    Channel,
    DirectMessage,
    GroupDM,
    Message,
    OnlyYou,
    Outgoing,
    Replace,
    Section,
)
from bot.platforms.base import Platform
from bot.platforms.work import db_call
from storage import addresses, sent
from storage.models import Person

if TYPE_CHECKING:
    from bot.app import AllyBot

log = logging.getLogger(__name__)

TEAMS = "teams"


class Fanout:
    """The platforms this process runs, seen by the scheduler and by each other as one."""

    def __init__(self, bot: AllyBot, platforms: list[Platform]):
        self.bot = bot
        self.platforms = {p.name: p for p in platforms}

    @property
    def single(self) -> bool:
        return len(self.platforms) == 1

    async def deliver(self, out: list[Outgoing]) -> None:
        for name, items in (await self._split(out)).items():
            await self.platforms[name].deliver(items, routed=True)

    async def elsewhere(self, out: list[Outgoing], here: str) -> list[Outgoing]:
        """Send what is for other platforms; return what is for `here` (in order, replies only
        the asker sees first). Those replies always stay `here`: the asker is here, and is
        answered where they acted without the database (which may be what failed, or hold no
        person for them any more)."""
        if self.single:
            return out
        replies = [item for item in out if isinstance(item.to, OnlyYou)]
        split = await self._split([item for item in out if not isinstance(item.to, OnlyYou)])
        for name, items in split.items():
            if name != here:
                await self.platforms[name].deliver(items, routed=True)
        return replies + split.get(here, [])

    async def broadcast(self, item: Outgoing) -> bool:
        """A scheduled post, on every platform that has its channel; True if all took it."""
        split = await self._split([item], scheduled=True)
        if not split:
            log.warning("a scheduled post has no platform that can take it")
            return False
        results = [
            await self.platforms[name].broadcast(i) for name, items in split.items() for i in items
        ]
        return all(results)

    async def drain(self) -> None:
        for platform in self.platforms.values():
            await platform.drain()

    def add_routes(self, web_app: web.Application) -> None:
        for platform in self.platforms.values():
            platform.add_routes(web_app)

    # --- routing ------------------------------------------------------------------------------
    async def _split(
        self, out: list[Outgoing], scheduled: bool = False
    ) -> dict[str, list[Outgoing]]:
        if self.single:
            return {next(iter(self.platforms)): list(out)} if out else {}
        return await db_call(self.bot.db, self._route_all, out, scheduled)

    def _route_all(self, out: list[Outgoing], scheduled: bool) -> dict[str, list[Outgoing]]:
        split: dict[str, list[Outgoing]] = defaultdict(list)
        with self.bot.db.session() as session:
            for item in out:
                for name, routed in self._route(session, item, scheduled):
                    split[name].append(routed)
        return dict(split)

    def _route(
        self, session: Session, item: Outgoing, scheduled: bool
    ) -> list[tuple[str, Outgoing]]:
        to = item.to
        running = self.platforms.keys()
        if isinstance(to, Replace):
            # Rewritten where it was sent, even if they have used another platform since.
            return [(name, item) for name in sent.platforms_of(session, to.key) if name in running]
        if isinstance(to, OnlyYou | DirectMessage):
            where = addresses.reach(session, to.person_id, running)
            if where is None:
                log.warning("person %s has no address on a platform that is running", to.person_id)
                return []
            return [(where.platform, item)]
        if isinstance(to, GroupDM):
            places = [addresses.reach(session, pid, running) for pid in to.person_ids]
            names = {p.platform for p in places if p is not None}
            if len(names) == 1 and None not in places:
                return [(names.pop(), item)]
            return self._apart(session, item, to)
        assert isinstance(to, Channel)
        return self._channel(item, to, scheduled)

    def _channel(self, item: Outgoing, to: Channel, scheduled: bool) -> list[tuple[str, Outgoing]]:
        """A `teams:<id>` channel is Teams' alone; a name is Slack's (or the shell's), and
        Teams' too when it stands for a Teams channel (the coordinators')."""
        on_teams = teams_channel(self.bot.settings.app, to.name, scheduled) is not None
        named = not to.name.startswith(TEAMS_PREFIX)
        return [(name, item) for name in self.platforms if (on_teams if name == TEAMS else named)]

    def _apart(self, session: Session, item: Outgoing, to: GroupDM) -> list[tuple[str, Outgoing]]:
        """A pair on different platforms: each gets the message in their own app, with how to
        reach the other(s) there."""
        content = self.bot.content
        routed = []
        for pid in to.person_ids:
            where = addresses.reach(session, pid, self.platforms.keys())
            if where is None:
                log.warning("person %s has no address on a platform that is running", pid)
                continue
            others = []
            for other_id in to.person_ids:
                if other_id == pid:
                    continue
                other = session.get(Person, other_id)
                there = addresses.reach(session, other_id, self.platforms.keys())
                if other is None:
                    continue
                platform = there.platform if there else other.platform
                others.append(
                    Section(
                        content.rich(
                            "platforms.elsewhere",
                            name=other.display_name,
                            platform=content.plain(f"platforms.{platform}"),
                            email=other.email or "-",
                        )
                    )
                )
            message = Message(item.message.blocks + tuple(others))
            routed.append(
                (where.platform, Outgoing(DirectMessage(pid), message, receipt=item.receipt))
            )
        return routed
