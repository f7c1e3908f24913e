"""The platform contract: what the shell, Slack (and Teams) each provide to the rest of the bot.

A platform turns its own input (a console line, a signed Slack request, a Teams activity) into
the neutral events of `bot.events` and hands them to the router; the router answers with an
outbox of neutral `Outgoing` messages, which the platform renders and sends once the change
behind them is committed. Everything else in the bot (handlers, storage, the scheduler) talks to
a platform only through this Protocol, so none of it imports a platform SDK.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.messages import Forget, Message, Outgoing


class Sender(Protocol):
    """Where the scheduler sends: one platform, or all of them (bot/platforms/fanout.py)."""

    async def deliver(self, out: list[Outgoing]) -> None: ...

    async def broadcast(self, item: Outgoing) -> bool: ...

    async def drain(self) -> None: ...


class Elsewhere(Protocol):
    """The other platforms of this process, as one platform sees them."""

    async def elsewhere(self, out: list[Outgoing], here: str) -> list[Outgoing]:
        """Send the items that are for people (or channels) on other platforms; return the
        rest, for `here`, in order."""
        ...


@runtime_checkable
class Platform(Protocol):
    """One chat platform, as the scheduler, `serve` and the contract tests see it."""

    name: str  # as stored in Person.platform: "shell", "slack", "teams"
    # Set by `serve` when it runs several platforms: a platform sends what is for someone on
    # another platform through it. None: everything is for this one.
    fanout: Elsewhere | None

    def render(self, message: Message) -> object:
        """The platform's own form of a neutral message (Block Kit blocks, console lines, an
        Adaptive Card), with every piece of user text escaped so it stays literal."""
        ...

    async def deliver(self, out: list[Outgoing], routed: bool = False) -> None:
        """Send an outbox: replies only the actor sees, DMs, a pair's conversation, channel
        posts, and rewrites of earlier messages (`Replace`). Called after the commit, so a
        failure is logged and never undoes the state change it reports. Items for people on
        other platforms go through `fanout`, unless `routed`: the fan-out itself chose this
        platform for each item, so none is routed twice (which could send it back and forth)."""
        ...

    async def broadcast(self, item: Outgoing) -> bool:
        """Send one scheduled post at the platform's pace; True once the platform accepted all
        of it (the caller records the Delivery row as sent, or retries it later)."""
        ...

    async def drain(self) -> None:
        """Wait for sends still in flight (background work after an acknowledgement)."""
        ...

    def add_routes(self, web_app: web.Application) -> None:
        """Add the HTTP endpoints this platform receives events on (none for a platform that
        connects out, such as Slack's Socket Mode or the shell)."""
        ...

    def forget(self, who: Forget) -> None:
        """Drop what this platform keeps in memory about someone who erased their data (a
        profile, their user id, their chat): the router calls it once the erase is committed,
        for every platform, which adds it to `Router.on_forget` when it is made."""
        ...
