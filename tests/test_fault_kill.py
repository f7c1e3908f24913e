"""Kill -9 (issue 12): `allybot serve` runs as a real process and is killed with SIGKILL at
random points of the /findally and the application flows, 15 times in each, and restarted on
the same SQLite file. People use the bot in their own DM with it, where every message can be
looked for after a crash (an ephemeral answer in a channel cannot: see README, "Messages that
are never lost"). People carry on as they would: Slack retries an event that got no answer,
and a person who got no answer to a command or a press tries it again. In the end every message
the flows should produce has arrived, no message (an outbox row, named by its first block's
block_id `ob:<row>:<chunk>`) arrived twice, and no row is left to send.

A kill comes when the Nth Web API (or response_url) call of a process arrives, before the
stand-in records or answers it, so that message was not delivered; or, in some runs, right
after the stand-in answered a DM's chat.postMessage, so it was delivered but the bot may not
have recorded that (its check of conversations.history must keep it from going twice). N and
the kind of kill come from a seeded random.Random: every run has the same plan of kills (which
call is the Nth can still vary with timing, as the bot's background sends interleave).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.platform_drivers import ANSWERS
from tests.serve_process import COORDINATOR_BY_DM, ServeProcess, prepare, rows
from tests.slack_harness import buttons_in, text_of
from tests.slack_standin import Call, SlackStandIn
from tests.test_slack import _profile

SEED = 20260312
KILLS = 15  # in each flow: 30 in all
# Small delivery settings, so a message whose process died is sent again soon after a restart.
DELIVERY = {"sweep_seconds": 0.25, "lease_seconds": 2, "retry_seconds": 0.5}
CONFIG = {
    "coordinators": {**COORDINATOR_BY_DM, "channel": "coordinators"},
    "awareness": {"channels": []},
    "delivery": DELIVERY,
}
# How long after the claims of a killed process ran out (and serve is back) a person waits for
# an answer before trying again: two sweeps, and a margin for a loaded machine.
PATIENCE = 2 * DELIVERY["sweep_seconds"] + 1.0
QUIET = 15.0  # with no kill since a step, its answer must come within this
TRIES = 8  # a step is tried at most this often
ROSTER = "platform,user,name,department,topics,capacity\nslack,UALI,Ali,Engineering,stress,2\n"
# One person after another goes through a flow until the kills are done (a few are spare).
REQUESTERS = ["Eve", "Gus", "Hana", "Ivy", "Jon", "Kit", "Lea", "Max", "Nia", "Oto", "Pia", "Rex"]
APPLICANTS = ["Finn", "Gina", "Hugo", "Iris", "Joel", "Kara", "Liam", "Mia"]
PREFIX = re.compile(r"^ob:(\d+):(\d+)$")


def uid(name: str) -> str:
    return f"U{name.upper()}"


@dataclass
class Seen:
    """One thing Slack showed: to a person (user id), a pair ("UA+UB") or a channel ("#x")."""

    who: str
    blocks: list[dict[str, Any]]
    where: dict[str, Any]  # {"channel", "ts"} of a posted message, or {"ephemeral": True}
    new: bool  # a message delivered (not a rewrite of one already shown)

    @property
    def text(self) -> str:
        return text_of(self.blocks)

    @property
    def tag(self) -> str | None:
        """The outbox row (and chunk) it is: its first block's block_id."""
        first = self.blocks[0] if self.blocks else {}
        return first.get("block_id")


@dataclass
class Fault:
    """Kills the serve process at the planned call of each of its lives, and restarts it."""

    serve: ServeProcess
    rng: random.Random
    wanted: int
    kills: int = 0
    plan: tuple[int, str] = (0, "")  # (the call to kill at, "before" or "after")
    count: int = 0  # calls made by this life of the process
    armed: bool = False
    ready_at: float = 0.0
    killed_at: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    trace: list[str] = field(default_factory=list)  # what happened when, for a failure
    restarting: asyncio.Task[None] | None = None
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def resent_by(self) -> float:
        """When whatever the last killed process had committed has surely been sent again."""
        expired = self.killed_at + DELIVERY["lease_seconds"]
        return max(expired, self.ready_at) + PATIENCE

    def note(self, what: str) -> None:
        self.trace.append(f"{asyncio.get_running_loop().time():9.2f} {what}")

    def attach(self, standin: SlackStandIn) -> None:
        standin.before_call, standin.after_call = self.before, self.after

    async def running(self) -> None:
        """Start serve if it is not running (one start at a time); plan its death."""
        async with self._turn:
            if self.serve.alive:
                return
            self.armed = False  # the calls serve makes while starting are not counted
            self.note("start")
            await self.serve.start()
            self.ready_at = asyncio.get_running_loop().time()
            self.count = 0
            self.plan = (self.rng.randint(1, 12), "after" if self.rng.random() < 0.3 else "before")
            self.armed = self.kills < self.wanted
            self.note(f"ready; kill {self.plan if self.armed else 'none'}")

    async def before(self, call: Call) -> bool:
        self.changed.set()
        blocks = call.args.get("blocks") or [{}]
        self.note(f"{call.method} {call.args.get('channel', '')} {blocks[0].get('block_id', '')}")
        if not self.armed or not self.serve.alive:
            return False
        self.count += 1
        if self.plan[1] == "before" and self.count >= self.plan[0]:
            await self._kill()
            return True
        return False

    async def after(self, call: Call) -> None:
        self.changed.set()
        to_dm = call.method == "chat.postMessage" and str(call.args.get("channel")).startswith("D")
        if self.armed and self.plan[1] == "after" and self.count >= self.plan[0] and to_dm:
            await self._kill()

    async def _kill(self) -> None:
        self.note("KILL")
        self.armed = False
        self.kills += 1
        self.killed_at = asyncio.get_running_loop().time()
        await self.serve.kill()
        self.changed.set()
        self.restarting = asyncio.create_task(self.running())  # as a supervisor would, at once


