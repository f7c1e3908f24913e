"""The ally application: a DM conversation run from content/questionnaire.yaml.

Steps are "consent", then each question's id, then "review". Every answer is saved (sealed) as
it is given, so a restart loses nothing. Each change bumps the conversation's revision, which
its buttons carry: a replayed or out-of-date press, or two answers racing, change nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.messages import Block, Message, Section
from handlers import coordinators, when
from handlers.content import Question, normalise_words
from handlers.context import Context, buttons, whole_number
from storage import timers
from storage.changes import won
from storage.crypto import SealError
from storage.models import (
    OPEN_APPLICATION,
    AllyProfile,
    AllyStatus,
    Application,
    ApplicationStatus,
    Conversation,
    Person,
)

log = logging.getLogger(__name__)

FLOW = "apply"
DRAFT = "application.draft"  # the timer that reminds about, then drops, an unfinished application
CONSENT, REVIEW = "consent", "review"
ALREADY_KEYS = {  # an ally who asks to apply is told where they stand
    AllyStatus.ONBOARDING: "apply.already_onboarding",
    AllyStatus.ACTIVE: "apply.already_active",
    AllyStatus.PAUSED: "apply.already_paused",
}
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_SHOWN = 40  # characters of an answer shown on a button
# After this long without an answer, the next typed message is not taken as one: the person
# may have forgotten which question is open, or be writing about something else.
HOLD_AFTER = timedelta(days=1)


# --- ways in ---------------------------------------------------------------------------------
def command(ctx: Context, text: str) -> None:
    """/allyapply [withdraw | role]"""
    if ctx.place is not None and ctx.place.kind != "dm":
        # Answers are typed as DMs, so the questions must be asked there, never in a channel.
        ctx.reply(ctx.say("apply.sent_to_dm"))
    said = normalise_words(text)
    if said == "withdraw":
        withdraw(ctx)
    elif said and ctx.content.questionnaire.keywords.meaning(said) == "role":
        send_role(ctx)
    else:
        begin(ctx)


def start_button(ctx: Context, _value: str = "") -> None:
    begin(ctx)


def handle_text(ctx: Context, text: str) -> bool:
    """A DM to the bot: True if the application took it (an answer, or a way in)."""
    conv = _conversation(ctx)
    meaning = ctx.content.questionnaire.keywords.meaning(text)
    if conv is None:
        if meaning == "start":
            begin(ctx)
        elif meaning == "role":
            send_role(ctx)
        else:
            return False
        return True
    if meaning is None and _is_question(ctx, conv) and _since_last_answer(ctx, conv) > HOLD_AFTER:
        # Show them where they are; saving the same step moves `updated_at` on, so their
        # next message is the answer.
        if _save(ctx, conv, step=conv.step):
            _tell(ctx, ctx.section("apply.answer_held"), *_prompt(ctx, conv))
        return True
    _answer(ctx, conv, text, meaning)
    return True


def _is_question(ctx: Context, conv: Conversation) -> bool:
    return ctx.content.questionnaire.question(conv.step) is not None


def _since_last_answer(ctx: Context, conv: Conversation) -> timedelta:
    return ctx.now - conv.updated_at


def begin(ctx: Context) -> None:
    """Start the questionnaire, or say where the person already stands."""
    conv = _conversation(ctx)
    if conv is not None:
        # Seeing the open question counts as the reminder: the next message is the answer.
        if _since_last_answer(ctx, conv) > HOLD_AFTER and not _save(ctx, conv, step=conv.step):
            return
        _tell(ctx, ctx.section("apply.resuming"), *_prompt(ctx, conv))
        return
    standing = _standing(ctx)
    if standing:
        _tell(ctx, *standing)
        return
    if _over_limit(ctx):
        return
    conv = _new_conversation(ctx, step=CONSENT, answers={})
    if conv is not None:
        _tell(ctx, *_prompt(ctx, conv))


def send_role(ctx: Context, _value: str = "") -> None:
    """The role description and training details, and where the person is if they are applying."""
    org = ctx.app.organisation.name
    sections = [Section(ctx.content.markup(part, organisation=org)) for part in ctx.content.role]
    conv = _conversation(ctx)
    follow = (
        [ctx.section("apply.role_continue"), *_prompt(ctx, conv)]
        if conv
        else [
            buttons(ctx.button("apply.button_apply", "apply:start", style="primary")),
        ]
    )
    _tell(ctx, *sections, *follow)


def withdraw(ctx: Context) -> None:
    """/allyapply withdraw: an open application is withdrawn and its answers deleted."""
    me = ctx.actor
    dropped = won(ctx.session, delete(Conversation).where(col(Conversation.person_id) == me.id))
    if withdraw_open(ctx):
        _tell(ctx, ctx.say("apply.withdrawn"))
    elif dropped:
        _tell(ctx, ctx.say("apply.cancelled"))
    else:
        _tell(ctx, ctx.say("apply.nothing_to_withdraw"))


def withdraw_open(ctx: Context) -> bool:
    """Withdraw the actor's open application, if any, as they would themselves: its answers
    deleted and the coordinators told. False if there was none (or it was decided meanwhile).
    /allyapply withdraw and erasure (handlers/privacy.py) both go through here, so the
    coordinators hear the same either way."""
    app = open_application(ctx)
    if app is None or not won(
        ctx.session,
        update(Application)
        .where(col(Application.id) == app.id, col(Application.status).in_(OPEN_APPLICATION))
        .values(
            status=ApplicationStatus.WITHDRAWN,
            open_key=None,
            answers=ctx.sealer.seal({}),
            decided_at=ctx.now,
        ),
    ):
        return False
    log.info("application %s withdrawn", app.id)
    coordinators.notify(ctx, ctx.say("review.withdrawn"))
    return True


def update_button(ctx: Context, value: str) -> None:
    """The "Update my application" button, after a coordinator asked for more: the review."""
    app_id = whole_number(value)
    app = ctx.session.get(Application, app_id) if app_id is not None else None
    if app is None or app.person_id != ctx.actor.id:
        _tell(ctx, ctx.say("apply.not_yours"))
        return
    if app.status != ApplicationStatus.MORE_INFO:
        _tell(ctx, *(_standing(ctx) or [ctx.section("apply.already_decided")]))
        return
    conv = _conversation(ctx)
    if conv is None:
        answers = ctx.unseal(app.answers, f"application {app.id}")
        conv = _new_conversation(
            ctx, step=REVIEW, answers=answers or {}, application_id=app.id, consented=app
        )
    if conv is not None:
        _tell(ctx, *_prompt(ctx, conv))


# --- buttons inside the conversation ---------------------------------------------------------
def keep(ctx: Context, value: str) -> None:
    conv = _pressed(ctx, value)
    q = ctx.content.questionnaire.question(conv.step) if conv else None
    if conv is None or q is None:
        return
    suggestion = _suggestion(ctx, q, _answers(ctx, conv))
    if suggestion is None:
        _tell(ctx, *_prompt(ctx, conv))
        return
    _record(ctx, conv, q, suggestion)


def _said_by_button(meaning: str) -> Callable[[Context, str], None]:
    """A button that does what typing a keyword does (agree, back, skip, cancel, submit)."""

    def press(ctx: Context, value: str) -> None:
        conv = _pressed(ctx, value)
        if conv is not None:
            _answer(ctx, conv, "", meaning)

    return press


agree = _said_by_button("agree")
back = _said_by_button("back")
skip = _said_by_button("skip")
cancel = _said_by_button("cancel")
submit = _said_by_button("submit")


def change(ctx: Context, value: str) -> None:
    tag, _, qid = value.rpartition(":")
    conv = _pressed(ctx, tag)
    q = ctx.content.questionnaire.question(qid) if conv else None
    if conv is None:
        return
    if q is None or conv.step != REVIEW:
        _tell(ctx, ctx.section("apply.stale"), *_prompt(ctx, conv))
        return
    if _save(ctx, conv, step=q.id, reviewing=True):
        _tell(ctx, *_prompt(ctx, conv))


# --- the engine ------------------------------------------------------------------------------
def _answer(ctx: Context, conv: Conversation, text: str, meaning: str | None) -> None:
    """One thing the person said or pressed, at the conversation's current step."""
    questions = ctx.content.questionnaire.questions
    q = ctx.content.questionnaire.question(conv.step)
    if meaning == "cancel":
        _drop(ctx, conv)
    elif meaning == "help":
        _tell(ctx, ctx.section("apply.help"), *_prompt(ctx, conv))
    elif meaning == "status":
        _tell(ctx, _status(ctx, conv), *_prompt(ctx, conv))
    elif meaning == "role":
        send_role(ctx)
    elif meaning == "back":
        _back(ctx, conv)
    elif conv.step == CONSENT:
        if meaning != "agree":
            _tell(ctx, ctx.section("apply.consent_needed"), *_prompt(ctx, conv))
        elif _save(ctx, conv, step=questions[0].id, consented_at=ctx.now):
            _tell(ctx, *_prompt(ctx, conv))
    elif conv.step == REVIEW:
        if meaning == "submit":
            _submit(ctx, conv)
        else:
            _tell(ctx, ctx.section("apply.review_hint"), *_prompt(ctx, conv))
    elif q is None:  # the questionnaire changed under a saved conversation
        _go(ctx, conv, _first_unanswered(ctx, _answers(ctx, conv)))
    elif meaning == "skip":
        if q.optional:
            _record(ctx, conv, q, None)
        else:
            _tell(ctx, ctx.section("apply.cannot_skip"), *_prompt(ctx, conv))
    else:
        value, problem = _validate(ctx, q, text)
        if problem is not None:
            _tell(ctx, problem, *_prompt(ctx, conv, repeat=True))
        else:
            _record(ctx, conv, q, value)


