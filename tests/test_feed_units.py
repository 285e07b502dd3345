"""The pure parts of feeds: parsing real bytes, identity, summaries, keywords, grouping, sniffing.
No servers: these are functions of bytes and facts."""

from __future__ import annotations

import codecs

import pytest

from bot.detect.feed import FeedInfo, KeywordFilter, announce
from bot.domain.errors import SourceError
from bot.domain.facts import FeedFacts
from bot.domain.model import Severity
from bot.text import feed_entries as feeds
from bot.text.feed_entries import Entry, parse_feed
from bot.text.sniff import sniff
from tests.conftest import corpus_path
from tests.fakes.feedserver import item, rss


def parse_file(*parts: str) -> feeds.ParsedFeed:
    return parse_feed(
        corpus_path("feeds", *parts).read_bytes(), content_type="text/xml", url="https://x/f"
    )


# -- identity and fields of real feeds ------------------------------------------------------


def test_rss_guid_is_the_identity_and_dates_are_utc() -> None:
    feed = parse_file("real", "reddit.frontpage.2015-11.rss2.original-before-2026-edit.xml")
    assert len(feed.entries) == 25
    assert all(e.key.startswith("https://www.reddit.com/r/") for e in feed.entries)
    assert all(e.published and e.published.endswith("+00:00") for e in feed.entries)
    assert [e.published for e in feed.entries] == sorted(
        (e.published or "" for e in feed.entries), reverse=True
    )


def test_items_without_guid_are_identified_by_link() -> None:
    hn = parse_file("real", "hackernews.frontpage.2020-08.rss2.hand-edited.xml")
    assert len(hn.entries) == 7
    assert [e.key for e in hn.entries] == [e.link for e in hn.entries]
    pypi = parse_file("real", "pypi.recent-updates.2014-08.rss091.xml")
    assert next(e.key for e in pypi.entries) == "http://pypi.python.org/pypi/pycoin/0.50"


def test_atom_ids_are_the_identity() -> None:
    feed = parse_file("real", "github.commits.huginn-master.2014-07.atom.xml")
    assert len(feed.entries) == 20
    assert all(e.key.startswith("tag:github.com,2008:Grit::Commit/") for e in feed.entries)
    assert feed.title.startswith("Recent Commits to huginn:master")


def test_an_entry_without_id_or_link_is_identified_by_title_and_date() -> None:
    def key(title: str, date: str) -> str:
        (one,) = parse_feed(
            rss([item(None, title, date=date)]), content_type="text/xml", url="https://x/"
        ).entries
        return one.key

    a = key("Terms update", "Mon, 05 Jan 2026 09:00:00 GMT")
    assert a.startswith("sha256:") and a == key("Terms update", "Mon, 05 Jan 2026 09:00:00 GMT")
    assert a != key("Terms update", "Tue, 06 Jan 2026 09:00:00 GMT")
    assert a != key("Terms updated", "Mon, 05 Jan 2026 09:00:00 GMT")


def test_an_edited_summary_keeps_the_identity() -> None:
    def only(summary: str) -> Entry:
        return parse_feed(
            rss([item("g1", "T", summary=summary)]), content_type="text/xml", url="https://x/"
        ).entries[0]

    assert only("first text").key == only("corrected text").key == "g1"


def test_summary_is_plain_text_capped_at_a_word() -> None:
    html = "<p>Hello&nbsp;<b>world</b> &amp; friends</p>\n\n<script>alert(1)</script>"
    assert feeds.plain_text(html) == "Hello world & friends"
    long = "<p>" + "word " * 200 + "</p>"
    text = feeds.plain_text(long, 50)
    assert len(text) <= 50 and text.endswith("word…")
    # Text that looks like a URL or a file name is still just text (no bs4 warning).
    assert feeds.plain_text("https://example.com/terms.html") == "https://example.com/terms.html"


def test_html_title_is_stripped_but_plain_title_keeps_angle_brackets() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry><id>1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; news</title></entry>'
        b'<entry><id>2</id><title type="text">Use &lt;div&gt; wisely</title></entry></feed>'
    )
    titles = [e.title for e in parse_feed(body, content_type="text/xml", url="u").entries]
    assert titles == ["Bold news", "Use <div> wisely"]


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (b"", "text/xml", "empty body"),
        (b"<html><body>hi</body></html>", "text/html", "HTML page (text/html)"),
        (b"<!DOCTYPE html><html>", None, "HTML page (no content type)"),
        (b"just text", "text/plain", "not a readable feed"),
    ],
)
def test_nothing_usable_is_unparsable_with_the_reason(
    body: bytes, content_type: str | None, message: str
) -> None:
    with pytest.raises(SourceError) as err:
        parse_feed(body, content_type=content_type, url="https://x/")
    assert err.value.reason == "unparsable" and message in str(err.value)


# -- seen ids ----------------------------------------------------------------------------


def facts(keys: list[str], remember: int = 1000) -> FeedFacts:
    parsed = feeds.ParsedFeed("t", None, "rss20", tuple(Entry(k, k, None, None, "") for k in keys))
    return feeds.facts_of(parsed, max_entries=100, remember=remember)


def test_seen_ids_are_remembered_newest_first_and_bounded() -> None:
    first = feeds.carry(None, facts(["c", "b", "a"]), remember=4)
    second = feeds.carry(first, facts(["e", "d", "c"]), remember=4)
    digest = feeds.seen_digest
    assert second["seen"] == [digest(k) for k in ("e", "d", "c", "b")]
    assert [e.key for e in feeds.fresh_entries(first, second)] == ["e", "d"]
    third = feeds.carry(second, facts(["b", "e"]), remember=4)
    assert feeds.fresh_entries(second, third) == [], "b came back: not new"


