"""Fixtures: real SQLite and real PostgreSQL databases, the bot, and a scripted shell."""

from __future__ import annotations

import io
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlmodel import SQLModel, select

from bot.app import AllyBot, build
from bot.clock import Clock
from bot.config import REPO_ROOT, Settings, load_settings
from bot.platforms.shell.console import Shell
from handlers.content import Content, load_content
from storage.db import Database
from storage.models import AllyProfile, Person
from tests.postgres_server import TempPostgres

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning
BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """A PostgreSQL database URL: ALLYBOT_TEST_POSTGRES_URL's server (a database per xdist
    worker), else a throwaway server while the block runs, else None (no server programs).
    Benchmarks use it too."""
    url = os.environ.get("ALLYBOT_TEST_POSTGRES_URL")
    if url:
        yield _own_database(url)
        return
    server = TempPostgres()
    if not server.available:
        yield None
        return
    try:
        yield server.start()
    finally:
        server.stop()


# Tests that take ten seconds or more (real processes, long random sequences, a year of
# schedules), started first and longest first: parallel workers then end together on short
# tests, instead of one waiting for another to finish a long one it picked up last.
LONG_FIRST = (
    "tests/test_replicas.py::",
    "tests/test_fault_kill.py::",
    "tests/test_invariants.py::",
    "tests/test_care_and_follow_ups.py::test_training_reminder_",
    "tests/test_leader.py::",
    "tests/test_awareness.py::test_tips_take_turns_",
    "tests/test_apply.py::test_a_killed_shell_",
    "tests/test_sweeper.py::test_sigterm_",
    "tests/test_candidates.py::",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        found = (n for n, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix))
        return next(found, len(LONG_FIRST))

    items.sort(key=rank)  # stable: the rest as collected


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    with postgres_server() as url:
        yield url


