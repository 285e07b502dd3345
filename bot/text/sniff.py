"""Tell a feed from a web page by its content type and first bytes. Pure.

A bare URL given to ``watch`` is fetched once and judged here, so the target is stored as
``feed:<url>`` or ``page:<url>`` and never sniffed again. Servers lie about content types
(feeds go out as ``text/html``, ``text/plain`` or ``application/octet-stream``; pages as
``text/xml``), so the root element of the document decides whenever it can be read; the
content type only breaks ties.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin

Kind = Literal["feed", "page"]

# How much of a body is looked at: enough for a long XML prolog or an HTML <head>.
HEAD_BYTES = 64 * 1024

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/rss",
        "application/x-rss+xml",
        "application/x-atom+xml",
    }
)
_FEED_ROOTS = frozenset({"rss", "feed", "rdf:rdf", "rdf", "channel"})
_PAGE_ROOTS = frozenset({"html", "head", "body"})
# Prolog items that may come before the root element: declarations, comments, PIs, DOCTYPE.
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_ROOT = re.compile(r"\s*<([a-z][\w:.-]*)", re.I)
# [^<>], not [^>]: a scan stops at the next tag, so many unclosed "<link" cost linear time.
_ALTERNATE = re.compile(r"<link\b[^<>]*>", re.I)
_ATTR = re.compile(r"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: Kind
    why: str  # a few words for logs and replies: "root element <rss>"
    feeds: tuple[str, ...] = ()  # feeds a page advertises with <link rel="alternate">


def media_type(content_type: str | None) -> str:
    """``"Text/HTML; charset=utf-8"`` → ``"text/html"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_head(body: bytes) -> str:
    """The first bytes as text: BOMs and UTF-16 without a BOM are recognised, the rest is
    read as UTF-8 with replacement (markup names are ASCII, so that is enough to judge)."""
    head = body[:HEAD_BYTES]
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    if len(head) >= 4 and head[0] == ord("<") and head[1] == 0:
        return head.decode("utf-16-le", errors="replace")
    if len(head) >= 4 and head[0] == 0 and head[1] == ord("<"):
        return head.decode("utf-16-be", errors="replace")
    return head.decode("utf-8", errors="replace")


def root_element(text: str) -> str | None:
    """The lower-cased name of the first element after the prolog, or None (not markup)."""
    pos = 0
    while True:
        match = _PROLOG.match(text, pos)
        if not match or match.end() == pos:
            break
        pos = match.end()
    root = _ROOT.match(text, pos)
    return root.group(1).lower() if root else None


def looks_like_html(content_type: str | None, body: bytes) -> bool:
    """True for an HTML document (what a site sends instead of a moved or broken feed)."""
    root = root_element(decode_head(body))
    if root is not None:
        return root in _PAGE_ROOTS
    return media_type(content_type) in ("text/html", "application/xhtml+xml")


def sniff(content_type: str | None, body: bytes, url: str = "") -> Sniffed:
    """Decide whether a response is a feed or a page."""
    text = decode_head(body)
    root = root_element(text)
    mtype = media_type(content_type)
    if root in _FEED_ROOTS:
        return Sniffed("feed", f"root element <{root}>")
    if root in _PAGE_ROOTS:
        return Sniffed("page", f"root element <{root}>", advertised_feeds(text, url))
    if mtype in FEED_TYPES:
        return Sniffed("feed", f"content type {mtype}")
    return Sniffed(
        "page",
        f"content type {mtype or 'none'}" + (f", root element <{root}>" if root else ""),
        advertised_feeds(text, url),
    )


def advertised_feeds(text: str, base_url: str) -> tuple[str, ...]:
    """Feed URLs announced by ``<link rel="alternate" type="application/rss+xml" href=…>``."""
    found: list[str] = []
    for tag in _ALTERNATE.findall(text):
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) for m in _ATTR.finditer(tag)
        }
        rels = (attrs.get("rel") or "").lower().split()
        if (
            "alternate" in rels
            and media_type(attrs.get("type")) in FEED_TYPES
            and attrs.get("href")
        ):
            url = urljoin(base_url, html.unescape(attrs["href"]).strip())
            if url.startswith(("http://", "https://")) and url not in found:
                found.append(url)
    return tuple(found[:3])
