"""Anonymous feedback to the network: `/allyfeedback <comment>`, or a DM that starts with the
feedback keyword (content/messages.yaml, feedback.keywords).

A comment is stored sealed with only the week it was written: no person, no time. The router
audits /allyfeedback without the person (see its registration) and nothing here logs who
wrote. The weekly digest (handlers/stats.py) releases the comments of the weeks before its own,
all at once, so neither a name nor the moment a comment appears can point to its writer.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from handlers import findally, stats, when
from handlers.context import Context, buttons
from storage.models import Feedback

MAX_CHARS = 1500


def command(ctx: Context, text: str) -> None:
    """/allyfeedback <comment>"""
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
    # The comment rides on the button (at most MAX_CHARS, within Slack's 2,000): nothing is
    # stored before the writer says it is feedback, and a tampered value is only their own text.
    # A fresh token lets a replayed press keep a single copy.
    value = f"{secrets.token_hex(8)}:{comment}"
    ctx.reply(
        ctx.section("feedback.confirm", comment=comment),
        buttons(
            ctx.button("feedback.button_send", "feedback:send", value, "primary"),
            ctx.button("feedback.button_not_feedback", "feedback:not_feedback"),
        ),
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
    try:
        with ctx.session.begin_nested():
            ctx.session.add(Feedback(text=sealed, week_of=stats.week_of(today), token=token))
    except IntegrityError:  # the same button pressed again: the first press kept it
        ctx.reply(ctx.say("feedback.already_sent"))
        return
    ctx.reply(ctx.say("feedback.thanks", date=f"{shared:%A %d %B}"))


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