def _validate(ctx: Context, q: Question, text: str) -> tuple[str, Section | None]:
    value = text.strip()
    if q.kind != "text":
        value = " ".join(value.split())  # one line
    if not value:
        key = "apply.empty_optional" if q.optional else "apply.empty"
        return value, ctx.section(key)
    if len(value) > q.max:
        return value, ctx.section("apply.too_long", length=len(value), most=q.max)
    if q.kind == "email" and not _EMAIL.match(value):
        return value, ctx.section("apply.bad_email")
    return value, None


def _record(ctx: Context, conv: Conversation, q: Question, value: str | None) -> None:
    """Save one answer and move on: to the review if the person came from it, else onward."""
    answers = _answers(ctx, conv)
    answers[q.id] = value
    nxt = REVIEW if conv.reviewing else _after(ctx, q.id)
    if _save(ctx, conv, step=nxt, answers=answers, reviewing=False if nxt == REVIEW else None):
        _tell(ctx, ctx.section("apply.saved"), *_prompt(ctx, conv))


def _after(ctx: Context, qid: str) -> str:
    ids = [q.id for q in ctx.content.questionnaire.questions]
    i = ids.index(qid)
    return ids[i + 1] if i + 1 < len(ids) else REVIEW


def _back(ctx: Context, conv: Conversation) -> None:
    ids = [q.id for q in ctx.content.questionnaire.questions]
    if conv.step == REVIEW:
        prev = ids[-1]
    elif conv.step in ids and ids.index(conv.step) > 0:
        prev = ids[ids.index(conv.step) - 1]
    else:
        _tell(ctx, ctx.section("apply.at_start"), *_prompt(ctx, conv))
        return
    _go(ctx, conv, prev)


