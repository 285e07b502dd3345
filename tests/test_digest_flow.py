"""Digests and quiet hours through the whole bot: the real huggingface_hub client against the
fake Hub, the real store, the real console adapter, a clock that moves only when told.

The channel (``console``) reads its digest at 09:00 Europe/Rome; the clock starts on Monday
2026-01-05 at 09:00 UTC (10:00 in Rome, CET = UTC+1).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters import discord_embeds, slack_blocks
from bot.alerts.digest import HeldItem, assemble
from bot.domain.model import Alert, Severity
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.feedserver import FeedServer, item, rss
from tests.fakes.hub import FakeHub
from tests.fakes.slack import block_problems
from tests.test_discord_embeds import assert_within_limits

ROME = ZoneInfo("Europe/Rome")


async def _watch_digest(bot: Bot, *repos: str, extra: str = "") -> None:
    for repo in repos:
        reply = await bot.run(
            f"watch hf:{repo} --digest daily --at 09:00 --tz Europe/Rome {extra}".strip()
        )
        assert "Changes go to the daily digest" in reply, reply
    assert "digests at 09:00 Europe/Rome" in reply


async def test_three_changes_on_two_targets_make_one_digest_grouped_by_target(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo("acme/a", license="mit")
    hub.set_repo("acme/b", license="mit")
    await _watch_digest(bot, "acme/a", "acme/b")

    hub.set_repo("acme/a", license="mit", gated="auto")  # warning
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, ""), "a digest subscription does not post at once"
    hub.set_repo("acme/a", license="mit", gated=False)  # notice
    hub.set_repo("acme/b", license="mit", gated="manual")  # warning
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    assert "daily digest" in await bot.run("list")

    bot.clock.now = datetime(2026, 1, 6, 7, 59, tzinfo=UTC)  # 08:59 in Rome
    assert await bot.cycle() == (0, "")
    bot.clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)  # 09:00 in Rome
    sent, text = await bot.cycle()
    assert sent == 1
    assert text.count("Digest:") == 1
    assert "Digest: 3 changes on 2 targets" in text
    assert "hf:acme/a — 2 changes (worst: warning)" in text
    assert "hf:acme/b — 1 change (worst: warning)" in text
    assert text.index("hf:acme/a —") < text.index("hf:acme/b —"), "first changed, first listed"
    assert "public → gated (auto)" in text and "gated (auto) → public" in text
    bot.clock.advance(days=1)
    assert await bot.cycle() == (0, ""), "a digest is sent once; an empty one is not sent"


async def test_critical_change_goes_out_at_once_and_stays_out_of_the_digest(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo("acme/a", license="apache-2.0")
    await _watch_digest(bot, "acme/a")
    hub.set_repo("acme/a", license="other", license_name="hfoil-1.0")  # more restrictive
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "[CRITICAL] Licence changed — acme/a" in text
    bot.clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert await bot.cycle() == (0, ""), "what went out at once is not repeated in the digest"


async def test_digest_all_holds_critical_changes_too(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/a", license="apache-2.0")
    await _watch_digest(bot, "acme/a", extra="--digest-all")
    hub.set_repo("acme/a", license="other", license_name="hfoil-1.0")
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    bot.clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    sent, text = await bot.cycle()
    assert sent == 1 and "[CRITICAL] Digest: 1 change on 1 target" in text


async def test_daily_digest_fires_once_per_local_day_at_nine_across_dst(
    bot: Bot, hub: FakeHub
) -> None:
    """Five days around the spring change: one change each afternoon, the clock walked in
    30-minute steps; the digest arrives once a day, at 09:00 in Rome each time."""
    bot.clock.now = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)
    hub.set_repo("acme/a", license="mit")
    await _watch_digest(bot, "acme/a")
    posted: list[datetime] = []
    gated = False
    end = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    while bot.clock.now < end:
        bot.clock.advance(minutes=30)
        if bot.clock.now.astimezone(ROME).hour == 15 and bot.clock.now.minute == 0:
            gated = not gated
            hub.set_repo("acme/a", license="mit", gated="auto" if gated else False)
        sent, text = await bot.cycle()
        assert sent == text.count("Digest: 1 change on 1 target")
        posted += [bot.clock.now] * sent
    local = [p.astimezone(ROME) for p in posted]
    assert [p.strftime("%m-%d %H:%M") for p in local] == [
        "03-27 09:00",
        "03-28 09:00",
        "03-29 09:00",  # the first day of summer time
        "03-30 09:00",
        "03-31 09:00",
    ]
    assert [p.hour for p in posted] == [8, 8, 7, 7, 7]  # in UTC


async def test_quiet_hours_hold_non_critical_alerts_until_the_window_ends(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo("acme/a", license="apache-2.0")
    hub.set_repo("acme/b", license="mit")
    await bot.run("watch hf:acme/a hf:acme/b")
    reply = await bot.run("quiet 22:00-08:00 Europe/Rome")
    assert "quiet hours 22:00-08:00 Europe/Rome" in reply

    bot.clock.now = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)  # 23:30 in Rome
    hub.set_repo("acme/b", license="mit", gated="manual")
    hub.set_repo("acme/a", license="other", license_name="hfoil-1.0")
    sent, text = await bot.cycle()
    assert sent == 1, "the critical change is not held"
    assert "[CRITICAL] Licence changed — acme/a" in text and "acme/b" not in text

    bot.clock.now = datetime(2026, 1, 6, 6, 59, tzinfo=UTC)  # 07:59 in Rome
    assert await bot.cycle() == (0, "")
    bot.clock.now = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)  # 08:00 in Rome: the window ends
    sent, text = await bot.cycle()
    assert sent == 1
    assert "[WARNING]  Access changed — acme/b" in text, "one held alert goes out as it was"


async def test_several_alerts_held_overnight_arrive_as_one_small_digest(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo("acme/a", license="mit")
    await bot.run("watch hf:acme/a")
    await bot.run("quiet 22:00-08:00 Europe/Rome")
    bot.clock.now = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
    for gated in ("auto", False, "manual"):
        hub.set_repo("acme/a", license="mit", gated=gated)
        bot.clock.advance(hours=2)
        assert await bot.cycle() == (0, "")
    bot.clock.now = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    sent, text = await bot.cycle()
    assert sent == 1 and "While quiet hours lasted: 3 changes on 1 target" in text
    assert "hf:acme/a — 3 changes (worst: warning)" in text
    assert "no quiet hours" in await bot.run("quiet off")
    assert "no quiet hours" in await bot.run("quiet")


async def test_a_digest_due_inside_quiet_hours_waits_for_their_end(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/a", license="mit")
    await _watch_digest(bot, "acme/a")
    await bot.run("quiet 07:00-10:00 Europe/Rome")
    hub.set_repo("acme/a", license="mit", gated="auto")
    bot.clock.advance(hours=2)
    await bot.cycle()
    bot.clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)  # 09:00 Rome, still quiet
    assert await bot.cycle() == (0, "")
    bot.clock.now = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)  # 10:00 Rome
    sent, text = await bot.cycle()
    assert sent == 1 and "Digest: 1 change on 1 target" in text


async def test_collected_items_survive_a_restart(hub: FakeHub, tmp_path: Path) -> None:
    clock = Clock()
    settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url)
    hub.set_repo("acme/a", license="mit")
    first = Bot(settings, clock)
    try:
        await _watch_digest(first, "acme/a")
        hub.set_repo("acme/a", license="mit", gated="auto")
        clock.advance(hours=2)
        assert await first.cycle() == (0, "")
    finally:
        await first.close()

    second = Bot(settings, clock)  # a new process: new Store, new Service, same database
    try:
        clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
        sent, text = await second.cycle()
        assert sent == 1 and "Digest: 1 change on 1 target" in text
        assert "public → gated (auto)" in text
    finally:
        await second.close()


async def test_channel_settings_commands_show_and_set(bot: Bot) -> None:
    assert "digests at 09:00 UTC (weekly ones on Mon); no quiet hours" in await bot.run("digest")
    reply = await bot.run("digest 18:30 Europe/Rome fri")
    assert "digests at 18:30 Europe/Rome (weekly ones on Fri)" in reply
    reply = await bot.run("quiet 22:00-07:00")
    assert "quiet hours 22:00-07:00 Europe/Rome" in reply, "the channel's zone is the default"
    assert "no quiet hours" in await bot.run("quiet off")
    other = await bot.run("digest --to slack:C0123ABCD")
    assert re.search(r"slack:C0123ABCD: digests at 09:00 UTC", other), "settings are per channel"


async def test_mute_still_silences_a_digest_subscription(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/a", license="mit")
    await _watch_digest(bot, "acme/a")
    assert "Muted hf:acme/a" in await bot.run("mute hf:acme/a 7d")
    hub.set_repo("acme/a", license="mit", gated="auto")
    bot.clock.advance(hours=2)
    await bot.cycle()
    bot.clock.advance(days=1)
    assert await bot.cycle() == (0, ""), "nothing was collected while muted"
    assert "Unmuted" in await bot.run("mute hf:acme/a 0")
    hub.set_repo("acme/a", license="mit", gated=False)
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    bot.clock.advance(days=1)
    sent, text = await bot.cycle()
    assert sent == 1 and "Digest: 1 change on 1 target" in text and "gated (auto) → public" in text


async def test_feed_entries_follow_each_subscriptions_own_digest_setting(bot: Bot) -> None:
    """Feeds announce per subscription (bot.check.checker._per_subscription): one channel takes a
    digest, another the same entries at once, from one fetch."""
    async with FeedServer() as web:
        url = web.set("/f.xml", rss([_post(1)]))
        await bot.run(f"watch feed:{url} --digest daily --at 09:00 --tz Europe/Rome")
        await bot.run(f"watch feed:{url} --to webhook:{web.hook_url('now')}")
        web.set("/f.xml", rss([_post(2), _post(3), _post(1)]))
        bot.clock.advance(hours=2)
        assert await bot.cycle() == (2, ""), "the immediate channel got both, the console none"
        assert sorted(a["title"] for a in web.hooked("now")) == ["Post 2", "Post 3"]
        bot.clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
        sent, text = await bot.cycle()
        assert sent == 1 and "Digest: 2 changes on 1 target" in text
        assert f"feed:{url} — 2 changes" in text
        assert "Post 2" in text and "Post 3" in text


def _post(n: int) -> bytes:
    return item(
        f"post-{n}",
        f"Post {n}",
        link=f"https://blog.example/p/{n}",
        date=f"Sat, 03 Jan 2026 {n:02d}:00:00 GMT",
    )


async def test_unwatching_drops_what_was_collected_for_that_target(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/a", license="mit")
    hub.set_repo("acme/b", license="mit")
    await _watch_digest(bot, "acme/a", "acme/b")
    hub.set_repo("acme/a", license="mit", gated="auto")
    hub.set_repo("acme/b", license="mit", gated="auto")
    bot.clock.advance(hours=2)
    await bot.cycle()
    assert "Stopped watching hf:acme/a" in await bot.run("unwatch hf:acme/a")
    bot.clock.now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    sent, text = await bot.cycle()
    assert sent == 1 and "Digest: 1 change on 1 target" in text
    assert "hf:acme/b" in text and "hf:acme/a" not in text


def test_a_digest_of_many_targets_fits_slack_and_discord_limits() -> None:
    """A busy day (300 changes on 120 targets) still makes one valid Slack message and one
    valid Discord embed: the adapters cut the lines and say how many were left out."""
    t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    items = [
        HeldItem(
            Alert(
                f"Access changed — acme/m{n % 120}",
                Severity.WARNING,
                f"hf:acme/m{n % 120}",
                "Hugging Face model",
                ("public → gated (manual): now gated",),
            ),
            t,
            "digest",
        )
        for n in range(300)
    ]
    digest = assemble(items, t)
    assert digest.title == "Digest: 300 changes on 120 targets"
    slack = slack_blocks.alert_message(digest)
    assert block_problems(list(slack.blocks)) == []
    assert re.search(r"… \d+ more lines", str(slack.blocks)), "the cut is said"
    assert_within_limits(discord_embeds.alert_message(digest))
