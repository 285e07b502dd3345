"""Claims and leases: which process checks a target, sends a delivery, or holds a chat
connection. ``FOR UPDATE SKIP LOCKED`` plus a lease, so replicas on PostgreSQL never do the same
work at once; SQLite (one process) ignores the locking clause and the lease alone suffices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.store.owner import HEARTBEAT_PREFIX
from bot.store.rows import (
    StoreBase,
    TargetRow,
    _target,
)
from bot.store.tables import (
    deliveries,
    leases,
    subscriptions,
    targets,
)
from bot.store.tenants import paused_channel


class LeaseLost(Exception):
    """A fenced write found that its process no longer holds the lease (it ran out, or a
    dead-owner sweep or another replica took the work): nothing was written."""

    def __init__(self, key: int, owner: str | None) -> None:
        super().__init__(f"lease on {key} no longer held by {owner}")
        self.key = key
        self.owner = owner


class ClaimQueries(StoreBase):
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
        until the lease ends or is released.

        One ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on SQLite a
        single write statement holds the write lock from its first read, so two claims running
        in worker threads (or processes) can never both take a target.
        """
        due = targets.alias("due")
        # Only targets some active channel watches (a paused workspace's watches wait).
        has_subs = sa.exists().where(
            subscriptions.c.target_id == due.c.id, ~paused_channel(subscriptions.c.channel)
        )
        free = sa.or_(targets.c.lease_until.is_(None), targets.c.lease_until < now)
        due_free = sa.or_(due.c.lease_until.is_(None), due.c.lease_until < now)
        query = sa.select(due.c.id).where(due_free, has_subs)
        if target_ids is None:
            query = query.where(due.c.next_check_at <= now).order_by(due.c.next_check_at)
        else:
            query = query.where(due.c.id.in_(list(target_ids))).order_by(due.c.id)
        query = query.limit(limit).with_for_update(skip_locked=True, of=due)
        claim = (
            targets.update()
            .where(targets.c.id.in_(query.scalar_subquery()), free)
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(*targets.c)
        )
        with self.engine.begin() as c:
            rows = [_target(r) for r in c.execute(claim)]
        return sorted(rows, key=lambda t: (t.next_check_at, t.id))

    def renew_targets(
        self, target_ids: Iterable[int], owner: str, now: datetime, lease: timedelta
    ) -> set[int]:
        """Extend ``owner``'s leases on targets it is still checking; the ids returned are the
        ones it still holds (a lease that ran out or was taken over is not revived)."""
        ids = list(target_ids)
        if not ids:
            return set()
        with self.engine.begin() as c:
            return set(
                c.execute(
                    targets.update()
                    .where(
                        targets.c.id.in_(ids),
                        targets.c.lease_owner == owner,
                        targets.c.lease_until >= now,
                    )
                    .values(lease_until=now + lease)
                    .returning(targets.c.id)
                ).scalars()
            )

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

    def release_targets(self, target_ids: Iterable[int], owner: str) -> None:
        """Hand back targets ``owner`` claimed but could not finish (the database went away
        mid-check), so they are checked at the next tick, not after their lease runs out."""
        ids = list(target_ids)
        if ids:
            with self.engine.begin() as c:
                c.execute(
                    targets.update()
                    .where(targets.c.id.in_(ids), targets.c.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None)
                )

    def release_leases_of(self, owners: Iterable[str]) -> None:
        """Free the work of owners known to be dead, without waiting for their leases to end.

        Safe even if one of them still runs: its writes are fenced by the lease owner, so it
        can then record and send nothing."""
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
            c.execute(leases.delete().where(leases.c.owner.in_(owners)))

    def release_dead_owners(self, now: datetime) -> set[str]:
        """Free the work of every process whose heartbeat (``process:<owner>``) has expired:
        liveness that rests on neither hostname nor PID. Returns those owners."""
        with self.engine.connect() as c:
            dead = set(
                c.execute(
                    sa.select(leases.c.owner).where(
                        leases.c.name.startswith(HEARTBEAT_PREFIX, autoescape=True),
                        leases.c.until < now,
                    )
                ).scalars()
            )
        self.release_leases_of(dead)
        return dead

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
