"""Two replicas (issue 13): two real `allybot serve` processes on one PostgreSQL database,
behind one Slack app, behave as one bot.

200 people ask for "any ally" at once, each person's requests split between the two processes
(Slack's load balancer may send any request to either). 60 allies of capacity 1 to 3 (120
slots) get the offers, and each ally presses Accept on both processes at the same moment, as a
double click across a load balancer would. In the end no ally talks with more people than their
capacity, every person sees exactly one outcome (an introduction to an ally, or "no ally is free"),
every slot is used, and no message (offer or otherwise) arrived twice.

Runs only where PostgreSQL is (the `postgres_url` fixture, as the other PostgreSQL tests).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.conftest import fresh_database
from tests.serve_process import COORDINATOR_BY_DM, ServeProcess, prepare, rows
from tests.slack_harness import buttons_in, text_of
from tests.slack_standin import Call, SlackStandIn
from tests.test_slack import _profile

REQUESTERS = 200
ALLIES = 60
CAPACITY = {f"UALLY{i:02d}": 1 + i % 3 for i in range(ALLIES)}  # 120 slots in all
SLOTS = sum(CAPACITY.values())
ROSTER = "platform,user,name,department,topics,capacity\n" + "".join(
    f"slack,{user},Ally {user[5:]},Dept {i % 5},stress,{cap}\n"
    for i, (user, cap) in enumerate(CAPACITY.items())
)
PEOPLE = [f"UPER{i:03d}" for i in range(REQUESTERS)]
CONFIG = {
    "coordinators": COORDINATOR_BY_DM,  # 80 "no ally" alerts: by DM, not paced in a channel
    "awareness": {"channels": []},
}
ASKING = "Thank you for reaching out. We are asking an ally now"
NO_ALLY = "No ally is free right now."
OFFER = "A colleague would like to talk."
QUIET = 2.0  # seconds with nothing new from either process, once everyone has an answer
PATIENCE = 30.0  # ... and before: a step that has not come by then never will


def _display(user: str) -> str:
    return f"Person {user[4:]}" if user.startswith("UPER") else f"Ally {user[5:]}"


def _posted(standin: SlackStandIn) -> list[tuple[int, Call]]:
    """Messages delivered (not rewrites), with the ts the stand-in gave each."""
    return [(n, c) for n, c in enumerate(standin.calls, 1) if c.method == "chat.postMessage"]


def _offer_id(call: Call) -> str | None:
    for button in buttons_in(call.args.get("blocks") or []):
        if button["action_id"].startswith("offer:accept"):
            return str(button["value"])
    return None


def _shown_to(call: Call) -> str | None:
    """Who a call shows something to alone: the owner of a response_url, or of a DM."""
    if call.method.startswith("respond:"):
        return call.method.removeprefix("respond:").split("-")[0]
    channel = str(call.args.get("channel"))
    if call.method == "chat.postMessage" and channel.startswith("D"):
        return channel[1:]
    return None


class Inbox:
    """What each person was shown alone, filed as the stand-in records it: one reader, so that
    200 people waiting at once do not each read every call."""

    def __init__(self, standin: SlackStandIn):
        self.standin = standin
        self.mail: dict[str, list[Call]] = defaultdict(list)
        self.changed = asyncio.Condition()

    async def read(self) -> None:
        seen = 0
        while True:
            await self.standin.wait_for(lambda c: True, seen, timeout=3600)
            new = self.standin.calls[seen:]
            seen += len(new)
            for call in new:
                if user := _shown_to(call):
                    self.mail[user].append(call)
            async with self.changed:
                self.changed.notify_all()

    async def wait(
        self, user: str, since: int, shows: Callable[[list[dict[str, Any]]], bool]
    ) -> Call:
        """The first message shown to `user` from their `since`-th on whose blocks `shows`
        holds (a press's answer comes by response_url, or in their DM when they pressed in it)."""

        def found() -> Call | None:
            mine = self.mail[user][since:]
            return next((c for c in mine if shows(c.args.get("blocks") or [])), None)

        try:
            async with self.changed:
                await asyncio.wait_for(self.changed.wait_for(found), PATIENCE)
        except TimeoutError:
            said = [text_of(c.args.get("blocks") or [])[:80] for c in self.mail[user]]
            raise AssertionError(f"{user} waits in vain: {said}") from None
        answer = found()
        assert answer is not None
        return answer


def _button(label: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda blocks: any(b["text"]["text"] == label for b in buttons_in(blocks))


def _says(*words: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda blocks: any(w in text_of(blocks) for w in words)


async def _ask(
    standin: SlackStandIn, inbox: Inbox, replicas: list[ServeProcess], i: int, user: str
) -> str:
    """/findally, "Talk to an ally", "Any ally": each step to the other process. Returns the
    words of the answer to "Any ally"."""
    first, second = replicas[i % 2], replicas[(i + 1) % 2]
    ack = await first.command(user, "/findally", "", standin.response_url(f"{user}-0"), f"t{i}")
    assert ack and ack.get("blocks"), f"{user}: no answer to /findally"
    since = len(inbox.mail[user])
    (talk,) = [b for b in buttons_in(ack["blocks"]) if b["text"]["text"] == "Talk to an ally"]
    pressed = await second.press(
        user,
        talk,
        channel=f"D{user}",
        ts=f"{i}.1",
        ephemeral=True,
        blocks=ack["blocks"],
        response_url=standin.response_url(f"{user}-1"),
        trigger=f"t{i}-1",
    )
    assert pressed
    prefs = (await inbox.wait(user, since, _button("Any ally"))).args["blocks"]
    since = len(inbox.mail[user])
    (any_ally,) = [b for b in buttons_in(prefs) if b["text"]["text"] == "Any ally"]
    assert await first.press(
        user,
        any_ally,
        channel=f"D{user}",
        ts=f"{i}.2",
        ephemeral=True,
        blocks=prefs,
        response_url=standin.response_url(f"{user}-2"),
        trigger=f"t{i}-2",
    )
    answer = await inbox.wait(user, since, _says(ASKING, NO_ALLY))
    return text_of(answer.args["blocks"])


async def _accept_twice(
    standin: SlackStandIn, replicas: list[ServeProcess], ts: int, call: Call
) -> None:
    """The ally presses Accept on the offer, and both processes get the press at once."""
    ally = str(call.args["channel"])[1:]
    blocks = call.args["blocks"]
    (accept,) = [b for b in buttons_in(blocks) if b["action_id"].startswith("offer:accept")]
    pressed = await asyncio.gather(
        *(
            r.press(
                ally,
                accept,
                channel=f"D{ally}",
                ts=f"{ts}.0",
                ephemeral=False,
                blocks=blocks,
                response_url=standin.response_url(f"{ally}-accept-{ts}-{n}"),
                trigger=f"accept-{ts}-{n}",
            )
            for n, r in enumerate(replicas)
        )
    )
    assert all(pressed)


def _outcomes(calls: list[Call]) -> tuple[dict[str, list[str]], Counter[str]]:
    """Who was introduced to which allies, and how often each person was told no ally is free
    (in the answer to their press, or by DM once their offers ran out)."""
    intros: dict[str, list[str]] = {u: [] for u in PEOPLE}
    for c in calls:
        if c.method != "chat.postMessage":
            continue
        channel = str(c.args.get("channel"))
        if channel.startswith("G") and "meet" in text_of(c.args["blocks"]):
            pair = channel[1:].split("_")
            (person,) = [u for u in pair if u.startswith("UPER")]
            (ally,) = [u for u in pair if u.startswith("UALLY")]
            intros[person].append(ally)
    told_none: Counter[str] = Counter()
    for c in calls:
        if NO_ALLY in text_of(c.args.get("blocks") or []):
            user = _shown_to(c) or ""
            told_none[user] += user in PEOPLE
    return intros, told_none


async def _accept_offers_until_quiet(standin: SlackStandIn, replicas: list[ServeProcess]) -> None:
    """Every ally accepts every offer they are sent, until everyone has an outcome and neither
    process has sent anything new for QUIET seconds."""
    presses: list[asyncio.Task[None]] = []
    answered: set[str] = set()
    seen = 0
    while True:
        everyone = len(answered) == REQUESTERS
        try:
            await standin.wait_for(lambda c: True, seen, timeout=QUIET if everyone else PATIENCE)
        except TimeoutError:
            break
        new = standin.calls[seen:]
        for n, call in enumerate(new, seen + 1):
            if call.method != "chat.postMessage" and not call.method.startswith("respond:"):
                continue
            channel, words = str(call.args.get("channel")), text_of(call.args.get("blocks") or [])
            if channel.startswith("G") and "meet" in words:
                answered.update(u for u in channel[1:].split("_") if u.startswith("UPER"))
            elif NO_ALLY in words:
                answered.add(_shown_to(call) or "")
            elif channel.startswith("DUALLY") and _offer_id(call):
                presses.append(asyncio.create_task(_accept_twice(standin, replicas, n, call)))
        seen += len(new)
    await asyncio.gather(*presses)


def test_two_replicas_on_postgresql_act_as_one_bot(tmp_path: Path, postgres_url: str | None):
    database = fresh_database("postgresql", tmp_path, postgres_url)  # skips without PostgreSQL
    database.dispose()
    url, config_path = prepare(tmp_path, CONFIG, ROSTER, database_url=postgres_url)
    users = {u: _profile(_display(u), f"{u.lower()}@example.com") for u in [*CAPACITY, *PEOPLE]}
    standin = SlackStandIn(users=users)
    key = Fernet.generate_key().decode()

    async def scenario() -> list[str]:
        await standin.start()
        replicas = []
        for n in range(2):
            (tmp_path / f"replica{n}").mkdir()
            replicas.append(
                ServeProcess(tmp_path / f"replica{n}", url, config_path, standin.url, key)
            )
        inbox = Inbox(standin)
        reader = asyncio.create_task(inbox.read())
        try:
            await asyncio.gather(*(r.start() for r in replicas))
            asks = (_ask(standin, inbox, replicas, i, u) for i, u in enumerate(PEOPLE))
            answers = list(await asyncio.gather(*asks))
            await _accept_offers_until_quiet(standin, replicas)
            await asyncio.gather(*(r.stop() for r in replicas))
        finally:
            reader.cancel()
            for r in replicas:
                await r.close()
            await standin.stop()
            noisy = ("apscheduler", "aiohttp.access")
            said = [line for r in replicas for line in r.log if not any(w in line for w in noisy)]
            errors = [line for line in said if "ERROR" in line or "Traceback" in line]
            print("\n".join(said[-60:] + errors[:20]))
        return answers

    answers = asyncio.run(scenario())
    posted = [c for _, c in _posted(standin)]

    # Every person saw exactly one outcome: introduced to one ally, or told nobody is free.
    intros, told_none = _outcomes(standin.calls)
    state = rows(
        url,
        "SELECT r.status, count(DISTINCT r.id), string_agg(DISTINCT o.status, ',')"
        " FROM supportrequest r LEFT JOIN offer o ON o.request_id = r.id GROUP BY r.status",
    )
    print("requests by status, with their offers' statuses:", state)  # shown if it fails
    for user, answer in zip(PEOPLE, answers, strict=True):
        assert ASKING in answer or NO_ALLY in answer, (user, answer)
        outcomes = len(intros[user]) + told_none[user]
        assert outcomes == 1, (user, answer, intros[user], told_none[user])

    # Nobody was given more people than their capacity, and every slot was used.
    per_ally = Counter(ally for allies in intros.values() for ally in allies)
    over = {a: n for a, n in per_ally.items() if n > CAPACITY[a]}
    assert not over, f"allies over capacity: {over}"
    assert sum(per_ally.values()) == SLOTS
    assert sum(told_none.values()) == REQUESTERS - SLOTS
    in_db = rows(url, "SELECT capacity, open_count, pending FROM allyprofile")
    assert all(open_ <= cap and pending == 0 for cap, open_, pending in in_db), in_db
    assert sum(open_ for _, open_, _ in in_db) == SLOTS

    # No offer (nor any other message) went out twice, though each Accept reached both.
    offers = Counter(_offer_id(c) for c in posted if _offer_id(c))
    assert not {o: n for o, n in offers.items() if n > 1}
    assert all(OFFER in text_of(c.args["blocks"]) for c in posted if _offer_id(c))
    tags = Counter(json.dumps(c.args["blocks"][0].get("block_id")) for c in posted)
    assert not {t: n for t, n in tags.items() if n > 1}
    assert not rows(url, "SELECT id FROM outboxmessage WHERE status != 'sent'")
