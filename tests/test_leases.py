"""Exactly one alert per change, even under load: every write of claimed work is fenced by its
lease owner, long work keeps its lease, and database waits never freeze the event loop.

Replicas here are several real stores (each its own engine and owner id) on the machine's
PostgreSQL, in one event loop; ``tests/test_replicas.py`` runs them as processes.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.slack import SlackAdapter
from bot.check.checker import Checker
from bot.deliver.dispatcher import Dispatcher
from bot.domain.model import Alert, Observation, Severity, TargetRef
from bot.sources import build_sources
from bot.store import NewDelivery, Store
from bot.store.checks import CheckRecord, FailureRecord
from bot.store.claims import LeaseLost
from tests.conftest import Bot, make_settings
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack
from tests.slack_harness import CHANNEL, slack_settings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _now() -> datetime:
    return datetime.now(UTC)


def _watched(store: Store, name: str = "acme/x") -> int:
    target, _ = store.ensure_target(TargetRef("hf", name), T0)
    store.subscribe(target.id, "console", T0)
    return target.id


def _alert(n: int) -> dict[str, object]:
    return Alert(
        title=f"alert {n}", severity=Severity.NOTICE, target="hf:acme/x", source_label="Hub",
        lines=(f"line of alert {n}",), threaded=False,
    ).to_json()  # fmt: skip


# -- fencing, unit by unit ----------------------------------------------------------------------


def test_a_holder_whose_expired_lease_was_taken_cannot_record_a_check(store: Store) -> None:
    target_id = _watched(store)
    [mine] = store.claim_due(T0, "a", LEASE, 10)
    later = T0 + LEASE + timedelta(seconds=1)
    [theirs] = store.claim_due(later, "b", LEASE, 10)  # a's lease ran out; b took the target
    queue = [NewDelivery("console", _alert(1))]
    with pytest.raises(LeaseLost):
        store.record_check(
            target_id, later, later + LEASE, Observation(facts={"v": 1}), queue=queue,
            owner="a", expected_snapshot=mine.latest_snapshot_id,
        )  # fmt: skip
    assert store.snapshots_of(target_id) == [], "nothing of a's check was written"
    assert store.deliveries_for() == []
    store.record_check(
        target_id, later, later + LEASE, Observation(facts={"v": 1}), queue=queue,
        owner="b", expected_snapshot=theirs.latest_snapshot_id,
    )  # fmt: skip
    assert len(store.snapshots_of(target_id)) == 1 and len(store.deliveries_for()) == 1


def test_an_expired_lease_records_nothing_even_if_nobody_took_it(store: Store) -> None:
    target_id = _watched(store)
    store.claim_due(T0, "a", LEASE, 10)
    late = T0 + LEASE + timedelta(seconds=1)
    with pytest.raises(LeaseLost):
        store.record_failure(
            target_id, late, late + LEASE, reason="timeout", message="slow", failures=1, owner="a"
        )
    with pytest.raises(LeaseLost):
        store.record_check(target_id, late, late + LEASE, None, owner="a", expected_snapshot=None)
    target = store.get_target_by_id(target_id)
    assert target is not None and target.failures == 0 and target.last_checked_at is None


def test_the_snapshot_advance_is_a_compare_and_set(store: Store) -> None:
    target_id = _watched(store)
    [claimed] = store.claim_due(T0, "a", LEASE, 10)
    assert claimed.latest_snapshot_id is None
    # Someone else moved the snapshot meanwhile (an unfenced writer, e.g. the operator's tool).
    store.record_check(target_id, T0, T0, Observation(facts={"v": 0}))
    store.claim_due(T0, "a", LEASE, 10)  # a holds the lease again
    with pytest.raises(LeaseLost):
        store.record_check(
            target_id, T0, T0 + LEASE, Observation(facts={"v": 1}),
            owner="a", expected_snapshot=claimed.latest_snapshot_id,
        )  # fmt: skip
    assert [s.facts for s in store.snapshots_of(target_id)] == [{"v": 0}]


def test_a_batch_records_every_target_but_the_one_whose_lease_was_taken(store: Store) -> None:
    ids = [_watched(store, name) for name in ("acme/a", "acme/b", "acme/c")]
    claimed = {t.id: t for t in store.claim_due(T0, "a", LEASE, 10)}
    later = T0 + LEASE + timedelta(seconds=1)
    # a renewed two of its leases in time; the third ran out and b took that target over
    assert store.renew_targets([ids[0], ids[2]], "a", T0 + LEASE / 2, LEASE) == {ids[0], ids[2]}
    [theirs] = store.claim_due(later, "b", LEASE, 10)
    assert theirs.id == ids[1]
    queue = (NewDelivery("console", _alert(1)),)
    records: list[CheckRecord | FailureRecord] = [
        CheckRecord(
            i,
            later,
            later + LEASE,
            Observation(facts={"v": i}),
            queue=queue,
            expected_snapshot=claimed[i].latest_snapshot_id,
        )
        for i in ids[:2]
    ]
    records.append(
        FailureRecord(
            ids[2],
            later,
            later + LEASE,
            reason="timeout",
            message="slow",
            failures=1,
            queue=queue,
        )
    )
    assert store.record_many(records, owner="a") == [True, False, True]
    assert [s.facts for s in store.snapshots_of(ids[0])] == [{"v": ids[0]}]
    assert store.snapshots_of(ids[1]) == [], "nothing of the taken target's check was written"
    assert sorted(d.target_id or 0 for d in store.deliveries_for()) == [ids[0], ids[2]]
    taken = store.get_target_by_id(ids[1])
    assert taken is not None and taken.last_checked_at is None
    assert store.renew_targets([ids[1]], "b", later, LEASE) == {ids[1]}, "b still holds it"
    failed = store.get_target_by_id(ids[2])
    assert failed is not None and failed.failures == 1


def test_a_holder_whose_expired_delivery_lease_was_taken_cannot_mark_it_sent(store: Store) -> None:
    target_id = _watched(store)
    store.queue_deliveries(target_id, T0, [NewDelivery("console", _alert(1))])
    [mine] = store.claim_deliveries(T0, "a", LEASE, 10)
    later = T0 + LEASE + timedelta(seconds=1)
    assert store.renew_deliveries([mine.id], "a", later, LEASE) == set(), "not revived"
    [theirs] = store.claim_deliveries(later, "b", LEASE, 10)
    assert store.mark_sent(mine.id, later, "m-a", None, owner="a") is False
    assert store.mark_retry(mine.id, later, "429", owner="a") is False
    store.release_deliveries([mine.id], owner="a")
    [row] = store.deliveries_for()
    assert (row.status, row.attempts) == ("pending", 0)
    assert store.lease_owners() == {"b"}
    assert store.mark_sent(theirs.id, later, "m-b", None, owner="b") is True
    [row] = store.deliveries_for()
    assert (row.status, row.message_id) == ("sent", "m-b")
    assert store.mark_retry(theirs.id, later, "late", owner="b") is False, "sent stays sent"


def test_marking_sent_and_taking_the_next_delivery_keeps_both_fences(store: Store) -> None:
    """The dispatcher's one transaction per sent alert: the mark is fenced by its owner, the
    next delivery's renewal by its owner and its lease's end (a lease that ran out and was
    taken over is not revived), and the thread parent read sees the delivery just marked."""
    from bot.store.outbox import NextDelivery

    target_id = _watched(store)
    store.queue_deliveries(target_id, T0, [NewDelivery("console", _alert(i)) for i in range(1, 4)])
    first, second, third = store.claim_deliveries(T0, "a", LEASE, 10)
    nxt = NextDelivery(second.id, target_id, second.channel, threaded=True)
    handover = store.mark_sent_and_take(first.id, T0, "m1", None, owner="a", lease=LEASE, take=nxt)
    assert handover.marked
    assert handover.taken is not None
    assert (handover.taken.id, handover.taken.held, handover.taken.parent) == (
        second.id,
        True,
        "m1",
    ), "renewed, and its thread parent is the alert just marked sent"
    # Every lease of a runs out and b takes the second and the third over: a cannot mark
    # the second sent, and the third is not renewed for a.
    later = T0 + LEASE + timedelta(seconds=1)
    assert [d.id for d in store.claim_deliveries(later, "b", LEASE, 10)] == [second.id, third.id]
    after = NextDelivery(third.id, target_id, third.channel, threaded=True)
    handover = store.mark_sent_and_take(
        second.id, later, "m2", "m1", owner="a", lease=LEASE, take=after
    )
    assert not handover.marked
    assert handover.taken is not None
    assert (handover.taken.held, handover.taken.parent) == (False, None)
    assert {d.id: d.status for d in store.deliveries_for()} == {
        first.id: "sent",
        second.id: "pending",
        third.id: "pending",
    }
    assert store.lease_owners() == {"b"}


def test_a_dead_heartbeat_frees_its_owners_work(store: Store) -> None:
    target_id = _watched(store)
    store.queue_deliveries(target_id, T0, [NewDelivery("console", _alert(1))])
    store.acquire_lease("process:a", "a", T0, timedelta(seconds=30))
    store.acquire_lease("process:b", "b", T0, timedelta(seconds=300))
    store.claim_due(T0, "a", LEASE, 10)
    store.claim_deliveries(T0, "a", LEASE, 10)
    assert store.release_dead_owners(T0 + timedelta(seconds=10)) == set()
    assert store.lease_owners() == {"a"}
    assert store.release_dead_owners(T0 + timedelta(seconds=31)) == {"a"}
    assert store.lease_owners() == set()
    assert store.acquire_lease("process:a", "c", T0 + timedelta(seconds=31), LEASE), "row gone"


# -- replicas on PostgreSQL ---------------------------------------------------------------------


@pytest.fixture
async def slow_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.delays["chat.postMessage"] = 0.15
        yield fake


@pytest.mark.parametrize("replicas", [2, 3])
@pytest.mark.timeout(90)
async def test_replicas_post_a_long_slow_batch_exactly_once(
    replicas: int, pg_url: str, hub: FakeHub, slow_slack: FakeSlack
) -> None:
    """A channel with more pending alerts than the delivery lease lasts at Slack's pace: the
    batch keeps its leases, so no other replica posts any of them again."""
    settings = slack_settings(
        pg_url, hub.url, slow_slack, delivery_lease_seconds=1.0, slack_min_interval=0.15
    )
    stores = [Store.open(pg_url) for _ in range(replicas)]
    adapters = [SlackAdapter(settings) for _ in range(replicas)]
    try:
        target_id = _watched(stores[0])
        alerts = 16  # about 5 s of posting, five times the lease
        stores[0].queue_deliveries(
            target_id, _now(), [NewDelivery(f"slack:{CHANNEL}", _alert(n)) for n in range(alerts)]
        )
        dispatchers = [
            Dispatcher(s, {"slack": a}, settings, _now, owner=f"replica-{i}")
            for i, (s, a) in enumerate(zip(stores, adapters, strict=True))
        ]

        async def replica(d: Dispatcher, start: float) -> None:
            await asyncio.sleep(start)
            while stores[0].delivery_counts().get("pending", 0):
                await d.flush()
                await asyncio.sleep(0.2)

        await asyncio.wait_for(
            asyncio.gather(*(replica(d, 0.3 * i) for i, d in enumerate(dispatchers))), 60
        )
        posted = Counter(
            m.text.split(": ", 1)[1].split(":")[0] for m in slow_slack.messages(CHANNEL)
        )  # ":large_blue_circle: alert 3: line of alert 3" → "alert 3"
        assert sorted(posted) == sorted(f"alert {n}" for n in range(alerts))  # nothing lost
        assert [t for t, n in posted.items() if n > 1] == [], "no alert posted twice"
        assert stores[0].delivery_counts() == {"sent": alerts}
    finally:
        for a in adapters:
            await a.aclose()
        for s in stores:
            s.close()


@pytest.mark.parametrize("replicas", [2, 3])
@pytest.mark.timeout(90)
async def test_a_check_slower_than_its_lease_records_its_change_once(
    replicas: int, pg_url: str, hub: FakeHub
) -> None:
    """The upstream answers after 2.5 times the check lease: the lease is renewed meanwhile, so
    no other replica checks the target again and the change is recorded and queued once."""
    # 2 s, renewed every 0.67 s: a loaded 2-core machine can hold the loop back a few hundred ms
    settings = make_settings(pg_url, hub.url, lease_seconds=2.0, hub_timeout=15)
    stores = [Store.open(pg_url) for _ in range(replicas)]
    checkers = [
        Checker(s, build_sources(settings), settings, _now, owner=f"replica-{i}")
        for i, s in enumerate(stores)
    ]
    try:
        hub.set_repo("acme/x", license="mit")
        target, _ = stores[0].ensure_target(TargetRef("hf", "acme/x"), _now())
        stores[0].subscribe(target.id, "console", _now())
        [baseline] = (await checkers[0].check_ids([target.id])).outcomes
        assert baseline.status == "baseline"

        hub.set_repo("acme/x", license="gpl-3.0")
        hub.delay("acme/x", 5.0)  # the first request only: 2.5 leases
        before = hub.count("/api/models/acme/x")
        slow = asyncio.create_task(checkers[0].check_ids([target.id]))
        for _ in range(100):  # until the slow fetch is under way
            if hub.count("/api/models/acme/x") > before:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the first replica never fetched")
        deadline = time.monotonic() + 7.0
        others: list[str] = []
        while not slow.done() and time.monotonic() < deadline:  # the others keep trying
            for checker in checkers[1:]:
                others += [o.status for o in (await checker.check_ids([target.id])).outcomes]
            await asyncio.sleep(0.2)
        [first] = (await slow).outcomes
        assert first.status == "changed"
        # While it was in flight the others found it leased (no outcome): a check of theirs
        # then would have compared the new licence with the old snapshot ("changed"). Between
        # the slow check's record (which lets the lease go) and its task's end, one more round
        # of theirs may check it legitimately, and finds it unchanged.
        assert [s for s in others if s != "unchanged"] == [], (
            "nobody else checked the target while its check was in flight"
        )
        assert len(stores[0].history(target.id)) == 1, "the change is recorded once"
        assert len(stores[0].deliveries_for()) == 1, "and queued once"
    finally:
        for c in checkers:
            for source in c.sources.values():
                await source.aclose()
        for s in stores:
            s.close()


# -- the loop keeps serving while the database waits ---------------------------------------------

_HOLD_LOCK = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE targets SET failures = failures")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
"""


async def _ticker(every: float, ticks: list[float], enough: asyncio.Event, n: int) -> None:
    while True:
        await asyncio.sleep(every)
        ticks.append(time.monotonic())
        if len(ticks) >= n:
            enough.set()


@pytest.mark.timeout(60)
async def test_the_loop_keeps_serving_while_another_process_holds_the_sqlite_write_lock(
    bot: Bot, tmp_path: Path
) -> None:
    await bot.run("watch hf:acme/x")  # a database with a target in it
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLD_LOCK, str(tmp_path / "bot.db"), "2.5",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 20) == b"locked\n"
    ticks: list[float] = []
    enough = asyncio.Event()
    ticker = asyncio.create_task(_ticker(0.05, ticks, enough, 10))
    try:
        cycle = asyncio.create_task(bot.service.checker.check_due())  # claims: must wait
        await asyncio.wait_for(enough.wait(), 2.0)
        assert not cycle.done(), "the claim was still waiting for the lock meanwhile"
        await asyncio.wait_for(cycle, 30)  # and goes through once the lock is released
    finally:
        ticker.cancel()
        await asyncio.wait_for(holder.wait(), 20)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 1.0, "the loop never stopped for the database"
