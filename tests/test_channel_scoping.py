"""Channels are tenants (invariant 9), tried as a member of another channel would: two channels
share one bot through the real Slack and Discord fakes. Channel A watches a page whose URL
carries a token; channel B can neither read A's history, diff or Show diff, nor unwatch or
mute A's watch, nor even learn that the page is watched: every answer is the one a target
nobody watches gets. The operator's CLI still sees everything."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.discord_harness import DiscordBot, discord_answer
from tests.fakes.discord import FakeDiscord
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack, Posted
from tests.fakes.web import FakeWeb
from tests.slack_harness import SlackBot, slack_settings

A, B = "C0AAAAAAA", "C0BBBBBBB"
SECRET = "s3cr3t-t0ken"
V1 = "<html><body><main><h1>Pricing</h1><p>Pro: $20 per month</p></main></body></html>"
V2 = "<html><body><main><h1>Pricing</h1><p>Pro: $25 per month</p></main></body></html>"
MESSAGE = 4  # interaction callback type: the answer itself


def page_ref(web: FakeWeb) -> str:
    return f"page:{web.url}/pricing?token={SECRET}"


def nobody(web: FakeWeb) -> str:
    return f"page:{web.url}/nobody-watches-this"


# ------------------------------------------------------------------------------ Discord


async def discord_a_has_an_alert(
    dbot: DiscordBot, fake: FakeDiscord, web: FakeWeb
) -> tuple[str, str, Any]:
    """Channel A watches the tokened page and got one alert; returns (A, B, the alert)."""
    a, b = fake.add_channel(), fake.add_channel()
    web.set_page("/pricing", V1)
    reply = await dbot.run(f"watch {page_ref(web)} --to discord:{a}")
    assert reply.startswith(f"Watching {page_ref(web)} → discord:{a}"), reply
    web.set_page("/pricing", V2)
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 1
    [alert] = fake.messages(a)
    return a, b, alert


def moved(payload: dict[str, Any], channel: str, custom_id: str | None = None) -> dict[str, Any]:
    """A click on A's alert as if it happened in ``channel`` (a forwarded message, or a
    crafted interaction), optionally on a crafted button."""
    payload = copy.deepcopy(payload)
    payload["channel_id"] = channel
    payload["channel"]["id"] = channel
    if custom_id is not None:  # discord.py only runs buttons the message really has
        clicked = payload["data"]["custom_id"]
        for row in payload["message"]["components"]:
            for button in row["components"]:
                if button["custom_id"] == clicked:
                    button["custom_id"] = custom_id
        payload["data"]["custom_id"] = custom_id
    return payload


@pytest.mark.usefixtures("no_errors_inside_discord_py")
async def test_discord_channel_b_cannot_read_a_watch_nor_learn_it_exists(
    dbot: DiscordBot, discord_fake: FakeDiscord, web: FakeWeb
) -> None:
    a, b, alert = await discord_a_has_an_alert(dbot, discord_fake, web)
    ref, unknown = page_ref(web), nobody(web)

    async def ask(channel: str, sub: str, **values: Any) -> str:
        record = await discord_fake.interact(discord_fake.slash(sub, channel_id=channel, **values))
        return await discord_answer(discord_fake, record)

    for sub in ("history", "diff", "check"):
        told = await ask(b, sub, target=ref)
        assert told == f"{ref} is not watched in this channel; see list", sub
        assert await ask(b, sub, target=unknown) == (
            f"{unknown} is not watched in this channel; see list"
        ), "the same answer as for a page nobody watches"
    # "\#" is how Discord markdown shows a literal "#" at the start of a line.
    assert await ask(b, "history", target="#1") == "\\#1 is not watched in this channel; see list"
    everything = await ask(b, "history")
    assert everything == "No changes recorded yet.", "B's history lists none of A's changes"
    assert SECRET not in everything
    assert (
        await ask(b, "list") == "Nothing is watched in discord:" + b + ". Try: watch hf:owner/name"
    )

    # A's Show diff button, clicked in B (a forwarded message), or crafted with A's #id.
    for crafted in (None, "policybot:diff:#1"):
        click = discord_fake.click(alert, f"policybot:diff:{ref}")  # a new interaction each
        record = await discord_fake.interact(moved(click, b, crafted))
        told = await discord_answer(discord_fake, record)
        assert "is not watched in this channel" in told and "Pro:" not in told
        assert record.callback is not None and record.callback["data"]["flags"] == 64

    record = await discord_fake.interact(
        discord_fake.autocomplete("diff", "target", channel_id=b, target="pricing")
    )
    assert record.callback is not None and record.callback["data"]["choices"] == []

    # In A, and from the operator's CLI, the same commands answer.
    assert "$20 per month" in await ask(a, "diff", target=ref)
    assert "content" in await ask(a, "history", target=ref)
    assert "Pro: $25 per month" in await dbot.run(f"diff {ref}")


@pytest.mark.usefixtures("no_errors_inside_discord_py")
async def test_discord_channel_b_cannot_unwatch_or_mute_a_watch(
    dbot: DiscordBot, discord_fake: FakeDiscord, web: FakeWeb
) -> None:
    a, b, alert = await discord_a_has_an_alert(dbot, discord_fake, web)
    ref = page_ref(web)
    [(sub, _target)] = dbot.store.list_watches(f"discord:{a}")

    for sub_command in ("unwatch", "mute"):
        for name in (ref, f"#{sub.id}", str(sub.id)):
            record = await discord_fake.interact(
                discord_fake.slash(sub_command, channel_id=b, target=name)
            )
            told = await discord_answer(discord_fake, record)
            shown = name.replace("#", "\\#")  # Discord markdown: a literal "#"
            assert told == f"{shown} is not watched in this channel; see list", (sub_command, name)
    for action in ("unwatch", "mute"):
        for crafted in (None, f"policybot:{action}:#{sub.id}"):
            click = discord_fake.click(alert, f"policybot:{action}:{ref}")
            record = await discord_fake.interact(moved(click, b, crafted))
            told = await discord_answer(discord_fake, record)
            assert "is not watched in this channel" in told, action

    [(after, _)] = dbot.store.list_watches(f"discord:{a}")
    assert after.id == sub.id and after.muted_until is None, "A's watch is untouched"
    web.set_page("/pricing", V1)
    dbot.clock.advance(hours=2)
    assert (await dbot.cycle()).sent == 1, "A is still told"


@pytest.mark.usefixtures("no_errors_inside_discord_py")
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "ignore",
            "([unclosed",
            "watch: --ignore '([unclosed' is not a valid regex: unterminated character set at "
            "position 1",
        ),
        (
            "select",
            "main[",
            "watch: --select 'main[' is not a valid CSS selector: Malformed attribute selector "
            "at position 4",
        ),
    ],
)
async def test_discord_invalid_regex_or_selector_is_refused_and_nothing_stored(
    dbot: DiscordBot,
    discord_fake: FakeDiscord,
    web: FakeWeb,
    option: str,
    value: str,
    message: str,
) -> None:
    b = discord_fake.add_channel()
    web.set_page("/pricing", V1)
    options: dict[str, Any] = {option: value}
    record = await discord_fake.interact(
        discord_fake.slash("watch", channel_id=b, target=f"page:{web.url}/pricing", **options)
    )
    assert record.callback is not None and record.callback["type"] == MESSAGE, "no defer"
    assert record.callback["data"]["flags"] == 64, "only the typist sees the mistake"
    # The grammar's own words, as when typed in Slack or on the CLI (bot.commands.grammar).
    # (Discord's markdown escaping shows the usage's "|" as "\\|".)
    content = record.callback["data"]["content"]
    assert content.startswith(f"{message}\nUsage: watch <target>"), content
    assert (
        dbot.store.list_watches() == [] and dbot.store.get_target(f"page:{web.url}/pricing") is None
    )
    assert web.count("/pricing") == 0, "refused before anything is fetched"


# -------------------------------------------------------------------------------- Slack


@pytest.fixture
async def sbot(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> AsyncIterator[SlackBot]:
    bot = SlackBot(slack_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack), clock)
    await bot.listen()
    yield bot
    await bot.close()


async def slack_ask(slack: FakeSlack, text: str, channel: str) -> str:
    """A quick command's answer (in the ack), or the response after "Working on it…"."""
    before = len(slack.responses())
    env = await slack.send_slash(text, channel=channel)
    ack = await slack.wait_ack(env)
    assert ack.payload is not None
    if ack.payload["text"] != "Working on it…":
        assert ack.payload["response_type"] == "ephemeral", text
        return str(ack.payload["text"])
    return (await slack.wait_for("response", before + 1))[before].text


