"""The network's numbers for coordinators: the weekly digest and `allybot stats`.

Every count below 5 is shown as "fewer than 5", and nothing is broken down by person, team or
topic, so no figure can point at someone who asked for help. Next to the week (or the period
asked for) the same figures are shown for the last 13 weeks and the year so far, so a small
network still sees its numbers.

The weekly digest also carries the anonymous comments (handlers/feedback.py) written before its
week began. They are released exactly once: the first digest post rendered for an occurrence,
to a place only coordinators read, takes them with a conditional delete (of two processes only
one gets them) and keeps them as that occurrence's sealed batch. Every other post and every
retry of that occurrence shows the same batch; a batch is deleted once all its posts are done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, or_
from sqlmodel import col, func, select

from bot.messages import Block, Channel, DirectMessage, Message, Recipient, Rich, Section, Span
from handlers import coordinators, findally, when
from handlers.content import DIGEST_ID
from handlers.context import Context
from storage.crypto import SealError
from storage.deliveries import MAX_ATTEMPTS
from storage.models import (
    OPEN_APPLICATION,
    AllyProfile,
    AllyStatus,
    Application,
    Delivery,
    DeliveryStatus,
    Feedback,
    FollowUpAnswer,
    RequestStatus,
    SupportRequest,
)

log = logging.getLogger(__name__)

THRESHOLD = 5
QUARTER = timedelta(weeks=13)
MAX_COMMENTS = 40  # per digest (Slack allows 50 blocks); any more wait for the next one
SECTION_CHARS = 2900  # comments share a section up to this (Slack: 3000 per section)


@dataclass(frozen=True)
class Numbers:
    start: datetime
    end: datetime
    requests: int
    handoffs: int
    no_ally: int
    follow_ups: int
    average_score: float | None  # None when fewer than THRESHOLD answers


@dataclass(frozen=True)
class Now:
    """Figures about the network as it stands, not over a period."""

    active_allies: int
    available_allies: int
    pending_applications: int


def count(ctx: Context, table: type, *where: object) -> int:
    return ctx.session.exec(select(func.count()).select_from(table).where(*where)).one()


def gather(ctx: Context, start: datetime, end: datetime) -> Numbers:
    """The figures for the period (start, end]."""

    def between(column: object) -> tuple[object, object]:
        return col(column) > start, col(column) <= end

    # Answers are kept by week only, so they are counted by whole weeks: those of the weeks
    # that began in the window and have ended (a Monday digest counts last week's).
    scores = ctx.session.exec(
        select(FollowUpAnswer.score).where(
            col(FollowUpAnswer.week_of) >= week_of(start.date()),
            col(FollowUpAnswer.week_of) < week_of(end.date()),
        )
    ).all()
    return Numbers(
        start=start,
        end=end,
        requests=_requests(ctx, start, end),
        handoffs=count(ctx, SupportRequest, *between(SupportRequest.matched_at)),
        no_ally=count(
            ctx,
            SupportRequest,
            SupportRequest.waited == True,  # noqa: E712 (SQL, not Python)
            *between(SupportRequest.created_at),
        ),
        follow_ups=len(scores),
        average_score=sum(scores) / len(scores) if len(scores) >= THRESHOLD else None,
    )


def _requests(ctx: Context, start: datetime, end: datetime) -> int:
    """Requests made in (start, end], a request started again within REPEAT_MINUTES of
    cancelling the one before counting once (someone who tries again is one person asking)."""
    repeat = timedelta(minutes=findally.REPEAT_MINUTES)
    rows = ctx.session.exec(
        select(SupportRequest.requester_id, SupportRequest.created_at, SupportRequest.status)
        .where(col(SupportRequest.created_at) > start - repeat)
        .where(col(SupportRequest.created_at) <= end)
        .order_by(col(SupportRequest.requester_id), col(SupportRequest.created_at))
    ).all()
    counted = 0
    before: tuple[int, datetime, str] | None = None
    for requester, created, status in rows:
        again = (
            before is not None
            and before[0] == requester
            and before[2] == RequestStatus.CANCELLED
            and created - before[1] <= repeat
        )
        if created > start and not again:
            counted += 1
        before = (requester, created, status)
    return counted


def gather_now(ctx: Context) -> Now:
    return Now(
        active_allies=count(ctx, AllyProfile, AllyProfile.status == AllyStatus.ACTIVE),
        available_allies=count(
            ctx,
            AllyProfile,
            AllyProfile.status == AllyStatus.ACTIVE,
            AllyProfile.available == True,  # noqa: E712
            col(AllyProfile.open_count) < col(AllyProfile.capacity),
        ),
        pending_applications=count(ctx, Application, col(Application.status).in_(OPEN_APPLICATION)),
    )


def week_of(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())


def shown(ctx: Context, n: int) -> str:
    return str(n) if n >= THRESHOLD else ctx.content.plain("digest.fewer_than", threshold=THRESHOLD)


def banded(ctx: Context, n: int) -> str:
    """A count over a long period, in bands of THRESHOLD ("10 to 14"). An exact running total
    would give away what "fewer than 5" hides: a year going from 7 to 8 between two digests
    says exactly one person asked that week."""
    if n < THRESHOLD:
        return shown(ctx, n)
    low = n - n % THRESHOLD
    return ctx.content.plain("digest.band", low=low, high=low + THRESHOLD - 1)


# --- the messages ------------------------------------------------------------------------------
def digest(ctx: Context, end: datetime, to: Recipient | None = None) -> Message:
    """The weekly digest due at `end`, as posted to `to`. Comments go only to a DM or the
    coordinators' private channel, never to a channel anyone else may read."""
    comments = _comments(ctx, end) if to is not None and _private(ctx, to) else []
    start = end - timedelta(days=7)
    zone = when.zone(ctx.app)
    title = ctx.section(
        "digest.title",
        start=f"{start.astimezone(zone):%d %b}",
        end=f"{end.astimezone(zone):%d %b %Y}",
    )
    return _message(ctx, title, start, end) + _comment_blocks(ctx, comments)


