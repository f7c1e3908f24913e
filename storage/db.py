"""Engine and sessions: SQLite by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import select
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, inspect, literal_column, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from storage.changes import LostRace

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# How long a call waits for the database before it gives up with DatabaseBusy (SQLite: another
# process or a long transaction holds the write lock). SQLite calls run on the event loop, so
# this bounds how long anything (an ack, /healthz) can be held up, and leaves time within
# Slack's 3 s to answer "try again".
BUSY_SECONDS = 2.0


_PROBE_IN = text(
    "INSERT INTO processedevent (event_id, received_at) VALUES (:id, CURRENT_TIMESTAMP)"
)
_PROBE_OUT = text("DELETE FROM processedevent WHERE event_id = :id")


class DatabaseBusy(Exception):
    """The database stayed locked longer than BUSY_SECONDS: nothing was done; try again."""


class _Turns:
    """This process's sessions take turns on SQLite, each waiting as long as `wait()` says."""

    def __init__(self, lock: threading.RLock, wait: Callable[[], float]):
        self._lock, self._wait = lock, wait

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=self._wait()):
            raise DatabaseBusy("another session of this process holds the database")

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def is_busy(exc: BaseException) -> bool:
    """A lock that did not come free in time (ours, or SQLite's "database is locked"). Only
    SQLite's own errors are read for the word: PostgreSQL's deadlock report says "blocked"."""
    if isinstance(exc, DatabaseBusy):
        return True
    return (
        isinstance(exc, OperationalError)
        and isinstance(exc.orig, sqlite3.OperationalError)
        and "locked" in str(exc.orig).lower()
    )


# PostgreSQL's "run the transaction again" errors: it ended this one to break a deadlock
# (40P01), or could not serialise it (40001). Nothing of it was kept.
_TRY_AGAIN = frozenset({"40P01", "40001"})


def is_conflict(exc: BaseException) -> bool:
    """Another transaction got in the way of this one (the database ended it, or one of its
    changes lost the race: LostRace); nothing of it is kept, and running it again is safe."""
    if isinstance(exc, LostRace):
        return True
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _TRY_AGAIN


def insert_new(session: Session, table: type[SQLModel], **values: object) -> bool:
    """Insert a row unless it would repeat a unique key: True if it was added.

    One statement (INSERT .. ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike) where a
    savepoint around an insert that may fail costs three, and nothing is rolled back."""
    dialect = session.get_bind().dialect.name
    statement = _INSERT_NEW.get((dialect, table))
    if statement is None:  # built once per table (building costs more than running it)
        make = postgresql_insert if dialect == "postgresql" else sqlite_insert
        skip = make(table).on_conflict_do_nothing()
        statement = _INSERT_NEW[dialect, table] = skip.returning(literal_column("1"))
    session.flush()
    # A row comes back only if it was added: that, not the driver's rowcount (which misled on
    # PostgreSQL here), says whether it was.
    return session.connection().execute(statement, values).first() is not None


_INSERT_NEW: dict[tuple[str, type[SQLModel]], Any] = {}


