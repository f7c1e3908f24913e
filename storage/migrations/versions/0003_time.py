"""time: awareness, follow-ups, check-ins, digest, retention

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoint",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("occurrence", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("tip", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message", "occurrence", "target"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_status", ["status"], unique=False)

    op.create_table(
        "followupanswer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followupanswer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followupanswer_week_of"), ["week_of"], unique=False)

    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("asked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["supportrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("allyprofile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renewal_reminded_for", sa.Date(), nullable=True))

    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("supportrequest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waited", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_unique_constraint("uq_timer_key", ["key"])


def downgrade() -> None:
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.drop_constraint("uq_timer_key", type_="unique")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("key")

    with op.batch_alter_table("supportrequest", schema=None) as batch_op:
        batch_op.drop_column("waited")

    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")

    with op.batch_alter_table("allyprofile", schema=None) as batch_op:
        batch_op.drop_column("renewal_reminded_for")

    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_request_id"))

    op.drop_table("followup")
    with op.batch_alter_table("followupanswer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followupanswer_week_of"))

    op.drop_table("followupanswer")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_status")

    op.drop_table("delivery")
    op.drop_table("checkpoint")
