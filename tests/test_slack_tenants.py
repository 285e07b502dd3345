"""Hosted for many Slack workspaces (issue 16): the real slack_bolt OAuth v2 flow against the fake
Slack (Add to Slack page → Slack's authorize page → our redirect → ``oauth.v2.access``), then
commands and alerts per workspace with that workspace's token, uninstall and reinstall.

Requests Slack sends us (commands, events) are signed here with plain HMAC (tests.fakes.slack.sign).
"""

from __future__ import annotations

import html
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.store import NewDelivery, tenants
from bot.store.tables import slack_installations
from tests.conftest import Clock
from tests.fakes.hub import FakeHub
from tests.fakes.slack import CLIENT_ID, CLIENT_SECRET, SIGNING_SECRET, FakeSlack, sign
from tests.slack_harness import SlackBot, eventually, slack_settings

REPO = "acme/model"
A, B = "T0AAAAAAA", "T0BBBBBBB"
CHAN_A, CHAN_B = "C0AAAAAAA", "C0BBBBBBB"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def tbot(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> AsyncIterator[SlackBot]:
    port = _free_port()
    settings = slack_settings(
        f"sqlite:///{tmp_path / 'bot.db'}",
        hub.url,
        slack,
        slack_bot_token=None,
        slack_app_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        public_url=f"http://127.0.0.1:{port}",
        slack_authorize_url=slack.authorize_url,
        slack_http_host="127.0.0.1",
        slack_http_port=port,
    )
    bot = SlackBot(settings, clock)
    await bot.listen()
    yield bot
    await bot.close()


def base(bot: SlackBot) -> str:
    assert bot.slack.http_address is not None
    host, port = bot.slack.http_address
    return f"http://{host}:{port}"


async def install(
    bot: SlackBot, slack: FakeSlack, team: str | None, **kw: object
) -> aiohttp.ClientResponse:
    """A person opens the Add to Slack page, clicks the button, approves in Slack and lands
    back on our redirect; returns that last page (already read)."""
    slack.install_as(team, **kw)  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base(bot)}/slack/install") as page:
            assert page.status == 200
            text = await page.text()
            # Bolt's state cookie is Secure (production is https): a browser sends it back to
            # the same site; aiohttp on plain http would not, so the test carries it.
            cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        [link] = re.findall(r'href="([^"]*oauth/v2/authorize[^"]*)"', text)
        async with session.get(html.unescape(link), allow_redirects=False) as approved:
            assert approved.status == 302
            back = approved.headers["Location"]
        async with session.get(back, headers={"Cookie": cookie}) as done:
            done.body_text = await done.text()  # type: ignore[attr-defined]
            return done


async def signed(bot: SlackBot, body: bytes, content_type: str | None = None) -> tuple[int, str]:
    headers = sign(SIGNING_SECRET, body, int(time.time()))
    if content_type:
        headers["Content-Type"] = content_type
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base(bot)}/slack/events", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


async def command(
    bot: SlackBot, slack: FakeSlack, team: str, channel: str, text: str, user: str = "U0USER1"
) -> str:
    """A slash command typed in ``channel`` of workspace ``team``; the text it answered."""
    before = len(slack.responses())
    payload = slack.slash_payload(text, channel, user, team=team)
    status, body = await signed(bot, urlencode(payload).encode())
    assert status == 200, body
    answer = json.loads(body)["text"] if body else ""
    if answer in ("Working on it…", "Ci sto lavorando…"):
        responses = await slack.wait_for("response", count=before + 1)
        return responses[-1].text
    return str(answer)


