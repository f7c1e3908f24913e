"""The follow-up: some days after a hand-off the requester is asked whether they got the
support they needed. The answer is kept as a bare score with its week, in a table that links to
nobody, and the question that linked it to them is deleted as it is answered."""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlmodel import col

from handlers import findally, stats
from handlers.context import Context, buttons, whole_number
from storage.changes import won
from storage.models import FollowUp, FollowUpAnswer, FollowUpStatus, RequestStatus, SupportRequest

SCORES = range(1, 6)
LOW = 2  # a score this low also offers another conversation and the resources


def ask(ctx: Context, request_id: int) -> None:
    """Timer (planned at the hand-off): ask the requester how it went."""
    req = ctx.session.get(SupportRequest, request_id)
    handed_off = (RequestStatus.MATCHED, RequestStatus.FINISHED)
    if req is None or req.status not in handed_off or req.ally_id is None:
        return
    question = FollowUp(request_id=req.id, asked_at=ctx.now)
    ctx.session.add(question)
    ctx.session.flush()
    qid = str(question.id)
    ctx.dm(
        req.requester_id,
        ctx.section("follow_up.ask"),
        buttons(
            *(ctx.button(f"follow_up.score_{n}", "follow_up:answer", f"{qid}.{n}") for n in SCORES)
        ),
        buttons(ctx.button("follow_up.button_again", "follow_up:again", qid)),
        ctx.note("follow_up.privacy"),
    )


def answer(ctx: Context, value: str) -> None:
    m = re.fullmatch(r"([0-9]{1,9})\.([1-5])", value)
    question = _own_question(ctx, m.group(1) if m else "")
    if question is None or m is None:
        return
    # The question goes as it is answered: a row saying *who* answered in a given week could,
    # in a quiet week, point at the only score of that week.
    if not won(
        ctx.session,
        delete(FollowUp).where(
            col(FollowUp.id) == question.id, col(FollowUp.status) == FollowUpStatus.ASKED
        ),
    ):
        ctx.reply(ctx.say("follow_up.already_answered"))
        return
    score = int(m.group(2))
    ctx.session.add(FollowUpAnswer(score=score, week_of=stats.week_of(ctx.now.date())))
    if score <= LOW:
        ctx.reply(
            ctx.section("follow_up.thanks_low"),
            buttons(
                ctx.button("follow_up.button_again", "findally:talk", style="primary"),
                ctx.button("findally.button_resources", "findally:resources"),
            ),
        )
    else:
        ctx.reply(ctx.say("follow_up.thanks"))


def again(ctx: Context, value: str) -> None:
    """ "Connect me with someone again": the usual first step of /findally."""
    if _own_question(ctx, value) is not None:
        findally.command(ctx, "")


def _own_question(ctx: Context, value: str) -> FollowUp | None:
    question_id = whole_number(value)
    question = ctx.session.get(FollowUp, question_id) if question_id is not None else None
    req = ctx.session.get(SupportRequest, question.request_id) if question else None
    if req is None or req.requester_id != ctx.actor.id:
        ctx.reply(ctx.say("follow_up.gone"))
        return None
    return question
