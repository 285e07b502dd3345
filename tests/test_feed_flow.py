"""Feeds end to end: the bot's own HTTP client against a local feed server, the real store, the
real console adapter (and the webhook adapter for a second channel). Each test reads like what a
user would check in the channel."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.commands import watchlist
from bot.domain.errors import UsageError
from bot.text import feed_entries as feeds
from tests.conftest import CORPUS, Bot, Clock, corpus_path, make_settings
from tests.fakes.feedserver import FeedServer, atom, entry, insert, item, rss

REAL = [
    "reddit.frontpage.2015-11.rss2.original-before-2026-edit.xml",
    "reddit.frontpage.2015-11.rss2.xml",
    "reddit.frontpage.2016-01.atom.xml",
    "reddit.r-homelab-new.2023-07.atom.xml",
    "hackernews.frontpage.2020-08.rss2.hand-edited.xml",
    "github.commits.huginn-master.2014-07.atom.xml",
    "pypi.newest-packages.2014-08.rss091.xml",
    "pypi.recent-updates.2014-08.rss091.xml",
    "cloudflare-blog.rss2.xml",
]


@pytest.fixture
async def web() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


def new_bot(tmp_path: Path, clock: Clock, **settings: Any) -> Bot:
    return Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", **settings), clock)


@pytest.fixture
async def bot(web: FeedServer, clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = new_bot(tmp_path, clock)
    yield b
    await b.close()


async def later(bot: Bot) -> tuple[int, str]:
    bot.clock.advance(hours=2)
    return await bot.cycle()


def post(n: int, title: str | None = None, summary: str = "", *, day: int = 10) -> bytes:
    return item(
        f"post-{n}",
        title or f"Post number {n}",
        link=f"https://blog.example/p/{n}",
        summary=summary,
        date=f"Sat, {day:02d} Jan 2026 {n % 24:02d}:00:00 GMT",
    )


def added(feed: bytes, n: int) -> bytes:
    """A real feed with one synthetic post added where new posts go, in the feed's dialect."""
    if b"<entry" in feed and b"<item" not in feed:
        new = entry(
            f"urn:synthetic:{n}",
            f"Synthetic announcement {n}: new terms",
            link=f"https://example.org/news/{n}",
            summary="<p>We <b>updated</b> our terms of service.</p>",
            updated="2030-01-01T00:00:00Z",
        )
    else:
        new = item(
            f"urn:synthetic:{n}",
            f"Synthetic announcement {n}: new terms",
            link=f"https://example.org/news/{n}",
            summary="<p>We <b>updated</b> our terms of service.</p>",
            date="Tue, 01 Jan 2030 00:00:00 GMT",
        )
    return insert(feed, new)


# -- real feeds ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL)
async def test_real_feed_baselines_silently_then_alerts_once_per_added_entry(
    bot: Bot, web: FeedServer, name: str
) -> None:
    original = corpus_path("feeds", "real", name).read_bytes()
    url = web.set("/feed.xml", original, content_type="application/rss+xml")
    reply = await bot.run(f"watch feed:{url}")
    assert f"Watching feed:{url} → console. Baseline:" in reply
    assert await bot.cycle() == (0, ""), "the first sighting is a baseline, never an alert"

    web.set("/feed.xml", added(original, 1))
    sent, text = await later(bot)
    assert sent == 1
    assert "Synthetic announcement 1: new terms" in text
    assert "We updated our terms of service." in text, "the summary is plain text"
    assert "Read: https://example.org/news/1" in text

    web.set("/feed.xml", added(added(original, 1), 2))
    sent, text = await later(bot)
    assert sent == 1 and "Synthetic announcement 2" in text and "announcement 1" not in text

    web.set("/feed.xml", added(original, 2))  # entry 1 dropped off: nothing to say
    assert await later(bot) == (0, "")