class People:
    """Everyone on Slack: what they were shown, and what they do (again, if no answer came)."""

    def __init__(self, standin: SlackStandIn, serve: ServeProcess, fault: Fault):
        self.standin, self.serve, self.fault = standin, serve, fault
        self.seen: list[Seen] = []
        self.read = 0  # the stand-in's calls filed so far
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def collect(self) -> None:
        """File what the bot sent since the last look, under who sees it."""
        for at, call in enumerate(self.standin.calls[self.read :], self.read + 1):
            blocks = call.args.get("blocks") or []
            if call.method.startswith("respond:"):  # ephemeral, to whoever's response_url
                who = call.method.removeprefix("respond:").split("-")[0]
                new = not call.args.get("replace_original")
                self.seen.append(Seen(who, blocks, {"ephemeral": True}, new))
            elif call.method in ("chat.postMessage", "chat.update"):
                channel = str(call.args.get("channel", ""))
                who = channel if channel.startswith("#") else "+".join(channel[1:].split("_"))
                ts = f"{at}.0" if call.method == "chat.postMessage" else call.args.get("ts")
                where = {"channel": channel, "ts": ts}
                self.seen.append(Seen(who, blocks, where, call.method == "chat.postMessage"))
        self.read = len(self.standin.calls)

    def shown(self, who: str, since: int = 0) -> list[Seen]:
        self.collect()
        return [s for s in self.seen[since:] if s.who == who]

    def saw(self, who: str, words: str, since: int = 0, button: str | None = None) -> bool:
        return any(
            words in s.text and (button is None or any(_label(b) == button for b in _buttons(s)))
            for s in self.shown(who, since)
        )

    # --- acting ---------------------------------------------------------------------------
    async def step(
        self, what: str, act: Callable[[], Awaitable[bool]], answered: Callable[[int], bool]
    ) -> None:
        """Do `act` until `answered(since)` holds: a person tries again when no answer came
        after a kill by the time the dead process's messages have surely been sent again."""
        since = len(self.seen)
        for _ in range(TRIES):
            await self.fault.running()
            kills = self.fault.kills
            self.fault.note(f"-> {what}")
            if not await act():
                continue  # Slack told them it failed (serve died under it): they try again
            if await self._wait(what, lambda: answered(since), kills):
                return
        raise AssertionError(f"{what}: no answer after {TRIES} tries")

    async def _wait(self, what: str, answered: Callable[[], bool], kills: int) -> bool:
        loop = asyncio.get_running_loop()
        begun = loop.time()
        while True:
            self.fault.changed.clear()
            if answered():
                return True
            if not self.serve.alive:
                await self.fault.running()
            killed = self.fault.kills != kills
            deadline = self.fault.resent_by if killed else begun + QUIET
            left = deadline - loop.time()
            if left <= 0:
                assert killed, f"{what}: no answer in {QUIET} s, and serve was not killed"
                return False
            with suppress(TimeoutError):
                await asyncio.wait_for(self.fault.changed.wait(), left)

    async def command(self, user: str, name: str, text: str = "") -> bool:
        n = self._next()
        body = await self.serve.command(
            user, name, text, self.standin.response_url(f"{user}-{n}"), f"trig-{n}"
        )
        if body and body.get("blocks"):  # the ack itself carries the ephemeral reply
            self.seen.append(Seen(user, body["blocks"], {"ephemeral": True}, True))
        return body is not None

    async def dm(self, user: str, text: str) -> bool:
        """A DM event; Slack sends it again (same event id) while it gets no answer."""
        event_id = f"ev-{self._next()}"
        event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user}
        for retry in range(4):
            await self.fault.running()
            if await self.serve.event({**event, "text": text, "ts": "1.1"}, event_id, retry):
                return True
        return False

    async def press(self, user: str, label: str, words: str = "") -> bool:
        """Press `label` on the newest message shown to `user` (alone or in a group DM) with
        `words` that has it."""
        self.collect()
        found = [
            (s, b)
            for s in self.seen
            if user in s.who.split("+") and words in s.text
            for b in _buttons(s)
            if _label(b) == label
        ]
        assert found, f"{user} was never shown a {label!r} button"
        shown, button = found[-1]
        n = self._next()
        ephemeral = bool(shown.where.get("ephemeral"))
        return await self.serve.press(
            user,
            button,
            channel=shown.where.get("channel") or f"D{user}",  # an ephemeral reply in their DM
            ts=shown.where.get("ts") or f"{n}.5",
            ephemeral=ephemeral,
            blocks=shown.blocks,
            response_url=self.standin.response_url(f"{user}-{n}"),
            trigger=f"trig-a{n}",
        )


