"""PostgreSQL ends the bot's connections (a restart, a failover, an idle timeout): the next
event is answered on a new connection, and no event pays a round trip to find out."""

from __future__ import annotations

import select
from pathlib import Path

import psycopg
from sqlalchemy import event

from storage.db import Database
from tests.conftest import ShellDriver, fresh_database, make_bot


def test_the_next_event_is_answered_after_the_server_ends_every_connection(
    tmp_path: Path, postgres_url: str | None
):
    db = fresh_database("postgresql", tmp_path, postgres_url)
    sh = ShellDriver(make_bot(db))
    assert "Talk to an ally" in sh("/findally")
    with db.engine.connect() as conn:  # the pool's one connection, used by the event above
        raw = conn.connection.dbapi_connection
        assert raw is not None
        old_pid, old_socket = raw.info.backend_pid, raw.pgconn.socket
    assert db.engine.pool.checkedin() == 1

    with psycopg.connect(_plain(db)) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
    # The server says goodbye on the socket as it ends the connection: wait for that (the
    # connection is idle in the pool, so nothing else arrives on it).
    assert select.select([old_socket], [], [], 10)[0], "the server did not end the connection"

    out = sh("/findally")
    assert "Talk to an ally" in out, out
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None and raw.info.backend_pid != old_pid
    db.dispose()


def _plain(db: Database) -> str:
    """The database's URL as libpq takes it (without SQLAlchemy's driver name)."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_healthy_connection_is_used_again_event_after_event(
    tmp_path: Path, postgres_url: str | None
):
    """The check finds nothing on a connection the server keeps: no event opens a new one."""
    db = fresh_database("postgresql", tmp_path, postgres_url)
    sh = ShellDriver(make_bot(db))
    sh("/findally")
    opened: list[object] = []
    event.listen(db.engine, "connect", lambda *args: opened.append(args))
    for _ in range(20):
        assert "Talk to an ally" in sh("/findally")
    assert opened == []
    db.dispose()
