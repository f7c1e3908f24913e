"""Deleting what is kept no longer than the retention settings allow."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlmodel import Session, col

from storage.models import (
    Application,
    ApplicationStatus,
    AuditLog,
    Conversation,
    Feedback,
    FollowUp,
    Offer,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    RateCount,
    Relay,
    RequestStatus,
    SentMessage,
    SupportRequest,
    Timer,
    TimerStatus,
)

CLOSED_REQUEST = (RequestStatus.FINISHED, RequestStatus.CANCELLED)
KEEP_SENT_ADDRESSES = timedelta(days=7)
# A sent message's row keeps the words of one with buttons, to rebuild it when pressed: a month
# covers every button the bot sends that still means something.
KEEP_SENT_MESSAGES = timedelta(days=30)
KEEP_COMMENTS_AT_LEAST = timedelta(days=21)
CLOSED_APPLICATION = (ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN)


def purge(
    session: Session,
    *,
    requests_before: datetime,
    applications_before: datetime,
    audit_before: datetime,
    events_before: datetime,
    now: datetime,
) -> dict[str, int]:
    """Delete old rows; how many of each kind went."""
    old_requests = select(col(SupportRequest.id)).where(
        col(SupportRequest.status).in_(CLOSED_REQUEST),
        col(SupportRequest.closed_at) < requests_before,
    )
    removed = {
        # Follow-up questions link a requester to a question: they go with the request, or
        # on their own once past retention.
        "follow-up links": _delete(
            session,
            FollowUp,
            or_(
                col(FollowUp.request_id).in_(old_requests),
                col(FollowUp.asked_at) < requests_before,
            ),
        ),
        "offers": _delete(session, Offer, col(Offer.request_id).in_(old_requests)),
        # Who talked with whom through the bot, and when: it goes with the request.
        "relays": _delete(session, Relay, col(Relay.request_id).in_(old_requests)),
    }
    removed["requests"] = _delete(session, SupportRequest, col(SupportRequest.id).in_(old_requests))
    # Unfinished applications past their expiry (normally removed by their own timer), first:
    # a draft reopened for "more information" points at its application.
    removed["expired drafts"] = _delete(session, Conversation, col(Conversation.expires_at) < now)
    old_applications = select(col(Application.id)).where(
        col(Application.status).in_(CLOSED_APPLICATION),
        col(Application.decided_at) < applications_before,
    )
    session.exec(
        update(Conversation)
        .where(col(Conversation.application_id).in_(old_applications))
        .values(application_id=None)
    )
    removed["applications"] = _delete(
        session, Application, col(Application.id).in_(old_applications)
    )
    removed["finished timers"] = _delete(
        session,
        Timer,
        col(Timer.status).in_((TimerStatus.DONE, TimerStatus.FAILED)),
        col(Timer.finished_at) < requests_before,
    )
    removed["processed events"] = _delete(
        session, ProcessedEvent, col(ProcessedEvent.received_at) < events_before
    )
    # Where offer DMs went: an offer closes within a day at most, and its DM is rewritten
    # then, so an address older than a week can no longer be needed.
    removed["sent message addresses"] = _delete(
        session, SentMessage, col(SentMessage.sent_at) < now - KEEP_SENT_ADDRESSES
    )
    removed["sent messages"] = _delete(
        session,
        OutboxMessage,
        col(OutboxMessage.status).in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
        col(OutboxMessage.sent_at) < now - KEEP_SENT_MESSAGES,
    )
    # Anonymous comments leave in the weekly digest (handlers/stats.py); this catches any the
    # digest could not deliver (turned off, or the bot down for weeks), never before the
    # digest after the week they were written in has had its turn.
    comments_before = min(requests_before, now - KEEP_COMMENTS_AT_LEAST).date()
    removed["anonymous comments"] = _delete(
        session, Feedback, col(Feedback.week_of) < comments_before
    )
    # Counts of a window that has ended (storage/limits.py also drops them as it goes).
    removed["ended rate counts"] = _delete(session, RateCount, col(RateCount.ends_at) <= now)
    removed["audit rows"] = _delete(session, AuditLog, col(AuditLog.at) < audit_before)
    return removed


def _delete(session: Session, table: type, *where: ColumnElement[bool]) -> int:
    return session.exec(delete(table).where(*where)).rowcount or 0
