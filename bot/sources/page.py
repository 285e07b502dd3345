"""Web pages (``page:<url>``): pricing and terms pages, compared as normalised text.

Fetch through :mod:`bot.net` (SSRF guard on every hop, conditional GET, size cap, timeouts),
keep the region that matters (``select``, default the main content) as normalised lines
(:mod:`bot.text.html_text`), and report a change only when that text changed
(:mod:`bot.text.diff`). A body identical to the last one (same sha256) is not even parsed.

Select/ignore are each subscription's own *view* (design §2): the page is fetched once, each
distinct view extracted from that one body, and the facts hold one version per view key
(``{"views": {key: version}}``), so channels watching one URL never change what the others see.

Every version is kept, compressed, in the snapshot's facts; failures carry a typed reason
(``dns``, ``refused``, ``bot-block``, ``not-found``, ``timeout``, ``selector-empty``,
``too-large``, ``redirects``, ``unsafe-url`` …) for the one health alert a failing watch gets.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from bot.config import Settings
from bot.cpu import process_safe, run_heavy
from bot.detect.history import History
from bot.domain.errors import FailureReason, Reason, SourceError, http_reason
from bot.domain.facts import PageFacts, PageView
from bot.domain.model import (
    Change,
    ChangeKind,
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
from bot.text.diff import diff_lines, pricing_points, same_text, severity_of, summarise
from bot.text.html_text import (
    BadSelector,
    NoText,
    SelectorEmpty,
    compile_ignore,
    html_lines,
    page_title,
    text_lines,
)
from bot.text.pricing import MAX_POINTS
from bot.text.userregex import BadPattern, Rule

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/markdown")
DEFAULT_VIEW = "{}"  # the view of a subscription without select/ignore: the main content


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
                    before[key] = _detected_part(old)
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
            if _same_version(old, new):
                out[key] = []
            else:
                sent[key] = (_detected_part(old), _detected_part(new))
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


def pack(lines: Sequence[str]) -> PageView:
    """Facts of one version: the lines, zlib-compressed (every version is kept)."""
    text = "\n".join(lines).encode()
    return {
        "text_z": base64.b64encode(zlib.compress(text, 9)).decode("ascii"),
        "lines": len(lines),
        "sha256": hashlib.sha256(text).hexdigest(),
    }


def unpack(facts: PageView) -> list[str]:
    blob = facts.get("text_z")
    if not isinstance(blob, str) or not blob:
        return []
    return zlib.decompress(base64.b64decode(blob)).decode().split("\n")


@lru_cache(maxsize=256)
def _rules(patterns: tuple[str, ...]) -> tuple[Rule, ...]:
    return compile_ignore(patterns)


def view_of(options: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a subscription's options that decides what text it sees."""
    view: dict[str, Any] = {}
    select = options.get("select")
    if isinstance(select, str) and select.strip():
        view["select"] = select.strip()
    ignore = [p for p in options.get("ignore") or () if isinstance(p, str) and p]
    if ignore:
        view["ignore"] = ignore
    return view


