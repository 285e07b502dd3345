"""Workspaces as tenants: Slack installations, install states, per-workspace settings, pauses.

A *workspace* is a Slack team (``slack:T0123``) or a Discord server (``discord:<guild id>``).
Its channels are named ``slack:T0123/C0456`` (many-workspace mode) or ``discord:<channel>``.

A paused workspace (its app was uninstalled or its tokens revoked) keeps its subscriptions, but
:func:`paused_channel` keeps the outbox from sending to its channels (deliveries wait) and the
checker from checking targets only it watches; reinstalling clears the pause and both resume.
Every function is one short transaction on the store's engine, so any replica may answer any
step of an install (state issued on one, consumed on another).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from bot.i18n import DEFAULT_LANGUAGE, joined, msg
from bot.i18n.languages import normalise, pick_language
from bot.store.engine import HasEngine
from bot.store.tables import (
    channels,
    deliveries,
    slack_installations,
    slack_oauth_states,
    subscriptions,
    workspaces,
)
from bot.store.threads import call as _call

WHO = ("everyone", "managers", "admins")
LANGUAGES = ("en", "it")


@dataclass(frozen=True, slots=True)
class Installation:
    """What policybot keeps of one workspace's install (the bot token is a secret)."""

    team_id: str
    bot_token: str
    enterprise_id: str | None = None
    team_name: str | None = None
    app_id: str | None = None
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str = ""
    installer_user_id: str | None = None
    installed_at: datetime | None = None

    def __repr__(self) -> str:  # never print the token
        return f"Installation(team_id={self.team_id!r}, enterprise_id={self.enterprise_id!r})"


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """A workspace's own settings; None means "not set" (the operator's default applies)."""

    who_may_change: str | None = None
    min_severity: str | None = None
    digest_at: str | None = None
    digest_tz: str | None = None
    language: str | None = None
    # Not chosen by anyone: the locale the platform reports (a Discord server's guild_locale),
    # used when ``language`` is not set.
    locale: str | None = None

    def describe(self, default_language: str = DEFAULT_LANGUAGE) -> str:
        """A message (:mod:`bot.i18n`); ``default_language`` is the operator's
        (``POLICYBOT_DEFAULT_LANGUAGE``): what "language" means when nothing else says one."""
        digest = (
            f"{self.digest_at} {self.digest_tz or 'UTC'}"
            if self.digest_at
            else msg("not set (09:00 UTC)")
        )
        return joined(
            "; ",
            [
                msg(
                    "who may change watches: {who}",
                    who=self.who_may_change or msg("not set (operator default)"),
                ),
                msg("default minimum severity: {severity}", severity=self.min_severity or "info"),
                msg("default digest time: {digest}", digest=digest),
                msg(
                    "language: {language}",
                    language=self.language or self._unset_language(default_language),
                ),
            ],
        )

    def _unset_language(self, default_language: str) -> str:
        spoken = normalise(self.locale)
        if spoken is not None:
            return msg("not set (the server's locale, {locale})", locale=str(self.locale))
        return pick_language(default_language)


# -- channel names ---------------------------------------------------------------------------


def slack_channel(team: str | None, channel: str) -> str:
    """``slack:T0123/C0456``; the legacy ``slack:C0456`` when there is no team (one workspace)."""
    return f"slack:{team}/{channel}" if team else f"slack:{channel}"


def workspace_of(channel: str) -> str | None:
    """The workspace a channel name itself carries (``slack:T/C`` → ``slack:T``), else None."""
    platform, _, address = channel.partition(":")
    if platform == "slack" and "/" in address:
        return f"slack:{address.split('/', 1)[0]}"
    return None


