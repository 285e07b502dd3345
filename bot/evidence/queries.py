"""What an evidence page reads from the store: synchronous, one short read each, run in the
store's worker threads (:func:`bot.store.threads.call`).

A change and the delivery that announced it share their check's time: ``record_check``
writes the changes (``detected_at``) and queues the deliveries (``created_at``) with the same
``now`` in one transaction. That is how a delivery finds its change without a new column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.store import Store
from bot.store.rows import SnapshotRow, SubscriptionRow, TargetRow, _row
from bot.store.tables import changes, snapshots

TIMELINE_MAX = 500  # changes listed on a target page, newest first


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    id: int
    target_id: int
    snapshot_id: int | None
    detected_at: datetime
    kind: str
    severity: str
    summary: str
    before: str | None
    after: str | None
    detail: str | None
    view: str | None


def change_of_check(store: Store, target_id: int, checked_at: datetime) -> int | None:
    """The first change recorded by the check of ``target_id`` at ``checked_at`` (a
    delivery's ``created_at``); None when that check recorded none (a "recovered" notice)."""
    with store.engine.connect() as c:
        found: int | None = c.execute(
            sa.select(sa.func.min(changes.c.id)).where(
                changes.c.target_id == target_id, changes.c.detected_at == checked_at
            )
        ).scalar()
        return found


def get_change(store: Store, change_id: int) -> ChangeRecord | None:
    with store.engine.connect() as c:
        row = c.execute(sa.select(changes).where(changes.c.id == change_id)).first()
        return _row(ChangeRecord, row) if row else None


def changes_of(store: Store, target_id: int, limit: int = TIMELINE_MAX) -> list[ChangeRecord]:
    """A target's changes, oldest first (the newest ``limit``)."""
    with store.engine.connect() as c:
        rows = c.execute(
            sa.select(changes)
            .where(changes.c.target_id == target_id)
            .order_by(changes.c.id.desc())
            .limit(limit)
        )
        return [_row(ChangeRecord, r) for r in rows][::-1]


def snapshot_pair(
    store: Store, target_id: int, snapshot_id: int | None, at: datetime
) -> tuple[SnapshotRow | None, SnapshotRow | None]:
    """(before, after) of a change: its snapshot and the one before it. A change recorded
    without a snapshot (a failed check) compares the versions current at its time."""
    with store.engine.connect() as c:
        if snapshot_id is not None:
            after_row = c.execute(sa.select(snapshots).where(snapshots.c.id == snapshot_id)).first()
        else:
            after_row = c.execute(
                sa.select(snapshots)
                .where(snapshots.c.target_id == target_id, snapshots.c.taken_at <= at)
                .order_by(snapshots.c.id.desc())
                .limit(1)
            ).first()
        after = _row(SnapshotRow, after_row) if after_row else None
        if after is None:
            return None, None
        if snapshot_id is None:
            return after, after
        before_row = c.execute(
            sa.select(snapshots)
            .where(snapshots.c.target_id == target_id, snapshots.c.id < after.id)
            .order_by(snapshots.c.id.desc())
            .limit(1)
        ).first()
        return (_row(SnapshotRow, before_row) if before_row else None), after


@dataclass(frozen=True, slots=True)
class Scoped:
    """A target as one channel sees it: the target, that channel's subscription."""

    target: TargetRow
    subscription: SubscriptionRow


def scoped_target(store: Store, target_id: int, matches: Callable[[str], bool]) -> Scoped | None:
    """The target and the subscription of the channel the link was minted for (``matches``
    its channel); None when no subscribing channel does (unwatched, or never this one's)."""
    target = store.get_target_by_id(target_id)
    if target is None:
        return None
    for sub in store.subscriptions_for(target_id):
        if matches(sub.channel):
            return Scoped(target, sub)
    return None


def facts_of(snapshot: SnapshotRow | None) -> Mapping[str, Any] | None:
    return snapshot.facts if snapshot is not None else None
