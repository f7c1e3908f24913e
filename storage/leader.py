"""Which replica runs the calendar: the one holding a PostgreSQL advisory lock.

The lock lives as long as the connection that took it, so a replica that dies hands it on by
itself. On SQLite there is one process per file, which is always the leader. The leader runs
the calendar and sends the scheduled posts (so one process keeps each channel's pace); every
post is also guarded by its unique Delivery row, so two leaders at once still post it once.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, text

from storage.db import Database

log = logging.getLogger(__name__)

LOCK_KEY = 7310043  # any fixed number; 7310042 serialises migrations


class Leadership:
    def __init__(self, db: Database):
        self.db = db
        self._conn: Connection | None = None

    def hold(self) -> bool:
        """Keep or take the lock; True while this process is the leader."""
        if self.db.is_sqlite:
            return True
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except Exception as exc:  # the connection (and with it the lock) is gone
                log.warning("lost the scheduler lock: %s", type(exc).__name__)
                self.release()
        try:
            conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            log.warning("cannot reach the database for the scheduler lock: %s", type(exc).__name__)
            return False
        taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar()
        if taken:
            self._conn = conn
            log.info("this process now runs the calendar")
            return True
        conn.close()
        return False

    def release(self) -> None:
        """Give the lock up at once, then close the connection for real rather than return it
        to the pool (where a lock still held would go on being held)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            except Exception as exc:  # closing the connection below frees it anyway
                log.warning("unlocking the scheduler lock: %s", type(exc).__name__)
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception as exc:
                log.warning("closing the scheduler lock's connection: %s", type(exc).__name__)
            self._conn = None
