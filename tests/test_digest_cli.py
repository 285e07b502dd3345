"""Digests and quiet hours from the CLI, as a user runs it (a subprocess, the fake Hub)."""

from __future__ import annotations

from pathlib import Path

from tests.clihelp import cli_env, policybot
from tests.conftest import Clock
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack
from tests.slack_harness import CHANNEL, USER, SlackBot, slack_settings


async def test_cli_watch_with_digest_collects_instead_of_posting(
    hub: FakeHub, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url)
    hub.set_repo("acme/x", license="mit")
    ran = await policybot(
        env,
        "watch",
        "hf:acme/x",
        "--digest",
        "daily",
        "--at",
        "07:30",
        "--tz",
        "Asia/Tokyo",
        cwd=tmp_path,
    )
    assert ran.code == 0, ran.err
    assert "Changes go to the daily digest (critical ones at once)" in ran.out
    assert "digests at 07:30 Asia/Tokyo" in ran.out

    hub.set_repo("acme/x", license="mit", gated="manual")
    ran = await policybot(env, "check", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "1 changed" in ran.err and "1 alert queued" in ran.err
    assert ran.out == "", "collected for the digest, not printed now"
    ran = await policybot(env, "list", cwd=tmp_path)
    assert "hf:acme/x → console · ok" in ran.out and "daily digest" in ran.out


async def test_cli_channel_settings_and_bad_input(hub: FakeHub, tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url)
    ran = await policybot(env, "quiet", "22:00-08:00", "Europe/Rome", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "console: digests at 09:00 UTC" in ran.out
    assert "quiet hours 22:00-08:00 Europe/Rome" in ran.out
    ran = await policybot(env, "digest", "--to", "slack:C0123ABCD", cwd=tmp_path)
    assert ran.code == 0 and "slack:C0123ABCD: digests at 09:00 UTC" in ran.out
    assert "no quiet hours" in ran.out, "quiet hours belong to the console channel only"

    ran = await policybot(env, "quiet", "22:00-08:00", "Europe/Atlantis", cwd=tmp_path)
    assert ran.code == 2 and "unknown time zone 'Europe/Atlantis'" in ran.err
    hub.set_repo("acme/x", license="mit")
    ran = await policybot(env, "watch", "hf:acme/x", "--at", "09:00", cwd=tmp_path)
    assert ran.code == 2 and "--at goes with --digest daily" in ran.err
    ran = await policybot(env, "list", cwd=tmp_path)
    assert "Nothing is watched" in ran.out, "a refused watch stores nothing"


async def test_slack_members_may_read_but_not_set_quiet_hours_when_only_admins_may_change(
    hub: FakeHub, tmp_path: Path
) -> None:
    async with FakeSlack() as slack:
        slack.add_user(USER, admin=False)
        settings = slack_settings(
            f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack, slack_watch_permission="admins"
        )
        bot = SlackBot(settings, Clock())
        await bot.listen()
        try:
            await slack.wait_ack(await slack.send_slash("quiet 22:00-08:00 Europe/Rome"))
            [answer] = await slack.wait_for("response")
            assert answer.text.startswith("Refused: only workspace admins and owners")
            ack = await slack.wait_ack(await slack.send_slash("quiet"))
            assert ack.payload is not None
            assert f"slack:{CHANNEL}: digests at 09:00 UTC" in ack.payload["text"]
            assert "no quiet hours" in ack.payload["text"], "the refused setting was not stored"
        finally:
            await bot.close()
