"""Recording the outcome of a check, and reading back what was recorded.

:meth:`CheckQueries.record_check` writes the new snapshot, its changes and their deliveries in
ONE transaction (the transactional outbox, design invariant 1): a crash leaves either the old
snapshot (the change is found again) or the new one with pending deliveries (they are sent).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.model import Change, Observation, Validators
from bot.store.claims import LeaseLost
from bot.store.rows import (
    ChangeRow,
    NewDelivery,
    QuietCheck,
    SnapshotRow,
    StoreBase,
    TargetRow,
    _row,
)
from bot.store.tables import (
    UTC_DT,
    changes,
    deliveries,
    snapshots,
    subscriptions,
    targets,
)


class CheckQueries(StoreBase):
    # -- recording the outcome of one check --------------------------------------------------

    def latest_snapshot(self, target: TargetRow) -> SnapshotRow | None:
        if target.latest_snapshot_id is None:
            return None
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(snapshots).where(snapshots.c.id == target.latest_snapshot_id)
            ).first()
            return _row(SnapshotRow, row) if row else None

    def record_check(
        self,
        target_id: int,
        now: datetime,
        next_check_at: datetime,
        observation: Observation | None,
        found: Sequence[Change] = (),
        queue: Iterable[NewDelivery] = (),
        *,
        new_snapshot: bool = True,
        validators: Validators | None = None,
        owner: str | None = None,
        expected_snapshot: int | None = None,
    ) -> None:
        """Record a successful check in ONE transaction: snapshot, changes, outbox, schedule.

        ``validators`` (from a 304) refresh the stored ETag / Last-Modified when the upstream
        sent new ones.

        With ``owner`` the write is fenced: it happens only while ``owner`` holds the target's
        lease and the target's latest snapshot is still ``expected_snapshot`` (the one the
        check started from; None for "no snapshot yet"), a compare-and-set in the same
        transaction as the changes and deliveries. Otherwise nothing at all is written and
        :class:`~bot.store.claims.LeaseLost` is raised: another process owns this check now.
        """
        values: dict[str, Any] = {
            "last_checked_at": now,
            "last_ok_at": now,
            "next_check_at": next_check_at,
            "failures": 0,
            "last_error": None,
            "last_error_reason": None,
            "gone_streak": 0,
            "health_alerted": False,
            "lease_owner": None,
            "lease_until": None,
        }
        if validators is not None:
            if validators.etag:
                values["etag"] = validators.etag
            if validators.last_modified:
                values["last_modified"] = validators.last_modified
        with self.engine.begin() as c:
            snapshot_id = None
            if observation is not None:
                values["etag"] = observation.validators.etag
                values["last_modified"] = observation.validators.last_modified
                values["body_digest"] = observation.validators.body_digest
                if new_snapshot:
                    snapshot_id = c.execute(
                        snapshots.insert().values(
                            target_id=target_id,
                            taken_at=now,
                            digest=observation.digest,
                            facts=dict(observation.facts),
                            evidence=dict(observation.evidence),
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
                    values["latest_snapshot_id"] = snapshot_id
            self._insert_changes(c, target_id, snapshot_id, now, found)
            self._queue(c, target_id, now, queue)
            where = _fenced(target_id, owner, now)
            if owner is not None:
                where = sa.and_(
                    where, targets.c.latest_snapshot_id.is_not_distinct_from(expected_snapshot)
                )
            updated = c.execute(targets.update().where(where).values(**values)).rowcount
            if owner is not None and not updated:
                raise LeaseLost(target_id, owner)  # rolls back the snapshot, changes, outbox

    def record_quiet(self, checks: Sequence[QuietCheck], *, owner: str | None = None) -> None:
        """Record many quiet checks in ONE transaction (what ``record_check`` does for a 304,
        without a snapshot, changes or deliveries). One commit per target was most of the
        cost of a no-change cycle; a check that finds a change still gets its own.

        With ``owner``, a target whose lease ``owner`` no longer holds is left alone (a quiet
        check queues nothing, so skipping it loses nothing).
        """
        if not checks:
            return
        where = targets.c.id == sa.bindparam("b_id")
        if owner is not None:
            where = sa.and_(
                where,
                targets.c.lease_owner == owner,
                targets.c.lease_until >= sa.bindparam("b_now", type_=UTC_DT),
            )
        statement = (
            targets.update()
            .where(where)
            .values(
                last_checked_at=sa.bindparam("b_now", type_=UTC_DT),
                last_ok_at=sa.bindparam("b_now", type_=UTC_DT),
                next_check_at=sa.bindparam("b_next", type_=UTC_DT),
                failures=0,
                last_error=None,
                last_error_reason=None,
                gone_streak=0,
                health_alerted=False,
                lease_owner=None,
                lease_until=None,
                # absent validators keep the stored ones, as in record_check
                etag=sa.func.coalesce(sa.bindparam("b_etag", type_=sa.String), targets.c.etag),
                last_modified=sa.func.coalesce(
                    sa.bindparam("b_modified", type_=sa.String), targets.c.last_modified
                ),
            )
        )
        rows = [
            {
                "b_id": q.target_id,
                "b_now": q.checked_at,
                "b_next": q.next_check_at,
                "b_etag": q.etag or None,
                "b_modified": q.last_modified or None,
            }
            for q in checks
        ]
        with self.engine.begin() as c:
            c.execute(statement, rows)

    def record_failure(
        self,
        target_id: int,
        now: datetime,
        next_check_at: datetime,
        *,
        reason: str,
        message: str,
        failures: int,
        gone_streak: int = 0,
        found: Sequence[Change] = (),
        queue: Iterable[NewDelivery] = (),
        health_alerted: bool | None = None,
        owner: str | None = None,
    ) -> None:
        """Record a failed (or not yet confirmed) check; the snapshot does not move.

        With ``owner``, fenced like :meth:`record_check` (raises ``LeaseLost``, writes
        nothing, when ``owner`` no longer holds the lease)."""
        values: dict[str, Any] = {
            "last_checked_at": now,
            "next_check_at": next_check_at,
            "failures": failures,
            "last_error": message[:1000],
            "last_error_reason": reason[:64],
            "gone_streak": gone_streak,
            "lease_owner": None,
            "lease_until": None,
        }
        if health_alerted is not None:
            values["health_alerted"] = health_alerted
        with self.engine.begin() as c:
            self._insert_changes(c, target_id, None, now, found)
            self._queue(c, target_id, now, queue)
            updated = c.execute(
                targets.update().where(_fenced(target_id, owner, now)).values(**values)
            ).rowcount
            if owner is not None and not updated:
                raise LeaseLost(target_id, owner)

    def queue_deliveries(self, target_id: int, now: datetime, queue: Iterable[NewDelivery]) -> None:
        """Queue deliveries that announce no new change (a backfill of a feed's newest
        entries for a new subscription): the target's state does not move."""
        with self.engine.begin() as c:
            self._queue(c, target_id, now, queue)

    @staticmethod
    def _insert_changes(
        c: sa.Connection,
        target_id: int,
        snapshot_id: int | None,
        now: datetime,
        found: Sequence[Change],
    ) -> None:
        if found:
            c.execute(
                changes.insert(),
                [
                    {
                        "target_id": target_id,
                        "snapshot_id": snapshot_id,
                        "detected_at": now,
                        "kind": ch.kind.value,
                        "severity": ch.severity.value,
                        "summary": ch.summary,
                        "before": ch.before,
                        "after": ch.after,
                        "detail": ch.detail,
                        "view": ch.view,
                    }
                    for ch in found
                ],
            )

    @staticmethod
    def _queue(
        c: sa.Connection, target_id: int, now: datetime, queue: Iterable[NewDelivery]
    ) -> None:
        rows = [
            {
                "target_id": target_id,
                "channel": d.channel,
                "payload": dict(d.payload),
                "status": d.status,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": d.due or now,
                "nonce": uuid.uuid4().hex[:25],
            }
            for d in queue
        ]
        if rows:
            c.execute(deliveries.insert(), rows)

    def history(self, target_id: int, limit: int = 10) -> list[ChangeRow]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(changes)
                .where(changes.c.target_id == target_id)
                .order_by(changes.c.id.desc())
                .limit(limit)
            )
            return [_row(ChangeRow, r) for r in rows]

    def recent_changes(
        self, limit: int = 20, *, channel: str | None = None
    ) -> list[tuple[ChangeRow, str]]:
        """The newest changes with their target's reference: of every target, or of the
        targets ``channel`` subscribes to."""
        query = (
            sa.select(changes, targets.c.ref)
            .join(targets, targets.c.id == changes.c.target_id)
            .order_by(changes.c.id.desc())
            .limit(limit)
        )
        if channel is not None:
            watched = sa.select(subscriptions.c.target_id).where(subscriptions.c.channel == channel)
            query = query.where(changes.c.target_id.in_(watched))
        with self.engine.connect() as c:
            return [(_row(ChangeRow, r), r.ref) for r in c.execute(query)]

    def snapshots_of(self, target_id: int, limit: int = 2) -> list[SnapshotRow]:
        """The newest ``limit`` snapshots, newest first."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(snapshots)
                .where(snapshots.c.target_id == target_id)
                .order_by(snapshots.c.id.desc())
                .limit(limit)
            )
            return [_row(SnapshotRow, r) for r in rows]


def _fenced(target_id: int, owner: str | None, now: datetime) -> sa.ColumnElement[bool]:
    """The fence of every write of a claimed target: ``owner`` still holds its lease."""
    if owner is None:
        return targets.c.id == target_id
    return sa.and_(
        targets.c.id == target_id, targets.c.lease_owner == owner, targets.c.lease_until >= now
    )
