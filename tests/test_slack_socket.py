"""Slack end to end over Socket Mode: the real slack_bolt AsyncSocketModeHandler connects to the
fake Slack, which hands it slash-command and button envelopes and records the acks. Alerts come
from the fake Hub through the real checker and outbox, and are posted with the real SDK."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.fakes.hub import FakeHub
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack, Posted, block_problems, mentions
from tests.slack_harness import CHANNEL, USER, SlackBot, eventually, slack_settings

REPO = "acme/model"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def sbot(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> AsyncIterator[SlackBot]:
    bot = SlackBot(slack_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack), clock)
    await bot.listen()
    yield bot
    await bot.close()


def header(message: Posted) -> str:
    return str(message.blocks[0]["text"]["text"])


async def test_slash_watch_then_change_then_unwatch_button(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="apache-2.0")

    env = await slack.send_slash(f"watch https://huggingface.co/{REPO}")
    ack = await slack.wait_ack(env)
    assert ack.envelope_id == env
    assert ack.payload == {"text": "Working on it…", "response_type": "ephemeral"}
    [answer] = await slack.wait_for("response")
    assert answer.body["response_type"] == "in_channel"
    assert f"Watching hf:{REPO} → slack:{CHANNEL}. Baseline: licence: Apache-2.0" in answer.text
    assert sbot.watched() == [f"hf:{REPO}"]
    assert slack.messages() == [], "the baseline is not an alert"

    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 1
    [alert] = slack.messages(CHANNEL)
    assert block_problems(alert.blocks) == []
    assert header(alert) == ":red_circle: Licence changed — acme/model"
    text = alert.all_text()
    assert "*Licence*\nApache-2.0 (permissive) → hfoil-1.0 (source-available)" in text
    assert "more restrictive" in text
    assert f"{hub.url}/{REPO}/commit/" in text, "the commit is linked as evidence"
    buttons = [
        e["text"]["text"] for b in alert.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["Unwatch", "Mute 7 days", "Show diff"]
    assert alert.thread_ts is None

    env = await slack.click(alert, "policybot_unwatch")
    assert (await slack.wait_ack(env)).envelope_id == env
    [_, done] = await slack.wait_for("response", 2)
    assert done.text == f"Stopped watching hf:{REPO} in slack:{CHANNEL}."
    assert done.body["replace_original"] is False
    assert sbot.watched() == []

    hub.set_repo(REPO, license="mit")
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 0
    assert len(slack.messages()) == 1


async def test_follow_up_goes_to_the_thread_of_the_first_alert(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="apache-2.0")
    await sbot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    sbot.clock.advance(hours=2)
    await sbot.cycle()
    hub.set_repo(REPO, license="apache-2.0")
    sbot.clock.advance(days=255)
    await sbot.cycle()
    first, revert = slack.messages(CHANNEL)
    assert first.thread_ts is None
    assert revert.thread_ts == first.ts
    assert header(revert) == ":large_blue_circle: Licence reverted — acme/model"
    assert "reverted after 255 days" in revert.all_text()


async def test_quick_commands_answer_in_the_ack(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="mit")
    await sbot.run(f"watch hf:{REPO}")
    env = await slack.send_slash("list")
    ack = await slack.wait_ack(env)
    assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
    assert f"hf:{REPO} · ok · checked" in ack.payload["text"]
    assert block_problems(ack.payload["blocks"]) == []
    env = await slack.send_slash("help")
    help_text = str((await slack.wait_ack(env)).payload)
    # Escaped for mrkdwn: Slack shows "<target>" and reads no control sequence in it.
    assert "watch &lt;target&gt;" in help_text and "unwatch &lt;target or #id&gt;" in help_text
    assert slack.responses() == [], "nothing needed response_url"


async def test_a_mistyped_command_gets_usage_only_for_the_typist(
    sbot: SlackBot, slack: FakeSlack
) -> None:
    env = await slack.send_slash("wach hf:acme/model")
    ack = await slack.wait_ack(env)
    assert ack.payload is not None
    assert ack.payload["response_type"] == "ephemeral"
    assert "unknown command 'wach' (did you mean 'watch'?)" in ack.payload["text"]
    env = await slack.send_slash("watch hf:acme/model --to slack:C999")
    ack = await slack.wait_ack(env)
    assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
    assert "unknown option '--to'" in ack.payload["text"], "chat cannot aim at other channels"
    assert sbot.watched() == [] and sbot.watched("C999") == []


async def test_watching_a_missing_repo_answers_ephemerally_and_stores_nothing(
    sbot: SlackBot, slack: FakeSlack
) -> None:
    env = await slack.send_slash("watch hf:acme/nope")
    await slack.wait_ack(env)
    [answer] = await slack.wait_for("response")
    assert answer.body["response_type"] == "ephemeral"
    assert "✗ hf:acme/nope: not found" in answer.text
    assert sbot.watched() == []


async def test_show_diff_and_mute_buttons(sbot: SlackBot, slack: FakeSlack, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await sbot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="agpl-3.0")
    sbot.clock.advance(hours=2)
    await sbot.cycle()
    [alert] = slack.messages(CHANNEL)

    await slack.wait_ack(await slack.click(alert, "policybot_diff"))
    [diff] = await slack.wait_for("response")
    assert diff.body["response_type"] == "ephemeral"
    assert "-licence: MIT (permissive)" in diff.all_text()
    assert "+licence: AGPL-3.0-only (copyleft)" in diff.all_text()

    await slack.wait_ack(await slack.click(alert, "policybot_mute"))
    [_, muted] = await slack.wait_for("response", 2)
    assert muted.text.startswith(f"Muted hf:{REPO} in slack:{CHANNEL} until 2026-01-12 11:00 UTC")
    hub.set_repo(REPO, license="mit")
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 0, "a muted watch stays quiet"


async def test_check_command_acks_first_then_reports_and_posts_the_alert(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="apache-2.0")
    await sbot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="cc-by-nc-4.0")
    ack = await slack.wait_ack(await slack.send_slash(f"check hf:{REPO}"))
    assert ack.payload == {"text": "Working on it…", "response_type": "ephemeral"}
    [answer] = await slack.wait_for("response")
    assert "checked 1 target: 1 changed" in answer.text
    await eventually(lambda: len(slack.messages(CHANNEL)) == 1)
    assert "CC-BY-NC-4.0 (non-commercial)" in slack.messages(CHANNEL)[0].all_text()


async def test_upstream_text_pings_nobody(sbot: SlackBot, slack: FakeSlack, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await sbot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="other", license_name="<!channel> @here price change & more")
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 1
    [alert] = slack.messages(CHANNEL)
    assert mentions(alert.body) == []
    assert "&lt;!channel&gt; @here price change &amp; more" in alert.all_text()
    assert "<!channel>" not in alert.all_text()


@pytest.mark.parametrize(
    "permission, admin, allowed",
    [
        ("admins", False, False),
        ("admins", True, True),
        ("U0OTHER,U0BOSS", False, False),
        (f"U0OTHER,{USER}", False, True),
    ],
    ids=["admins: member refused", "admins: admin allowed", "list: not listed", "list: listed"],
)
async def test_who_may_change_watches(
    hub: FakeHub,
    slack: FakeSlack,
    clock: Clock,
    tmp_path: Path,
    permission: str,
    admin: bool,
    allowed: bool,
) -> None:
    hub.set_repo(REPO, license="mit")
    slack.add_user(USER, admin=admin)
    settings = slack_settings(
        f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack, slack_watch_permission=permission
    )
    bot = SlackBot(settings, clock)
    await bot.listen()
    try:
        ack = await slack.wait_ack(await slack.send_slash(f"watch hf:{REPO}"))
        assert ack.payload is not None and ack.payload["text"] == "Working on it…"
        [answer] = await slack.wait_for("response")
        if allowed:
            assert answer.text.startswith(f"Watching hf:{REPO}")
            assert bot.watched() == [f"hf:{REPO}"]
        else:
            assert answer.body["response_type"] == "ephemeral"
            who = "workspace admins and owners" if permission == "admins" else "the people"
            assert answer.text.startswith(f"Refused: only {who}")
            assert answer.text.endswith("may change watches here.")
            assert bot.watched() == []
        # Reading is open to everyone, and needs no role lookup.
        lookups = len(slack.calls("users.info"))
        ack = await slack.wait_ack(await slack.send_slash("list"))
        assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
        assert len(slack.calls("users.info")) == lookups
    finally:
        await bot.close()


async def test_admin_lookup_failure_refuses_with_the_reason(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    settings = slack_settings(
        f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack, slack_watch_permission="admins"
    )
    bot = SlackBot(settings, clock)
    await bot.listen()
    try:
        slack.fail("users.info", error="missing_scope")
        await slack.wait_ack(await slack.send_slash("unwatch hf:acme/model"))
        [answer] = await slack.wait_for("response")
        assert "your Slack role could not be checked (users.info: missing_scope)" in answer.text
    finally:
        await bot.close()


async def test_policybot_run_listens_over_socket_mode(
    hub: FakeHub, slack: FakeSlack, tmp_path: Path
) -> None:
    """The composition root: ``policybot run`` with both tokens answers /policy in Slack."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "HF_ENDPOINT": hub.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "POLICYBOT_SLACK_API_URL": slack.api_url,
    }
    hub.set_repo(REPO, license="mit")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.wait_for(slack.connected.wait(), 20)
        ack = await slack.wait_ack(await slack.send_slash(f"watch hf:{REPO}"))
        assert ack.payload == {"text": "Working on it…", "response_type": "ephemeral"}
        [answer] = await slack.wait_for("response")
        assert answer.text.startswith(f"Watching hf:{REPO} → slack:{CHANNEL}")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert out == b"", "standard output carries alerts only"
    assert "receiving /policy over Socket Mode" in err.decode()
    assert BOT_TOKEN not in err.decode() and APP_TOKEN not in err.decode()


async def test_commands_keep_working_after_slack_recycles_the_connection(
    sbot: SlackBot, slack: FakeSlack
) -> None:
    opened = len(slack.calls("apps.connections.open"))
    await slack.send_disconnect("refresh_requested")
    await eventually(lambda: len(slack.calls("apps.connections.open")) == opened + 1)
    await eventually(lambda: slack.connections() == 1)
    ack = await slack.wait_ack(await slack.send_slash("help"))
    assert "Commands:" in str(ack.payload)
