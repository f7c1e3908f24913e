"""The network's numbers for coordinators: the weekly digest and `allybot stats`.

Every count below 5 is shown as "fewer than 5", and nothing is broken down by person, team or
topic, so no figure can point at someone who asked for help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, func, select

from bot.messages import Message
from handlers import when
from handlers.context import Context
from storage.models import (
    OPEN_APPLICATION,
    AllyProfile,
    Application,
    FollowUpAnswer,
    SupportRequest,
)

THRESHOLD = 5


@dataclass(frozen=True)
class Numbers:
    start: datetime
    end: datetime
    requests: int
    handoffs: int
    no_ally: int
    follow_ups: int
    average_score: float | None  # None when fewer than THRESHOLD answers
    active_allies: int
    available_allies: int
    pending_applications: int


def count(ctx: Context, table: type, *where: object) -> int:
    return ctx.session.exec(select(func.count()).select_from(table).where(*where)).one()


def gather(ctx: Context, end: datetime, days: int = 7) -> Numbers:
    start = end - timedelta(days=days)

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
        requests=count(ctx, SupportRequest, *between(SupportRequest.created_at)),
        handoffs=count(ctx, SupportRequest, *between(SupportRequest.matched_at)),
        no_ally=count(
            ctx,
            SupportRequest,
            SupportRequest.waited == True,  # noqa: E712 (SQL, not Python)
            *between(SupportRequest.created_at),
        ),
        follow_ups=len(scores),
        average_score=sum(scores) / len(scores) if len(scores) >= THRESHOLD else None,
        active_allies=count(ctx, AllyProfile, AllyProfile.status == "active"),
        available_allies=count(
            ctx,
            AllyProfile,
            AllyProfile.status == "active",
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


def digest(ctx: Context, end: datetime, days: int = 7) -> Message:
    n = gather(ctx, end, days)
    zone = when.zone(ctx.app)
    start_day, end_day = n.start.astimezone(zone), n.end.astimezone(zone)
    score = (
        ctx.content.plain("digest.average", average=f"{n.average_score:.1f}")
        if n.average_score is not None
        else ctx.content.plain("digest.too_few_scores")
    )
    return Message(
        (
            ctx.section(
                "digest.title",
                start=f"{start_day:%d %b}",
                end=f"{end_day:%d %b %Y}",
            ),
            ctx.section(
                "digest.numbers",
                requests=shown(ctx, n.requests),
                handoffs=shown(ctx, n.handoffs),
                no_ally=shown(ctx, n.no_ally),
                follow_ups=shown(ctx, n.follow_ups),
                score=score,
                active=shown(ctx, n.active_allies),
                available=shown(ctx, n.available_allies),
                applications=shown(ctx, n.pending_applications),
            ),
            ctx.note("digest.privacy", threshold=THRESHOLD),
        )
    )
