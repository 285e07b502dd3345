"""One executor (issue 15): every front end builds commands through the one grammar and runs them
through the Service, so the same input means the same thing everywhere.

* What a command needs (changes watches, fetches) is one table (:data:`grammar.NEEDS`); Slack
  and Discord both refuse every command that changes watches to whoever may not change them,
  and both let anyone read the show-only forms (``digest``, ``quiet``, ``settings`` alone).
* ``/policy check`` delivers what it found at once in Discord as in Slack (``Service.check_now``).
* The CLI's typed options go through the grammar's builders: the same answer and the same error
  text as the chat command for the same words.

Real parts throughout: the fake Slack, the fake Discord gateway, the fake Hub, the real CLI.
"""

from __future__ import annotations

import re
import shlex
import typing
from pathlib import Path

import pytest

from adapters.discord_embeds import CUSTOM_ID_TEMPLATE
from adapters.slack_blocks import ACTION_KINDS
from bot.commands import grammar as cmds
from bot.commands.invocation import Invocation
from bot.domain.errors import UsageError
from tests.clihelp import cli_env, policybot
from tests.conftest import Bot, Clock, make_settings
from tests.discord_harness import DiscordBot, discord_answer
from tests.fakes.discord import MEMBER_PERMISSIONS, FakeDiscord
from tests.fakes.hub import FakeHub
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.slack_harness import CHANNEL, USER, SlackBot, slack_settings

REPO = "acme/model"

# One sample of each command that changes watches, as typed in chat (the watched target is REPO).
CHANGING = {
    cmds.Watch: "watch hf:acme/other",
    cmds.Unwatch: f"unwatch hf:{REPO}",
    cmds.Mute: f"mute hf:{REPO} 3d",
    cmds.Digest: "digest 07:30 Europe/Rome",
    cmds.Quiet: "quiet 22:00-08:00",
    cmds.WorkspaceSettings: "settings who everyone",
}
# The forms that only show settings: anyone may read them.
SHOWING = ("digest", "quiet", "settings")


def test_the_needs_table_covers_every_command() -> None:
    commands = set(typing.get_args(cmds.Command))
    assert commands == set(cmds.NEEDS), "declare the needs of every Command in grammar.NEEDS"
    changing = {kind for kind, need in cmds.NEEDS.items() if need.changes_watches}
    assert changing == set(CHANGING), "give each command that changes watches a sample here"
    for text in CHANGING.values():
        assert cmds.needs(cmds.parse(text)).changes_watches, text
    for text in SHOWING:
        assert cmds.needs(cmds.parse(text)).read_only, text
    assert cmds.needs(cmds.parse("quiet off")).changes_watches
    fetching = {kind for kind, need in cmds.NEEDS.items() if need.fetches}
    assert fetching == {cmds.Watch, cmds.Check}


def test_both_platforms_buttons_mean_the_grammars_commands() -> None:
    found = re.search(r"\(\?P<action>([^)]*)\)", CUSTOM_ID_TEMPLATE)
    assert found is not None
    discord = set(found.group(1).split("|"))
    assert discord == set(ACTION_KINDS), "the same three buttons on both platforms"
    meant = {kind: cmds.button_command(kind, f"hf:{REPO}") for kind in ACTION_KINDS}
    assert meant == {
        "unwatch": cmds.Unwatch(f"hf:{REPO}"),
        "mute": cmds.Mute(f"hf:{REPO}", 7.0),
        "diff": cmds.Diff(f"hf:{REPO}"),
    }
    assert cmds.button_command("delete", f"hf:{REPO}") is None


# ------------------------------------------------------------------------------ Discord


# The Discord slash options that type each sample of CHANGING.
DISCORD_CHANGING: dict[type, tuple[str, dict[str, typing.Any]]] = {
    cmds.Watch: ("watch", {"target": "hf:acme/other"}),
    cmds.Unwatch: ("unwatch", {"target": f"hf:{REPO}"}),
    cmds.Mute: ("mute", {"target": f"hf:{REPO}", "days": 3}),
    cmds.Digest: ("digest", {"at": "07:30", "tz": "Europe/Rome"}),
    cmds.Quiet: ("quiet", {"window": "22:00-08:00"}),
    cmds.WorkspaceSettings: ("settings", {"setting": "who", "value": "everyone"}),
}


