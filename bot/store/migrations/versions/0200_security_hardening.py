"""security hardening (issue 18, issue 17 point 5): tips unlinkable from subscribers, atomic rate gates,
office keyrings

- tips.chat_key (a keyed hash equal to subscribers.key) is dropped; a per-tip random `handle` is kept
  instead, also sealed inside the tip's identity part, so nothing on a tip joins to a chat or a subscriber;
- rate_gates: one row per (bucket, key), locked while a limit is checked (reserve-then-check);
- office_keys: the earlier keys of an office, kept (encrypted under the current passphrase) to open older tips;
- tip_seals.key_fp: which office key a part was sealed to (a short fingerprint of the public key).

Revision ID: 0200
Revises: 0100
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0200"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_gates",
        sa.Column("bucket", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key"),
    )
    op.create_table(
        "office_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("key_file", sa.Text(), nullable=False),
        sa.Column("development_key", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("office_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_keys_office_code"), ["office_code"], unique=False)
    with op.batch_alter_table("tip_seals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_fp", sa.String(length=16), nullable=True))
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handle", sa.String(length=32), nullable=True))
    tips = sa.table("tips", sa.column("id", sa.Integer()), sa.column("handle", sa.String()))
    conn = op.get_bind()
    for (tip_id,) in conn.execute(sa.select(tips.c.id)).all():
        conn.execute(tips.update().where(tips.c.id == tip_id).values(handle=secrets.token_hex(16)))
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tips_chat_key"))
        batch_op.drop_column("chat_key")
        batch_op.create_index(batch_op.f("ix_tips_handle"), ["handle"], unique=True)


def downgrade() -> None:
    # The chat keys were dropped on purpose: old tips get a random value that joins to nothing.
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tips_handle"))
        batch_op.add_column(sa.Column("chat_key", sa.String(length=64), nullable=True))
    tips = sa.table("tips", sa.column("id", sa.Integer()), sa.column("chat_key", sa.String()))
    conn = op.get_bind()
    for (tip_id,) in conn.execute(sa.select(tips.c.id)).all():
        conn.execute(tips.update().where(tips.c.id == tip_id).values(chat_key=secrets.token_hex(32)))
    with op.batch_alter_table("tips", schema=None) as batch_op:
        batch_op.alter_column("chat_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("handle")
        batch_op.create_index(batch_op.f("ix_tips_chat_key"), ["chat_key"], unique=False)
    with op.batch_alter_table("tip_seals", schema=None) as batch_op:
        batch_op.drop_column("key_fp")
    with op.batch_alter_table("office_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_keys_office_code"))
    op.drop_table("office_keys")
    op.drop_table("rate_gates")
