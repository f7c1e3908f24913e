"""Coordinators: who they are and how they are told things. Alerts never name a requester."""

from __future__ import annotations

from sqlmodel import select

from bot.messages import Block, Channel, Message
from handlers.context import Context
from handlers.people import find_or_create
from storage.models import Person


def is_coordinator(ctx: Context, person: Person) -> bool:
    keys = {f"{person.platform}:{person.platform_user_id}".lower()}
    if person.email:
        keys.add(person.email.lower())
    return any(entry.lower() in keys for entry in ctx.app.coordinators.people)


def coordinator_ids(ctx: Context) -> list[int]:
    """Coordinators the bot can DM: every `platform:user` entry, and those named by email
    whom the bot has met or imported."""
    ids: set[int] = set()
    for entry in ctx.app.coordinators.people:
        if ":" in entry:
            platform, user_id = entry.split(":", 1)
            ids.add(find_or_create(ctx.session, platform, user_id, None, ctx.now).id)
        else:
            query = select(Person.id).where(Person.email == entry.lower())
            ids.update(i for i in ctx.session.exec(query) if i is not None)
    return sorted(ids)


def notify(ctx: Context, *blocks: Block | Message) -> None:
    """Tell coordinators in their channel and/or by DM, as app.yaml says."""
    cfg = ctx.app.coordinators
    if cfg.channel:
        ctx.send(Channel(cfg.channel), *blocks)
    if cfg.notify_by_dm:
        for pid in coordinator_ids(ctx):
            ctx.dm(pid, *blocks)
