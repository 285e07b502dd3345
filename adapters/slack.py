"""Slack: alerts through ``chat.postMessage`` with the bot token; commands through Bolt.

Delivery needs only ``SLACK_BOT_TOKEN`` (``policybot check`` and ``watch --to slack:C…`` post
without any Socket Mode connection). ``listen`` receives ``/policy`` commands and button
clicks: over Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL), otherwise over HTTP
with Slack's request signatures checked by Bolt (``SLACK_SIGNING_SECRET``).

Delivery errors are translated for the outbox (:mod:`bot.deliver.dispatcher`), which owns retries
and pacing: the SDK's own retry handlers are switched off, so a 429 never sleeps inside ``deliver``;
it becomes ``DeliveryError(retry_after=…)``. A channel or token that can never work again becomes
:class:`~bot.domain.errors.ChannelGone`, which stops deliveries with one log line.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import alert_message, alert_plain_text
from adapters.slack_commands import SlackCommands
from adapters.slack_oauth import oauth_settings, uninstall
from bot.config import Settings
from bot.domain.errors import ChannelGone, DeliveryError
from bot.domain.model import Alert
from bot.service.executor import Service
from bot.store import tenants
from bot.store.tenants import Tenants

log = logging.getLogger(__name__)

# Errors after which no retry can succeed, with what the operator should do about it.
GONE: dict[str, str] = {
    "channel_not_found": "the channel does not exist or the bot cannot see it "
    "(private channels: /invite the bot)",
    "not_in_channel": "the bot is not a member of the channel: /invite it there",
    "is_archived": "the channel is archived",
    "account_inactive": "the bot token belongs to a deactivated account: check SLACK_BOT_TOKEN",
    "invalid_auth": "the bot token is not valid: check SLACK_BOT_TOKEN",
    "not_authed": "no bot token was sent: check SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked (app uninstalled?): check SLACK_BOT_TOKEN",
}
# Slack refused this message's blocks: posting the same alert as plain text will work.
BLOCKS_REFUSED = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "too_many_blocks"}
)


class _BlocksRefused(Exception):
    pass


class SlackAdapter:
    platform = "slack"

    def __init__(
        self,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        tenants: Tenants | None = None,
    ) -> None:
        if settings.slack_bot_token is None and not settings.slack_many_workspaces:
            raise ValueError("SlackAdapter needs SLACK_BOT_TOKEN (or SLACK_CLIENT_ID)")
        self.settings = settings
        self.tenants = tenants  # many workspaces: where each workspace's bot token is
        self.min_interval = settings.slack_min_interval
        token = settings.slack_bot_token
        self.client = client or self._client(token.get_secret_value() if token else None)
        self.http_address: tuple[str, int] | None = None  # HTTP mode, once listening
        self.ready = asyncio.Event()  # set once commands can be received

    def _client(self, token: str | None) -> AsyncWebClient:
        return AsyncWebClient(
            token=token,
            base_url=self.settings.slack_api_url,
            timeout=max(1, int(self.settings.delivery_timeout)),
            retry_handlers=[],  # the outbox retries, honouring Retry-After
            logger=logging.getLogger("slack_sdk.policybot"),
        )

    async def _client_for(self, address: str) -> tuple[AsyncWebClient, str, str | None]:
        """The client holding the bot token of the channel's workspace, the bare channel id
        and the team. ``T0123/C0456`` names its workspace; a bare ``C0456`` is the one
        workspace of SLACK_BOT_TOKEN."""
        team, sep, channel = address.rpartition("/")
        if not sep:
            if self.settings.slack_bot_token is None:
                raise ChannelGone(
                    f"slack:{address} names no workspace and there is no SLACK_BOT_TOKEN: "
                    "watch it again from that channel"
                )
            return self.client, address, None
        if not self.settings.slack_many_workspaces:
            return self.client, channel, team
        if self.tenants is None:  # pragma: no cover - the composition root passes it
            raise DeliveryError("no database to read the workspace's bot token from")
        inst = await self.tenants.find_installation(team)
        if inst is None:
            # Uninstalled meanwhile: the outbox holds the workspace's deliveries until a
            # reinstall (bot.store.tenants.paused_channel); this one waits too.
            raise DeliveryError(
                f"policybot is not installed in Slack workspace {team}", retry_after=300
            )
        return self._client(inst.bot_token), channel, team

    # -- delivery -------------------------------------------------------------------------

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        """Post one alert (as a thread reply when ``reply_to`` is set); return its ``ts``."""
        message = alert_message(alert)
        client, channel, team = await self._client_for(address)
        args: dict[str, Any] = {
            "channel": channel,
            **message.payload(),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if reply_to:
            args["thread_ts"] = reply_to
        try:
            return await self._post(client, team, args)
        except _BlocksRefused as e:
            log.warning("Slack refused an alert's blocks (%s); posting it as plain text instead", e)
            args.pop("blocks")
            args["text"] = alert_plain_text(alert)
            try:
                return await self._post(client, team, args)
            except _BlocksRefused as again:
                raise DeliveryError(f"Slack refused the alert: {again}") from None

    async def _post(
        self, client: AsyncWebClient, team: str | None, args: dict[str, Any]
    ) -> str | None:
        try:
            resp = await client.chat_postMessage(**args)
        except SlackApiError as e:
            error = _translate(e)
            if (
                isinstance(error, ChannelGone)
                and team
                and self.settings.slack_many_workspaces
                and self.tenants is not None
                and _api_code(e) in TOKEN_GONE
            ):
                # The workspace's token, not the channel, is gone: pause the workspace (its
                # deliveries wait for a reinstall) instead of dropping this channel's.
                await uninstall(self.tenants, team, f"Slack says {_api_code(e)}")
                raise DeliveryError(
                    f"Slack workspace {team} uninstalled policybot", retry_after=300
                ) from None
            raise error from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as e:
            raise DeliveryError(f"cannot reach Slack: {type(e).__name__}") from None
        ts = resp.get("ts")
        return str(ts) if ts else None

    # -- receiving commands ---------------------------------------------------------------

    @property
    def single_owner(self) -> bool:
        """Socket Mode is one connection for the whole app: one replica holds it. HTTP mode
        serves behind a load balancer: every replica answers."""
        return self.settings.slack_app_token is not None

    async def listen(self, service: Service) -> None:
        """Receive commands and clicks until cancelled (Socket Mode, else HTTP mode)."""
        app_token = self.settings.slack_app_token
        secret = self.settings.slack_signing_secret
        if self.tenants is None:
            self.tenants = service.tenants
        if self.settings.slack_many_workspaces and secret is not None:
            await self._adopt_legacy_workspace(service.tenants)
            await self._http_mode(service, secret.get_secret_value())
        elif app_token is not None:
            await self._socket_mode(service, app_token.get_secret_value())
        elif secret is not None:
            await self._http_mode(service, secret.get_secret_value())
        else:
            log.warning(
                "Slack commands are off: set SLACK_APP_TOKEN (Socket Mode) or "
                "SLACK_SIGNING_SECRET (HTTP mode); alerts are still posted"
            )
            await asyncio.Event().wait()

    async def _socket_mode(self, service: Service, app_token: str) -> None:
        secret = self.settings.slack_signing_secret
        commands = SlackCommands(
            service,
            self.client,
            self.settings,
            signing_secret=secret.get_secret_value() if secret else "",
        )
        handler = AsyncSocketModeHandler(commands.app, app_token, web_client=self.client)
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack: receiving %s over Socket Mode", self.settings.slack_command)
            self.ready.set()
            await asyncio.Event().wait()
        finally:
            self.ready.clear()
            await handler.close_async()  # type: ignore[no-untyped-call]

    async def _adopt_legacy_workspace(self, known: Tenants) -> None:
        """Many workspaces with the old SLACK_BOT_TOKEN still set: ask Slack which workspace
        it is (auth.test), keep it installed, and name its ``slack:C…`` channels
        ``slack:T…/C…`` so they keep their watches (docs/hosting.md, "Moving from one
        workspace")."""
        if self.settings.slack_bot_token is None:
            return
        try:
            who = await self.client.auth_test()
        except (SlackApiError, SlackClientError, aiohttp.ClientError, OSError) as e:
            log.warning(
                "Slack: cannot ask which workspace SLACK_BOT_TOKEN is (%s)", type(e).__name__
            )
            return
        team = str(who.get("team_id") or "")
        if not team or who.get("is_enterprise_install"):
            return
        inst = tenants.Installation(
            team_id=team,
            enterprise_id=who.get("enterprise_id") or None,
            team_name=who.get("team"),
            bot_token=self.settings.slack_bot_token.get_secret_value(),
            bot_id=who.get("bot_id"),
            bot_user_id=who.get("user_id"),
        )
        await known.save_installation(inst, datetime.now(UTC))
        moved = await known.adopt_legacy_slack(team)
        log.info(
            "Slack: SLACK_BOT_TOKEN is workspace %s; %d channel rows now carry it", team, moved
        )

    async def _http_mode(self, service: Service, secret: str) -> None:
        oauth = None
        if self.settings.slack_many_workspaces:
            oauth = oauth_settings(self.settings, service.tenants)
        commands = SlackCommands(
            service, self.client, self.settings, signing_secret=secret, oauth=oauth
        )
        path = self.settings.slack_http_path
        runner = web.AppRunner(
            commands.app.web_app(path=path, port=self.settings.slack_http_port),
            access_log=None,
            handle_signals=False,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.slack_http_host, self.settings.slack_http_port)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.http_address = (str(host), int(port))
            log.info(
                "Slack: receiving %s over HTTP on %s:%d%s (requests must be signed)",
                self.settings.slack_command,
                host,
                port,
                path,
            )
            self.ready.set()
            await asyncio.Event().wait()
        finally:
            self.ready.clear()
            self.http_address = None
            await runner.cleanup()

    async def aclose(self) -> None:
        """Nothing to close: the SDK opens a session per call."""


TOKEN_GONE = frozenset({"account_inactive", "invalid_auth", "not_authed", "token_revoked"})


def _api_code(e: SlackApiError) -> str:
    data = getattr(e.response, "data", None)
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _translate(e: SlackApiError) -> Exception:
    """A Web API failure as the outbox's error (or _BlocksRefused for a text-only retry)."""
    resp = e.response
    status = int(getattr(resp, "status_code", None) or getattr(resp, "status", None) or 0)
    data = getattr(resp, "data", None)  # a dict, or text when Slack sent no JSON
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    if status == 429:
        raw = (getattr(resp, "headers", None) or {}).get("Retry-After", "")
        try:
            retry_after = max(0.0, float(raw))
        except ValueError:
            retry_after = 1.0
        return DeliveryError("Slack rate limit (HTTP 429)", retry_after=retry_after)
    if error in GONE:
        return ChannelGone(f"Slack says {error}: {GONE[error]}")
    if error in BLOCKS_REFUSED:
        return _BlocksRefused(error)
    if status >= 500:
        return DeliveryError(f"Slack answered HTTP {status}")
    return DeliveryError(f"Slack refused the message: {error or f'HTTP {status}'}")
