"""pending offers: a slot an offer holds in its ally's capacity

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("allyprofile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending", sa.Integer(), nullable=False, server_default="0"))
    # Offers already out hold their slots from now on.
    op.execute(
        "UPDATE allyprofile SET pending = (SELECT count(*) FROM offer "
        "WHERE offer.ally_id = allyprofile.person_id AND offer.status = 'pending')"
    )


def downgrade() -> None:
    with op.batch_alter_table("allyprofile", schema=None) as batch_op:
        batch_op.drop_column("pending")
