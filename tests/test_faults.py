"""Faults a long-running bot must survive: a chat API that fails for a while, a hanging
upstream, PostgreSQL restarted under load."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store import Store
from tests.clihelp import cli_env, start_logged
from tests.conftest import Bot
from tests.fakes.hub import FakeHub
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
    assert result.count("changed") == 20 and result.count("failed") == 1
    assert elapsed < 10, f"the cycle is bounded by the timeout, took {elapsed:.1f}s"


async def _until(predicate: Callable[[], bool], timeout: float = 45) -> None:
    """Poll ``predicate`` (a database read may fail while PostgreSQL restarts)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        try:
            if predicate():
                return
        except sa.exc.OperationalError:
            pass
        await asyncio.sleep(0.2)


def _pg_ctl() -> list[str] | None:
    tool = shutil.which("pg_ctlcluster")
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    if tool is None or not versions:
        return None
    return [tool, "--skip-systemctl-redirect", versions[-1].name, "main", "restart"]


@pytest.mark.timeout(180)
async def test_postgresql_restart_under_load_loses_nothing(
    hub: FakeHub, flaky: Receiver, pg_url: str, tmp_path: Path
) -> None:
    restart = _pg_ctl()
    if restart is None:
        pytest.skip("pg_ctlcluster is not available to restart PostgreSQL here")
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
        pg_url,
        hub.url,
        POLICYBOT_WATCHLIST=str(watches),
        POLICYBOT_TICK_SECONDS="0.2",
        POLICYBOT_CHECK_INTERVAL="0.3",
        POLICYBOT_CHECK_JITTER="0",
        POLICYBOT_LOG_LEVEL="WARNING",
    )
    logs = [tmp_path / f"r{n}.log" for n in range(2)]
    replicas = [await start_logged(env, "run", cwd=tmp_path, log=log) for log in logs]
    try:
        await asyncio.sleep(3)
        for i in range(8):
            hub.set_repo(f"acme/m{i}", license="apache-2.0")
        done = await asyncio.to_thread(subprocess.run, restart, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        store = Store.open(pg_url)
        try:
            await _until(lambda: store.delivery_counts().get("sent", 0) >= 8)
            for i in range(4):  # more changes once the database is back
                hub.set_repo(f"acme/m{i}", license="gpl-3.0")
            await _until(lambda: store.delivery_counts().get("sent", 0) >= 12)
            counts = store.delivery_counts()
        finally:
            store.close()
        dead = [p for p in replicas if p.returncode is not None]
        if dead:
            pytest.fail("a replica died during the restart:\n" + logs[0].read_text()[-3000:])
    finally:
        for proc in replicas:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*(asyncio.wait_for(p.wait(), 20) for p in replicas))
    assert counts == {"sent": 12}, (counts, [log.read_text()[-1500:] for log in logs])
    assert (
        sorted(flaky.first_lines).count("MIT (permissive) → Apache-2.0 (permissive) · lateral") >= 8
    )
    assert len(flaky.first_lines) >= 12
