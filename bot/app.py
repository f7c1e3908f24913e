"""Builds the bot from settings: content, database, router and clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import ArgumentError

from bot.clock import Clock
from bot.config import Settings
from bot.router import Router
from handlers import demo
from handlers.content import Content, load_content
from handlers.yamlfile import Problem, ProblemsFound
from storage.crypto import BadKey, Sealer, local_key
from storage.db import Database

NEW_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


@dataclass
class AllyBot:
    settings: Settings
    content: Content
    db: Database
    clock: Clock
    router: Router

    def seed_demo(self) -> int:
        with self.db.session() as session:
            return demo.seed(session, self.content, self.settings.app, self.clock.now())


def build(
    settings: Settings,
    clock: Clock | None = None,
    content: Content | None = None,
    migrate: bool = True,
) -> AllyBot:
    """Everything the platforms need, with the database schema brought up to date."""
    content = content or load_content()
    clock = clock or Clock()
    try:
        db = Database(settings.database_url)
    except (ArgumentError, ValueError) as exc:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    f"DATABASE_URL is not a database URL ({type(exc).__name__})",
                    "use sqlite:///path/to.db or postgresql://user@host/db",
                )
            ]
        ) from None
    if migrate:
        db.upgrade()
    router = Router(db, settings.app, content, clock.now, sealer(settings))
    return AllyBot(settings, content, db, clock, router)


def sealer(settings: Settings) -> Sealer:
    """Encryption for answers at rest: ALLYBOT_SECRET_KEY, else this machine's own key file."""
    try:
        return Sealer(settings.secret_key or local_key(settings.data_dir))
    except BadKey:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    "ALLYBOT_SECRET_KEY is not a Fernet key (or a comma-separated list of them)",
                    f"make one with: {NEW_KEY}",
                )
            ]
        ) from None
