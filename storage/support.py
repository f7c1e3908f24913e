"""The support path's statements, built once (storage/prepared.py): a person's open request,
a request's pending offers, the requests waiting for an ally, and the conditional updates by
which a request is offered, matched or finished, an offer is accepted, an ally's slots are held
and freed, and an offer's expiry timer is retired."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, exists, or_, update
from sqlmodel import col, select

from storage.models import (
    AllyProfile,
    AllyStatus,
    Offer,
    OfferStatus,
    Person,
    RequestStatus,
    SupportRequest,
    Timer,
    TimerStatus,
)
from storage.prepared import Change, Lookup

OFFER_EXPIRY = "offer.expire"
# A request in one of these is still open.
OPEN = (RequestStatus.OFFERING, RequestStatus.WAITING, RequestStatus.MATCHED)
UNMATCHED = (RequestStatus.OFFERING, RequestStatus.WAITING)  # open, and no ally yet

# person: their open request, if they have one (looked at on every /findally).
OPEN_REQUEST = Lookup(
    select(SupportRequest).where(
        col(SupportRequest.requester_id) == bindparam("person"),
        col(SupportRequest.status).in_(OPEN),
    )
)


def one_less(column: Any) -> Any:
    """`column - 1`, never below zero (in SQL, for a conditional update)."""
    return case((column > 0, column - 1), else_=0)


# request: the offers for it still waiting for an answer.
PENDING_OFFERS = Lookup(
    select(Offer).where(
        col(Offer.request_id) == bindparam("request"), col(Offer.status) == OfferStatus.PENDING
    )
)
# request, now: its offers still pending are withdrawn; (id, ally_id) of each.
WITHDRAW_PENDING = Change(
    update(Offer)
    .where(col(Offer.request_id) == bindparam("request"), col(Offer.status) == OfferStatus.PENDING)
    .values(status=OfferStatus.WITHDRAWN, decided_at=bindparam("now"))
    .returning(col(Offer.id), col(Offer.ally_id))
)
# people: (id, display_name) of each.
NAMES = Lookup(
    select(col(Person.id), col(Person.display_name)).where(
        col(Person.id).in_(bindparam("people", expanding=True))
    )
)
# request, round: the allies not to ask again (asked in this round, or whose offer for it is
# pending or was passed).
ASKED = Lookup(
    select(Offer.ally_id).where(
        col(Offer.request_id) == bindparam("request"),
        or_(
            col(Offer.round) == bindparam("round"),
            col(Offer.status).in_((OfferStatus.PENDING, OfferStatus.PASSED)),
        ),
    )
)
# Requests waiting for an ally, oldest first (offered again when an ally may be free).
WAITING_REQUESTS = Lookup(
    select(SupportRequest)
    .where(col(SupportRequest.status) == RequestStatus.WAITING)
    .order_by(col(SupportRequest.created_at))
)

# request: an open request not yet matched is (again) being offered.
OFFERING = Change(
    update(SupportRequest)
    .where(
        col(SupportRequest.id) == bindparam("request"),
        col(SupportRequest.status).in_(UNMATCHED),
    )
    .values(status=RequestStatus.OFFERING)
)
# ally, now: an offer holds a slot of an active ally's capacity until it is answered or closed.
HOLD_SLOT = Change(
    update(AllyProfile)
    .where(
        col(AllyProfile.person_id) == bindparam("ally"),
        col(AllyProfile.status) == AllyStatus.ACTIVE,
        col(AllyProfile.open_count) + AllyProfile.pending < AllyProfile.capacity,
    )
    .values(pending=AllyProfile.pending + 1, last_asked_at=bindparam("now"))
)
# offer, ally, now: the ally accepts their own pending offer before it expires, while its
# request is being offered and they are active with a slot free (what MATCH_REQUEST and
# OPEN_TALK then need); returns the offer's request. One statement checks it all, so the usual
# accept reads nothing first and needs no savepoint to undo it.
ACCEPT_OFFER = Change(
    update(Offer)
    .where(
        col(Offer.id) == bindparam("offer"),
        col(Offer.ally_id) == bindparam("ally"),
        col(Offer.status) == OfferStatus.PENDING,
        col(Offer.expires_at) > bindparam("now"),
        exists().where(
            col(SupportRequest.id) == Offer.request_id,
            col(SupportRequest.status) == RequestStatus.OFFERING,
        ),
        exists().where(
            col(AllyProfile.person_id) == bindparam("ally"),
            col(AllyProfile.status) == AllyStatus.ACTIVE,
            col(AllyProfile.open_count) < AllyProfile.capacity,
        ),
    )
    .values(status=OfferStatus.ACCEPTED, decided_at=bindparam("now"))
    .returning(col(Offer.request_id))
)
# request, ally, now: a request being offered is matched to the ally who accepted. Unless it
# is anonymous, the two are named to each other at once (handlers/findally.py _hand_off).
# Returns (requester_id, anonymous) of the request it matched.
MATCH_REQUEST = Change(
    update(SupportRequest)
    .where(
        col(SupportRequest.id) == bindparam("request"),
        col(SupportRequest.status) == RequestStatus.OFFERING,
    )
    .values(
        status=RequestStatus.MATCHED,
        ally_id=bindparam("ally"),
        matched_at=bindparam("now"),
        introduced=~col(SupportRequest.anonymous),
    )
    .returning(col(SupportRequest.requester_id), col(SupportRequest.anonymous))
)
# ally, now: an active ally under capacity takes on a talk; the offer's slot becomes the talk's.
OPEN_TALK = Change(
    update(AllyProfile)
    .where(
        col(AllyProfile.person_id) == bindparam("ally"),
        col(AllyProfile.status) == AllyStatus.ACTIVE,
        col(AllyProfile.open_count) < AllyProfile.capacity,
    )
    .values(
        open_count=AllyProfile.open_count + 1,
        pending=one_less(AllyProfile.pending),
        updated_at=bindparam("now"),
    )
)
# ally, now: a talk ended; its slot is free again.
CLOSE_TALK = Change(
    update(AllyProfile)
    .where(col(AllyProfile.person_id) == bindparam("ally"), col(AllyProfile.open_count) > 0)
    .values(open_count=AllyProfile.open_count - 1, updated_at=bindparam("now"))
)
# request, now: a matched request is finished.
FINISH_REQUEST = Change(
    update(SupportRequest)
    .where(
        col(SupportRequest.id) == bindparam("request"),
        col(SupportRequest.status) == RequestStatus.MATCHED,
    )
    # Whether it was urgent is no longer anyone's business once it is closed.
    .values(status=RequestStatus.FINISHED, open_key=None, closed_at=bindparam("now"), urgent=False)
)
# offer: its expiry timer will not be needed.
EXPIRY_DONE = Change(
    update(Timer)
    .where(
        col(Timer.kind) == OFFER_EXPIRY,
        col(Timer.subject_id) == bindparam("offer"),
        col(Timer.status) != TimerStatus.DONE,
    )
    .values(status=TimerStatus.DONE)
)
