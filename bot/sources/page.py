"""Web pages (``page:<url>``): pricing and terms pages, compared as normalised text.

Fetch through :mod:`bot.net` (SSRF guard on every hop, conditional GET, size cap, timeouts),
keep the region that matters (``select``, default the main content) as normalised lines
(:mod:`bot.text.page_views`), and report a change only when that text changed
(:mod:`bot.detect.page`). A body identical to the last one (same sha256) is not even parsed.
Both run in the worker pool (:mod:`bot.cpu`); this module is the I/O around them.

Select/ignore are each subscription's own *view* (design §2): the page is fetched once, each
distinct view extracted from that one body, and the facts hold one version per view key
(``{"views": {key: version}}``), so channels watching one URL never change what the others see.

Every version is kept, compressed, in the snapshot's facts; failures carry a typed reason
(``dns``, ``refused``, ``bot-block``, ``not-found``, ``timeout``, ``selector-empty``,
``too-large``, ``redirects``, ``unsafe-url`` …) for the one health alert a failing watch gets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.config import Settings
from bot.cpu import process_safe, run_heavy
from bot.detect.history import History
from bot.detect.page import (
    detect_each,
    detect_view,
    detected_part,
    extract_and_detect,
    same_version,
)
from bot.domain.errors import FailureReason, Reason, http_reason
from bot.domain.facts import PageFacts, PageView
from bot.domain.model import (
    Change,
    FetchResult,
    Link,
    NotModified,
    Observation,
    TargetRef,
    Validators,
)
from bot.i18n import msg, nmsg
from bot.net import Fetched, HttpClient, status_error
from bot.sources.base import Detected, Views
from bot.text.page_views import extract_views, unpack, view_key, view_of

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
DEFAULT_VIEW = "{}"  # the view of a subscription without select/ignore: the main content

# The worker pool's page jobs: pure functions of pure modules, so that a worker process imports
# only the parsers (bot.cpu.PRELOAD), never this module's HTTP client, settings and siblings.
process_safe(extract_views)
process_safe(extract_and_detect)
process_safe(detect_each)


class PageSource:
    kind = "page"

    def __init__(self, settings: Settings) -> None:
        self._http = HttpClient.for_users(settings)
        self._parse_concurrency = settings.parse_concurrency
        self._parse_processes = settings.parse_processes
        self._diff_max_lines = settings.diff_max_lines

    def label(self, ref: TargetRef) -> str:
        return msg("web page")

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        return [Link(msg("Page"), str(evidence.get("url") or ref.locator))]

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        """One view (``options``' select/ignore): what a caller without subscriptions sees."""

        async def one() -> Views:
            return {view_key(options): options}

        return await self.fetch_views(ref, validators, one)

    async def fetch_views(
        self,
        ref: TargetRef,
        validators: Validators,
        views: Callable[[], Awaitable[Views]],
        previous: Callable[[], Awaitable[PageFacts | None]] | None = None,
    ) -> FetchResult:
        """One request, then one extraction per distinct view (asked for only when there is
        a new body to extract). With ``previous``, each view is also compared with its last
        version in the same job (:func:`extract_and_detect`): a changed page costs one
        worker round trip, not two."""
        got = await self._http.fetch(
            ref.locator, validators=validators, headers={"Accept": _ACCEPT}
        )
        if got.not_modified:
            return NotModified(got.validators)
        _raise_for_status(got)
        if validators.body_digest and validators.body_digest == got.validators.body_digest:
            return NotModified(got.validators)  # same bytes as last time: nothing to parse
        wanted = {key: view_of(options) for key, options in (await views()).items()}
        evidence = {"url": got.url, "bytes": len(got.body)}
        content_type = got.headers.get("Content-Type", "")
        if previous is not None:
            prev = await previous()
            before = {}
            for key in wanted:
                old = self.view_facts(prev, key) if prev is not None else None
                if old is not None:
                    before[key] = detected_part(old)
            facts, detected = await run_heavy(
                self._parse_concurrency,
                extract_and_detect,
                got.body,
                content_type,
                got.url,
                wanted or {DEFAULT_VIEW: {}},
                before,
                self._diff_max_lines,
                processes=self._parse_processes,
            )
            return Detected(
                facts=facts, evidence=evidence, validators=got.validators, detected=detected
            )
        facts = await run_heavy(
            self._parse_concurrency,
            extract_views,
            got.body,
            content_type,
            got.url,
            wanted or {DEFAULT_VIEW: {}},
            processes=self._parse_processes,
        )
        return Observation(facts=facts, evidence=evidence, validators=got.validators)

    def view_key(self, options: Mapping[str, Any]) -> str:
        return view_key(options)

    def view_facts(self, facts: PageFacts, key: str) -> PageView | None:
        views = facts.get("views")
        if not isinstance(views, Mapping):
            return None
        found = views.get(key)
        return found if isinstance(found, Mapping) else None

    def carry(self, prev: PageFacts | None, new: PageFacts) -> PageFacts:
        """A view that failed on its own keeps its last good text (and says why it failed),
        so nothing is compared with an empty version and its recovery diffs against it."""
        out = new.copy()
        views = dict(new.get("views") or {})
        for key, entry in views.items():
            old = self.view_facts(prev, key) if prev is not None else None
            error = entry.get("error")
            if error and old is not None and old.get("text_z"):
                kept = old.copy()
                kept.pop("error", None)
                kept["error"] = error
                views[key] = kept
        out["views"] = views
        return out

    def detect(self, prev: PageView, new: PageView, history: History) -> list[Change]:
        return detect_view(prev, new, self._diff_max_lines)

    # Detection reads only the two versions of a view: the checker need not read the
    # snapshot before the previous one (nor decode its JSON) for a page.
    reads_earlier = False

    async def detect_views(
        self, pairs: Mapping[str, tuple[PageView, PageView, History]]
    ) -> dict[str, list[Change]]:
        """Every view of one check compared in ONE job of the worker pool (a process when
        ``parse_processes`` > 0, else a thread): diffing and reading prices is the CPU of a
        changed page, and in the bot's process it took the GIL from the event loop (issue 14).
        A view whose text is unchanged (same sha256) is answered here, without a job."""
        sent: dict[str, tuple[PageView, PageView]] = {}
        out: dict[str, list[Change]] = {}
        for key, (old, new, _history) in pairs.items():
            if same_version(old, new):
                out[key] = []
            else:
                sent[key] = (detected_part(old), detected_part(new))
        if sent:
            out.update(
                await run_heavy(
                    self._parse_concurrency,
                    detect_each,
                    sent,
                    self._diff_max_lines,
                    processes=self._parse_processes,
                )
            )
        return {key: out[key] for key in pairs}

    def describe(self, facts: PageView) -> str:
        lines = unpack(facts)
        first = lines[0] if lines else ""
        first = first if len(first) <= 80 else first[:79] + "…"
        text = nmsg(
            "{count} line of text, starting “{first}”",
            "{count} lines of text, starting “{first}”",
            len(lines),
            count=str(len(lines)),  # as it always was written (no thousands separator)
            first=first,
        )
        title = facts.get("title")
        return (
            msg("“{title}”, {text}", title=title, text=text)
            if isinstance(title, str) and title
            else text
        )

    def lines(self, facts: PageView) -> list[str]:
        return unpack(facts)

    async def aclose(self) -> None:
        await self._http.aclose()


_WORDING: dict[int, tuple[str, Reason]] = {
    403: (msg("the site refused us (HTTP 403): it may block bots"), FailureReason.BOT_BLOCK),
    401: (msg("the page needs a login (HTTP 401)"), http_reason(401)),
    404: (msg("the page is not there (HTTP {status})", status="404"), FailureReason.NOT_FOUND),
    410: (msg("the page is not there (HTTP {status})", status="410"), FailureReason.NOT_FOUND),
    429: (msg("the site asks us to slow down (HTTP 429)"), FailureReason.RATE_LIMITED),
}


def _raise_for_status(got: Fetched) -> None:
    error = status_error(got.status, got.headers, site=msg("the site"), wording=_WORDING)
    if error is not None:
        raise error