async def test_an_item_that_disappears_and_comes_back_is_not_new(bot: Bot, web: FeedServer) -> None:
    """Reddit's 2015 capture (25 items) and the 2026 edit of it (24: one item removed)."""
    original = corpus_path(
        "feeds", "real", "reddit.frontpage.2015-11.rss2.original-before-2026-edit.xml"
    ).read_bytes()
    edited = corpus_path("feeds", "real", "reddit.frontpage.2015-11.rss2.xml").read_bytes()
    url = web.set("/r.xml", original)
    assert "25 entries" in await bot.run(f"watch feed:{url}")
    web.set("/r.xml", edited)
    assert await later(bot) == (0, "")
    web.set("/r.xml", original)
    assert await later(bot) == (0, ""), "the EarthPorn item was seen before: not new"


async def test_an_edited_entry_is_not_new(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1, "Pricing update"), post(2)]))
    await bot.run(f"watch feed:{url}")
    web.set("/f.xml", rss([post(1, "Pricing update (corrected)", "typo fixed"), post(2)]))
    assert await later(bot) == (0, "")


async def test_entry_alert_says_title_source_date_link_summary(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1)], title="Acme Blog"))
    await bot.run(f"watch feed:{url}")
    long_html = "<p>Starting <b>March 1</b>, the <a href='x'>API</a> costs more.</p>" + (
        "<p>More words here.</p>" * 100
    )
    web.set("/f.xml", rss([post(2, "New API pricing", long_html), post(1)], title="Acme Blog"))
    sent, text = await later(bot)
    assert sent == 1
    head, *body = text.strip().splitlines()
    assert head == "[INFO]     New API pricing (Acme Blog)"
    summary = body[0].strip()
    assert summary.startswith("Starting March 1 , the API costs more.")
    assert "<" not in summary and len(summary) <= feeds.SUMMARY_MAX_CHARS
    assert summary.endswith("…")
    assert "Published: 2026-01-10 02:00 UTC" in text
    assert "Read: https://blog.example/p/2" in text
    assert f"Feed: {url}" in text


# -- keywords, grouping, storms ------------------------------------------------------------


async def test_keywords_match_word_starts_case_insensitively_and_minus_excludes(
    bot: Bot, web: FeedServer
) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url} --keywords licence,pricing,deprecat,-rumour")
    web.set(
        "/f.xml",
        rss(
            [
                post(2, "Deprecation of the v1 API"),  # word start, other case
                post(3, "Team offsite photos"),  # no keyword
                post(4, "Repricing is not a match"),  # "pricing" only inside a word
                post(5, "Rumour: licence change coming"),  # excluded
                post(6, "Quarterly notes", summary="New PRICING tiers for teams"),
                post(1),
            ]
        ),
    )
    sent, text = await later(bot)
    assert sent == 2
    assert "Deprecation of the v1 API" in text and "Keywords: deprecat" in text
    assert "Quarterly notes" in text and "Keywords: pricing" in text
    for absent in ("offsite", "Repricing", "Rumour"):
        assert absent not in text
    assert "[NOTICE]" in text, "a matching entry is a notice"


async def test_more_than_group_over_new_entries_come_as_one_grouped_alert(
    bot: Bot, web: FeedServer
) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url}")
    web.set("/f.xml", rss([post(n) for n in range(13, 0, -1)]))  # 12 new
    sent, text = await later(bot)
    assert sent == 1
    assert "12 new entries (Example Blog)" in text
    assert "New entries: 12" in text
    assert "Post number 13 (2026-01-10)" in text
    assert "… and 2 more" in text
    web.set("/f.xml", rss([post(n) for n in range(18, 0, -1)]))  # exactly 5 new: one each
    sent, text = await later(bot)
    assert sent == 5
    assert text.index("Post number 14") < text.index("Post number 18"), "oldest first"


async def test_an_id_rewrite_storm_is_one_grouped_message(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(n) for n in range(20, 0, -1)]))
    await bot.run(f"watch feed:{url}")
    rewritten = [
        item(f"urn:new-platform:{n}", f"Post number {n}", link=f"https://blog.example/p/{n}")
        for n in range(20, 0, -1)
    ]
    web.set("/f.xml", rss(rewritten))
    sent, text = await later(bot)
    assert sent == 1
    assert "Feed rewritten: 20 entries look new at once" in text
    assert "New entries: 20" in text
    assert await later(bot) == (0, ""), "the new ids are remembered"
    history = await bot.run(f"history feed:{url}")
    assert history.count("Feed rewritten") == 1 and "New entry:" not in history


