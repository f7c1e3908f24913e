"""rate counts: how often something was done in a window still open (anonymous feedback)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratecount",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ends_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("ratecount", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratecount_ends_at"), ["ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratecount", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratecount_ends_at"))
    op.drop_table("ratecount")
