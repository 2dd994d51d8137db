"""channels: inbound de-duplication and shared values

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_seen",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "key"),
    )
    with op.batch_alter_table("inbound_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_seen_created_at"), ["created_at"], unique=False)
    op.create_table(
        "shared_values",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("shared_values")
    with op.batch_alter_table("inbound_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_seen_created_at"))
    op.drop_table("inbound_seen")
