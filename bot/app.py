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
from storage import keys
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
    check_key: bool = True,
) -> AllyBot:
    """Everything the platforms need, with the database schema brought up to date and, unless
    the caller reads nothing sealed (`check_key=False`), the key checked against it."""
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
    seal = sealer(settings)
    if migrate and check_key and not key_fits(db, seal):
        raise ProblemsFound([WRONG_KEY])
    router = Router(db, settings.app, content, clock.now, seal)
    return AllyBot(settings, content, db, clock, router)


WRONG_KEY = Problem(
    "environment",
    None,
    "ALLYBOT_SECRET_KEY cannot open what this database holds (answers and comments are sealed "
    "with another key); nothing was read or changed",
    "set the key this database was used with; to move to a new key, set "
    "ALLYBOT_SECRET_KEY=new,old and run `allybot rotate-key`",
)


def key_fits(db: Database, seal: Sealer) -> bool:
    with db.session() as session:
        return keys.fits(session, seal)


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
