"""The awareness calendar and the weekly tips: what is posted, where, and in what order, and
the coordinators' `/allyadmin awareness` desk (what is coming, preview, send now, skip).

A tips series takes turns per channel: each post is the first tip, in content order, not yet
posted in the current round; a round ends when every tip has been posted. The order is read
from the Delivery rows, so it survives restarts.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import delete
from sqlmodel import col, select

from bot.config import TEAMS_PREFIX, AppConfig
from bot.messages import Message, Section
from handlers import coordinators, findally, when
from handlers.content import AwarenessItem, Tip
from handlers.context import Context, buttons
from storage import deliveries
from storage.models import Delivery, DeliveryStatus

UPCOMING = 12  # how many coming posts the desk lists
POSTED = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
)  # a tip in one of these has had its turn


def rule(app: AppConfig, it: AwarenessItem) -> BaseTrigger:
    tz = when.zone(app)
    return when.trigger(tz, it.when, it.at or app.awareness.time, it.cron, it.days_before)


def item(ctx: Context, item_id: str) -> AwarenessItem | None:
    return next((i for i in ctx.content.awareness if i.id == item_id), None)


def channels(ctx: Context, it: AwarenessItem) -> list[str]:
    """Where an item is posted: its own channels, else the configured ones, Slack's by name and
    then Teams' as `teams:<channel id>` (the platforms route a Channel by that prefix)."""
    if it.channels is not None:
        return list(it.channels)
    teams = [f"{TEAMS_PREFIX}{c}" for c in ctx.app.teams.awareness_channels]
    return [*ctx.app.awareness.channels, *teams]


# --- posting ---------------------------------------------------------------------------------
def queue(ctx: Context, it: AwarenessItem, occurrence: str, at: datetime) -> int:
    """Record one post per channel for an occurrence; how many were new."""
    added = 0
    for name in channels(ctx, it):
        target = f"#{name}"
        tip = next_tip(ctx, it, target)
        row = Delivery(
            message=it.id,
            occurrence=occurrence,
            target=target,
            due_at=at,
            tip=tip.id if tip else None,
        )
        added += deliveries.record(ctx.session, row)
    return added


def next_tip(ctx: Context, it: AwarenessItem, target: str) -> Tip | None:
    """The series' next tip for this channel (None for a single message)."""
    if not it.tips:
        return None
    known = {t.id for t in it.tips}
    posted = ctx.session.exec(
        select(Delivery.tip)
        .where(
            Delivery.message == it.id,
            Delivery.target == target,
            col(Delivery.tip).is_not(None),
            col(Delivery.status).in_(POSTED),
        )
        .order_by(col(Delivery.id))
    ).all()
    this_round: set[str] = set()
    for tip_id in posted:
        if tip_id not in known:
            continue  # a tip since removed from content/
        if tip_id in this_round or this_round == known:
            this_round = set()  # a repeat, or a full round: a new round began there
        this_round.add(tip_id)
    if this_round == known:
        this_round = set()
    return next(t for t in it.tips if t.id not in this_round)


def message_for(ctx: Context, item_id: str, tip_id: str | None) -> Message | None:
    """The post as it appears in the channel: heading, words, and the way to support."""
    it = item(ctx, item_id)
    if it is None:
        return None
    text = it.text
    if it.tips:
        tip = next((t for t in it.tips if t.id == tip_id), None)
        if tip is None:
            return None
        text = tip.text
    org = ctx.app.organisation.name
    return Message(
        (
            Section(ctx.content.markup(f"*{it.title}*\n{text or ''}", organisation=org)),
            ctx.note("awareness.footer"),
            buttons(
                ctx.button("awareness.button_findally", "awareness:findally"),
                ctx.button("awareness.button_resources", "awareness:resources"),
            ),
        )
    )


# --- the buttons under a post (anyone in the channel can press them) -------------------------
def find_ally(ctx: Context, _value: str = "") -> None:
    ctx.outbox.keep_pressed = True  # the post stays as it is for everyone else
    findally.command(ctx, "")


def resources(ctx: Context, _value: str = "") -> None:
    ctx.outbox.keep_pressed = True
    findally.show_resources(ctx)


# --- /allyadmin awareness ----------------------------------------------------------------------
def admin(ctx: Context, text: str) -> None:
    """/allyadmin awareness [preview|send|skip|unskip ID]"""
    verb, _, rest = text.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("", "list"):
        upcoming(ctx)
        return
    actions = {"preview": preview, "send": send_now, "skip": skip, "unskip": unskip}
    if verb in actions and rest and " " not in rest:
        actions[verb](ctx, rest.lower())
    else:
        ctx.reply(ctx.say("awareness.usage"))


