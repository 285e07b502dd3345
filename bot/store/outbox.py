"""The outbox: claiming pending deliveries in per-channel order, marking them sent or
retried, and channels that are gone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.store.rows import (
    DeliveryRow,
    StoreBase,
    _row,
)
from bot.store.tables import (
    channels,
    deliveries,
)


class OutboxQueries(StoreBase):
    # -- the outbox ----------------------------------------------------------------------

    def claim_deliveries(
        self, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[DeliveryRow]:
        """Lease pending deliveries that are due, oldest first."""
        free = sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now)
        # Per-channel order: a delivery waits while an earlier one in its channel is waiting
        # (retry later) or is being sent by someone else.
        earlier = deliveries.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.channel == deliveries.c.channel,
            earlier.c.status == "pending",
            earlier.c.id < deliveries.c.id,
            sa.or_(earlier.c.next_attempt_at > now, earlier.c.lease_until >= now),
        )
        query = (
            sa.select(deliveries.c.id)
            .where(
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= now,
                free,
                ~blocked,
            )
            .order_by(deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=deliveries)
        )
        with self.engine.begin() as c:
            ids = [r[0] for r in c.execute(query)]
            if not ids:
                return []
            c.execute(
                deliveries.update()
                .where(deliveries.c.id.in_(ids))
                .values(lease_owner=owner, lease_until=now + lease)
            )
            rows = c.execute(
                sa.select(deliveries).where(deliveries.c.id.in_(ids)).order_by(deliveries.c.id)
            )
            return [_row(DeliveryRow, r) for r in rows]

    def thread_parent(self, target_id: int, channel: str) -> str | None:
        """The platform id of the last top-level alert about this target in this channel."""
        query = (
            sa.select(deliveries.c.message_id)
            .where(
                deliveries.c.target_id == target_id,
                deliveries.c.channel == channel,
                deliveries.c.status == "sent",
                deliveries.c.message_id.is_not(None),
                deliveries.c.reply_to.is_(None),
            )
            .order_by(deliveries.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as c:
            return c.execute(query).scalar()

    def mark_sent(
        self, delivery_id: int, now: datetime, message_id: str | None, reply_to: str | None
    ) -> None:
        with self.engine.begin() as c:
            c.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(
                    status="sent",
                    sent_at=now,
                    message_id=message_id,
                    reply_to=reply_to,
                    attempts=deliveries.c.attempts + 1,
                    lease_owner=None,
                    lease_until=None,
                    last_error=None,
                )
            )
            channel = c.execute(
                sa.select(deliveries.c.channel).where(deliveries.c.id == delivery_id)
            ).scalar_one()
            self._touch_channel(c, channel, last_post_at=now)

    def mark_retry(
        self, delivery_id: int, next_attempt_at: datetime, error: str, *, give_up: bool = False
    ) -> None:
        with self.engine.begin() as c:
            c.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(
                    status="failed" if give_up else "pending",
                    next_attempt_at=next_attempt_at,
                    attempts=deliveries.c.attempts + 1,
                    last_error=error[:1000],
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def release_deliveries(self, ids: Sequence[int]) -> None:
        """Give leased deliveries back untouched (e.g. an earlier one in the channel failed)."""
        if ids:
            with self.engine.begin() as c:
                c.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(list(ids)))
                    .values(lease_owner=None, lease_until=None)
                )

    def disable_channel(self, channel: str, now: datetime, reason: str) -> int:
        """Stop delivering to a channel that is gone; its pending deliveries are dropped."""
        with self.engine.begin() as c:
            self._touch_channel(c, channel, disabled_at=now, disabled_reason=reason[:1000])
            return c.execute(
                deliveries.update()
                .where(
                    deliveries.c.channel == channel,
                    deliveries.c.status.in_(("pending", "digest", "quiet")),
                )
                .values(
                    status="dropped", last_error=reason[:1000], lease_owner=None, lease_until=None
                )
            ).rowcount

    def channel_disabled(self, channel: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(
                sa.select(channels.c.disabled_reason).where(
                    channels.c.channel == channel, channels.c.disabled_at.is_not(None)
                )
            ).scalar()

    def enable_channel(self, channel: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                channels.update()
                .where(channels.c.channel == channel)
                .values(disabled_at=None, disabled_reason=None)
            )

    @staticmethod
    def _touch_channel(c: sa.Connection, channel: str, **values: Any) -> None:
        updated = c.execute(
            channels.update().where(channels.c.channel == channel).values(**values)
        ).rowcount
        if not updated:
            c.execute(channels.insert().values(channel=channel, **values))

    def delivery_counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
            )
            return {status: count for status, count in rows}

    def deliveries_for(self, channel: str | None = None) -> list[DeliveryRow]:
        query = sa.select(deliveries).order_by(deliveries.c.id)
        if channel is not None:
            query = query.where(deliveries.c.channel == channel)
        with self.engine.connect() as c:
            return [_row(DeliveryRow, r) for r in c.execute(query)]
