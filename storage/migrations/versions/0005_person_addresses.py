"""person addresses: a person on several platforms, and Teams conversation references

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active_platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
    op.create_table(
        "personaddress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("chat_user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("service_url", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("upn", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("unreachable_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "platform"),
        sa.UniqueConstraint("platform", "user_id"),
    )
    with op.batch_alter_table("personaddress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personaddress_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("personaddress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personaddress_person_id"))
    op.drop_table("personaddress")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("active_platform")
