"""The home view (Slack App Home): what each person can do, by role."""

from __future__ import annotations

from sqlmodel import col, func, select

from bot.messages import Divider, Message
from handlers import admin, allies, apply, coordinators, findally
from handlers.context import Context, buttons
from storage.models import (
    OPEN_APPLICATION,
    AllyProfile,
    AllyStatus,
    Application,
    ApplicationStatus,
    Person,
    RequestStatus,
    SupportRequest,
)


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
    is_ally = profile is not None and profile.status in allies.CURRENT
    if is_ally:
        blocks += [Divider(), *_ally(ctx, profile)]
    if coordinators.is_coordinator(ctx, me):
        blocks += [Divider(), *_coordinator(ctx)]
    if not is_ally:
        blocks += [Divider(), *_become_ally(ctx)]
    return Message(tuple(blocks))


def _become_ally(ctx: Context) -> list:
    application = apply.open_application(ctx)
    if application is not None and application.status == ApplicationStatus.PENDING:
        return [ctx.section("home.application_pending")]
    if application is not None:
        return [
            ctx.section("apply.more_info_open"),
            buttons(
                ctx.button("apply.button_update", "apply:update", str(application.id), "primary")
            ),
        ]
    return [
        ctx.section("home.become_ally"),
        buttons(
            ctx.button("apply.button_apply", "apply:start", style="primary"),
            ctx.button("apply.button_role", "apply:role"),
        ),
    ]


def _ally(ctx: Context, profile: AllyProfile) -> list:
    blocks = allies.status_blocks(ctx, profile)
    supporting = ctx.session.exec(
        select(SupportRequest, Person)
        .join(Person, Person.id == SupportRequest.requester_id)
        .where(
            SupportRequest.ally_id == profile.person_id,
            SupportRequest.status == RequestStatus.MATCHED,
        )
    ).all()
    for req, requester in supporting:
        name = requester.display_name if req.introduced else ctx.content.plain("home.anonymous")
        blocks += [
            ctx.section("home.supporting", name=name),
            buttons(ctx.button("findally.button_finish", "request:finish", str(req.id))),
        ]
    blocks += [
        buttons(ctx.button("escalation.button", "care:coordinator")),
        ctx.note("allies.status_help", most=allies.MAX_CAPACITY),
    ]
    return blocks


def _coordinator(ctx: Context) -> list:
    waiting = len(admin.waiting_requests(ctx))  # as /allyadmin requests lists them
    available = ctx.session.exec(
        select(func.count())
        .select_from(AllyProfile)
        .where(AllyProfile.status == AllyStatus.ACTIVE, AllyProfile.available)
    ).one()
    applications = ctx.session.exec(
        select(func.count())
        .select_from(Application)
        .where(col(Application.status).in_(OPEN_APPLICATION))
    ).one()
    trained = ctx.session.exec(
        select(AllyProfile).where(
            col(AllyProfile.status).in_(allies.CURRENT), col(AllyProfile.trained_on).is_not(None)
        )
    ).all()
    renewals = sum(1 for profile in trained if allies.training_due(ctx, profile))
    return [
        ctx.section(
            "home.coordinator",
            waiting=waiting,
            available=available,
            applications=applications,
            renewals=renewals,
        ),
        buttons(
            ctx.button("admin.button_applications", "admin:applications", style="primary"),
            ctx.button("admin.button_requests", "admin:requests"),
            ctx.button("admin.button_roster", "admin:roster"),
        ),
    ]
