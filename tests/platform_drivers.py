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

from bot.config import Coordinators, Settings, Teams
from bot.platforms.shell.console import Shell
from bot.scheduler import Calendar
from handlers.allies import import_roster, parse_roster
from storage.db import Database
from tests.conftest import make_bot
from tests.slack_harness import SlackHarness, buttons_in, text_of
from tests.slack_standin import SlackStandIn
from tests.teams_activities import CARD_TYPE, TeamsUser
from tests.teams_harness import TeamsHarness
from tests.teams_standin import Call, ConnectorStandIn
from tests.test_slack import _profile

# The cast of the scenarios: who they are on each platform.
PEOPLE = {"requester": "Eve", "ally": "Ali", "coordinator": "Casey", "applicant": "Finn"}
# What the applicant answers in the questionnaire scenarios, question by question.
ANSWERS = [
    "Finn",
    "Payroll analyst",
    "Finance",
    "finn@example.com",
    "I have seen how much a kind word helps.",
    "I listen well and I am patient.",
    "Time for the training.",
    "Because talking early makes things easier to deal with.",
]


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


TEAMS_CAST = {role: TeamsUser.make(name) for role, name in PEOPLE.items()}
# The Teams channels that stand for the channel names the scenarios use.
TEAMS_CHANNELS = {
    "general": "19:general@thread.tacv2",
    "coordinators": "19:coordinators@thread.tacv2",
}
CHAT_LINK = "https://teams.microsoft.com/l/chat/0/0?users="


def teams_card_lines(card: dict[str, Any]) -> list[str]:
    """A card's words as a reader sees them: the runs of a block side by side, one line per
    line break."""
    text = []
    for block in card.get("body") or []:
        kind = block.get("type")
        if kind == "RichTextBlock":
            text.append("".join(run.get("text", "") for run in block.get("inlines") or []))
        elif kind == "TextBlock":
            text.append(block.get("text", ""))
    return "\n".join(text).splitlines()


def _cards_in(activity: Any) -> list[dict[str, Any]]:
    if not isinstance(activity, dict):
        return []
    return [
        a["content"] for a in activity.get("attachments") or [] if a.get("contentType") == CARD_TYPE
    ]


class TeamsPlatformDriver:
    """Teams through the real Agents SDK adapter over HTTP and a loopback Bot Connector. Like
    the Slack driver, what a person was shown is every version of every card in their personal
    chat, oldest first: as sent, as the bot updated it, as the answer to a press replaced it."""

    def __init__(self, db: Database):
        coordinators = Coordinators(
            people=[f"teams:{TEAMS_CAST['coordinator'].aad_id}"],
            channel="coordinators",
            notify_by_dm=True,
        )
        teams = Teams(
            awareness_channels=[TEAMS_CHANNELS["general"]],
            coordinators_channel=TEAMS_CHANNELS["coordinators"],
            coordinators_channel_private=True,  # a private channel of coordinators alone
        )
        bot = make_bot(db, seed=False, coordinators=coordinators, teams=teams)
        self.bot = bot
        ally = TEAMS_CAST["ally"]
        rows, errors = parse_roster(
            "platform,user,name,department,topics,capacity\n"
            f"teams,{ally.aad_id},{ally.name},Engineering,stress;workload,2\n",
            2,
        )
        assert not errors
        with bot.db.session() as session:
            import_roster(session, rows, bot.clock.now())
        self.standin = ConnectorStandIn()
        self.h = TeamsHarness(bot, self.standin)
        # (who, index into the stand-in's calls when pressed, the card the press answered)
        self.pressed: list[tuple[str, int, dict[str, Any]]] = []

    async def start(self) -> None:
        await self.h.start()
        for user in TEAMS_CAST.values():
            self.standin.add_user(user)
        # The organisation's Bot Connector (app.yaml teams.service_url) is the stand-in, so the
        # bot can post to a channel before anyone has written to it.
        s = self.bot.settings
        teams = s.app.teams.model_copy(update={"service_url": self.standin.service_url})
        app = s.app.model_copy(update={"teams": teams})
        self.bot.settings = Settings(**{**s.__dict__, "app": app})
        assert self.h.platforms is not None
        self.calendar = Calendar(self.bot.router, self.h.platforms)
        await self.calendar.check_leader()

    async def stop(self) -> None:
        self.calendar.stop()
        await self.h.stop()

    async def wait(self, delta: timedelta) -> None:
        assert self.h.platforms is not None
        self.bot.clock.advance(delta)
        await self.calendar.sweep()
        await self.calendar.run()
        await self.h.platforms.drain()

    async def command(self, who: str, name: str, text: str = "") -> None:
        await self.h.say(TEAMS_CAST[who], f"{name} {text}".strip())

    async def dm(self, who: str, text: str) -> None:
        await self.h.say(TEAMS_CAST[who], text)

    async def press(self, who: str, label: str) -> None:
        user = TEAMS_CAST[who]
        at = len(self.standin.calls)
        body = await self.h.press(user, label)
        if isinstance(body, dict) and body.get("type") == CARD_TYPE:
            self.pressed.append((user.aad_id, at, body["value"]))

    def _to(self, call: Call, user: TeamsUser) -> bool:
        return self.standin.conversations.get(call.conversation_id or "") == user.aad_id

    def _chat(self, user: TeamsUser) -> list[dict[str, Any]]:
        """Every card shown in the person's chat, each version in the order it appeared."""
        shown: list[tuple[int, dict[str, Any]]] = [
            (at, card) for aad_id, at, card in self.pressed if aad_id == user.aad_id
        ]
        for at, call in enumerate(self.standin.calls):
            if call.status < 300 and call.kind in ("send", "update") and self._to(call, user):
                shown += [(at, card) for card in _cards_in(call.body)]
        return [card for _, card in sorted(shown, key=lambda found: found[0])]

    def shown(self, who: str) -> list[str]:
        # A hand-off is the pair's (a group DM elsewhere): Teams shows it in each one's chat,
        # with a link to a chat with the other; shown_to_pair reads those.
        return [
            line
            for card in self._chat(TEAMS_CAST[who])
            if CHAT_LINK not in str(card)
            for line in teams_card_lines(card)
        ]

    def shown_to_pair(self, a: str, b: str) -> list[str]:
        """The lines of the hand-off cards (each links to a chat with the other) both got."""

        def hand_offs(me: TeamsUser, other: TeamsUser) -> list[str]:
            link = CHAT_LINK + other.upn
            return [
                line
                for card in self._chat(me)
                if link in str(card)
                for line in teams_card_lines(card)
            ]

        first = hand_offs(TEAMS_CAST[a], TEAMS_CAST[b])
        second = set(hand_offs(TEAMS_CAST[b], TEAMS_CAST[a]))
        return [line for line in first if line in second]

    def posted_in(self, channel: str) -> list[str]:
        return [
            line
            for activity in self.standin.sent(TEAMS_CHANNELS[channel])
            for card in _cards_in(activity)
            for line in teams_card_lines(card)
        ]
