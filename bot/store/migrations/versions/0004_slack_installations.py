"""many workspaces: Slack installations, OAuth states, per-workspace settings and pauses

Tables behind the Slack install flow (``slack_installations``, ``slack_oauth_states``), and
``workspaces``: a Slack workspace's or Discord server's settings (who may change watches, the
default minimum severity, the default digest time, the language) and whether it is paused
(the app was uninstalled). ``channels.workspace`` records which workspace a channel belongs to,
so a workspace's defaults reach channels that set nothing themselves.

Existing ``slack:C…`` channel rows are kept as they are: in single-workspace mode (one
``SLACK_BOT_TOKEN``) that form still names the one workspace; when an operator turns on
installs (``SLACK_CLIENT_ID``) with the old token still set, start-up asks Slack which
workspace it belongs to (``auth.test``) and moves the rows to ``slack:T…/C…`` then
(:func:`bot.store.tenants.adopt_legacy_slack`): a migration cannot know the team id.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("team_name", sa.String(256), nullable=True),
        sa.Column("app_id", sa.String(32), nullable=True),
        sa.Column("bot_token", sa.String(256), nullable=False),
        sa.Column("bot_id", sa.String(32), nullable=True),
        sa.Column("bot_user_id", sa.String(32), nullable=True),
        sa.Column("bot_scopes", sa.String(2000), nullable=False),
        sa.Column("installer_user_id", sa.String(32), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_slack_installations")),
    )
    op.create_table(
        "slack_oauth_states",
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_slack_oauth_states")),
    )
    op.create_table(
        "workspaces",
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_reason", sa.String(256), nullable=True),
        sa.Column("who_may_change", sa.String(16), nullable=True),
        sa.Column("min_severity", sa.String(16), nullable=True),
        sa.Column("digest_at", sa.String(5), nullable=True),
        sa.Column("digest_tz", sa.String(64), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("workspace", name=op.f("pk_workspaces")),
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("workspace")
    op.drop_table("workspaces")
    op.drop_table("slack_oauth_states")
    op.drop_table("slack_installations")