def report(ctx: Context, end: datetime, days: int) -> Message:
    """The digest's numbers for the `days` days to `end` (`allybot stats --days N`); never
    the comments, which only the weekly digest releases."""
    start = end - timedelta(days=days)
    zone = when.zone(ctx.app)
    title = ctx.section(
        "digest.title_days",
        start=f"{start.astimezone(zone):%d %b %Y}",
        end=f"{end.astimezone(zone):%d %b %Y}",
    )
    return _message(ctx, title, start, end)


def _message(ctx: Context, title: Section, start: datetime, end: datetime) -> Message:
    zone = when.zone(ctx.app)
    year_start = datetime.combine(date(end.astimezone(zone).year, 1, 1), time(0), tzinfo=zone)
    period = gather(ctx, start, end)
    quarter = gather(ctx, end - QUARTER, end)
    year = gather(ctx, year_start, end)
    now = gather_now(ctx)

    def score(n: Numbers, step: float = 0.1) -> str:
        if n.average_score is None:
            return ctx.content.plain("digest.too_few_scores")
        # Long periods round coarser, for the same reason their counts come in bands.
        average = round(n.average_score / step) * step
        return ctx.content.plain("digest.average", average=f"{average:.1f}")

    figures: dict[str, str] = {}
    for field in ("requests", "handoffs", "no_ally", "follow_ups"):
        figures[field] = shown(ctx, getattr(period, field))
        figures[f"{field}_13"] = banded(ctx, getattr(quarter, field))
        figures[f"{field}_year"] = banded(ctx, getattr(year, field))
    return Message(
        (
            title,
            ctx.section(
                "digest.numbers",
                **figures,
                score=score(period),
                score_13=score(quarter, 0.5),
                score_year=score(year, 0.5),
                active=shown(ctx, now.active_allies),
                available=shown(ctx, now.available_allies),
                applications=shown(ctx, now.pending_applications),
            ),
            ctx.note("digest.privacy", threshold=THRESHOLD),
        )
    )