async def slack_click(
    slack: FakeSlack, alert: Posted, action: str, channel: str, value: str | None = None
) -> Posted:
    """Click ``action`` on ``alert`` as if in ``channel`` (forwarded), optionally with a
    crafted value; returns the answer posted to response_url."""
    payload = slack.block_actions_payload(alert, action, "U0USER1")
    payload["channel"]["id"] = channel
    payload["container"]["channel_id"] = channel
    if value is not None:
        payload["actions"][0]["value"] = value
    before = len(slack.responses())
    await slack.wait_ack(await slack.send_envelope("interactive", payload))
    return (await slack.wait_for("response", before + 1))[before]


async def slack_a_has_an_alert(sbot: SlackBot, slack: FakeSlack, web: FakeWeb) -> Posted:
    web.set_page("/pricing", V1)
    reply = await sbot.run(f"watch {page_ref(web)}", channel=A)
    assert reply.startswith(f"Watching {page_ref(web)} → slack:{A}"), reply
    web.set_page("/pricing", V2)
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 1
    [alert] = slack.messages(A)
    return alert


async def test_slack_channel_b_cannot_read_a_watch_nor_learn_it_exists(
    sbot: SlackBot, slack: FakeSlack, web: FakeWeb
) -> None:
    alert = await slack_a_has_an_alert(sbot, slack, web)
    ref, unknown = page_ref(web), nobody(web)
    # Slack shows "&" escaped as "&amp;" in mrkdwn.
    shown = ref.replace("&", "&amp;")

    for verb in ("history", "diff", "check"):
        told = await slack_ask(slack, f"{verb} {ref}", B)
        assert told == f"{shown} is not watched in this channel; see list", verb
        assert await slack_ask(slack, f"{verb} {unknown}", B) == (
            f"{unknown} is not watched in this channel; see list"
        )
    everything = await slack_ask(slack, "history", B)
    assert everything == "No changes recorded yet." and SECRET not in everything

    for value in (None, "#1"):  # forwarded to B, or a crafted action value
        answer = await slack_click(slack, alert, "policybot_diff", B, value)
        assert "is not watched in this channel" in answer.text and "Pro:" not in answer.text
        assert answer.body["response_type"] == "ephemeral"

    env = await slack.send_slash(f"diff {ref}", channel=A)
    ack = await slack.wait_ack(env)
    assert "$20 per month" in str(ack.payload), "in A, the diff is shown"
    assert "$25 per month" in await sbot.run(f"diff {ref}"), "the operator sees everything"


