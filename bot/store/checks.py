"""Recording the outcome of a check, and reading back what was recorded.

:meth:`CheckQueries.record_check` writes the new snapshot, its changes and their deliveries in
ONE transaction (the transactional outbox, design invariant 1): a crash leaves either the old
snapshot (the change is found again) or the new one with pending deliveries (they are sent).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from bot.domain.model import Change, Observation, Validators
from bot.store.claims import LeaseLost
from bot.store.prefs import load_prefs
from bot.store.prepared import Prepared
from bot.store.rows import (
    ChangeRow,
    NewDelivery,
    QuietCheck,
    SnapshotRow,
    StoreBase,
    SubscriptionRow,
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

X = TypeVar("X")

if TYPE_CHECKING:
    from bot.alerts.timing import ChannelPrefs


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """A successful check to record (the arguments of :meth:`CheckQueries.record_check`)."""

    target_id: int
    now: datetime
    next_check_at: datetime
    observation: Observation | None
    found: tuple[Change, ...] = ()
    queue: tuple[NewDelivery, ...] = ()
    new_snapshot: bool = True
    validators: Validators | None = None
    expected_snapshot: int | None = None


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """A failed check to record (the arguments of :meth:`CheckQueries.record_failure`)."""

    target_id: int
    now: datetime
    next_check_at: datetime
    reason: str
    message: str
    failures: int
    gone_streak: int = 0
    found: tuple[Change, ...] = ()
    queue: tuple[NewDelivery, ...] = ()
    health_alerted: bool | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a claimed batch's checks read, loaded once (:meth:`CheckQueries.prefetch`)."""

    subscriptions: Mapping[int, list[SubscriptionRow]]  # by target id
    prefs: Mapping[str, ChannelPrefs]  # by channel


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

    def prefetch(self, batch: Sequence[TargetRow]) -> CheckContext:
        """What every check of a claimed batch reads, in two queries instead of several per
        target: its subscriptions and their channels' settings. The subscriptions are read
        once per batch (one added while the batch runs is seen next check, as before when it
        was added after the fetch). Snapshots are read only by the checks that need them
        (:meth:`snapshots_by_id`, :meth:`earlier_snapshots`): a 304 needs none."""
        ids = [t.id for t in batch]
        subs: dict[int, list[SubscriptionRow]] = {i: [] for i in ids}
        with self.engine.connect() as c:
            for chunk in _chunks(ids):
                rows = c.execute(
                    sa.select(subscriptions)
                    .where(subscriptions.c.target_id.in_(chunk))
                    .order_by(subscriptions.c.id)
                )
                for row in rows:
                    subs[row.target_id].append(_row(SubscriptionRow, row))
            channel_names = {s.channel for rows_ in subs.values() for s in rows_}
            prefs = load_prefs(c, sorted(channel_names)) if channel_names else {}
        return CheckContext(subs, prefs)

    def snapshots_by_id(self, ids: Sequence[int]) -> list[SnapshotRow | None]:
        """The snapshots of ``ids``, in order, in one query (None for an id not found)."""
        found: dict[int, SnapshotRow] = {}
        with self.engine.connect() as c:
            for chunk in _chunks(sorted(set(ids))):
                for row in c.execute(_SNAPSHOTS_BY_ID, {"ids": chunk}):
                    found[row.id] = _row(SnapshotRow, row)
        return [found.get(i) for i in ids]

    def earlier_snapshots(self, latest: Sequence[tuple[int, int]]) -> list[SnapshotRow | None]:
        """For each ``(target_id, latest_snapshot_id)``, the target's snapshot before that
        one (what ``snapshots_of(target_id, 2)[1]`` is while the latest is the newest), in
        one query; None for a target with a single snapshot."""
        found: dict[int, SnapshotRow] = {}
        with self.engine.connect() as c:
            for chunk in _chunks(list(latest)):
                before = (
                    sa.select(sa.func.max(snapshots.c.id))
                    .where(
                        snapshots.c.target_id.in_([t for t, _s in chunk]),
                        snapshots.c.id.not_in([s for _t, s in chunk]),
                    )
                    .group_by(snapshots.c.target_id)
                )
                for row in c.execute(sa.select(snapshots).where(snapshots.c.id.in_(before))):
                    found[row.target_id] = _row(SnapshotRow, row)
        return [found.get(t) for t, _s in latest]

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
        record = CheckRecord(
            target_id,
            now,
            next_check_at,
            observation,
            tuple(found),
            tuple(queue),
            new_snapshot=new_snapshot,
            validators=validators,
            expected_snapshot=expected_snapshot,
        )
        if not self.record_many([record], owner=owner)[0]:
            raise LeaseLost(target_id, owner)

    def record_many(
        self, records: Sequence[CheckRecord | FailureRecord], *, owner: str | None = None
    ) -> list[bool]:
        """Record the outcomes of many checks in ONE transaction (a group commit: one commit
        per check was most of the store cost of a cycle); whether each was recorded.

        Each record is fenced on its own exactly as :meth:`record_check` /
        :meth:`record_failure` fence it: a target whose lease ``owner`` lost (or whose
        snapshot moved) records nothing at all (False), the others still record. A target's
        snapshot, changes and deliveries are written together or not at all (invariant 1):
        the changes and deliveries of the batch are inserted after every fenced ``UPDATE``
        and only for the targets whose fence held, and a snapshot written ahead of a failed
        fence is deleted again in the same transaction.

        The statements are few and fixed: the batch's snapshots in one multi-row ``INSERT …
        RETURNING``, one cached ``UPDATE`` per target (its own row count is its fence), the
        changes and the deliveries each in one ``executemany`` (building a statement per
        target was a tenth of an all-changed cycle's CPU).
        """
        if not records:
            return []
        with self.engine.begin() as c:
            snapshot_ids = _insert_snapshots(c, records)
            recorded = [
                _fence(c, r, snapshot_id, owner)
                for r, snapshot_id in zip(records, snapshot_ids, strict=True)
            ]
            dropped = [
                s for s, ok in zip(snapshot_ids, recorded, strict=True) if s is not None and not ok
            ]
            if dropped:  # a failed fence: those checks leave no trace
                c.execute(snapshots.delete().where(snapshots.c.id.in_(dropped)))
            kept = [(r, s) for r, s, ok in zip(records, snapshot_ids, recorded, strict=True) if ok]
            change_rows = [
                row for r, s in kept for row in _change_rows(r.target_id, s, r.now, r.found)
            ]
            if change_rows:
                c.execute(changes.insert(), change_rows)
            delivery_rows = [
                row for r, _s in kept for row in _delivery_rows(r.target_id, r.now, r.queue)
            ]
            if delivery_rows:
                c.execute(deliveries.insert(), delivery_rows)
        return recorded

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
        record = FailureRecord(
            target_id,
            now,
            next_check_at,
            reason=reason,
            message=message,
            failures=failures,
            gone_streak=gone_streak,
            found=tuple(found),
            queue=tuple(queue),
            health_alerted=health_alerted,
        )
        if not self.record_many([record], owner=owner)[0]:
            raise LeaseLost(target_id, owner)

    def queue_deliveries(self, target_id: int, now: datetime, queue: Iterable[NewDelivery]) -> None:
        """Queue deliveries that announce no new change (a backfill of a feed's newest
        entries for a new subscription): the target's state does not move."""
        rows = _delivery_rows(target_id, now, queue)
        if rows:
            with self.engine.begin() as c:
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


