"""What an erased person may have left behind: every table searched for their words, and
every column that holds a person's id searched for their old one."""

from __future__ import annotations

import json
import re

from sqlalchemy import text
from sqlmodel import SQLModel

from handlers.privacy import PERSON_TIMERS
from storage.db import Database

# The columns that hold a person's id (a number that means nothing elsewhere in them).
PERSON_COLUMNS = {
    "person": ("id",),
    "personaddress": ("person_id",),
    "allyprofile": ("person_id",),
    "allytopic": ("person_id",),
    "allylanguage": ("person_id",),
    "conversation": ("person_id",),
    "application": ("person_id", "decided_by", "open_key"),
    "supportrequest": ("requester_id", "ally_id", "open_key"),
    "offer": ("ally_id",),
    "relay": ("requester_id", "ally_id"),
    "auditlog": ("person_id",),
}


def traces(db: Database, words: list[str], person_id: int) -> list[str]:
    """Every row that still holds one of `words` (whole words, any case) or names
    `person_id` where a person is named; empty if the erasure left nothing."""
    found = []
    pattern = re.compile("|".join(_word(w).pattern for w in words), re.I)
    with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for mapping in conn.execute(text(f"SELECT * FROM {table.name}")).mappings():
                row = dict(mapping)
                if pattern.search(repr(row)):
                    found.append(f"{table.name}: {row}")
                if any(row[c] == person_id for c in PERSON_COLUMNS.get(table.name, ())):
                    found.append(f"{table.name} names person {person_id}: {row}")
                if table.name == "outboxmessage" and _names(row, person_id):
                    found.append(f"outbox row for person {person_id}: {row}")
                timer = table.name == "timer" and row["kind"] in PERSON_TIMERS
                if timer and row["subject_id"] == person_id:
                    found.append(f"timer about person {person_id}: {row}")
                if table.name == "delivery" and row["target"] == f"dm:{person_id}":
                    found.append(f"delivery to person {person_id}: {row}")
    return found


def _names(row: dict, person_id: int) -> bool:
    recipient = json.loads(row["recipient"])
    ids = [*recipient.get("group", []), recipient.get("only"), recipient.get("dm")]
    ids.append(recipient.get("replace"))
    return f",{person_id}," in (row["people"] or "") or person_id in ids


def logged(log_text: str, words: list[str], person_id: int) -> list[str]:
    """Log lines that hold one of `words`, or that name the person by their old id."""
    lines = []
    by_id = re.compile(rf"\bperson[ _:=]*{person_id}\b", re.I)
    for line in log_text.splitlines():
        if by_id.search(line) or any(_word(w).search(line) for w in words):
            lines.append(line)
    return lines


def _word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.I)
