"""safety and trust: request language, coordinator reach-out, anonymous feedback, sent messages

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("week_of", sa.Date(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_week_of"), ["week_of"], unique=False)

    op.create_table(
        "sentmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("conversation", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "key"),
    )
    with op.batch_alter_table("sentmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sentmessage_sent_at"), ["sent_at"], unique=False)

    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_offer_request_ally_round", ["request_id", "ally_id", "round"]
        )

    with op.batch_alter_table("supportrequest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reached_out_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("supportrequest", schema=None) as batch_op:
        batch_op.drop_column("reached_out_at")
        batch_op.drop_column("language")

    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_constraint("uq_offer_request_ally_round", type_="unique")

    with op.batch_alter_table("sentmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sentmessage_sent_at"))
    op.drop_table("sentmessage")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_week_of"))
    op.drop_table("feedback")
