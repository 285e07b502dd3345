"""A failing Hub is one failed check, one log line: the client's own retries (five per
request with its own backoff, "Retrying in Ns" each) are not used; the scheduler's per-target
backoff decides when to try again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.clihelp import cli_env, policybot
from tests.conftest import Bot
from tests.fakes.hub import FakeHub


async def test_a_failing_org_listing_is_one_request_and_no_client_retry_lines(
    hub: FakeHub, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    hub.set_repo("acme/m", license="mit")
    await bot.run("watch hf:org/acme")
    before = hub.count("/api/models")
    hub.fail("acme/*", 503, times=10)
    bot.clock.advance(hours=2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await bot.service.checker.check_due()
    elapsed = loop.time() - started
    assert [(o.status, o.reason) for o in result.outcomes] == [("failed", "http-503")]
    assert hub.count("/api/models") - before == 1, "one request, not the client's six"
    retrying = [r.getMessage() for r in caplog.records if "Retry" in r.getMessage()]
    assert retrying == []
    assert elapsed < 5, f"no client backoff sleeps, took {elapsed:.1f} s"


async def test_watching_an_org_offline_is_one_line(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'o.db'}", "http://127.0.0.1:9")
    ran = await policybot(env, "watch", "hf:org/acme", cwd=tmp_path, timeout=60)
    assert ran.code == 0, ran.err
    assert "Retrying" not in ran.err and "Traceback" not in ran.err
    failures = [ln for ln in ran.err.splitlines() if "check failed" in ln]
    assert len(failures) == 1, ran.err
    assert "baseline will be taken" in ran.out
