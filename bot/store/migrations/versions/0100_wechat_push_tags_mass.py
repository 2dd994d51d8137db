"""WeChat pushes: campaign path and failure, delivery path, user tags, mass-send jobs, subscribe consents

Revision ID: 0100
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wechat_path", sa.String(length=16), nullable=False, server_default="service"))
        batch_op.add_column(sa.Column("forced", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("failure", sa.String(length=200), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_deliveries_subscriber_state", ["subscriber_id", "state"], unique=False)
    op.create_table(
        "wechat_tags",
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "wechat_tag_members",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("tag_key", sa.String(length=48), nullable=False),
        sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "tag_key"),
    )
    with op.batch_alter_table("wechat_tag_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_tag_members_tag_key"), ["tag_key"], unique=False)
    op.create_table(
        "wechat_mass_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("tag_key", sa.String(length=48), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("msg_id", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("filtered", sa.Integer(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=True),
        sa.Column("errors", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "tag_key", name="uq_wechat_mass_jobs_campaign_tag"),
    )
    with op.batch_alter_table("wechat_mass_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wechat_mass_jobs_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wechat_mass_jobs_msg_id"), ["msg_id"], unique=False)
    op.create_table(
        "wechat_consents",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscriber_id", "template_id"),
    )


def downgrade() -> None:
    op.drop_table("wechat_consents")
    with op.batch_alter_table("wechat_mass_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_mass_jobs_msg_id"))
        batch_op.drop_index(batch_op.f("ix_wechat_mass_jobs_campaign_id"))
    op.drop_table("wechat_mass_jobs")
    with op.batch_alter_table("wechat_tag_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_tag_members_tag_key"))
    op.drop_table("wechat_tag_members")
    op.drop_table("wechat_tags")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_subscriber_state")
        batch_op.drop_column("via")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("failure")
        batch_op.drop_column("forced")
        batch_op.drop_column("wechat_path")
