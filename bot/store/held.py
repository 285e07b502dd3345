"""Channel delivery settings and held alerts (digests, quiet hours) in the database.

Held alerts are ordinary deliveries with status ``digest`` or ``quiet`` and ``next_attempt_at``
set to when they are due, queued in the same transaction as the change they announce: they
survive a restart like any pending delivery. :func:`release_due` turns the due ones into what
the outbox sends, in ONE transaction per call (rows are claimed with ``FOR UPDATE SKIP
LOCKED``, so two replicas never send the same digest).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa

from bot.alerts.digest import HeldItem, assemble
from bot.alerts.timing import HELD, HELD_QUIET, ChannelPrefs, QuietHours, quiet_until
from bot.domain.model import Alert
from bot.store.prefs import load_prefs
from bot.store.store import DeliveryRow, Store, _row
from bot.store.tables import channels, deliveries

log = logging.getLogger(__name__)


def channel_prefs(store: Store, names: Iterable[str]) -> dict[str, ChannelPrefs]:
    """Every named channel's settings (the defaults for a channel never configured)."""
    with store.engine.connect() as c:
        return load_prefs(c, names)


def _save(store: Store, channel: str, **values: Any) -> None:
    with store.engine.begin() as c:
        updated = c.execute(
            channels.update().where(channels.c.channel == channel).values(**values)
        ).rowcount
        if not updated:
            c.execute(channels.insert().values(channel=channel, **values))


def set_digest_time(store: Store, channel: str, at: time, tz: str, weekday: int) -> None:
    _save(store, channel, digest_at=f"{at:%H:%M}", digest_tz=tz, digest_weekday=weekday)


def set_quiet(store: Store, channel: str, quiet: QuietHours | None) -> None:
    _save(
        store,
        channel,
        quiet_start=f"{quiet.start:%H:%M}" if quiet else None,
        quiet_end=f"{quiet.end:%H:%M}" if quiet else None,
        quiet_tz=quiet.tz if quiet else None,
    )


def held_count(store: Store, channel: str) -> int:
    with store.engine.connect() as c:
        return int(
            c.execute(
                sa.select(sa.func.count()).where(
                    deliveries.c.channel == channel, deliveries.c.status.in_(HELD)
                )
            ).scalar_one()
        )


def release_due(store: Store, now: datetime) -> int:
    """Queue what held alerts are due now; returns how many deliveries were queued.

    Per channel: inside its quiet hours, everything due waits for the window's end; otherwise
    one alert held by quiet hours alone goes out as it was, and anything more (or anything
    held for a digest) goes out as ONE digest grouped by target.
    """
    query = (
        sa.select(deliveries)
        .where(deliveries.c.status.in_(HELD), deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.id)
        .with_for_update(skip_locked=True)
    )
    queued = 0
    with store.engine.begin() as c:
        rows: list[DeliveryRow] = [_row(DeliveryRow, r) for r in c.execute(query)]
        if not rows:
            return 0
        by_channel: dict[str, list[DeliveryRow]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        prefs = load_prefs(c, by_channel)
        for channel, held in by_channel.items():
            ids = [r.id for r in held]
            end = quiet_until(now, prefs[channel].quiet)
            if end is not None:  # a digest due inside quiet hours waits for their end
                c.execute(
                    deliveries.update().where(deliveries.c.id.in_(ids)).values(next_attempt_at=end)
                )
                continue
            if len(held) == 1 and held[0].status == HELD_QUIET:
                c.execute(
                    deliveries.update()
                    .where(deliveries.c.id == held[0].id)
                    .values(status="pending", next_attempt_at=now)
                )
                queued += 1
                continue
            items = [HeldItem(Alert.from_json(r.payload), r.created_at, r.status) for r in held]
            digest = assemble(items, now)
            c.execute(
                deliveries.insert().values(
                    target_id=None,
                    channel=channel,
                    payload=digest.to_json(),
                    status="pending",
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                    nonce=uuid.uuid4().hex[:25],
                )
            )
            c.execute(deliveries.update().where(deliveries.c.id.in_(ids)).values(status="digested"))
            queued += 1
            log.info("digest queued alerts=%d", len(held))
    return queued


__all__ = [
    "channel_prefs",
    "held_count",
    "release_due",
    "set_digest_time",
    "set_quiet",
]