@pytest.mark.usefixtures("no_errors_inside_discord_py")
async def test_discord_check_delivers_what_it_found_at_once(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="apache-2.0")
    await dbot.run(f"watch hf:{REPO} --to discord:{channel}")
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")

    record = await discord_fake.interact(
        discord_fake.slash("check", channel_id=channel, target=f"hf:{REPO}")
    )
    answer = await discord_answer(discord_fake, record)
    assert "1 changed" in answer, answer
    alerts = [p for p in discord_fake.messages(channel) if p.via == "bot"]
    assert [a.embed["title"] for a in alerts] == ["Licence changed — acme/model"], (
        "posted by the check itself, before any tick"
    )
    assert (await dbot.cycle()).sent == 0, "nothing was left for the scheduler"


@pytest.mark.usefixtures("no_errors_inside_discord_py")
async def test_discord_refuses_every_change_to_a_member_and_lets_them_read(
    dbot: DiscordBot, discord_fake: FakeDiscord, hub: FakeHub
) -> None:
    assert set(DISCORD_CHANGING) == set(CHANGING)
    channel = discord_fake.add_channel()
    hub.set_repo(REPO, license="mit")
    await dbot.run(f"watch hf:{REPO} --to discord:{channel}")
    for kind, (sub, options) in DISCORD_CHANGING.items():
        record = await discord_fake.interact(
            discord_fake.slash(sub, channel_id=channel, permissions=MEMBER_PERMISSIONS, **options)
        )
        told = await discord_answer(discord_fake, record)
        assert told.startswith("Refused: changing watches needs the Manage Channels"), (kind, told)
    assert hub.count("/api/models/acme/other") == 0, "the refused watch fetched nothing"
    [(sub_row, _)] = dbot.store.list_watches(f"discord:{channel}")
    assert sub_row.muted_until is None

    shown = {}
    for sub in SHOWING:
        record = await discord_fake.interact(
            discord_fake.slash(sub, channel_id=channel, permissions=MEMBER_PERMISSIONS)
        )
        shown[sub] = await discord_answer(discord_fake, record)
    assert (
        shown["digest"]
        == f"discord:{channel}: digests at 09:00 UTC (weekly ones on Mon); no quiet hours."
    ), "the refused digest time was not stored"
    assert shown["quiet"] == shown["digest"]
    assert shown["settings"].startswith(
        f"discord:{discord_fake.guild_id}: who may change watches: not set"
    ), ("the refused setting was not stored", shown["settings"])


# -------------------------------------------------------------------------------- Slack


async def slack_ask(slack: FakeSlack, text: str) -> str:
    """A quick command's answer (in the ack), or the response after "Working on it…"."""
    before = len(slack.responses())
    ack = await slack.wait_ack(await slack.send_slash(text, channel=CHANNEL, user=USER))
    assert ack.payload is not None
    if ack.payload["text"] != "Working on it…":
        return str(ack.payload["text"])
    return (await slack.wait_for("response", before + 1))[before].text