def view_key(options: Mapping[str, Any]) -> str:
    """Canonical JSON of the view: equal views share one extraction and one version."""
    return json.dumps(view_of(options), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@process_safe
def extract_views(
    body: bytes, content_type: str, url: str, views: Mapping[str, Mapping[str, Any]]
) -> PageFacts:
    """Runs in a worker process (or thread): every view of one body, sent there once. A view
    whose selector matches nothing (or that leaves no text) fails alone, as an ``error``
    entry; when every view fails the same way it is the target that fails (the body is the
    problem), as before views. Ignore rules travel as patterns and are compiled here (cached
    per process): RE2 objects do not pickle."""
    out: dict[str, PageView] = {}
    failures: list[SourceError] = []
    title = _title(body, content_type)
    for key, view in views.items():
        ignore = tuple(view.get("ignore") or ())
        try:
            lines = _extract(body, content_type, url, view.get("select"), ignore)
        except SourceError as e:
            if e.reason not in _VIEW_REASONS:
                raise  # not a page at all: no view can do better
            failures.append(e)
            out[key] = {"error": {"reason": e.reason, "message": str(e)}}
            continue
        entry = pack(lines)
        if title:
            entry["title"] = title
        if ignore:
            entry["ignore"] = IGNORE_DROPS_LINES
        out[key] = entry
    if len(failures) == len(views):
        raise failures[0]
    return {"views": out}


@process_safe
def extract_and_detect(
    body: bytes,
    content_type: str,
    url: str,
    views: Mapping[str, Mapping[str, Any]],
    before: Mapping[str, PageView],
    max_lines: int,
) -> tuple[PageFacts, dict[str, list[Change]]]:
    """Runs in a worker process (or thread): :func:`extract_views`, then each view that has
    a version in ``before`` compared with it (:func:`detect_view`), in one job. A view that
    failed on its own (an ``error`` entry, no text) compares as no change, as it does once
    the checker carried its last good text."""
    facts = extract_views(body, content_type, url, views)
    extracted = facts.get("views") or {}
    detected: dict[str, list[Change]] = {}
    for key, old in before.items():
        new = extracted.get(key)
        if new is not None:
            detected[key] = [] if _same_version(old, new) else detect_view(old, new, max_lines)
    return facts, detected


@process_safe
def detect_each(
    pairs: Mapping[str, tuple[PageView, PageView]], max_lines: int
) -> dict[str, list[Change]]:
    """Runs in a worker process (or thread): :func:`detect_view` for every view of one
    check, sent there together (one round trip per changed page)."""
    return {key: detect_view(old, new, max_lines) for key, (old, new) in pairs.items()}


def detect_view(prev: PageView, new: PageView, max_lines: int) -> list[Change]:
    """What changed between two versions of one view (pure): the diff of their lines, with
    the prices and quotas it moved."""
    if not prev.get("text_z") or not new.get("text_z"):
        return []  # a version without text (another format) is a new baseline, not a change
    if prev.get("ignore") != new.get("ignore"):
        # Extracted under other ignore semantics (before ignore rules dropped whole lines):
        # the lines they now drop would read as removed. A new baseline, silently.
        return []
    old_lines, new_lines = unpack(prev), unpack(new)
    if same_text(old_lines, new_lines):
        return []  # only whitespace or line breaks moved: a new version, not a change
    diff = diff_lines(old_lines, new_lines, max_lines=max_lines)
    if diff.empty:
        return []
    points = pricing_points(diff)
    shown = [p.said for p in points[:MAX_POINTS]]
    if len(points) > MAX_POINTS:
        shown.append(msg("… and {n} more in the diff below", n=len(points) - MAX_POINTS))
    title = new.get("title")
    return [
        Change(
            ChangeKind.CONTENT,
            severity_of(diff, points),
            msg("Page text changed: {what}", what=summarise(diff, points=points)),
            detail=diff.text,
            subject=title if isinstance(title, str) and title else None,
            points=tuple(shown),
        )
    ]


def _detected_part(view: PageView) -> PageView:
    """What :func:`detect_view` (and :func:`_same_version`) read of a version: all of it
    that goes to the worker."""
    part: PageView = {}
    if "sha256" in view:
        part["sha256"] = view["sha256"]
    if "text_z" in view:
        part["text_z"] = view["text_z"]
    if "ignore" in view:
        part["ignore"] = view["ignore"]
    if "title" in view:
        part["title"] = view["title"]
    return part


def _same_version(old: PageView, new: PageView) -> bool:
    """Both versions hold text, extracted the same way, with the same sha256: no change
    (what :func:`detect_view` would answer after decompressing both)."""
    digest = old.get("sha256")
    return (
        bool(old.get("text_z"))
        and bool(new.get("text_z"))
        and old.get("ignore") == new.get("ignore")
        and isinstance(digest, str)
        and bool(digest)
        and digest == new.get("sha256")
    )


# Marks a version whose ignore rules dropped whole lines (the semantics since issue 13); a
# stored version without it was extracted when they cut only the matched text.
IGNORE_DROPS_LINES = "lines"


def _title(body: bytes, content_type: str) -> str | None:
    mime, charset = _content_type(content_type)
    if mime in _HTML_TYPES or (not mime and _looks_html(body)):
        try:
            return page_title(body, charset)
        except LookupError:
            return None
    return None


_VIEW_REASONS = frozenset({FailureReason.SELECTOR_EMPTY, FailureReason.NO_TEXT})


def _extract(
    body: bytes, content_type: str, url: str, select: str | None, ignore: tuple[str, ...]
) -> list[str]:
    mime, charset = _content_type(content_type)
    try:
        rules = _rules(ignore)
    except BadPattern as e:  # stored before RE2 was the engine: the watch must be fixed
        raise SourceError(
            msg("ignore rule refused: {why}", why=str(e)), reason=FailureReason.BAD_IGNORE
        ) from None
    try:
        if mime in _TEXT_TYPES and not select:
            return text_lines(body.decode(charset or "utf-8", "replace"), ignore=rules)
        if mime in _HTML_TYPES or mime in _TEXT_TYPES or (not mime and _looks_html(body)):
            return html_lines(body, select=select, ignore=rules, encoding=charset)
    except SelectorEmpty as e:
        raise SourceError(str(e), reason=FailureReason.SELECTOR_EMPTY) from None
    except NoText as e:
        raise SourceError(str(e), reason=FailureReason.NO_TEXT) from None
    except BadSelector as e:  # stored before lexbor ran selectors: the watch must be fixed
        raise SourceError(str(e), reason=FailureReason.BAD_SELECTOR) from None
    raise SourceError(
        msg("{url} serves {mime}, not a web page", url=url, mime=mime or msg("an unknown type")),
        reason=FailureReason.NOT_A_PAGE,
    )


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


def _content_type(header: str) -> tuple[str, str | None]:
    mime, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            candidate = value.strip().strip("\"'")
            try:
                charset = codecs.lookup(candidate).name
            except LookupError:
                charset = None
    return mime.strip().lower(), charset


def _looks_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<"))
