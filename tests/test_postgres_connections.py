"""PostgreSQL ends the bot's connections (a restart, a failover, an idle timeout) or one of its
transactions (to break a deadlock): the next event is answered on a new connection, the ended
one runs again, and no event pays a round trip to make sure its connection is alive."""

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


def test_an_event_postgresql_ends_to_break_a_deadlock_runs_again(
    tmp_path: Path, postgres_url: str | None
):
    """PostgreSQL ends one of two deadlocked transactions (SQLSTATE 40P01); nothing of it was
    kept, so the bot runs the event again and the ally sees their accept go through, not an
    apology. Here the server raises that error itself, once, from a trigger on the first
    change to an ally's slots."""
    out, ended = _accept_with_deadlocks(tmp_path, postgres_url, times=1)
    assert ended == 1  # the first run was ended, the second went through
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out
    assert "went wrong" not in out


def test_an_event_ended_by_deadlocks_every_time_gets_the_apology_not_busy(
    tmp_path: Path, postgres_url: str | None
):
    """Three runs, each ended: the ally gets the plain apology with its urgent-help button
    (not "busy, try again": PostgreSQL's deadlock report says "blocked", not "locked")."""
    out, ended = _accept_with_deadlocks(tmp_path, postgres_url, times=99)
    assert ended == 3
    assert "[bot -> ali, only you] Sorry, something went wrong on our side" in out
    assert "I need urgent help" in out
    assert "group DM" not in out


def _accept_with_deadlocks(tmp_path: Path, postgres_url: str | None, times: int) -> tuple:
    """Ali accepts Eve's request while PostgreSQL reports a deadlock on the first `times`
    changes to an ally's row; what the shell printed, and how many were ended."""
    db = fresh_database("postgresql", tmp_path, postgres_url)
    sh = ShellDriver(make_bot(db))
    sh("/findally", "/press Talk to an ally")
    assert "[bot -> ali, DM] A colleague would like to talk." in sh("/press stress")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(_DEADLOCKS.replace("TIMES", str(times)))
    try:
        out = sh("/as ali", "/press Accept")
        with db.engine.connect() as conn:
            tried = conn.exec_driver_sql("SELECT last_value FROM allybot_test_deadlock").scalar()
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TRIGGER allybot_test_deadlock ON allyprofile;"
                " DROP FUNCTION allybot_test_deadlock(); DROP SEQUENCE allybot_test_deadlock"
            )
        db.dispose()
    return out, min(tried, times)


# A sequence counts across rollbacks: the first TIMES changes to an ally's row are refused,
# with the words PostgreSQL uses when it breaks a deadlock.
_DEADLOCKS = """
CREATE SEQUENCE allybot_test_deadlock;
CREATE FUNCTION allybot_test_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('allybot_test_deadlock') <= TIMES THEN
        RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected',
            DETAIL = 'Process 1 waits for ShareLock on transaction 2; blocked by process 3.';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER allybot_test_deadlock BEFORE UPDATE ON allyprofile
    FOR EACH ROW EXECUTE FUNCTION allybot_test_deadlock();
"""


def test_an_accept_overtaken_between_its_check_and_its_match_runs_again(
    tmp_path: Path, postgres_url: str | None
):
    """The accept checks that the request is still being offered, then matches it. On
    PostgreSQL another transaction may commit in between (here: the request is cancelled the
    moment the check has run); the match then loses, the event runs again, and the ally is
    told the request moved on, with their offer withdrawn and its slot freed."""
    db = fresh_database("postgresql", tmp_path, postgres_url)
    sh = ShellDriver(make_bot(db))
    sh("/findally", "/press Talk to an ally")
    assert "[bot -> ali, DM] A colleague would like to talk." in sh("/press stress")
    overtaken: list[str] = []

    def cancel_after_the_check(_conn, _cursor, statement: str, *_args: object) -> None:
        the_check = statement.startswith("UPDATE offer SET status") and "EXISTS" in statement
        if the_check and not overtaken:
            overtaken.append(statement)
            with psycopg.connect(_plain(db), autocommit=True) as other:
                other.execute(
                    "UPDATE supportrequest SET status = 'cancelled', open_key = NULL"
                    " WHERE status = 'offering'"
                )

    event.listen(db.engine, "after_cursor_execute", cancel_after_the_check)
    out = sh("/as ali", "/press Accept")
    event.remove(db.engine, "after_cursor_execute", cancel_after_the_check)
    assert overtaken
    assert "[bot -> ali, only you] This request has already moved on" in out
    assert "group DM" not in out and "went wrong" not in out
    assert "[bot -> ali, DM, edited] Closed. This request no longer needs you." in out
    with db.engine.connect() as conn:
        offer = conn.exec_driver_sql("SELECT status FROM offer").scalar()
        pending, open_count = conn.exec_driver_sql(
            "SELECT pending, open_count FROM allyprofile JOIN person ON person.id = person_id"
            " WHERE platform_user_id = 'ali'"
        ).one()
    db.dispose()
    assert (offer, pending, open_count) == ("withdrawn", 0, 0)
