"""Who hears of an alert: a target's subscriptions, less the muted ones and the ones whose
minimum severity it does not reach. Pure.

*When* each of them hears of it (now, in a digest, after quiet hours) is
:func:`bot.alerts.timing.decide`; the checker asks this module first, then that one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from bot.domain.model import Severity


class Subscriber(Protocol):
    """What deciding the audience reads of a subscription (the store's ``SubscriptionRow``)."""

    @property
    def channel(self) -> str: ...
    @property
    def min_severity(self) -> str: ...
    @property
    def muted_until(self) -> datetime | None: ...


S = TypeVar("S", bound=Subscriber)


def hears(sub: Subscriber, severity: Severity, now: datetime, *, health: bool = False) -> bool:
    """Whether ``sub`` hears of an alert of ``severity`` at ``now``.

    A health alert ignores the minimum severity: a watch that went blind must be heard of, and
    so must its recovery. A mute silences everything, health included, until it ends.
    """
    if sub.muted_until is not None and sub.muted_until > now:
        return False
    return health or severity.rank >= Severity(sub.min_severity).rank


def audience(
    severity: Severity, subs: Sequence[S], now: datetime, *, health: bool = False
) -> list[S]:
    """The subscriptions in ``subs`` that hear of an alert of ``severity``, in order."""
    return [sub for sub in subs if hears(sub, severity, now, health=health)]


__all__ = ["Subscriber", "audience", "hears"]
