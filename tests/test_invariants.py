"""Random sequences of commands, button presses (some with tampered values), DMs and time steps,
driven through the real router on the demo organisation and delivered through the shell, with
process deaths between a commit and its sends; after every step the invariants that keep people
safe hold. Hypothesis shrinks a failing sequence to the shortest that breaks one.

State carries over from one example to the next (the database is not reset in between), which
only makes the check stronger: the invariants must hold from any state the bot can reach.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from bot.app import AllyBot
from bot.events import Action, Actor, Command, Text
from bot.messages import Channel, DirectMessage, GroupDM, OnlyYou, Outgoing, Replace
from bot.platforms.shell.console import Shell
from handlers.findally import OPEN
from storage.models import AllyProfile, Offer, OutboxMessage, OutboxStatus, Person, SupportRequest

REQUESTERS = ["eve", "finn", "gus", "hana"]
ALLIES = ["ali", "bo", "cam", "dee"]
EVERYONE = [*REQUESTERS, *ALLIES, "casey"]
STATES = {"offering", "waiting", "matched", "finished", "cancelled"}

command = st.tuples(
    st.just("command"),
    st.sampled_from(EVERYONE),
    st.sampled_from(["findally", "resources", "allystatus", "allies", "allyadmin"]),
    st.sampled_from(["", "away", "available", "requests", "I feel low"]),
)
press = st.tuples(
    st.just("press"),
    st.sampled_from(EVERYONE),
    st.integers(min_value=0, max_value=8),  # which button of their latest message
    st.sampled_from(["as-is", "as-is", "as-is", "other-id", "huge", "empty"]),
)
dm = st.tuples(
    st.just("dm"),
    st.sampled_from(EVERYONE),
    st.sampled_from(["hi", "help", "coordinator"]),
    st.just(""),
)
wait = st.tuples(st.just("wait"), st.sampled_from([1, 16, 60, 60 * 24]), st.just(0), st.just(""))
# Presses of a button that moves a request along (ask, accept, pass, cancel, finish,
# introduce), so sequences get past the first screens.
MOVES = {
    "findally:talk",
    "findally:start",
    "offer:accept",
    "offer:pass",
    "request:cancel",
    "request:finish",
    "request:introduce",
}
aim = st.tuples(
    st.just("aim"),
    st.sampled_from([*EVERYONE, *ALLIES]),  # allies twice as often: someone has to accept
    st.integers(min_value=0, max_value=3),
    st.just(""),
)
# The process dies right after the next commit: nothing of that outbox is sent by it.
crash = st.tuples(st.just("crash"), st.just(""), st.just(0), st.just(""))
steps = st.lists(st.one_of(command, press, aim, aim, aim, dm, wait, crash), min_size=1, max_size=40)


class World:
    """The bot and what each person was last shown (their buttons)."""

    def __init__(self, bot: AllyBot):
        self.bot = bot
        self.buttons: dict[int, list[tuple[str, str]]] = {}
        self.ids = self._ids()
        self.shell = Shell(bot, out=io.StringIO())
        self.delivered: Counter[int] = Counter()  # outbox row -> times it reached the platform
        self.crashing = False

    def deliver(self, out: list[Outgoing]) -> list[Outgoing]:
        """Send an outbox through the shell, unless the process died after the commit."""
        if self.crashing:
            self.crashing = False
            return []
        self.shell.deliver(out)
        self.delivered.update(item.receipt.row for item in out if item.receipt)
        return out

    def _ids(self) -> dict[str, int]:
        with self.bot.db.session() as session:
            rows = session.exec(select(Person.platform_user_id, Person.id)).all()
        return {name: pid for name, pid in rows if name}

    def apply(self, step: tuple) -> list[Outgoing]:
        kind, who, what, extra = step
        if kind == "crash":
            self.crashing = True
            return []
        actor = Actor("shell", who) if kind != "wait" else None
        if kind == "command":
            assert actor is not None
            return list(self.bot.router.dispatch(Command(what, extra, actor)))
        if kind == "dm":
            assert actor is not None
            return list(self.bot.router.dispatch(Text(what, actor)))
        if kind == "wait":
            self.bot.clock.advance(timedelta(minutes=who))
            return self.bot.router.sweep() + self.bot.router.unsent()
        assert actor is not None
        shown = self.buttons.get(self.ids.get(who, -1), [])
        if kind == "aim":
            moves = [b for b in shown if b[0] in MOVES]
            if not moves:
                return []
            return list(self.bot.router.dispatch(Action(*moves[what % len(moves)], actor)))
        if not shown:
            return []
        action, value = shown[what % len(shown)]
        value = {"as-is": value, "other-id": "1", "huge": "9" * 40, "empty": ""}[extra]
        return list(self.bot.router.dispatch(Action(action, value, actor)))

    def saw(self, out: list[Outgoing]) -> None:
        for item in out:
            to = item.to
            targets: tuple[int, ...] = ()
            if isinstance(to, OnlyYou | DirectMessage | Replace):
                targets = (to.person_id,)
            elif isinstance(to, GroupDM):
                targets = to.person_ids
            buttons = [(b.action, b.value) for b in item.message.buttons()]
            for pid in targets:
                if buttons:
                    self.buttons[pid] = buttons


def check(world: World, out: list[Outgoing]) -> None:
    """Every invariant, against the database and what was just sent."""
    with world.bot.db.session() as session:
        # Counted per ally in one query each (after every step of every sequence: it adds up).
        offers = session.exec(
            select(Offer.ally_id, func.count())
            .where(Offer.status == "pending")
            .group_by(Offer.ally_id)
        ).all()
        matched = session.exec(
            select(SupportRequest.ally_id, func.count())
            .where(SupportRequest.status == "matched")
            .group_by(SupportRequest.ally_id)
        ).all()
        pending_offers, talking_to = dict(offers), dict(matched)
        for ally in session.exec(select(AllyProfile)).all():
            holding = pending_offers.get(ally.person_id, 0)
            assert 0 <= ally.open_count <= ally.capacity, ally
            assert ally.pending == holding, (ally, holding)
            assert ally.open_count + ally.pending <= ally.capacity, ally
            talking = talking_to.get(ally.person_id, 0)
            assert talking <= ally.open_count, (ally, talking)
        names = dict(session.exec(select(Person.id, Person.display_name)).all())
        requesters: set[str] = set()
        for req in session.exec(select(SupportRequest)).all():
            assert req.status in STATES, req
            assert (req.open_key == req.requester_id) == (req.status in OPEN), req
            assert (req.ally_id is not None) == (
                req.status == "matched" or req.matched_at is not None
            )
            if req.requester_id in names:
                requesters.add(names[req.requester_id])
    for item in out:
        if isinstance(item.to, Channel):
            words = item.message.fallback_text()
            assert not any(name and name in words for name in requesters), words


def test_the_invariants_hold_after_every_step_of_any_sequence(bot):
    world = World(bot)

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,  # the same sequences every run: a failure is reproducible, never flaky
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(steps)
    def run(sequence: list[tuple]) -> None:
        for step in sequence:
            out = world.deliver(world.apply(step))
            world.saw(out)
            check(world, out)
            assert max(world.delivered.values(), default=1) == 1, world.delivered.most_common(1)

    run()
    # Whatever died with its process is sent once the claims have run out, and only once.
    bot.clock.advance(timedelta(minutes=5))
    world.deliver(bot.router.unsent())
    with bot.db.session() as session:
        rows = session.exec(select(OutboxMessage.id, OutboxMessage.status)).all()
    assert {status for _, status in rows} == {OutboxStatus.SENT}
    assert world.delivered == Counter({row: 1 for row, _ in rows})
    with bot.db.session() as session:  # the sequences went somewhere: offers were made and taken
        offers = session.exec(select(func.count()).select_from(Offer)).one()
        matched = session.exec(
            select(func.count())
            .select_from(SupportRequest)
            .where(
                SupportRequest.matched_at.is_not(None)  # type: ignore[union-attr]
            )
        ).one()
    assert offers >= 5 and matched >= 1, (offers, matched)
