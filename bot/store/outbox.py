"""The outbox: claiming pending deliveries in per-channel order, marking them sent or
retried, and channels that are gone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.store.prepared import Prepared
from bot.store.rows import (
    DeliveryRow,
    StoreBase,
    _row,
)
from bot.store.tables import (
    channels,
    deliveries,
)
from bot.store.tenants import paused_channel


@dataclass(frozen=True, slots=True)
class NextDelivery:
    """The delivery a channel posts next, as :meth:`OutboxQueries.mark_sent_and_take` needs it."""

    id: int
    target_id: int | None
    channel: str
    threaded: bool  # whether its thread parent is wanted


@dataclass(frozen=True, slots=True)
class Taken:
    """The next delivery, renewed right after the previous one was marked sent."""

    id: int
    held: bool  # still ours, with a whole lease
    parent: str | None  # its thread parent (None when not threaded or not held)


@dataclass(frozen=True, slots=True)
class Handover:
    """What :meth:`OutboxQueries.mark_sent_and_take` found."""

    marked: bool  # False: another process had taken the sent delivery over
    taken: Taken | None


class OutboxQueries(StoreBase):
    # -- the outbox ----------------------------------------------------------------------

    def claim_deliveries(
        self, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[DeliveryRow]:
        """Lease pending deliveries that are due, oldest first (one ``UPDATE … RETURNING``,
        so two claims can never both take a delivery, on SQLite as on PostgreSQL)."""
        params = {"c_now": now, "c_owner": owner, "c_until": now + lease, "c_limit": limit}
        with self.engine.begin() as c:
            rows = [_row(DeliveryRow, r) for r in c.execute(_CLAIM, params)]
        return sorted(rows, key=lambda d: d.id)

    def renew_deliveries(
        self, ids: Sequence[int], owner: str, now: datetime, lease: timedelta
    ) -> set[int]:
        """Extend ``owner``'s leases on pending deliveries it still holds; returns those ids.

        Called by the dispatcher's renewal task, and for one delivery right before it is
        posted: a delivery whose lease ran out or was taken over is not posted."""
        if not ids:
            return set()
        with self.engine.begin() as c:
            return set(
                c.execute(
                    deliveries.update()
                    .where(self._held(list(ids), owner), deliveries.c.lease_until >= now)
                    .values(lease_until=now + lease)
                    .returning(deliveries.c.id)
                ).scalars()
            )

    @staticmethod
    def _held(ids: list[int], owner: str | None) -> sa.ColumnElement[bool]:
        """The fence of every write of a claimed delivery: still pending, still ours."""
        if owner is None:  # an unfenced write (tests, the operator's tools)
            return deliveries.c.id.in_(ids)
        return sa.and_(
            deliveries.c.id.in_(ids),
            deliveries.c.status == "pending",
            deliveries.c.lease_owner == owner,
        )

    def thread_parent(self, target_id: int, channel: str) -> str | None:
        """The platform id of the last top-level alert about this target in this channel."""
        with self.engine.connect() as c:
            return _thread_parent(c, target_id, channel)

    def mark_sent(
        self,
        delivery_id: int,
        now: datetime,
        message_id: str | None,
        reply_to: str | None,
        *,
        owner: str | None = None,
    ) -> bool:
        """Record that the platform accepted the delivery. With ``owner``, only while that
        owner still holds it: False means another process took it over (and may post it too).

        The fence is the owner, not the lease's end: the post has happened, so a holder whose
        lease ran out but was not taken over is still the only one that posted it, and
        marking it sent is what prevents a second post.
        """
        with self.engine.begin() as c:
            return _mark_sent(c, delivery_id, now, message_id, reply_to, owner)

    def mark_sent_and_take(
        self,
        delivery_id: int,
        now: datetime,
        message_id: str | None,
        reply_to: str | None,
        *,
        owner: str,
        lease: timedelta,
        take: NextDelivery | None,
    ) -> Handover:
        """:meth:`mark_sent`, and in the same transaction what the dispatcher would ask next
        about the channel's next delivery ``take``: renew its lease (:meth:`renew_deliveries`:
        is it still ours?) and read its thread parent (:meth:`thread_parent`, which sees the
        delivery just marked). One transaction per sent alert instead of three; every write
        keeps its fence (the mark by ``owner``, the renewal by ``owner`` and the lease's end).
        """
        with self.engine.begin() as c:
            marked = _mark_sent(c, delivery_id, now, message_id, reply_to, owner)
            if take is None:
                return Handover(marked, None)
            held = _renew_one(c, take.id, owner, now, lease)
            parent = (
                _thread_parent(c, take.target_id, take.channel)
                if held and take.target_id is not None and take.threaded
                else None
            )
            return Handover(marked, Taken(take.id, held, parent))

    def mark_retry(
        self,
        delivery_id: int,
        next_attempt_at: datetime,
        error: str,
        *,
        give_up: bool = False,
        owner: str | None = None,
    ) -> bool:
        """Schedule another attempt (or give up). With ``owner``, only while it holds the
        delivery: a process that lost it must not turn a sent delivery back into pending."""
        with self.engine.begin() as c:
            return bool(
                c.execute(
                    deliveries.update()
                    .where(self._held([delivery_id], owner))
                    .values(
                        status="failed" if give_up else "pending",
                        next_attempt_at=next_attempt_at,
                        attempts=deliveries.c.attempts + 1,
                        last_error=error[:1000],
                        lease_owner=None,
                        lease_until=None,
                    )
                ).rowcount
            )

    def release_deliveries(self, ids: Sequence[int], *, owner: str | None = None) -> None:
        """Give leased deliveries back untouched (e.g. an earlier one in the channel failed);
        with ``owner``, only those it still holds."""
        if ids:
            with self.engine.begin() as c:
                c.execute(
                    deliveries.update()
                    .where(self._held(list(ids), owner))
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
        _upsert_channel(c, channel, **values)

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


# The claim, built once (only its bind parameters vary): its aliases and subqueries cost
# each claim more CPU to build and cache-key than SQLite spends running it.
_CLAIM_NOW = sa.bindparam("c_now", type_=deliveries.c.lease_until.type)
_CLAIM_UNTIL = sa.bindparam("c_until", type_=deliveries.c.lease_until.type)
_CLAIM_OWNER = sa.bindparam("c_owner", type_=deliveries.c.lease_owner.type)
_CLAIM_LIMIT = sa.bindparam("c_limit", type_=sa.Integer)


def _claim_statement() -> sa.UpdateBase:
    """:meth:`OutboxQueries.claim_deliveries`' ``UPDATE … RETURNING``."""
    due = deliveries.alias("due")
    free = sa.or_(due.c.lease_until.is_(None), due.c.lease_until < _CLAIM_NOW)
    # Per-channel order: a delivery waits while an earlier one in its channel is waiting
    # (retry later) or is being sent by someone else. Each channel's first such blocker is
    # found once per claim (one pass over the pending rows), not per candidate: a
    # per-candidate "any earlier blocker?" scan cost a claim 1.3 s with 2,000 alerts
    # pending in one channel (quadratic in a channel's backlog).
    blocker = deliveries.alias("blocker")
    first_blocker = (
        sa.select(blocker.c.channel, sa.func.min(blocker.c.id).label("first_id"))
        .where(
            blocker.c.status == "pending",
            sa.or_(blocker.c.next_attempt_at > _CLAIM_NOW, blocker.c.lease_until >= _CLAIM_NOW),
        )
        .group_by(blocker.c.channel)
        .subquery("first_blocker")
    )
    query = (
        sa.select(due.c.id)
        .select_from(due.outerjoin(first_blocker, first_blocker.c.channel == due.c.channel))
        .where(
            due.c.status == "pending",
            due.c.next_attempt_at <= _CLAIM_NOW,
            free,
            sa.or_(first_blocker.c.first_id.is_(None), due.c.id < first_blocker.c.first_id),
            ~paused_channel(due.c.channel),  # held while its workspace is uninstalled
        )
        .order_by(due.c.id)
        .limit(_CLAIM_LIMIT)
        .with_for_update(skip_locked=True, of=due)
    )
    return (
        deliveries.update()
        .where(
            deliveries.c.id.in_(query.scalar_subquery()),
            deliveries.c.status == "pending",
            sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < _CLAIM_NOW),
        )
        .values(lease_owner=_CLAIM_OWNER, lease_until=_CLAIM_UNTIL)
        .returning(*deliveries.c)
    )


