"""Alembic environment: runs on the engine handed over by storage.db.Database."""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together take turns; the others then find nothing to do.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7310042)")
        context.run_migrations()
    connection.commit()
