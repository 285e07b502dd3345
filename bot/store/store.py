"""Intent-named queries over the schema in :mod:`bot.store.tables`, one short transaction each.

The queries are grouped by concern: :mod:`bot.store.watches` (targets and subscriptions),
:mod:`bot.store.claims` (claims and leases), :mod:`bot.store.checks` (recording checks: the
transactional outbox), :mod:`bot.store.outbox` (sending deliveries), :mod:`bot.store.views`
(one subscription's view of a shared target). :class:`Store` is all of them over one engine.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.store import migrate
from bot.store.checks import CheckQueries
from bot.store.claims import ClaimQueries
from bot.store.engine import create_engine
from bot.store.outbox import OutboxQueries
from bot.store.rows import (
    ChangeRow,
    DeliveryRow,
    NewDelivery,
    QuietCheck,
    SnapshotRow,
    SubscriptionRow,
    TargetRow,
    _row,
    _target,
)
from bot.store.tables import metadata
from bot.store.views import ViewQueries
from bot.store.watches import WatchQueries


class Store(WatchQueries, ClaimQueries, CheckQueries, OutboxQueries, ViewQueries):
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

    def ping(self) -> None:
        """One round trip: raises SQLAlchemyError when the database does not answer."""
        with self.engine.connect() as c:
            c.execute(sa.text("SELECT 1"))


__all__ = [
    "ChangeRow",
    "DeliveryRow",
    "NewDelivery",
    "QuietCheck",
    "SnapshotRow",
    "Store",
    "SubscriptionRow",
    "TargetRow",
    "_row",
    "_target",
    "create_engine",
    "metadata",
]