def _buttons(seen: Seen) -> list[dict[str, Any]]:
    return buttons_in(seen.blocks)


def _label(button: dict[str, Any]) -> str:
    return str(button["text"]["text"])


# --- the flows -------------------------------------------------------------------------------
async def find_an_ally(p: People, name: str) -> None:
    """/findally -> talk to an ally about stress -> Ali accepts -> the two are introduced ->
    the requester marks it finished."""
    me = uid(name)
    await p.step(
        f"{name} /findally",
        lambda: p.command(me, "/findally"),
        lambda since: p.saw(me, "Only you can see this", since, button="Talk to an ally"),
    )
    await p.step(
        f"{name} talk to an ally",
        lambda: p.press(me, "Talk to an ally"),
        lambda since: p.saw(me, "", since, button="stress"),
    )
    await p.step(
        f"{name} stress",
        lambda: p.press(me, "stress"),
        lambda since: p.saw("UALI", "A colleague would like to talk.", since, button="Accept"),
    )
    await p.step(
        f"Ali accepts {name}",
        lambda: p.press("UALI", "Accept", "A colleague would like to talk."),
        lambda since: p.saw(_pair(me, "UALI"), f"{name}, meet Ali.", since),
    )
    await p.step(  # which frees Ali's slot for the next one
        f"{name} finishes",
        lambda: p.press(me, "Mark as finished", f"{name}, meet Ali."),
        lambda since: p.saw(me, "This request is now closed.", since),
    )


async def apply_and_be_approved(p: People, name: str) -> None:
    """apply -> eight answers by DM -> send -> Casey approves -> the applicant is welcomed."""
    me = uid(name)
    answers = [name, *ANSWERS[1:3], f"{name.lower()}@example.com", *ANSWERS[4:]]
    await p.step(
        f"{name} apply",
        lambda: p.dm(me, "apply"),
        lambda since: p.saw(me, "", since, button="I understand, let's start"),
    )
    await p.step(
        f"{name} starts",
        lambda: p.press(me, "I understand, let's start"),
        lambda since: p.saw(me, "Question 1 of 8", since),
    )
    for number, answer in enumerate(answers, 1):
        expected = f"Question {number + 1} of 8" if number < 8 else "Here is your application."

        def act(answer: str = answer) -> Awaitable[bool]:
            return p.dm(me, answer)

        def answered(since: int, expected: str = expected) -> bool:
            return p.saw(me, expected, since)

        await p.step(f"{name} answers question {number}", act, answered)
    await p.step(
        f"{name} sends it",
        lambda: p.press(me, "Send my application"),
        lambda since: p.saw("UCASEY", f"Application to become an ally: {name}", since, "Approve"),
    )
    await p.step(
        f"Casey approves {name}",
        lambda: p.press("UCASEY", "Approve", f"Application to become an ally: {name}"),
        lambda since: p.saw(me, "Welcome to the ally network!", since),
    )


def _pair(a: str, b: str) -> str:
    return "+".join(sorted((a, b)))


async def _settle(p: People, database_url: str) -> list[tuple[Any, ...]]:
    """Wait until the outbox has nothing left to send (claims of the dead run out, the sweeper
    sends them), then stop serve as a deployment would; the rows not sent."""
    loop = asyncio.get_running_loop()
    deadline = p.fault.resent_by + QUIET
    sql = "SELECT id, status FROM outboxmessage WHERE status IN ('pending', 'sending')"
    while rows(database_url, sql) and loop.time() < deadline:
        p.fault.changed.clear()
        # A send wakes this; a row marked sent after its send is seen at the next look.
        with suppress(TimeoutError):
            await asyncio.wait_for(p.fault.changed.wait(), DELIVERY["sweep_seconds"])
    await p.serve.stop()
    return rows(database_url, "SELECT id, status FROM outboxmessage WHERE status != 'sent'")


