"""relay: an anonymous requester and their ally talking through the bot (who and when only)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No column for what is written: relayed words are never stored.
    op.create_table(
        "relay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("ally_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        sa.Column("requester_picked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ally_picked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ally_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["supportrequest.id"]),
        sa.ForeignKeyConstraint(["requester_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.create_index("ix_relay_requester_open", ["requester_id", "status"], unique=False)
        batch_op.create_index("ix_relay_ally_open", ["ally_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("relay", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_ally_open")
        batch_op.drop_index("ix_relay_requester_open")
    op.drop_table("relay")
