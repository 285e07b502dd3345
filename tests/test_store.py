"""The store on both databases it supports: SQLite (default) and the machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.domain.model import Change, ChangeKind, Observation, Severity, TargetRef
from bot.store import NewDelivery, Store
from bot.store.tables import metadata

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _target(store: Store, name: str = "acme/x", channels: tuple[str, ...] = ("console",)) -> int:
    target, _ = store.ensure_target(TargetRef("hf", name), T0)
    for channel in channels:
        store.subscribe(target.id, channel, T0)
    return target.id


def test_migrations_create_exactly_the_tables_the_code_uses(store: Store) -> None:
    with store.engine.connect() as c:
        diffs = compare_metadata(MigrationContext.configure(c), metadata)
    assert diffs == []


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    tid = _target(store)
    row = store.get_target_by_id(tid)
    assert row is not None and row.next_check_at == T0 and row.next_check_at.tzinfo is not None


def test_snapshot_changes_and_deliveries_are_one_transaction(store: Store) -> None:
    tid = _target(store)
    baseline = Observation({"licence": {"ids": ["mit"]}})
    store.record_check(tid, T0, T0 + timedelta(hours=1), baseline)
    change = Change(ChangeKind.LICENCE, Severity.CRITICAL, "mit → x")
    broken = NewDelivery(None, {"title": "x"})  # type: ignore[arg-type]  # violates NOT NULL
    with pytest.raises(sa.exc.IntegrityError):
        store.record_check(
            tid,
            T0 + timedelta(hours=1),
            T0 + timedelta(hours=2),
            Observation({"licence": {"ids": ["x"]}}),
            [change],
            [broken],
        )
    target = store.get_target_by_id(tid)
    assert target is not None
    latest = store.latest_snapshot(target)
    assert latest is not None and latest.facts == {"licence": {"ids": ["mit"]}}
    assert store.history(tid) == [] and store.deliveries_for() == []
    assert target.next_check_at == T0 + timedelta(hours=1), "the schedule did not move either"


def test_a_claimed_target_is_not_claimed_by_another_owner_until_its_lease_ends(
    store: Store,
) -> None:
    tid = _target(store)
    assert [t.id for t in store.claim_due(T0, "a", LEASE, 10)] == [tid]
    assert store.claim_due(T0, "b", LEASE, 10) == []
    assert [t.id for t in store.claim_due(T0 + LEASE + timedelta(seconds=1), "b", LEASE, 10)] == [
        tid
    ]


def test_targets_without_subscribers_are_not_checked(store: Store) -> None:
    tid = _target(store)
    store.unsubscribe(tid)
    assert store.claim_due(T0, "a", LEASE, 10) == []


def test_deliveries_keep_their_order_per_channel(store: Store) -> None:
    tid = _target(store, channels=("console", "webhook:http://x/y"))
    queue = [
        NewDelivery("console", {"n": 1}),
        NewDelivery("console", {"n": 2}),
        NewDelivery("webhook:http://x/y", {"n": 3}),
    ]
    store.record_check(tid, T0, T0, Observation({}), queue=queue)
    first = store.claim_deliveries(T0, "a", LEASE, 10)
    assert [d.payload["n"] for d in first] == [1, 2, 3]
    one, two, three = first
    store.mark_retry(one.id, T0 + timedelta(minutes=1), "429")
    store.release_deliveries([two.id])
    store.mark_sent(three.id, T0, "m3", None)
    # n=2 must wait behind n=1, which waits for its retry time; the other channel is not blocked.
    assert store.claim_deliveries(T0 + timedelta(seconds=30), "a", LEASE, 10) == []
    later = store.claim_deliveries(T0 + timedelta(minutes=2), "a", LEASE, 10)
    assert [d.payload["n"] for d in later] == [1, 2]


def test_a_channel_waits_behind_its_first_blocked_delivery_only(store: Store) -> None:
    """Only what comes after a blocked delivery (leased elsewhere, or waiting for a retry)
    waits; what comes before it, and other channels, go out."""
    tid = _target(store, channels=("console", "webhook:http://x/y"))
    queue = [NewDelivery("console", {"n": n}) for n in range(1, 6)]
    store.record_check(
        tid, T0, T0, Observation({}), queue=[*queue, NewDelivery("webhook:http://x/y", {"n": 9})]
    )
    one, two, three, four, five, nine = store.claim_deliveries(T0, "a", LEASE, 10)
    store.release_deliveries([one.id, two.id, four.id, five.id, nine.id])
    store.mark_retry(four.id, T0 + timedelta(hours=1), "429")  # n=4 waits; n=3 is leased by "a"
    # n=1 and n=2 come before the first blocker (n=3, held by "a"): "b" may take them.
    got = store.claim_deliveries(T0 + timedelta(seconds=1), "b", LEASE, 10)
    assert [d.payload["n"] for d in got] == [1, 2, 9]
    store.mark_sent(three.id, T0, "m3", None)
    for d in got:
        store.mark_sent(d.id, T0, f"m{d.payload['n']}", None)
    # n=3 is sent: n=4 (retry in an hour) is now the first blocker, and n=5 waits behind it.
    assert store.claim_deliveries(T0 + timedelta(seconds=2), "b", LEASE, 10) == []
    later = store.claim_deliveries(T0 + timedelta(hours=2), "b", LEASE, 10)
    assert [d.payload["n"] for d in later] == [4, 5]


def test_follow_ups_thread_under_the_last_top_level_alert(store: Store) -> None:
    tid = _target(store, channels=("slack:C1",))
    store.record_check(
        tid,
        T0,
        T0,
        Observation({}),
        queue=[NewDelivery("slack:C1", {"n": 1}), NewDelivery("slack:C1", {"n": 2})],
    )
    d1, d2 = store.claim_deliveries(T0, "a", LEASE, 10)
    assert store.thread_parent(tid, "slack:C1") is None
    store.mark_sent(d1.id, T0, "111.1", None)
    assert store.thread_parent(tid, "slack:C1") == "111.1"
    store.mark_sent(d2.id, T0, "111.2", "111.1")
    assert store.thread_parent(tid, "slack:C1") == "111.1", "replies are not thread roots"


def test_a_gone_channel_drops_its_pending_deliveries_only(store: Store) -> None:
    tid = _target(store, channels=("slack:C1", "console"))
    store.record_check(
        tid,
        T0,
        T0,
        Observation({}),
        queue=[NewDelivery("slack:C1", {}), NewDelivery("console", {})],
    )
    assert store.disable_channel("slack:C1", T0, "channel_not_found") == 1
    assert store.channel_disabled("slack:C1") == "channel_not_found"
    pending = store.claim_deliveries(T0, "a", LEASE, 10)
    assert [d.channel for d in pending] == ["console"]


def test_subscribe_is_idempotent_and_updates_settings(store: Store) -> None:
    tid = _target(store)
    sub, created = store.subscribe(tid, "console", T0, min_severity="critical")
    assert not created and sub.min_severity == "critical"
    assert len(store.subscriptions_for(tid)) == 1


def test_a_named_lease_has_one_holder_until_it_expires(store: Store) -> None:
    assert store.acquire_lease("listener:slack", "a", T0, LEASE)
    assert not store.acquire_lease("listener:slack", "b", T0 + timedelta(minutes=1), LEASE)
    assert store.acquire_lease("listener:slack", "a", T0 + timedelta(minutes=1), LEASE), "renew"
    later = T0 + timedelta(minutes=1) + LEASE + timedelta(seconds=1)
    assert store.acquire_lease("listener:slack", "b", later, LEASE), "taken over when expired"
    store.release_lease("listener:slack", "b")
    assert store.acquire_lease("listener:slack", "c", later, LEASE), "free after release"


def test_unfinished_targets_are_handed_back_by_their_owner_only(store: Store) -> None:
    tid = _target(store)
    assert [t.id for t in store.claim_due(T0, "a", LEASE, 10)] == [tid]
    store.release_targets([tid], "b")
    assert store.claim_due(T0, "b", LEASE, 10) == [], "another owner cannot release it"
    store.release_targets([tid], "a")
    assert [t.id for t in store.claim_due(T0, "b", LEASE, 10)] == [tid]
