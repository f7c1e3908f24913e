"""Accepts fired at the same moment from many threads never exceed an ally's capacity."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from bot.events import Action, Actor, Command
from storage.models import AllyProfile, Offer, Person, SupportRequest

ROUNDS = 3


def _pid(bot, name: str) -> int:
    with bot.db.session() as session:
        return session.exec(select(Person.id).where(Person.platform_user_id == name)).one()


def _request(bot, requester: str, topic: str | None) -> None:
    actor = Actor("shell", requester)
    bot.router.dispatch(Command("findally", "", actor))
    value = '{"t":%s,"o":0,"a":0}' % (f'"{topic}"' if topic else "null")
    bot.router.dispatch(Action("findally:start", value, actor))


def _fire_together(bot, actions: list[Action]) -> list[list]:
    barrier = threading.Barrier(len(actions))
    results: list[list] = [[] for _ in actions]

    def run(i: int) -> None:
        barrier.wait()
        results[i] = bot.router.dispatch(actions[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_one_ally_accepting_two_offers_at_once_stays_within_capacity(bot):
    bo = _pid(bot, "bo")  # capacity 1, the only grief ally
    for round_ in range(ROUNDS):
        _request(bot, "finn", "grief")  # offered to bo, the only grief ally
        _request(bot, "gus", "grief")  # bo is spoken for, so this goes to someone else
        with bot.db.session() as session:
            pending = session.exec(select(Offer).where(Offer.status == "pending")).all()
            assert [o.ally_id for o in pending].count(bo) == 1
            (other,) = [o for o in pending if o.ally_id != bo]
            # ... and, as if a second replica had raced, to bo as well
            session.add(
                Offer(
                    request_id=other.request_id,
                    ally_id=bo,
                    round=other.round,
                    created_at=other.created_at,
                    expires_at=other.expires_at,
                )
            )
        with bot.db.session() as session:
            offers = session.exec(
                select(Offer).where(Offer.ally_id == bo, Offer.status == "pending")
            ).all()
        assert len(offers) == 2, f"round {round_}: bo should hold two live offers"
        _fire_together(
            bot, [Action("offer:accept", str(o.id), Actor("shell", "bo")) for o in offers]
        )
        with bot.db.session() as session:
            profile = session.get(AllyProfile, bo)
            statuses = sorted(
                session.exec(select(Offer.status).where(Offer.id.in_([o.id for o in offers]))).all()
            )
            matched = session.exec(
                select(SupportRequest).where(
                    SupportRequest.status == "matched", SupportRequest.ally_id == bo
                )
            ).all()
        assert profile.open_count == 1
        assert statuses == ["accepted", "passed"]  # the loser is passed on to the next ally
        assert len(matched) == 1
        # close everything for the next round
        for req in matched:
            requester = "finn" if req.requester_id == _pid(bot, "finn") else "gus"
            bot.router.dispatch(Action("request:finish", str(req.id), Actor("shell", requester)))
        for name in ("finn", "gus"):
            with bot.db.session() as session:
                open_req = session.exec(
                    select(SupportRequest).where(
                        SupportRequest.requester_id == _pid(bot, name),
                        SupportRequest.open_key.is_not(None),
                    )
                ).first()
            if open_req is not None:
                bot.router.dispatch(
                    Action("request:cancel", str(open_req.id), Actor("shell", name))
                )
        bot.clock.advance(timedelta(minutes=1))


def test_two_allies_accepting_one_request_at_once_only_one_gets_it(bot):
    _request(bot, "eve", None)  # offered to ali first
    cam = _pid(bot, "cam")
    with bot.db.session() as session:
        first = session.exec(select(Offer)).one()
        # a second live offer for the same request, as if two replicas had both offered it
        second = Offer(
            request_id=first.request_id,
            ally_id=cam,
            created_at=first.created_at,
            expires_at=first.expires_at,
        )
        session.add(second)
    _fire_together(
        bot,
        [
            Action("offer:accept", str(first.id), Actor("shell", "ali")),
            Action("offer:accept", str(second.id), Actor("shell", "cam")),
        ],
    )
    with bot.db.session() as session:
        req = session.get(SupportRequest, first.request_id)
        accepted = session.exec(select(Offer).where(Offer.status == "accepted")).all()
        open_total = sum(session.exec(select(AllyProfile.open_count)).all())
    assert req.status == "matched"
    assert len(accepted) == 1 and accepted[0].ally_id == req.ally_id
    assert open_total == 1


def test_requests_started_at_once_never_give_an_ally_more_offers_than_free_slots(bot):
    """Four requests for the only grief ally (capacity 1) started at the same moment, as if
    from four replicas: she holds one offer; the others go elsewhere or wait. Her slot count
    matches the offers she holds, and frees again when she passes."""
    bo = _pid(bot, "bo")
    people = ["finn", "gus", "hana", "eve"]
    for who in people:
        bot.router.dispatch(Command("findally", "", Actor("shell", who)))
    value = '{"t":"grief","o":0,"a":0}'
    _fire_together(bot, [Action("findally:start", value, Actor("shell", p)) for p in people])
    with bot.db.session() as session:
        held = session.exec(
            select(Offer).where(Offer.ally_id == bo, Offer.status == "pending")
        ).all()
        profile = session.get(AllyProfile, bo)
        assert len(held) == 1 and profile.pending == 1
        offer_id = held[0].id
        for ally in session.exec(select(AllyProfile)).all():
            holding = session.exec(
                select(Offer).where(Offer.ally_id == ally.person_id, Offer.status == "pending")
            ).all()
            assert ally.pending == len(holding)
            assert ally.open_count + ally.pending <= ally.capacity
    bot.router.dispatch(Action("offer:pass", str(offer_id), Actor("shell", "bo")))
    with bot.db.session() as session:
        assert session.get(AllyProfile, bo).pending == 0
