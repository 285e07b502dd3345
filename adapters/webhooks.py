"""Generic JSON webhooks (``webhook:<url>``): the neutral alert, POSTed as JSON.

For tools that are neither Slack nor Discord (an incident system, a small script). The URL is
user-supplied, so every post goes through :class:`bot.net.HttpClient` (SSRF guard on every
hop, the operator's limits); its path may be a credential, so it never appears in logs or
errors. A webhook that can never work (refused by the guard, 4xx other than 408/429) stops
its channel at once instead of being retried.
"""

from __future__ import annotations

from bot.config import Settings
from bot.domain.model import Alert
from bot.net import HttpClient, delivery_error, post_webhook


class WebhookAdapter:
    platform = "webhook"
    min_interval = 0.0

    def __init__(self, settings: Settings) -> None:
        self._http = HttpClient.for_users(
            settings, total_timeout=settings.delivery_timeout, max_bytes=64 * 1024
        )

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        payload = {"policybot": 1, "nonce": nonce, "alert": alert.to_json()}
        resp = await post_webhook(
            self._http, address, "webhook", json=payload, headers={"Idempotency-Key": nonce}
        )
        error = delivery_error(resp.status, resp.headers, what="webhook")
        if error is not None:
            raise error
        return None

    async def aclose(self) -> None:
        await self._http.aclose()