def _go(ctx: Context, conv: Conversation, step: str) -> None:
    if _save(ctx, conv, step=step, reviewing=False):
        _tell(ctx, *_prompt(ctx, conv))


def _first_unanswered(ctx: Context, answers: dict[str, Any]) -> str:
    for q in ctx.content.questionnaire.questions:
        if q.id not in answers or (answers[q.id] is None and not q.optional):
            return q.id
    return REVIEW


def _submit(ctx: Context, conv: Conversation) -> None:
    answers = _answers(ctx, conv)
    missing = _first_unanswered(ctx, answers)
    if missing != REVIEW:
        _tell(ctx, ctx.section("apply.missing"))
        _go(ctx, conv, missing)
        return
    if conv.application_id is None and _over_limit(ctx):
        return  # the draft stays as it is, to send once the limit lifts
    # Deleting the conversation at its revision is what makes a second "submit" a no-op.
    if not won(
        ctx.session,
        delete(Conversation).where(
            col(Conversation.id) == conv.id, col(Conversation.revision) == conv.revision
        ),
    ):
        _tell(ctx, ctx.say("apply.stale"))
        return
    sealed = ctx.sealer.seal(answers)
    app = ctx.session.get(Application, conv.application_id) if conv.application_id else None
    if app is not None:
        if not won(
            ctx.session,
            update(Application)
            .where(
                col(Application.id) == app.id,
                col(Application.status) == ApplicationStatus.MORE_INFO,
            )
            .values(status=ApplicationStatus.PENDING, answers=sealed, submitted_at=ctx.now),
        ):
            _tell(ctx, *(_standing(ctx) or [ctx.section("apply.already_decided")]))
            return
        ctx.session.refresh(app)
    else:
        app = Application(
            person_id=ctx.actor.id,
            open_key=ctx.actor.id,
            status=ApplicationStatus.PENDING,
            answers=sealed,
            consented_at=conv.consented_at or ctx.now,
            submitted_at=ctx.now,
        )
        try:
            with ctx.session.begin_nested():
                ctx.session.add(app)
        except IntegrityError:  # an application is already open
            _tell(ctx, *(_standing(ctx) or [ctx.section("apply.already_decided")]))
            return
    log.info("application %s submitted by person %s", app.id, ctx.actor.id)
    _tell(ctx, ctx.say("apply.submitted"))
    coordinators.application_submitted(ctx, app, ctx.actor, answers)


