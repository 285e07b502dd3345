"""Intent-named queries over the schema in :mod:`bot.store.tables`.

Every method is one short transaction. The one that matters most, :meth:`Store.record_check`,
writes the new snapshot, its changes and their deliveries together (the transactional outbox,
design invariant 1): a crash leaves either the old snapshot (the change is found again) or the
new one with pending deliveries (they are sent).

Claims use ``FOR UPDATE SKIP LOCKED`` plus a lease, so several replicas on PostgreSQL never
check the same target or send the same delivery at once; SQLite (one process) ignores the
locking clause and the lease alone suffices.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.model import Change, Observation, TargetRef, Validators
from bot.store import migrate
from bot.store.tables import (
    UTC_DT,
    changes,
    channels,
    deliveries,
    leases,
    metadata,
    snapshots,
    subscriptions,
    targets,
)


@dataclass(frozen=True, slots=True)
class TargetRow:
    id: int
    ref: str
    kind: str
    options: Mapping[str, Any]
    next_check_at: datetime
    last_checked_at: datetime | None
    failures: int
    last_error: str | None
    last_error_reason: str | None
    gone_streak: int
    health_alerted: bool
    etag: str | None
    last_modified: str | None
    body_digest: str | None
    latest_snapshot_id: int | None

    @property
    def target_ref(self) -> TargetRef:
        kind, _, locator = self.ref.partition(":")
        return TargetRef(kind, locator)


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    id: int
    target_id: int
    taken_at: datetime
    digest: str
    facts: Mapping[str, Any]
    evidence: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    target_id: int
    channel: str
    created_by: str
    created_at: datetime
    min_severity: str
    options: Mapping[str, Any]
    muted_until: datetime | None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    target_id: int
    detected_at: datetime
    kind: str
    severity: str
    summary: str
    before: str | None
    after: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to queue in the same transaction as the changes it announces."""

    channel: str
    payload: Mapping[str, Any]
    # Held alerts (bot.routing): status "digest" or "quiet", not sent before ``due``.
    status: str = "pending"
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class QuietCheck:
    """A check that found nothing new and owes no message (a 304 or the same bytes): only
    the target's schedule and validators change, so many are recorded in one transaction."""

    target_id: int
    checked_at: datetime
    next_check_at: datetime
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    target_id: int | None  # None for a digest (several targets)
    channel: str
    payload: Mapping[str, Any]
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    message_id: str | None
    nonce: str
    reply_to: str | None


def _target(row: sa.Row[Any]) -> TargetRow:
    m = row._mapping
    return TargetRow(**{f: m[f] for f in TargetRow.__dataclass_fields__})


def _row(cls: type[Any], row: sa.Row[Any]) -> Any:
    m = row._mapping
    return cls(**{f: m[f] for f in cls.__dataclass_fields__})