async def test_install_watch_alert_uninstall_reinstall(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    page = await install(tbot, slack, A, name="Acme")
    assert page.status == 200, page.body_text  # type: ignore[attr-defined]
    stored = tenants.find_installation(tbot.store, A)
    assert stored is not None and stored.bot_token == slack.token_of(A)
    assert stored.installer_user_id == "U0ADMIN" and "chat:write" in stored.bot_scopes

    hub.set_repo(REPO, license="mit")
    answer = await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")
    assert answer.startswith(f"Watching hf:{REPO} → slack:{A}/{CHAN_A}")

    hub.set_repo(REPO, license="gpl-3.0")
    tbot.clock.advance(hours=2)
    await tbot.cycle()
    [alert] = slack.messages(CHAN_A)
    assert alert.team == A, "posted with workspace A's own bot token"
    assert "GPL-3.0" in alert.all_text()

    status, _ = await signed(tbot, slack.app_uninstalled(A), "application/json")
    assert status == 200  # Bolt acks events first, then runs the listener
    await eventually(lambda: tenants.find_installation(tbot.store, A) is None)  # tokens deleted
    assert tenants.paused(tbot.store, f"slack:{A}") == "app uninstalled"

    fetches = hub.count(f"/api/models/{REPO}")
    hub.set_repo(REPO, license="apache-2.0")
    tbot.clock.advance(hours=2)
    await tbot.cycle()
    assert len(slack.messages(CHAN_A)) == 1, "nothing is posted to an uninstalled workspace"
    assert hub.count(f"/api/models/{REPO}") == fetches, "a target only it watches is not checked"
    assert tbot.watched(f"{A}/{CHAN_A}") == [f"hf:{REPO}"], "its watches are kept"

    page = await install(tbot, slack, A, name="Acme")
    assert page.status == 200
    tbot.clock.advance(hours=2)
    await tbot.cycle()
    alerts = slack.messages(CHAN_A)
    assert len(alerts) == 2, "alerts resume after a reinstall"
    assert "Apache-2.0" in alerts[-1].all_text() and alerts[-1].team == A


async def test_deliveries_queued_before_an_uninstall_wait_for_the_reinstall(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    await install(tbot, slack, A)
    hub.set_repo(REPO, license="mit")
    await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")
    hub.set_repo(REPO, license="gpl-3.0")
    tbot.clock.advance(hours=2)
    await tbot.service.checker.check_due()  # the alert is queued, not yet sent ...
    status, _ = await signed(tbot, slack.tokens_revoked(A), "application/json")
    assert status == 200  # Bolt acks events first, then runs the listener
    await eventually(lambda: tenants.find_installation(tbot.store, A) is None)
    await tbot.service.dispatcher.flush()  # ... and waits while the workspace is gone
    assert slack.messages(CHAN_A) == []
    assert [d.status for d in tbot.store.deliveries_for(f"slack:{A}/{CHAN_A}")] == ["pending"]
    # ... which goes out with the new token once the workspace is back.
    await install(tbot, slack, A)
    await tbot.service.dispatcher.flush()
    [alert] = slack.messages(CHAN_A)
    assert alert.team == A and "GPL-3.0" in alert.all_text()


async def test_two_workspaces_cannot_see_or_change_each_others_watches(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    await install(tbot, slack, A)
    await install(tbot, slack, B)
    hub.set_repo(REPO, license="mit")
    await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")

    # The same channel id in B (as a shared channel would be) is another channel.
    for text in ("list", f"history hf:{REPO}", f"unwatch hf:{REPO}", f"diff hf:{REPO}"):
        answer = await command(tbot, slack, B, CHAN_A, text)
        assert REPO not in answer or "is not watched" in answer, (text, answer)
    assert tbot.watched(f"{A}/{CHAN_A}") == [f"hf:{REPO}"]
    sub = tbot.store.list_watches(f"slack:{A}/{CHAN_A}")[0][0]
    answer = await command(tbot, slack, B, CHAN_B, f"unwatch #{sub.id}")
    assert "is not watched" in answer
    assert tbot.watched(f"{A}/{CHAN_A}") == [f"hf:{REPO}"]

    hub.set_repo(REPO, license="gpl-3.0")
    tbot.clock.advance(hours=2)
    await tbot.cycle()
    assert [m.team for m in slack.messages()] == [A]


async def test_an_org_wide_install_is_refused_with_a_clear_page(
    tbot: SlackBot, slack: FakeSlack
) -> None:
    page = await install(tbot, slack, None, enterprise_id="E0ORG", org_wide=True)
    assert page.status == 400
    text = await page.text()
    assert "Organisation-wide installs are not supported" in text
    assert "install it into each workspace" in text
    with tbot.store.engine.connect() as c:
        assert c.execute(slack_installations.select()).all() == []


async def test_a_forged_or_reused_state_installs_nothing(tbot: SlackBot, slack: FakeSlack) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base(tbot)}/slack/oauth_redirect?code=x&state=forged") as resp,
    ):
        assert resp.status in (400, 401)
        assert "was not installed" in await resp.text()
    assert tenants.find_installation(tbot.store, A) is None


async def test_workspace_settings_decide_who_may_change_watches(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    await install(tbot, slack, A)
    hub.set_repo(REPO, license="mit")
    slack.add_user("U0BOSS", admin=True)
    slack.add_user("U0USER1")
    answer = await command(tbot, slack, A, CHAN_A, "settings who admins", user="U0BOSS")
    assert "who may change watches: admins" in answer

    answer = await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}", user="U0USER1")
    assert answer.startswith("Refused: only workspace admins")
    assert tbot.watched(f"{A}/{CHAN_A}") == []

    # Another workspace's setting is its own.
    await install(tbot, slack, B)
    answer = await command(tbot, slack, B, CHAN_B, f"watch hf:{REPO}", user="U0USER1")
    assert answer.startswith(f"Watching hf:{REPO}")

    answer = await command(tbot, slack, A, CHAN_A, "settings who managers", user="U0BOSS")
    slack.set_channel_creator(CHAN_A, "U0USER1")
    answer = await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}", user="U0USER1")
    assert answer.startswith(f"Watching hf:{REPO}"), answer


