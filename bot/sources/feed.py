"""RSS/Atom feeds (``feed:<url>``): conditional GET through :mod:`bot.net`, parse, announce.

The shell of a feed check: one guarded GET (SSRF guard, size cap, timeouts, ETag /
Last-Modified), then the skip rules, then feedparser in a worker process (:mod:`bot.cpu`;
it is CPU-bound and synchronous: :func:`bot.text.feed_entries.parse_body`). A 304, or a 200
whose body hashes to the digest of the last successful check, is
:class:`~bot.domain.model.NotModified` and is never parsed again: parsing costs milliseconds
per feed, hashing microseconds. Everything that decides lives in :mod:`bot.text.feed_entries`
and :mod:`bot.detect.feed`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings
from bot.cpu import process_safe, run_heavy
from bot.detect.feed import FeedInfo, KeywordFilter, announce
from bot.detect.history import History
from bot.domain.errors import SourceError, http_reason
from bot.domain.facts import FeedFacts
from bot.domain.model import (
    Alert,
    Change,
    ChangeKind,
    FetchResult,
    Link,
    NotModified,
    Observation,
    Severity,
    TargetRef,
    Validators,
)
from bot.i18n import joined, msg, nmsg
from bot.net import HttpClient, Response, status_error
from bot.text import feed_entries as feeds
from bot.text.sniff import HEAD_BYTES, Sniffed, sniff

log = logging.getLogger(__name__)

# feedparser's own Accept header: feeds first, HTML last.
ACCEPT = (
    "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,"
    "application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"
)
SNIFF_ACCEPT = ACCEPT.replace("*/*;q=0.1", "text/html;q=0.1,*/*;q=0.1")

# The worker pool's feed job, in the pure parser's module: a worker process imports only the
# parsers (bot.cpu.PRELOAD), never this module's HTTP client, settings and siblings.
process_safe(feeds.parse_body)


class FeedSource:
    kind = "feed"

    def __init__(self, settings: Settings) -> None:
        self.allow_private = settings.allow_private_urls
        self.group_over = settings.feed_group_over
        self.max_entries = settings.feed_max_entries
        # Every kept entry must stay remembered, or it would look new again next check.
        self.remember = max(settings.feed_remember, settings.feed_max_entries)
        # The operator's URL policy and limits (allowlist, timeouts, redirects, per-host),
        # with the feed's own size cap.
        self._http = HttpClient.for_users(settings, max_bytes=settings.feed_max_bytes)
        self.parse_max_entries = settings.feed_parse_max_entries
        self.parse_concurrency = settings.parse_concurrency
        self.parse_processes = settings.parse_processes
        self._warned: set[tuple[str, str]] = set()

    # -- Source ----------------------------------------------------------------------

    def label(self, ref: TargetRef) -> str:
        return msg("feed")

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        return [Link(msg("Feed"), ref.locator)]

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        url = ref.locator
        headers = {"Accept": ACCEPT}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        resp = await self._get(url, headers)
        if resp.status == 304:
            return NotModified(validators)
        _raise_for_status(resp, url)
        fresh = Validators(
            etag=_header(resp, "etag"),
            last_modified=_header(resp, "last-modified"),
            body_digest=hashlib.sha256(resp.body).hexdigest(),
        )
        if fresh.body_digest == validators.body_digest:
            return NotModified(fresh)
        content_type = _header(resp, "content-type")
        feeds.count_parse()
        parsed = await run_heavy(
            self.parse_concurrency,
            feeds.parse_body,
            resp.body,
            content_type,
            resp.url,
            self.parse_max_entries,
            processes=self.parse_processes,
        )
        if parsed.problem:
            self._warn_once(str(ref), parsed.problem, len(parsed.entries))
        facts = feeds.facts_of(parsed, max_entries=self.max_entries, remember=self.remember)
        evidence = {"url": resp.url, "version": parsed.version, "problem": parsed.problem}
        cut = feeds.cut_note(facts)
        if cut:  # still a successful check: the newest entries are the ones that matter
            evidence["note"] = cut
            if (str(ref), "cut") not in self._warned:  # once per feed and process
                self._warned.add((str(ref), "cut"))
                log.info("feed cut to its newest entries target=%s reason=%s", ref, cut)
        return Observation(facts=facts, evidence=evidence, validators=fresh)

    def detect(self, prev: FeedFacts, new: FeedFacts, history: History) -> list[Change]:
        fresh = feeds.fresh_entries(prev, new)
        if feeds.is_rewrite(prev, new, fresh) and len(fresh) > self.group_over:
            return [
                Change(
                    ChangeKind.ENTRY,
                    Severity.INFO,
                    msg("Feed rewritten: all {n} entries have ids never seen before", n=len(fresh)),
                    before=f"{len(feeds.entries_of(prev))} entries",
                    after=REWRITE,
                )
            ]
        return [
            Change(
                ChangeKind.ENTRY,
                Severity.INFO,
                msg("New entry: {title}", title=e.display_title),
                after=e.key,
                detail=e.summary or None,
                links=(Link(msg("Read"), e.link),) if e.link else (),
            )
            for e in fresh
        ]

    def describe(self, facts: FeedFacts) -> str:
        entries = feeds.entries_of(facts)
        name = str(facts.get("title") or "feed")  # the feed's own title: upstream text
        total = int(facts.get("total") or len(entries))
        if not entries:
            return joined(" · ", [name, msg("no entries yet")])
        newest = entries[0]
        date = feeds.format_date(newest.published)
        cut = feeds.cut_note(facts)
        # {count}, not {n}: the count is written as it always was (no thousands separator)
        count = nmsg("{count} entry", "{count} entries", total, count=str(total))
        if cut:
            count = joined("", [count, f" ({cut})"])
        latest = (
            msg("newest: {title} ({date})", title=newest.display_title, date=date[:10])
            if date
            else msg("newest: {title}", title=newest.display_title)
        )
        return joined(" · ", [name, count, latest])

    def lines(self, facts: FeedFacts) -> list[str]:
        out = [f"feed: {facts.get('title') or ''}"]
        for entry in feeds.entries_of(facts):
            date = feeds.format_date(entry.published)
            out.append((f"{date[:10]} · " if date else "") + entry.display_title)
        return out

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- StreamSource ------------------------------------------------------------------

    def carry(self, prev: FeedFacts | None, new: FeedFacts) -> FeedFacts:
        return feeds.carry(prev, new, self.remember)

    def announce(
        self,
        ref: TargetRef,
        changes: Sequence[Change],
        facts: FeedFacts,
        options: Mapping[str, Any],
        now: datetime,
    ) -> list[Alert]:
        entries = feeds.entries_of(facts)
        rewrite = any(c.after == REWRITE for c in changes)
        if not rewrite:
            keys = {c.after for c in changes if c.kind is ChangeKind.ENTRY}
            entries = [e for e in entries if e.key in keys]
        return announce(
            self._info(ref, facts),
            entries,
            KeywordFilter.parse(options.get("keywords") or ()),
            group_over=self.group_over,
            rewrite=rewrite,
            detected_at=now,
        )

    def backfill(
        self,
        ref: TargetRef,
        facts: FeedFacts,
        options: Mapping[str, Any],
        count: int,
        now: datetime,
    ) -> list[Alert]:
        keywords = KeywordFilter.parse(options.get("keywords") or ())
        picked = [e for e in feeds.entries_of(facts) if keywords.matches(e) is not None]
        return announce(
            self._info(ref, facts),
            picked[:count],
            keywords,
            group_over=self.group_over,
            detected_at=now,
        )

    # -- Sniffer -----------------------------------------------------------------------

    async def sniff(self, url: str) -> Sniffed:
        resp = await self._get(url, {"Accept": SNIFF_ACCEPT})
        _raise_for_status(resp, url)
        return sniff(_header(resp, "content-type"), resp.body[:HEAD_BYTES], resp.url)

    # -- helpers -----------------------------------------------------------------------

    async def _get(self, url: str, headers: Mapping[str, str]) -> Response:
        return await self._http.request("GET", url, headers=headers)

    def _info(self, ref: TargetRef, facts: FeedFacts) -> FeedInfo:
        return FeedInfo(
            target=str(ref),
            url=ref.locator,
            title=str(facts.get("title") or ""),
            site=facts.get("link"),
            total=int(facts.get("total") or 0),
            kept=len(facts.get("entries") or ()),
        )

    def _warn_once(self, ref: str, problem: str, count: int) -> None:
        """An ill-formed feed that still yields entries is used; say why once per process."""
        kind = problem.split(":", 1)[0]
        if (ref, kind) in self._warned:
            return
        self._warned.add((ref, kind))
        log.info(
            "feed is ill-formed but usable target=%s entries=%d reason=%s", ref, count, problem
        )


REWRITE = "ids-rewritten"  # Change.after of the one change that stands for a rewritten feed


def _raise_for_status(resp: Response, url: str) -> None:
    """Anything but a 200 is a failed check (a 404 feed is a watch to fix, not news)."""
    if resp.status == 200:
        return
    host = urlsplit(url).netloc
    wording = {
        code: (
            msg("{host} says the feed does not exist (HTTP {status})", host=host, status=str(code)),
            http_reason(code),
        )
        for code in (404, 410)
    }
    raise status_error(resp.status, resp.headers, site=host, wording=wording) or SourceError(
        msg("{site} answered HTTP {status}", site=host, status=str(resp.status)),
        reason=http_reason(resp.status),
    )


def _header(resp: Response, name: str) -> str | None:
    """A response header by name, whatever its case (``Response.headers`` is a plain dict
    with the names as they came: aiohttp servers say ``Etag``, HTTP/2 says ``etag``)."""
    for key, value in resp.headers.items():
        if key.lower() == name:
            return value or None
    return None
