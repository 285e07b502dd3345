"""``slack-webhook:<url>`` channels: alerts through an incoming webhook of the fake Slack,
through the SSRF guard, with the URL (a credential) kept out of every log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adapters.slack_webhook import SlackWebhookAdapter
from tests.conftest import Clock
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack, block_problems
from tests.slack_harness import SlackBot, slack_settings

REPO = "acme/model"
HOOK_CHANNEL = "C0HOOK"


async def make_bot(
    tmp_path: Path, hub: FakeHub, slack: FakeSlack, clock: Clock, url: str, **extra: object
) -> SlackBot:
    settings = slack_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack, **extra)
    bot = SlackBot(settings, clock)
    hub.set_repo(REPO, license="apache-2.0")
    reply = await bot.run(f"watch hf:{REPO} --to slack-webhook:{url}")
    assert "Watching" in reply
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    clock.advance(hours=2)
    return bot


async def test_an_alert_arrives_through_the_webhook_without_buttons(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    url = slack.webhook(HOOK_CHANNEL)
    bot = await make_bot(tmp_path, hub, slack, clock, url)
    try:
        assert (await bot.cycle()).sent == 1
        [post] = slack.posted("webhook", HOOK_CHANNEL)
        assert block_problems(post.blocks) == []
        assert post.blocks[0]["text"]["text"] == ":red_circle: Licence changed — acme/model"
        assert "Apache-2.0 (permissive) → hfoil-1.0 (source-available)" in post.all_text()
        assert [b for b in post.blocks if b["type"] == "actions"] == []
    finally:
        await bot.close()


@pytest.mark.parametrize(
    "status, body, outcome",
    [
        (404, "no_service", "dropped"),
        (410, "channel_is_archived", "dropped"),
        (403, "action_prohibited", "dropped"),
        (429, "rate_limited", "retried"),
        (500, "rollup_error", "retried"),
    ],
)
async def test_webhook_failures(
    hub: FakeHub,
    slack: FakeSlack,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: str,
    outcome: str,
) -> None:
    url = slack.webhook(HOOK_CHANNEL)
    bot = await make_bot(tmp_path, hub, slack, clock, url)
    try:
        slack.fail_webhook(url, status, body, headers={"Retry-After": "30"})
        with caplog.at_level(logging.INFO):
            result = await bot.cycle()
        assert getattr(result, outcome) == 1
        [row] = bot.store.deliveries_for(f"slack-webhook:{url}")
        if outcome == "retried":
            assert row.status == "pending"
            clock.advance(seconds=30)
            assert (await bot.service.dispatcher.flush()).sent == 1
            assert len(slack.posted("webhook", HOOK_CHANNEL)) == 1
        else:
            assert row.status == "dropped"
            assert body in caplog.text
        secret = url.rsplit("/", 1)[-1]
        assert secret not in caplog.text, "the webhook URL is a credential"
    finally:
        await bot.close()


async def test_refused_blocks_are_resent_as_text(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    url = slack.webhook(HOOK_CHANNEL)
    bot = await make_bot(tmp_path, hub, slack, clock, url)
    try:
        slack.fail_webhook(url, 400, "invalid_blocks")
        assert (await bot.cycle()).sent == 1
        [post] = slack.posted("webhook", HOOK_CHANNEL)
        assert post.blocks == [] and "*Licence changed — acme/model*" in post.text
    finally:
        await bot.close()


async def test_the_ssrf_guard_refuses_a_private_webhook_and_keeps_the_url_secret(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.webhook(HOOK_CHANNEL)  # on 127.0.0.1
    secret = url.rsplit("/", 1)[-1]
    strict = slack_settings(
        f"sqlite:///{tmp_path / 'strict.db'}", hub.url, slack, allow_private_urls=False
    )
    refuser = SlackBot(strict, clock)
    try:  # at watch time (issue 11): refused, and the reply does not quote the secret
        reply = await refuser.run(f"watch hf:{REPO} --to slack-webhook:{url}")
        assert "refused" in reply and "Watching" not in reply and secret not in reply
    finally:
        await refuser.close()
    # A policy tightened after the watch: the delivery is refused and the channel stops.
    bot = await make_bot(tmp_path, hub, slack, clock, url)
    bot.service.dispatcher.adapters["slack-webhook"] = SlackWebhookAdapter(strict)  # type: ignore[index]
    try:
        with caplog.at_level(logging.INFO):
            result = await bot.cycle()
        assert result.dropped == 1
        assert slack.posted("webhook") == []
        assert "refused by the URL guard" in caplog.text
        assert secret not in caplog.text
    finally:
        await bot.close()
