"""Generic JSON webhooks (``webhook:<url>``): the neutral alert, POSTed as JSON.

For tools that are neither Slack nor Discord (an incident system, a small script). The URL is
user-supplied, so every post passes the SSRF guard in ``bot.net``; its path may be a
credential, so it never appears in logs or errors.
"""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.errors import ChannelGone, DeliveryError, SourceError
from bot.model import Alert
from bot.net import Limits, make_session, request


class WebhookAdapter:
    platform = "webhook"
    min_interval = 0.0

    def __init__(self, settings: Settings) -> None:
        self._allow_private = settings.allow_private_urls
        self._limits = Limits(total_timeout=settings.delivery_timeout, max_bytes=64 * 1024)
        self._session: aiohttp.ClientSession | None = None

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        if self._session is None or self._session.closed:
            self._session = make_session(allow_private=self._allow_private, limits=self._limits)
        payload = {"policybot": 1, "nonce": nonce, "alert": alert.to_json()}
        try:
            resp = await request(
                self._session,
                "POST",
                address,
                json=payload,
                allow_private=self._allow_private,
                limits=self._limits,
                headers={"Idempotency-Key": nonce},
            )
        except SourceError as e:
            raise DeliveryError(f"webhook unreachable: {e}") from None
        if resp.status in (404, 410):
            raise ChannelGone(f"webhook answered HTTP {resp.status}: it no longer exists")
        if resp.status == 429 or resp.status >= 500:
            retry = resp.headers.get("Retry-After", "")
            raise DeliveryError(
                f"webhook answered HTTP {resp.status}",
                retry_after=float(retry) if retry.isdigit() else None,
            )
        if resp.status >= 400:
            raise ChannelGone(f"webhook refused the alert with HTTP {resp.status}")
        return None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
