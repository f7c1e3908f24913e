"""The local shell: type as a persona, see every message where it lands, press buttons.

It reads stdin line by line, so a script drives it exactly like a person at a terminal.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlmodel import col, select

from bot.app import AllyBot
from bot.events import Action, Actor, Command, Event, Text
from bot.messages import (
    Button,
    Channel,
    DirectMessage,
    Forget,
    GroupDM,
    Message,
    OnlyYou,
    Outgoing,
    Replace,
)
from bot.platforms.base import Elsewhere
from bot.platforms.shell.render import render
from bot.platforms.work import Receipts
from bot.scheduler import Calendar, start
from handlers import coordinators
from storage.models import AllyProfile, AllyStatus, Person

PLATFORM = "shell"
_WAIT = re.compile(r"^(\d{1,6})\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
HELP = """\
shell commands:
  /who                 list personas          /as NAME      act as NAME
  /press N | LABEL     press a button on your latest message
  /press #CHANNEL N    press a button on a channel's latest post (or #CHANNEL LABEL)
  /wait 15m            move the clock forward (s, m, h, d) and run what falls due
  /help                this list              /quit         leave (end of input also leaves)
  # a comment          ignored, for scripts
anything else starting with / is a slash command (/findally, /resources, /allyapply,
/allystatus, /allies, /allystepdown, /allyadmin, /allyfeedback);
plain text is a direct message to the bot."""


class Shell:
    def __init__(self, bot: AllyBot, out: TextIO = sys.stdout, persona: str = "eve"):
        self.bot = bot
        self.out = out
        self.names: dict[int, str] = {}
        self.latest: dict[int, list[Button]] = {}
        self.sent: dict[str, list[Button]] = {}  # buttons of DMs sent with a key, by key
        self.channel_latest: dict[str, list[Button]] = {}  # buttons of each channel's latest post
        self.persona: Person | None = self._persona(persona) or self._first_persona()
        bot.router.on_forget.append(self.forget)

    def forget(self, who: Forget) -> None:
        """They erased their data: their name and buttons go from the console's memory."""
        self.names.pop(who.person_id, None)
        self.latest.pop(who.person_id, None)

    # --- output -----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        for line in text.splitlines():
            print(f"[shell] {line}" if line else "[shell]", file=self.out)
        self.out.flush()

    def deliver(self, outgoing: list[Outgoing]) -> None:
        """Print each message; the outbox rows are settled as sent (a console cannot fail)."""
        receipts = Receipts("shell")
        for item in outgoing:
            receipts.sent(item)
            to = item.to
            if isinstance(to, Replace):
                self._replace(to, item)
                continue
            if isinstance(to, OnlyYou):
                people, where = [to.person_id], f"{self._asker(to.person_id)}, only you"
            elif isinstance(to, DirectMessage):
                people, where = [to.person_id], f"{self._name(to.person_id)}, DM"
            elif isinstance(to, GroupDM):
                people = list(to.person_ids)
                where = "+".join(self._name(p) for p in people) + ", group DM"
            else:
                assert isinstance(to, Channel)
                people, where = [], f"#{to.name}"
            lines, buttons = render(f"[bot -> {where}]", item.message)
            for line in lines:
                print(line, file=self.out)
            if buttons:
                for person_id in people:
                    self.latest[person_id] = buttons
                if isinstance(to, Channel):
                    self.channel_latest[to.name] = buttons
            if item.key:
                self.sent[item.key] = buttons
        self.out.flush()
        if receipts.results:
            self.bot.router.settle(receipts.results)

    def _replace(self, to: Replace, item: Outgoing) -> None:
        """An earlier DM rewritten in place: shown again as it now reads. If it held the
        person's latest buttons, those are now the rewritten message's (often none)."""
        if to.key not in self.sent:
            return  # never shown in this shell, so there is nothing to rewrite
        lines, buttons = render(f"[bot -> {self._name(to.person_id)}, DM, edited]", item.message)
        for line in lines:
            print(line, file=self.out)
        if self.latest.get(to.person_id) is self.sent[to.key]:
            self.latest[to.person_id] = buttons
        self.sent[to.key] = buttons

    def tick(self) -> None:
        """Scripted mode's scheduler: run due timers and the calendar, show what they send."""
        router = self.bot.router
        while True:  # a sweep is bounded; the shell runs all that is due
            swept = router.sweep()
            self.deliver(swept)
            if not swept.more:
                break
        self.deliver(router.unsent())
        router.plan_calendar()
        for item in router.claim_posts():
            self.deliver([item])
            assert item.posting is not None  # claim_posts marks every post with its row
            router.posted(item.posting, True)

    # --- input ------------------------------------------------------------------------------
    def greet(self) -> None:
        org = self.bot.settings.app.organisation.name
        if self.persona is None:
            self.say(
                f"allybot shell for {org}. No personas yet: start it with --demo, "
                "or run `allybot demo` first."
            )
        else:
            self.say(
                f"allybot shell for {org}. You are {self.persona.platform_user_id}. "
                "/who lists personas, /help shows commands."
            )

    def handle_line(self, line: str) -> bool:
        """Handle one input line. False means leave."""
        line = line.rstrip("\r\n").strip()
        if not line or line == "#" or line.startswith("# "):  # comments, for scripts
            return True
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        local = {
            "/who": self._who,
            "/as": self._as,
            "/press": self._press,
            "/wait": self._wait,
            "/help": lambda _: self.say(HELP),
        }
        if word in ("/quit", "/exit"):
            return False
        if word in local:
            local[word](rest)
            return True
        if self.persona is None:
            self.say("There is nobody to act as. Start the shell with --demo.")
            return True
        actor = Actor(PLATFORM, self.persona.platform_user_id or "")
        event: Event
        if word.startswith("/") and len(word) > 1:
            event = Command(word[1:], rest, actor, event_id=_event_id())
        else:
            event = Text(line, actor, event_id=_event_id())
        self._dispatch(event)
        return True

    def run(self, lines: Iterable[str]) -> None:
        """Synchronous loop for scripts and tests: what fell due runs after every line."""
        self.greet()
        self.bot.router.plan_calendar()  # the calendar counts from when the shell started
        for line in lines:
            if not self.handle_line(line):
                break
            self.tick()

    async def run_async(self, stdin: TextIO) -> None:
        """Interactive loop: the real APScheduler jobs run beside the prompt."""
        calendar = Calendar(self.bot.router, ShellPlatform(self))
        scheduler = await start(calendar, self.bot.settings.app.organisation.timezone)
        self.greet()
        loop = asyncio.get_running_loop()
        try:
            while True:
                if stdin.isatty() and self.persona is not None:
                    print(f"{self.persona.platform_user_id}> ", end="", file=self.out, flush=True)
                line = await loop.run_in_executor(None, stdin.readline)
                if not line or not self.handle_line(line):
                    break
                self.tick()
        finally:
            scheduler.shutdown(wait=False)
            calendar.stop()

    # --- shell commands ---------------------------------------------------------------------
    def _dispatch(self, event: Event) -> None:
        self.deliver(self.bot.router.dispatch(event))

    def _who(self, _rest: str) -> None:
        with self.bot.db.session() as session:
            people = session.exec(
                select(Person)
                .where(Person.platform == PLATFORM)
                .order_by(col(Person.platform_user_id))
            ).all()
            allies = {a.person_id: a for a in session.exec(select(AllyProfile))}
            ctx = self.bot.router.context(session, self.bot.clock.now())
            rows = []
            for p in people:
                assert p.id is not None  # read from the database, so it has its key
                ally = allies.get(p.id)
                if coordinators.is_coordinator(ctx, p):
                    role = "coordinator"
                elif ally is not None and ally.status == AllyStatus.ACTIVE:
                    role = (
                        f"ally, {'available' if ally.available else 'away'}, "
                        f"{ally.open_count}/{ally.capacity} open"
                    )
                elif ally is not None and ally.status in (AllyStatus.ONBOARDING, AllyStatus.PAUSED):
                    role = f"ally, {ally.status}"
                else:
                    role = "employee"
                marker = "*" if self.persona and p.id == self.persona.id else " "
                name = p.platform_user_id or p.email or f"person {p.id}"
                rows.append(f"{marker} {name:<8} {p.department or '-':<12} {role}")
        self.say("personas (* = you):\n" + "\n".join(rows) if rows else "No personas yet.")

    def _as(self, rest: str) -> None:
        if not rest:
            self.say("Usage: /as NAME (see /who).")
            return
        person = self._persona(rest.split()[0].lower())
        if person is None:
            self.say(f"No persona called {rest[:40]!r}. /who lists them.")
            return
        self.persona = person
        self.say(f"You are now {person.platform_user_id}.")

    def _press(self, rest: str) -> None:
        if self.persona is None:
            self.say("There is nobody to act as.")
            return
        if rest.startswith("#"):  # a button on a channel's latest post: anyone there may press
            channel, _, rest = rest[1:].partition(" ")
            buttons = self.channel_latest.get(channel, [])
            if not buttons:
                self.say(f"#{channel[:40]} has no post with buttons yet.")
                return
            rest = rest.strip()
        else:
            assert self.persona.id is not None  # personas are read from the database
            buttons = self.latest.get(self.persona.id, [])
            if not buttons:
                self.say(f"{self.persona.platform_user_id} has no message with buttons yet.")
                return
        chosen = None
        if re.fullmatch(r"[0-9]{1,3}", rest):
            n = int(rest)
            chosen = buttons[n - 1] if 1 <= n <= len(buttons) else None
        elif rest:
            wanted = rest.casefold()
            chosen = next((b for b in buttons if b.label.casefold() == wanted), None) or next(
                (b for b in buttons if b.label.casefold().startswith(wanted)), None
            )
        if chosen is None:
            labels = "  ".join(f"[{i}] {b.label}" for i, b in enumerate(buttons, 1))
            self.say(f"No such button. The latest buttons are: {labels}")
            return
        actor = Actor(PLATFORM, self.persona.platform_user_id or "")
        self._dispatch(Action(chosen.action, chosen.value, actor, event_id=_event_id()))

    def _wait(self, rest: str) -> None:
        m = _WAIT.match(rest.replace(" ", "")) if rest else None
        if m is None:
            self.say("Usage: /wait 15m (a number and s, m, h or d).")
            return
        delta = timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        if delta > timedelta(days=400):
            self.say("That is too far ahead; wait at most 400 days at a time.")
            return
        clock = self.bot.clock
        until = clock.now() + delta
        # Time passes with the bot running: each due moment on the way is reached in turn
        # (and if something due cannot be done, time moves on rather than waiting for it).
        stuck = None
        while (due := self.bot.router.next_due()) is not None and due <= until:
            if due > clock.now():
                clock.advance(due - clock.now())
            elif (due, clock.now()) == stuck:
                break
            stuck = (due, clock.now())
            self.tick()
        now = clock.advance(until - clock.now())
        zone = ZoneInfo(self.bot.settings.app.organisation.timezone)
        self.say(f"{m.group(1)}{m.group(2)} later: {now.astimezone(zone):%a %d %b %Y %H:%M %Z}")

    # --- people -----------------------------------------------------------------------------
    def _persona(self, name: str) -> Person | None:
        with self.bot.db.session() as session:
            return session.exec(
                select(Person).where(Person.platform == PLATFORM, Person.platform_user_id == name)
            ).first()

    def _first_persona(self) -> Person | None:
        with self.bot.db.session() as session:
            return session.exec(
                select(Person).where(Person.platform == PLATFORM).order_by(col(Person.id))
            ).first()

    def _asker(self, person_id: int) -> str:
        """Who a reply is for: the person it names, or, when the bot holds no person for them
        (the database failed, or they erased their data), the persona who acted."""
        name = self._name(person_id)
        if name.startswith("person ") and self.persona is not None:
            self.names.pop(person_id, None)
            return self.persona.platform_user_id or name
        return name

    def _name(self, person_id: int) -> str:
        if person_id not in self.names:
            with self.bot.db.session() as session:
                person = session.get(Person, person_id)
                self.names[person_id] = (
                    (person.platform_user_id or f"person {person_id}")
                    if person
                    else f"person {person_id}"
                )
        return self.names[person_id]


def _event_id() -> str:
    return f"shell-{uuid.uuid4().hex}"


class ShellPlatform:
    """The shell as a platform (bot/platforms/base.py): it prints every message where it went."""

    name = PLATFORM

    def __init__(self, shell: Shell):
        self.shell = shell
        self.fanout: Elsewhere | None = None  # the shell is always the only platform

    def render(self, message: Message) -> list[str]:
        return render("[bot]", message)[0]

    async def drain(self) -> None:
        """Nothing is in flight: the shell prints as it sends."""

    def add_routes(self, web_app: web.Application) -> None:
        """The shell reads standard input: it serves no HTTP."""

    async def deliver(self, outgoing: list[Outgoing], routed: bool = False) -> None:
        self.shell.deliver(outgoing)

    async def broadcast(self, item: Outgoing) -> bool:
        self.shell.deliver([item])
        return True

    def forget(self, who: Forget) -> None:
        self.shell.forget(who)
