"""``slack-webhook:<url>``: alerts through a Slack incoming webhook, no app install needed.

The same Block Kit as the app posts, without buttons (a click would go to whichever app owns
the webhook, not to policybot). The URL is user-supplied, so every post goes through the SSRF
guard in :mod:`bot.net`; its path is a credential, so it never appears in logs or errors.
Incoming webhooks answer with plain-text error codes (``no_service``, ``channel_is_archived``
…) and HTTP statuses, translated here for the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from adapters.slack_blocks import alert_message, alert_plain_text
from bot.config import Settings
from bot.errors import ChannelGone, DeliveryError, InvalidTarget, SourceError
from bot.model import Alert
from bot.net import Limits, make_session, request

log = logging.getLogger(__name__)

_REFUSED_BLOCKS = ("invalid_blocks", "invalid_blocks_format", "invalid_payload")


class SlackWebhookAdapter:
    platform = "slack-webhook"

    def __init__(self, settings: Settings) -> None:
        self.min_interval = settings.slack_min_interval  # webhooks: 1 message/s too
        self._allow_private = settings.allow_private_urls
        self._limits = Limits(total_timeout=settings.delivery_timeout, max_bytes=64 * 1024)
        self._session: aiohttp.ClientSession | None = None

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        message = alert_message(alert, buttons=False)
        body: dict[str, Any] = {**message.payload(), "unfurl_links": False, "unfurl_media": False}
        status, answer = await self._post(address, body)
        if status == 400 and answer in _REFUSED_BLOCKS:
            log.warning("a Slack webhook refused an alert's blocks (%s); sending text", answer)
            status, answer = await self._post(address, {"text": alert_plain_text(alert)})
        if status < 300:
            return None  # webhooks give no message id: follow-ups cannot be threaded
        raise _translate(status, answer)

    async def _post(self, url: str, body: dict[str, Any]) -> tuple[int, str]:
        if self._session is None or self._session.closed:
            self._session = make_session(allow_private=self._allow_private, limits=self._limits)
        try:
            resp = await request(
                self._session,
                "POST",
                url,
                json=body,
                allow_private=self._allow_private,
                limits=self._limits,
            )
        except InvalidTarget:
            # Its message quotes the URL, which is a credential: say why without it.
            raise ChannelGone(
                "Slack webhook URL refused by the URL guard (not http(s), or it names a "
                "private address)"
            ) from None
        except SourceError as e:
            # The guard's and the network's messages name the host only, never the path.
            if e.reason == "refused":
                raise ChannelGone(f"Slack webhook refused by the URL guard: {e}") from None
            raise DeliveryError(f"Slack webhook unreachable: {e}") from None
        answer = resp.body[:200].decode("utf-8", "replace").strip()
        if resp.status == 429:
            raise DeliveryError(
                "Slack webhook rate limit (HTTP 429)",
                retry_after=_seconds(resp.headers.get("Retry-After", "")),
            )
        return resp.status, answer

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _translate(status: int, answer: str) -> DeliveryError:
    code = answer if answer.replace("_", "").isalnum() else f"HTTP {status}"
    if status in (403, 404, 410):
        return ChannelGone(f"Slack webhook answered {status} {code}: it no longer posts")
    if status >= 500:
        return DeliveryError(f"Slack webhook answered HTTP {status}")
    return DeliveryError(f"Slack webhook refused the alert: HTTP {status} {code}")


def _seconds(raw: str) -> float | None:
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
