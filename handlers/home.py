"""The home view (Slack App Home): what each person can do, by role."""

from __future__ import annotations

from sqlmodel import func, select

from bot.messages import Divider, Message
from handlers import allies, coordinators, findally
from handlers.context import Context, buttons
from storage.models import AllyProfile, Person, SupportRequest


def view(ctx: Context) -> Message:
    me = ctx.actor
    blocks: list = [
        ctx.section("home.title"),
        ctx.section("home.support"),
        *findally.choices(ctx),
    ]
    mine = findally.open_request(ctx, me.id)
    if mine is not None:
        blocks += [Divider(), *findally.request_status(ctx, mine)]
    profile = ctx.session.get(AllyProfile, me.id)
    if profile is not None and profile.status != "removed":
        blocks += [Divider(), *_ally(ctx, profile)]
    if coordinators.is_coordinator(ctx, me):
        blocks += [Divider(), *_coordinator(ctx)]
    if profile is None or profile.status == "removed":
        blocks += [Divider(), ctx.section("home.become_ally")]
    return Message(tuple(blocks))


def _ally(ctx: Context, profile: AllyProfile) -> list:
    blocks = allies.status_blocks(ctx, profile)
    supporting = ctx.session.exec(
        select(SupportRequest, Person)
        .join(Person, Person.id == SupportRequest.requester_id)
        .where(SupportRequest.ally_id == profile.person_id, SupportRequest.status == "matched")
    ).all()
    for req, requester in supporting:
        name = requester.display_name if req.introduced else ctx.content.plain("home.anonymous")
        blocks += [
            ctx.section("home.supporting", name=name),
            buttons(ctx.button("findally.button_finish", "request:finish", str(req.id))),
        ]
    blocks.append(ctx.note("allies.status_help", most=10))
    return blocks


def _coordinator(ctx: Context) -> list:
    waiting = ctx.session.exec(
        select(func.count()).select_from(SupportRequest).where(SupportRequest.status == "waiting")
    ).one()
    available = ctx.session.exec(
        select(func.count())
        .select_from(AllyProfile)
        .where(AllyProfile.status == "active", AllyProfile.available)
    ).one()
    return [ctx.section("home.coordinator", waiting=waiting, available=available)]
