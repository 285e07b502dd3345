"""digests and quiet hours: per-channel digest time and quiet window; digest deliveries

A digest covers several targets, so ``deliveries.target_id`` becomes nullable (a digest row has
none; every per-target delivery still has one). Held alerts are deliveries with status
``digest`` or ``quiet`` whose ``next_attempt_at`` is when they are due: no new table.

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
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_at", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("digest_tz", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quiet_start", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("quiet_end", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("quiet_tz", sa.String(length=64), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("target_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE target_id IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("target_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("channels", schema=None) as batch_op:
        for name in ("quiet_tz", "quiet_end", "quiet_start", "digest_weekday", "digest_tz"):
            batch_op.drop_column(name)
        batch_op.drop_column("digest_at")
