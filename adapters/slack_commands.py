"""``/policy`` slash commands and alert buttons, on a slack_bolt ``AsyncApp``.

The same AsyncApp serves Socket Mode and HTTP mode (see :mod:`adapters.slack`); this module
only decides what a command or a click means and answers it:

* The text is parsed by the shared grammar (:func:`bot.commands.grammar.parse`), so a mistyped
  command gets the same message as on the CLI, shown only to the user who typed it.
* Slack wants an ack within 3 s. Commands that fetch (``watch`` takes a baseline, ``check``
  checks now) or need a ``users.info`` lookup are acked at once with "Working on it…" and
  answered through ``response_url``; the rest are answered in the ack itself.
* Who may change watches is :class:`WatchPermission` (``POLICYBOT_SLACK_WATCH_PERMISSION``);
  the core refuses with the reason we put in the :class:`~bot.service.executor.Invocation`.
* Errors (``Reply.ok`` False) are always ephemeral.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import action_kind, reply_message
from adapters.slack_oauth import uninstall
from bot.commands import grammar as cmds
from bot.commands.invocation import Invocation
from bot.config import Settings
from bot.domain.errors import UsageError
from bot.i18n import msg
from bot.service.executor import Service
from bot.store import tenants

log = logging.getLogger(__name__)

WORKING = msg("Working on it…")
_FAILED = msg("Sorry, that failed inside policybot; the error was logged for the operator.")

Ack = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class WatchPermission:
    """``anyone`` | ``admins`` | user ids, possibly mixed with ``admins`` (already validated
    by :class:`~bot.config.Settings`)."""

    anyone: bool
    admins: bool
    users: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> WatchPermission:
        words = {w.strip() for w in text.split(",") if w.strip()}
        return cls(
            anyone="anyone" in words,
            admins="admins" in words,
            users=frozenset(w for w in words if w not in ("anyone", "admins")),
        )

    def static(self, user: str) -> bool | None:
        """Allowed / refused without asking Slack, or None when the user's role decides."""
        if self.anyone or user in self.users:
            return True
        return None if self.admins else False

    @property
    def refusal(self) -> str:
        if self.admins and self.users:
            return msg(
                "only workspace admins and the people your policybot operator listed may "
                "change watches here"
            )
        if self.admins:
            return msg("only workspace admins and owners may change watches here")
        return msg("only the people your policybot operator listed may change watches here")


class RoleCache:
    """``users.info`` answers (is the user an admin or owner?), reused for a while; keyed by
    workspace too, since each workspace answers for its own people with its own token."""

    def __init__(self, client: AsyncWebClient, ttl: float) -> None:
        self.client = client
        self.ttl = ttl
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}

    def cached(self, user: str, team: str | None = None) -> bool | None:
        hit = self._known.get((team or "", user))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    async def is_admin(
        self, user: str, team: str | None = None, client: AsyncWebClient | None = None
    ) -> bool:
        """Raises SlackApiError / SlackClientError when Slack cannot tell us."""
        known = self.cached(user, team)
        if known is not None:
            return known
        resp = await (client or self.client).users_info(user=user)
        info = resp.get("user") or {}
        admin = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
        self._known[(team or "", user)] = (admin, time.monotonic() + self.ttl)
        return admin


# The workspace setting (``/policy settings who …``) as the operator-level permission it means.
_WHO = {
    "everyone": WatchPermission(anyone=True, admins=False, users=frozenset()),
    "admins": WatchPermission(anyone=False, admins=True, users=frozenset()),
}


