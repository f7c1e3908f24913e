"""Plain messages to the bot and commands it does not know: help."""

from __future__ import annotations

from handlers import findally
from handlers.context import Context


def dm_text(ctx: Context, text: str) -> None:
    del text  # read by the router for crisis language; never stored, never logged
    ctx.reply(*_help(ctx))


def unknown_command(ctx: Context, name: str) -> None:
    shown = name if len(name) <= 30 else name[:30] + "…"
    ctx.reply(ctx.section("help.unknown_command", command=shown), *_help(ctx))


def _help(ctx: Context) -> list:
    return [
        ctx.section("help.intro"),
        *findally.choices(ctx),
    ]
