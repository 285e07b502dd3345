"""Installs into any Slack workspace: slack_bolt's own OAuth v2 flow over policybot's database.

Why our own stores rather than slack_sdk's ``AsyncSQLAlchemyInstallationStore``: those need an
*async* SQLAlchemy engine (with SQLAlchemy 2.1, greenlet plus aiosqlite/asyncpg), create their
tables outside Alembic, and keep every past installation row. Ours implement the same
``AsyncInstallationStore`` / ``AsyncOAuthStateStore`` interfaces over tables our migrations
create (``0004``), through the store's one sync engine in its worker threads
(:mod:`bot.store.threads`), so they work on SQLite and PostgreSQL and across replicas: any
replica may issue an install link's state and another consume it.

Bolt serves the "Add to Slack" page (``/slack/install``, which sets the state cookie) and the
redirect (``/slack/oauth_redirect``, which checks state and cookie, calls ``oauth.v2.access``
and ``auth.test``, then saves here). Commands then get each workspace's bot token through
bolt's authorize, which reads :meth:`StoreInstallations.async_find_bot`.

Enterprise Grid org-wide installs are refused with a page that says so: channels are named by
their workspace, and an org-wide token spans many.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from logging import Logger
from typing import Any

from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SdkInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.config import Settings
from bot.store.tenants import Installation, Tenants

log = logging.getLogger(__name__)

# What the bot asks every workspace for (docs/slack-app-manifest-distributed.yml lists the same).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "channels:read",
    "groups:read",
)

ORG_REFUSAL = (
    "policybot installs into one workspace at a time. This was an organisation-wide "
    "(Enterprise Grid) install, which policybot does not support: install it into each "
    "workspace that wants it instead (Slack: Add to Slack, then pick the workspace)."
)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class OrgInstallRefused(BoltError):
    """An Enterprise Grid org-wide install: nothing is stored."""


class StoreInstallations(AsyncInstallationStore):
    """Installations in ``slack_installations``, one bot per workspace."""

    def __init__(self, tenants: Tenants, clock: Clock = _now) -> None:
        self.tenants = tenants
        self.clock = clock
        self._logger = logging.getLogger("slack_sdk.policybot.installations")

    @property
    def logger(self) -> Logger:
        return self._logger

    async def async_save(self, installation: SdkInstallation) -> None:
        if installation.is_enterprise_install or not installation.team_id:
            log.warning("Slack org-wide install refused enterprise=%s", installation.enterprise_id)
            raise OrgInstallRefused(ORG_REFUSAL)
        if not installation.bot_token:
            raise BoltError("the install gave no bot token (is the 'bot' scope list empty?)")
        scopes = installation.bot_scopes or []
        inst = Installation(
            team_id=installation.team_id,
            enterprise_id=installation.enterprise_id,
            team_name=installation.team_name,
            app_id=installation.app_id,
            bot_token=installation.bot_token,
            bot_id=installation.bot_id,
            bot_user_id=installation.bot_user_id,
            bot_scopes=",".join(scopes) if isinstance(scopes, list) else str(scopes),
            installer_user_id=installation.user_id,
        )
        await self.tenants.save_installation(inst, self.clock())
        log.info(
            "Slack: installed into workspace team=%s by user=%s",
            inst.team_id,
            inst.installer_user_id,
        )

    async def async_save_bot(self, bot: Bot) -> None:
        raise NotImplementedError("policybot saves whole installations")

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found.to_bot() if found is not None else None  # slack_sdk's own mapping

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SdkInstallation | None:
        if is_enterprise_install or not team_id or user_id is not None:
            return None  # no user tokens are kept
        inst = await self.tenants.find_installation(team_id)
        if inst is None:
            return None
        return SdkInstallation(
            app_id=inst.app_id,
            enterprise_id=inst.enterprise_id,
            team_id=inst.team_id,
            team_name=inst.team_name,
            bot_token=inst.bot_token,
            bot_id=inst.bot_id,
            bot_user_id=inst.bot_user_id,
            bot_scopes=inst.bot_scopes,
            user_id=inst.installer_user_id or "",
            installed_at=(inst.installed_at or self.clock()).timestamp(),
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if team_id:
            await uninstall(self.tenants, team_id, "bot token deleted", self.clock)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if team_id and user_id is None:
            await uninstall(self.tenants, team_id, "installation deleted", self.clock)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if team_id:
            await uninstall(self.tenants, team_id, "installation deleted", self.clock)


class StoreStates(AsyncOAuthStateStore):
    """One-use install states in ``slack_oauth_states`` (shared by every replica)."""

    def __init__(self, tenants: Tenants, lifetime: timedelta, clock: Clock = _now) -> None:
        self.tenants = tenants
        self.lifetime = lifetime
        self.clock = clock
        self._logger = logging.getLogger("slack_sdk.policybot.states")

    @property
    def logger(self) -> Logger:
        return self._logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await self.tenants.issue_state(self.clock(), self.lifetime)

    async def async_consume(self, state: str) -> bool:
        return await self.tenants.consume_state(state, self.clock())


async def uninstall(tenants: Tenants, team_id: str, reason: str, clock: Clock = _now) -> None:
    """Delete the workspace's tokens and pause it (its watches wait for a reinstall)."""
    await tenants.uninstalled(team_id, clock(), reason)
    log.info("Slack: workspace paused team=%s reason=%s", team_id, reason)


def oauth_settings(settings: Settings, tenants: Tenants, clock: Clock = _now) -> AsyncOAuthSettings:
    """Bolt's OAuth settings for this deployment (only with SLACK_CLIENT_ID and friends)."""
    assert settings.slack_client_id and settings.slack_client_secret and settings.public_url
    lifetime = 600
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        redirect_uri=f"{settings.public_url}/slack/oauth_redirect",
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        authorization_url=settings.slack_authorize_url,
        installation_store=StoreInstallations(tenants, clock),
        installation_store_bot_only=True,
        state_store=StoreStates(tenants, timedelta(seconds=lifetime), clock),
        state_expiration_seconds=lifetime,
        callback_options=AsyncCallbackOptions(success=_success, failure=_failure),
        logger=logging.getLogger("slack_bolt.policybot.oauth"),
    )


def _page(title: str, text: str, status: int) -> BoltResponse:
    body = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return BoltResponse(
        status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )


async def _success(args: AsyncSuccessArgs) -> BoltResponse:
    inst = args.installation
    name = inst.team_name or inst.team_id or "your workspace"
    return _page(
        "policybot is installed",
        f"policybot is now in {name}. Invite it to a channel (/invite @policybot), then type "
        "/policy help there.",
        200,
    )


async def _failure(args: AsyncFailureArgs) -> BoltResponse:
    if isinstance(args.error, OrgInstallRefused):
        return _page("Organisation-wide installs are not supported", ORG_REFUSAL, 400)
    reasons = {
        "invalid_state": "This install link expired or was already used: start again from "
        "the Add to Slack page.",
        "access_denied": "The install was cancelled in Slack; nothing was installed.",
    }
    text = reasons.get(
        args.reason,
        f"Slack did not complete the install ({args.reason}); nothing was installed. "
        "Try again from the Add to Slack page.",
    )
    return _page("policybot was not installed", text, args.suggested_status_code)
