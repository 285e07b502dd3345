"""`policybot run`: APScheduler drives checks and deliveries on real time (short intervals)."""

from __future__ import annotations

import asyncio
import io
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from adapters.console import ConsoleAdapter
from bot.commands.watchlist import WatchEntry
from bot.domain.model import Severity
from bot.runtime.runner import run_forever
from bot.service.executor import Service
from bot.sources import build_sources
from bot.store import Store
from tests.clihelp import cli_env, start
from tests.conftest import make_settings
from tests.fakes.hub import FakeHub


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def utcnow() -> datetime:
    return datetime.now(UTC)


async def _wait_for(predicate, timeout: float = 30.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_scheduled_checks_find_a_change_and_deliver_it(hub: FakeHub, tmp_path: Path) -> None:
    port = _free_port()
    settings = make_settings(
        f"sqlite:///{tmp_path / 'r.db'}",
        hub.url,
        tick_seconds=0.2,
        check_interval=0.3,
        check_jitter=0.1,
        http_port=port,
    )
    out = io.StringIO()
    service = Service(
        settings,
        Store.open(settings.database_url),
        build_sources(settings),
        {"console": ConsoleAdapter(out)},
        utcnow,
        "runner-test",
    )
    hub.set_repo("acme/x", license="mit")
    service.apply_watchlist([WatchEntry("hf:acme/x", ("console",), Severity.INFO, None, (), ())])
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(service, settings, stop))
    try:
        target_ready = await _wait_for(
            lambda: (
                (t := service.store.get_target("hf:acme/x")) is not None
                and t.latest_snapshot_id is not None
            )
        )
        assert target_ready, "the first scheduled check took the baseline"
        assert out.getvalue() == ""
        hub.set_repo("acme/x", license="cc-by-nc-4.0")
        assert await _wait_for(lambda: "Licence changed — acme/x" in out.getvalue())
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                assert (await resp.json())["ready"] is True
            metrics = ""
            for _ in range(200):  # the flush that printed the alert records it right after
                async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    metrics = await resp.text()
                if 'outcome="sent"' in metrics:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the sent alert never showed in /metrics")
        assert 'policybot_checks_total{status="baseline"} 1.0' in metrics
        assert 'policybot_changes_total{kind="licence",severity="critical"} 1.0' in metrics
        assert 'policybot_deliveries_total{outcome="sent"} 1.0' in metrics
        assert 'policybot_outbox{status="pending"} 0.0' in metrics
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await service.aclose()
    assert out.getvalue().count("Licence changed") == 1


async def test_run_without_network_keeps_going_one_line_per_target(tmp_path: Path) -> None:
    watches = tmp_path / "w.toml"
    watches.write_text('[[watch]]\ntarget = "hf:acme/x"\n\n[[watch]]\ntarget = "hf:acme/y"\n')
    # Port 9 (discard) on loopback: connection refused, like a machine without network.
    env = cli_env(
        f"sqlite:///{tmp_path / 'p.db'}",
        "http://127.0.0.1:9",
        POLICYBOT_WATCHLIST=str(watches),
        POLICYBOT_TICK_SECONDS="0.3",
        POLICYBOT_RETRY_BASE="0.2",
        POLICYBOT_MAX_BACKOFF="0.5",
    )
    proc = await start(env, "run", cwd=tmp_path)
    assert proc.stdout is not None
    # Wait (bounded: the test fails on timeout) until both targets have failed three times
    # in a row and the channel has heard it: the bot kept running through those failures.
    seen = ""

    async def both_failing() -> None:
        nonlocal seen
        while not ("Watch failing — acme/x" in seen and "Watch failing — acme/y" in seen):
            line = await proc.stdout.readline()  # type: ignore[union-attr]
            assert line, f"the bot stopped: {proc.returncode}"
            seen += line.decode()

    await asyncio.wait_for(both_failing(), 30)
    assert proc.returncode is None, "the bot keeps running"
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    out = seen.encode() + out
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    for ref in ("hf:acme/x", "hf:acme/y"):
        lines = [ln for ln in text.splitlines() if f"check failed target={ref}" in ln]
        assert len(lines) == 1, f"one warning per target, got {lines}"
        assert "network error reaching http://127.0.0.1:9" in lines[0]
    assert "stopping" in text
    alerts = out.decode()
    # After three failures in a row the channel hears it once per target, not per failure.
    assert alerts.count("Watch failing — acme/x") == 1
    assert alerts.count("Watch failing — acme/y") == 1


async def test_a_second_run_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", "http://127.0.0.1:9")
    first = await start(env, "run", cwd=tmp_path)
    try:
        for _ in range(400):  # until the first one holds the lock
            if (tmp_path / "p.db.lock").exists() and (tmp_path / "p.db.lock").read_text():
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the first run never took the SQLite lock")
        second = await start(env, "run", cwd=tmp_path)
        _out, err = await asyncio.wait_for(second.communicate(), 20)
        assert second.returncode == 2
        assert f"another `policybot run` (pid {first.pid}) is already using" in err.decode()
        assert "use PostgreSQL" in err.decode()
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.communicate(), 15)
    assert first.returncode == 0


class _Listener:
    platform = "fake"

    def __init__(self) -> None:
        self.running = asyncio.Event()

    async def listen(self, service: Service) -> None:
        self.running.set()
        await asyncio.Event().wait()


async def test_only_one_replica_holds_a_listener_and_another_takes_over(
    hub: FakeHub, pg_url: str
) -> None:
    """Two replicas on PostgreSQL: one holds the chat connection; when it stops renewing its
    lease, the other takes over within one lease period."""
    settings = make_settings(pg_url, hub.url, tick_seconds=0.2, lease_seconds=1.0)
    replicas = []
    for name in ("r1", "r2"):
        service = Service(
            settings, Store.open(settings.database_url), build_sources(settings), {}, utcnow, name
        )
        listener, stop = _Listener(), asyncio.Event()
        task = asyncio.create_task(run_forever(service, settings, stop, listeners=[listener]))
        replicas.append((service, listener, stop, task))
        if name == "r1":
            await asyncio.wait_for(listener.running.wait(), 10)
    await asyncio.sleep(1.5)
    assert replicas[0][1].running.is_set() and not replicas[1][1].running.is_set()

    service, _listener, stop, task = replicas[0]
    task.cancel()  # r1 goes away (a crash is covered by the lease-expiry store test)
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.wait_for(replicas[1][1].running.wait(), 5)

    for service, _listener, stop, task in replicas:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await service.aclose()
