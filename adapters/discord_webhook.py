"""``discord-webhook:<url>`` channels: alerts through a channel webhook, no bot needed.

The user pastes the webhook URL Discord shows (``https://discord.com/api/webhooks/<id>/<token>``);
only its id and token are used, and the request goes to ``POLICYBOT_DISCORD_API_URL`` like every
other Discord request. So a user-supplied URL can never make policybot dial an arbitrary host,
and the fake Discord in the tests receives webhook executions too.

Why aiohttp and not ``discord.Webhook``: discord.py's webhook client sleeps through every 429
(up to five times, however long ``retry_after`` is), which would hold the outbox for minutes.
Here a 429 becomes ``DeliveryError(retry_after=…)`` at once and the outbox waits instead.

What webhooks cannot do (Discord's rules, not ours): carry a nonce (a retry after a crash may
post twice), reply to an earlier message (follow-ups are new messages), or have buttons
(interactive components need an application-owned webhook, and nobody would receive the
click). The URL's token is a credential: it never appears in logs or errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.config import Settings
from bot.domain.errors import ChannelGone, DeliveryError
from bot.domain.model import Alert
from bot.domain.refs import DISCORD_WEBHOOK_URL
from bot.net import HttpClient, delivery_error, parse_retry_after, post_webhook

if TYPE_CHECKING:
    from adapters.discord_embeds import DiscordMessage

NO_MENTIONS: dict[str, Any] = {"parse": []}


def parse_webhook_url(url: str) -> tuple[str, str, str | None]:
    """(webhook id, token, thread id or None) of a Discord webhook URL, or ValueError."""
    match = DISCORD_WEBHOOK_URL.match(url.strip())
    if match is None:
        raise ValueError(
            "not a Discord webhook URL (expected https://discord.com/api/webhooks/<id>/<token>)"
        )
    thread = re.search(r"(?:^|&)thread_id=(\d{17,20})(?:&|$)", match["query"] or "")
    return match["id"], match["token"], thread.group(1) if thread else None


def message_form(payload: dict[str, Any], message: DiscordMessage) -> aiohttp.FormData | None:
    """Multipart body (``payload_json`` + ``files[0]``) when the message carries a file."""
    if message.attachment is None:
        return None
    payload = {**payload, "attachments": [{"id": 0, "filename": message.attachment.filename}]}
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps(payload), content_type="application/json")
    form.add_field(
        "files[0]",
        message.attachment.data,
        filename=message.attachment.filename,
        content_type="text/plain; charset=utf-8",
    )
    return form


class DiscordWebhookAdapter:
    platform = "discord-webhook"
    min_interval = 1.0  # Discord's per-webhook bucket is about 5 per 2 s [UNVERIFIED]

    def __init__(self, settings: Settings) -> None:
        self._api = settings.discord_api_url.rstrip("/")
        # The operator's Discord API URL (the user's URL only gives id and token).
        self._http = HttpClient.trusted(
            settings, total_timeout=settings.delivery_timeout, max_bytes=256 * 1024
        )

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        try:
            hook_id, token, thread_id = parse_webhook_url(address)
        except ValueError as e:
            raise ChannelGone(str(e)) from None
        # Imported at the first alert: a `policybot check` that posts none never pays for it.
        from adapters.discord_embeds import alert_message

        message = alert_message(alert)
        payload: dict[str, Any] = {"embeds": [message.embed], "allowed_mentions": NO_MENTIONS}
        query = "?wait=true" + (f"&thread_id={thread_id}" if thread_id else "")
        form = message_form(payload, message)
        resp = await post_webhook(
            self._http,
            f"{self._api}/webhooks/{hook_id}/{token}{query}",
            "Discord webhook",
            data=form,
            json=payload if form is None else None,
        )
        data = _json(resp.body)
        if 200 <= resp.status < 300:
            return str(data.get("id")) if data.get("id") else None
        raise _error(resp.status, data, resp.headers)

    async def aclose(self) -> None:
        await self._http.aclose()


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(status: int, data: dict[str, Any], headers: Mapping[str, str]) -> DeliveryError:
    """Through the one status mapping; Discord's body ``retry_after`` wins over the header."""
    what = f"{data.get('message', 'error')} ({data.get('code', status)})"
    if status == 404:
        return ChannelGone(f"the Discord webhook is gone: {what}; create a new one and watch again")
    retry = data.get("retry_after")
    seconds = float(retry) if isinstance(retry, int | float) and retry >= 0 else None
    if seconds is None:
        seconds = parse_retry_after(headers.get("Retry-After"))
    error = delivery_error(
        status, headers, what="Discord webhook", detail=what, retry_after=seconds
    )
    return error or DeliveryError(f"Discord answered HTTP {status}: {what}")