class Store:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Store:
        """Connect (and by default migrate) the database at ``url``."""
        engine = create_engine(url)
        if migrate_schema:
            migrate.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

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

    def set_target_options(self, target_id: int, options: Mapping[str, Any]) -> None:
        """Replace a target's options and drop its baseline and validators.

        A new selector or ignore rule sees different text, so versions taken under the old
        ones are deleted (comparing across them would be a false alarm); the next check takes
        a new baseline, which is never an alert. Recorded changes stay in the history.
        """
        with self.engine.begin() as c:
            c.execute(
                targets.update()
                .where(targets.c.id == target_id)
                .values(
                    options=dict(options),
                    latest_snapshot_id=None,
                    etag=None,
                    last_modified=None,
                    body_digest=None,
                )
            )
            c.execute(snapshots.delete().where(snapshots.c.target_id == target_id))

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

    # -- claiming due work ------------------------------------------------------------------

    def claim_due(
        self,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        target_ids: Sequence[int] | None = None,
    ) -> list[TargetRow]:
        """Lease targets that are due (or the given ones) to ``owner``; nobody else gets them
        until the lease ends or is released."""
        has_subs = sa.exists().where(subscriptions.c.target_id == targets.c.id)
        free = sa.or_(targets.c.lease_until.is_(None), targets.c.lease_until < now)
        query = sa.select(targets.c.id).where(free, has_subs)
        if target_ids is None:
            query = query.where(targets.c.next_check_at <= now).order_by(targets.c.next_check_at)
        else:
            query = query.where(targets.c.id.in_(list(target_ids))).order_by(targets.c.id)
        query = query.limit(limit).with_for_update(skip_locked=True, of=targets)
        with self.engine.begin() as c:
            ids = [r[0] for r in c.execute(query)]
            if not ids:
                return []
            c.execute(
                targets.update()
                .where(targets.c.id.in_(ids))
                .values(lease_owner=owner, lease_until=now + lease)
            )
            rows = c.execute(
                sa.select(targets).where(targets.c.id.in_(ids)).order_by(targets.c.next_check_at)
            )
            return [_target(r) for r in rows]

    def lease_owners(self) -> set[str]:
        """Every owner that holds a lease on a target or a delivery right now."""
        with self.engine.connect() as c:
            owners = set(
                c.execute(
                    sa.select(targets.c.lease_owner)
                    .distinct()
                    .where(targets.c.lease_owner.is_not(None))
                ).scalars()
            )
            owners |= set(
                c.execute(
                    sa.select(deliveries.c.lease_owner)
                    .distinct()
                    .where(deliveries.c.lease_owner.is_not(None))
                ).scalars()
            )
            return owners

    def release_leases_of(self, owners: Iterable[str]) -> None:
        """Free the work of owners known to be dead, without waiting for their leases to end."""
        owners = list(owners)
        if not owners:
            return
        with self.engine.begin() as c:
            for table in (targets, deliveries):
                c.execute(
                    table.update()
                    .where(table.c.lease_owner.in_(owners))
                    .values(lease_owner=None, lease_until=None)
                )

    # -- single-owner work (a chat gateway connection held by one replica) ---------------

    def acquire_lease(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the named lease; False while another live owner holds it.

        A row in a table, not a session advisory lock, so it works behind connection poolers
        and survives reconnects; a dead holder simply stops renewing it.
        """
        try:
            with self.engine.begin() as c:
                row = c.execute(
                    sa.select(leases).where(leases.c.name == name).with_for_update()
                ).first()
                if row is None:
                    c.execute(leases.insert().values(name=name, owner=owner, until=now + ttl))
                    return True
                if row.owner != owner and row.until >= now:
                    return False
                c.execute(
                    leases.update()
                    .where(leases.c.name == name)
                    .values(owner=owner, until=now + ttl)
                )
                return True
        except sa.exc.IntegrityError:  # another replica inserted it first
            return False

    def release_lease(self, name: str, owner: str) -> None:
        with self.engine.begin() as c:
            c.execute(leases.delete().where(leases.c.name == name, leases.c.owner == owner))

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
    ) -> None:
        """Record a successful check in ONE transaction: snapshot, changes, outbox, schedule.

        ``validators`` (from a 304) refresh the stored ETag / Last-Modified when the upstream
        sent new ones.
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
            c.execute(targets.update().where(targets.c.id == target_id).values(**values))

    def record_quiet(self, checks: Sequence[QuietCheck]) -> None:
        """Record many quiet checks in ONE transaction (what ``record_check`` does for a 304,
        without a snapshot, changes or deliveries). One commit per target was most of the
        cost of a no-change cycle; a check that finds a change still gets its own.
        """
        if not checks:
            return
        statement = (
            targets.update()
            .where(targets.c.id == sa.bindparam("b_id"))
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
    ) -> None:
        """Record a failed (or not yet confirmed) check; the snapshot does not move."""
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
            c.execute(targets.update().where(targets.c.id == target_id).values(**values))

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

    def recent_changes(self, limit: int = 20) -> list[tuple[ChangeRow, str]]:
        query = (
            sa.select(changes, targets.c.ref)
            .join(targets, targets.c.id == changes.c.target_id)
            .order_by(changes.c.id.desc())
            .limit(limit)
        )
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


def create_engine(url: str) -> sa.Engine:
    """An engine with the settings each backend needs to be safe for this workload."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # A database that restarts must cost a few failed ticks, never a hung process: every
    # connection attempt and every statement is bounded.
    parsed = sa.engine.make_url(url)
    given = parsed.query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = " ".join(filter(None, [given, "-c statement_timeout=60000 -c lock_timeout=30000"]))
    return sa.create_engine(
        parsed.difference_update_query(["options"]),
        pool_pre_ping=True,
        pool_timeout=30,
        connect_args={
            "connect_timeout": 10,
            "options": options,
            "keepalives": 1,
            "keepalives_idle": 30,
        },
    )


__all__ = ["Store", "create_engine", "metadata"]
