"""Several replicas on the machine's PostgreSQL, killed with SIGKILL at random moments while
changes are in flight: every change is delivered, nothing is lost, duplicates are counted.

Each delivery carries a nonce; the receiver records every POST, so "lost" (a delivery the
database says was sent but the receiver never saw, or one left pending) and "twice" (the same
nonce received again after a crash between the post and its acknowledgement) are both visible.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.clihelp import cli_env, start_logged
from tests.fakes.hub import FakeHub
from tests.receivers import Receiver, serve_receiver

TARGETS = 12
CYCLES = 50
LICENCES = ("mit", "apache-2.0", "cc-by-nc-4.0", "gpl-3.0")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver(Receiver(jitter=0.05)) as rec:
        yield rec


@pytest.mark.timeout(300)
async def test_three_replicas_killed_at_random_lose_nothing(
    hub: FakeHub, receiver: Receiver, pg_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261126)
    watches = tmp_path / "w.toml"
    watches.write_text(
        "".join(
            f'[[watch]]\ntarget = "hf:acme/m{i}"\nto = ["webhook:{receiver.url}"]\n\n'
            for i in range(TARGETS)
        )
    )
    upstream = dict.fromkeys(range(TARGETS), "mit")
    for i in range(TARGETS):
        hub.set_repo(f"acme/m{i}", license="mit")
    env = cli_env(
        pg_url,
        hub.url,
        POLICYBOT_WATCHLIST=str(watches),
        POLICYBOT_TICK_SECONDS="0.2",
        POLICYBOT_CHECK_INTERVAL="0.4",
        POLICYBOT_CHECK_JITTER="0.2",
        POLICYBOT_LEASE_SECONDS="3",
        POLICYBOT_LOG_LEVEL="WARNING",
    )
    replicas = [
        await start_logged(env, "run", cwd=tmp_path, log=tmp_path / f"r{n}.log") for n in range(3)
    ]
    kills = 0
    try:
        # Start-up (imports, migrations) takes about a second: let the replicas take their
        # baselines first, so that the kills land in check-and-deliver cycles, not in imports.
        probe = Store.open(pg_url)
        try:
            for _ in range(600):
                if all(
                    (t := probe.get_target(f"hf:acme/m{i}")) is not None
                    and t.latest_snapshot_id is not None
                    for i in range(TARGETS)
                ):
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the replicas did not take every baseline within 60 s")
        finally:
            probe.close()
        for _cycle in range(CYCLES):
            for i in rng.sample(range(TARGETS), 3):
                upstream[i] = rng.choice([lic for lic in LICENCES if lic != upstream[i]])
                hub.set_repo(f"acme/m{i}", license=upstream[i])
            await asyncio.sleep(rng.uniform(0.2, 0.8))
            victim = rng.randrange(3)
            replicas[victim].send_signal(signal.SIGKILL)
            await replicas[victim].wait()
            kills += 1
            replicas[victim] = await start_logged(
                env, "run", cwd=tmp_path, log=tmp_path / f"r{victim}.log"
            )

        # Quiet period: no more changes; the survivors finish every check and delivery.
        store = Store.open(pg_url)
        try:
            # Quiet means it stays so: converged with nothing pending on 10 reads in a row
            # (2 s, several check intervals), not one lucky read while a check is in flight.
            steady = 0
            for _ in range(300):
                await asyncio.sleep(0.2)
                counts = store.delivery_counts()
                converged = all(
                    _licence_of(store, f"hf:acme/m{i}") == upstream[i] for i in range(TARGETS)
                )
                steady = steady + 1 if converged and counts.get("pending", 0) == 0 else 0
                if steady >= 10:
                    break
            else:
                pytest.fail(f"no convergence within 60 s of the last kill: {counts}")
            counts = store.delivery_counts()
            sent = {d.nonce for d in store.deliveries_for() if d.status == "sent"}
            targets = [store.get_target(f"hf:acme/m{i}") for i in range(TARGETS)]
            assert all(t is not None for t in targets)
            changes = sum(len(store.history(t.id, 1000)) for t in targets if t is not None)
        finally:
            store.close()
    finally:
        for proc in replicas:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*(asyncio.wait_for(p.wait(), 20) for p in replicas))

    received = Counter(str(b["nonce"]) for b in receiver.bodies)
    duplicates = sum(n - 1 for n in received.values())
    print(
        f"\nreplicas: {kills} kills, {changes} changes, {len(sent)} alerts sent, "
        f"{len(receiver.bodies)} posts received, {duplicates} duplicate posts"
    )
    assert converged, "every target's last snapshot matches the Hub"
    assert counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0
    assert changes >= 10, "changes were in flight while replicas were killed"
    assert sent == set(received), "every alert the database calls sent was received, no other"
    assert len(sent) == changes, "one alert per check that found a change"
    # At most one duplicate per crash that fell between a post and its acknowledgement.
    assert duplicates <= kills


def _licence_of(store: Store, ref: str) -> str | None:
    target = store.get_target(ref)
    if target is None:
        return None
    snap = store.latest_snapshot(target)
    if snap is None:
        return None
    ids = snap.facts.get("licence", {}).get("ids") or [None]
    return str(ids[0])


@pytest.mark.timeout(180)
async def test_two_replicas_with_short_leases_a_slow_upstream_and_a_slow_chat_say_it_once(
    hub: FakeHub, pg_url: str, tmp_path: Path
) -> None:
    """No crash at all, but every piece of work outlives its lease: checks wait 2.5 s on the
    upstream (lease 1 s) and one channel's batch of alerts takes seconds to post (delivery
    lease 1 s). Each change is recorded once and each alert is received exactly once."""
    async with serve_receiver(Receiver(jitter=0.5)) as rec:
        watches = tmp_path / "w.toml"
        watches.write_text(
            "".join(
                f'[[watch]]\ntarget = "hf:acme/s{i}"\nto = ["webhook:{rec.url}"]\n\n'
                for i in range(TARGETS)
            )
        )
        for i in range(TARGETS):
            hub.set_repo(f"acme/s{i}", license="mit")
        env = cli_env(
            pg_url, hub.url, POLICYBOT_WATCHLIST=str(watches), POLICYBOT_TICK_SECONDS="0.2",
            POLICYBOT_CHECK_INTERVAL="0.5", POLICYBOT_LEASE_SECONDS="1",
            POLICYBOT_DELIVERY_LEASE_SECONDS="1", POLICYBOT_HEARTBEAT_SECONDS="3",
            POLICYBOT_HUB_TIMEOUT="10", POLICYBOT_LOG_LEVEL="WARNING",
        )  # fmt: skip
        replicas = [
            await start_logged(env, "run", cwd=tmp_path, log=tmp_path / f"s{n}.log")
            for n in range(2)
        ]
        store = Store.open(pg_url)
        try:
            for _ in range(300):
                if all(_licence_of(store, f"hf:acme/s{i}") == "mit" for i in range(TARGETS)):
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the replicas never took their baselines")
            for i in range(TARGETS):
                if i % 3 == 0:
                    hub.delay(f"acme/s{i}", 2.5, times=3)
                hub.set_repo(f"acme/s{i}", license="gpl-3.0")
            for _ in range(600):
                await asyncio.sleep(0.1)
                done = all(_licence_of(store, f"hf:acme/s{i}") == "gpl-3.0" for i in range(TARGETS))
                if done and store.delivery_counts() == {"sent": TARGETS}:
                    break
            else:
                pytest.fail(f"not delivered: {store.delivery_counts()}")
            changes = [
                len(store.history(store.get_target(f"hf:acme/s{i}").id, 100))  # type: ignore[union-attr]
                for i in range(TARGETS)
            ]
        finally:
            store.close()
            for proc in replicas:
                proc.send_signal(signal.SIGTERM)
            await asyncio.gather(*(asyncio.wait_for(p.wait(), 20) for p in replicas))
        received = Counter(str(b["nonce"]) for b in rec.bodies)
        assert changes == [1] * TARGETS, "each change recorded once"
        assert len(received) == TARGETS, "every alert received"
        assert [n for n in received.values() if n > 1] == [], "none received twice"
