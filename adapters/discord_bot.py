"""``discord:<channel id>`` channels: alerts as embeds posted by the bot, and ``/policy``.

Two discord.py clients, on purpose:

- **delivery** is REST only (``Client.login`` then ``PartialMessageable.send``): no gateway
  connection is needed to post, so ``policybot check`` and ``watch --to discord:…`` work from
  the CLI, and the commands are never re-synced by a CLI run;
- **listening** (``policybot run``) runs the gateway client of :mod:`adapters.discord_commands`.

Every message carries ``allowed_mentions`` = none and the delivery's nonce with
``enforce_nonce`` (discord.py 2.7 sends ``enforce_nonce: true`` whenever a nonce is given), so
a retry after a crash returns the message Discord already has instead of posting twice.
Errors are mapped here: 429 → ``DeliveryError(retry_after)``; 403/404 (Missing Access 50001,
Missing Permissions 50013, Unknown Channel 10003) → ``ChannelGone``, remembered so a gone
channel costs Discord one invalid request, not one per alert; 5xx and network → retry later.

Every request goes to ``POLICYBOT_DISCORD_API_URL``: discord.py's ``Route.BASE`` is set from it
(a class attribute, so process-wide), and the gateway URL is asked from that API.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import aiohttp
import discord
from discord.http import Route

from adapters.discord_commands import CommandHandler, PolicyClient
from adapters.discord_embeds import DiscordMessage, alert_message
from bot.config import Settings
from bot.domain.errors import ChannelGone, ConfigError, DeliveryError
from bot.domain.model import Alert
from bot.service.executor import Service

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()
# What the bot needs in a channel: see it, post, embed, attach the full diff, reply (reading
# history is needed to reference the earlier alert), and post in threads.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
LOGIN_RETRY_SECONDS = 600.0


def use_api_base(url: str) -> None:
    """Point discord.py (REST, webhooks, interaction callbacks) at ``url``.

    Also silences discord.py's start-up warnings about voice libraries: policybot never
    uses voice, and an operator should not wonder whether something is missing.
    """
    Route.BASE = url.rstrip("/")
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


def manage_permission(name: str) -> str | None:
    """The permission flag needed to change watches, or None; ConfigError when unknown."""
    value = name.strip().lower()
    if value in ("", "none", "everyone"):
        return None
    if value not in discord.Permissions.VALID_FLAGS:
        raise ConfigError(
            f"POLICYBOT_DISCORD_MANAGE_PERMISSION: {name!r} is not a Discord permission "
            "(use e.g. manage_channels, manage_guild, administrator, or none)"
        )
    return value


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot with ``bot applications.commands`` and few rights."""
    return discord.utils.oauth_url(
        application_id,
        permissions=BOT_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )


async def application_id(settings: Settings) -> int:
    """The bot's application id, read from Discord with the token (for ``invite-url``)."""
    if settings.discord_bot_token is None:
        raise ConfigError("set DISCORD_BOT_TOKEN, or pass --application-id")
    use_api_base(settings.discord_api_url)
    client = discord.Client(intents=discord.Intents(guilds=True))
    try:
        await client.login(settings.discord_bot_token.get_secret_value())
        if client.application_id is None:  # pragma: no cover - login always sets it
            raise ConfigError("Discord did not say which application this token belongs to")
        return client.application_id
    except discord.LoginFailure:
        raise ConfigError("Discord refused DISCORD_BOT_TOKEN (401)") from None
    finally:
        await client.close()