async def test_a_feed_of_thousands_of_entries_is_one_grouped_message(
    bot: Bot, web: FeedServer
) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url}")
    web.set("/f.xml", rss([post(n) for n in range(2000, 0, -1)]))
    sent, text = await later(bot)
    assert sent == 1
    assert "New entries: 100" in text
    assert "The feed lists 2,000 entries; only the newest 100 are tracked." in text
    assert await later(bot) == (0, "")


async def test_two_subscriptions_with_different_filters_share_one_fetch(
    bot: Bot, web: FeedServer
) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url} --keywords pricing")
    await bot.run(f"watch feed:{url} --keywords licence --to webhook:{web.hook_url('b')}")
    web.set(
        "/f.xml",
        rss([post(2, "New pricing"), post(3, "Licence change"), post(4, "Hiring"), post(1)]),
    )
    before = web.count("/f.xml")
    sent, text = await later(bot)
    assert web.count("/f.xml") == before + 1, "one request, however many subscriptions"
    assert sent == 2
    assert "New pricing" in text and "Licence" not in text and "Hiring" not in text
    hooked = web.hooked("b")
    assert [a["title"] for a in hooked] == ["Licence change"]
    assert ["Keywords", "licence"] in hooked[0]["fields"]


async def test_backfill_posts_the_newest_n_once(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(n) for n in range(8, 0, -1)]))
    reply = await bot.run(f"watch feed:{url} --backfill 3")
    assert "Backfill: posting the newest 3" in reply
    sent, text = await bot.cycle()
    assert sent == 3
    assert [line.split("(")[0].strip() for line in text.splitlines() if "[INFO]" in line] == [
        "[INFO]     Post number 6",
        "[INFO]     Post number 7",
        "[INFO]     Post number 8",
    ]
    assert await later(bot) == (0, "")


# -- conditional GET and skipping the parse -----------------------------------------------


async def test_304_is_not_parsed_and_sends_the_validators(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url}")
    first = web.last("/f.xml")
    assert "if-none-match" not in first.headers and "if-modified-since" not in first.headers
    parses = feeds.parse_count()
    bot.clock.advance(hours=2)
    result = await bot.service.checker.check_due()
    assert [o.status for o in result.outcomes] == ["not-modified"]
    assert feeds.parse_count() == parses, "a 304 is never parsed"
    again = web.last("/f.xml")
    assert again.headers["if-none-match"].startswith('"')
    assert again.headers["if-modified-since"].endswith("GMT")


async def test_same_body_without_validators_is_not_parsed_again(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1)]), validators=False)
    await bot.run(f"watch feed:{url}")
    parses = feeds.parse_count()
    target = bot.store.get_target(f"feed:{url}")
    assert target is not None
    bot.clock.advance(hours=2)
    result = await bot.service.checker.check_due()
    assert [o.status for o in result.outcomes] == ["not-modified"]
    assert feeds.parse_count() == parses, "same digest as last time: not parsed"
    assert len(bot.store.snapshots_of(target.id, 5)) == 1
    web.set("/f.xml", rss([post(2), post(1)]), validators=False)
    sent, _text = await later(bot)
    assert sent == 1 and feeds.parse_count() == parses + 1


# -- broken feeds --------------------------------------------------------------------------


_EDGE_DIR = CORPUS / "feeds" / "edge-cases-feedparser"
EDGE = sorted(p.name for p in _EDGE_DIR.glob("*.xml")) if _EDGE_DIR.is_dir() else ["absent"]