def _drop(ctx: Context, conv: Conversation) -> None:
    ctx.session.exec(delete(Conversation).where(col(Conversation.id) == conv.id))
    key = "apply.cancelled_update" if conv.application_id else "apply.cancelled"
    _tell(ctx, ctx.say(key))


# --- how many ---------------------------------------------------------------------------------
def _over_limit(ctx: Context) -> bool:
    """True, after telling the person kindly when they can apply again and whom to talk to,
    if they have sent `applications.limit` applications in the last `limit_days` days.

    Counted from their Application rows: one sent back for more information and sent again is
    one row, so it counts once. No race can get past it: a person has one draft at most (unique
    per person and flow) and a new application is only made by deleting that draft at its
    revision, so their submissions happen one after another. Retention deletes withdrawn and
    declined applications after `retention.applications_days`, so a longer window counts
    only that far back."""
    cfg = ctx.app.applications
    days = min(cfg.limit_days, ctx.app.retention.applications_days)
    sent = ctx.session.exec(
        select(Application.submitted_at)
        .where(
            Application.person_id == ctx.actor.id,
            col(Application.submitted_at) > ctx.now - timedelta(days=days),
        )
        .order_by(col(Application.submitted_at).desc())
    ).all()
    if len(sent) < cfg.limit:
        return False
    # The limit lifts when the limit-th newest leaves the window; shown as the local day after
    # (a day named is then never too early, whatever the hour).
    lifts = (sent[cfg.limit - 1] + timedelta(days=days)).astimezone(when.zone(ctx.app))
    day = lifts.date() + timedelta(days=0 if lifts.time() == time(0) else 1)
    names = _coordinator_names(ctx)
    who = (
        ctx.content.plain("apply.coordinators_named", names=names)
        if names
        else ctx.content.plain("apply.coordinators_unnamed")
    )
    log.info("person %s is over the application limit", ctx.actor.id)
    _tell(
        ctx,
        ctx.say(
            "apply.too_many", count=len(sent), days=days, date=f"{day:%d %B %Y}", coordinators=who
        ),
    )
    return True


