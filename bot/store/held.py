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

from bot.digest import HeldItem, assemble
from bot.model import Alert
from bot.routing import HELD, HELD_QUIET, ChannelPrefs, QuietHours, parse_clock, quiet_until
from bot.store.store import DeliveryRow, Store, _row
from bot.store.tables import channels, deliveries, workspaces
from bot.store.tenants import workspace_of

log = logging.getLogger(__name__)


def _prefs(row: Any, default: ChannelPrefs) -> ChannelPrefs:
    m = row._mapping
    quiet = None
    if m["quiet_start"] and m["quiet_end"] and m["quiet_tz"]:
        quiet = QuietHours(
            parse_clock(m["quiet_start"]), parse_clock(m["quiet_end"]), m["quiet_tz"]
        )
    return ChannelPrefs(
        digest_at=parse_clock(m["digest_at"]) if m["digest_at"] else default.digest_at,
        digest_tz=m["digest_tz"] or default.digest_tz,
        digest_weekday=m["digest_weekday"] if m["digest_weekday"] is not None else 0,
        quiet=quiet,
    )


def _load(c: sa.Connection, names: Iterable[str]) -> dict[str, ChannelPrefs]:
    """Each channel's settings; what a channel has not set comes from its workspace's
    defaults (``settings digest``), then from :class:`ChannelPrefs`."""
    wanted = sorted(set(names))
    rows: dict[str, Any] = {}
    if wanted:
        for row in c.execute(sa.select(channels).where(channels.c.channel.in_(wanted))):
            rows[row.channel] = row
    homes = {
        name: (rows[name].workspace if name in rows else None) or workspace_of(name)
        for name in wanted
    }
    defaults: dict[str, ChannelPrefs] = {}
    spaces = sorted({w for w in homes.values() if w})
    if spaces:
        query = sa.select(workspaces).where(
            workspaces.c.workspace.in_(spaces), workspaces.c.digest_at.is_not(None)
        )
        for ws in c.execute(query):
            defaults[ws.workspace] = ChannelPrefs(
                digest_at=parse_clock(ws.digest_at), digest_tz=ws.digest_tz or "UTC"
            )
    found: dict[str, ChannelPrefs] = {}
    for name in wanted:
        home = homes[name]
        default = defaults.get(home, ChannelPrefs()) if home else ChannelPrefs()
        found[name] = _prefs(rows[name], default) if name in rows else default
    return found


def channel_prefs(store: Store, names: Iterable[str]) -> dict[str, ChannelPrefs]:
    """Every named channel's settings (the defaults for a channel never configured)."""
    with store.engine.connect() as c:
        return _load(c, names)


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
        prefs = _load(c, by_channel)
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