async def test_workspace_default_severity_and_digest_time_apply_unless_the_channel_sets_its_own(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    await install(tbot, slack, A)
    hub.set_repo(REPO, license="mit")
    answer = await command(tbot, slack, A, CHAN_A, "settings severity warning")
    assert "default minimum severity: warning" in answer
    answer = await command(tbot, slack, A, CHAN_A, "settings digest 07:30 Europe/Rome")
    assert "default digest time: 07:30 Europe/Rome" in answer

    await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")
    [(sub, _t)] = tbot.store.list_watches(f"slack:{A}/{CHAN_A}")
    assert sub.min_severity == "warning"
    assert "digests at 07:30 Europe/Rome" in await command(tbot, slack, A, CHAN_A, "digest")
    await command(tbot, slack, A, CHAN_A, "digest 18:00 UTC")
    assert "digests at 18:00 UTC" in await command(tbot, slack, A, CHAN_A, "digest")

    answer = await command(tbot, slack, A, CHAN_A, "settings colour blue")
    assert "unknown setting 'colour'" in answer

    await command(tbot, slack, A, CHAN_A, "settings language it")
    assert tenants.workspace_settings(tbot.store, f"slack:{A}").language == "it"
    answer = await command(tbot, slack, A, CHAN_A, "digest")
    assert "riepiloghi alle 18:00 UTC (quelli settimanali di lunedì)" in answer, answer


async def test_one_change_reaches_each_workspace_in_its_own_language(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    """Issue 16: the outbox keeps the alert's messages; each channel gets them in its
    workspace's language, buttons included, while upstream text (the licence ids) stays."""
    await install(tbot, slack, A)
    await install(tbot, slack, B)
    await command(tbot, slack, A, CHAN_A, "settings language it")
    hub.set_repo(REPO, license="apache-2.0")
    await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")
    await command(tbot, slack, B, CHAN_B, f"watch hf:{REPO}")

    hub.set_repo(REPO, license="cc-by-nc-4.0")
    tbot.clock.advance(hours=2)
    await tbot.cycle()
    [italian] = slack.messages(CHAN_A)
    [english] = slack.messages(CHAN_B)
    it_text, en_text = italian.all_text(), english.all_text()
    assert "Licenza cambiata — acme/model" in it_text, it_text
    assert "Apache-2.0 (permissiva) → CC-BY-NC-4.0 (non commerciale) · più restrittiva" in it_text
    assert "uso commerciale ora limitato" in it_text
    assert "Mostra differenze" in it_text and "rilevato il" in it_text
    assert "Licence changed" not in it_text and "restrictive" not in it_text
    assert "Licence changed — acme/model" in en_text, en_text
    assert "Apache-2.0 (permissive) → CC-BY-NC-4.0 (non-commercial) · more restrictive" in en_text
    assert "commercial use now restricted" in en_text and "Show diff" in en_text


async def test_an_alert_queued_before_translation_delivers_unchanged(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    """An outbox row written by an older version holds plain English strings: an Italian
    workspace gets it exactly as it was written (nothing to translate, nothing lost)."""
    await install(tbot, slack, A)
    await command(tbot, slack, A, CHAN_A, "settings language it")
    hub.set_repo(REPO, license="mit")
    await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")
    [(_sub, target)] = tbot.store.list_watches(f"slack:{A}/{CHAN_A}")
    old: dict[str, Any] = {
        "title": "Licence changed — acme/model",
        "severity": "critical",
        "target": f"hf:{REPO}",
        "source_label": "Hugging Face model",
        "lines": ["MIT (permissive) → GPL-3.0 (copyleft) · more restrictive"],
        "fields": [["Licence", "MIT (permissive) → GPL-3.0 (copyleft)"]],
        "excerpt": None,
        "links": [{"label": "Repository", "url": "https://huggingface.co/acme/model"}],
        "actions": [{"kind": "diff", "label": "Show diff", "value": f"hf:{REPO}"}],
        "detected_at": "2026-01-05T10:00:00+00:00",
        "threaded": True,
    }
    tbot.store.queue_deliveries(target.id, tbot.clock(), [NewDelivery(f"slack:{A}/{CHAN_A}", old)])
    await tbot.service.dispatcher.flush()
    [alert] = slack.messages(CHAN_A)
    text = alert.all_text()
    for said in (old["title"], old["lines"][0], "Licence*\nMIT (permissive) → GPL", "Show diff"):
        assert said in text, (said, text)


async def test_an_italian_workspace_gets_its_command_replies_in_italian(
    tbot: SlackBot, slack: FakeSlack, hub: FakeHub
) -> None:
    """Issue 16: ``/policy settings language it`` makes the workspace's replies Italian (refs,
    channel names and licence ids as they are); another workspace keeps English."""
    await install(tbot, slack, A)
    await install(tbot, slack, B)
    hub.set_repo(REPO, license="mit")
    answer = await command(tbot, slack, A, CHAN_A, "settings language it")
    assert "lingua: it" in answer and "language" not in answer, answer
    assert await command(tbot, slack, A, CHAN_A, "list") == (
        f"Non si segue nulla in slack:{A}/{CHAN_A}. Prova: watch hf:owner/name"
    )
    answer = await command(tbot, slack, A, CHAN_A, f"watch hf:{REPO}")
    assert answer.startswith(f"Seguo hf:{REPO} → slack:{A}/{CHAN_A}."), answer
    answer = await command(tbot, slack, A, CHAN_A, "list")
    assert re.match(rf"#\d+ hf:{REPO} · ok · controllato 0 s fa · gravità minima info$", answer), (
        answer
    )
    answer = await command(tbot, slack, A, CHAN_A, "lisst")
    assert answer.startswith("comando sconosciuto 'lisst' (forse intendevi 'list'?). Prova:"), (
        answer
    )
    assert await command(tbot, slack, B, CHAN_B, "list") == (
        f"Nothing is watched in slack:{B}/{CHAN_B}. Try: watch hf:owner/name"
    )
