"""Persistence: SQLAlchemy 2 over SQLite (default) or PostgreSQL (several replicas)."""

from bot.store.store import (
    ChangeRow,
    DeliveryRow,
    NewDelivery,
    QuietCheck,
    SnapshotRow,
    Store,
    SubscriptionRow,
    TargetRow,
)

__all__ = [
    "ChangeRow",
    "DeliveryRow",
    "NewDelivery",
    "QuietCheck",
    "SnapshotRow",
    "Store",
    "SubscriptionRow",
    "TargetRow",
]
