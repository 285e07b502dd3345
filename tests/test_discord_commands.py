"""``/policy`` through the gateway: raw INTERACTION_CREATE frames, shaped as Discord sends them,
go through discord.py's own parsing and command tree to our handler, and the fake records what
the bot answered (callback, follow-ups) exactly as Discord would receive it.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.discord_harness import DiscordBot, discord_answer
from tests.fakes.discord import EPHEMERAL, MEMBER_PERMISSIONS, FakeDiscord
from tests.fakes.hub import FakeHub

REPO = "acme/model"
DEFERRED, MESSAGE, AUTOCOMPLETE = 5, 4, 8


# discord.py logs and swallows exceptions raised in callbacks: fail the test on them.
pytestmark = pytest.mark.usefixtures("no_errors_inside_discord_py")


async def test_the_synced_command_is_one_group_with_typed_options(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    [policy] = discord_fake.commands[None]
    assert policy["name"] == "policy"
    assert policy["default_member_permissions"] == "16", "Manage Channels by default"
    assert (policy["contexts"], policy["dm_permission"]) == ([0], False), "servers only"
    subs = {o["name"]: o for o in policy["options"]}
    assert sorted(subs) == sorted(
        [
            "watch",
            "unwatch",
            "list",
            "history",
            "diff",
            "check",
            "mute",
            "digest",
            "quiet",
            "settings",
            "help",
        ]
    )
    assert all(s["type"] == 1 for s in subs.values())
    options = {o["name"]: o for o in subs["watch"]["options"]}
    assert options["target"]["required"] is True
    assert [c["value"] for c in options["min_severity"]["choices"]] == [
        "info",
        "notice",
        "warning",
        "critical",
    ]
    history = {o["name"]: o for o in subs["history"]["options"]}
    assert history["limit"]["type"] == 4 and history["limit"]["min_value"] == 1
    for name in ("unwatch", "history", "diff", "check", "mute"):
        target = next(o for o in subs[name]["options"] if o["name"] == "target")
        assert target["autocomplete"] is True, name


async def test_the_synced_commands_carry_italian_names_and_descriptions(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    """Issue 16: Discord shows /policy in the member's language from the localisations sent at
    sync; interactions still name the options in English, so nothing else changes."""
    [policy] = discord_fake.commands[None]
    assert policy["name"] == "policy" and "it" not in (policy.get("name_localizations") or {})
    assert policy["description_localizations"]["it"].startswith("Controlla le piattaforme")
    subs = {o["name"]: o for o in policy["options"]}
    assert subs["watch"]["name_localizations"]["it"] == "segui"
    assert subs["list"]["name_localizations"]["it"] == "elenco"
    assert subs["watch"]["description_localizations"]["it"].startswith("Segui un obiettivo")
    options = {o["name"]: o for o in subs["watch"]["options"]}
    assert options["min_severity"]["name_localizations"]["it"] == "gravità_minima"
    assert options["target"]["description_localizations"]["it"].startswith("hf:proprietario")
    for sub in subs.values():  # Discord's rule for names in every locale
        for name in (sub["name"], *(sub.get("name_localizations") or {}).values()):
            assert re.fullmatch(r"[-_\w]{1,32}", name) and name == name.lower(), name


async def test_slash_watch_defers_then_answers_with_the_baseline(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="apache-2.0", gated="manual")
    channel = discord_fake.add_channel()
    record = await discord_fake.interact(
        discord_fake.slash("watch", channel_id=channel, target=f"https://huggingface.co/{REPO}")
    )
    assert record.callback == {"type": DEFERRED}, "public 'thinking' within the 3 s window"
    message = await discord_fake.wait_for_message(record)
    assert message["content"] == (
        f"Watching hf:{REPO} → discord:{channel}. Baseline: licence: Apache-2.0 (permissive)"
        " · gated: manual · private: no · disabled: no"
    )
    assert message["flags"] == 0, "the channel sees who started watching what"
    [(sub, target)] = dbot.store.list_watches(f"discord:{channel}")
    assert target.ref == f"hf:{REPO}" and sub.created_by == "112233445566778899"


async def test_whole_flow_command_change_embed_button_unwatched(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="apache-2.0")
    record = await discord_fake.interact(
        discord_fake.slash("watch", channel_id=channel, target=f"hf:{REPO}")
    )
    await discord_fake.wait_for_message(record)

    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 1
    [alert] = [p for p in discord_fake.messages(channel) if p.via == "bot"]
    assert alert.embed["title"] == "Licence changed — acme/model"
    assert alert.payload["allowed_mentions"]["parse"] == []

    click = await discord_fake.interact(discord_fake.click(alert, f"policybot:unwatch:hf:{REPO}"))
    assert click.callback is not None and click.callback["type"] == MESSAGE
    assert click.callback["data"]["content"] == f"Stopped watching hf:{REPO} in discord:{channel}."
    assert click.callback["data"]["allowed_mentions"] == {"parse": []}
    assert dbot.store.list_watches(f"discord:{channel}") == []

    hub.set_repo(REPO, license="mit")
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 0, "unwatched: nothing more arrives"


async def test_a_server_whose_locale_is_italian_gets_its_alerts_in_italian(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    """Issue 16: a server that set no language gets its community language (guild_locale,
    learnt from its commands); ``/policy settings language`` still wins over it."""
    discord_fake.guild_locale = "it"
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="apache-2.0")
    record = await discord_fake.interact(
        discord_fake.slash("watch", channel_id=channel, target=f"hf:{REPO}")
    )
    await discord_fake.wait_for_message(record)

    hub.set_repo(REPO, license="cc-by-nc-4.0")
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 1
    [alert] = [p for p in discord_fake.messages(channel) if p.via == "bot"]
    assert alert.embed["title"] == "Licenza cambiata — acme/model"
    assert "uso commerciale ora limitato" in alert.embed["description"]
    assert alert.embed["footer"]["text"] == "modello Hugging Face · critico · policybot"
    labels = [c["label"] for row in alert.payload["components"] for c in row["components"]]
    assert labels == ["Smetti di seguire", "Silenzia 7 giorni", "Mostra differenze"]

    record = await discord_fake.interact(
        discord_fake.slash("settings", channel_id=channel, setting="language", value="en")
    )
    await discord_fake.wait_for_message(record)
    hub.set_repo(REPO, license="mit")
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 1
    alert = [p for p in discord_fake.messages(channel) if p.via == "bot"][-1]
    assert alert.embed["title"] == "Licence changed — acme/model", "the setting wins"


async def test_mute_and_diff_buttons(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="mit")
    await dbot.run(f"watch hf:{REPO} --to discord:{channel}")
    hub.set_repo(REPO, license="agpl-3.0")
    dbot.clock.advance(hours=2)
    await dbot.cycle()
    [alert] = discord_fake.messages(channel)

    diff = await discord_fake.interact(discord_fake.click(alert, f"policybot:diff:hf:{REPO}"))
    assert diff.callback is not None and diff.callback["data"]["flags"] == EPHEMERAL
    assert "-licence: MIT (permissive)" in diff.callback["data"]["content"]
    assert "+licence: AGPL-3.0-only (copyleft)" in diff.callback["data"]["content"]

    mute = await discord_fake.interact(discord_fake.click(alert, f"policybot:mute:hf:{REPO}"))
    assert mute.callback is not None
    assert mute.callback["data"]["content"].startswith(
        f"Muted hf:{REPO} in discord:{channel} until"
    )
    hub.set_repo(REPO, license="mit")
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 0, "muted for 7 days"


async def test_members_without_manage_channels_may_read_but_not_change(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="mit")
    await dbot.run(f"watch hf:{REPO} --to discord:{channel}")
    watch = await discord_fake.interact(
        discord_fake.slash(
            "watch", channel_id=channel, target="hf:acme/other", permissions=MEMBER_PERMISSIONS
        )
    )
    assert watch.callback == {
        "type": MESSAGE,
        "data": {
            "content": "Refused: changing watches needs the Manage Channels permission in this "
            "channel.",
            "flags": EPHEMERAL,
            "allowed_mentions": {"parse": []},
            "tts": False,
        },
    }
    assert hub.count("/api/models/acme/other") == 0, "refused before anything is fetched"
    listing = await discord_fake.interact(
        discord_fake.slash("list", channel_id=channel, permissions=MEMBER_PERMISSIONS)
    )
    assert listing.callback is not None
    # "\#" is how Discord markdown shows a literal "#" at the start of a line.
    assert listing.callback["data"]["content"].startswith(f"\\#1 hf:{REPO} · ok · checked")
    unwatch = await discord_fake.interact(
        discord_fake.slash("unwatch", channel_id=channel, target=f"hf:{REPO}", permissions=0)
    )
    assert unwatch.callback is not None
    assert unwatch.callback["data"]["content"].startswith("Refused:")
    assert len(dbot.store.list_watches(f"discord:{channel}")) == 1


async def test_server_settings_decide_who_may_change_watches(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="mit")
    member: dict[str, Any] = {"channel_id": channel, "permissions": MEMBER_PERMISSIONS}
    refused = await discord_fake.interact(
        discord_fake.slash("settings", **member, setting="who", value="everyone")
    )
    assert refused.callback is not None
    assert refused.callback["data"]["content"].startswith("Refused:")

    allowed = await discord_fake.interact(
        discord_fake.slash("settings", channel_id=channel, setting="who", value="everyone")
    )
    assert allowed.callback is not None
    assert "who may change watches: everyone" in allowed.callback["data"]["content"]
    watch = await discord_fake.interact(
        discord_fake.slash("watch", **member, target=f"hf:{REPO}", min_severity=None)
    )
    assert len(dbot.store.list_watches(f"discord:{channel}")) == 1, watch.callback

    bad = await discord_fake.interact(
        discord_fake.slash("settings", channel_id=channel, setting="who", value="nobody")
    )
    assert bad.callback is not None
    assert "settings who: must be everyone, managers, admins" in bad.callback["data"]["content"]


async def test_a_typo_is_answered_at_once_and_privately(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    record = await discord_fake.interact(
        discord_fake.slash("watch", channel_id=channel, target="hf:")
    )
    assert record.callback is not None and record.callback["type"] == MESSAGE, "no defer"
    data = record.callback["data"]
    assert data["flags"] == EPHEMERAL
    assert (
        data["content"] == "✗ 'hf:' names no repository: expected owner/name\nNothing was watched."
    )


async def test_a_missing_repo_after_the_defer_is_told_privately(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    channel = discord_fake.add_channel()
    record = await discord_fake.interact(
        discord_fake.slash("watch", channel_id=channel, target="hf:acme/does-not-exist")
    )
    assert record.callback == {"type": DEFERRED}
    message = await discord_fake.wait_for_message(record)
    assert record.original_deleted, "the public 'thinking' message is removed"
    assert message["flags"] == EPHEMERAL
    assert "✗ hf:acme/does-not-exist: not found" in message["content"]
    assert "Nothing was stored" in message["content"]


async def test_autocomplete_offers_this_channels_watches(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    here, elsewhere = discord_fake.add_channel(), discord_fake.add_channel()
    for repo in ("acme/model", "acme/dataset-tools", "other/thing"):
        hub.set_repo(repo, license="mit")
        await dbot.run(f"watch hf:{repo} --to discord:{here}")
    hub.set_repo("acme/secret", license="mit")
    await dbot.run(f"watch hf:acme/secret --to discord:{elsewhere}")
    record = await discord_fake.interact(
        discord_fake.autocomplete("unwatch", "target", channel_id=here, target="acme")
    )
    assert record.callback == {
        "type": AUTOCOMPLETE,
        "data": {
            "choices": [
                {"name": "hf:acme/dataset-tools", "value": "hf:acme/dataset-tools"},
                {"name": "hf:acme/model", "value": "hf:acme/model"},
            ]
        },
    }


async def test_history_escapes_upstream_text(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    channel = discord_fake.add_channel()
    hub.set_repo("acme/my_model", license="mit")
    await dbot.run(f"watch hf:acme/my_model --to discord:{channel}")
    hub.set_repo("acme/my_model", license="other", license_name="@everyone_*free*")
    dbot.clock.advance(hours=2)
    await dbot.cycle()
    record = await discord_fake.interact(
        discord_fake.slash("history", channel_id=channel, target="hf:acme/my_model", limit=5)
    )
    assert record.callback is not None
    content = record.callback["data"]["content"]
    assert "Changes of hf:acme/my\\_model, newest first:" in content
    assert "@everyone" not in content and "@\u200beveryone\\_\\*free\\*" in content
    assert record.callback["data"]["allowed_mentions"] == {"parse": []}


async def test_dev_guild_gets_the_commands_instantly(
    discord_fake: FakeDiscord, hub: FakeHub, clock: Clock, tmp_path: Path
) -> None:
    bot = DiscordBot(
        discord_fake,
        f"sqlite:///{tmp_path / 'bot.db'}",
        hub.url,
        clock,
        discord_dev_guild_id=int(discord_fake.guild_id),
    )
    try:
        await bot.listen()
    finally:
        await bot.close()
    assert list(discord_fake.commands) == [discord_fake.guild_id], "guild only, no global sync"
    assert discord_fake.count("PUT", f"/guilds/{discord_fake.guild_id}/commands") == 1


async def test_policybot_run_connects_and_serves_policy(
    discord_fake: FakeDiscord, hub: FakeHub, tmp_path: Path
) -> None:
    """The composition root: with DISCORD_BOT_TOKEN set, ``policybot run`` syncs /policy,
    connects to the gateway and answers; SIGTERM stops it cleanly."""
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "HF_ENDPOINT": hub.url,
        "DISCORD_BOT_TOKEN": discord_fake.token,
        "POLICYBOT_DISCORD_API_URL": discord_fake.api_url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=root,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await discord_fake.wait_identified(timeout=30)
        assert [c["name"] for c in discord_fake.commands[None]] == ["policy"]
        channel = discord_fake.add_channel()
        record = await discord_fake.interact(discord_fake.slash("help", channel_id=channel))
        assert record.callback is not None
        assert "watch <target>" in record.callback["data"]["content"]
        assert record.callback["data"]["flags"] == EPHEMERAL
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert discord_fake.token not in err.decode()


async def test_a_reply_is_said_in_the_members_own_language(
    dbot: DiscordBot, discord_fake: FakeDiscord
) -> None:
    """Issue 16: with no server setting, the interaction's ``locale`` (the member's client)
    picks the reply's language: Italian for ``it``, English for ``en-US``."""
    channel = discord_fake.add_channel()
    answers = {}
    for locale in ("it", "en-US"):
        payload = discord_fake.slash("list", channel_id=channel)
        payload["locale"] = locale
        record = await discord_fake.interact(payload)
        answers[locale] = await discord_answer(discord_fake, record)
    assert answers["it"] == (f"Non si segue nulla in discord:{channel}. Prova: watch hf:owner/name")
    assert answers["en-US"] == f"Nothing is watched in discord:{channel}. Try: watch hf:owner/name"

    payload = discord_fake.slash(
        "watch", channel_id=channel, target="hf:acme/model", permissions=MEMBER_PERMISSIONS
    )
    payload["locale"] = "it"
    refused = await discord_answer(discord_fake, await discord_fake.interact(payload))
    assert refused.startswith("Rifiutato: per cambiare cosa si segue serve il permesso"), refused
