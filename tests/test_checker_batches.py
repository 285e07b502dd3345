"""What a check reads, and what a batch records, counted on a real SQLite store.

* One check of each source kind reads the target's subscriptions and their channels' settings
  once (with its batch), its latest snapshot once (not at all after a 304) and the snapshot
  before it only when there is a change to put in context, and only for a source whose
  detection reads it (a licence that comes back is "reverted"; a page's diff does not read it).
* Two batches running at the same time on one Checker (the scheduler's tick and a check a Hub
  webhook asked for) each record their own quiet checks, at their own end: none is lost, none
  is recorded by the other batch.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from tests.conftest import Bot, Clock, make_settings
from tests.fakes.feedserver import FeedServer, item, rss
from tests.fakes.github import FakeGitHub
from tests.fakes.hub import FakeHub
from tests.fakes.server import LocalServer
from tests.fakes.web import FakeWeb

READ_TABLES = ("snapshots", "subscriptions", "channels")
_FROM = re.compile(r"\bFROM (\w+)", re.I)


@contextmanager
def reads(bot: Bot) -> Iterator[Counter[str]]:
    """SELECT statements sent to the database meanwhile, by the table they read first."""
    seen: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = _FROM.search(statement)
        if statement.lstrip().upper().startswith("SELECT") and found:
            seen[found.group(1).lower()] += 1

    sa.event.listen(bot.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(bot.store.engine, "before_cursor_execute", count)


async def one_check(bot: Bot) -> tuple[str, dict[str, int]]:
    """The next check (an hour on), and what it read of the tables a check reads."""
    bot.clock.advance(hours=1, seconds=1)
    with reads(bot) as seen:
        [outcome] = (await bot.service.checker.check_due()).outcomes
    return outcome.status, {t: seen[t] for t in READ_TABLES if seen[t]}


BATCH = {"subscriptions": 1, "channels": 1}  # loaded with the batch, for every check in it
CHANGED = {"snapshots": 2, **BATCH}  # the latest snapshot, and the one before it for context


async def test_a_page_with_two_views_reads_everything_once(clock: Clock, tmp_path: Path) -> None:
    async with FakeWeb() as site:
        bot = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
        try:
            page = "<html><body><main><h1>Plans</h1><p id=pro>Pro: $20</p></main></body></html>"
            site.set_page("/pricing", page, etag='"v1"')
            ref = f"page:{site.url}/pricing"
            await bot.run(f"watch {ref}")
            await bot.run(f'watch {ref} --select "#pro" --to slack:C0AAAAAAA')
            await bot.run(f"watch {ref} --ignore 'Plans' --to slack:C0BBBBBBB")

            assert await one_check(bot) == ("not-modified", BATCH)  # no snapshot after a 304

            site.set_page("/pricing", page.replace("$20", "$25"), etag='"v2"')
            # Only the latest snapshot: a page's detection compares two versions and reads
            # nothing earlier (issue 14: that read and its JSON were ~4 % of a cycle's CPU).
            assert await one_check(bot) == ("changed", {"snapshots": 1, **BATCH})
        finally:
            await bot.close()


async def test_a_hub_repo_reads_everything_once(hub: FakeHub, clock: Clock, tmp_path: Path) -> None:
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url), clock)
    try:
        hub.set_repo("acme/model", license="mit")
        await bot.run("watch hf:acme/model")
        await bot.run("watch hf:acme/model --to slack:C0AAAAAAA")
        assert await one_check(bot) == ("unchanged", {"snapshots": 1, **BATCH})

        hub.set_repo("acme/model", license="gpl-3.0")
        assert await one_check(bot) == ("changed", CHANGED)
    finally:
        await bot.close()


async def test_a_feed_reads_everything_once(clock: Clock, tmp_path: Path) -> None:
    async with FeedServer() as feeds:
        bot = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
        try:
            url = feeds.set("/blog.xml", rss([item("a", "First post")]))
            await bot.run(f"watch feed:{url}")
            await bot.run(f"watch feed:{url} --to slack:C0AAAAAAA")
            assert await one_check(bot) == ("not-modified", BATCH)

            feeds.set("/blog.xml", rss([item("b", "Second post"), item("a", "First post")]))
            assert await one_check(bot) == ("changed", CHANGED)
        finally:
            await bot.close()


async def test_a_github_repo_reads_everything_once(clock: Clock, tmp_path: Path) -> None:
    async with FakeGitHub() as github:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", github_api_url=github.url)
        bot = Bot(settings, clock)
        try:
            github.set_repo("acme/tool")
            await bot.run("watch github:acme/tool")
            await bot.run("watch github:acme/tool --to slack:C0AAAAAAA")
            github.set_repo("acme/tool", archived=True)
            assert await one_check(bot) == ("changed", CHANGED)
        finally:
            await bot.close()


# -- two batches at once -----------------------------------------------------------------------


class GatedSite(LocalServer):
    """Pages that answer 304 to their ETag; a page in ``held`` answers only once ``gate`` is
    set, and says it was asked (``asked``), so a test can hold one batch open."""

    PAGE = b"<html><body><main><p>Terms of service, version 1.</p></main></body></html>"

    def __init__(self, held: str) -> None:
        self.held = held
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}", self._page)
        return app

    async def _page(self, request: web.Request) -> web.Response:
        if request.path == self.held and request.headers.get("If-None-Match"):
            self.asked.set()
            await self.gate.wait()
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=self.PAGE, content_type="text/html", headers={"ETag": '"v1"'})


@pytest.fixture
async def gated() -> AsyncIterator[GatedSite]:
    async with GatedSite("/held") as site:
        yield site


async def test_concurrent_batches_each_record_their_own_quiet_checks(
    gated: GatedSite, clock: Clock, tmp_path: Path
) -> None:
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
    flushed: list[set[int]] = []  # each quiet group commit: the targets it recorded

    def quiet_writes(conn: Any, statement: Any, multiparams: Any, *args: Any) -> None:
        rows = multiparams[0] if multiparams and isinstance(multiparams[0], list) else multiparams
        ids = {row["b_id"] for row in rows if isinstance(row, dict) and "b_id" in row}
        if ids:
            flushed.append(ids)

    try:
        ids: dict[str, int] = {}
        for name in ("fast", "held", "other1", "other2"):
            await bot.run(f"watch page:{gated.url}/{name}")
            target = bot.store.get_target(f"page:{gated.url}/{name}")
            assert target is not None
            ids[name] = target.id
        baseline_at = clock()
        clock.advance(hours=1, seconds=1)
        sa.event.listen(bot.store.engine, "before_execute", quiet_writes)
        checker = bot.service.checker

        # The tick's batch: one page answers at once, one is held open.
        tick = asyncio.create_task(checker.check_ids([ids["fast"], ids["held"]]))
        await asyncio.wait_for(gated.asked.wait(), 20)
        # Meanwhile a webhook's batch runs from start to end.
        webhook = await checker.check_ids([ids["other1"], ids["other2"]])
        assert [o.status for o in webhook.outcomes] == ["not-modified", "not-modified"]

        def checked_at(name: str) -> object:
            target = bot.store.get_target(f"page:{gated.url}/{name}")
            assert target is not None
            return target.last_checked_at

        assert flushed == [{ids["other1"], ids["other2"]}], "the webhook's batch, and only it"
        assert checked_at("other1") == checked_at("other2") == clock()
        assert checked_at("fast") == baseline_at, "the tick's quiet check waits for its batch"

        gated.gate.set()
        tick_result = await asyncio.wait_for(tick, 20)
        assert [o.status for o in tick_result.outcomes] == ["not-modified", "not-modified"]
        assert flushed == [{ids["other1"], ids["other2"]}, {ids["fast"], ids["held"]}]
        assert checked_at("fast") == checked_at("held") == clock()
        assert bot.store.lease_owners() == set(), "every lease given back"
    finally:
        gated.gate.set()
        sa.event.remove(bot.store.engine, "before_execute", quiet_writes)
        await bot.close()
