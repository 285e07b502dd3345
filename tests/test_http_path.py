"""One HTTP path, with credentials that never leak (issue 11, design invariants 7 and 8).

Every test drives the real code against real local servers: the GitHub token must not follow
a redirect to another origin, feeds obey the operator's URL policy and limits, webhook URLs
(credentials) are checked when a watch is created and never logged, a webhook that can never
work stops its channel at once, links in chat messages are http(s) and short, and upstream
text cannot drive the operator's terminal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.console import ConsoleAdapter
from adapters.discord_webhook import DiscordWebhookAdapter
from adapters.slack import SlackAdapter
from adapters.slack_webhook import SlackWebhookAdapter
from adapters.webhooks import WebhookAdapter
from bot.domain.errors import SourceError
from bot.domain.model import Alert, Link, Severity, TargetRef, Validators
from bot.domain.refs import parse_target
from bot.logs import RedactingFormatter, Redactor
from bot.net import Limits
from bot.sources.feed import FeedSource
from bot.sources.github import GitHubSource
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.github import FakeGitHub
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb
from tests.slack_harness import slack_settings

TOKEN = "ghp_testtoken1234567890abcdefghij"
REPO = "acme/model"
SECRET_PATH = "hooks/T0SECRET9/B0SECRET9/verysecrettokenvalue"
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
    "<link>https://example.com/</link><item><title>One</title><guid>1</guid>"
    "<link>https://example.com/1</link></item></channel></rss>"
)


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Everything logged, formatted the way production formats it (redacting formatter)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter(Redactor(), as_json=False))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    root.setLevel(old)


def _github(locator: str) -> TargetRef:
    return parse_target(f"github:{locator}")


# ------------------------------------------------------------------ credentials and redirects


async def test_github_token_is_not_sent_to_another_origin_by_a_redirect(web: FakeWeb) -> None:
    async with FakeGitHub(tokens=frozenset({TOKEN})) as gh:
        gh.set_repo(REPO)
        gh.set_repo("acme/old")
        gh.rename("acme/old", "acme/new")  # 301 to /repositories/{id}: the same origin
        gh.redirect_elsewhere(REPO, f"{web.url}/elsewhere")
        web.set_page("/elsewhere", "{}", content_type="application/json")
        source = GitHubSource(gh.url, TOKEN, Limits(), 2)
        try:
            await source.fetch(_github("acme/old"), Validators(), {})
            await source.fetch(_github(REPO), Validators(), {})
        finally:
            await source.aclose()
    landed = web.hits("/elsewhere")
    assert landed, "the redirect was followed"
    assert all("authorization" not in hit.headers for hit in landed), landed[0].headers
    assert all(TOKEN not in str(hit.headers) for hit in landed)
    same_origin = [h for h in gh.requests if h.path.startswith("/repositories/")]
    assert same_origin and all(
        h.headers.get("authorization") == f"Bearer {TOKEN}" for h in same_origin
    ), "a same-origin redirect keeps the token"


# ------------------------------------------------------------------ feeds: the operator's policy


async def _feed_fetch(web: FakeWeb, path: str, tmp_path: Path, **settings: Any) -> Any:
    values: dict[str, Any] = {"allow_private_urls": False, **settings}
    source = FeedSource(make_settings(f"sqlite:///{tmp_path / 'x.db'}", **values))
    try:
        ref = parse_target(f"feed:{web.url}{path}")
        return await asyncio.wait_for(source.fetch(ref, Validators(), {}), 10)
    finally:
        await source.aclose()


async def test_a_feed_on_a_private_address_needs_the_operators_allowlist(
    web: FakeWeb, tmp_path: Path
) -> None:
    web.set_page("/feed.xml", RSS, content_type="application/rss+xml")
    with pytest.raises(SourceError) as refused:
        await _feed_fetch(web, "/feed.xml", tmp_path)
    assert refused.value.reason == "unsafe-url" and "loopback" in str(refused.value)
    assert web.count("/feed.xml") == 0, "not a byte was sent to the refused address"
    got = await _feed_fetch(web, "/feed.xml", tmp_path, private_url_allowlist="127.0.0.1/32")
    assert got.facts["title"] == "News"


@pytest.mark.parametrize(
    "route, settings, reason",
    [
        ("huge", {"feed_max_bytes": 100_000}, "too-large"),
        ("hops", {"http_max_redirects": 1}, "redirects"),
        ("drip", {"http_total_timeout": 0.5}, "timeout"),
    ],
)
async def test_feeds_honour_the_operators_limits(
    web: FakeWeb, tmp_path: Path, route: str, settings: dict[str, Any], reason: str
) -> None:
    web.huge("/huge", 3_000_000)
    web.redirect("/hops", "/hop2")
    web.redirect("/hop2", "/feed.xml")
    web.set_page("/feed.xml", RSS, content_type="application/rss+xml")
    web.slow("/drip", interval=0.05)
    allowed = {"allow_private_urls": True, **settings}
    with pytest.raises(SourceError) as failed:
        await _feed_fetch(web, f"/{route}", tmp_path, **allowed)
    assert failed.value.reason == reason


# ------------------------------------------------------------------ webhook URLs are credentials


@pytest.mark.parametrize(
    "channel, why",
    [
        (f"webhook:http://169.254.169.254/{SECRET_PATH}", "https://"),
        (f"webhook:https://169.254.169.254/{SECRET_PATH}", "link-local"),
        (f"slack-webhook:https://[::ffff:10.0.0.1]/{SECRET_PATH}", "private"),
        (f"slack-webhook:http://hooks.example.com/{SECRET_PATH}", "https://"),
        (f"webhook:javascript://hooks.example.com/{SECRET_PATH}", "http(s)"),
        (f"webhook:https://hooks.example.com:99999/{SECRET_PATH}", "well-formed"),
        (f"discord-webhook:https://127.0.0.1/api/webhooks/{SECRET_PATH}", "discord-webhook"),
    ],
)
async def test_a_webhook_url_is_checked_when_the_watch_is_created(
    hub: FakeHub, clock: Clock, tmp_path: Path, logged: io.StringIO, channel: str, why: str
) -> None:
    bot = Bot(
        make_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url, allow_private_urls=False),
        clock,
    )
    try:
        hub.set_repo(REPO, license="apache-2.0")
        reply = await bot.run(f"watch hf:{REPO} --to {channel}")
        assert "Watching" not in reply and why in reply, reply
        assert "verysecrettokenvalue" not in reply and "T0SECRET9" not in reply, reply
        assert bot.store.list_watches(None) == []
        assert "verysecrettokenvalue" not in logged.getvalue()
    finally:
        await bot.close()


async def _deliver_one(bot: Bot, hub: FakeHub, channel: str) -> Any:
    hub.set_repo(REPO, license="apache-2.0")
    assert "Watching" in await bot.run(f"watch hf:{REPO} --to {channel}")
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    bot.clock.advance(hours=2)
    await bot.service.checker.check_due()
    return await bot.service.dispatcher.flush()


@pytest.mark.parametrize("failure", ["404", "410", "400", "unsafe"])
async def test_a_webhook_that_can_never_work_stops_its_channel_at_once_and_is_never_logged(
    hub: FakeHub,
    web: FakeWeb,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    logged: io.StringIO,
    failure: str,
) -> None:
    url = f"{web.url}/{SECRET_PATH}"
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url), clock)
    try:
        if failure in ("404", "410", "400"):
            web.status(f"/{SECRET_PATH}", int(failure), b"no such hook")
        elif failure == "unsafe":  # the operator tightened the policy after the watch
            strict = make_settings(bot.settings.database_url, hub.url, allow_private_urls=False)
            bot.service.dispatcher.adapters["webhook"] = WebhookAdapter(strict)  # type: ignore[index]
        channel = f"webhook:{url}"
        with caplog.at_level(logging.DEBUG):
            result = await _deliver_one(bot, hub, channel)
        assert (result.sent, result.retried, result.dropped) == (0, 0, 1)
        [row] = bot.store.deliveries_for(channel)
        assert row.status == "dropped"
        assert bot.store.channel_disabled(channel) is not None
        assert web.count(f"/{SECRET_PATH}") <= 1, "one attempt at most"
        for text in (
            logged.getvalue(),
            "\n".join(r.getMessage() for r in caplog.records),
            caplog.text,
            bot.store.channel_disabled(channel) or "",
        ):
            assert "verysecrettokenvalue" not in text and "T0SECRET9" not in text, text
        assert "channel is gone" in logged.getvalue()
    finally:
        await bot.close()


# ------------------------------------------------------------------ links and terminal text

BAD_LINKS = (
    Link("Script", "javascript:alert(document.cookie)"),
    Link("Huge", "https://example.com/" + "a" * 2000),
    Link("Spaced", "https://example.com/a b"),
)
GOOD = Link("Entry", "https://example.com/post/1")


def _alert(title: str = "New entry: hello") -> Alert:
    return Alert(
        title,
        Severity.NOTICE,
        "feed:https://example.com/feed.xml",
        "feed",
        ("New entry",),
        links=(*BAD_LINKS, GOOD),
        detected_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )


def _assert_only_good_links(received: str) -> None:
    assert "javascript:" not in received
    assert "a" * 1000 not in received
    assert "example.com/a b" not in received and "example.com/a%20b" not in received
    assert GOOD.url in received


async def test_slack_receives_only_http_links_that_fit(slack: FakeSlack, tmp_path: Path) -> None:
    settings = slack_settings(f"sqlite:///{tmp_path / 'x.db'}", "http://127.0.0.1:9", slack)
    app, hook = SlackAdapter(settings), SlackWebhookAdapter(settings)
    try:
        await app.deliver("C0123ABCD", _alert(), reply_to=None, nonce="n1")
        await hook.deliver(slack.webhook("C0HOOK"), _alert(), reply_to=None, nonce="n2")
    finally:
        await app.aclose()
        await hook.aclose()
    posts = slack.posted()
    assert {p.kind for p in posts} == {"message", "webhook"}
    for post in posts:
        _assert_only_good_links(repr(post.body))


async def test_discord_receives_only_http_links_that_fit(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}", discord_api_url=discord_fake.api_url)
    channel = discord_fake.add_channel()
    adapter = DiscordWebhookAdapter(settings)
    try:
        first = dataclasses.replace(_alert(), links=(BAD_LINKS[0], GOOD))
        await adapter.deliver(discord_fake.add_webhook(channel), first, reply_to=None, nonce="1")
        await adapter.deliver(discord_fake.add_webhook(channel), _alert(), reply_to=None, nonce="2")
    finally:
        await adapter.aclose()
    posted = discord_fake.messages(channel)
    assert len(posted) == 2
    for post in posted:
        _assert_only_good_links(repr(post.message))
        assert post.embed.get("url") in (None, GOOD.url)


def test_console_shows_terminal_controls_escaped_never_raw() -> None:
    out = io.StringIO()
    title = "Pricing \x1b[2J\x1b]0;pwned\x07 changed\x9b31m\rnow"
    alert = Alert(
        title,
        Severity.WARNING,
        "page:https://example.com/",
        "web page",
        ("line one\tcolumn\nline \x1b[31mtwo",),
        links=(GOOD,),
    )
    asyncio.run(ConsoleAdapter(out).deliver("console", alert, reply_to=None, nonce="n"))
    text = out.getvalue()
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text), repr(text)
    assert not any(0x7F <= ord(c) < 0xA0 for c in text), repr(text)
    assert "Pricing \\x1b[2J" in text and "line one\tcolumn" in text