def upcoming(ctx: Context, _value: str = "") -> None:
    if not coordinators.allowed(ctx):
        return
    coming = sorted(
        ((at, it) for it in ctx.content.awareness if (at := _next(ctx, it)) is not None),
        key=lambda pair: pair[0],
    )[:UPCOMING]
    if not coming:
        ctx.reply(ctx.say("awareness.nothing_coming"))
        return
    blocks: list = [ctx.section("awareness.upcoming_title")]
    for at, it in coming:
        skipped = _skipped(ctx, it.id, _key(ctx, at))
        places = ", ".join(f"#{c}" for c in channels(ctx, it)) or ctx.content.plain(
            "awareness.no_channel"
        )
        blocks.append(
            ctx.section(
                "awareness.upcoming_skipped" if skipped else "awareness.upcoming_entry",
                when=_local(ctx, at),
                title=it.title,
                channels=places,
            )
        )
        blocks.append(
            buttons(
                ctx.button("awareness.button_preview", "awareness:preview", it.id),
                ctx.button("awareness.button_send", "awareness:send", it.id),
                ctx.button("awareness.button_unskip", "awareness:unskip", it.id)
                if skipped
                else ctx.button("awareness.button_skip", "awareness:skip", it.id),
            )
        )
    blocks.append(ctx.note("awareness.upcoming_help"))
    ctx.reply(*blocks)


def preview(ctx: Context, value: str) -> None:
    it = _chosen(ctx, value)
    if it is None:
        return
    names = channels(ctx, it)
    tip = next_tip(ctx, it, f"#{names[0]}") if names else next_tip(ctx, it, "")
    message = message_for(ctx, it.id, tip.id if tip else None)
    at = _next(ctx, it)
    ctx.reply(
        ctx.section(
            "awareness.preview_intro",
            title=it.title,
            channels=", ".join(f"#{c}" for c in names) or "-",
            when=_local(ctx, at) if at else ctx.content.plain("awareness.not_scheduled"),
        ),
        *(message.blocks if message else ()),
    )


def send_now(ctx: Context, value: str) -> None:
    it = _chosen(ctx, value)
    if it is None:
        return
    if not channels(ctx, it):
        ctx.reply(ctx.say("awareness.no_channel_set", title=it.title))
        return
    # One manual send per message a minute: a double press or a replay posts once.
    added = queue(ctx, it, f"now-{_key(ctx, ctx.now)}", ctx.now)
    key = "awareness.sending" if added else "awareness.already_sending"
    ctx.reply(ctx.say(key, title=it.title, channels=", ".join(f"#{c}" for c in channels(ctx, it))))


def skip(ctx: Context, value: str) -> None:
    it = _chosen(ctx, value)
    if it is None:
        return
    at = _next(ctx, it)
    if at is None:
        ctx.reply(ctx.say("awareness.not_scheduled_reply", title=it.title))
        return
    key = _key(ctx, at)
    if _skipped(ctx, it.id, key):
        ctx.reply(ctx.say("awareness.already_skipped", title=it.title, when=_local(ctx, at)))
        return
    for name in channels(ctx, it) or [""]:
        row = Delivery(
            message=it.id,
            occurrence=key,
            target=f"#{name}",
            due_at=at,
            status=DeliveryStatus.SKIPPED,
        )
        deliveries.record(ctx.session, row)
    ctx.reply(ctx.say("awareness.skipped", title=it.title, when=_local(ctx, at)))


def unskip(ctx: Context, value: str) -> None:
    it = _chosen(ctx, value)
    if it is None:
        return
    at = _next(ctx, it)
    key = _key(ctx, at) if at else ""
    if at is None or not _skipped(ctx, it.id, key):
        ctx.reply(ctx.say("awareness.not_skipped", title=it.title))
        return
    ctx.session.exec(
        delete(Delivery).where(
            col(Delivery.message) == it.id,
            col(Delivery.occurrence) == key,
            col(Delivery.status) == DeliveryStatus.SKIPPED,
        )
    )
    ctx.reply(ctx.say("awareness.unskipped", title=it.title, when=_local(ctx, at)))


def _chosen(ctx: Context, item_id: str) -> AwarenessItem | None:
    if not coordinators.allowed(ctx):
        return None
    it = item(ctx, item_id)
    if it is None:
        ctx.reply(ctx.say("awareness.unknown", id=item_id[:60]))
    return it


def _next(ctx: Context, it: AwarenessItem) -> datetime | None:
    """The next time this item will be posted (within its start and end dates)."""
    its_rule = rule(ctx.app, it)
    at = ctx.now
    for _ in range(60):
        at = when.next_after(its_rule, at)
        if at is None:
            return None
        day = at.astimezone(when.zone(ctx.app)).date()
        if it.ends is not None and day > it.ends:
            return None
        if it.active_on(day):
            return at
    return None


def _skipped(ctx: Context, item_id: str, occurrence: str) -> bool:
    return (
        ctx.session.exec(
            select(Delivery.id).where(
                Delivery.message == item_id,
                Delivery.occurrence == occurrence,
                Delivery.status == DeliveryStatus.SKIPPED,
            )
        ).first()
        is not None
    )


def _key(ctx: Context, at: datetime) -> str:
    return when.occurrence_key(at, when.zone(ctx.app))


def _local(ctx: Context, at: datetime) -> str:
    return f"{at.astimezone(when.zone(ctx.app)):%a %d %b %Y %H:%M}"