def test_rewrite_means_every_entry_is_unseen() -> None:
    prev = feeds.carry(None, facts(["a", "b", "c"]), 100)
    new = feeds.carry(prev, facts(["x", "y", "z"]), 100)
    assert feeds.is_rewrite(prev, new, feeds.fresh_entries(prev, new))
    partly = feeds.carry(prev, facts(["x", "y", "a"]), 100)
    assert not feeds.is_rewrite(prev, partly, feeds.fresh_entries(prev, partly))


# -- keywords and grouping -----------------------------------------------------------------


def e(title: str, summary: str = "") -> Entry:
    return Entry(title, title, f"https://x/{len(title)}", None, summary)


@pytest.mark.parametrize(
    "words, title, summary, expected",
    [
        (["licence"], "New Licence terms", "", ("licence",)),
        (["deprecat"], "API deprecations ahead", "", ("deprecat",)),
        (["pricing"], "Repricing notes", "", None),  # not at a word start
        (["pricing"], "Notes", "see our (pricing) page", ("pricing",)),
        (["pricing", "-rumour"], "Pricing rumour", "", None),
        (["-hiring"], "We are hiring", "", None),
        (["-hiring"], "Terms update", "", ()),
        ([], "Anything", "", ()),
        (["straße"], "STRASSE closed", "", ("straße",)),  # casefold
        (["open source"], "Going open source today", "", ("open source",)),
    ],
)
def test_keyword_filter(
    words: list[str], title: str, summary: str, expected: tuple[str, ...] | None
) -> None:
    assert KeywordFilter.parse(words).matches(e(title, summary)) == expected


def test_keyword_parse_ignores_blanks_and_bare_minus() -> None:
    assert KeywordFilter.parse([" a ", "", "-", "-b", "- c"]) == KeywordFilter(("a",), ("b", "c"))


INFO = FeedInfo("feed:https://x/f", "https://x/f", "X Blog")


def test_up_to_group_over_entries_come_one_alert_each_oldest_first() -> None:
    entries = [e(f"post {n}") for n in range(5, 0, -1)]  # newest first
    alerts = announce(INFO, entries, KeywordFilter(), group_over=5)
    assert [a.title for a in alerts] == [f"post {n}" for n in range(1, 6)]
    assert {a.severity for a in alerts} == {Severity.INFO}


def test_more_than_group_over_is_one_grouped_alert_counting_only_matches() -> None:
    entries = [e(f"pricing post {n}") for n in range(8)] + [e("other news")]
    (alert,) = announce(INFO, entries, KeywordFilter(("pricing",)), group_over=5)
    assert alert.title == "8 new entries" and alert.severity is Severity.NOTICE
    assert ("New entries", "8") in alert.fields and ("Keywords", "pricing") in alert.fields
    assert announce(INFO, entries, KeywordFilter(("nothing",)), group_over=5) == []


# -- sniffing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, body, kind",
    [
        ("application/rss+xml", b'<?xml version="1.0"?><rss version="2.0">', "feed"),
        ("text/html", b"<!-- generator --><?xml version='1.0'?>\n<feed xmlns='a'>", "feed"),
        ("text/xml", codecs.BOM_UTF8 + b"<rdf:RDF xmlns:rdf='x'>", "feed"),
        ("text/xml", "<?xml version='1.0'?><rss>".encode("utf-16-le"), "feed"),
        ("text/xml", b"<!DOCTYPE html><html><body>", "page"),
        ("text/html", b"\n\n<HTML lang=en>", "page"),
        ("application/atom+xml", b"garbage", "feed"),
        ("application/octet-stream", b"garbage", "page"),
        (None, b"", "page"),
    ],
)
def test_sniff(content_type: str | None, body: bytes, kind: str) -> None:
    assert sniff(content_type, body).kind == kind


def test_sniff_finds_the_feeds_a_page_advertises() -> None:
    page = (
        b"<html><head><link rel='stylesheet' href='/s.css'>"
        b'<link rel="alternate" type="application/rss+xml" href="/feed?a=1&amp;b=2">'
        b"<LINK REL=alternate TYPE=application/atom+xml HREF=https://cdn.example/atom.xml>"
        b"</head>"
    )
    found = sniff("text/html", page, "https://blog.example/posts/")
    assert found.kind == "page"
    assert found.feeds == ("https://blog.example/feed?a=1&b=2", "https://cdn.example/atom.xml")


# -- undeclared encodings and untitled entries (issue 13) -----------------------------------


def test_a_shift_jis_feed_without_declared_encoding_reads_as_japanese() -> None:
    parsed = parse_file("edge-cases-feedparser", "illformed__chardet__shiftjis.xml")
    (entry,) = parsed.entries
    assert entry.title == "DrecomRSSに記事投稿が反映されない…"
    assert entry.summary.startswith("色々調べてたら、MT3.2がRSS1.0をサポートしていない")


def test_an_untitled_entry_is_named_by_the_first_words_of_its_summary() -> None:
    body = rss([
        b"<item><guid>a</guid><description>Our pricing changes on 1 March for every team plan,"
        b" with new limits.</description></item>"
    ])  # fmt: skip
    (entry,) = parse_feed(body, content_type="text/xml", url="https://x/f").entries
    assert entry.title == ""
    assert entry.display_title == "Our pricing changes on 1 March for every…"
    (alert,) = announce(INFO, [entry], KeywordFilter(), group_over=5)
    assert alert.title == "Our pricing changes on 1 March for every…"
    assert Entry("k", "", None, None, "").display_title == "(untitled)"