class SlackCommands:
    """The Bolt app: one handler for the slash command, one for the alert buttons."""

    def __init__(
        self,
        service: Service,
        client: AsyncWebClient,
        settings: Settings,
        *,
        signing_secret: str,
        oauth: AsyncOAuthSettings | None = None,
    ) -> None:
        self.service = service
        self.many = oauth is not None  # channels carry their workspace: slack:T…/C…
        self.permission = WatchPermission.parse(settings.slack_watch_permission)
        self.roles = RoleCache(client, settings.slack_role_cache_seconds)
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            oauth_settings=oauth,
            logger=logging.getLogger("slack_bolt.policybot"),
        )
        self.app.command(settings.slack_command)(self.on_command)
        self.app.action(re.compile(r"^policybot_"))(self.on_button)
        if oauth is not None:
            self.app.event("app_uninstalled")(self.on_uninstalled)
            self.app.event("tokens_revoked")(self.on_tokens_revoked)

    async def on_uninstalled(self, body: dict[str, Any]) -> None:
        team = body.get("team_id")
        if team:
            await uninstall(self.service.tenants, str(team), "app uninstalled")

    async def on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team = body.get("team_id")
        if team and (event.get("tokens") or {}).get("bot"):
            await uninstall(self.service.tenants, str(team), "bot token revoked")

    async def _permission(self, team: str | None) -> WatchPermission | str:
        """The operator's permission, or the workspace's own setting (``managers`` is
        returned as the word: it needs the channel too)."""
        if not team:
            return self.permission
        chosen = await self.service.tenants.settings(f"slack:{team}")
        who = chosen.who_may_change
        if who == "managers":
            return who
        return _WHO.get(who or "", self.permission)

    async def on_command(
        self, ack: Ack, command: dict[str, Any], respond: Ack, client: AsyncWebClient
    ) -> None:
        channel, user = command["channel_id"], command["user_id"]
        team = command.get("team_id")
        try:
            parsed = cmds.parse(command.get("text") or "")
        except UsageError as e:
            where = self._asker(channel, team)
            await ack(
                **payload(await self.service.localized(cmds.Reply((e.message,), ok=False), where))
            )
            return
        needs = cmds.needs(parsed)
        needs_role = False
        if needs.changes_watches:
            permission = await self._permission(team)
            needs_role = (
                isinstance(permission, str) or permission.static(user) is None
            ) and self.roles.cached(user, team) is None
        if not needs.fetches and not needs_role:
            await ack(**payload(await self.run(parsed, channel, user, team, client)))
            return
        working = await self.service.localized(cmds.Reply((WORKING,)), self._asker(channel, team))
        await ack(text=working.text, response_type="ephemeral")
        reply = await self.run(parsed, channel, user, team, client)
        await self._respond(respond, payload(reply))

    async def on_button(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Ack,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        kind = action_kind(str(action.get("action_id", "")))
        ref = str(action.get("value") or "")
        channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id")
        command = cmds.button_command(kind or "", ref)
        if command is None:
            return
        reply = await self.run(command, channel, user, team, client)
        answer = payload(reply, ephemeral=kind == "diff")
        await self._respond(respond, {**answer, "replace_original": False})

    async def run(
        self,
        command: cmds.Command,
        channel: str,
        user: str,
        team: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> cmds.Reply:
        """Execute for this user in this channel (of workspace ``team``), which is all the
        command may see (invariant 9); a crash becomes a short apology, logged."""
        try:
            inv = await self.invocation(command, channel, user, team, client)
            if isinstance(command, cmds.Check):  # what the check found goes out now
                return await self.service.check_now(command.refs, inv)
            return await self.service.execute(command, inv)
        except Exception:
            log.exception("Slack command failed channel=%s user=%s", channel, user)
            return await self.service.localized(
                cmds.Reply((_FAILED,), ok=False), self._asker(channel, team)
            )

    async def invocation(
        self,
        command: cmds.Command,
        channel: str,
        user: str,
        team: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> Invocation:
        may, refusal = True, ""
        if cmds.needs(command).changes_watches:
            may, refusal = await self.may_change(user, team, channel, client)
        return Invocation(
            channel=tenants.slack_channel(team if self.many else None, channel),
            actor=user,
            may_change=may,
            refusal=refusal,
            workspace=team,
        )

    def _asker(self, channel: str, team: str | None) -> Invocation:
        """Where a command came from, enough to choose its answer's language."""
        return Invocation(channel=tenants.slack_channel(team, channel), workspace=team)

    async def may_change(
        self,
        user: str,
        team: str | None = None,
        channel: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> tuple[bool, str]:
        """(allowed, reason when not) for changing watches: the workspace's setting
        (``/policy settings who …``) when it has one, else the operator's."""
        permission = await self._permission(team)
        if isinstance(permission, str):  # managers: admins, or whoever created the channel
            refusal: str = msg(
                "only workspace admins and this channel's manager may change watches here"
            )
            decided = None
            if channel is not None:
                try:
                    info = await (client or self.roles.client).conversations_info(channel=channel)
                    decided = True if (info.get("channel") or {}).get("creator") == user else None
                except (SlackApiError, SlackClientError, OSError, TimeoutError) as e:
                    log.warning(
                        "cannot read a Slack channel (conversations.info: %s)", _api_error(e)
                    )
        else:
            refusal = permission.refusal
            decided = permission.static(user)
        if decided is not None:
            return decided, "" if decided else refusal
        try:
            admin = await self.roles.is_admin(user, team, client)
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as e:
            code = _api_error(e)
            log.warning("cannot check a Slack user's role (users.info: %s)", code)
            return False, msg(
                "your Slack role could not be checked (users.info: {code}); "
                "ask your policybot operator",
                code=code,
            )
        if admin:
            return True, ""
        return False, refusal

    async def _respond(self, respond: Ack, body: dict[str, Any]) -> None:
        try:
            await respond(**body)
        except Exception as e:  # the user sees no answer; say why in the log
            log.warning("could not answer through response_url: %s", type(e).__name__)


def payload(reply: cmds.Reply, *, ephemeral: bool = False) -> dict[str, Any]:
    """A reply as ack/respond arguments: errors and lookups only for the asker."""
    message = reply_message(reply)
    private = ephemeral or not reply.ok or reply.ephemeral
    return {
        **message.payload(),
        "response_type": "ephemeral" if private else "in_channel",
    }


def _api_error(e: Exception) -> str:
    if isinstance(e, SlackApiError):
        data = getattr(e.response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
        return f"HTTP {getattr(e.response, 'status_code', '?')}"
    return type(e).__name__
