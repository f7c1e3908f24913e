"""Support requests: triage, matching, offers, hand-off and closing.

The words a requester types after /findally are read once, to spot crisis language, and then
dropped: they are never stored or logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.messages import Block, Button, Divider, GroupDM
from handlers import candidates, coordinators, matching, safety
from handlers.context import Context, buttons, whole_number
from storage import ally_lists, relays, support, timers
from storage.changes import LostRace, won
from storage.models import (
    AllyLanguage,
    AllyProfile,
    AllyStatus,
    AllyTopic,
    Offer,
    OfferStatus,
    Person,
    RelayEnd,
    RequestStatus,
    SupportRequest,
    Timer,
)

log = logging.getLogger(__name__)

OPEN = support.OPEN
MAX_TOPICS = 12
MAX_LANGUAGES = 8  # the language button cycles through at most this many
MAX_DEPARTMENTS = 24
# After MAX_STARTS requests started and cancelled within REPEAT_MINUTES, a person waits before
# the allies are asked again; a request started again within REPEAT_MINUTES of cancelling one
# counts as the same request in the digest.
MAX_STARTS = 3
OFFER_TRIES = 5  # allies tried when racing replicas take each one's last slot first
REPEAT_MINUTES = 10
OFFER_EXPIRY = support.OFFER_EXPIRY
STILL_WAITING = "request.waiting"  # coordinators are told again about a request still waiting
FOLLOW_UP = "request.follow_up"  # the requester is asked how it went (handlers/follow_up.py)
# How a closed offer's DM reads afterwards: no topic, no buttons.
_CLOSED_OFFER = {
    OfferStatus.PASSED: "findally.offer_closed_passed",
    OfferStatus.EXPIRED: "findally.offer_closed_expired",
    OfferStatus.WITHDRAWN: "findally.offer_closed_withdrawn",
}


# --- entry points ------------------------------------------------------------------------
def command(ctx: Context, text: str) -> None:
    """/findally [words]: the private choices, or the open request if there is one."""
    del text  # read by the router for crisis language; never stored, never logged
    existing = open_request(ctx, _me(ctx).id)
    if existing is not None:
        if ctx.danger >= 2:  # emergency-first help leads (the router); the request is marked
            _mark_urgent(ctx, existing)
            ctx.reply(
                *request_status(ctx, existing),
                ctx.section("findally.urgent_while_open"),
                buttons(ctx.button("findally.button_urgent", "findally:urgent", style="danger")),
            )
            return
        ctx.reply(*request_status(ctx, existing))
        return
    ctx.reply(
        ctx.section("findally.choices"),
        *choices(ctx),
    )


def _mark_urgent(ctx: Context, req: SupportRequest) -> None:
    """Offers from now on say the colleague may need support soon; the ally already matched is
    told so once. Nothing about why, and none of the requester's words."""
    marked = won(
        ctx.session,
        update(SupportRequest)
        .where(col(SupportRequest.id) == req.id, col(SupportRequest.urgent).is_(False))
        .values(urgent=True),
    )
    if marked and req.status == RequestStatus.MATCHED and req.ally_id is not None:
        ctx.dm(req.ally_id, ctx.say("findally.ally_told_urgent"))


def choices(ctx: Context) -> list[Block]:
    """The three ways in, always together: an ally, resources, urgent help (one click)."""
    return [
        buttons(
            ctx.button("findally.button_talk", "findally:talk", style="primary"),
            ctx.button("findally.button_resources", "findally:resources"),
            ctx.button("findally.button_urgent", "findally:urgent", style="danger"),
        ),
        ctx.note("findally.not_counsellors"),
    ]


def show_resources(ctx: Context, _value: str = "") -> None:
    """/resources, and the "just show me resources" choice."""
    ctx.reply(*safety.resource_blocks(ctx, _me(ctx).region))


def urgent(ctx: Context, _value: str = "") -> None:
    me = _me(ctx)
    ctx.reply(
        *safety.crisis_blocks(ctx, me.region),
        ctx.section("findally.urgent_also"),
        buttons(ctx.button("findally.button_talk", "findally:talk")),
    )


@dataclass(frozen=True)
class Prefs:
    topic: str | None = None
    outside: bool = False
    anonymous: bool = False
    language: str | None = None  # preferred; offered only when allies list languages

    def encode(self, **changes: object) -> str:
        p = {"t": self.topic, "o": int(self.outside), "a": int(self.anonymous), "l": self.language}
        p.update(changes)
        return json.dumps(p, separators=(",", ":"))


