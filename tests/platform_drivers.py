"""One way to act as a person on any platform, for the contract tests: the same scenario runs
on the shell and on Slack (and on Teams when it lands), in the style of zulip_bots' shared
tests. A driver types commands and DMs, presses buttons by label on the person's latest
message, and reports every text each person (or pair) was shown."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import timedelta
from typing import Any, Protocol

from bot.config import Coordinators
from bot.platforms.shell.console import Shell
from bot.scheduler import Calendar
from handlers.allies import import_roster, parse_roster
from storage.db import Database
from tests.conftest import make_bot
from tests.slack_harness import SlackHarness, buttons_in, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import _profile

# The cast of the scenarios: who they are on each platform.
PEOPLE = {"requester": "Eve", "ally": "Ali", "coordinator": "Casey", "applicant": "Finn"}


class Driver(Protocol):
    async def command(self, who: str, name: str, text: str = "") -> None: ...
    async def dm(self, who: str, text: str) -> None: ...
    async def press(self, who: str, label: str) -> None: ...
    def shown(self, who: str) -> list[str]:
        """Every text shown to `who` alone (replies, DMs, rewritten messages), oldest first."""
        ...

    def shown_to_pair(self, a: str, b: str) -> list[str]: ...
    def posted_in(self, channel: str) -> list[str]:
        """Every text posted in the channel (its name, without #)."""
        ...

    async def wait(self, delta: timedelta) -> None:
        """Let time pass: timers and the awareness calendar run as they fall due."""
        ...


class ShellPlatformDriver:
    """The shell: the demo organisation, with Eve, Ali and Casey in their demo roles."""

    def __init__(self, db: Database):
        bot = make_bot(db)  # the demo organisation; Casey coordinates (app.yaml)
        self.out = io.StringIO()
        self.shell = Shell(bot, out=self.out)
        self.lines: list[str] = []

    def _run(self, who: str, line: str) -> None:
        start = self.out.tell()
        for typed in (f"/as {PEOPLE[who].lower()}", line):
            self.shell.handle_line(typed)
            self.shell.tick()
        self.out.seek(start)
        self.lines += self.out.read().splitlines()

    async def command(self, who: str, name: str, text: str = "") -> None:
        self._run(who, f"/{name} {text}".strip())

    async def dm(self, who: str, text: str) -> None:
        self._run(who, text)

    async def press(self, who: str, label: str) -> None:
        self._run(who, f"/press {label}")

    async def wait(self, delta: timedelta) -> None:
        self._run("coordinator", f"/wait {int(delta.total_seconds())}s")

    def posted_in(self, channel: str) -> list[str]:
        prefix = f"[bot -> #{channel}] "
        return [line[len(prefix) :] for line in self.lines if line.startswith(prefix)]

    def shown(self, who: str) -> list[str]:
        name = PEOPLE[who].lower()
        pattern = re.compile(rf"^\[bot -> {name}, (?:only you|DM|DM, edited)\] (.*)$")
        return [m.group(1) for line in self.lines if (m := pattern.match(line))]

    def shown_to_pair(self, a: str, b: str) -> list[str]:
        names = {PEOPLE[a].lower(), PEOPLE[b].lower()}
        found = []
        for line in self.lines:
            m = re.match(r"^\[bot -> (\w+)\+(\w+), group DM\] (.*)$", line)
            if m and {m.group(1), m.group(2)} == names:
                found.append(m.group(3))
        return found


SLACK_ROSTER = """platform,user,name,department,topics,capacity
slack,UALI,Ali,Engineering,stress;workload,2
"""
SLACK_IDS = {"requester": "UEVE", "ally": "UALI", "coordinator": "UCASEY", "applicant": "UFINN"}


class SlackPlatformDriver:
    """Slack through signed HTTP into the real Bolt app and a loopback Web API. Each person's
    latest message with buttons is tracked, as a Slack client shows it."""

    def __init__(self, db: Database):
        coordinators = Coordinators(
            people=["slack:UCASEY"], channel="coordinators", notify_by_dm=True
        )
        bot = make_bot(db, seed=False, coordinators=coordinators)
        self.bot = bot
        self.standin = SlackStandIn(
            users={
                uid: _profile(PEOPLE[role], f"{role}@example.com")
                for role, uid in SLACK_IDS.items()
            }
        )
        rows, errors = parse_roster(SLACK_ROSTER, 2)
        assert not errors
        with bot.db.session() as session:
            import_roster(session, rows, bot.clock.now())
        self.h = SlackHarness(bot, self.standin)
        self.latest: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
        self.seen = 0
        self.texts: dict[str, list[str]] = defaultdict(list)

    async def start(self) -> None:
        await self.h.start()
        self.calendar = Calendar(self.bot.router, self.h.slack)
        await self.calendar.check_leader()  # this process runs the calendar

    async def stop(self) -> None:
        self.calendar.stop()
        await self.h.stop()

    async def wait(self, delta: timedelta) -> None:
        self.bot.clock.advance(delta)
        await self.calendar.sweep()
        await self.calendar.run()
        await self.h.slack.drain()
        self._collect("")

    def posted_in(self, channel: str) -> list[str]:
        posts = [c.args for c in self.standin.calls if c.method == "chat.postMessage"]
        return [
            line
            for p in posts
            if p.get("channel") == f"#{channel}"
            for line in text_of(p["blocks"]).splitlines()
        ]

    def _collect(self, actor: str) -> None:
        """File what Slack was asked to show since the last look, under who sees it."""
        for call in self.standin.calls[self.seen :]:
            blocks = call.args.get("blocks")
            if not blocks:
                continue
            if call.method.startswith("respond:"):  # an ephemeral reply to whoever acted
                who, where = actor, {"ephemeral": True}
            elif call.method in ("chat.postMessage", "chat.update"):
                channel = call.args.get("channel", "")
                users = channel[1:].split("_")
                who = "+".join(sorted(users))
                where = {"channel": channel, "ts": call.args.get("ts", "")}
            else:
                continue
            self.texts[who].append(text_of(blocks))
            if buttons_in(blocks):
                self.latest[who] = (blocks, where)
        self.seen = len(self.standin.calls)

    async def command(self, who: str, name: str, text: str = "") -> None:
        user = SLACK_IDS[who]
        _, body = await self.h.command(user, text, name=f"/{name}")
        if body.get("blocks"):  # the ack itself carries the ephemeral reply
            self.texts[user].append(text_of(body["blocks"]))
            if buttons_in(body["blocks"]):
                self.latest[user] = (body["blocks"], {"ephemeral": True})
        self._collect(user)

    async def dm(self, who: str, text: str) -> None:
        user = SLACK_IDS[who]
        event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user}
        await self.h.event({**event, "text": text, "ts": "1.1"}, f"ev-{len(self.standin.calls)}")
        self._collect(user)

    async def press(self, who: str, label: str) -> None:
        user = SLACK_IDS[who]
        blocks, where = self.latest[user]
        (button,) = [b for b in buttons_in(blocks) if b["text"]["text"] == label]
        await self.h.press(
            user,
            button,
            channel=where.get("channel", f"D{user}"),
            ephemeral=bool(where.get("ephemeral")),
            message_blocks=blocks,
        )
        self._collect(user)

    def shown(self, who: str) -> list[str]:
        return [line for t in self.texts[SLACK_IDS[who]] for line in t.splitlines()]

    def shown_to_pair(self, a: str, b: str) -> list[str]:
        pair = "+".join(sorted((SLACK_IDS[a], SLACK_IDS[b])))
        return [line for t in self.texts[pair] for line in t.splitlines()]