def _comment_blocks(ctx: Context, comments: list[str]) -> Message:
    """The comments, several to a section where they fit. Each is a placeholder value, so the
    renderers show it literally: a comment can never ping, link or format."""
    if not comments:
        return Message(())
    blocks: list[Block] = [ctx.section("digest.comments_title", count=len(comments))]
    spans: Rich = ()
    for comment in comments:
        rich = ctx.t("digest.comment", text=comment)
        size = sum(len(s.text) for s in spans + rich)
        if spans and size + 1 > SECTION_CHARS:
            blocks.append(Section(spans))
            spans = ()
        spans = (*spans, Span("\n"), *rich) if spans else rich
    blocks.append(Section(spans))
    blocks.append(ctx.note("digest.comments_note"))
    return Message(tuple(blocks))


def _private(ctx: Context, to: Recipient) -> bool:
    if isinstance(to, DirectMessage):
        return True
    return isinstance(to, Channel) and to.name == coordinators.private_channel(ctx)


# --- releasing comments exactly once -------------------------------------------------------------
class _Taken(Exception):
    """Another process released some of these comments first."""


def _comments(ctx: Context, end: datetime) -> list[str]:
    """The comments of the digest occurrence at `end`: its batch if one was made, else the
    comments written before its week began, taken now into a new batch."""
    zone = when.zone(ctx.app)
    occurrence = when.occurrence_key(end, zone)
    week = week_of(end.astimezone(zone).date())
    batch = _batch(ctx, occurrence, week)
    if batch is not None:
        return batch
    _drop_finished_batches(ctx)
    pending: list[tuple[int, str]] = []
    rows = ctx.session.exec(
        select(Feedback).where(col(Feedback.week_of) < week).order_by(col(Feedback.id))
    ).all()
    for row in rows:
        payload = _open(ctx, row)
        if payload is not None and isinstance(payload.get("comment"), str):
            pending.append((row.id, payload["comment"]))
    pending = pending[:MAX_COMMENTS]
    if not pending:
        return []
    ids = [i for i, _ in pending]
    # Sorted by their words, not by when they came: the order says nothing about the writer.
    texts = sorted((t for _, t in pending), key=str.casefold)
    try:
        with ctx.session.begin_nested():
            gone = ctx.session.exec(delete(Feedback).where(col(Feedback.id).in_(ids))).rowcount
            if gone != len(ids):
                raise _Taken
            sealed = ctx.sealer.seal({"digest": occurrence, "comments": texts})
            ctx.session.add(Feedback(text=sealed, week_of=week))
    except _Taken:
        return _batch(ctx, occurrence, week) or []
    log.info("digest %s: %s anonymous comment(s) released", occurrence, len(texts))
    return texts


def _batch(ctx: Context, occurrence: str, week: date) -> list[str] | None:
    for row in ctx.session.exec(select(Feedback).where(Feedback.week_of == week)).all():
        payload = _open(ctx, row)
        if payload is not None and payload.get("digest") == occurrence:
            return [c for c in payload.get("comments", []) if isinstance(c, str)]
    return None


def _drop_finished_batches(ctx: Context) -> None:
    """Delete the batches of earlier digests whose posts have all been sent or given up."""
    live = set(
        ctx.session.exec(
            select(Delivery.occurrence).where(
                Delivery.message == DIGEST_ID,
                or_(
                    col(Delivery.status).in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
                    (col(Delivery.status) == DeliveryStatus.FAILED)
                    & (col(Delivery.attempts) < MAX_ATTEMPTS),
                ),
            )
        ).all()
    )
    done = []
    for row in ctx.session.exec(select(Feedback)).all():
        payload = _open(ctx, row)
        if payload is not None and "digest" in payload and payload["digest"] not in live:
            done.append(row.id)
    if done:
        ctx.session.exec(delete(Feedback).where(col(Feedback.id).in_(done)))


def _open(ctx: Context, row: Feedback) -> dict | None:
    try:
        return ctx.sealer.open(row.text)
    except SealError:
        log.error("feedback %s cannot be opened with the configured ALLYBOT_SECRET_KEY", row.id)
        return None
