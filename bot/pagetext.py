"""HTML → the region that matters → normalised text lines. Pure.

Only what a reader sees in the region is compared (design §3: "only normalised content is
compared, never raw bytes"), so the noise real sites produce never reaches the diff: scripts
(nonces, inline JSON state), styles, hidden inputs (CSRF tokens), comments, attributes
(cache-busting asset URLs, attribute order), navigation and footers, hidden elements, and
whitespace or line wrapping. Block elements become lines; table cells are joined with " | "
so a pricing row stays readable on one line.

BeautifulSoup with the standard library's ``html.parser``: tolerant of broken markup, no
native dependency, and fast enough (see ``bench/``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence

from bs4 import BeautifulSoup
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag
from soupsieve import SelectorSyntaxError

from bot.userregex import Rule, compile_user

# Never text a reader sees, wherever they are.
_DROP = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object",
        "embed", "input", "select", "textarea", "datalist", "head", "link", "meta", "title",
        "base",
    }
)  # fmt: skip
# Page chrome: dropped inside the region, kept when the user selects it on purpose.
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
# Private-use characters mark structure while the text is gathered (text nodes hold "\n").
_CELL = "\ue000"  # a table cell starts
_BREAK = "\ue001"  # a block starts or ends
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # icon-font glyphs in text: never words

_CHAR_FOLDS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
        "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None,
        "\u00ad": None, "\u2063": None,
    }
)  # fmt: skip

# "updated 3 minutes ago", "about an hour ago", "just now": always noise, never terms.
# On RE2 like the user's rules: it scans upstream text (a line of a million digits must not
# cost a million squared steps, as ``\d+\s+`` does on a backtracking engine).
RELATIVE_TIME = compile_user(
    r"(?i)(?:\b(?:about|over|almost|nearly|less than)\s+)?"
    r"\b(?:\d+|an?|one|a few)\s+"
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\b"
    r"|\bjust now\b"
)
DEFAULT_NOISE: tuple[Rule, ...] = (RELATIVE_TIME,)


class SelectorEmpty(ValueError):
    """The ``select`` CSS selector matched nothing on the page."""


class NoText(ValueError):
    """The region holds no text at all (a page built by JavaScript, or an empty body)."""


def check_selector(css: str) -> None:
    """Raise ValueError with a readable message when ``css`` is not a valid CSS selector."""
    try:
        BeautifulSoup("", "html.parser").select(css)
    except SelectorSyntaxError as e:
        raise ValueError(f"{css!r} is not a valid CSS selector: {str(e).splitlines()[0]}") from e


def compile_ignore(patterns: Iterable[str]) -> tuple[Rule, ...]:
    """The user's ignore regexes, on RE2 (linear time whatever the pattern or the page).

    Validated when the watch is created: raises :class:`~bot.userregex.BadPattern` (a
    ValueError) naming the construct RE2 cannot run (backreferences, lookaround …).
    """
    return tuple(compile_user(p) for p in patterns)


def normalise_line(text: str) -> str:
    """One line as it is compared: NFKC, typographic quotes/dashes folded, whitespace folded."""
    text = unicodedata.normalize("NFKC", text).translate(_CHAR_FOLDS)
    return " ".join(text.split())


def clean_lines(raw: Iterable[str], ignore: Sequence[Rule] = (), noise: bool = True) -> list[str]:
    """Normalise lines, drop the lines ``ignore`` matches, cut the built-in noise, drop empties.

    A user's ignore rule drops every line it matches anywhere in (:func:`apply_ignore`), so
    ``Last updated`` silences "Last updated: 1 Nov 2026" whole. The built-in noise rules cut
    only what they match: "Pricing, updated 3 minutes ago" keeps "Pricing, updated".
    """
    kept = apply_ignore((normalise_line(line) for line in raw), ignore)
    out: list[str] = []
    for line in kept:
        text = line
        for rule in DEFAULT_NOISE if noise else ():
            if text:
                text = rule.sub("", text)
        text = " ".join(text.split())
        if text:
            out.append(text)
    return out


def apply_ignore(lines: Iterable[str], rules: Sequence[Rule]) -> list[str]:
    """The non-empty ``lines`` no rule matches (design §2: "regexes of lines to drop", as
    changedetection.io's "ignore text"). Lines are normalised already; rules run on RE2."""
    return [line for line in lines if line and not any(r.search(line) for r in rules)]


# A page's <title>, read from the head of the body without a parse (any parser may call it).
_TITLE = compile_user(r"(?is)<title(?:\s[^>]*)?>(.*?)</title\s*>")
TITLE_SCAN = 65_536  # characters of the body searched for <title>
TITLE_MAX = 120


def page_title(body: str | bytes, encoding: str | None = None) -> str | None:
    """The page's ``<title>``, normalised and at most ``TITLE_MAX`` characters, or None.

    What an alert calls the page ("Terms of Service · huggingface.co"), so readers need not
    recognise a URL. Only the first ``TITLE_SCAN`` characters are searched (the head).
    """
    if isinstance(body, bytes):
        head = body[: TITLE_SCAN * 4].decode(encoding or "utf-8", "replace")[:TITLE_SCAN]
    else:
        head = body[:TITLE_SCAN]
    found = _TITLE.search(head)
    if found is None:
        return None
    title = normalise_line(html.unescape(_TAGS.sub(" ", found.group(1))))
    if not title:
        return None
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


_TAGS = compile_user(r"<[^>]*>")


def html_lines(
    html: str | bytes,
    *,
    select: str | None = None,
    ignore: Sequence[Rule] = (),
    encoding: str | None = None,
) -> list[str]:
    """The normalised text lines of the region of ``html`` that matters.

    ``select`` is a CSS selector (every match, in document order); without it the region is
    ``<main>``, else ``[role=main]``, else the only ``<article>``, else ``<body>``.
    Raises :class:`SelectorEmpty` or :class:`NoText`.
    """
    soup = BeautifulSoup(
        html, "html.parser", from_encoding=encoding if isinstance(html, bytes) else None
    )
    roots = _region(soup, select)
    lines = clean_lines(_raw_lines(roots), ignore)
    if not lines:
        raise NoText("the selected region has no text (the page may need JavaScript)")
    return lines


def text_lines(text: str, *, ignore: Sequence[Rule] = ()) -> list[str]:
    """Lines of a plain-text or Markdown document (``text/plain`` pages, OTA versions)."""
    lines = clean_lines(text.splitlines(), ignore)
    if not lines:
        raise NoText("the document has no text")
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
    """Drop matches nested in another match, so no text is read twice."""
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
    """Walk the region without recursion (deep markup cannot overflow the stack)."""
    parts: list[str] = []
    for root in roots:
        parts.append(_BREAK)
        stack: list[object] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, str) and not isinstance(node, NavigableString):
                parts.append(node)  # a marker pushed below
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
