"""The outbox → adapters: claim pending deliveries, post them in order, mark them sent.

A delivery is marked sent right after the platform accepts it (invariant 2). Every write of a
claimed delivery is fenced by its lease owner: the leases of a batch are renewed while it is
posted (Slack paces one post a second, so a long batch outlives any fixed lease), each
delivery's lease is checked (and renewed) right before it is posted, and a process that lost
a delivery posts nothing and cannot mark it sent or retried. Store calls run in worker threads
(:mod:`bot.store.threads`) so database waits never freeze the event loop. Per channel,
deliveries go out in the order they were queued: when one must wait (429, 5xx), the later ones
in that channel wait behind it. A channel that is gone is disabled with one log line instead of
a retry storm. Each alert is rendered in its channel's language (its workspace's setting,
else its platform's locale, else ``POLICYBOT_DEFAULT_LANGUAGE``) right before it is posted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.alerts.localize import localized
from bot.check.schedule import delivery_backoff
from bot.config import Settings
from bot.domain.errors import ChannelGone, DeliveryError
from bot.domain.model import Alert, Link
from bot.domain.refs import parse_channel
from bot.evidence.mint import evidence_url, signer_for
from bot.i18n import msg, pick_language
from bot.store import DeliveryRow, Store
from bot.store.held import release_due
from bot.store.outbox import NextDelivery, Taken
from bot.store.tenants import channel_language
from bot.store.threads import call, keep_renewed

log = logging.getLogger(__name__)


class Adapter(Protocol):
    """What a chat platform (or the console, or a webhook) provides to the dispatcher."""

    platform: str
    min_interval: float  # seconds between two posts to one channel (Slack: about 1)

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        """Post ``alert``; return the platform's message id (for threading) if any.

        Raises ChannelGone when the channel is gone, DeliveryError (with retry_after when the
        platform gave one) when it may work later.
        """
        ...


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    dropped: int = 0
    failed: int = 0
    lost: int = 0  # taken over by another process: not posted here (or posted, not marked)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, Adapter],
        settings: Settings,
        clock: Callable[[], datetime],
        owner: str,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        self.owner = owner
        self._last_post: dict[str, float] = {}
        self._warned_missing: set[str] = set()
        self._lock = asyncio.Lock()
        self._lease = timedelta(seconds=settings.delivery_lease_seconds)
        self._held: set[int] = set()  # claimed by this flush and not yet settled
        self._signer = signer_for(settings)  # evidence links, when POLICYBOT_PUBLIC_URL is set

    async def flush(self) -> DispatchResult:
        """Send everything that is due now, including digests and alerts held by quiet hours
        whose time has come. One flush at a time per process."""
        async with self._lock:
            result = DispatchResult()
            await call(release_due, self.store, self.clock())
            while True:
                batch = await call(
                    self.store.claim_deliveries, self.clock(), self.owner, self._lease, 200
                )
                if not batch:
                    return result
                by_channel: dict[str, list[DeliveryRow]] = {}
                for row in batch:
                    by_channel.setdefault(row.channel, []).append(row)
                self._held = {row.id for row in batch}
                renewer = asyncio.create_task(
                    keep_renewed(
                        self._lease.total_seconds(),
                        lambda: self._held,
                        lambda ids: self.store.renew_deliveries(
                            ids, self.owner, self.clock(), self._lease
                        ),
                        "delivery",
                    )
                )
                try:
                    await asyncio.gather(
                        *(self._send_channel(ch, rows, result) for ch, rows in by_channel.items())
                    )
                finally:
                    renewer.cancel()
                    await asyncio.gather(renewer, return_exceptions=True)
                    self._held = set()
                if result.retried or result.dropped:
                    # Something must wait: don't spin on the same rows in this flush.
                    return result

    async def _send_channel(
        self, channel: str, rows: list[DeliveryRow], result: DispatchResult
    ) -> None:
        address = parse_channel(channel)
        adapter = self.adapters.get(address.platform)
        setting, locale = await call(channel_language, self.store, channel)
        lang = pick_language(setting, locale, self.settings.default_language)
        taken: Taken | None = None  # this row, renewed as the previous one was marked sent
        for index, row in enumerate(rows):
            if adapter is None:
                await self._no_adapter(channel, address.platform, rows[index:], result)
                return
            await self._pace(channel, adapter.min_interval)
            # Right before posting: is this delivery still ours? (Renewing it answers that and
            # gives the post a whole lease.) If not, another process owns it: post nothing.
            # After the first post of a batch the answer came with the previous mark: a lease
            # just renewed cannot be taken over during a pacing wait far shorter than it.
            if taken is None or taken.id != row.id:
                held = bool(
                    await call(
                        self.store.renew_deliveries, [row.id], self.owner, self.clock(), self._lease
                    )
                )
                taken = None
            else:
                held = taken.held
            if not held:
                result.lost += 1
                log.warning(
                    "delivery not posted: lease lost to another process delivery=%d channel=%s",
                    row.id,
                    _safe(channel),
                )
                await self._release(rows[index + 1 :])
                return
            try:
                alert = await self._with_evidence(row, Alert.from_json(row.payload))
                alert = localized(alert, lang)  # the messages in this channel's language
                if not alert.threaded or row.target_id is None:
                    reply_to = None
                elif taken is not None:
                    reply_to = taken.parent
                else:
                    reply_to = await call(self.store.thread_parent, row.target_id, channel)
                message_id = await asyncio.wait_for(
                    adapter.deliver(address.address, alert, reply_to=reply_to, nonce=row.nonce),
                    timeout=self.settings.delivery_timeout,
                )
            except ChannelGone as e:
                dropped = await call(self.store.disable_channel, channel, self.clock(), str(e))
                result.dropped += dropped
                log.error(
                    "channel is gone, deliveries to it stopped channel=%s reason=%s dropped=%d",
                    _safe(channel),
                    e,
                    dropped,
                )
                return
            except (DeliveryError, TimeoutError, OSError) as e:
                retry_after = getattr(e, "retry_after", None)
                await self._retry(row, str(e) or type(e).__name__, retry_after, result)
                await self._release(rows[index + 1 :])
                return
            except Exception as e:  # an adapter bug: keep the alert, log it, try later
                log.exception("delivery crashed channel=%s delivery=%d", _safe(channel), row.id)
                await self._retry(row, f"internal error: {type(e).__name__}", None, result)
                await self._release(rows[index + 1 :])
                return
            self._last_post[channel] = time.monotonic()
            following = rows[index + 1] if index + 1 < len(rows) else None
            # Marked sent right after the post (invariant 2); the channel's next delivery is
            # renewed (and its thread parent read) in the same transaction.
            handover = await call(
                self.store.mark_sent_and_take,
                row.id,
                self.clock(),
                message_id,
                reply_to,
                owner=self.owner,
                lease=self._lease,
                take=_next_delivery(following) if following is not None else None,
            )
            taken = handover.taken
            self._held.discard(row.id)
            if handover.marked:
                result.sent += 1
            else:  # the window fencing cannot close: see docs/operations or the issue note
                result.lost += 1
                log.warning(
                    "delivery posted but another process had taken it over; it may be posted "
                    "twice delivery=%d channel=%s",
                    row.id,
                    _safe(channel),
                )

    async def _with_evidence(self, row: DeliveryRow, alert: Alert) -> Alert:
        """The alert with its evidence page linked, minted for this delivery's channel."""
        if self._signer is None or alert.evidence_url:
            return alert
        url = await call(evidence_url, self.store, self._signer, row, self.clock())
        if url is None:
            return alert
        return replace(alert, evidence_url=url, links=(Link(msg("Evidence"), url), *alert.links))

    async def _release(self, rows: list[DeliveryRow]) -> None:
        ids = [r.id for r in rows]
        self._held.difference_update(ids)
        await call(self.store.release_deliveries, ids, owner=self.owner)

    async def _retry(
        self, row: DeliveryRow, error: str, retry_after: float | None, result: DispatchResult
    ) -> None:
        attempts = row.attempts + 1
        give_up = attempts >= self.settings.delivery_max_attempts
        delay = delivery_backoff(attempts, retry_after)
        self._held.discard(row.id)
        if not await call(
            self.store.mark_retry,
            row.id,
            self.clock() + timedelta(seconds=delay),
            error,
            give_up=give_up,
            owner=self.owner,
        ):
            result.lost += 1
            log.warning("delivery failed here and another process owns it now delivery=%d", row.id)
            return
        if give_up:
            result.failed += 1
            log.error(
                "delivery abandoned after %d attempts delivery=%d channel=%s error=%s",
                attempts,
                row.id,
                _safe(row.channel),
                error,
            )
        else:
            result.retried += 1
            log.warning(
                "delivery will be retried in %.0f s delivery=%d channel=%s error=%s",
                delay,
                row.id,
                _safe(row.channel),
                error,
            )

    async def _no_adapter(
        self, channel: str, platform: str, rows: list[DeliveryRow], result: DispatchResult
    ) -> None:
        if platform not in self._warned_missing:
            self._warned_missing.add(platform)
            log.warning(
                "deliveries to %s wait: no %s credentials are configured in this process",
                platform,
                platform,
            )
        for row in rows:
            self._held.discard(row.id)
            await call(
                self.store.mark_retry,
                row.id,
                self.clock() + timedelta(minutes=5),
                f"no {platform} adapter configured",
                owner=self.owner,
            )
        result.retried += len(rows)

    async def _pace(self, channel: str, min_interval: float) -> None:
        last = self._last_post.get(channel)
        if last is not None and min_interval > 0:
            wait = last + min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)


def _next_delivery(row: DeliveryRow) -> NextDelivery:
    return NextDelivery(
        row.id, row.target_id, row.channel, threaded=bool(row.payload.get("threaded", True))
    )


def _safe(channel: str) -> str:
    """Channel addresses of webhooks carry a credential in their path: never log it."""
    platform, _, address = channel.partition(":")
    if "webhook" in platform and address:
        return f"{platform}:<redacted>"
    return channel
