"""Faults a long-running bot must survive: a chat API that fails for a while, a hanging
upstream, PostgreSQL restarted under load."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain.model import CheckStatus
from bot.store import Store
from tests.clihelp import cli_env, start_logged
from tests.conftest import Bot
from tests.fakes.hub import FakeHub
from tests.pgcluster import Cluster
from tests.receivers import Receiver, serve_receiver


@pytest.fixture
async def flaky() -> AsyncIterator[Receiver]:
    async with serve_receiver() as rec:
        yield rec


async def test_alerts_wait_out_500s_and_429s_then_arrive_once_in_order(
    bot: Bot, hub: FakeHub, flaky: Receiver
) -> None:
    hub.set_repo("acme/x", license="mit")
    await bot.run(f"watch hf:acme/x --to webhook:{flaky.url}")
    flaky.script = [(500, {}), (503, {}), (429, {"Retry-After": "120"}), (502, {}), (429, {})]
    expected = []
    for licence in ("apache-2.0", "gpl-3.0", "cc-by-nc-4.0", "mit"):
        hub.set_repo("acme/x", license=licence)
        bot.clock.advance(hours=2)
        await bot.service.checker.check_due()
        expected.append(bot.store.history(bot.store.get_target("hf:acme/x").id, 1)[0].summary)  # type: ignore[union-attr]
    for _ in range(30):
        await bot.service.dispatcher.flush()
        bot.clock.advance(minutes=5)
    assert flaky.script == [], "every failure was met"
    assert flaky.first_lines == expected, "all delivered, once each, in order"
    assert bot.store.delivery_counts() == {"sent": 4}


async def test_429_retry_after_is_honoured(bot: Bot, hub: FakeHub, flaky: Receiver) -> None:
    hub.set_repo("acme/x", license="mit")
    await bot.run(f"watch hf:acme/x --to webhook:{flaky.url}")
    flaky.script = [(429, {"Retry-After": "600"})]
    hub.set_repo("acme/x", license="gpl-3.0")
    bot.clock.advance(hours=2)
    await bot.service.checker.check_due()
    await bot.service.dispatcher.flush()
    bot.clock.advance(seconds=590)
    await bot.service.dispatcher.flush()
    assert flaky.first_lines == [], "not before Retry-After"
    bot.clock.advance(seconds=20)
    await bot.service.dispatcher.flush()
    assert len(flaky.first_lines) == 1


async def test_a_hanging_upstream_does_not_hold_up_other_targets(bot: Bot, hub: FakeHub) -> None:
    for i in range(20):
        hub.set_repo(f"acme/m{i}", license="mit")
    hub.set_repo("acme/slow", license="mit")
    await bot.run("watch " + " ".join(f"hf:acme/m{i}" for i in range(20)) + " hf:acme/slow")
    for i in range(20):
        hub.set_repo(f"acme/m{i}", license="gpl-3.0")
    hub.delay("acme/slow", 30)  # far beyond the 2 s Hub timeout of the tests
    bot.clock.advance(hours=2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await bot.service.checker.check_due()
    elapsed = loop.time() - started
    assert result.count(CheckStatus.CHANGED) == 20 and result.count(CheckStatus.FAILED) == 1
    assert elapsed < 10, f"the cycle is bounded by the timeout, took {elapsed:.1f}s"


async def _until(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll ``predicate`` (a database read may fail while PostgreSQL restarts); fail the test
    when it is still false after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        try:
            if predicate():
                return
        except sa.exc.OperationalError:
            pass
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting until {what}")


@pytest.mark.timeout(240)
async def test_postgresql_restart_under_load_loses_nothing(
    hub: FakeHub, flaky: Receiver, own_pg: Cluster, tmp_path: Path
) -> None:
    """Replicas on a private PostgreSQL cluster (never the machine's shared server), which
    is restarted while they work; and one replica starts while it is down and must wait."""
    watches = tmp_path / "w.toml"
    watches.write_text(
        "".join(
            f'[[watch]]\ntarget = "hf:acme/m{i}"\nto = ["webhook:{flaky.url}"]\n\n'
            for i in range(8)
        )
    )
    for i in range(8):
        hub.set_repo(f"acme/m{i}", license="mit")
    env = cli_env(
        own_pg.url,
        hub.url,
        POLICYBOT_WATCHLIST=str(watches),
        POLICYBOT_TICK_SECONDS="0.2",
        POLICYBOT_CHECK_INTERVAL="0.3",
        POLICYBOT_CHECK_JITTER="0",
        POLICYBOT_LOG_LEVEL="WARNING",
    )
    logs = [tmp_path / f"r{n}.log" for n in range(3)]
    replicas = [await start_logged(env, "run", cwd=tmp_path, log=log) for log in logs[:2]]
    store = Store.open(own_pg.url)
    try:
        # Every baseline taken: the replicas are past their start-up and in their loop.
        await _until(
            lambda: all(
                (t := store.get_target(f"hf:acme/m{i}")) is not None
                and t.latest_snapshot_id is not None
                for i in range(8)
            ),
            "both replicas started and took every baseline",
        )
        for i in range(8):
            hub.set_repo(f"acme/m{i}", license="apache-2.0")
        await asyncio.to_thread(own_pg.restart)
        await _until(lambda: store.delivery_counts().get("sent", 0) >= 8, "8 alerts were sent")
        # A replica that starts while the database is down waits for it (one line per try).
        await asyncio.to_thread(own_pg.stop)
        replicas.append(await start_logged(env, "run", cwd=tmp_path, log=logs[2]))
        await _until(lambda: "attempt 2" in logs[2].read_text(), "the third replica retried")
        assert replicas[2].returncode is None, logs[2].read_text()
        await asyncio.to_thread(own_pg.start)
        for i in range(4):  # more changes once the database is back
            hub.set_repo(f"acme/m{i}", license="gpl-3.0")
        await _until(lambda: store.delivery_counts().get("sent", 0) >= 12, "12 alerts were sent")
        counts = store.delivery_counts()
        dead = [n for n, p in enumerate(replicas) if p.returncode is not None]
        if dead:
            pytest.fail("a replica died:\n" + logs[dead[0]].read_text()[-3000:])
    finally:
        store.close()
        for proc in replicas:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*(asyncio.wait_for(p.wait(), 20) for p in replicas))
    assert counts == {"sent": 12}, (counts, [log.read_text()[-1500:] for log in logs])
    assert (
        sorted(flaky.first_lines).count("MIT (permissive) → Apache-2.0 (permissive) · lateral") >= 8
    )
    assert len(flaky.first_lines) >= 12
