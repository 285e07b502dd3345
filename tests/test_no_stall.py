"""Nothing a user types or an upstream serves can stall the bot (design §6 invariant 10).

User regexes run on RE2 (linear time), diffs of huge pages are bounded, a feed listing
100,000 entries is read to a cap and says so, and the event loop keeps running while a
hostile page is checked. No timing assertions: results are asserted, and progress of the
loop is counted in loop iterations while the check is under way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.commands import grammar as cmds
from bot.commands import watchlist
from bot.domain.errors import UsageError
from bot.text import feed_entries as feeds
from bot.text.diff import diff_lines, summarise
from bot.text.html_text import clean_lines, compile_ignore
from bot.text.userregex import BadPattern
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.feedserver import FeedServer, item, rss
from tests.fakes.web import FakeWeb

CATASTROPHIC = r"(a+)+$"  # 28 "a" and a "!" took Python's re 37 s, doubling per character
TRAP = "a" * 40 + "!"  # ~10 hours on a backtracking engine


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


def new_bot(tmp_path: Path, clock: Clock, **extra: Any) -> Bot:
    return Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", **extra), clock)


def long_page(lines: list[str]) -> str:
    return "<html><body><main>" + "".join(f"<p>{x}</p>" for x in lines) + "</main></body></html>"


# -- user regexes ---------------------------------------------------------------------------


def test_a_catastrophic_ignore_rule_runs_on_re2_and_still_drops_what_it_matches() -> None:
    (rule,) = compile_ignore([CATASTROPHIC])
    assert type(rule).__module__.startswith("re2"), "user regexes must run on RE2"
    assert clean_lines([TRAP, "Pro plan baaaa", "aaaa", "Team"], [rule]) == [TRAP, "Team"]


async def test_watching_a_page_with_a_catastrophic_ignore_rule_takes_its_baseline(
    web: FakeWeb, clock: Clock, tmp_path: Path
) -> None:
    web.set_page("/trap", long_page(["Pricing", TRAP, "Pro: $20 per month", "caaa"]))
    bot = new_bot(tmp_path, clock)
    try:
        reply = await bot.run(f"watch page:{web.url}/trap --ignore '{CATASTROPHIC}'")
    finally:
        await bot.close()
    assert "Baseline: 3 lines of text, starting “Pricing”" in reply  # "caaa" dropped


@pytest.mark.parametrize(
    "pattern, construct",
    [
        (r"(\w+) \1", "backreferences"),
        (r"price(?= USD)", "lookahead"),
        (r"(?<!free )plan", "negative lookbehind"),
        (r"(?>a+)b", "atomic groups"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_naming_the_construct(
    pattern: str, construct: str
) -> None:
    with pytest.raises(UsageError) as caught:
        cmds.parse(f"watch page:https://example.com/p --ignore '{pattern}'")
    message = str(caught.value)
    assert f"watch: --ignore {pattern!r} uses {construct}" in message
    assert "RE2" in message and "linear time" in message
    with pytest.raises(BadPattern, match=construct):
        compile_ignore([pattern])


def test_a_watch_list_with_a_backreference_names_the_entry_and_the_construct() -> None:
    text = '[[watch]]\ntarget = "page:https://example.com/p"\nignore = ["(\\\\d+)-\\\\1"]\n'
    with pytest.raises(UsageError) as caught:
        watchlist.loads(text, "team.toml", "console")
    assert "team.toml:1: [[watch]] #1: ignore '(\\\\d+)-\\\\1' uses backreferences" in str(
        caught.value
    )


async def test_a_backreference_typed_in_chat_stores_nothing(
    web: FakeWeb, clock: Clock, tmp_path: Path
) -> None:
    web.set_page("/p", long_page(["Pricing"]))
    bot = new_bot(tmp_path, clock)
    try:
        reply = await bot.run(f"watch page:{web.url}/p --ignore '(x)\\1'")
        assert "uses backreferences" in reply
        assert bot.store.get_target(f"page:{web.url}/p") is None
        assert web.count("/p") == 0
    finally:
        await bot.close()


# -- bounded diffs --------------------------------------------------------------------------


def sixteen_thousand_lines() -> list[str]:
    rng = random.Random(7)  # short lines from a small vocabulary: the worst case for difflib
    return [f"{rng.choice(['Plan', 'Seat', 'Row'])} {rng.randrange(40)}" for _ in range(16_000)]


def test_one_line_added_to_a_16000_line_page_is_that_one_line() -> None:
    old = sixteen_thousand_lines()
    new = [*old[:9000], "Enterprise: $99 per seat per month", *old[9000:]]
    diff = diff_lines(old, new)
    assert summarise(diff) == "1 line added · price changed"
    assert diff.lines == (
        f"  {old[8999]}",
        "+ Enterprise: $99 per seat per month",
        f"  {old[9000]}",
    )


def test_a_change_spread_over_16000_lines_is_told_by_counts() -> None:
    old = sixteen_thousand_lines()
    new = ["New first line", *old[1:8000], *reversed(old[8000:-1]), "New last line"]
    diff = diff_lines(old, new, max_lines=1000)
    assert diff.lines[0].startswith("  (too large to show line by line: 4 lines changed in a ")
    assert "more than 1000)" in diff.lines[0]
    assert (diff.added, diff.removed, diff.changed) == (2, 2, 0)
    assert diff.lines[1:] == (f"- {old[0]}", f"- {old[-1]}", "+ New first line", "+ New last line")


def test_many_changed_lines_are_listed_only_in_part() -> None:
    old = [f"old line {i}" for i in range(5000)]
    new = [f"new line {i}" for i in range(5000)]
    diff = diff_lines(old, new, max_lines=1000)
    assert summarise(diff) == "5,000 lines added, 5,000 lines removed"  # locale numbers
    assert "10000 lines changed" in diff.lines[0]
    assert "  … and 4980 more removed" in diff.lines and "  … and 4980 more added" in diff.lines
    assert len(diff.lines) == 1 + 20 + 1 + 20 + 1


def test_a_huge_changed_line_is_diffed_within_bounds() -> None:
    words = [f"w{i % 7}" for i in range(200_000)]
    old, new = " ".join(words), " ".join([*words[:100_000], "{NEW}", *words[100_000:]])
    diff = diff_lines([old], [new])
    assert (diff.changed, diff.added, diff.removed) == (1, 0, 0)
    (plus,) = diff.lines  # the old line lost no words: no bare "- …" line
    assert "{+{NEW}+}" in plus and len(plus) < 400


# -- capped feeds ---------------------------------------------------------------------------


def post(n: int) -> bytes:
    day, hour = divmod(n, 24)
    return item(
        f"post-{n}",
        f"Post number {n}",
        link=f"https://blog.example/p/{n}",
        date=f"{day % 28 + 1:02d} Jan 2026 {hour:02d}:00:00 GMT",
    )


def test_parsing_reads_only_the_newest_entries_up_to_the_cap() -> None:
    body = rss([post(n) for n in range(60)])  # oldest first in the document
    parsed = feeds.parse_feed(body, content_type="application/rss+xml", url="x", max_entries=10)
    assert [e.key for e in parsed.entries] == [f"post-{n}" for n in range(59, 49, -1)]
    assert parsed.truncated and parsed.total == 60
    facts = feeds.facts_of(parsed, max_entries=100, remember=1000)
    assert facts["total"] == 60 and facts["read"] == 10
    assert feeds.cut_note(facts) == (
        "the feed lists 60 entries; only the newest 10 were read (POLICYBOT_FEED_PARSE_MAX_ENTRIES)"
    )


async def test_a_feed_over_the_cap_is_a_successful_check_that_says_so_and_floods_nothing(
    feed_server: FeedServer, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    posts = [post(n) for n in range(60)]
    url = feed_server.set("/big.xml", rss(list(reversed(posts))))
    bot = new_bot(tmp_path, clock, feed_parse_max_entries=10, feed_max_entries=5)
    try:
        with caplog.at_level(logging.INFO, logger="bot.sources.feed"):
            reply = await bot.run(f"watch feed:{url}")
        assert (
            "Baseline: Example Blog · 60 entries (the feed lists 60 entries; only the newest 10"
            in reply
        )
        assert "POLICYBOT_FEED_PARSE_MAX_ENTRIES" in reply
        assert any(
            "feed cut to its newest entries" in r.getMessage() and "newest 10" in r.getMessage()
            for r in caplog.records
        )

        feed_server.set("/big.xml", rss([post(60), *reversed(posts)]))
        clock.advance(hours=2)
        outcomes = (await bot.service.checker.check_due()).outcomes
        assert [o.status for o in outcomes] == ["changed"]
        assert [c.summary for c in outcomes[0].changes] == ["New entry: Post number 60"]
        assert outcomes[0].facts is not None and outcomes[0].facts["read"] == 10
        assert outcomes[0].message is not None and "only the newest 10" in outcomes[0].message
    finally:
        await bot.close()


# -- the event loop keeps running -----------------------------------------------------------


async def test_the_event_loop_keeps_running_while_a_hostile_page_is_checked(
    web: FakeWeb, clock: Clock, tmp_path: Path
) -> None:
    """A 16,000-line page with a catastrophic-regex trap, changed by one line: parsing,
    the ignore rule and the diff run while the loop goes on (counted in loop iterations
    between the moment the body was served and the end of the check)."""
    lines = sixteen_thousand_lines()
    web.set_page("/big", long_page(["Pricing", TRAP, *lines]))
    bot = new_bot(tmp_path, clock)
    try:
        reply = await bot.run(f"watch page:{web.url}/big --ignore '{CATASTROPHIC}'")
        assert "Baseline: 16002 lines of text" in reply
        web.set_page("/big", long_page(["Pricing", TRAP, *lines[:500], "Team: $45", *lines[500:]]))
        clock.advance(hours=2)
        served = web.count("/big")
        check = asyncio.create_task(bot.service.checker.check_due())
        ticks = 0
        while not check.done():
            await asyncio.sleep(0)
            if web.count("/big") > served:
                ticks += 1
        outcomes = check.result().outcomes
    finally:
        await bot.close()
    assert [c.summary for o in outcomes for c in o.changes] == [
        "Page text changed: 1 line added · price changed"
    ]
    assert ticks >= 3, "the loop must keep running while the page is parsed and diffed"