_CLAIM = _claim_statement()


# The statements of every sent alert, built once (only their bind parameters vary): building
# them per alert was most of the dispatcher's own CPU in a cycle that sends thousands. They
# run Prepared (compiled once per dialect, executed on the driver's path): Core's per-execute
# work was most of a sent alert's store CPU.
_THREAD_PARENT = Prepared(
    sa.select(deliveries.c.message_id)
    .where(
        deliveries.c.target_id == sa.bindparam("p_target", type_=deliveries.c.target_id.type),
        deliveries.c.channel == sa.bindparam("p_channel", type_=deliveries.c.channel.type),
        deliveries.c.status == "sent",
        deliveries.c.message_id.is_not(None),
        deliveries.c.reply_to.is_(None),
    )
    .order_by(deliveries.c.id.desc())
    .limit(1)
)
_ID = sa.bindparam("d_id", type_=deliveries.c.id.type)
_OWNER = sa.bindparam("d_owner", type_=deliveries.c.lease_owner.type)
_NOW = sa.bindparam("d_now", type_=deliveries.c.lease_until.type)


def _mark_sent_statement(fenced: bool) -> sa.UpdateBase:
    where = deliveries.c.id == _ID
    if fenced:  # as OutboxQueries._held: still pending, still ours
        where = sa.and_(where, deliveries.c.status == "pending", deliveries.c.lease_owner == _OWNER)
    return (
        deliveries.update()
        .where(where)
        .values(
            status="sent",
            sent_at=_NOW,
            message_id=sa.bindparam("d_message", type_=deliveries.c.message_id.type),
            reply_to=sa.bindparam("d_reply", type_=deliveries.c.reply_to.type),
            attempts=deliveries.c.attempts + 1,
            lease_owner=None,
            lease_until=None,
            last_error=None,
        )
        .returning(deliveries.c.channel)
    )