async def test_slack_refuses_every_change_to_a_member_and_lets_them_read(
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
            hub.set_repo(REPO, license="mit")
            await bot.run(f"watch hf:{REPO}")
            for kind, text in CHANGING.items():
                told = await slack_ask(slack, text)
                assert told.startswith("Refused: only workspace admins and owners"), (kind, told)
            assert hub.count("/api/models/acme/other") == 0, "the refused watch fetched nothing"
            assert bot.watched() == [f"hf:{REPO}"]

            shown = {sub: await slack_ask(slack, sub) for sub in SHOWING}
            assert (
                shown["digest"]
                == f"slack:{CHANNEL}: digests at 09:00 UTC (weekly ones on Mon); no quiet hours."
            )
            assert shown["quiet"] == shown["digest"], "the refused settings were not stored"
            assert shown["settings"].startswith(
                f"slack:{TEAM_ID}: who may change watches: not set"
            ), ("the refused setting was not stored", shown["settings"])
        finally:
            await bot.close()


# ---------------------------------------------------------------------------------- CLI

# The same words typed on the CLI and in chat (the chat's one-line form is their shlex.join).
SAME_WORDS = [
    ["digest", "07:30", "Europe/Rome", "fri"],
    ["digest"],
    ["quiet", "22:00-08:00", "Europe/Rome"],
    ["quiet", "off"],
    ["settings", "--workspace", "slack:T0123", "who", "admins"],
    ["watch", f"hf:{REPO}", "--min-severity", "warning"],
    ["watch", f"hf:{REPO}", "--digest", "daily", "--at", "7:30", "--tz", "Asia/Tokyo"],
]
SAME_MISTAKES = [
    ["digest", "25:00"],
    ["digest", "07:30", "Europe/Atlantis"],
    ["digest", "07:30", "UTC", "someday"],
    ["quiet", "22:00"],
    ["quiet", "off", "UTC"],
    ["settings", "--workspace", "slack:T0123", "who", "nobody"],
    ["watch", f"hf:{REPO}", "--min-severity", "loud"],
    ["watch", f"hf:{REPO}", "--digest", "hourly"],
    ["watch", f"hf:{REPO}", "--at", "07:00"],
    ["watch", f"hf:{REPO}", "--backfill", "0"],
    ["mute", f"hf:{REPO}", "forever"],
]


async def chat_reply(hub: FakeHub, tmp_path: Path, words: list[str]) -> cmds.Reply:
    """The answer to ``words`` as one command line, as the operator, on its own database."""
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'chat.db'}", hub.url), Clock())
    try:
        inv = Invocation(channel="console", actor="cli", allow_to=True)
        return await bot.service.run_text(shlex.join(words), inv)
    finally:
        await bot.close()


@pytest.mark.parametrize("words", SAME_WORDS, ids=shlex.join)
async def test_the_cli_answers_as_the_chat_grammar(
    hub: FakeHub, tmp_path: Path, words: list[str]
) -> None:
    hub.set_repo(REPO, license="mit")
    chat = await chat_reply(hub, tmp_path, words)
    assert chat.ok, chat.text
    env = cli_env(f"sqlite:///{tmp_path / 'cli.db'}", hub.url)
    ran = await policybot(env, *words, cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert ran.out == chat.text + "\n"


@pytest.mark.parametrize("words", SAME_MISTAKES, ids=shlex.join)
async def test_the_cli_refuses_with_the_chat_grammars_words(
    hub: FakeHub, tmp_path: Path, words: list[str]
) -> None:
    hub.set_repo(REPO, license="mit")
    chat = await chat_reply(hub, tmp_path, words)
    assert not chat.ok and "\nUsage: " in chat.text, chat.text
    env = cli_env(f"sqlite:///{tmp_path / 'cli.db'}", hub.url)
    ran = await policybot(env, *words, cwd=tmp_path)
    assert (ran.code, ran.err) == (2, f"error: {chat.text}\n")
    assert hub.count(f"/api/models/{REPO}") == 0, "refused before anything is fetched"


@pytest.mark.parametrize(
    ("name", "slots", "said"),
    [
        ("digest", (("at", None), ("tz", "Europe/Rome"), ("weekday", None)), "tz needs at"),
        ("digest", (("at", "09:00"), ("tz", None), ("weekday", "mon")), "weekday needs tz"),
        ("quiet", (("window", None), ("tz", "Europe/Rome")), "tz needs window"),
    ],
)
def test_a_named_option_without_the_one_before_it_is_refused_by_name(
    name: str, slots: tuple[tuple[str, str | None], ...], said: str
) -> None:
    """Discord's options are named but the grammar reads words by position: a time zone given
    without a time must not be read as the time."""
    with pytest.raises(UsageError, match=said):
        cmds.slotted_words(name, slots)


def test_named_options_given_in_order_are_the_commands_words() -> None:
    words = cmds.slotted_words("digest", (("at", "9:30"), ("tz", "Europe/Rome"), ("weekday", None)))
    assert cmds.digest_command(words) == cmds.parse("digest 9:30 Europe/Rome")