def _decode(value: str, ctx: Context) -> Prefs | None:
    """Button values come back from the platform: trust nothing in them. A topic or language
    must be one the active allies offer now."""
    try:
        raw = json.loads(value) if len(value) <= 2000 else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(raw, dict) or raw.get("o") not in (0, 1) or raw.get("a") not in (0, 1):
        return None
    topic, language = raw.get("t"), raw.get("l")
    if topic is not None and topic not in known_topics(ctx):
        return None
    if language is not None and language not in known_languages(ctx):
        return None
    return Prefs(topic=topic, outside=bool(raw["o"]), anonymous=bool(raw["a"]), language=language)


def talk(ctx: Context, value: str = "") -> None:
    """The preferences step: pick a topic (or any ally), toggle outside-department/anonymous."""
    default = Prefs(outside=ctx.app.matching.outside_department_default)
    prefs = _decode(value, ctx) if value else default
    if prefs is None:
        ctx.reply(ctx.say("findally.stale_button"))
        return
    ctx.reply(*_prefs_blocks(ctx, prefs))


def toggle(ctx: Context, value: str) -> None:
    prefs = _decode(value, ctx)
    if prefs is None:
        ctx.reply(ctx.say("findally.stale_button"))
        return
    departments = known_departments(ctx)
    if prefs.outside and not _me(ctx).department and departments:
        # We cannot keep them away from their own department without knowing it: ask.
        ctx.reply(
            ctx.section("findally.ask_department"),
            buttons(
                *[
                    ctx.button(
                        "findally.button_topic",
                        "findally:department",
                        json.dumps({"d": d, "p": prefs.encode()}, separators=(",", ":")),
                        topic=d,
                    )
                    for d in departments
                ]
            ),
        )
        return
    ctx.reply(*_prefs_blocks(ctx, prefs))


def set_department(ctx: Context, value: str) -> None:
    """The requester told us their department (from the list of known ones)."""
    try:
        raw = json.loads(value) if len(value) <= 2000 else None
    except (ValueError, RecursionError):
        raw = None
    prefs = (
        _decode(raw.get("p", ""), ctx)
        if isinstance(raw, dict) and isinstance(raw.get("p"), str)
        else None
    )
    if prefs is None or raw.get("d") not in known_departments(ctx):
        ctx.reply(ctx.say("findally.stale_button"))
        return
    me = _me(ctx)
    me.department = raw["d"]
    ctx.session.add(me)
    ctx.reply(*_prefs_blocks(ctx, prefs))


def _recent_cancels(ctx: Context, person_id: int | None) -> int:
    """Requests this person started and cancelled in the last REPEAT_MINUTES (one that reached
    an ally, however short, is never held against them)."""
    since = ctx.now - timedelta(minutes=REPEAT_MINUTES)
    return ctx.session.exec(
        select(func.count())
        .select_from(SupportRequest)
        .where(
            SupportRequest.requester_id == person_id,
            SupportRequest.status == RequestStatus.CANCELLED,
            col(SupportRequest.created_at) > since,
        )
    ).one()


def known_departments(ctx: Context) -> list[str]:
    rows = ctx.session.exec(
        select(Person.department).where(col(Person.department).is_not(None)).distinct()
    ).all()
    return sorted({d for d in rows if d}, key=str.casefold)[:MAX_DEPARTMENTS]


