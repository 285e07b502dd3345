"""a workspace's own locale (issue 16): the language its platform says it speaks

``workspaces.locale`` is what the platform reports (a Discord server's ``guild_locale``, its
community language), learnt from the commands typed there. It is not a setting: the
workspace's ``language`` (``/policy settings language``) wins over it, and it wins over the
operator's ``POLICYBOT_DEFAULT_LANGUAGE`` when alerts are rendered.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("locale")