def _coordinator_names(ctx: Context) -> str:
    """The names of the coordinators the bot knows, for someone who would like to talk."""
    ids = coordinators.coordinator_ids(ctx)
    rows = ctx.session.exec(
        select(Person.display_name, Person.platform_user_id).where(col(Person.id).in_(ids))
    ).all()
    # A coordinator the bot has not met yet has no name, or their platform id in its place.
    names = {name for name, user_id in rows if name and name != user_id}
    return ", ".join(sorted(names, key=str.casefold))


# --- what the person sees --------------------------------------------------------------------
def _prompt(ctx: Context, conv: Conversation, repeat: bool = False) -> list:
    """The current step: the privacy notice, a question, or the review."""
    tag = _tag(conv)
    cancel_button = ctx.button("apply.button_cancel", "apply:cancel", tag)
    role_button = ctx.button("apply.button_role", "apply:role")
    if conv.step == CONSENT:
        return [
            Section(ctx.content.markup(ctx.content.questionnaire.privacy)),
            buttons(
                ctx.button("apply.button_agree", "apply:agree", tag, style="primary"),
                role_button,
                cancel_button,
            ),
        ]
    answers = _answers(ctx, conv)
    if conv.step == REVIEW:
        return _review(ctx, conv, answers)
    questions = ctx.content.questionnaire.questions
    q = ctx.content.questionnaire.question(conv.step)
    if q is None:
        return [ctx.section("apply.stale")]
    number = [x.id for x in questions].index(q.id) + 1
    row = []
    suggestion = _suggestion(ctx, q, answers)
    if suggestion is not None:
        shown = suggestion if len(suggestion) <= _SHOWN else suggestion[: _SHOWN - 1] + "…"
        key = "apply.button_keep" if q.kind != "text" else "apply.button_keep_text"
        row.append(ctx.button(key, "apply:keep", tag, style="primary", answer=shown))
    row.append(ctx.button("apply.button_back", "apply:back", tag))
    if q.optional:
        row.append(ctx.button("apply.button_skip", "apply:skip", tag))
    row += [cancel_button, role_button]
    blocks: list = [
        ctx.section("apply.question_heading", number=number, total=len(questions), label=q.label),
        Section(ctx.content.markup(q.ask)),
    ]
    if q.id in answers and q.kind == "text" and answers[q.id]:
        blocks.append(ctx.section("apply.current_answer", answer=answers[q.id]))
    if not repeat:
        key = "apply.how_to_answer_optional" if q.optional else "apply.how_to_answer"
        blocks.append(ctx.note(key, most=q.max))
    return [*blocks, buttons(*row)]


def _review(ctx: Context, conv: Conversation, answers: dict[str, Any]) -> list:
    tag = _tag(conv)
    items = [
        ctx.section(
            "apply.review_item",
            label=q.label,
            answer=answers.get(q.id) or ctx.content.plain("apply.skipped"),
        )
        for q in ctx.content.questionnaire.questions
    ]
    changes = [
        ctx.button("apply.button_change", "apply:change", f"{tag}:{q.id}", label=q.label)
        for q in ctx.content.questionnaire.questions
    ]
    return [
        ctx.section("apply.review_title"),
        *items,
        buttons(
            ctx.button("apply.button_submit", "apply:submit", tag, style="primary"),
            ctx.button("apply.button_cancel", "apply:cancel", tag),
        ),
        ctx.note("apply.review_change"),
        buttons(*changes),
    ]


def _status(ctx: Context, conv: Conversation) -> Section:
    ids = [q.id for q in ctx.content.questionnaire.questions]
    if conv.step == CONSENT:
        return ctx.section("apply.status_consent")
    if conv.step == REVIEW:
        return ctx.section("apply.status_review", total=len(ids))
    q = ctx.content.questionnaire.question(conv.step)
    return ctx.section(
        "apply.status_question",
        number=ids.index(conv.step) + 1,
        total=len(ids),
        label=q.label if q else conv.step,
    )


