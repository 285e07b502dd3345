"""Alerts into Discord through the outbox: the real discord.py (bot, REST only) and the webhook
adapter against the fake Discord, fed by real checks of the fake Hub.

Each test states what a channel member would see (or not see), and what Discord received.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts.compose import alert_for
from bot.domain.model import Alert, Change, ChangeKind, Link, Severity
from tests.conftest import Clock
from tests.discord_harness import DiscordBot
from tests.fakes.discord import FakeDiscord
from tests.fakes.hub import FakeHub

REPO = "acme/model"
ROOT = Path(__file__).resolve().parents[1]


# discord.py logs and swallows exceptions raised in callbacks: fail the test on them.
pytestmark = pytest.mark.usefixtures("no_errors_inside_discord_py")


@pytest.fixture
async def dbot(
    discord_fake: FakeDiscord, hub: FakeHub, clock: Clock, tmp_path: Path
) -> AsyncIterator[DiscordBot]:
    """conftest's ``dbot`` without the gateway: these tests only deliver, nobody types."""
    bot = DiscordBot(discord_fake, f"sqlite:///{tmp_path / 'bot.db'}", hub.url, clock)
    yield bot
    await bot.close()


async def licence_change(dbot: DiscordBot, hub: FakeHub, to: str) -> None:
    """Watch the repo in ``to``, then relicense it upstream; the next cycle has one alert."""
    hub.set_repo(REPO, license="apache-2.0")
    reply = await dbot.run(f"watch hf:{REPO} --to {to}")
    assert f"Watching hf:{REPO} → {to}" in reply
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    dbot.clock.advance(hours=2)


