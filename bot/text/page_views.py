"""A page body to the facts of its views: each view's region (``select``) as normalised lines
without the lines its ``ignore`` rules drop, compressed (every version is kept).

The worker pool's page job (:func:`extract_views`) lives here, in a pure module, because a
worker process imports the module of each job it runs: :mod:`bot.sources.page` would bring the
HTTP client, the settings and every other source with it (issue 14: the first parse of a
cycle waits for that import). :mod:`bot.sources.page` marks it fit for a worker process.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from bot.domain.errors import FailureReason, SourceError
from bot.domain.facts import PageFacts, PageView
from bot.i18n import msg
from bot.text.html_text import (
    BadSelector,
    NoText,
    SelectorEmpty,
    compile_ignore,
    html_lines,
    page_title,
    text_lines,
)
from bot.text.userregex import BadPattern, Rule

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/markdown")

# Marks a version whose ignore rules dropped whole lines (the semantics since issue 13); a
# stored version without it was extracted when they cut only the matched text.
IGNORE_DROPS_LINES = "lines"


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
