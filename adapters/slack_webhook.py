"""``slack-webhook:<url>``: alerts through a Slack incoming webhook, no app install needed.

The same Block Kit as the app posts, without buttons (a click would go to whichever app owns
the webhook, not to policybot). The URL is user-supplied, so every post goes through the SSRF
guard in :mod:`bot.net`; its path is a credential, so it never appears in logs or errors.
Incoming webhooks answer with plain-text error codes (``no_service``, ``channel_is_archived``
…) and HTTP statuses, translated here for the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.config import Settings
from bot.domain.errors import DeliveryError
from bot.domain.model import Alert
from bot.net import HttpClient, delivery_error, post_webhook

log = logging.getLogger(__name__)

_REFUSED_BLOCKS = ("invalid_blocks", "invalid_blocks_format", "invalid_payload")


class SlackWebhookAdapter:
    platform = "slack-webhook"

    def __init__(self, settings: Settings) -> None:
        self.min_interval = settings.slack_min_interval  # webhooks: 1 message/s too
        self._http = HttpClient.for_users(
            settings, total_timeout=settings.delivery_timeout, max_bytes=64 * 1024
        )

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        # Imported at the first alert: a `policybot check` that posts none never pays for it.
        from adapters.slack_blocks import alert_message, alert_plain_text

        message = alert_message(alert, buttons=False)
        body: dict[str, Any] = {**message.payload(), "unfurl_links": False, "unfurl_media": False}
        status, answer, headers = await self._post(address, body)
        if status == 400 and answer in _REFUSED_BLOCKS:
            log.warning("a Slack webhook refused an alert's blocks (%s); sending text", answer)
            status, answer, headers = await self._post(address, {"text": alert_plain_text(alert)})
        if status < 300:
            return None  # webhooks give no message id: follow-ups cannot be threaded
        raise _translate(status, answer, headers)

    async def _post(self, url: str, body: dict[str, Any]) -> tuple[int, str, Mapping[str, str]]:
        resp = await post_webhook(self._http, url, "Slack webhook", json=body)
        answer = resp.body[:200].decode("utf-8", "replace").strip()
        return resp.status, answer, resp.headers

    async def aclose(self) -> None:
        await self._http.aclose()


def _translate(status: int, answer: str, headers: Mapping[str, str]) -> DeliveryError:
    """Slack's plain-text error code, through the one status mapping: 4xx other than 408/429
    (``no_service``, ``channel_is_archived``, ``invalid_token`` …) means it never posts again."""
    code = answer if answer.replace("_", "").isalnum() else ""
    error = delivery_error(status, headers, what="Slack webhook", detail=code)
    return error or DeliveryError(f"Slack webhook answered HTTP {status} {code}")