async def test_alert_is_an_embed_that_pings_nobody_and_carries_the_nonce(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    result = await dbot.cycle()
    assert result.sent == 1
    [posted] = discord_fake.messages(channel)
    assert posted.via == "bot"
    assert posted.payload["allowed_mentions"] == {"parse": [], "replied_user": False}
    row = dbot.store.deliveries_for(f"discord:{channel}")[0]
    assert posted.payload["nonce"] == row.nonce and posted.payload["enforce_nonce"] is True
    assert row.status == "sent" and row.message_id == posted.message["id"]
    embed = posted.embed
    assert embed["title"] == "Licence changed — acme/model"
    assert embed["color"] == 0xE74C3C
    assert embed["fields"][0] == {
        "name": "Licence",
        "value": "Apache-2.0 (permissive) → hfoil-1.0 (source-available)",
        "inline": False,
    }
    assert "more restrictive" in embed["description"]
    assert f"{hub.url}/{REPO}/commit/" in embed["fields"][1]["value"], "evidence: the commit"
    labels = [c["label"] for row in posted.message["components"] for c in row["components"]]
    assert labels == ["Unwatch", "Mute 7 days", "Show diff"]


async def test_a_follow_up_replies_to_the_original_alert(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    await dbot.cycle()
    hub.set_repo(REPO, license="apache-2.0")
    dbot.clock.advance(days=30)
    assert (await dbot.cycle()).sent == 1
    first, second = discord_fake.messages(channel)
    assert second.embed["title"] == "Licence reverted — acme/model"
    assert second.payload["message_reference"] == {
        "type": 0,  # a reply (1 would be a forward)
        "message_id": int(first.message["id"]),
        "channel_id": int(channel),
        "fail_if_not_exists": False,
    }
    assert second.message["type"] == 19, "Discord shows it as a reply"
    rows = dbot.store.deliveries_for(f"discord:{channel}")
    assert [r.message_id for r in rows] == [first.message["id"], second.message["id"]]
    assert rows[1].reply_to == first.message["id"]


async def test_a_seven_thousand_character_diff_is_cut_and_attached(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    excerpt = "\n".join(
        f"+§{i} The licensee may not offer the software as a service." for i in range(120)
    )
    assert len(excerpt) > 7000
    alert = Alert(
        "Content changed — Terms of Service",
        Severity.WARNING,
        "page:https://example.com/terms",
        "Web page",
        ("the terms changed",),
        excerpt=excerpt,
    )
    message_id = await dbot.adapter.deliver(channel, alert, reply_to=None, nonce="n" * 25)
    [posted] = discord_fake.messages(channel)
    assert message_id == posted.message["id"]
    assert posted.files == [("diff.txt", excerpt.encode())], "the whole diff, as a file"
    assert posted.message["attachments"][0]["filename"] == "diff.txt"
    description = posted.embed["description"]
    assert len(description) <= 4096
    assert "more lines in diff.txt" in description
    assert posted.payload["allowed_mentions"]["parse"] == []


async def test_a_short_429_is_waited_out_in_place(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    discord_fake.fail("create_message", 429, retry_after=0.2)
    result = await dbot.cycle()
    assert (result.sent, result.retried) == (1, 0)
    assert discord_fake.count("POST", f"/channels/{channel}/messages") == 2
    assert len(discord_fake.messages(channel)) == 1


async def test_a_long_429_goes_back_to_the_outbox_with_its_retry_after(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    discord_fake.fail("create_message", 429, retry_after=64.57)
    result = await dbot.cycle()
    assert (result.sent, result.retried) == (0, 1)
    row = dbot.store.deliveries_for(f"discord:{channel}")[0]
    assert row.status == "pending"
    assert row.next_attempt_at == dbot.clock.now + timedelta(seconds=64.57)
    assert (await dbot.service.dispatcher.flush()).sent == 0, "not before Discord said"
    dbot.clock.advance(seconds=65)
    assert (await dbot.service.dispatcher.flush()).sent == 1
    assert len(discord_fake.messages(channel)) == 1
    assert discord_fake.count("POST", f"/channels/{channel}/messages") == 2


async def test_a_server_error_is_retried_later(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    discord_fake.fail("create_message", 503)
    assert (await dbot.cycle()).retried == 1
    dbot.clock.advance(minutes=1)
    assert (await dbot.service.dispatcher.flush()).sent == 1
    assert len(discord_fake.messages(channel)) == 1


@pytest.mark.parametrize(
    "gone, reason",
    [
        ("remove_channel", "Unknown Channel (10003): the channel was deleted"),
        ("revoke_access", "Missing Access (50001): the bot cannot see this channel"),
    ],
    ids=["deleted channel (404)", "bot removed (403)"],
)
async def test_a_gone_channel_is_stopped_with_one_log_line_and_not_asked_again(
    dbot: DiscordBot,
    hub: FakeHub,
    discord_fake: FakeDiscord,
    caplog: pytest.LogCaptureFixture,
    gone: str,
    reason: str,
) -> None:
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    getattr(discord_fake, gone)(channel)
    with caplog.at_level(logging.WARNING):
        result = await dbot.cycle()
    assert (result.sent, result.dropped, result.retried) == (0, 1, 0)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    gone_lines = [line for line in lines if "channel is gone" in line]
    assert len(gone_lines) == 1 and reason in gone_lines[0]
    assert all(discord_fake.token not in line for line in lines)
    # Another alert for that channel does not cost Discord another invalid request.
    hub.set_repo(REPO, license="apache-2.0")
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).dropped == 1
    assert discord_fake.count("POST", f"/channels/{channel}/messages") == 1


async def test_a_retry_after_a_crash_does_not_post_twice(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    """Discord stored the alert but the process died before hearing back: the delivery is
    still pending, and its retry (same nonce) gets Discord's existing message back."""
    channel = discord_fake.add_channel()
    await licence_change(dbot, hub, f"discord:{channel}")
    await dbot.service.checker.check_due()
    discord_fake.hang_after_accept("create_message")
    flush = asyncio.create_task(dbot.service.dispatcher.flush())
    for _ in range(500):
        if discord_fake.messages(channel):
            break
        await asyncio.sleep(0.01)
    flush.cancel()  # the crash
    with contextlib.suppress(asyncio.CancelledError):
        await flush
    [posted] = discord_fake.messages(channel)
    row = dbot.store.deliveries_for(f"discord:{channel}")[0]
    assert (row.status, row.message_id) == ("pending", None)

    restarted = DiscordBot(discord_fake, dbot.settings.database_url, hub.url, dbot.clock)
    try:
        dbot.clock.advance(seconds=dbot.settings.lease_seconds + 1)  # the dead lease expires
        assert (await restarted.service.dispatcher.flush()).sent == 1
    finally:
        await restarted.close()
    assert discord_fake.count("POST", f"/channels/{channel}/messages") == 2
    assert discord_fake.messages(channel) == [posted], "one message in the channel"
    row = dbot.store.deliveries_for(f"discord:{channel}")[0]
    assert (row.status, row.message_id) == ("sent", posted.message["id"])


async def test_a_refused_token_waits_and_never_drops_the_channel(
    hub: FakeHub,
    discord_fake: FakeDiscord,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = FakeDiscord(token="not-the-token")
    wrong.url = discord_fake.url  # same server, the bot holds a token it does not accept
    bot = DiscordBot(wrong, f"sqlite:///{tmp_path / 'bot.db'}", hub.url, clock)
    try:
        channel = discord_fake.add_channel()
        await licence_change(bot, hub, f"discord:{channel}")
        with caplog.at_level(logging.WARNING):
            result = await bot.cycle()
        assert (result.sent, result.retried, result.dropped) == (0, 1, 0)
        assert "Discord refused DISCORD_BOT_TOKEN (401)" in caplog.text
        assert "not-the-token" not in caplog.text
        row = bot.store.deliveries_for(f"discord:{channel}")[0]
        assert row.status == "pending"
        assert row.next_attempt_at == clock.now + timedelta(seconds=600)
    finally:
        await bot.close()


async def test_webhook_channel_gets_the_embed_without_buttons_or_mentions(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    url = discord_fake.add_webhook(channel)
    await licence_change(dbot, hub, f"discord-webhook:{url}")
    assert (await dbot.cycle()).sent == 1
    [posted] = discord_fake.messages(channel)
    assert posted.via == "webhook"
    assert posted.payload["allowed_mentions"] == {"parse": []}
    assert posted.embed["title"] == "Licence changed — acme/model"
    assert "components" not in posted.payload, "a channel webhook cannot carry buttons"
    assert (
        dbot.store.deliveries_for(f"discord-webhook:{url}")[0].message_id == (posted.message["id"])
    )
    assert discord_fake.count("POST", "/webhooks/") == 1


async def test_deleted_webhook_stops_the_channel_without_leaking_its_url(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    channel = discord_fake.add_channel()
    url = discord_fake.add_webhook(channel)
    await licence_change(dbot, hub, f"discord-webhook:{url}")
    discord_fake.delete_webhook(url)
    with caplog.at_level(logging.WARNING):
        result = await dbot.cycle()
    assert (result.sent, result.dropped) == (0, 1)
    [line] = [r.getMessage() for r in caplog.records if "channel is gone" in r.getMessage()]
    assert "discord-webhook:<redacted>" in line and "Unknown Webhook (10015)" in line
    token = url.rsplit("/", 1)[1]
    assert all(token not in r.getMessage() for r in caplog.records)
    row = dbot.store.deliveries_for(f"discord-webhook:{url}")[0]
    assert row.status == "dropped"


async def test_webhook_429_is_retried_when_discord_says(
    dbot: DiscordBot, hub: FakeHub, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    url = discord_fake.add_webhook(channel)
    await licence_change(dbot, hub, f"discord-webhook:{url}")
    discord_fake.fail("execute_webhook", 429, retry_after=12.5)
    assert (await dbot.cycle()).retried == 1
    row = dbot.store.deliveries_for(f"discord-webhook:{url}")[0]
    assert row.next_attempt_at == dbot.clock.now + timedelta(seconds=12.5)
    dbot.clock.advance(seconds=13)
    assert (await dbot.service.dispatcher.flush()).sent == 1
    assert len(discord_fake.messages(channel)) == 1


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 50)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_watch_and_check_post_to_discord_without_a_gateway(
    hub: FakeHub, discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    env = {
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "HF_ENDPOINT": hub.url,
        "POLICYBOT_ALLOW_PRIVATE_URLS": "true",
        "POLICYBOT_CHECK_JITTER": "0",
        "DISCORD_BOT_TOKEN": discord_fake.token,
        "POLICYBOT_DISCORD_API_URL": discord_fake.api_url,
    }
    bot_channel, hook_channel = discord_fake.add_channel(), discord_fake.add_channel()
    url = discord_fake.add_webhook(hook_channel)
    hub.set_repo(REPO, license="apache-2.0")
    code, out, err = await _cli("watch", f"hf:{REPO}", "--to", f"discord-webhook:{url}", env=env)
    assert code == 0, err
    assert f"Watching hf:{REPO} → discord-webhook:" in out
    code, out, err = await _cli("watch", f"hf:{REPO}", "--to", f"discord:{bot_channel}", env=env)
    assert code == 0, err
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    code, out, err = await _cli("check", env=env)
    assert code == 0, err
    assert "2 delivered" in err
    assert [p.embed["title"] for p in discord_fake.posted] == ["Licence changed — acme/model"] * 2
    assert {p.via for p in discord_fake.posted} == {"bot", "webhook"}
    assert not discord_fake.identify_payloads, "posting needs no gateway connection"
    assert not discord_fake.commands, "a CLI run never syncs commands"
    assert discord_fake.token not in out + err and url not in out + err


async def test_cli_prints_the_invite_url(discord_fake: FakeDiscord) -> None:
    env = {
        "DISCORD_BOT_TOKEN": discord_fake.token,
        "POLICYBOT_DISCORD_API_URL": discord_fake.api_url,
    }
    code, out, err = await _cli("discord", "invite-url", env=env)
    assert code == 0, err
    assert out.strip() == (
        "https://discord.com/oauth2/authorize?client_id="
        f"{discord_fake.application_id}&scope=bot+applications.commands&permissions=274878024704"
    )
    code, out, _ = await _cli(
        "discord", "invite-url", "--application-id", "123456789012345678", env={}
    )
    assert code == 0 and "client_id=123456789012345678&" in out


@pytest.mark.parametrize(
    "to, error",
    [
        ("discord:general", "discord: needs a channel id (17-20 digits"),
        ("discord-webhook:https://example.com/hook", "discord-webhook: needs the URL Discord"),
        (
            "discord-webhook:https://discord.com/api/webhooks/123/short",
            "discord-webhook: needs the URL Discord",
        ),
    ],
    ids=["channel name instead of id", "not a Discord URL", "truncated webhook URL"],
)
async def test_a_wrong_discord_address_is_refused_when_watching(
    dbot: DiscordBot, hub: FakeHub, to: str, error: str
) -> None:
    hub.set_repo(REPO, license="mit")
    reply = await dbot.run(f"watch hf:{REPO} --to {to}")
    assert error in reply
    assert dbot.store.list_watches() == []


async def test_everyone_in_a_feed_title_reaches_discord_escaped_and_inert(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    """Both delivery paths: the text shows literally and the message may mention nobody."""
    change = Change(
        ChangeKind.ENTRY,
        Severity.NOTICE,
        "New entry: @everyone our **pricing** changes <@&123456789012345678>",
        links=(Link("entry", "https://example.com/blog/pricing"),),
    )
    alert = alert_for("feed:https://example.com/blog/feed.xml", "Feed", [change])
    channel = discord_fake.add_channel()
    url = discord_fake.add_webhook(channel)
    await dbot.adapter.deliver(channel, alert, reply_to=None, nonce="f" * 25)
    await dbot.webhooks.deliver(url, alert, reply_to=None, nonce="g" * 25)
    bot_post, hook_post = discord_fake.messages(channel)
    for posted in (bot_post, hook_post):
        assert posted.payload["allowed_mentions"]["parse"] == []
        assert "users" not in posted.payload["allowed_mentions"]
        assert "roles" not in posted.payload["allowed_mentions"]
        text = posted.embed["description"]
        assert "@everyone" not in text and "@\u200beveryone our \\*\\*pricing\\*\\*" in text
        assert "<@&" not in text
        assert posted.payload.get("content") in (None, ""), "nothing outside the embed"