class DiscordBotAdapter:
    platform = "discord"
    min_interval = 1.0  # Discord allows about 5 messages per 5 s in one channel

    def __init__(self, settings: Settings) -> None:
        if settings.discord_bot_token is None:
            raise ConfigError("DISCORD_BOT_TOKEN is not set")
        self._token = settings.discord_bot_token.get_secret_value()
        self._settings = settings
        self._permission = manage_permission(settings.discord_manage_permission)
        use_api_base(settings.discord_api_url)
        self._rest: discord.Client | None = None
        self._lock = asyncio.Lock()
        self._gone: dict[int, str] = {}
        self._synced = False

    # -- delivery -------------------------------------------------------------------------

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        if not address.isdigit():
            raise ChannelGone(f"{address!r} is not a Discord channel id")
        channel_id = int(address)
        if channel_id in self._gone:
            raise ChannelGone(self._gone[channel_id])
        client = await self._client()
        channel = client.get_partial_messageable(channel_id)
        message = alert_message(alert)
        try:
            sent = await channel.send(nonce=nonce, **_send_kwargs(message, channel_id, reply_to))
        except discord.RateLimited as e:
            raise DeliveryError(
                f"Discord rate limit: retry in {e.retry_after:.1f} s", retry_after=e.retry_after
            ) from None
        except discord.HTTPException as e:
            raise self._http_error(channel_id, e) from None
        except (aiohttp.ClientError, OSError) as e:
            raise DeliveryError(f"Discord unreachable: {type(e).__name__}") from None
        return str(sent.id)

    def _http_error(self, channel_id: int, e: discord.HTTPException) -> DeliveryError:
        what = f"{e.text or 'error'} ({e.code or e.status})"
        if e.status in (403, 404):
            hint = {
                50001: "the bot cannot see this channel any more (removed or kicked)",
                50013: "the bot lacks Send Messages, Embed Links or Attach Files here",
                10003: "the channel was deleted",
            }.get(e.code, "Discord refuses to post here")
            reason = f"Discord: {what}: {hint}"
            self._gone[channel_id] = reason
            return ChannelGone(reason)
        if e.status == 429:  # a 429 without Via: Cloudflare, not Discord's API
            return DeliveryError(f"Discord (Cloudflare) refused with 429: {what}", retry_after=60)
        return DeliveryError(f"Discord answered HTTP {e.status}: {what}")

    async def _client(self) -> discord.Client:
        """A REST-only client, logged in once; a refused token is not retried for a while."""
        async with self._lock:
            if self._rest is not None:
                return self._rest
            client = discord.Client(intents=discord.Intents(guilds=True))
            # discord.py enforces a 30 s floor in its constructor; the outbox is a better place
            # to wait, so a longer 429 comes back to us as RateLimited with its retry_after.
            client.http.max_ratelimit_timeout = self._settings.discord_max_ratelimit_wait
            try:
                await client.login(self._token)
            except discord.LoginFailure:
                await client.close()
                raise DeliveryError(
                    "Discord refused DISCORD_BOT_TOKEN (401); fix it and restart",
                    retry_after=LOGIN_RETRY_SECONDS,
                ) from None
            except (discord.HTTPException, aiohttp.ClientError, OSError) as e:
                await client.close()
                raise DeliveryError(f"cannot log in to Discord: {type(e).__name__}") from None
            self._rest = client
            return client

    # -- commands -------------------------------------------------------------------------

    async def listen(self, service: Service) -> None:
        """Run the gateway client until cancelled; commands are synced once per process."""
        handler = CommandHandler(service, self._permission, on_watch=self.forget_gone)
        default = discord.Permissions(**{self._permission: True}) if self._permission else None
        client = PolicyClient(
            handler,
            default_permissions=default,
            dev_guild_id=self._settings.discord_dev_guild_id,
            sync=not self._synced,
        )
        self._synced = True
        try:
            await client.start(self._token, reconnect=True)
        finally:
            await client.close()

    def forget_gone(self, channel_id: int) -> None:
        """A channel that works again (someone ran /policy there) may be posted to again."""
        self._gone.pop(channel_id, None)

    async def aclose(self) -> None:
        if self._rest is not None:
            await self._rest.close()
            self._rest = None


def _send_kwargs(message: DiscordMessage, channel_id: int, reply_to: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "embed": discord.Embed.from_dict(message.embed),
        "allowed_mentions": NO_MENTIONS,
        "mention_author": False,
    }
    if message.components:
        view = discord.ui.View(timeout=None)
        for row in message.components:
            for button in row["components"]:
                view.add_item(
                    discord.ui.Button(
                        style=discord.ButtonStyle(button["style"]),
                        label=button["label"],
                        custom_id=button["custom_id"],
                    )
                )
        view.stop()  # clicks are handled by the gateway client's dynamic items, not this view
        kwargs["view"] = view
    if message.attachment is not None:
        data = io.BytesIO(message.attachment.data)
        kwargs["file"] = discord.File(data, filename=message.attachment.filename)
    if reply_to is not None and reply_to.isdigit():
        kwargs["reference"] = discord.MessageReference(
            message_id=int(reply_to), channel_id=channel_id, fail_if_not_exists=False
        )
    return kwargs