# Built once (only the ids vary): building the query per call was a third of its CPU.
_SNAPSHOTS_BY_ID = sa.select(snapshots).where(
    snapshots.c.id.in_(sa.bindparam("ids", expanding=True))
)


def _chunks(ids: Sequence[X], size: int = 500) -> Iterator[Sequence[X]]:
    """``IN`` lists of bounded length (SQLite's limit on bound parameters)."""
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _snapshot_row(r: CheckRecord | FailureRecord) -> dict[str, Any] | None:
    """The snapshot a record writes, if any (a check that read a new body)."""
    if isinstance(r, FailureRecord) or r.observation is None or not r.new_snapshot:
        return None
    return {
        "target_id": r.target_id,
        "taken_at": r.now,
        "digest": r.observation.digest,
        "facts": dict(r.observation.facts),
        "evidence": dict(r.observation.evidence),
    }


_INSERT_SNAPSHOTS = snapshots.insert().returning(snapshots.c.id, sort_by_parameter_order=True)


def _insert_snapshots(
    c: sa.Connection, records: Sequence[CheckRecord | FailureRecord]
) -> list[int | None]:
    """Insert the snapshots of ``records`` in one statement; each record's new id (or None)."""
    rows = [_snapshot_row(r) for r in records]
    wanted = [row for row in rows if row is not None]
    if not wanted:
        return [None] * len(records)
    ids = iter(c.execute(_INSERT_SNAPSHOTS, wanted).scalars().all())
    return [next(ids) if row is not None else None for row in rows]


