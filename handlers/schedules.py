"""What the bot does by the calendar rather than in answer to someone: awareness posts, the
weekly coordinator digest and the daily housekeeping (retention and ally care).

Each occurrence is recorded once as Delivery rows, one per target, under a unique constraint,
so a restart or a second scheduler cannot post it twice. Posts are then claimed, sent and
marked. Occurrences are looked for between the last run (a checkpoint) and now: one that fell
due while the bot was down is sent if it is inside the grace window, otherwise recorded as
missed and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from bot.config import AppConfig
from bot.messages import Channel, DirectMessage, Outgoing, Recipient
from handlers import awareness, care, coordinators, stats, when
from handlers.content import DAILY_ID, DIGEST_ID, Content
from handlers.context import Context
from storage import deliveries, retention
from storage.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

CHECKPOINT = "calendar"
DIGEST = DIGEST_ID
DAILY = DAILY_ID
DAILY_AT = "03:00"
TASK = "task"  # the target of a job that posts nothing
LONGEST_GAP = timedelta(days=400)  # catching up further back than this is not useful


@dataclass(frozen=True)
class Schedule:
    id: str  # Delivery.message: an awareness item's id, "digest" or "daily"
    rule: BaseTrigger


def all_schedules(app: AppConfig, content: Content) -> list[Schedule]:
    tz = when.zone(app)
    out = [Schedule(item.id, awareness.rule(app, item)) for item in content.awareness]
    if app.coordinators.digest != "off":
        day, at = app.coordinators.digest.split()
        out.append(Schedule(DIGEST, when.trigger(tz, f"every {day}", at)))
    out.append(Schedule(DAILY, when.trigger(tz, "every day", DAILY_AT)))
    return out


def target_of(to: Recipient) -> str:
    if isinstance(to, Channel):
        return f"#{to.name}"
    assert isinstance(to, DirectMessage)
    return f"dm:{to.person_id}"


def recipient_of(target: str) -> Recipient:
    if target.startswith("#"):
        return Channel(target[1:])
    return DirectMessage(int(target.removeprefix("dm:")))


# --- recording what is due -------------------------------------------------------------------
def plan_due(ctx: Context, schedules: list[Schedule]) -> None:
    """Record every occurrence since the last run; run the daily job if it fell due."""
    since = deliveries.checkpoint(ctx.session, CHECKPOINT)
    deliveries.move_checkpoint(ctx.session, CHECKPOINT, ctx.now)
    if since is None:  # the first run ever: nothing is owed from before the bot existed
        return
    since = max(since, ctx.now - LONGEST_GAP)
    grace = timedelta(hours=ctx.app.awareness.grace_hours)
    tz = when.zone(ctx.app)
    daily_due = False
    for schedule in schedules:
        for at in when.between(schedule.rule, since, ctx.now):
            key = when.occurrence_key(at, tz)
            if schedule.id == DAILY:
                daily_due |= deliveries.record(
                    ctx.session, _row(DAILY, key, TASK, at, status=DeliveryStatus.SENT)
                )
            elif at < ctx.now - grace:
                _missed(ctx, schedule.id, key, at)
            elif schedule.id == DIGEST:
                for to in coordinators.recipients(ctx):
                    deliveries.record(ctx.session, _row(DIGEST, key, target_of(to), at))
            elif (it := awareness.item(ctx, schedule.id)) and it.active_on(
                at.astimezone(tz).date()
            ):
                awareness.queue(ctx, it, key, at)
    if daily_due:
        try:
            with ctx.session.begin_nested():
                daily(ctx)
        except Exception as exc:  # the posts still go out; tomorrow's run tries again
            log.error("the daily job failed: %s", type(exc).__name__)


def _row(message: str, occurrence: str, target: str, at: datetime, **values: object) -> Delivery:
    return Delivery(message=message, occurrence=occurrence, target=target, due_at=at, **values)


def _missed(ctx: Context, message: str, key: str, at: datetime) -> None:
    if deliveries.exists(ctx.session, message, key):
        return
    deliveries.record(ctx.session, _row(message, key, TASK, at, status=DeliveryStatus.MISSED))
    log.warning(
        "%s for %s fell due while the bot was down and is older than the %s-hour grace "
        "window: skipped",
        message,
        key,
        ctx.app.awareness.grace_hours,
    )


def daily(ctx: Context) -> None:
    """Housekeeping once a day: delete what is past retention, plan ally check-ins."""
    r = ctx.app.retention
    removed = retention.purge(
        ctx.session,
        requests_before=ctx.now - timedelta(days=r.requests_days),
        applications_before=ctx.now - timedelta(days=r.applications_days),
        audit_before=ctx.now - timedelta(days=r.audit_days),
        events_before=ctx.now - timedelta(hours=r.events_hours),
        now=ctx.now,
    )
    log.info("retention removed %s", ", ".join(f"{n} {what}" for what, n in removed.items()))
    care.plan_all(ctx)


# --- sending ---------------------------------------------------------------------------------
def render(ctx: Context, row: Delivery) -> Outgoing | None:
    """The message a claimed Delivery row stands for, or None if it cannot be posted now."""
    to = recipient_of(row.target)
    if row.message == DIGEST:
        return Outgoing(to, stats.digest(ctx, row.due_at, to))
    message = awareness.message_for(ctx, row.message, row.tip)
    return Outgoing(to, message) if message else None
