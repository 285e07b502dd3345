"""The fakes enforce the platforms' rules that our tests lean on: Slack's 429 always carries
Retry-After; an ack later than 3 s is a failed command (Slack) or 10062 Unknown interaction
(Discord). The shared ``slack``/``discord_fake`` fixtures then fail any test whose acks came
late, so the chat tests prove our acks are in time rather than merely recorded."""

from __future__ import annotations

import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.discord import FakeDiscord, Interaction
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack


async def test_a_slack_429_always_carries_retry_after(slack: FakeSlack) -> None:
    web = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    slack.fail("chat.postMessage", status=429)  # the test did not script a header
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    hook = slack.webhook("C1")
    slack.fail_webhook(hook, 429, "rate_limited")
    async with aiohttp.ClientSession() as http, http.post(hook, json={"text": "x"}) as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "1"


async def test_a_slack_ack_after_the_deadline_is_a_failed_command() -> None:
    async with FakeSlack(ack_deadline=0.0) as slack:
        web = AsyncWebClient(token=APP_TOKEN, base_url=slack.api_url, retry_handlers=[])
        url = (await web.apps_connections_open(app_token=APP_TOKEN))["url"]
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            await ws.receive_json()  # hello
            envelope = await slack.send_slash("list")
            await ws.receive_json()
            await ws.send_json({"envelope_id": envelope, "payload": {"text": "too late"}})
            with pytest.raises(AssertionError, match="ack after"):
                await slack.wait_ack(envelope)
        assert [a.envelope_id for a in slack.late_acks] == [envelope]
        assert slack.acks()[envelope].payload is None, "the late reply was never shown"


async def test_a_discord_callback_after_3_s_is_unknown_interaction() -> None:
    async with FakeDiscord() as discord:
        record = Interaction(
            {"id": "9001", "token": "tok", "type": 2, "channel_id": "1"},
            dispatched_at=time.monotonic() - 3.5,
        )
        discord.interactions[record.id] = record
        url = f"{discord.api_url}/interactions/9001/tok/callback?with_response=1"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"type": 5}, headers={"Authorization": "Bot x"}) as resp,
        ):
            assert resp.status == 404
            assert (await resp.json())["code"] == 10062
        assert discord.late_callbacks == [record] and record.callback is None
