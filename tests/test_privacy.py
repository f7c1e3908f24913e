"""The words of a support request are never stored or logged, and alerts name nobody."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import SQLModel, col, select

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


def test_a_person_sees_what_is_held_gets_a_copy_and_can_erase_it(sh, bot):
    """/allyprivacy: the summary, a copy to them alone, and erasure after a confirmation. Eve
    has a request waiting; Ali holds its offer. Ali erasing himself hands the offer on; Eve
    erasing herself closes her request; what is left names nobody, and the counts stay."""
    from handlers.stats import gather
    from storage.models import AllyProfile, Application, Offer, Person, PersonAddress

    sh("/findally", "/press Talk to an ally", "/press Any ally")  # eve asks; ali is offered it
    out = sh("/as ali", "/allyprivacy")
    assert "whether you are an ally (yes)" in out and "[1] Send me my data" in out
    out = sh("/press Send me my data")
    assert "[bot -> ali, DM] Your profile: name Ali" in out
    assert not re.search(r"\b[Ee]ve\b", out)  # nobody else's data
    assert "Nothing was deleted." in sh("/allyprivacy delete", "/press Keep my data")
    out = sh("/allyprivacy delete", "/press Yes, delete everything")
    assert "allybot no longer holds anything about you" in out
    assert "A colleague would like to talk." in out  # the offer went to the next ally
    out = sh("/as eve", "/allyprivacy delete", "/press Yes, delete everything")
    assert "no longer holds anything about you" in out
    with bot.db.session() as session:
        for name in ("ali", "eve"):
            assert not session.exec(select(Person).where(Person.platform_user_id == name)).all()
        blank = session.exec(select(Person).where(Person.display_name == "")).all()
        assert len(blank) == 2 and all(p.email is None and p.department is None for p in blank)
        ids = [p.id for p in blank]
        assert session.get(AllyProfile, ids[0]) is None and session.get(AllyProfile, ids[1]) is None
        assert not session.exec(
            select(Application).where(col(Application.person_id).in_(ids))
        ).all()
        assert not session.exec(
            select(PersonAddress).where(col(PersonAddress.person_id).in_(ids))
        ).all()
        assert not session.exec(
            select(Offer).where(col(Offer.ally_id).in_(ids), Offer.status == "pending")
        ).all()
        router = bot.router
        numbers = gather(
            router.context(session, router.now()), router.now() - timedelta(days=1), router.now()
        )
    assert numbers.requests == 1  # the anonymous count stays