async def test_slack_channel_b_cannot_unwatch_or_mute_a_watch(
    sbot: SlackBot, slack: FakeSlack, web: FakeWeb
) -> None:
    alert = await slack_a_has_an_alert(sbot, slack, web)
    ref = page_ref(web)
    shown = ref.replace("&", "&amp;")
    [(sub, _)] = sbot.store.list_watches(f"slack:{A}")

    for verb in ("unwatch", "mute"):
        told = await slack_ask(slack, f"{verb} {ref}", B)
        assert told == f"{shown} is not watched in this channel; see list", verb
        told = await slack_ask(slack, f"{verb} #{sub.id}", B)
        assert told == f"#{sub.id} is not watched in this channel; see list", verb
    for action in ("policybot_unwatch", "policybot_mute"):
        for value in (None, f"#{sub.id}"):
            answer = await slack_click(slack, alert, action, B, value)
            assert "is not watched in this channel" in answer.text, action

    [(after, _)] = sbot.store.list_watches(f"slack:{A}")
    assert after.id == sub.id and after.muted_until is None, "A's watch is untouched"


async def test_slack_invalid_selector_or_regex_is_refused_in_the_ack(
    sbot: SlackBot, slack: FakeSlack, web: FakeWeb
) -> None:
    web.set_page("/pricing", V1)
    url = f"{web.url}/pricing"
    env = await slack.send_slash(f"watch {url} --select 'main['", channel=B)
    ack = await slack.wait_ack(env)
    assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
    assert ack.payload["text"].startswith(
        "watch: --select 'main[' is not a valid CSS selector: Malformed attribute selector at "
        "position 4"
    ), "refused at once, not after 'Working on it…'"
    env = await slack.send_slash(f"watch page:{url} --ignore '([unclosed'", channel=B)
    ack = await slack.wait_ack(env)
    assert ack.payload is not None and ack.payload["text"].startswith(
        "watch: --ignore '([unclosed' is not a valid regex: unterminated character set"
    )
    assert web.count("/pricing") == 0, "nothing was fetched (not even to sniff the URL)"
    assert sbot.store.list_watches() == [] and slack.responses() == []
