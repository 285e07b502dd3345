"""Rows the store hands out: frozen dataclasses, never live ORM objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.domain.model import TargetRef


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
    view: str | None = None  # bot.domain.model.Change.view


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to queue in the same transaction as the changes it announces."""

    channel: str
    payload: Mapping[str, Any]
    # Held alerts (bot.alerts.timing): status "digest" or "quiet", not sent before ``due``.
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


class StoreBase:
    """What every part of the store shares: the engine its short transactions run on."""

    engine: sa.Engine