def _target_values(r: CheckRecord | FailureRecord, snapshot_id: int | None) -> dict[str, Any]:
    """The target's columns a record sets (the schedule, the health, the validators)."""
    if isinstance(r, FailureRecord):
        failed: dict[str, Any] = {
            "last_checked_at": r.now,
            "next_check_at": r.next_check_at,
            "failures": r.failures,
            "last_error": r.message[:1000],
            "last_error_reason": r.reason[:64],
            "gone_streak": r.gone_streak,
            "lease_owner": None,
            "lease_until": None,
        }
        if r.health_alerted is not None:
            failed["health_alerted"] = r.health_alerted
        return failed
    values: dict[str, Any] = {
        "last_checked_at": r.now,
        "last_ok_at": r.now,
        "next_check_at": r.next_check_at,
        "failures": 0,
        "last_error": None,
        "last_error_reason": None,
        "gone_streak": 0,
        "health_alerted": False,
        "lease_owner": None,
        "lease_until": None,
    }
    if r.validators is not None:
        if r.validators.etag:
            values["etag"] = r.validators.etag
        if r.validators.last_modified:
            values["last_modified"] = r.validators.last_modified
    if r.observation is not None:
        values["etag"] = r.observation.validators.etag
        values["last_modified"] = r.observation.validators.last_modified
        values["body_digest"] = r.observation.validators.body_digest
        if snapshot_id is not None:
            values["latest_snapshot_id"] = snapshot_id
    return values


@cache
def _fenced_update(columns: tuple[str, ...], leased: bool, compare_snapshot: bool) -> Prepared:
    """One ``UPDATE`` of ``columns`` per shape, built and compiled once: only bind parameters
    vary (run Prepared: Core's per-execute work on its dozen parameters was most of a fence's
    CPU).

    ``leased``: only while the lease owner (``f_owner``) still holds the target's lease at
    ``f_now``; ``compare_snapshot``: and only while its latest snapshot is still
    ``f_expected`` (the compare-and-set of a check that read a body)."""
    where = targets.c.id == sa.bindparam("f_id", type_=targets.c.id.type)
    if leased:
        where = sa.and_(
            where,
            targets.c.lease_owner == sa.bindparam("f_owner", type_=targets.c.lease_owner.type),
            targets.c.lease_until >= sa.bindparam("f_now", type_=targets.c.lease_until.type),
        )
    if compare_snapshot:
        where = sa.and_(
            where,
            targets.c.latest_snapshot_id.is_not_distinct_from(
                sa.bindparam("f_expected", type_=targets.c.latest_snapshot_id.type)
            ),
        )
    return Prepared(
        targets.update()
        .where(where)
        .values({name: sa.bindparam(f"v_{name}", type_=targets.c[name].type) for name in columns})
    )


def _fence(
    c: sa.Connection, r: CheckRecord | FailureRecord, snapshot_id: int | None, owner: str | None
) -> bool:
    """The record's fenced ``UPDATE`` of its target; whether it may record (always True
    without ``owner``: an unfenced write, as the operator's tools and tests make)."""
    values = _target_values(r, snapshot_id)
    leased = owner is not None
    params = {f"v_{name}": value for name, value in values.items()}
    params["f_id"] = r.target_id
    if leased:
        params["f_owner"] = owner
        params["f_now"] = r.now
    compare = leased and isinstance(r, CheckRecord)
    if compare and isinstance(r, CheckRecord):
        params["f_expected"] = r.expected_snapshot
    updated = _fenced_update(tuple(values), leased, compare).execute(c, params).rowcount
    return not leased or bool(updated)


def _change_rows(
    target_id: int, snapshot_id: int | None, now: datetime, found: Sequence[Change]
) -> list[dict[str, Any]]:
    return [
        {
            "target_id": target_id,
            "snapshot_id": snapshot_id,
            "detected_at": now,
            "kind": ch.kind.value,
            "severity": ch.severity.value,
            # History keeps the English text (bot.i18n messages read as it)
            "summary": str(ch.summary),
            "before": _plain(ch.before),
            "after": _plain(ch.after),
            "detail": _plain(ch.detail),
            "view": ch.view,
        }
        for ch in found
    ]


def _delivery_rows(
    target_id: int, now: datetime, queue: Iterable[NewDelivery]
) -> list[dict[str, Any]]:
    return [
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


def _plain(text: str | None) -> str | None:
    """A message as the plain string a database driver expects (its English text)."""
    return None if text is None else str(text)
