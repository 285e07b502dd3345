"""Who hears of an alert (bot.alerts.audience): a target's subscriptions less the muted ones
and those whose minimum severity the alert does not reach; health alerts reach every
subscription that is not muted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.audience import audience
from bot.domain.model import Severity
from bot.store import SubscriptionRow

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def sub(
    channel: str, min_severity: str = "info", muted_until: datetime | None = None
) -> SubscriptionRow:
    return SubscriptionRow(
        id=1,
        target_id=1,
        channel=channel,
        created_by="test",
        created_at=NOW - timedelta(days=1),
        min_severity=min_severity,
        options={},
        muted_until=muted_until,
    )


@pytest.mark.parametrize(
    ("subscription", "severity", "health", "hears"),
    [
        (sub("c"), Severity.INFO, False, True),
        (sub("c", "warning"), Severity.NOTICE, False, False),
        (sub("c", "warning"), Severity.WARNING, False, True),
        (sub("c", "warning"), Severity.CRITICAL, False, True),
        (sub("c", "critical"), Severity.INFO, True, True),
        (sub("c", muted_until=NOW + timedelta(hours=1)), Severity.CRITICAL, False, False),
        (sub("c", muted_until=NOW + timedelta(hours=1)), Severity.WARNING, True, False),
        (sub("c", muted_until=NOW), Severity.INFO, False, True),
        (sub("c", muted_until=NOW - timedelta(hours=1)), Severity.INFO, False, True),
    ],
    ids=[
        "everything reaches a subscription without a minimum",
        "below the minimum severity is not heard",
        "at the minimum severity is heard",
        "above the minimum severity is heard",
        "a health alert ignores the minimum severity",
        "a mute silences even a critical change",
        "a mute silences a health alert too",
        "a mute ends at its time",
        "an ended mute silences nothing",
    ],
)
def test_one_subscription(
    subscription: SubscriptionRow, severity: Severity, health: bool, hears: bool
) -> None:
    heard = audience(severity, [subscription], NOW, health=health)
    assert heard == ([subscription] if hears else [])


def test_the_audience_keeps_the_subscriptions_order() -> None:
    subs = [
        sub("team-c", "notice"),
        sub("team-a", "critical"),
        sub("team-b", muted_until=NOW + timedelta(days=7)),
        sub("team-d"),
    ]
    assert [s.channel for s in audience(Severity.WARNING, subs, NOW)] == ["team-c", "team-d"]
    assert [s.channel for s in audience(Severity.INFO, subs, NOW, health=True)] == [
        "team-c",
        "team-a",
        "team-d",
    ]
