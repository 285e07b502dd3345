"""Alerts to Slack through the outbox: what the channel sees when Slack rate-limits, fails,
refuses blocks or has revoked the token. The real SDK posts to the fake Slack; time moves
through the injected clock, never by sleeping (a 120 s Retry-After slept inside ``deliver``
would trip the 60 s test timeout)."""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts.compose import default_actions
from bot.domain.model import Alert, Link, Severity
from tests.conftest import Clock, corpus_path
from tests.fakes.hub import FakeHub
from tests.fakes.slack import BOT_TOKEN, FakeSlack, block_problems
from tests.slack_harness import CHANNEL, SlackBot, slack_settings

REPO = "acme/model"
ADDRESS = f"slack:{CHANNEL}"
ROOT = Path(__file__).resolve().parents[1]


def make_bot(
    tmp_path: Path, hub: FakeHub, slack: FakeSlack, clock: Clock, **extra: object
) -> SlackBot:
    settings = slack_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack, **extra)
    return SlackBot(settings, clock)


@pytest.fixture
async def sbot(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> AsyncIterator[SlackBot]:
    bot = make_bot(tmp_path, hub, slack, clock)
    yield bot
    await bot.close()


async def change_licence(bot: SlackBot, hub: FakeHub, repo: str = REPO) -> None:
    """Watch ``repo`` in the channel, then change its licence so one alert is queued."""
    hub.set_repo(repo, license="apache-2.0")
    await bot.run(f"watch hf:{repo}")
    hub.set_repo(repo, license="other", license_name="hfoil-1.0")


async def test_429_waits_for_retry_after_then_delivers_once(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    await change_licence(sbot, hub)
    slack.fail("chat.postMessage", status=429, headers={"Retry-After": "120"})
    start = sbot.clock.advance(hours=2)
    result = await sbot.cycle()
    assert (result.sent, result.retried) == (0, 1)
    assert slack.messages() == []
    [row] = sbot.store.deliveries_for(ADDRESS)
    assert row.next_attempt_at == start + timedelta(seconds=120)

    sbot.clock.advance(seconds=119)
    assert (await sbot.service.dispatcher.flush()).sent == 0
    assert len(slack.calls("chat.postMessage")) == 1, "nothing is sent before Retry-After"

    sbot.clock.advance(seconds=1)
    assert (await sbot.service.dispatcher.flush()).sent == 1
    sbot.clock.advance(hours=1)
    assert (await sbot.service.dispatcher.flush()).sent == 0
    assert len(slack.messages(CHANNEL)) == 1, "delivered exactly once"
    assert len(slack.calls("chat.postMessage")) == 2


async def test_5xx_is_retried_with_backoff(sbot: SlackBot, slack: FakeSlack, hub: FakeHub) -> None:
    await change_licence(sbot, hub)
    slack.fail("chat.postMessage", status=503, error="service_unavailable", times=2)
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).retried == 1
    sbot.clock.advance(seconds=2)
    assert (await sbot.service.dispatcher.flush()).retried == 1
    sbot.clock.advance(seconds=4)
    assert (await sbot.service.dispatcher.flush()).sent == 1
    assert len(slack.messages(CHANNEL)) == 1
    [row] = sbot.store.deliveries_for(ADDRESS)
    assert (row.status, row.attempts) == ("sent", 3)


async def test_unreachable_slack_is_a_retry_not_a_loss(
    hub: FakeHub, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeSlack() as closed:
        pass  # its port is now closed
    bot = make_bot(tmp_path, hub, closed, clock)
    try:
        await change_licence(bot, hub)
        clock.advance(hours=2)
        result = await bot.cycle()
        assert (result.sent, result.retried, result.dropped) == (0, 1, 0)
        [row] = bot.store.deliveries_for(ADDRESS)
        assert row.status == "pending"
        assert "error=cannot reach Slack: ClientConnectorError" in caplog.text
    finally:
        await bot.close()


async def test_invalid_auth_stops_the_channel_with_one_log_line(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(tmp_path, hub, slack, clock, slack_bot_token="xoxb-9999-revoked-token")
    try:
        await change_licence(bot, hub, "acme/one")
        await change_licence(bot, hub, "acme/two")
        clock.advance(hours=2)
        with caplog.at_level(logging.WARNING):
            result = await bot.cycle()
            for _ in range(3):
                clock.advance(hours=1)
                await bot.service.dispatcher.flush()
        assert (result.sent, result.dropped) == (0, 2)
        assert len(slack.calls("chat.postMessage")) == 1, "no retry storm"
        lines = [r.getMessage() for r in caplog.records if ADDRESS in r.getMessage()]
        assert lines == [
            f"channel is gone, deliveries to it stopped channel={ADDRESS} reason=Slack says "
            "invalid_auth: the bot token is not valid: check SLACK_BOT_TOKEN dropped=2"
        ]
        assert "xoxb-9999" not in caplog.text
    finally:
        await bot.close()


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "is_archived"])
async def test_a_channel_slack_refuses_is_dropped_not_retried(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub, error: str
) -> None:
    await change_licence(sbot, hub)
    slack.channel_error(CHANNEL, error)
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).dropped == 1
    assert sbot.store.channel_disabled(ADDRESS) is not None
    assert error in (sbot.store.channel_disabled(ADDRESS) or "")
    sbot.clock.advance(hours=1)
    await sbot.service.dispatcher.flush()
    assert len(slack.calls("chat.postMessage")) == 1


