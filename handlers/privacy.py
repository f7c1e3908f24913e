"""A person's own data: what the bot holds about them, a copy of it, and erasing it.

Erasing keeps the numbers the digest counts (a request was made, a conversation happened) on a
new person row that says nothing about anyone: no name, email, department, title, time zone,
platform id, nor the old id (storage/erasure.py). Everything personal is deleted: ally
profile, applications and their answers, drafts, platform addresses, timers, messages. Open
business is closed first, as its owner would close it: an open request is cancelled or
finished, an ally leaves the rota (their unanswered offers go to the next ally), and an open
application is withdrawn.
"""

from __future__ import annotations

import json

from sqlalchemy import delete
from sqlmodel import col, func, select

from bot.messages import Forget, people_of
from handlers import allies, apply, care, coordinators, findally, relay
from handlers.context import Context, buttons
from storage import ally_lists, erasure, outbox, sent
from storage.models import (
    AllyProfile,
    AllyStatus,
    Application,
    Conversation,
    FollowUp,
    Offer,
    OfferStatus,
    Person,
    PersonAddress,
    RequestStatus,
    SupportRequest,
)

# The timers planned about a person, and about a request of theirs (their subject is its id).
PERSON_TIMERS = (
    allies.BACK_FROM_AWAY,
    allies.GRACE_OVER,
    care.CHECK_IN,
    care.TRAINING,
    care.ESCALATION,
)
REQUEST_TIMERS = (findally.FOLLOW_UP, findally.STILL_WAITING)


def command(ctx: Context, value: str) -> None:
    """`/allyprivacy`: what is held; `export` or `delete` go straight there."""
    word = value.strip().lower()
    if word in ("export", "send", "copy"):
        export(ctx, "")
    elif word in ("delete", "erase", "forget"):
        ask_to_erase(ctx, "")
    else:
        ctx.reply(
            ctx.section("privacy.held", **_counts(ctx)),
            ctx.note("privacy.not_held"),
            buttons(
                ctx.button("privacy.button_export", "privacy:export"),
                ctx.button("privacy.button_erase", "privacy:erase", style="danger"),
            ),
        )


def export(ctx: Context, _value: str) -> None:
    """A readable copy of everything held about them, as a DM to them alone."""
    me = _me(ctx)
    blocks = [
        ctx.section(
            "privacy.export_profile",
            name=me.display_name or "-",
            email=me.email or "-",
            department=me.department or "-",
            title=me.title or "-",
            region=me.region or "-",
            tz=me.tz or "-",
            platform=me.platform,
        )
    ]
    profile = ctx.session.get(AllyProfile, me.id)
    if profile is not None:
        blocks.append(
            ctx.section(
                "privacy.export_ally",
                status=profile.status,
                capacity=profile.capacity,
                topics=", ".join(profile.topics) or "-",
                languages=", ".join(profile.languages) or "-",
                trained=str(profile.trained_on or "-"),
            )
        )
    labels = {q.id: q.label for q in ctx.content.questionnaire.questions}
    for app in ctx.session.exec(select(Application).where(Application.person_id == me.id)):
        answers = ctx.unseal(app.answers, f"application {app.id}") or {}
        lines = "\n".join(f"{labels.get(k, k)}: {v}" for k, v in answers.items() if v)
        blocks.append(
            ctx.section(
                "privacy.export_application",
                status=app.status,
                submitted=f"{app.submitted_at:%d %b %Y}",
                answers=lines or "-",
            )
        )
    requests = ctx.session.exec(
        select(SupportRequest).where(SupportRequest.requester_id == me.id)
    ).all()
    for req in requests:
        blocks.append(
            ctx.section(
                "privacy.export_request",
                created=f"{req.created_at:%d %b %Y}",
                status=req.status,
                topic=req.topic or "-",
            )
        )
        if req.urgent:
            blocks.append(ctx.section("privacy.export_request_urgent"))
    blocks.append(ctx.note("privacy.export_end"))
    assert me.id is not None
    ctx.dm(me.id, *blocks)
    ctx.reply(ctx.say("privacy.export_sent"))


def ask_to_erase(ctx: Context, _value: str) -> None:
    ctx.reply(
        ctx.section("privacy.erase_confirm"),
        buttons(
            ctx.button("privacy.button_erase_confirmed", "privacy:erase_confirmed", style="danger"),
            ctx.button("privacy.button_keep", "privacy:keep"),
        ),
    )


def _forget_messages(ctx: Context, me: Person) -> None:
    """Messages to them go, sent or not, and where the bot's messages in their DM went; so do
    the kept words of messages to others that name them (an offer to an ally that says who
    asked: kept, sealed, while its buttons may be pressed). Opening each kept message is slow,
    but erasure is rare and must be complete."""
    assert me.id is not None
    sent.forget_conversations(ctx.session, outbox.forget_person(ctx.session, me.id))
    names = [w for w in (me.display_name, me.email) if w and len(w) >= 2]
    if not names:
        return
    for row_id, body in outbox.kept_bodies(ctx.session):
        words = json.dumps(ctx.unseal(body, f"outbox row {row_id}") or {}, ensure_ascii=False)
        if any(name in words for name in names):
            outbox.forget_body(ctx.session, row_id)


