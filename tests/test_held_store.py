"""Held alerts in the store, on SQLite and PostgreSQL: released once, in one transaction."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.alerts.timing import ChannelPrefs, QuietHours
from bot.domain.model import Alert, Severity, TargetRef
from bot.store import NewDelivery, Store
from bot.store.held import channel_prefs, held_count, release_due, set_digest_time, set_quiet
from bot.store.migrate import upgrade
from bot.store.store import create_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=20)


def _hold(store: Store, name: str, channel: str, status: str = "digest") -> None:
    target, _ = store.ensure_target(TargetRef("hf", name), T0)
    alert = Alert(f"Access changed — {name}", Severity.WARNING, f"hf:{name}", "model", ("x",))
    store.queue_deliveries(
        target.id, T0, [NewDelivery(channel, alert.to_json(), status=status, due=DUE)]
    )


def test_held_alerts_wait_then_become_one_digest_per_channel(store: Store) -> None:
    _hold(store, "acme/a", "console")
    _hold(store, "acme/b", "console")
    _hold(store, "acme/a", "slack:C1")
    assert store.claim_deliveries(DUE, "me", timedelta(minutes=1), 10) == [], "held ≠ pending"
    assert release_due(store, DUE - timedelta(seconds=1)) == 0
    assert held_count(store, "console") == 2
    assert release_due(store, DUE) == 2
    assert release_due(store, DUE) == 0, "released once"
    rows = store.claim_deliveries(DUE, "me", timedelta(minutes=1), 10)
    assert sorted((r.channel, Alert.from_json(r.payload).title) for r in rows) == [
        ("console", "Digest: 2 changes on 2 targets"),
        ("slack:C1", "Digest: 1 change on 1 target"),
    ]
    assert all(r.target_id is None for r in rows)
    assert store.delivery_counts() == {"digested": 3, "pending": 2}


def test_one_alert_held_by_quiet_hours_goes_out_as_it_was(store: Store) -> None:
    _hold(store, "acme/a", "console", status="quiet")
    assert release_due(store, DUE) == 1
    (row,) = store.claim_deliveries(DUE, "me", timedelta(minutes=1), 10)
    assert (
        Alert.from_json(row.payload).title == "Access changed — acme/a"
        and row.target_id is not None
    )


def test_a_gone_channel_drops_its_held_alerts_too(store: Store) -> None:
    _hold(store, "acme/a", "slack:C1")
    assert store.disable_channel("slack:C1", T0, "channel_not_found") == 1
    assert release_due(store, DUE) == 0


def test_channel_settings_round_trip(store: Store) -> None:
    assert channel_prefs(store, ["slack:C1"]) == {"slack:C1": ChannelPrefs()}
    set_digest_time(store, "slack:C1", time(18, 30), "Europe/Rome", 4)
    set_quiet(store, "slack:C1", QuietHours(time(22, 0), time(8, 0), "Asia/Tokyo"))
    prefs = channel_prefs(store, ["slack:C1", "console"])
    assert prefs["slack:C1"] == ChannelPrefs(
        time(18, 30), "Europe/Rome", 4, QuietHours(time(22, 0), time(8, 0), "Asia/Tokyo")
    )
    assert prefs["console"] == ChannelPrefs()
    set_quiet(store, "slack:C1", None)
    assert channel_prefs(store, ["slack:C1"])["slack:C1"].quiet is None


def test_two_replicas_releasing_at_once_queue_one_digest(pg_url: str) -> None:
    first, second = Store.open(pg_url), Store.open(pg_url)
    try:
        for n in range(20):
            _hold(first, f"acme/m{n}", "console")
        results: list[int] = []
        barrier = threading.Barrier(2)

        def release(store: Store) -> None:
            barrier.wait()
            results.append(release_due(store, DUE))

        threads = [threading.Thread(target=release, args=(s,)) for s in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        pending = first.claim_deliveries(DUE, "me", timedelta(minutes=1), 50)
        assert sum(results) == len(pending)
        digested = sum(int(Alert.from_json(r.payload).title.split()[1]) for r in pending)
        assert digested == 20, "every held alert is in exactly one digest"
    finally:
        first.close()
        second.close()


def test_migration_0002_keeps_existing_deliveries(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    upgrade(engine, "0001")
    old = Store(engine)
    target, _ = old.ensure_target(TargetRef("hf", "acme/a"), T0)
    old.queue_deliveries(target.id, T0, [NewDelivery("console", {"title": "kept"})])
    upgrade(engine, "head")
    (row,) = Store(engine).claim_deliveries(T0, "me", timedelta(minutes=1), 10)
    assert row.payload == {"title": "kept"} and row.target_id == target.id
    engine.dispose()
