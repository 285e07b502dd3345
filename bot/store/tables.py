"""The database schema (SQLAlchemy Core tables). Alembic migrations create exactly this.

Why these tables: ``targets`` is shared by every channel watching the same thing (one fetch per
target); what a channel sees of it (a page's select/ignore) is its subscription's, in
``subscriptions.options``, never the target's; ``snapshots`` keeps every version so
``history``/``diff`` can show any two; ``deliveries`` is the transactional outbox;
``leases`` names the replica that holds a single-owner job.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive) and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UTC_DT = UtcDateTime()

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ref", sa.String(2048), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("options", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", UTC_DT, nullable=False),
    sa.Column("next_check_at", UTC_DT, nullable=False, index=True),
    sa.Column("last_checked_at", UTC_DT),
    sa.Column("last_ok_at", UTC_DT),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("last_error_reason", sa.String(64)),
    sa.Column("gone_streak", sa.Integer, nullable=False, default=0),
    sa.Column("health_alerted", sa.Boolean, nullable=False, default=False),
    sa.Column("etag", sa.String(512)),
    sa.Column("last_modified", sa.String(128)),
    sa.Column("body_digest", sa.String(64)),
    sa.Column("latest_snapshot_id", sa.Integer),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", UTC_DT),
)

snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "target_id",
        sa.Integer,
        sa.ForeignKey("targets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("taken_at", UTC_DT, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False, default=dict),
)

changes = sa.Table(
    "changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "target_id",
        sa.Integer,
        sa.ForeignKey("targets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id", ondelete="SET NULL")),
    sa.Column("detected_at", UTC_DT, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("summary", sa.String(2000), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("detail", sa.Text),
    # The view it was seen through (a page subscription's select/ignore, as its canonical
    # key); NULL when every subscriber saw it. History shows a channel its own view's only.
    sa.Column("view", sa.Text),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "target_id",
        sa.Integer,
        sa.ForeignKey("targets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("channel", sa.String(2048), nullable=False, index=True),
    sa.Column("created_by", sa.String(256), nullable=False, default=""),
    sa.Column("created_at", UTC_DT, nullable=False),
    sa.Column("min_severity", sa.String(16), nullable=False, default="info"),
    sa.Column("options", sa.JSON, nullable=False, default=dict),
    sa.Column("muted_until", UTC_DT),
    sa.UniqueConstraint("target_id", "channel", name="uq_subscriptions_target_channel"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        # None for a digest, which covers several targets (bot.alerts.digest)
        "target_id",
        sa.Integer,
        sa.ForeignKey("targets.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("channel", sa.String(2048), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTC_DT, nullable=False),
    sa.Column("next_attempt_at", UTC_DT, nullable=False),
    sa.Column("sent_at", UTC_DT),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("message_id", sa.String(256)),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("reply_to", sa.String(256)),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", UTC_DT),
    sa.Index("ix_deliveries_pending", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_thread", "target_id", "channel", "status"),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("until", UTC_DT, nullable=False),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("channel", sa.String(2048), primary_key=True),
    sa.Column("disabled_at", UTC_DT),
    sa.Column("disabled_reason", sa.String(1000)),
    sa.Column("last_post_at", UTC_DT),
    # Delivery settings (bot.alerts.timing.ChannelPrefs); None means the default.
    sa.Column("digest_at", sa.String(5)),  # "09:00", local to digest_tz
    sa.Column("digest_tz", sa.String(64)),  # IANA name
    sa.Column("digest_weekday", sa.Integer),  # 0 = Monday, for weekly digests
    sa.Column("quiet_start", sa.String(5)),
    sa.Column("quiet_end", sa.String(5)),
    sa.Column("quiet_tz", sa.String(64)),
    # The workspace it belongs to ("slack:T0123" / "discord:<guild>"), learnt from the chat
    # commands typed in it: its defaults apply where the channel has set nothing.
    sa.Column("workspace", sa.String(64)),
)

# -- many workspaces (issue 16) ---------------------------------------------------------------
# Our own tables behind slack_sdk's AsyncInstallationStore / AsyncOAuthStateStore interfaces
# (adapters/slack_oauth.py): they live in the one database, are created by our Alembic
# migrations like every other table, and are reached through the same sync engine as the rest of
# the store (no second, async engine; no greenlet).

slack_installations = sa.Table(
    "slack_installations",
    metadata,
    # One bot per workspace: a reinstall replaces the row (org-wide installs are refused).
    sa.Column("team_id", sa.String(32), primary_key=True),
    sa.Column("enterprise_id", sa.String(32)),
    sa.Column("team_name", sa.String(256)),
    sa.Column("app_id", sa.String(32)),
    sa.Column("bot_token", sa.String(256), nullable=False),
    sa.Column("bot_id", sa.String(32)),
    sa.Column("bot_user_id", sa.String(32)),
    sa.Column("bot_scopes", sa.String(2000), nullable=False, default=""),
    sa.Column("installer_user_id", sa.String(32)),
    sa.Column("installed_at", UTC_DT, nullable=False),
)

slack_oauth_states = sa.Table(
    "slack_oauth_states",
    metadata,
    # One-use values in the install link; any replica may issue one and another consume it.
    sa.Column("state", sa.String(128), primary_key=True),
    sa.Column("expires_at", UTC_DT, nullable=False),
)

workspaces = sa.Table(
    "workspaces",
    metadata,
    # "slack:T0123" or "discord:<guild id>": its settings, and whether it is paused.
    sa.Column("workspace", sa.String(64), primary_key=True),
    sa.Column("paused_at", UTC_DT),
    sa.Column("paused_reason", sa.String(256)),
    sa.Column("who_may_change", sa.String(16)),  # everyone | managers | admins; NULL: default
    sa.Column("min_severity", sa.String(16)),  # default for new watches
    sa.Column("digest_at", sa.String(5)),  # default digest time, local to digest_tz
    sa.Column("digest_tz", sa.String(64)),
    sa.Column("language", sa.String(16)),  # /policy settings language: alerts' language
    sa.Column("locale", sa.String(16)),  # what the platform says (Discord guild_locale)
)