def start(ctx: Context, value: str) -> None:
    """Create the request and ask the first ally."""
    me = _me(ctx)
    prefs = _decode(value, ctx)
    if prefs is None:
        ctx.reply(ctx.say("findally.stale_button"))
        return
    existing = open_request(ctx, me.id)
    if existing is not None:
        ctx.reply(*request_status(ctx, existing))
        return
    if _recent_cancels(ctx, me.id) >= MAX_STARTS:
        # Starting and cancelling over and over would send each ally an offer and a
        # withdrawal every time (and alert the coordinators): a pause, with every other way
        # to help still one press away.
        ctx.reply(
            ctx.section("findally.too_many_starts", minutes=REPEAT_MINUTES),
            buttons(
                ctx.button("findally.button_resources", "findally:resources"),
                ctx.button("findally.button_urgent", "findally:urgent", style="danger"),
            ),
        )
        return
    req = SupportRequest(
        requester_id=me.id,
        open_key=me.id,
        status=RequestStatus.OFFERING,
        topic=prefs.topic,
        language=prefs.language,
        outside_department=prefs.outside,
        anonymous=prefs.anonymous,
        created_at=ctx.now,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(req)
    except IntegrityError:  # a second press raced the first: show the one that won
        existing = open_request(ctx, me.id)
        if existing is not None:
            ctx.reply(*request_status(ctx, existing))
        return
    log.info("request %s opened", req.id)  # never who: logs outlive the request
    if _offer(ctx, req, new=True) == "offered":
        ctx.reply(
            ctx.section("findally.asking", minutes=ctx.app.matching.offer_timeout_minutes),
            buttons(ctx.button("findally.button_cancel", "request:cancel", str(req.id))),
        )
    else:
        _no_ally(ctx, req)


# --- offers ------------------------------------------------------------------------------
def offer_next(ctx: Context, req: SupportRequest) -> str:
    """Offer `req` to the best ally not yet asked in this round.

    Returns "offered", "none" (the request now waits) or "closed" (it was cancelled or
    matched meanwhile, perhaps by another process: nothing is changed).
    """
    if not support.OFFERING(ctx.session, request=req.id):
        return "closed"
    ctx.session.refresh(req)
    return _offer(ctx, req)


def _offer(ctx: Context, req: SupportRequest, new: bool = False) -> str:
    """offer_next, for a request that is offering. `new`: this transaction opened it, so no
    other can have offered it or moved it on (its row is not committed yet)."""
    # Another process may take the ally's last free slot between ranking and offering
    # (send_offer then returns None): rank again, so that a request is never left "offering"
    # with no offer out (nothing would ever move it on). A None because a racing process
    # offered this very request a moment ago leaves that offer pending: it stands.
    for _ in range(OFFER_TRIES):
        ranked = _ranked(ctx, req, most=1, new=new)
        if (
            not ranked
            or send_offer(ctx, req, ranked[0])
            or (not new and _pending_offer(ctx, req.id))
        ):
            break
    else:
        ranked = []  # every ally ranked was taken meanwhile: it waits, as with nobody free
    if not ranked:
        if won(
            ctx.session,
            update(SupportRequest)
            .where(
                col(SupportRequest.id) == req.id,
                col(SupportRequest.status) == RequestStatus.OFFERING,
            )
            .values(status=RequestStatus.WAITING, waited=True),
        ):
            hours = timedelta(hours=ctx.app.matching.waiting_alert_hours)
            timers.plan(
                ctx.session, STILL_WAITING, req.id, ctx.now + hours, f"{STILL_WAITING}:{req.id}"
            )
        return "none"
    return "offered"


def send_offer(ctx: Context, req: SupportRequest, ally_id: int) -> Offer | None:
    """Ask one ally to take `req`: the offer row, its expiry timer and the offer DM. None if
    the ally already holds this round's offer (another process sent it a moment ago), or has
    no free slot left (another process's offer took it).

    The offer never names the requester (only the ally who accepts learns who it is), so an
    ally who passes or is not chosen has been told nothing about who asked.
    """
    expires = ctx.now + timedelta(minutes=ctx.app.matching.offer_timeout_minutes)
    offer = Offer(
        request_id=req.id, ally_id=ally_id, round=req.round, created_at=ctx.now, expires_at=expires
    )
    try:
        with ctx.session.begin_nested():
            # The offer holds a slot of the ally's capacity until it is answered or closed.
            if not support.HOLD_SLOT(ctx.session, ally=ally_id, now=ctx.now):
                raise _Undo
            ctx.session.add(offer)
    except (IntegrityError, _Undo):
        return None
    ctx.session.add(Timer(kind=OFFER_EXPIRY, subject_id=offer.id, due_at=expires))
    key = "findally.offer_other_department" if req.outside_department else "findally.offer"
    topic_line = [ctx.section("findally.offer_topic", topic=req.topic)] if req.topic else []
    if req.language:
        topic_line.append(ctx.section("findally.offer_language", language=req.language))
    anonymous = [ctx.note("findally.offer_anonymous")] if req.anonymous else []
    urgent = [ctx.section("findally.offer_urgent")] if req.urgent else []
    ctx.dm(
        ally_id,
        ctx.section(key, minutes=ctx.app.matching.offer_timeout_minutes),
        *urgent,
        *topic_line,
        *anonymous,
        buttons(
            ctx.button("findally.button_accept", "offer:accept", str(offer.id), "primary"),
            ctx.button("findally.button_pass", "offer:pass", str(offer.id)),
        ),
        key=offer_key(offer.id),
    )
    log.info("offer %s for request %s sent", offer.id, req.id)
    return offer


def offer_key(offer_id: int | None) -> str:
    """The handle of an offer's DM, by which it is rewritten once the offer closes."""
    return f"offer:{offer_id}"


def offer_in_key(key: str | None) -> int | None:
    """The offer whose DM has this key (see offer_key), if it is one."""
    kind, _, number = (key or "").partition(":")
    return whole_number(number) if kind == "offer" else None


def accept(ctx: Context, value: str) -> None:
    """Accept an offer: offer, request and ally capacity change together or not at all.

    The accept itself checks everything first (support.ACCEPT_OFFER), so the usual case reads
    nothing before it wins, and matching the request and taking the slot cannot then lose but
    to another transaction committing in between (PostgreSQL): the event then runs again. The
    check sees what is committed: a slot another event of the same ally is freeing at that
    very moment counts as taken (the offer is passed), where a lock would have waited."""
    me, offer_id = _me(ctx), whole_number(value)
    session, now = ctx.session, ctx.now
    request_id: int | None = None
    if offer_id is not None:
        request_id = support.ACCEPT_OFFER.returning(session, offer=offer_id, ally=me.id, now=now)
    if request_id is None:
        _not_accepted(ctx, value)
        return
    matched = support.MATCH_REQUEST.rows(session, request=request_id, ally=me.id, now=now)
    if not matched or not support.OPEN_TALK(session, ally=me.id, now=now):
        raise LostRace("the request or the ally's slots moved after the accept's check")
    requester_id, anonymous = matched[0]
    support.EXPIRY_DONE(session, offer=offer_id)
    log.info("offer %s accepted; request %s matched", offer_id, request_id)
    ctx.rewrite(me.id, offer_key(offer_id), ctx.say("findally.offer_closed_accepted"))
    _withdraw_pending(ctx, request_id)  # any other live offer for it (from a racing replica)
    _hand_off(ctx, Pair(request_id, requester_id, me.id), anonymous)
    later = ctx.now + timedelta(days=ctx.app.follow_up_days)
    timers.plan(ctx.session, FOLLOW_UP, request_id, later, f"{FOLLOW_UP}:{request_id}")


def _not_accepted(ctx: Context, value: str) -> None:
    """Why an accept changed nothing, told to the ally; an offer that can no longer be taken
    closes (withdrawn if its request moved on, passed if the ally has no slot free)."""
    offer = _own_offer(ctx, value)
    if offer is None:
        return  # not theirs: told so
    if offer.status != OfferStatus.PENDING or offer.expires_at <= ctx.now:
        ctx.reply(ctx.say("findally.offer_gone"))  # answered, withdrawn or expired already
        return
    req = ctx.session.get(SupportRequest, offer.request_id)
    if req is None or req.status != RequestStatus.OFFERING:
        _close_offer(ctx, offer, OfferStatus.WITHDRAWN)  # cancelled or taken meanwhile
        ctx.reply(ctx.say("findally.offer_gone"))
        return
    ally = ctx.session.get(AllyProfile, offer.ally_id)
    if ally and ally.status == AllyStatus.ACTIVE and ally.open_count < ally.capacity:
        # The accept's check saw otherwise: a slot came free in between (PostgreSQL).
        raise LostRace("the ally's slots moved after the accept's check")
    _close_offer(ctx, offer, OfferStatus.PASSED)
    ctx.reply(ctx.say("findally.at_capacity"))
    _move_on(ctx, req)


def pass_offer(ctx: Context, value: str) -> None:
    offer = _own_offer(ctx, value)
    if offer is None:
        return
    if not _close_offer(ctx, offer, OfferStatus.PASSED):
        ctx.reply(ctx.say("findally.offer_gone"))
        return
    ctx.reply(ctx.say("findally.passed"))
    _move_on(ctx, ctx.session.get(SupportRequest, offer.request_id))


def undeliverable(ctx: Context, offer_id: int) -> None:
    """The platform could not deliver this offer (the ally cannot be reached there): it closes
    as if passed, and the next ally is asked. The coordinators hear about the ally, from the
    platform's report, never about the request."""
    offer = ctx.session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.PENDING:
        return
    if not _close_offer(ctx, offer, OfferStatus.WITHDRAWN):
        return
    _move_on(ctx, ctx.session.get(SupportRequest, offer.request_id))


def expire_offer(ctx: Context, offer_id: int) -> None:
    """Timer: the ally did not answer in time, so the next one is asked."""
    offer = ctx.session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.PENDING:
        return
    if not _close_offer(ctx, offer, OfferStatus.EXPIRED):
        return
    _move_on(ctx, ctx.session.get(SupportRequest, offer.request_id))


def offer_to_all(ctx: Context, req: SupportRequest) -> int | None:
    """A coordinator's push for a request still without an ally: one offer to every available,
    matching ally with room, all at once (the same Offer rows, expiry timers and offer DMs as
    one at a time). The first Accept wins through accept's conditional updates and
    _withdraw_pending closes the rest. Returns how many allies were asked, or None if the
    request no longer needs an ally (matched, cancelled or finished meanwhile)."""
    # A waiting request starts a new round, as in retry_waiting, so allies who let an earlier
    # offer expire may be asked again; one still being offered keeps its round.
    was_waiting = won(
        ctx.session,
        update(SupportRequest)
        .where(
            col(SupportRequest.id) == req.id,
            col(SupportRequest.status) == RequestStatus.WAITING,
        )
        .values(round=SupportRequest.round + 1, status=RequestStatus.OFFERING),
    )
    ctx.session.refresh(req)
    if req.status != RequestStatus.OFFERING:
        return None
    ranked = _ranked(ctx, req)
    asked = sum(send_offer(ctx, req, ally_id) is not None for ally_id in ranked)
    if not ranked and was_waiting:  # nobody to ask: it waits as before
        won(  # it cannot lose: this transaction made it offering and holds the row
            ctx.session,
            update(SupportRequest)
            .where(
                col(SupportRequest.id) == req.id,
                col(SupportRequest.status) == RequestStatus.OFFERING,
            )
            .values(status=RequestStatus.WAITING),
        )
        ctx.session.refresh(req)
    log.info("request %s offered to %s allies at once", req.id, asked)
    return asked


def _ranked(
    ctx: Context, req: SupportRequest, most: int | None = None, new: bool = False
) -> list[int]:
    """The allies who may be offered `req` now, best first (nobody asked in this round, and
    nobody with a pending or passed offer for it): all of them, or the first `most`. `new`:
    a request this transaction opened, for which nobody has been asked yet."""
    requester = ctx.session.get(Person, req.requester_id)
    assert requester is not None
    skip = () if new else support.ASKED.all(ctx.session, request=req.id, round=req.round)
    want = matching.Wanted(
        requester_id=req.requester_id,
        requester_department=requester.department,
        topic=req.topic,
        outside_department=req.outside_department,
        already_asked=frozenset(skip),
        language=req.language,
    )
    rules = ctx.app.allies
    lapsed = ctx.now.date() - timedelta(
        days=rules.training_renewal_days + rules.training_grace_days
    )
    return candidates.best(ctx.session, want, ctx.now, lapsed, most)


# --- after the hand-off --------------------------------------------------------------------
def introduce(ctx: Context, value: str) -> None:
    """An anonymous requester agrees to be named to their ally: open the group DM."""
    req = _own_request(ctx, value, requester_only=True)
    if req is None:
        return
    if req.status != RequestStatus.MATCHED:
        ctx.reply(ctx.say("findally.request_closed"))
        return
    if not won(
        ctx.session,
        update(SupportRequest)
        .where(
            col(SupportRequest.id) == req.id,
            col(SupportRequest.status) == RequestStatus.MATCHED,
            col(SupportRequest.introduced).is_(False),
        )
        .values(introduced=True),
    ):
        ctx.reply(ctx.say("findally.already_introduced"))
        return
    # From now on they talk in their own conversation: the relay (if any) closes.
    relay = relays.of_request(ctx.session, req.id)
    revealed = relay is not None and relays.close(ctx.session, relay.id, RelayEnd.REVEALED, ctx.now)
    assert req.id is not None and req.ally_id is not None  # matched
    _group_intro(ctx, Pair(req.id, req.requester_id, req.ally_id), relay_closed=revealed)


def finish(ctx: Context, value: str) -> None:
    """Either side marks the conversation finished; the ally's capacity is freed."""
    req = _own_request(ctx, value)
    if req is None:
        return
    if not end_matched(ctx, req):
        ctx.reply(ctx.say("findally.request_closed"))
        return
    ctx.dm(req.requester_id, ctx.say("findally.finished_requester"))
    ctx.dm(req.ally_id, ctx.say("findally.finished_ally"))


def end_matched(ctx: Context, req: SupportRequest, why: RelayEnd = RelayEnd.FINISHED) -> bool:
    """Finish a matched request, and its relay if it has one open (closed as `why`): the
    ally's capacity is freed and waiting requests are offered again. Tells nobody; False if
    the request was not matched (finished or closed meanwhile)."""
    if not support.FINISH_REQUEST(ctx.session, request=req.id, now=ctx.now):
        return False
    # Only an anonymous request has a relay (_hand_off): one lookup fewer on every other finish.
    relay = relays.of_request(ctx.session, req.id) if req.anonymous else None
    if relay is not None:
        relays.close(ctx.session, relay.id, why, ctx.now)
    support.CLOSE_TALK(ctx.session, ally=req.ally_id, now=ctx.now)
    log.info("request %s finished", req.id)
    retry_waiting(ctx)
    return True


def cancel(ctx: Context, value: str) -> None:
    """The requester withdraws a request that has not been matched yet."""
    req = _own_request(ctx, value, requester_only=True)
    if req is None:
        return
    if req.status == RequestStatus.MATCHED:
        ctx.reply(*request_status(ctx, req))
        return
    if not won(
        ctx.session,
        update(SupportRequest)
        .where(col(SupportRequest.id) == req.id, col(SupportRequest.status).in_(support.UNMATCHED))
        .values(status=RequestStatus.CANCELLED, open_key=None, closed_at=ctx.now, urgent=False),
    ):
        ctx.reply(ctx.say("findally.request_closed"))
        return
    _withdraw_pending(ctx, req.id)
    ctx.reply(ctx.say("findally.cancelled"))


def release_offers(ctx: Context, ally_id: int) -> int:
    """An ally has left the rota: their unanswered offers go to the next ally. Returns how many."""
    pending = ctx.session.exec(
        select(Offer).where(Offer.ally_id == ally_id, Offer.status == OfferStatus.PENDING)
    ).all()
    moved = 0
    for offer in pending:
        if _close_offer(ctx, offer, OfferStatus.WITHDRAWN):
            moved += 1
            _move_on(ctx, ctx.session.get(SupportRequest, offer.request_id))
    return moved


def still_waiting(ctx: Context, request_id: int) -> None:
    """Timer: a request has waited for an ally all this time; coordinators hear again."""
    req = ctx.session.get(SupportRequest, request_id)
    if req is None or req.status != RequestStatus.WAITING:
        return
    hours = ctx.app.matching.waiting_alert_hours
    waited = int((ctx.now - req.created_at).total_seconds() // 3600)
    coordinators.notify(ctx, ctx.say("findally.coordinator_still_waiting", hours=waited))
    timers.plan(
        ctx.session,
        STILL_WAITING,
        req.id,
        ctx.now + timedelta(hours=hours),
        f"{STILL_WAITING}:{req.id}",
    )


def retry_waiting(ctx: Context) -> None:
    """Offer waiting requests, oldest first, now that an ally may be free."""
    for req in support.WAITING_REQUESTS.all(ctx.session):
        # A new round: allies who let an earlier offer expire may be asked again.
        if not won(
            ctx.session,
            update(SupportRequest)
            .where(
                col(SupportRequest.id) == req.id,
                col(SupportRequest.status) == RequestStatus.WAITING,
            )
            .values(round=SupportRequest.round + 1),
        ):
            continue
        ctx.session.refresh(req)
        if offer_next(ctx, req) == "offered":
            ctx.dm(req.requester_id, ctx.say("findally.asking_again"))


# --- views ---------------------------------------------------------------------------------
def open_request(ctx: Context, person_id: int) -> SupportRequest | None:
    request: SupportRequest | None = support.OPEN_REQUEST.first(ctx.session, person=person_id)
    return request


def request_status(ctx: Context, req: SupportRequest) -> list[Block]:
    rid = str(req.id)
    if req.status == RequestStatus.MATCHED:
        ally = ctx.session.get(Person, req.ally_id)
        row = [ctx.button("findally.button_finish", "request:finish", rid)]
        if req.anonymous and not req.introduced:
            row.insert(
                0, ctx.button("findally.button_introduce", "request:introduce", rid, "primary")
            )
        return [ctx.section("findally.status_matched", ally=ally.display_name), buttons(*row)]
    offering = req.status == RequestStatus.OFFERING
    key = "findally.status_offering" if offering else "findally.status_waiting"
    return [ctx.section(key), buttons(ctx.button("findally.button_cancel", "request:cancel", rid))]


def known_topics(ctx: Context) -> list[str]:
    """Topics the active allies offer, as shown on the topic buttons."""
    return ally_lists.offered(ctx.session, AllyTopic, AllyTopic.topic, MAX_TOPICS)


def known_languages(ctx: Context) -> list[str]:
    """Languages the active allies list; empty when none do (then no language is offered)."""
    return ally_lists.offered(ctx.session, AllyLanguage, AllyLanguage.language, MAX_LANGUAGES)


def _language_button(ctx: Context, prefs: Prefs) -> list[Button]:
    """One button that cycles: any language, then each language the allies list, then any."""
    languages = known_languages(ctx)
    if not languages:
        return []
    cycle: list[str | None] = [None, *languages]
    now = prefs.language if prefs.language in languages else None
    following = cycle[(cycle.index(now) + 1) % len(cycle)]
    state = now if now is not None else ctx.content.plain("findally.language_any")
    return [
        ctx.button(
            "findally.button_language", "findally:toggle", prefs.encode(l=following), state=state
        )
    ]


def _prefs_blocks(ctx: Context, prefs: Prefs) -> list[Block]:
    on, off = ctx.content.plain("findally.word_yes"), ctx.content.plain("findally.word_no")
    topic_buttons = [
        ctx.button("findally.button_topic", "findally:start", prefs.encode(t=t), topic=t)
        for t in known_topics(ctx)
    ]
    any_ally = ctx.button("findally.button_any", "findally:start", prefs.encode(t=None), "primary")
    return [
        ctx.section(
            "findally.prefs",
            outside=on if prefs.outside else off,
            anonymous=on if prefs.anonymous else off,
        ),
        buttons(any_ally, *topic_buttons),
        buttons(
            ctx.button(
                "findally.button_outside",
                "findally:toggle",
                prefs.encode(o=int(not prefs.outside)),
                state=on if prefs.outside else off,
            ),
            ctx.button(
                "findally.button_anonymous",
                "findally:toggle",
                prefs.encode(a=int(not prefs.anonymous)),
                state=on if prefs.anonymous else off,
            ),
            *_language_button(ctx, prefs),
        ),
        ctx.note("findally.prefs_note"),
    ]


# --- internals -------------------------------------------------------------------------------
class _Undo(Exception):
    """Raised inside a savepoint to roll back a partly applied change."""


def _me(ctx: Context) -> Person:
    assert ctx.actor is not None
    return ctx.actor


def _close_offer(ctx: Context, offer: Offer, status: OfferStatus) -> bool:
    """Close a pending offer as passed, expired or withdrawn. The offer DM is rewritten without
    the topic and buttons, so an ally who did not take the request keeps nothing about it."""
    done = won(
        ctx.session,
        update(Offer)
        .where(col(Offer.id) == offer.id, col(Offer.status) == OfferStatus.PENDING)
        .values(status=status, decided_at=ctx.now),
    )
    if done:
        _offer_closed(ctx, offer.id, offer.ally_id, status)
    return done


def _offer_closed(ctx: Context, offer_id: int | None, ally_id: int, status: OfferStatus) -> None:
    """What follows the update that closed an offer (once: only its winner gets here): the
    slot it held is free again, its expiry timer is retired, and the ally's offer DM says so."""
    ctx.session.exec(
        update(AllyProfile)
        .where(col(AllyProfile.person_id) == ally_id)
        .values(pending=support.one_less(AllyProfile.pending))
    )
    support.EXPIRY_DONE(ctx.session, offer=offer_id)
    ctx.rewrite(ally_id, offer_key(offer_id), ctx.say(_CLOSED_OFFER[status]))


def _withdraw_pending(ctx: Context, request_id: int) -> None:
    """Withdraw every offer of the request still pending (the rewritten DM tells each ally)."""
    withdrawn = support.WITHDRAW_PENDING.rows(ctx.session, request=request_id, now=ctx.now)
    # Allies' rows in id order: two requests offered to the same allies and accepted at once
    # withdraw the rest in the same order, so they cannot deadlock on those rows. (Each
    # accepting ally's own row is taken first; PostgreSQL breaks such a rare cycle by ending
    # one of the two transactions, and the router runs that event again.)
    for offer_id, ally_id in sorted(withdrawn, key=lambda row: row.ally_id):
        _offer_closed(ctx, offer_id, ally_id, OfferStatus.WITHDRAWN)


def _move_on(ctx: Context, req: SupportRequest | None) -> None:
    """After a pass or expiry: ask the next ally, or fall back to resources and coordinators."""
    if req is None:
        return
    ctx.session.refresh(req)
    if req.status != RequestStatus.OFFERING or _pending_offer(ctx, req.id):
        return  # closed meanwhile, or other allies still hold offers for it (offer to all)
    if offer_next(ctx, req) == "none":
        _no_ally(ctx, req, direct=False)


def _pending_offer(ctx: Context, request_id: int | None) -> bool:
    return support.PENDING_OFFERS.first(ctx.session, request=request_id) is not None


def _no_ally(ctx: Context, req: SupportRequest, direct: bool = True) -> None:
    """Nobody can take it now: resources for the requester, an anonymous alert for coordinators."""
    requester = ctx.session.get(Person, req.requester_id)
    blocks = [
        ctx.section("findally.no_ally"),
        Divider(),
        *safety.resource_blocks(ctx, requester.region),
        buttons(ctx.button("findally.button_cancel", "request:cancel", str(req.id))),
    ]
    if direct:
        ctx.reply(*blocks)
    else:
        ctx.dm(req.requester_id, *blocks)
    coordinators.notify(ctx, ctx.say("findally.coordinator_no_ally"))
    log.info("request %s is waiting: no ally available", req.id)


class Pair(NamedTuple):
    """A matched request and the two people in it (ids)."""

    request: int
    requester: int
    ally: int


def _hand_off(ctx: Context, pair: Pair, anonymous: bool) -> None:
    """Put the two in touch: a group DM that names them, or for an anonymous requester a
    relay through the bot that names only the ally."""
    if not anonymous:
        _group_intro(ctx, pair)
        return
    ally = ctx.session.get(Person, pair.ally)
    # They talk through the bot (handlers/relay.py) until the requester chooses to be named;
    # the ally still learns nothing about who they are.
    days = ctx.app.relay.idle_days
    relay = relays.start(
        ctx.session, pair.request, pair.requester, pair.ally, ctx.now, timedelta(days=days)
    ) or relays.of_request(ctx.session, pair.request)
    assert relay is not None  # started now, or by the same request a moment ago
    end = ctx.button("relay.button_end", "relay:end", str(relay.id))
    ctx.dm(
        pair.requester,
        ctx.section(
            "relay.opened_requester", ally=ally.display_name, department=ally.department or "-"
        ),
        ctx.section("relay.introduce_when_ready"),
        ctx.note("relay.how", days=days),
        ctx.note("findally.not_counsellors"),
        buttons(
            ctx.button(
                "findally.button_introduce", "request:introduce", str(pair.request), "primary"
            ),
            end,
        ),
    )
    # An ally already in another relay says which one they answer (handlers/relay.py).
    several = len(relays.open_for(ctx.session, pair.ally)) > 1
    reply_here = [ctx.button("relay.button_reply_here", "relay:reply", str(relay.id))]
    ctx.dm(
        pair.ally,
        ctx.section("relay.opened_ally"),
        ctx.note("relay.how", days=days),
        buttons(
            *(reply_here if several else []),
            end,
            ctx.button("escalation.button", "care:coordinator"),
        ),
    )


def _group_intro(ctx: Context, pair: Pair, relay_closed: bool = False) -> None:
    names = dict(support.NAMES.rows(ctx.session, people=[pair.requester, pair.ally]))
    ctx.send(
        GroupDM((pair.requester, pair.ally)),
        ctx.section(
            "findally.introduction", requester=names[pair.requester], ally=names[pair.ally]
        ),
        *([ctx.note("relay.revealed")] if relay_closed else []),
        ctx.note("findally.not_counsellors"),
        buttons(
            ctx.button("findally.button_finish", "request:finish", str(pair.request)),
            # Both see it; it carries nothing, and the press is answered only to the presser.
            ctx.button("escalation.button_shared", "care:coordinator"),
        ),
    )


def _own_offer(ctx: Context, value: str) -> Offer | None:
    offer_id = whole_number(value)
    offer = ctx.session.get(Offer, offer_id) if offer_id is not None else None
    if offer is None or offer.ally_id != _me(ctx).id:
        ctx.reply(ctx.say("findally.not_yours"))
        return None
    return offer


def _own_request(ctx: Context, value: str, requester_only: bool = False) -> SupportRequest | None:
    request_id = whole_number(value)
    req = ctx.session.get(SupportRequest, request_id) if request_id is not None else None
    me = _me(ctx).id
    allowed = req is not None and (
        me == req.requester_id or (not requester_only and me == req.ally_id)
    )
    if not allowed:
        ctx.reply(ctx.say("findally.not_yours"))
        return None
    return req