def paused_channel(channel: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """True where ``channel`` belongs to a paused Slack workspace (for the claims' WHERE)."""
    prefix = workspaces.c.workspace + sa.literal("/")
    return sa.exists().where(
        workspaces.c.paused_at.is_not(None),
        workspaces.c.workspace.like("slack:%"),
        sa.func.substr(channel, 1, sa.func.length(prefix)) == prefix,
    )


# -- installations ---------------------------------------------------------------------------


def save_installation(store: HasEngine, inst: Installation, now: datetime) -> None:
    """Store (or replace) a workspace's install and resume the workspace if it was paused."""
    values = {
        "enterprise_id": inst.enterprise_id,
        "team_name": inst.team_name,
        "app_id": inst.app_id,
        "bot_token": inst.bot_token,
        "bot_id": inst.bot_id,
        "bot_user_id": inst.bot_user_id,
        "bot_scopes": inst.bot_scopes,
        "installer_user_id": inst.installer_user_id,
        "installed_at": now,
    }
    with store.engine.begin() as c:
        updated = c.execute(
            slack_installations.update()
            .where(slack_installations.c.team_id == inst.team_id)
            .values(**values)
        ).rowcount
        if not updated:
            c.execute(slack_installations.insert().values(team_id=inst.team_id, **values))
        c.execute(
            workspaces.update()
            .where(workspaces.c.workspace == f"slack:{inst.team_id}")
            .values(paused_at=None, paused_reason=None)
        )


def find_installation(store: HasEngine, team_id: str) -> Installation | None:
    with store.engine.connect() as c:
        row = c.execute(
            sa.select(slack_installations).where(slack_installations.c.team_id == team_id)
        ).first()
    if row is None:
        return None
    return Installation(**dict(row._mapping))


def uninstalled(store: HasEngine, team_id: str, now: datetime, reason: str) -> bool:
    """The app left the workspace: delete its tokens, pause it. True when it was installed."""
    with store.engine.begin() as c:
        deleted = c.execute(
            slack_installations.delete().where(slack_installations.c.team_id == team_id)
        ).rowcount
        _upsert(c, f"slack:{team_id}", paused_at=now, paused_reason=reason[:256])
    return bool(deleted)


def paused(store: HasEngine, workspace: str) -> str | None:
    """Why the workspace is paused, or None."""
    with store.engine.connect() as c:
        return c.execute(
            sa.select(workspaces.c.paused_reason).where(
                workspaces.c.workspace == workspace, workspaces.c.paused_at.is_not(None)
            )
        ).scalar()


# -- OAuth state -----------------------------------------------------------------------------


def issue_state(store: HasEngine, now: datetime, lifetime: timedelta) -> str:
    state = secrets.token_urlsafe(24)
    with store.engine.begin() as c:
        c.execute(slack_oauth_states.delete().where(slack_oauth_states.c.expires_at < now))
        c.execute(slack_oauth_states.insert().values(state=state, expires_at=now + lifetime))
    return state


def consume_state(store: HasEngine, state: str, now: datetime) -> bool:
    """True once for a state we issued that has not expired (the row is deleted either way)."""
    with store.engine.begin() as c:
        found = c.execute(
            slack_oauth_states.delete()
            .where(slack_oauth_states.c.state == state)
            .returning(slack_oauth_states.c.expires_at)
        ).scalar()
    return found is not None and found >= now


# -- legacy single-workspace rows ------------------------------------------------------------


def adopt_legacy_slack(store: HasEngine, team_id: str) -> int:
    """Rename ``slack:C…`` rows to ``slack:<team_id>/C…`` (subscriptions, deliveries, channel
    settings): the one workspace of single-workspace mode, now named. Returns rows renamed."""
    moved = 0
    with store.engine.begin() as c:
        for table in (subscriptions, deliveries):
            col = table.c.channel
            moved += c.execute(
                table.update()
                .where(col.like("slack:%"), ~col.like("slack:%/%"))
                .values(channel=f"slack:{team_id}/" + sa.func.substr(col, 7))
            ).rowcount
        rows = c.execute(
            sa.select(channels.c.channel).where(
                channels.c.channel.like("slack:%"), ~channels.c.channel.like("slack:%/%")
            )
        ).scalars()
        for name in list(rows):
            target = f"slack:{team_id}/{name[6:]}"
            exists = c.execute(
                sa.select(channels.c.channel).where(channels.c.channel == target)
            ).first()
            if exists is None:
                c.execute(
                    channels.update()
                    .where(channels.c.channel == name)
                    .values(channel=target, workspace=f"slack:{team_id}")
                )
                moved += 1
    return moved


# -- settings --------------------------------------------------------------------------------


def _upsert(c: sa.Connection, workspace: str, **values: Any) -> None:
    updated = c.execute(
        workspaces.update().where(workspaces.c.workspace == workspace).values(**values)
    ).rowcount
    if not updated:
        c.execute(workspaces.insert().values(workspace=workspace, **values))


def workspace_settings(store: HasEngine, workspace: str) -> WorkspaceSettings:
    with store.engine.connect() as c:
        row = c.execute(sa.select(workspaces).where(workspaces.c.workspace == workspace)).first()
    if row is None:
        return WorkspaceSettings()
    m = row._mapping
    return WorkspaceSettings(
        who_may_change=m["who_may_change"],
        min_severity=m["min_severity"],
        digest_at=m["digest_at"],
        digest_tz=m["digest_tz"],
        language=m["language"],
        locale=m["locale"],
    )


def set_workspace_settings(store: HasEngine, workspace: str, **values: str | None) -> None:
    """Set some of a workspace's settings (keys of :class:`WorkspaceSettings`)."""
    unknown = set(values) - set(WorkspaceSettings.__slots__)
    if unknown:
        raise ValueError(f"unknown workspace settings: {sorted(unknown)}")
    with store.engine.begin() as c:
        _upsert(c, workspace, **values)


def note_channel_workspace(store: HasEngine, channel: str, workspace: str) -> None:
    """Remember that ``channel`` is in ``workspace`` (its defaults apply to the channel)."""
    with store.engine.begin() as c:
        updated = c.execute(
            channels.update()
            .where(channels.c.channel == channel, channels.c.workspace.is_distinct_from(workspace))
            .values(workspace=workspace)
        ).rowcount
        if not updated:
            exists = c.execute(
                sa.select(channels.c.channel).where(channels.c.channel == channel)
            ).first()
            if exists is None:
                c.execute(channels.insert().values(channel=channel, workspace=workspace))


def channel_language(store: HasEngine, channel: str) -> tuple[str | None, str | None]:
    """What ``channel``'s workspace says about its language: its setting (``/policy settings
    language``) and its platform's locale, each None when unknown. The workspace is the one
    the channel's name carries, else the one its chat commands came from."""
    with store.engine.connect() as c:
        known = c.execute(
            sa.select(channels.c.workspace).where(channels.c.channel == channel)
        ).scalar()
        workspace = workspace_of(channel) or known
        if workspace is None:
            return None, None
        row = c.execute(
            sa.select(workspaces.c.language, workspaces.c.locale).where(
                workspaces.c.workspace == workspace
            )
        ).first()
    return (row.language, row.locale) if row is not None else (None, None)


def digest_default(settings: WorkspaceSettings) -> tuple[time, str] | None:
    if not settings.digest_at:
        return None
    hour, minute = settings.digest_at.split(":")
    return time(int(hour), int(minute)), settings.digest_tz or "UTC"


__all__ = [
    "LANGUAGES",
    "WHO",
    "Installation",
    "Tenants",
    "WorkspaceSettings",
    "adopt_legacy_slack",
    "channel_language",
    "consume_state",
    "digest_default",
    "find_installation",
    "issue_state",
    "note_channel_workspace",
    "paused",
    "paused_channel",
    "save_installation",
    "set_workspace_settings",
    "slack_channel",
    "uninstalled",
    "workspace_of",
    "workspace_settings",
]


class Tenants:
    """What the chat adapters may know of workspaces, without the whole store (adapters ask
    the service, never the store: tests/test_scope_rule.py). Async methods run the queries in
    the store's worker threads (:mod:`bot.store.threads`)."""

    def __init__(self, store: HasEngine) -> None:
        self._store = store

    def settings_now(self, workspace: str) -> WorkspaceSettings:
        """For callers that cannot await (discord.py builds Invocations synchronously)."""
        return workspace_settings(self._store, workspace)

    def note_locale_now(self, workspace: str, locale: str) -> None:
        """Remember the locale the platform reports for ``workspace`` (callers check first
        that it changed, so a command costs no write)."""
        set_workspace_settings(self._store, workspace, locale=locale)

    async def settings(self, workspace: str) -> WorkspaceSettings:
        return await _call(workspace_settings, self._store, workspace)

    async def save_installation(self, inst: Installation, now: datetime) -> None:
        await _call(save_installation, self._store, inst, now)

    async def find_installation(self, team_id: str) -> Installation | None:
        return await _call(find_installation, self._store, team_id)

    async def uninstalled(self, team_id: str, now: datetime, reason: str) -> bool:
        return await _call(uninstalled, self._store, team_id, now, reason)

    async def issue_state(self, now: datetime, lifetime: timedelta) -> str:
        return await _call(issue_state, self._store, now, lifetime)

    async def consume_state(self, state: str, now: datetime) -> bool:
        return await _call(consume_state, self._store, state, now)

    async def adopt_legacy_slack(self, team_id: str) -> int:
        return await _call(adopt_legacy_slack, self._store, team_id)
