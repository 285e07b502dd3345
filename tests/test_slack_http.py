"""Slack HTTP mode (no app token): Slack POSTs commands and clicks to our endpoint, signed with
the signing secret; Bolt checks the signature and the 5-minute window (platform-facts §3.2).
The requests here are signed by the test with plain HMAC, independently of slack_sdk."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.conftest import Clock
from tests.fakes.hub import FakeHub
from tests.fakes.slack import SIGNING_SECRET, FakeSlack, sign
from tests.slack_harness import CHANNEL, USER, SlackBot, slack_settings

REPO = "acme/model"


@pytest.fixture
async def sbot(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> AsyncIterator[SlackBot]:
    settings = slack_settings(
        f"sqlite:///{tmp_path / 'bot.db'}",
        hub.url,
        slack,
        slack_app_token=None,
        slack_http_host="127.0.0.1",
        slack_http_port=0,
    )
    bot = SlackBot(settings, clock)
    await bot.listen()
    yield bot
    await bot.close()


async def post(
    bot: SlackBot, body: bytes, *, secret: str = SIGNING_SECRET, age: float = 0.0
) -> tuple[int, str]:
    assert bot.slack.http_address is not None
    host, port = bot.slack.http_address
    headers = sign(secret, body, int(time.time() - age))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://{host}:{port}/slack/events", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def slash(slack: FakeSlack, text: str) -> bytes:
    return urlencode(slack.slash_payload(text, CHANNEL, USER)).encode()


async def test_a_signed_command_is_acked_and_carried_out(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="mit")
    status, body = await post(sbot, slash(slack, f"watch hf:{REPO}"))
    assert status == 200
    assert json.loads(body) == {"text": "Working on it…", "response_type": "ephemeral"}
    [answer] = await slack.wait_for("response")
    assert answer.text.startswith(f"Watching hf:{REPO} → slack:{CHANNEL}")
    assert sbot.watched() == [f"hf:{REPO}"]

    status, body = await post(sbot, slash(slack, "list"))
    assert status == 200 and f"hf:{REPO} · ok" in json.loads(body)["text"]


@pytest.mark.parametrize(
    "secret, age",
    [("not-the-signing-secret", 0.0), (SIGNING_SECRET, 360.0)],
    ids=["wrong signature", "6-minute-old timestamp"],
)
async def test_a_bad_or_stale_signature_gets_401_and_changes_nothing(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub, secret: str, age: float
) -> None:
    hub.set_repo(REPO, license="mit")
    fetches = hub.count(f"/api/models/{REPO}")
    status, body = await post(sbot, slash(slack, f"watch hf:{REPO}"), secret=secret, age=age)
    assert (status, json.loads(body)) == (401, {"error": "invalid request"})
    assert sbot.watched() == []
    assert hub.count(f"/api/models/{REPO}") == fetches, "nothing was fetched"
    assert slack.responses() == []


async def test_a_signed_button_click_unwatches(
    sbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="mit")
    await sbot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="gpl-3.0")
    sbot.clock.advance(hours=2)
    await sbot.cycle()
    [alert] = slack.messages(CHANNEL)
    click = slack.block_actions_payload(alert, "policybot_unwatch", USER)
    body = urlencode({"payload": json.dumps(click)}).encode()

    status, _ = await post(sbot, body, secret="forged")
    assert status == 401 and sbot.watched() == [f"hf:{REPO}"]

    status, _ = await post(sbot, body)
    assert status == 200
    [answer] = await slack.wait_for("response")
    assert answer.text == f"Stopped watching hf:{REPO} in slack:{CHANNEL}."
    assert sbot.watched() == []
