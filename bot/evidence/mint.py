"""Minting an alert's evidence link when it is delivered (per delivery, so per channel).

Deliveries are queued in the same transaction as the changes they announce, before those
changes have ids; the delivery row knows its channel, its target and its check's time
(``created_at`` equals the changes' ``detected_at``), which is all a link needs. Minting at
delivery also means a link's lifetime starts when the channel is told, not when the check ran
(a digest or quiet-hours alert may wait a day).
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.evidence.links import Signer
from bot.store import DeliveryRow, Store


def signer_for(settings: Settings) -> Signer | None:
    """The signer of evidence links, or None when links are off (no public URL or secret)."""
    secret = settings.evidence_secret.get_secret_value() if settings.evidence_secret else ""
    if not settings.public_url or not secret:
        return None
    return Signer(secret, settings.public_url, settings.evidence_link_days)


def evidence_url(store: Store, signer: Signer, row: DeliveryRow, now: datetime) -> str | None:
    """The link for ``row``'s channel: its change page, or its target's timeline when the
    check recorded no change (a "recovered" notice, a feed backfill); None for a digest."""
    if row.target_id is None:
        return None
    # Only when links are on (a signer): the evidence queries are no start-up cost otherwise.
    from bot.evidence.queries import change_of_check

    change = change_of_check(store, row.target_id, row.created_at)
    if change is not None:
        return signer.url("c", change, row.channel, now)
    return signer.url("t", row.target_id, row.channel, now)