_MARK_SENT = {fenced: Prepared(_mark_sent_statement(fenced)) for fenced in (False, True)}
_RENEW_ONE = Prepared(
    deliveries.update()
    .where(
        deliveries.c.id == _ID,
        deliveries.c.status == "pending",
        deliveries.c.lease_owner == _OWNER,
        deliveries.c.lease_until >= _NOW,
    )
    .values(lease_until=sa.bindparam("d_until", type_=deliveries.c.lease_until.type))
)
_POSTED = Prepared(
    channels.update()
    .where(channels.c.channel == sa.bindparam("c_channel", type_=channels.c.channel.type))
    .values(last_post_at=sa.bindparam("c_at", type_=channels.c.last_post_at.type))
)


def _thread_parent(c: sa.Connection, target_id: int, channel: str) -> str | None:
    return _THREAD_PARENT.execute(c, {"p_target": target_id, "p_channel": channel}).scalar()


def _renew_one(
    c: sa.Connection, delivery_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """:meth:`OutboxQueries.renew_deliveries` of one delivery; whether it is still held."""
    params = {"d_id": delivery_id, "d_owner": owner, "d_now": now, "d_until": now + lease}
    return bool(_RENEW_ONE.execute(c, params).rowcount)


def _mark_sent(
    c: sa.Connection,
    delivery_id: int,
    now: datetime,
    message_id: str | None,
    reply_to: str | None,
    owner: str | None,
) -> bool:
    params = {"d_id": delivery_id, "d_now": now, "d_message": message_id, "d_reply": reply_to}
    if owner is not None:
        params["d_owner"] = owner
    channel = _MARK_SENT[owner is not None].execute(c, params).scalar()
    if channel is None:
        return False
    if not _POSTED.execute(c, {"c_channel": channel, "c_at": now}).rowcount:
        _upsert_channel(c, channel, last_post_at=now)  # the channel's first post
    return True


def _upsert_channel(c: sa.Connection, channel: str, **values: Any) -> None:
    """The channel's row with ``values``, created if missing, in one statement. Two replicas
    posting a channel's first alerts at once both found no row; with an update-then-insert
    the second insert broke its transaction after the post, leaving the alert unmarked (sent
    again once its lease ran out) and the rest of the batch held until then."""
    # The dialect's own INSERT, imported here: ``sqlalchemy.dialects.postgresql`` loads every
    # PostgreSQL driver's module (~45 ms), which a SQLite process never needs.
    if c.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        upsert: sa.Executable = (
            pg_insert(channels)
            .values(channel=channel, **values)
            .on_conflict_do_update(index_elements=[channels.c.channel], set_=values)
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        upsert = (
            sqlite_insert(channels)
            .values(channel=channel, **values)
            .on_conflict_do_update(index_elements=[channels.c.channel], set_=values)
        )
    c.execute(upsert)