def _play(
    tmp_path: Path, names: list[str], flow: Callable[[People, str], Awaitable[None]], seed: int
) -> tuple[People, list[str], list[tuple[Any, ...]]]:
    """Run `flow` for one person after another until KILLS kills have happened."""
    database_url, config_path = prepare(tmp_path, CONFIG, ROSTER)
    cast = ["Ali", "Casey", *names]
    standin = SlackStandIn(users={uid(n): _profile(n, f"{n.lower()}@example.com") for n in cast})

    async def scenario() -> tuple[People, list[str], list[tuple[Any, ...]]]:
        await standin.start()
        serve = ServeProcess(tmp_path, database_url, config_path, standin.url)
        fault = Fault(serve, random.Random(seed), KILLS)
        fault.attach(standin)
        people = People(standin, serve, fault)
        done: list[str] = []
        try:
            for name in names:
                if fault.kills >= KILLS:
                    break
                await flow(people, name)
                done.append(name)
            assert fault.kills >= KILLS, f"only {fault.kills} kills in {len(done)} runs"
            left = await _settle(people, database_url)
            people.collect()
        finally:
            if fault.restarting is not None:
                with suppress(Exception):
                    await fault.restarting
            await serve.close()
            await standin.stop()
            # Shown when the test fails: what serve said last, and what happened when.
            print("\n".join(line for line in serve.log if "apscheduler" not in line)[-8000:])
            print("\n".join(fault.trace))
        return people, done, left

    return asyncio.run(scenario())


def _assert_nothing_left(p: People, unsent: list[tuple[Any, ...]]) -> None:
    """No row is still to send, and none was given up without ever reaching Slack (lost)."""
    waiting = [row for row in unsent if row[1] in ("pending", "sending")]
    assert not waiting, f"outbox rows left to send: {waiting}"
    reached = {
        int(m.group(1))
        for s in p.seen
        for b in s.blocks
        if (m := PREFIX.match(str(b.get("block_id"))))
    }
    lost = [row for row in unsent if row[0] not in reached]
    assert not lost, f"outbox rows given up without reaching Slack: {lost}"


def _assert_each_message_once(p: People) -> None:
    """Every message the bot posted names its outbox row, and no row arrived twice."""
    delivered = [s for s in p.seen if s.new]
    untagged = [s.text[:60] for s in delivered if not PREFIX.match(str(s.tag))]
    assert not untagged, f"messages without an ob:<row>:<chunk> block_id: {untagged}"
    # An ack may carry several rows (the crisis lines and the answer): each part's first block
    # names its row and part.
    tags = Counter(
        b["block_id"] for s in delivered for b in s.blocks if PREFIX.match(str(b.get("block_id")))
    )
    twice = {tag: n for tag, n in tags.items() if n > 1}
    assert not twice, f"delivered more than once: {twice}"


def test_findally_survives_kill_9(tmp_path):
    p, done, unsent = _play(tmp_path, REQUESTERS, find_an_ally, SEED)
    assert p.fault.kills == KILLS and len(done) >= 2
    for name in done:
        me = uid(name)
        assert p.saw(me, "Only you can see this")
        assert p.saw(me, "Thank you for reaching out.")
        assert p.saw(_pair(me, "UALI"), f"{name}, meet Ali.")
        assert p.saw(me, "This request is now closed.")
    offers = {s.tag for s in p.shown("UALI") if "A colleague would like to talk." in s.text}
    assert len(offers) >= len(done)
    _assert_each_message_once(p)
    _assert_nothing_left(p, unsent)


def test_an_application_survives_kill_9(tmp_path):
    p, done, unsent = _play(tmp_path, APPLICANTS, apply_and_be_approved, SEED + 1)
    assert p.fault.kills == KILLS and done
    for name in done:
        me = uid(name)
        for number in range(1, 9):
            assert p.saw(me, f"Question {number} of 8"), (name, number)
        assert p.saw(me, "Here is your application.")
        assert p.saw(me, "Thank you, your application is on its way to the coordinators.")
        assert p.saw("UCASEY", f"Application to become an ally: {name}")
        assert p.saw(me, "Welcome to the ally network!")
    posted = [s.text for s in p.shown("#coordinators")]
    waiting = [t for t in posted if t.startswith("A new application to become an ally")]
    assert len(waiting) >= len(done)
    assert not any(name in t for t in posted for name in done)  # nobody named in the channel
    _assert_each_message_once(p)
    _assert_nothing_left(p, unsent)