async def test_refused_blocks_fall_back_to_plain_text(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    await change_licence(sbot, hub)
    slack.fail("chat.postMessage", error="invalid_blocks")
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 1
    [message] = slack.messages(CHANNEL)
    assert message.blocks == []
    assert "*Licence changed — acme/model*" in message.text
    assert "Apache-2.0 (permissive) → hfoil-1.0 (source-available)" in message.text


async def test_posts_to_one_channel_are_paced(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    bot = make_bot(tmp_path, hub, slack, clock, slack_min_interval=1.0)
    try:
        await change_licence(bot, hub, "acme/one")
        await change_licence(bot, hub, "acme/two")
        clock.advance(hours=2)
        assert (await bot.cycle()).sent == 2
        first, second = slack.messages(CHANNEL)
        assert second.at - first.at >= 0.95
    finally:
        await bot.close()


async def test_a_long_real_diff_is_delivered_within_limits(
    sbot: SlackBot, slack: FakeSlack
) -> None:
    folder = corpus_path("licence-history", "text-generation-inference")
    old = (folder / "LICENSE.2023-07-before-apache-2.0").read_text().splitlines()
    new = (folder / "LICENSE.2023-07-28-after-hfoil-1.0").read_text().splitlines()
    diff = list(difflib.unified_diff(old, new, lineterm=""))
    alert = Alert(
        title="Content changed — LICENSE",
        severity=Severity.WARNING,
        target="page:https://example.com/LICENSE",
        source_label="web page",
        lines=("the licence text changed",),
        fields=(("Licence", "Apache-2.0 → HFOIL-1.0 " * 200),),
        excerpt="\n".join(diff * 4),
        links=(Link("page", "https://example.com/LICENSE"),),
        actions=default_actions("page:https://example.com/LICENSE"),
    )
    ts = await sbot.slack.deliver(CHANNEL, alert, reply_to=None, nonce="n1")
    [message] = slack.messages(CHANNEL)
    assert ts == message.ts
    assert block_problems(message.blocks) == []
    assert "more lines · *Show diff* for all" in message.all_text()


async def test_cli_watch_and_check_post_to_slack_with_the_bot_token_alone(
    hub: FakeHub, slack: FakeSlack, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "HF_ENDPOINT": hub.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "POLICYBOT_SLACK_API_URL": slack.api_url,
        "POLICYBOT_SLACK_MIN_INTERVAL": "0",
    }

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        return proc.returncode or 0, out.decode(), err.decode()

    hub.set_repo(REPO, license="apache-2.0")
    code, out, err = await cli("watch", f"hf:{REPO}", "--to", ADDRESS)
    assert code == 0, err
    assert f"Watching hf:{REPO} → {ADDRESS}" in out
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    code, out, err = await cli("check")
    assert code == 0, err
    assert "1 changed" in err and "1 delivered" in err
    [message] = slack.messages(CHANNEL)
    assert message.blocks[0]["text"]["text"] == ":red_circle: Licence changed — acme/model"
    assert slack.calls("apps.connections.open") == [], "posting needs no Socket Mode"
    assert BOT_TOKEN not in out + err