@pytest.mark.parametrize("name", EDGE)
async def test_every_malformed_feed_gives_entries_or_a_clear_failure(
    bot: Bot, web: FeedServer, name: str
) -> None:
    url = web.serve_file("/edge.xml", corpus_path("feeds", "edge-cases-feedparser", name))
    reply = await bot.run(f"watch feed:{url}")
    target = bot.store.get_target(f"feed:{url}")
    assert target is not None
    if target.latest_snapshot_id is not None:
        snap = bot.store.latest_snapshot(target)
        assert snap is not None
        if snap.facts["entries"]:
            assert f"{snap.facts['total']} entr" in reply
        else:  # a well-formed RSS document without items is an empty feed, not an error
            assert "Baseline: feed · no entries yet" in reply or "· no entries yet" in reply
    else:
        assert "The first check did not succeed (not a readable feed:" in reply
        assert target.last_error_reason == "unparsable"
    assert await bot.cycle() == (0, "")


async def test_html_instead_of_a_feed_fails_then_one_health_alert_then_recovery(
    bot: Bot, web: FeedServer
) -> None:
    feed = rss([post(1)])
    url = web.set("/f.xml", feed)
    await bot.run(f"watch feed:{url}")
    page = b"<!DOCTYPE html><html><head><title>Moved</title></head><body>Gone</body></html>"
    web.set("/f.xml", page, content_type="text/html; charset=utf-8")
    sends = []
    for _ in range(4):
        target = bot.store.get_target(f"feed:{url}")
        assert target is not None
        bot.clock.now = max(bot.clock.now, target.next_check_at)
        sends.append(await bot.cycle())
    assert [s for s, _ in sends] == [0, 0, 1, 0]
    assert "Watch failing" in sends[2][1]
    assert "the server sent an HTML page (text/html), not a feed" in sends[2][1]
    web.set("/f.xml", feed)
    target = bot.store.get_target(f"feed:{url}")
    assert target is not None
    bot.clock.now = target.next_check_at
    sent, text = await bot.cycle()
    assert sent == 1 and "Watch recovered" in text, "and no old entry is announced"


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        (b"", "application/rss+xml", "empty body"),
        (b"   \n", "text/xml", "empty body"),
        (b"\x00\xff\xfe garbage \x80\x81", "application/octet-stream", "not a readable feed"),
        (b"<rss><channel><item><title>A & B</title>", "text/xml", "A & B"),  # ill-formed
        (b"<rss><channel><item><title>A & B", "text/xml", "not a readable feed"),
        (b"<?xml version='1.0' encoding='bogus'?><rss/>", "text/xml", ""),  # empty feed
    ],
    ids=["empty", "whitespace", "binary", "truncated", "truncated-in-title", "empty-rss"],
)
async def test_odd_bodies_never_crash_the_check(
    bot: Bot, web: FeedServer, body: bytes, content_type: str, expected: str
) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url}")
    web.set("/f.xml", body, content_type=content_type)
    bot.clock.advance(hours=2)
    result = await bot.service.checker.check_due()
    (outcome,) = result.outcomes
    sent, text = await bot.cycle()
    if outcome.status == "failed":
        assert outcome.reason == "unparsable"
        assert outcome.message is not None and expected in outcome.message
        assert (sent, text) == (0, "")
    elif expected:  # the loose parser still found the entry: it is new
        assert sent == 1 and text.startswith(f"[INFO]     {expected} (")
    else:
        assert (outcome.status, sent) == ("unchanged", 0)


async def test_a_10_mb_body_is_refused_at_the_cap(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url}")
    web.endless("/f.xml", 10 * 1024 * 1024)
    bot.clock.advance(hours=2)
    (outcome,) = (await bot.service.checker.check_due()).outcomes
    assert (outcome.status, outcome.reason) == ("failed", "too-large")
    assert "larger than 5242880 bytes" in (outcome.message or "")


async def test_entity_expansion_bomb_does_not_hang_or_crash(bot: Bot, web: FeedServer) -> None:
    levels = "".join(
        f'<!ENTITY a{i + 1} "{f"&a{i};" * 10}">' if i else '<!ENTITY a1 "&a0;&a0;">'
        for i in range(9)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a0 "lol">{levels}]>'
        '<rss version="2.0"><channel><title>x</title>'
        "<item><guid>1</guid><title>&a9;</title></item></channel></rss>"
    ).encode()
    url = web.set("/f.xml", bomb)
    reply = await bot.run(f"watch feed:{url}")
    assert f"Watching feed:{url} → console. Baseline: x · 1 entry" in reply
    target = bot.store.get_target(f"feed:{url}")
    assert target is not None
    snap = bot.store.latest_snapshot(target)
    assert snap is not None
    assert len(snap.facts["entries"][0]["title"]) < 100, "the entity was not expanded"