def _own_database(url: str) -> str:
    """With parallel workers (pytest-xdist) each gets a database of its own on the given
    server, since every test empties the tables it uses."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    server = make_url(Database(url).url)
    name = f"{server.database}_{worker}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


_migrated: set[str] = set()
_sqlite_template: list[Path] = []  # one migrated SQLite file per test session, copied per test


def _migrated_sqlite() -> Path:
    """Migrate once per session; every test then starts from a copy of the file."""
    if not _sqlite_template:
        path = Path(tempfile.mkdtemp(prefix="allybot-template-")) / "allybot.db"
        template = Database(f"sqlite:///{path}")
        template.upgrade()
        template.dispose()  # the last connection closing checkpoints the WAL into the file
        _sqlite_template.append(path)
    return _sqlite_template[0]


def pytest_sessionfinish() -> None:
    for path in _sqlite_template:  # this worker's template, made by _migrated_sqlite
        shutil.rmtree(path.parent, ignore_errors=True)


def fresh_database(backend: str, tmp_path: Path, postgres_url: str | None) -> Database:
    if backend == "sqlite":
        shutil.copyfile(_migrated_sqlite(), tmp_path / "allybot.db")
        return Database(f"sqlite:///{tmp_path / 'allybot.db'}")
    if postgres_url is None:
        if os.environ.get("ALLYBOT_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (ALLYBOT_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL server programs not installed (apt-get install postgresql)")
    db = Database(postgres_url)
    if postgres_url not in _migrated:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        db.upgrade()
        _migrated.add(postgres_url)
    tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return db


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[Database]:
    database = fresh_database(request.param, tmp_path, postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = fresh_database("sqlite", tmp_path, None)
    yield database
    database.dispose()


_content: list[Content] = []


def shared_content() -> Content:
    """content/, loaded once per session (a frozen Content: nothing a test does changes it)."""
    if not _content:
        _content.append(load_content())
    return _content[0]


def make_bot(database: Database, seed: bool = True, **config_changes: object) -> AllyBot:
    settings = load_settings({"ALLYBOT_CONFIG": str(REPO_ROOT / "app.yaml")})
    if config_changes:
        settings = Settings(
            **{**settings.__dict__, "app": settings.app.model_copy(update=config_changes)}
        )
    settings = Settings(**{**settings.__dict__, "database_url": database.url})
    bot = build(settings, clock=Clock(START), content=shared_content(), migrate=False)
    bot.db.dispose()
    bot.db = database
    bot.router.db = database
    if seed:
        seed_demo(bot)
    return bot


@dataclass(frozen=True)
class _Seeded:
    """Every row the demo seed wrote into an empty database, and where each sequence stood."""

    rows: dict[str, list[dict[str, Any]]]
    sequences: list[tuple[str, int]]  # PostgreSQL: (name, last_value) of those it used


_seeded: dict[tuple[str, str], _Seeded] = {}


def seed_demo(bot: AllyBot) -> None:
    """`bot.seed_demo()`. Into an empty database, the rows the first such seed of the session
    wrote are copied instead (a tenth of the time): the seed reads nothing but content/, the
    app settings (both part of the key) and the bot clock (START in every new bot), so it
    writes the same rows, with the same ids, every time. A database with anything in it is
    seeded for real."""
    db = bot.db
    if not _empty(db):
        bot.seed_demo()
        return
    key = (db.engine.dialect.name, bot.settings.app.model_dump_json())
    seeded = _seeded.get(key)
    if seeded is None:
        bot.seed_demo()
        _seeded[key] = _snapshot(db)
        return
    with db.engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:  # parents before the rows that name them
            if rows := seeded.rows.get(table.name):
                conn.execute(table.insert(), rows)
        for name, value in seeded.sequences:  # the others are as new, as _empty found them
            conn.execute(text("SELECT setval(:s, :v)"), {"s": name, "v": value})


def _empty(db: Database) -> bool:
    """No row in any table, and (PostgreSQL) no sequence used since the tables were emptied."""
    counts = " + ".join(f"(SELECT count(*) FROM {t.name})" for t in SQLModel.metadata.sorted_tables)
    with db.engine.connect() as conn:
        if conn.execute(text(f"SELECT {counts}")).scalar_one():
            return False
        if db.is_sqlite:
            return True
        used = "SELECT count(*) FROM pg_sequences WHERE last_value IS NOT NULL"
        return not conn.execute(text(used)).scalar_one()


def _snapshot(db: Database) -> _Seeded:
    with db.engine.connect() as conn:
        rows = {
            table.name: [dict(row) for row in conn.execute(table.select()).mappings()]
            for table in SQLModel.metadata.sorted_tables
        }
        sequences: list[tuple[str, int]] = []
        if not db.is_sqlite:
            used = "SELECT schemaname, sequencename, last_value FROM pg_sequences"
            for schema, name, value in conn.execute(text(used)):
                if value is not None:  # NULL: not used since the tables were emptied
                    sequences.append((f'"{schema}"."{name}"', value))
    return _Seeded(rows, sequences)


@pytest.fixture
def bot(db: Database) -> AllyBot:
    return make_bot(db)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ShellDriver:
    """Types lines into the real shell and returns what it printed."""

    def __init__(self, bot: AllyBot):
        self.bot = bot
        self.buffer = io.StringIO()
        self.shell = Shell(bot, out=self.buffer)
        bot.router.plan_calendar()  # the calendar counts from here, as when the shell starts

    def __call__(self, *lines: str) -> str:
        start = self.buffer.tell()
        for line in lines:
            self.shell.handle_line(line)
            self.shell.tick()
        self.buffer.seek(start)
        out = self.buffer.read()
        return out

    def ally(self, name: str) -> AllyProfile:
        with self.bot.db.session() as session:
            person = session.exec(select(Person).where(Person.platform_user_id == name)).one()
            return session.get(AllyProfile, person.id)


@pytest.fixture
def sh(bot: AllyBot) -> ShellDriver:
    return ShellDriver(bot)
