"""Plain messages to the bot and commands it does not know: help."""

from __future__ import annotations

from handlers import apply, findally
from handlers.context import Context, buttons


def dm_text(ctx: Context, text: str) -> None:
    """A DM: an answer to the ally application if one is in progress (or a way into it);
    otherwise help. Any other text is read by the router for crisis language and then
    dropped: never stored, never logged."""
    if apply.handle_text(ctx, text):
        return
    ctx.reply(*_help(ctx))


def unknown_command(ctx: Context, name: str) -> None:
    shown = name if len(name) <= 30 else name[:30] + "…"
    ctx.reply(ctx.section("help.unknown_command", command=shown), *_help(ctx))


def _help(ctx: Context) -> list:
    return [
        ctx.section("help.intro"),
        *findally.choices(ctx),
        ctx.section("help.become_ally"),
        buttons(
            ctx.button("apply.button_apply", "apply:start"),
            ctx.button("apply.button_role", "apply:role"),
        ),
    ]
