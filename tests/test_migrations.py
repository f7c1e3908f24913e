"""The Alembic migrations build exactly the tables the models describe, and 0004 goes down and
up again cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from storage.db import Database


def differences(db: Database) -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def test_the_migrated_schema_matches_the_models(db):
    assert differences(db) == []


def test_the_latest_migration_goes_down_and_up_again(db):
    config = db.alembic_config()
    command.downgrade(config, "0003")
    assert differences(db) != []  # the 0004 tables and columns are gone
    command.upgrade(config, "head")
    assert differences(db) == []
