"""The fake Slack answers the real slack_sdk the way platform-facts §3 says Slack does."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack, block_problems, mentions


def client(slack: FakeSlack, token: str = BOT_TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url, retry_handlers=[])


async def test_auth_test_and_tokens(slack: FakeSlack) -> None:
    resp = await client(slack).auth_test()
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T0FAKE", "U0BOT", "B0BOT")
    with pytest.raises(SlackApiError) as err:
        await client(slack, "xoxb-wrong").auth_test()
    assert err.value.response["error"] == "invalid_auth"
    assert slack.calls("auth.test")[0][2]["authorization"] == f"Bearer {BOT_TOKEN}"


async def test_connections_open_wants_the_app_token_and_tickets_are_single_use(
    slack: FakeSlack,
) -> None:
    with pytest.raises(SlackApiError) as err:
        await client(slack).apps_connections_open(app_token=BOT_TOKEN)
    assert err.value.response["error"] == "not_allowed_token_type"
    url = (await client(slack).apps_connections_open(app_token=APP_TOKEN))["url"]
    assert url.startswith("ws://127.0.0.1:")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json()
            assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": "A0FAKE"}
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)


async def test_post_ephemeral_update_and_rate_limit(slack: FakeSlack) -> None:
    web = client(slack)
    posted = await web.chat_postMessage(channel="C1", text="hello")
    await web.chat_update(channel="C1", ts=posted["ts"], text="hello again")
    await web.chat_postEphemeral(channel="C1", user="U1", text="just you")
    assert [p.kind for p in slack.posted()] == ["message", "update", "ephemeral"]
    with pytest.raises(SlackApiError) as err:
        await web.chat_update(channel="C1", ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"
    slack.fail("chat.postMessage", status=429, headers={"Retry-After": "7"})
    with pytest.raises(SlackApiError) as err:
        await web.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


async def test_invalid_blocks_are_refused_like_slack_does(slack: FakeSlack) -> None:
    too_long = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    assert block_problems(too_long) != []
    with pytest.raises(SlackApiError) as err:
        await client(slack).chat_postMessage(channel="C1", text="x", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"
    assert slack.messages() == []


def test_mentions_reads_text_the_way_slack_does() -> None:
    assert mentions({"text": "<!channel> hi <@U0BOSS>"}) == ["!channel", "@U0BOSS"]
    assert mentions({"text": "@here hi"}) == []
    assert mentions({"text": "@here hi", "link_names": True}) == ["!here"]
    loose = {"type": "mrkdwn", "text": "@channel"}
    assert mentions({"blocks": [{"type": "section", "text": loose}]}) == ["!channel"]
    strict = {**loose, "verbatim": True}
    assert mentions({"blocks": [{"type": "section", "text": strict}]}) == []
