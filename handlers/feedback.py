"""Anonymous feedback to the network: `/allyfeedback <comment>`, or a DM that starts with the
feedback keyword (content/messages.yaml, feedback.keywords).

A comment is stored sealed with only the week it was written: no person, no time. The router
audits /allyfeedback without the person (see its registration) and nothing here logs who
wrote. The weekly digest (handlers/stats.py) releases the comments of the weeks before its own,
all at once, so neither a name nor the moment a comment appears can point to its writer.

Each person may leave `feedback.per_hour` comments a clock hour and `per_day` a local day
(app.yaml). The counts (storage/limits.py) are kept apart from the comments and link to none:
a count row holds a number, when its window ends, and a keyed digest of the person and the
window, never a person id or a comment id. What it still says, while its window is open, is
that someone wrote n comments in this hour (or day); with the database alone that someone is
nobody in particular, but whoever also holds ALLYBOT_SECRET_KEY could compute each person's
digest and learn who wrote in that hour, and, by the audit log's times and the order of the
comments, perhaps which comment. So a count lives no longer than its window (an hour, or the
rest of the day): it is deleted as soon as the window ends, and the week alone remains.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from bot.messages import Message
from handlers import findally, stats, when
from handlers.context import Context, buttons
from storage import limits
from storage.models import Feedback

MAX_CHARS = 1500


def command(ctx: Context, text: str) -> None:
    """/allyfeedback <comment>. Words that raised crisis help (which the router puts first)
    are not filed as they come: the writer is asked whether it is feedback, as a DM is."""
    if ctx.danger >= 2:  # emergency-first help leads this reply
        _confirm(ctx, text.strip())
        return
    submit(ctx, text)


def from_dm(ctx: Context, text: str) -> bool:
    """A DM starting with a feedback keyword (one a line in `feedback.keywords`, any case) may
    be a comment: the rest of the message. It is kept only once the writer confirms, because
    "feedback from my review upset me" is someone who needs an ally, not a comment to file.
    False if the message does not start with a keyword."""
    for keyword in ctx.content.plain("feedback.keywords").splitlines():
        words = r"\s+".join(re.escape(w) for w in keyword.split())
        if words and (m := re.fullmatch(rf"\s*{words}\b[\s:,.-]*(.*)", text, re.I | re.S)):
            _confirm(ctx, m.group(1).strip())
            return True
    return False


def _confirm(ctx: Context, comment: str) -> None:
    if _acceptable(ctx, comment) is None:
        return
    if (over := _over_limit(ctx, peek=True)) is not None:
        ctx.reply(over)  # no "send it" button that could only be refused
        return
    # The comment rides on the button (at most MAX_CHARS, within Slack's 2,000): nothing is
    # stored before the writer says it is feedback, and a tampered value is only their own text.
    # A fresh token lets a replayed press keep a single copy. Transient: not even the outbox
    # may keep it, since it holds the comment and is addressed to its writer.
    value = f"{secrets.token_hex(8)}:{comment}"
    ctx.reply(
        ctx.section("feedback.confirm", comment=comment),
        buttons(
            ctx.button("feedback.button_send", "feedback:send", value, "primary"),
            ctx.button("feedback.button_not_feedback", "feedback:not_feedback"),
        ),
        transient=True,
    )


def send_button(ctx: Context, value: str) -> None:
    """The writer confirmed that their DM is anonymous feedback."""
    token, _, comment = value.partition(":")
    if not re.fullmatch(r"[0-9a-f]{16}", token):
        ctx.reply(ctx.say("help.stale_button"))
        return
    submit(ctx, comment, token)


def not_feedback(ctx: Context, _value: str = "") -> None:
    """It was not feedback: nothing is kept, and the ways to an ally are shown."""
    ctx.reply(ctx.section("feedback.not_kept"), *findally.choices(ctx))


def _acceptable(ctx: Context, comment: str) -> datetime | None:
    """When the comment would reach the coordinators; None, after telling the writer plainly
    why, if it is empty, too long or cannot be collected."""
    shared = next_release(ctx)
    if not comment:
        ctx.reply(ctx.say("feedback.usage", most=MAX_CHARS))
    elif len(comment) > MAX_CHARS:
        ctx.reply(ctx.say("feedback.too_long", most=MAX_CHARS, length=len(comment)))
    elif shared is None:
        ctx.reply(ctx.say("feedback.not_collected"))
    else:
        return shared
    return None


def submit(ctx: Context, text: str, token: str | None = None) -> None:
    """Keep the comment (sealed, by week) and tell the writer when and how it is shared."""
    comment = text.strip()
    shared = _acceptable(ctx, comment)
    if shared is None:
        return
    today = ctx.now.astimezone(when.zone(ctx.app)).date()
    sealed = ctx.sealer.seal({"comment": comment})
    limits.drop_ended(ctx.session, ctx.now)  # outside the savepoint: gone even if refused
    try:
        # The count and the comment are kept together or not at all: a press replayed after
        # the first kept it takes no count, and a comment over the limit is not kept.
        with ctx.session.begin_nested():
            if (over := _over_limit(ctx)) is not None:
                raise _OverLimit(over)
            ctx.session.add(Feedback(text=sealed, week_of=stats.week_of(today), token=token))
    except IntegrityError:  # the same button pressed again: the first press kept it
        ctx.reply(ctx.say("feedback.already_sent"))
        return
    except _OverLimit as refused:
        ctx.reply(
            refused.message, ctx.note("feedback.unsaved_copy", comment=comment), transient=True
        )
        return
    ctx.reply(ctx.say("feedback.thanks", date=f"{shared:%A %d %B}"))


class _OverLimit(Exception):
    """Raised inside the savepoint to undo a count already taken (the hour's, when the day's
    is full), with what to tell the writer."""

    def __init__(self, message: Message):
        super().__init__("over the feedback limit")
        self.message = message


def _over_limit(ctx: Context, peek: bool = False) -> Message | None:
    """Count one more comment for the actor in this clock hour and this local day; None if
    allowed, else what to tell them (nothing counted). With `peek`, only look."""
    zone = when.zone(ctx.app)
    hour_ends = ctx.now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    local = ctx.now.astimezone(zone)
    day_ends = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    cfg = ctx.app.feedback
    for most, ends, key in (
        (cfg.per_hour, hour_ends, "feedback.too_many_this_hour"),
        (cfg.per_day, day_ends, "feedback.too_many_today"),
    ):
        # The window is in the digest, so one window's count cannot be told to be the same
        # person's as another's.
        window = f"{ctx.actor.id}:{key}:{ends.isoformat()}"
        count = f"feedback:{ctx.sealer.digest(window)}"
        if peek:
            lifts = limits.full(ctx.session, count, most, ctx.now)
        else:
            lifts = limits.take(ctx.session, count, most, ends, ctx.now)
        if lifts is not None:
            time_shown = f"{lifts.astimezone(zone):%H:%M}"
            return ctx.say(key, most=most, time=time_shown)
    return None


def next_release(ctx: Context) -> datetime | None:
    """When a comment written now reaches the coordinators: the first weekly digest after
    this week ends (local time), or None when the digest is off."""
    setting = ctx.app.coordinators.digest
    if setting == "off":
        return None
    zone = when.zone(ctx.app)
    day, at = setting.split()
    this_week = stats.week_of(ctx.now.astimezone(zone).date())
    next_week = datetime.combine(this_week + timedelta(days=7), time(0), tzinfo=zone)
    due = when.next_after(when.trigger(zone, f"every {day}", at), next_week - timedelta(seconds=1))
    return due.astimezone(zone) if due else None
