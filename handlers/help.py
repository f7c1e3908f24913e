"""Plain messages to the bot and commands it does not know: help."""

from __future__ import annotations

from collections.abc import Callable

from handlers import apply, care, feedback, findally, privacy, relay, safety
from handlers.content import normalise_words
from handlers.context import Context, buttons
from handlers.intents import Intent, classify


def dm_text(ctx: Context, text: str) -> None:
    """A DM: for the other side of an open relay, if the person is in one (handlers/relay.py:
    while a relay is open, every plain DM goes to it, ahead of everything below; commands and
    buttons work as usual, and a questionnaire in progress waits); else an answer to the ally
    application if one is in progress (or a way into it); a request to talk to a coordinator;
    otherwise what the message asks for (handlers/intents.py), or help. Any other text is read
    by the router for crisis language and then dropped: never stored, never logged."""
    if ctx.place is not None and ctx.place.kind != "dm":
        # Said in a shared conversation (a Teams channel @mention): never an answer to the
        # questionnaire or a comment to keep; the help goes to their private chat.
        ctx.reply(*_help(ctx))
        return
    if relay.handle_text(ctx, text):
        return
    if apply.handle_text(ctx, text):
        return
    if asks_for_coordinator(ctx, text):
        if care.current_ally(ctx) is not None:
            care.talk_to_coordinator(ctx)
        else:  # most often worried about someone: how to help, and a way to a coordinator
            worried(ctx)
        return
    if feedback.from_dm(ctx, text):  # "feedback ...": an anonymous comment (handlers/feedback)
        return
    intent = classify(text)
    # Words that may be about danger get the ways to support, not a canned reply ("you are
    # welcome", "how to stop messages"); emergency-first words get nothing but them.
    if ctx.danger >= 2 or (ctx.danger and intent not in _FIT_BESIDE_THE_QUIET_LINE):
        _full_help(ctx)
        return
    _ANSWERS.get(intent, _full_help)(ctx)


def _full_help(ctx: Context) -> None:
    ctx.reply(*_help(ctx))


def _what_is_ally(ctx: Context) -> None:
    ctx.reply(
        ctx.section("help.what_is_ally"),
        buttons(
            ctx.button("findally.button_talk", "findally:talk", style="primary"),
            ctx.button("apply.button_role", "apply:role"),
        ),
    )


def _talk(ctx: Context) -> None:
    ctx.reply(ctx.section("help.talk"), *findally.choices(ctx))


def _eap(ctx: Context) -> None:
    workplace = ctx.content.resources.workplace
    if workplace:
        lines = [ctx.section("safety.line", name=r.name, contact=r.contact) for r in workplace]
        ctx.reply(ctx.section("help.eap"), *lines, *findally.choices(ctx))
    else:
        ctx.reply(ctx.section("help.eap_none"), *findally.choices(ctx))


def _mental_health_day(ctx: Context) -> None:
    ctx.reply(ctx.section("help.mental_health_day"), *findally.choices(ctx))


def worried(ctx: Context) -> None:
    """Worried about a colleague: how to help, the lines, and a way to an ally or a
    coordinator (one who is not an ally can ask too, sharing their own name only)."""
    me = ctx.actor
    region = me.region if me is not None else None
    ctx.reply(
        ctx.section("help.worried"),
        ctx.section("help.worried_steps"),
        *safety.supporter_lines(ctx, region),
        buttons(
            ctx.button("findally.button_talk", "findally:talk", style="primary"),
            ctx.button("help.button_worried_coordinator", "care:worried"),
            ctx.button("findally.button_urgent", "findally:urgent", style="danger"),
        ),
    )


def _become_ally(ctx: Context) -> None:
    if ctx.danger:  # never an invitation beside crisis help
        _full_help(ctx)
        return
    ctx.reply(
        ctx.section("help.become_ally"),
        buttons(
            ctx.button("apply.button_apply", "apply:start"),
            ctx.button("apply.button_role", "apply:role"),
        ),
    )


def _role(ctx: Context) -> None:
    apply.send_role(ctx)


def _resources(ctx: Context) -> None:
    findally.show_resources(ctx)


def _privacy(ctx: Context) -> None:
    privacy.command(ctx, "")


def _stop(ctx: Context) -> None:
    ctx.reply(ctx.section("help.stop"))


def _thanks(ctx: Context) -> None:
    ctx.reply(ctx.section("help.thanks"))


# Answers that still fit when the quiet line follows them: each is a way to support.
_FIT_BESIDE_THE_QUIET_LINE = frozenset(
    {
        Intent.HELP,
        Intent.WHAT_IS_ALLY,
        Intent.TALK,
        Intent.EAP,
        Intent.MENTAL_HEALTH_DAY,
        Intent.WORRIED,
        Intent.RESOURCES,
    }
)
_ANSWERS: dict[Intent, Callable[[Context], None]] = {
    Intent.GREETING: _full_help,  # the introduction is the answer to a hello
    Intent.HELP: _full_help,
    Intent.WHAT_IS_ALLY: _what_is_ally,
    Intent.TALK: _talk,
    Intent.EAP: _eap,
    Intent.MENTAL_HEALTH_DAY: _mental_health_day,
    Intent.WORRIED: worried,
    Intent.BECOME_ALLY: _become_ally,
    Intent.ROLE: _role,
    Intent.RESOURCES: _resources,
    Intent.PRIVACY: _privacy,
    Intent.STOP: _stop,
    Intent.THANKS: _thanks,
    Intent.OTHER: _full_help,
}


# A phrase of this many words or more also counts inside a short message ("talk to a
# coordinator please"); a shorter one ("coordinator") only as the whole message, so that
# "is the coordinator meeting on friday?" does not alert anyone.
_PHRASE_WORDS = 3
_SHORT_MESSAGE_WORDS = 15


def asks_for_coordinator(ctx: Context, text: str) -> bool:
    """True if the message is one of the phrases in `escalation.keywords` (one a line, compared
    ignoring case and punctuation, as the questionnaire's keywords are), or is short and holds
    one of the longer phrases."""
    said = normalise_words(text)
    if not said:
        return False
    phrases = {normalise_words(p) for p in ctx.content.plain("escalation.keywords").splitlines()}
    if said in phrases:
        return True
    if len(said.split()) > _SHORT_MESSAGE_WORDS:
        return False
    return any(f" {p} " in f" {said} " for p in phrases if len(p.split()) >= _PHRASE_WORDS)


def unknown_command(ctx: Context, name: str) -> None:
    shown = name if len(name) <= 30 else name[:30] + "…"
    ctx.reply(ctx.section("help.unknown_command", command=shown), *_help(ctx))


def _help(ctx: Context) -> list:
    if ctx.danger:  # crisis help is beside this reply: the ways to support, and nothing else
        return [ctx.section("help.intro"), *findally.choices(ctx)]
    return [
        ctx.section("help.intro"),
        *findally.choices(ctx),
        ctx.section("help.become_ally"),
        buttons(
            ctx.button("apply.button_apply", "apply:start"),
            ctx.button("apply.button_role", "apply:role"),
        ),
    ]