def normalise_url(url: str) -> str:
    """Accept the usual URL forms and pick the driver: psycopg 3 for PostgreSQL."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_setup(engine: Engine, wait: Callable[[], float]) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers queue instead of
    failing with "database is locked" when two threads upgrade read locks at once. Each
    transaction waits for the write lock as long as `wait()` says."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # The timeout is set only when it changes (it is kept per connection), not per
        # transaction: one statement fewer on every event.
        busy_ms = int(wait() * 1000)
        if conn.info.get("busy_ms") != busy_ms:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
            conn.info["busy_ms"] = busy_ms
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# PostgreSQL connections ask the kernel to probe an idle peer (TCP keepalives) after this many
# seconds, then every 10 seconds, 3 times, and to give up on data the server has not
# acknowledged after 30 seconds (instead of retrying for about 15 minutes): a server that
# vanished without closing them (a dead host) is found while they idle in the pool, and the
# check at checkout sees it. A URL's own settings of these win.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def _postgres_setup(engine: Engine) -> None:
    """Each connection taken from the pool is checked without a round trip to the server.

    SQLAlchemy's pre-ping sends a query at every checkout: one more round trip on every event,
    about as long as one of the event's own statements. Instead the pool looks, without
    waiting, whether anything arrived on the connection while it sat idle. Nothing here
    LISTENs on a pooled connection, so nothing should have: anything there is the server
    ending it (a restart, a failover, `pg_terminate_backend`: its goodbye, then the end of the
    stream) or the kernel reporting a dead peer (see _KEEPALIVES). The pool then replaces it
    with a new connection (DisconnectionError); a false alarm costs only that.

    What pre-ping caught and this does not: a server whose host vanished without a word, in
    the half minute before the keepalives notice. The first event to use such a connection
    fails (the asker gets the apology, with the urgent-help button), and SQLAlchemy then
    replaces every connection of the pool at once, so the rest go to the new server."""
    from psycopg import OperationalError as ConnectionLost
    from psycopg.pq import ConnStatus

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn: Any, _record: object, _proxy: object) -> None:
        pgconn = dbapi_conn.pgconn
        try:
            fd = pgconn.socket
        except ConnectionLost as exc:  # psycopg already knows it is closed
            raise DisconnectionError("the connection is closed") from exc
        # poll, not select: select cannot watch a descriptor numbered 1024 or more.
        waiting = select.poll()
        waiting.register(fd, select.POLLIN)
        if waiting.poll(0) or dbapi_conn.broken or pgconn.status != ConnStatus.OK:
            raise DisconnectionError("the server ended this connection while it was idle")


class Database:
    def __init__(self, url: str):
        # Until this moment (monotonic) the database was just found locked: calls try at once
        # instead of waiting again, so one stuck lock costs one wait, not one per call.
        self._locked_until = 0.0
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS},
                hide_parameters=True,
            )
            _sqlite_setup(self.engine, self._wait)
            self._turn: AbstractContextManager[object] = _Turns(threading.RLock(), self._wait)
        else:
            # The check at checkout reads psycopg 3's connection; another driver named in
            # the URL keeps SQLAlchemy's pre-ping (a round trip per event).
            checked = parsed.get_driver_name() == "psycopg"
            own = set(parsed.query)
            self.engine = create_engine(
                self.url,
                connect_args={k: v for k, v in _KEEPALIVES.items() if k not in own},
                pool_pre_ping=not checked,
                pool_size=10,
                hide_parameters=True,
            )
            if checked:
                _postgres_setup(self.engine)
            self._turn = nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error.

        On SQLite, sessions in this process take turns on a lock: SQLite allows one writer at a
        time anyway, and waiting on a lock is prompt where SQLite's own busy handler sleeps.
        """
        try:
            with self._turn, Session(self.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except Exception as exc:
            if self.is_sqlite and is_busy(exc):
                self._locked_until = time.monotonic() + BUSY_SECONDS
            raise

    def _wait(self) -> float:
        """How long the next call may wait for the lock (see BUSY_SECONDS)."""
        return 0.0 if time.monotonic() < self._locked_until else BUSY_SECONDS

    def ping(self) -> None:
        """A write, undone in the same transaction and committed (for /readyz): raises
        if the database cannot take writes now (locked, full, read-only, down). A read alone
        would pass while every event failed."""
        probe = f"readyz:{uuid.uuid4().hex}"
        if self.is_sqlite:
            # As large as an event's writes: on SQLite a small row can still fit in a page
            # already there when the file may grow no more (a full disk, max_page_count).
            probe += "x" * 16_000
        with self.session() as session:
            session.exec(_PROBE_IN, params={"id": probe})  # type: ignore[call-overload]
            session.exec(_PROBE_OUT, params={"id": probe})  # type: ignore[call-overload]

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        command.upgrade(self.alembic_config(), "head")

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def dispose(self) -> None:
        self.engine.dispose()
