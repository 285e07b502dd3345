"""Web pages (``page:<url>``): pricing and terms pages, compared as normalised text.

Fetch through :mod:`bot.net` (SSRF guard on every hop, conditional GET, size cap, timeouts),
keep the region that matters (``select``, default the main content) as normalised lines
(:mod:`bot.pagetext`), and report a change only when that text changed
(:mod:`bot.textdiff`). A body identical to the last one (same sha256) is not even parsed.

Every version is kept, compressed, in the snapshot's facts; failures carry a typed reason
(``dns``, ``refused``, ``bot-block``, ``not-found``, ``timeout``, ``selector-empty``,
``too-large``, ``redirects``, ``unsafe-url`` …) for the one health alert a failing watch gets.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import aiohttp

from bot.config import Settings
from bot.errors import AccessDenied, RateLimited, SourceError
from bot.model import (
    Change,
    ChangeKind,
    FetchResult,
    Link,
    NotModified,
    Observation,
    TargetRef,
    Validators,
)
from bot.net import Fetched, Guard, Limits, fetch, make_session, retry_after_seconds
from bot.offload import run_heavy
from bot.pagetext import NoText, SelectorEmpty, compile_ignore, html_lines, text_lines
from bot.sources.base import History
from bot.textdiff import diff_lines, same_text, severity_of, summarise
from bot.userregex import BadPattern, Rule

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/markdown")


class PageSource:
    kind = "page"

    def __init__(self, settings: Settings) -> None:
        self._guard = Guard.from_settings(settings)
        self._limits = Limits.from_settings(settings)
        self._session: aiohttp.ClientSession | None = None
        self._parse_concurrency = settings.parse_concurrency
        self._diff_max_lines = settings.diff_max_lines

    def label(self, ref: TargetRef) -> str:
        return "web page"

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        return [Link("Page", str(evidence.get("url") or ref.locator))]

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        if self._session is None or self._session.closed:
            self._session = make_session(
                allow_private=self._guard.allow_private,
                allowed=self._guard.allowed,
                limits=self._limits,
            )
        got = await fetch(
            self._session,
            ref.locator,
            guard=self._guard,
            limits=self._limits,
            validators=validators,
            headers={"Accept": _ACCEPT},
        )
        if got.not_modified:
            return NotModified(got.validators)
        _raise_for_status(got)
        if validators.body_digest and validators.body_digest == got.validators.body_digest:
            return NotModified(got.validators)  # same bytes as last time: nothing to parse
        select = options.get("select") or None
        ignore = tuple(options.get("ignore") or ())
        facts = await run_heavy(self._parse_concurrency, _extract_packed, got, select, ignore)
        evidence = {"url": got.url, "bytes": len(got.body)}
        return Observation(facts=facts, evidence=evidence, validators=got.validators)

    def detect(
        self, prev: Mapping[str, Any], new: Mapping[str, Any], history: History
    ) -> list[Change]:
        if not prev.get("text_z") or not new.get("text_z"):
            return []  # a version without text (another format) is a new baseline, not a change
        old_lines, new_lines = unpack(prev), unpack(new)
        if same_text(old_lines, new_lines):
            return []  # only whitespace or line breaks moved: a new version, not a change
        diff = diff_lines(old_lines, new_lines, max_lines=self._diff_max_lines)
        if diff.empty:
            return []
        return [
            Change(
                ChangeKind.CONTENT,
                severity_of(diff),
                f"Page text changed: {summarise(diff)}",
                detail=diff.text,
            )
        ]

    def describe(self, facts: Mapping[str, Any]) -> str:
        lines = unpack(facts)
        first = lines[0] if lines else ""
        first = first if len(first) <= 80 else first[:79] + "…"
        return f"{len(lines)} line{'s' if len(lines) != 1 else ''} of text, starting “{first}”"

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        return unpack(facts)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def pack(lines: Sequence[str]) -> dict[str, Any]:
    """Facts of one version: the lines, zlib-compressed (every version is kept)."""
    text = "\n".join(lines).encode()
    return {
        "text_z": base64.b64encode(zlib.compress(text, 9)).decode("ascii"),
        "lines": len(lines),
        "sha256": hashlib.sha256(text).hexdigest(),
    }


def unpack(facts: Mapping[str, Any]) -> list[str]:
    blob = facts.get("text_z")
    if not isinstance(blob, str) or not blob:
        return []
    return zlib.decompress(base64.b64decode(blob)).decode().split("\n")


@lru_cache(maxsize=256)
def _rules(patterns: tuple[str, ...]) -> tuple[Rule, ...]:
    return compile_ignore(patterns)


def _extract_packed(got: Fetched, select: str | None, ignore: tuple[str, ...]) -> dict[str, Any]:
    """Runs in a worker thread: parsing, cleaning and compressing a large page (up to the
    5 MB cap) must not stall the event loop."""
    return pack(_extract(got, select, ignore))


def _extract(got: Fetched, select: str | None, ignore: tuple[str, ...]) -> list[str]:
    mime, charset = _content_type(got.headers.get("Content-Type", ""))
    try:
        rules = _rules(ignore)
    except BadPattern as e:  # stored before RE2 was the engine: the watch must be fixed
        raise SourceError(f"ignore rule refused: {e}", reason="bad-ignore") from None
    try:
        if mime in _TEXT_TYPES and not select:
            return text_lines(got.body.decode(charset or "utf-8", "replace"), ignore=rules)
        if mime in _HTML_TYPES or mime in _TEXT_TYPES or (not mime and _looks_html(got.body)):
            return html_lines(got.body, select=select, ignore=rules, encoding=charset)
    except SelectorEmpty as e:
        raise SourceError(str(e), reason="selector-empty") from None
    except NoText as e:
        raise SourceError(str(e), reason="no-text") from None
    raise SourceError(
        f"{got.url} serves {mime or 'an unknown type'}, not a web page", reason="not-a-page"
    )


def _raise_for_status(got: Fetched) -> None:
    status = got.status
    if 200 <= status < 300:
        return
    if status == 403:
        raise AccessDenied("the site refused us (HTTP 403): it may block bots", reason="bot-block")
    if status == 401:
        raise AccessDenied("the page needs a login (HTTP 401)", reason="http-401")
    if status in (404, 410):
        raise SourceError(f"the page is not there (HTTP {status})", reason="not-found")
    if status == 429:
        raise RateLimited(
            "the site asks us to slow down (HTTP 429)",
            reason="rate-limited",
            retry_after=retry_after_seconds(got.headers),
        )
    raise SourceError(f"the site answered HTTP {status}", reason=f"http-{status}")


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