def _suggestion(ctx: Context, q: Question, answers: dict[str, Any]) -> str | None:
    """What the person can keep with one press: their earlier answer, else their profile's."""
    if answers.get(q.id):
        return str(answers[q.id])
    if q.prefill is None:
        return None
    me = ctx.actor
    value = {
        "name": me.display_name if me.display_name != me.platform_user_id else None,
        "email": me.email,
        "title": me.title,
        "department": me.department,
    }[q.prefill]
    return value or None


def _standing(ctx: Context) -> list:
    """Where someone stands if they cannot start a new application: an ally, or waiting."""
    profile = ctx.session.get(AllyProfile, ctx.actor.id)
    if profile is not None and profile.status in ALREADY_KEYS:
        return [ctx.section(ALREADY_KEYS[profile.status])]
    app = open_application(ctx)
    if app is None:
        return []
    if app.status == ApplicationStatus.MORE_INFO:
        return [
            ctx.section("apply.more_info_open"),
            buttons(ctx.button("apply.button_update", "apply:update", str(app.id), "primary")),
        ]
    return [ctx.section("apply.pending", date=f"{app.submitted_at:%d %b %Y}")]


def _tell(ctx: Context, *blocks: Block | Message) -> None:
    """Everything in the application happens in the person's DM with the bot, where they type
    their answers (and where the messages stay, unlike "only you" replies)."""
    ctx.dm(ctx.actor.id, *blocks)


# --- storage ---------------------------------------------------------------------------------
def _conversation(ctx: Context) -> Conversation | None:
    """The person's questionnaire in progress; one left unfinished too long is dropped."""
    conv = ctx.session.exec(
        select(Conversation).where(
            Conversation.person_id == ctx.actor.id, Conversation.flow == FLOW
        )
    ).first()
    if conv is not None and conv.expires_at <= ctx.now:
        ctx.session.exec(delete(Conversation).where(col(Conversation.id) == conv.id))
        _tell(ctx, ctx.say("apply.expired"))
        return None
    if conv is not None and conv.application_id is not None:
        app = ctx.session.get(Application, conv.application_id)
        if app is None or app.status != ApplicationStatus.MORE_INFO:
            # An update to an application the coordinators have since decided (or that was
            # withdrawn) has nothing left to update: it goes, and the person starts afresh.
            ctx.session.exec(delete(Conversation).where(col(Conversation.id) == conv.id))
            return None
    return conv


