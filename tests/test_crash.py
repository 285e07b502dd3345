"""Invariant 1, for real: kill -9 the process between detection and delivery; nothing is lost.

The alert goes to a webhook receiver that hangs, so the process is certainly past the
transaction that recorded the change and inside the delivery when it is killed.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.clihelp import cli_env, policybot, start
from tests.fakes.hub import FakeHub
from tests.receivers import Receiver, serve_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as rec:
        yield rec


async def test_kill_between_detection_and_delivery_loses_nothing(
    hub: FakeHub, receiver: Receiver, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    env = cli_env(db, hub.url)
    hub.set_repo("acme/x", license="apache-2.0")
    ran = await policybot(
        env, "watch", "hf:acme/x", "--to", f"webhook:{receiver.url}", cwd=tmp_path
    )
    assert ran.code == 0, ran.err

    hub.set_repo("acme/x", license="other", license_name="hfoil-1.0")
    receiver.hang = True
    proc = await start(env, "check", cwd=tmp_path)
    await asyncio.wait_for(receiver.got.wait(), 30)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()

    store = Store.open(db)
    try:
        [pending] = store.deliveries_for()
        assert pending.status == "pending", "the alert waits in the outbox"
        target = store.get_target("hf:acme/x")
        assert target is not None and len(store.history(target.id)) == 1
    finally:
        store.close()

    receiver.hang = False
    ran = await policybot(env, "check", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "0 changed" in ran.err, "the change was recorded once, not found again"
    assert "1 delivered" in ran.err
    assert len(receiver.bodies) == 2
    first, second = receiver.bodies
    assert first["nonce"] == second["nonce"], "the receiver can tell it is the same alert"
    alert = second["alert"]
    assert isinstance(alert, dict)
    assert (
        "Apache-2.0 (permissive) → hfoil-1.0 (source-available) · more restrictive"
        in alert["lines"]
    )


async def test_kill_during_the_fetch_leaves_the_old_state_and_the_change_is_found_again(
    hub: FakeHub, receiver: Receiver, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    env = cli_env(db, hub.url, POLICYBOT_HUB_TIMEOUT="20")
    hub.set_repo("acme/x", license="mit")
    assert (
        await policybot(env, "watch", "hf:acme/x", "--to", f"webhook:{receiver.url}", cwd=tmp_path)
    ).code == 0
    hub.set_repo("acme/x", license="gpl-3.0")
    hub.delay("acme/x", 10)
    before = hub.count("/api/models/acme/x")
    proc = await start(env, "check", cwd=tmp_path)
    for _ in range(300):
        if hub.count("/api/models/acme/x") > before:
            break
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert receiver.bodies == []

    ran = await policybot(env, "check", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "1 changed" in ran.err and "1 delivered" in ran.err
    assert len(receiver.bodies) == 1
