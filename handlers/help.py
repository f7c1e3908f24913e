"""Plain messages to the bot and commands it does not know: help."""

from __future__ import annotations

from handlers import apply, care, feedback, findally, relay
from handlers.content import normalise_words
from handlers.context import Context, buttons


def dm_text(ctx: Context, text: str) -> None:
    """A DM: for the other side of an open relay, if the person is in one (handlers/relay.py:
    while a relay is open, every plain DM goes to it, ahead of everything below; commands and
    buttons work as usual, and a questionnaire in progress waits); else an answer to the ally
    application if one is in progress (or a way into it); a request to talk to a coordinator;
    otherwise help. Any other text is read by the router for crisis language and then dropped:
    never stored, never logged."""
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
        else:  # worried about someone, or themselves: the ways to an ally and urgent help
            ctx.reply(ctx.section("escalation.allies_only"), *findally.choices(ctx))
        return
    if feedback.from_dm(ctx, text):  # "feedback ...": an anonymous comment (handlers/feedback)
        return
    ctx.reply(*_help(ctx))


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
    if ctx.crisis:  # crisis help leads this reply: the ways to support, and nothing else
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
