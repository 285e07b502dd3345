"""Targets and the channels subscribed to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.domain.model import TargetRef
from bot.store.rows import (
    StoreBase,
    SubscriptionRow,
    TargetRow,
    _row,
    _target,
)
from bot.store.tables import (
    changes,
    deliveries,
    snapshots,
    subscriptions,
    targets,
)


class WatchQueries(StoreBase):
    # -- targets and subscriptions -------------------------------------------------------

    def ensure_target(
        self, ref: TargetRef, now: datetime, options: Mapping[str, Any] | None = None
    ) -> tuple[TargetRow, bool]:
        """Return the target for ``ref``, creating it (due now) when new.

        Safe when several replicas create the same target at once: the loser of the insert
        race reads the winner's row.
        """
        query = sa.select(targets).where(targets.c.ref == str(ref))
        with self.engine.connect() as c:
            row = c.execute(query).first()
        if row is not None:
            return _target(row), False
        try:
            with self.engine.begin() as c:
                c.execute(
                    targets.insert().values(
                        ref=str(ref),
                        kind=ref.kind,
                        options=dict(options or {}),
                        created_at=now,
                        next_check_at=now,
                        failures=0,
                        gone_streak=0,
                        health_alerted=False,
                    )
                )
                return _target(c.execute(query).one()), True
        except sa.exc.IntegrityError:
            with self.engine.connect() as c:
                return _target(c.execute(query).one()), False

    def delete_target(self, target_id: int) -> None:
        """Forget a target entirely (used when its very first watch is refused)."""
        with self.engine.begin() as c:
            c.execute(deliveries.delete().where(deliveries.c.target_id == target_id))
            c.execute(changes.delete().where(changes.c.target_id == target_id))
            c.execute(snapshots.delete().where(snapshots.c.target_id == target_id))
            c.execute(subscriptions.delete().where(subscriptions.c.target_id == target_id))
            c.execute(targets.delete().where(targets.c.id == target_id))

    def get_target(self, ref: str) -> TargetRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(targets).where(targets.c.ref == ref)).first()
            return _target(row) if row else None

    def get_target_by_id(self, target_id: int) -> TargetRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(targets).where(targets.c.id == target_id)).first()
            return _target(row) if row else None

    def subscribe(
        self,
        target_id: int,
        channel: str,
        now: datetime,
        *,
        created_by: str = "",
        min_severity: str = "info",
        options: Mapping[str, Any] | None = None,
    ) -> tuple[SubscriptionRow, bool]:
        """Subscribe ``channel`` to a target; idempotent (an existing subscription is updated),
        and safe when two replicas apply the same watch list at once."""
        values = {"min_severity": min_severity, "options": dict(options or {})}
        query = sa.select(subscriptions).where(
            subscriptions.c.target_id == target_id, subscriptions.c.channel == channel
        )
        created = False
        with self.engine.connect() as c:
            existing = c.execute(query).first()
        if existing is None:
            try:
                with self.engine.begin() as c:
                    c.execute(
                        subscriptions.insert().values(
                            target_id=target_id,
                            channel=channel,
                            created_by=created_by,
                            created_at=now,
                            **values,
                        )
                    )
                created = True
            except sa.exc.IntegrityError:
                pass  # another replica subscribed it first: update theirs below
        if not created:
            with self.engine.begin() as c:
                c.execute(
                    subscriptions.update()
                    .where(
                        subscriptions.c.target_id == target_id, subscriptions.c.channel == channel
                    )
                    .values(**values)
                )
        with self.engine.connect() as c:
            return _row(SubscriptionRow, c.execute(query).one()), created

    def unsubscribe(self, target_id: int, channel: str | None = None) -> int:
        """Remove the channel's subscription (or all of them); returns how many went.

        Alerts about it still held for a digest or quiet hours are dropped with it: "stopped
        watching" must not be followed by a digest about the target the next morning."""
        with self.engine.begin() as c:
            query = subscriptions.delete().where(subscriptions.c.target_id == target_id)
            held = deliveries.update().where(
                deliveries.c.target_id == target_id,
                deliveries.c.status.in_(("digest", "quiet")),
            )
            if channel is not None:
                query = query.where(subscriptions.c.channel == channel)
                held = held.where(deliveries.c.channel == channel)
            c.execute(held.values(status="dropped", last_error="unwatched"))
            return c.execute(query).rowcount

    def subscriptions_for(self, target_id: int) -> list[SubscriptionRow]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(subscriptions)
                .where(subscriptions.c.target_id == target_id)
                .order_by(subscriptions.c.id)
            )
            return [_row(SubscriptionRow, r) for r in rows]

    def watched_target_ids(self) -> list[int]:
        """The ids of every target some channel watches, ascending: what ``check`` with no
        refs checks (one narrow query, not every watch's rows)."""
        query = sa.select(subscriptions.c.target_id).distinct().order_by(subscriptions.c.target_id)
        with self.engine.connect() as c:
            return [int(r[0]) for r in c.execute(query)]

    def list_watches(self, channel: str | None = None) -> list[tuple[SubscriptionRow, TargetRow]]:
        query = (
            sa.select(subscriptions, targets)
            .join(targets, targets.c.id == subscriptions.c.target_id)
            .order_by(targets.c.ref, subscriptions.c.channel)
        )
        if channel is not None:
            query = query.where(subscriptions.c.channel == channel)
        with self.engine.connect() as c:
            out = []
            for r in c.execute(query):
                m = r._mapping
                sub = SubscriptionRow(
                    id=m[subscriptions.c.id],
                    target_id=m[subscriptions.c.target_id],
                    channel=m[subscriptions.c.channel],
                    created_by=m[subscriptions.c.created_by],
                    created_at=m[subscriptions.c.created_at],
                    min_severity=m[subscriptions.c.min_severity],
                    options=m[subscriptions.c.options],
                    muted_until=m[subscriptions.c.muted_until],
                )
                tgt = TargetRow(
                    **{f: m[getattr(targets.c, f)] for f in TargetRow.__dataclass_fields__}
                )
                out.append((sub, tgt))
            return out

    def subscription_by_id(self, sub_id: int) -> SubscriptionRow | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(subscriptions).where(subscriptions.c.id == sub_id)).first()
            return _row(SubscriptionRow, row) if row else None

    def mute(self, sub_id: int, until: datetime | None) -> None:
        with self.engine.begin() as c:
            c.execute(
                subscriptions.update().where(subscriptions.c.id == sub_id).values(muted_until=until)
            )