async def test_http_errors_are_failed_checks_and_429_is_honoured(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch feed:{url}")
    web.fail("/f.xml", 429, headers={"Retry-After": "1200"})
    start = bot.clock.advance(hours=2)
    (outcome,) = (await bot.service.checker.check_due()).outcomes
    assert (outcome.status, outcome.reason) == ("failed", "rate-limited")
    target = bot.store.get_target(f"feed:{url}")
    assert target is not None and (target.next_check_at - start).total_seconds() >= 1200
    web.fail("/f.xml", 404)
    bot.clock.now = target.next_check_at
    (outcome,) = (await bot.service.checker.check_due()).outcomes
    assert (outcome.status, outcome.reason) == ("failed", "http-404")


# -- bare URLs are sniffed once ------------------------------------------------------------


async def test_a_bare_url_that_is_a_feed_is_stored_as_a_feed(bot: Bot, web: FeedServer) -> None:
    url = web.set(
        "/news",
        atom([entry("urn:1", "Hello", link="https://x/1", updated="2026-01-01T00:00:00Z")]),
        content_type="text/xml",
    )
    reply = await bot.run(f"watch {url} --keywords hello")
    assert f"Watching feed:{url} → console" in reply
    assert "Stopped watching" in await bot.run(f"unwatch {url}")


async def test_a_bare_url_that_is_a_page_becomes_a_page_watch(bot: Bot, web: FeedServer) -> None:
    page = (
        b"<!doctype html><html><head><title>Blog</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/blog/feed.xml">'
        b"</head><body>posts</body></html>"
    )
    url = web.set("/blog/", page, content_type="text/html")
    reply = await bot.run(f"watch {url}")
    assert f"Watching page:{url} → console" in reply
    assert f"page:{url}" in await bot.run("list")


# -- the grammar and the command line ------------------------------------------------------


@pytest.mark.parametrize(
    "text, error",
    [
        ("watch feed:https://x/f --backfill 0", "--backfill must be a number from 1 to 100"),
        ("watch feed:https://x/f --backfill lots", "--backfill must be a number from 1 to 100"),
        ("watch hf:acme/model --backfill 3", "--backfill applies to feed: targets only"),
        ("watch hf:acme/model --keywords a", "--keywords applies to feed: targets only"),
    ],
)
async def test_backfill_and_keywords_are_checked(bot: Bot, text: str, error: str) -> None:
    assert error in await bot.run(text)
    assert "Nothing is watched" in await bot.run("list")


async def test_cli_watch_with_backfill_prints_the_newest_entries(
    web: FeedServer, tmp_path: Path
) -> None:
    url = web.set("/f.xml", rss([post(n) for n in range(4, 0, -1)], title="CLI Blog"))
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "POLICYBOT_ALLOW_PRIVATE_URLS": "true",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "watch",
        url,
        "--keywords",
        "number",
        "--backfill",
        "2",
        cwd=root,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=50)
    assert proc.returncode == 0, err.decode()
    assert f"Watching feed:{url} → console" in out.decode()
    alerts = [line for line in out.decode().splitlines() if line.startswith("[NOTICE]")]
    assert alerts == [
        "[NOTICE]   Post number 3 (CLI Blog)",
        "[NOTICE]   Post number 4 (CLI Blog)",
    ]


async def test_watch_list_feeds_with_keywords_and_bare_urls_need_a_kind(
    bot: Bot, web: FeedServer
) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    entries = watchlist.parse(
        {"watch": [{"target": f"feed:{url}", "keywords": ["pricing"]}]}, "w.toml", "console"
    )
    assert bot.service.apply_watchlist(entries) == [f"added feed:{url} → console"]
    await bot.cycle()  # the first scheduled check is the baseline
    web.set("/f.xml", rss([post(2, "Pricing"), post(3, "Other"), post(1)]))
    sent, text = await later(bot)
    assert sent == 1 and "Pricing" in text
    bare = watchlist.parse({"watch": [{"target": url}]}, "w.toml", "console")
    with pytest.raises(UsageError, match=f"say what to watch at this URL: feed:{url}"):
        bot.service.apply_watchlist(bare)