def _new_conversation(
    ctx: Context,
    step: str,
    answers: dict[str, Any],
    application_id: int | None = None,
    consented: Application | None = None,
) -> Conversation | None:
    conv = Conversation(
        person_id=ctx.actor.id,
        flow=FLOW,
        step=step,
        answers=ctx.sealer.seal(answers),
        application_id=application_id,
        consented_at=consented.consented_at if consented else None,
        started_at=ctx.now,
        updated_at=ctx.now,
        expires_at=ctx.now + _lifetime(ctx),
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(conv)
    except IntegrityError:  # a second start raced the first: continue the one that won
        existing = _conversation(ctx)
        if existing is not None:
            _tell(ctx, *_prompt(ctx, existing))
        return None
    log.info("application conversation %s started by person %s", conv.id, ctx.actor.id)
    remind = ctx.now + timedelta(days=ctx.app.applications.remind_after_days)
    timers.plan(ctx.session, DRAFT, conv.id, remind, f"{DRAFT}:{conv.id}")
    return conv


def draft_timer(ctx: Context, conversation_id: int) -> None:
    """Timer: remind someone who left their application unfinished, once per pause, and drop
    it (answers and all) when it expires. It then plans itself for the next moment to look."""
    conv = ctx.session.get(Conversation, conversation_id)
    if conv is None:
        return
    if conv.expires_at <= ctx.now:
        ctx.session.exec(delete(Conversation).where(col(Conversation.id) == conv.id))
        ctx.dm(conv.person_id, ctx.say("apply.expired_unfinished", days=_lifetime(ctx).days))
        log.info("application conversation %s expired", conv.id)
        return
    pause = timedelta(days=ctx.app.applications.remind_after_days)
    reminded = conv.reminded_at is not None and conv.reminded_at >= conv.updated_at
    if not reminded and ctx.now - conv.updated_at >= pause:
        # Not through _save: a reminder must not change the revision the buttons carry.
        ctx.session.exec(
            update(Conversation).where(col(Conversation.id) == conv.id).values(reminded_at=ctx.now)
        )
        ctx.dm(
            conv.person_id,
            ctx.section("apply.reminder", date=f"{conv.expires_at:%d %b %Y}"),
            _status(ctx, conv),
            buttons(
                ctx.button("apply.button_carry_on", "apply:start", style="primary"),
                ctx.button("apply.button_cancel_draft", "apply:cancel", _tag(conv)),
            ),
        )
        reminded = True
    # Reminded: look again daily, to remind once more if they carry on and stop again.
    wake = ctx.now + timedelta(days=1) if reminded else conv.updated_at + pause
    later = min(wake, conv.expires_at)
    timers.plan(ctx.session, DRAFT, conv.id, later, f"{DRAFT}:{conv.id}")


def _save(
    ctx: Context,
    conv: Conversation,
    step: str,
    answers: dict[str, Any] | None = None,
    reviewing: bool | None = None,
    consented_at: Any = None,
) -> bool:
    """Move the conversation on, if nothing else moved it since it was read."""
    values: dict[str, Any] = {
        "step": step,
        "revision": conv.revision + 1,
        "updated_at": ctx.now,
        "expires_at": ctx.now + _lifetime(ctx),
    }
    if answers is not None:
        values["answers"] = ctx.sealer.seal(answers)
    if reviewing is not None:
        values["reviewing"] = reviewing
    if consented_at is not None:
        values["consented_at"] = consented_at
    if won(
        ctx.session,
        update(Conversation)
        .where(col(Conversation.id) == conv.id, col(Conversation.revision) == conv.revision)
        .values(**values),
    ):
        ctx.session.refresh(conv)
        return True
    ctx.session.expire(conv)
    fresh = _conversation(ctx)  # moved on, or cancelled, by another press meanwhile
    if fresh is None:
        _tell(ctx, ctx.say("apply.no_conversation"))
    else:
        _tell(ctx, ctx.section("apply.stale"), *_prompt(ctx, fresh))
    return False


def _answers(ctx: Context, conv: Conversation) -> dict[str, Any]:
    answers = ctx.unseal(conv.answers, f"conversation {conv.id}")
    if answers is None:
        # Never carry on as if they had answered nothing: that would save an empty draft over
        # theirs. The router rolls back and tells them nothing was changed.
        raise SealError(f"conversation {conv.id}")
    return answers


def _pressed(ctx: Context, tag: str) -> Conversation | None:
    """The conversation a button belongs to, if it is this person's and still current."""
    conv = _conversation(ctx)
    if conv is None:  # sent, cancelled or expired: say where they stand now
        _tell(ctx, *(_standing(ctx) or [ctx.section("apply.no_conversation")]))
        return None
    if tag != _tag(conv):
        _tell(ctx, ctx.section("apply.stale"), *_prompt(ctx, conv))
        return None
    return conv


def _tag(conv: Conversation) -> str:
    return f"{conv.id}.{conv.revision}"


def _lifetime(ctx: Context) -> timedelta:
    return timedelta(days=ctx.app.applications.expire_after_days)


def open_application(ctx: Context) -> Application | None:
    """The person's application awaiting a decision, if any."""
    return ctx.session.exec(
        select(Application).where(
            Application.person_id == ctx.actor.id, col(Application.status).in_(OPEN_APPLICATION)
        )
    ).first()
