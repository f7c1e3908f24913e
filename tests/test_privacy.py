"""The words of a support request are never stored or logged, and alerts name nobody."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlmodel import SQLModel

MARKER = "zebra-quartz-7731"
WORDS = f"my manager {MARKER} keeps shouting and I want to end my life"


def _everything_stored(bot) -> str:
    """Every row of every table as text, plus the raw SQLite file when there is one."""
    dump = []
    with bot.db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                dump.append(repr(tuple(row)))
    if bot.db.is_sqlite:
        path = bot.db.engine.url.database
        for suffix in ("", "-wal"):
            try:
                with open(f"{path}{suffix}", "rb") as f:
                    dump.append(f.read().decode("latin-1"))
            except FileNotFoundError:
                pass
    return "\n".join(dump)


def test_request_words_are_not_in_the_database_or_the_logs(sh, bot, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # even with SQL echo on
    try:
        out = sh(
            f"/findally {WORDS}",
            "/press 1",
            "/press Any ally",
            "/as ali",
            "/press Accept",
            "/as eve",
            f"{WORDS} as a DM",
            f"/nosuch {WORDS}",
        )
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert "get help now" in out  # the words were read for crisis language
    assert MARKER not in out  # and not echoed anywhere
    assert MARKER not in _everything_stored(bot)
    assert MARKER not in caplog.text
    assert "zebra" not in caplog.text


def test_logs_name_people_only_by_internal_id(sh, caplog):
    caplog.set_level(logging.INFO)
    sh("/findally", "/press 1", "/press Any ally", "/as ali", "/press Accept")
    assert "request 1 opened" in caplog.text
    # No line ties anyone to the request, even by internal id: logs outlive the request.
    assert "person" not in caplog.text
    for name in ("eve", "Eve", "ali", "Ali", "Engineering"):
        assert name not in caplog.text


def test_coordinator_alert_holds_no_identity(sh):
    for ally in ("ali", "bo", "cam", "eli"):
        sh(f"/as {ally}", "/allystatus away")
    out = sh("/as hana", "/findally", "/press 1", "/press Stay anonymous", "/press money worries")
    alert = [
        line
        for line in out.splitlines()
        if line.startswith(("[bot -> #coordinators]", "[bot -> casey"))
    ]
    assert alert
    for secret in ("hana", "Hana", "Operations", "money", "anonymous", "US"):
        assert not any(secret in line for line in alert)


def test_the_audit_log_never_ties_a_person_to_asking_for_help(sh, bot):
    sh(
        "/findally",
        "/press 1",
        "/press Stay anonymous",
        "/press Any ally",
        "/as ali",
        "/press Accept",
        "/as eve",
        "/press Introduce us",
        "/resources",
        "hello",
    )
    with bot.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, person_id FROM auditlog")).all()
    support = [r for r in rows if r.name.startswith(("findally", "request:", "resources"))]
    assert support and all(r.person_id is None for r in support)
    assert any(r.name == "offer:accept" and r.person_id is not None for r in rows)