async def test_a_muted_feed_watch_stays_quiet(bot: Bot, web: FeedServer) -> None:
    url = web.set("/f.xml", rss([post(1)]))
    await bot.run(f"watch {url}")
    assert "Muted" in await bot.run(f"mute {url} 1d")
    web.set("/f.xml", rss([post(2), post(1)]))
    assert await later(bot) == (0, "")
    history = await bot.run(f"history {url}")
    assert "New entry: Post number 2" in history, "recorded, just not sent"


async def test_group_over_is_a_setting(web: FeedServer, clock: Clock, tmp_path: Path) -> None:
    b = new_bot(tmp_path, clock, feed_group_over=2)
    try:
        url = web.set("/f.xml", rss([post(1)]))
        await b.run(f"watch feed:{url}")
        web.set("/f.xml", rss([post(4), post(3), post(2), post(1)]))
        sent, text = await later(b)
        assert sent == 1 and "3 new entries" in text
    finally:
        await b.close()


async def test_an_ill_formed_but_usable_feed_is_used_and_logged_once(
    bot: Bot, web: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.sources.feed")
    broken = rss([post(1, "A & B")]).replace(b"A &amp; B", b"A & B")  # a bare & is not XML
    url = web.set("/f.xml", broken)
    await bot.run(f"watch feed:{url}")
    web.set(
        "/f.xml", broken.replace(b"<item>", post(2, "C & D").replace(b"&amp;", b"&") + b"<item>", 1)
    )
    sent, text = await later(bot)
    assert sent == 1 and "C & D" in text
    warnings = [r.getMessage() for r in caplog.records if "ill-formed but usable" in r.getMessage()]
    assert len(warnings) == 1 and "SAXParseException" in warnings[0]


async def test_intranet_feed_urls_are_refused_unless_allowed(
    web: FeedServer, clock: Clock, tmp_path: Path
) -> None:
    b = new_bot(tmp_path, clock, allow_private_urls=False)
    try:
        url = web.set("/f.xml", rss([post(1)]))
        for text in (f"feed:{url}", url):
            reply = await b.run(f"watch {text}")
            assert "✗ refused" in reply and "loopback" in reply
        by_name = url.replace("127.0.0.1", "localhost")
        reply = await b.run(f"watch {by_name}")
        assert "✗ cannot watch" in reply and "resolves to loopback" in reply
        assert "Nothing is watched" in await b.run("list")
        assert web.count("/f.xml") == 0, "nothing was fetched"
    finally:
        await b.close()


async def test_redirected_feed_resolves_relative_links_against_where_it_was_found(
    bot: Bot, web: FeedServer
) -> None:
    web.set("/new/atom.xml", atom([]), content_type="application/atom+xml")
    url = web.redirect("/old.xml", "/new/atom.xml")
    await bot.run(f"watch feed:{url}")
    web.set(
        "/new/atom.xml",
        atom([entry("urn:e1", "Moved post", link="e1.html", updated="2026-01-06T00:00:00Z")]),
        content_type="application/atom+xml",
    )
    sent, text = await later(bot)
    assert sent == 1 and f"Read: {web.url}/new/e1.html" in text


async def test_seen_ids_survive_in_both_databases(
    web: FeedServer, clock: Clock, db_url: str
) -> None:
    b = Bot(make_settings(db_url), clock)
    try:
        url = web.set("/f.xml", rss([post(2), post(1)]))
        await b.run(f"watch feed:{url} --keywords post")
        web.set("/f.xml", rss([post(3), post(2)]))
        sent, text = await later(b)
        assert sent == 1 and "Post number 3" in text
        web.set("/f.xml", rss([post(3), post(2), post(1)]))  # post 1 comes back
        assert await later(b) == (0, "")
    finally:
        await b.close()
