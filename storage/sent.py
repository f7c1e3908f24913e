"""Where messages the bot may rewrite later went, per platform (platform bookkeeping)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import SentMessage


def remember(
    session: Session, platform: str, key: str, conversation: str, message_id: str, now: datetime
) -> bool:
    """Record where the message keyed `key` went. False if it was recorded already (a resend
    keeps the first copy, which is the one people saw first)."""
    try:
        with session.begin_nested():
            session.add(
                SentMessage(
                    platform=platform,
                    key=key,
                    conversation=conversation,
                    message_id=message_id,
                    sent_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def find(session: Session, platform: str, key: str) -> tuple[str, str] | None:
    """(conversation, message id) of the message sent under `key`, if it was delivered."""
    row = session.exec(
        select(SentMessage).where(SentMessage.platform == platform, SentMessage.key == key)
    ).first()
    return (row.conversation, row.message_id) if row else None


def platforms_of(session: Session, key: str) -> list[str]:
    """The platforms a message keyed `key` was delivered on (a person may have moved since)."""
    return list(session.exec(select(SentMessage.platform).where(SentMessage.key == key)).all())


def forget_conversations(session: Session, conversations: set[str]) -> None:
    """Erasure: where messages went in these conversations (a person's DM) is forgotten."""
    if conversations:
        session.exec(delete(SentMessage).where(col(SentMessage.conversation).in_(conversations)))