def _forget_timers(ctx: Context, pid: int) -> None:
    """Nothing planned can reach or name them later: the timers about them, their requests
    and their drafts go, and so do follow-up questions still open."""
    requests = list(
        ctx.session.exec(select(SupportRequest.id).where(SupportRequest.requester_id == pid)).all()
    )
    drafts = list(
        ctx.session.exec(select(Conversation.id).where(Conversation.person_id == pid)).all()
    )
    erasure.drop_timers(ctx.session, PERSON_TIMERS, [pid])
    erasure.drop_timers(ctx.session, REQUEST_TIMERS, [r for r in requests if r is not None])
    erasure.drop_timers(ctx.session, (apply.DRAFT,), [d for d in drafts if d is not None])
    if requests:
        ctx.session.exec(delete(FollowUp).where(col(FollowUp.request_id).in_(requests)))


def keep(ctx: Context, _value: str) -> None:
    ctx.reply(ctx.say("privacy.kept"))


def erase(ctx: Context, _value: str) -> None:
    """Erase everything about them; the anonymous counts stay, on a new person row linked to
    nobody (storage/erasure.py). Their addresses are kept as digests only, so that nothing
    the bot does on its own creates them again (bot/router.py)."""
    me = _me(ctx)
    pid = me.id
    assert pid is not None
    name = me.display_name  # told to the coordinators once, below, if they were an ally
    known = [(me.platform, me.platform_user_id)] if me.platform_user_id else []
    known += list(
        ctx.session.exec(
            select(PersonAddress.platform, PersonAddress.user_id).where(
                PersonAddress.person_id == pid
            )
        ).all()
    )
    relay.erase(ctx, pid)  # the other side of an anonymous conversation is told kindly
    open_request = findally.open_request(ctx, pid)
    if open_request is not None:
        matched = open_request.status == RequestStatus.MATCHED
        close = findally.finish if matched else findally.cancel
        close(ctx, str(open_request.id))
    profile = ctx.session.get(AllyProfile, pid)
    left_rota = False
    if profile is not None:
        # Their offers go to the next ally. False for someone who had already stepped down or
        # been removed: the coordinators were told then.
        left_rota = allies.change_role(ctx, profile, AllyStatus.STEPPED_DOWN)
        ctx.session.exec(
            delete(Offer).where(col(Offer.ally_id) == pid, Offer.status != OfferStatus.PENDING)
        )
        ally_lists.forget(ctx.session, pid)
        ctx.session.exec(delete(AllyProfile).where(col(AllyProfile.person_id) == pid))
    _forget_timers(ctx, pid)
    ctx.session.exec(delete(Conversation).where(col(Conversation.person_id) == pid))
    # An open application is withdrawn first, exactly as /allyapply withdraw does it, so the
    # coordinators hear that it was withdrawn (and nothing of why) before it is deleted.
    apply.withdraw_open(ctx)
    ctx.session.exec(delete(Application).where(col(Application.person_id) == pid))
    ctx.session.exec(delete(PersonAddress).where(col(PersonAddress.person_id) == pid))
    _forget_messages(ctx, me)
    # The outbox so far (a withdrawal notice, the next ally's offer) names them by id only
    # where it is for them, and the rows for them were just deleted: drop those items too.
    ctx.outbox[:] = [o for o in ctx.outbox if pid not in people_of(o.to)]
    erasure.rekey(ctx.session, pid, ctx.now)
    erasure.remember(ctx.session, [ctx.sealer.digest(f"{p}:{u}") for p, u in known], ctx.now.date())
    ctx.outbox.forget = (*ctx.outbox.forget, Forget(pid, tuple(known)))
    if left_rota:
        # The coordinators run the rota, so they hear that an ally left it, by the name they
        # knew, this once: the name is in this message only (sealed until it is sent), and is
        # no longer held anywhere here. Nothing about requests, theirs or anyone's. Someone
        # who was not an ally erasing their data is nobody's business: nobody is told.
        shown = name or ctx.content.plain("privacy.unnamed_ally")
        coordinators.notify(ctx, ctx.say("privacy.coordinator_ally_erased", name=shown))
    # To them by the address they wrote from, which the platform still has; never written to
    # the outbox, which would hold their id (and, once sent, their DM) again.
    ctx.reply(ctx.say("privacy.erased"), transient=True)


def _counts(ctx: Context) -> dict[str, object]:
    me = _me(ctx)

    def count(table: type, *where: object) -> int:
        return ctx.session.exec(select(func.count()).select_from(table).where(*where)).one()

    return {
        "ally": "yes" if ctx.session.get(AllyProfile, me.id) else "no",
        "applications": count(Application, Application.person_id == me.id),
        "requests": count(SupportRequest, SupportRequest.requester_id == me.id),
        "drafts": count(Conversation, Conversation.person_id == me.id),
    }


def _me(ctx: Context) -> Person:
    assert ctx.actor is not None
    return ctx.actor
