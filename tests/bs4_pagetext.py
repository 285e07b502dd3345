"""The BeautifulSoup (``html.parser``) extraction policybot used before issue 14, kept only as
the reference the lexbor extraction is compared with (``tests/test_extraction_parity.py``).

Verbatim from ``bot/text/html_text.py`` at ce1fcf2 (region choice and tree walk); the line cleaning
(normalise, noise and ignore rules) is the shared :func:`bot.text.html_text.clean_lines`, so only
the parse and the walk are compared. bs4 stays a dependency (feed summaries use it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bs4 import BeautifulSoup
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from bot.text.html_text import NoText, SelectorEmpty, clean_lines
from bot.text.userregex import Rule

_DROP = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object",
        "embed", "input", "select", "textarea", "datalist", "head", "link", "meta", "title",
        "base",
    }
)  # fmt: skip
_CHROME = frozenset({"nav", "footer"})
_CHROME_ROLES = frozenset({"navigation", "contentinfo"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main",
        "menu", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
        "tr", "ul", "option",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CELL = "\ue000"
_BREAK = "\ue001"
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def bs4_html_lines(
    html: str | bytes,
    *,
    select: str | None = None,
    ignore: Sequence[Rule] = (),
    encoding: str | None = None,
) -> list[str]:
    soup = BeautifulSoup(
        html, "html.parser", from_encoding=encoding if isinstance(html, bytes) else None
    )
    roots = _region(soup, select)
    lines = clean_lines(_raw_lines(roots), ignore)
    if not lines:
        raise NoText("the selected region has no text (the page may need JavaScript)")
    return lines


def _region(soup: BeautifulSoup, select: str | None) -> list[Tag]:
    if select:
        found = [t for t in soup.select(select) if isinstance(t, Tag)]
        if not found:
            raise SelectorEmpty(f"the selector {select!r} matches nothing on the page")
        return _outermost(found)
    for candidate in (soup.find("main"), soup.find(None, {"role": "main"})):
        if isinstance(candidate, Tag):
            return [candidate]
    articles = soup.find_all("article")
    if len(articles) == 1 and isinstance(articles[0], Tag):
        return [articles[0]]
    body = soup.find("body")
    return [body if isinstance(body, Tag) else soup]


def _outermost(tags: list[Tag]) -> list[Tag]:
    chosen = {id(t) for t in tags}
    return [t for t in tags if not any(id(p) in chosen for p in t.parents)]


def _hidden(tag: Tag) -> bool:
    attrs = tag.attrs
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if attrs.get("type") == "hidden":
        return True
    style = attrs.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE.search(style))


def _dropped(tag: Tag) -> bool:
    name = tag.name
    if name in _DROP or name in _CHROME:
        return True
    role = tag.attrs.get("role")
    return (isinstance(role, str) and role in _CHROME_ROLES) or _hidden(tag)


def _raw_lines(roots: Sequence[Tag]) -> list[str]:
    parts: list[str] = []
    for root in roots:
        parts.append(_BREAK)
        stack: list[object] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, str) and not isinstance(node, NavigableString):
                parts.append(node)
            elif isinstance(node, NavigableString):
                if not isinstance(node, _NOT_TEXT):
                    parts.append(_PRIVATE_USE.sub("", node))
            elif isinstance(node, Tag):
                if node is not root and _dropped(node):
                    continue
                name = node.name
                if name == "br":
                    parts.append(_BREAK)
                    continue
                if name in _CELLS:
                    parts.append(_CELL)
                elif name in _BLOCK:
                    parts.append(_BREAK)
                    stack.append(_BREAK)
                stack.extend(reversed(node.contents))
    lines = []
    for line in "".join(parts).split(_BREAK):
        cells = [" ".join(c.split()) for c in line.split(_CELL)]
        lines.append(" | ".join(c for c in cells if c))
    return lines
