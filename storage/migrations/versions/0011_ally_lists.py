"""ally topics and languages as rows (matching runs in SQL), and indexes for the support path

Revision ID: 0011
Revises: 0010
"""

import json

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_LISTS = (("allytopic", "topic"), ("allylanguage", "language"))
_INDEXES = (
    ("timer", "ix_timer_subject", ["kind", "subject_id"]),
    ("supportrequest", "ix_supportrequest_ally_status", ["ally_id", "status"]),
    ("supportrequest", "ix_supportrequest_status_created", ["status", "created_at"]),
    ("offer", "ix_offer_status_ally", ["status", "ally_id"]),
)  # offer(request_id) is indexed since 0001


def upgrade() -> None:
    for table, column in _LISTS:
        op.create_table(
            table,
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
            sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
            sa.ForeignKeyConstraint(["person_id"], ["allyprofile.person_id"]),
            sa.PrimaryKeyConstraint("person_id", column),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)
    for table, name, columns in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)
    # Matching's order for "any ally" (see storage/models.py).
    op.create_index(
        "ix_allyprofile_next",
        "allyprofile",
        [
            sa.text("(last_asked_at IS NOT NULL)"),
            "last_asked_at",
            sa.text("(open_count + pending)"),
            "person_id",
        ],
    )
    _backfill()


def _backfill() -> None:
    """One row per case-folded item of every profile's lists, as storage/ally_lists.py writes
    them (copied here: a migration must not change when that module does)."""
    conn = op.get_bind()
    profiles = sa.table(
        "allyprofile", sa.column("person_id"), sa.column("topics"), sa.column("languages")
    )
    rows: dict[str, list[dict]] = {"allytopic": [], "allylanguage": []}
    for pid, topics, languages in conn.execute(
        sa.select(profiles.c.person_id, profiles.c.topics, profiles.c.languages)
    ):
        for (table, column), values in zip(_LISTS, (topics, languages), strict=True):
            if isinstance(values, str):  # SQLite hands JSON back as text
                values = json.loads(values)
            seen: dict[str, str] = {}
            for v in values or []:
                if v:
                    seen.setdefault(v.strip().casefold(), v)
            rows[table] += [{"person_id": pid, column: k, "label": v} for k, v in seen.items()]
    for table, column in _LISTS:
        if rows[table]:
            target = sa.table(table, sa.column("person_id"), sa.column(column), sa.column("label"))
            conn.execute(sa.insert(target), rows[table])


def downgrade() -> None:
    op.drop_index("ix_allyprofile_next", table_name="allyprofile")
    for table, name, _ in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    for table, column in reversed(_LISTS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_{column}")
        op.drop_table(table)
