"""HTML → the region that matters → normalised text lines. Pure.

Only what a reader sees in the region is compared (design §3: "only normalised content is
compared, never raw bytes"), so the noise real sites produce never reaches the diff: scripts
(nonces, inline JSON state), styles, hidden inputs (CSRF tokens), comments, attributes
(cache-busting asset URLs, attribute order), navigation and footers, hidden elements, and
whitespace or line wrapping. Block elements become lines; table cells are joined with " | "
so a pricing row stays readable on one line.

Parsed by lexbor (``selectolax``): an HTML5 parser in C that builds the tree a browser builds,
with CSS selectors, about 40x faster than BeautifulSoup's ``html.parser`` on a 20 KB pricing
page (``docs/benchmarks.md``, issue 14). The extraction is written against the tree rather than
as a Python walk over every node: CSS finds what to drop and where lines and cells start, the
structure is marked with text nodes, and lexbor gathers the text in one call.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from bot.text.userregex import Rule, compile_user

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
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Noncharacters mark structure in the region's text (text nodes hold "\n"); they lie outside
# the private-use range removed below, so removing icon glyphs never removes a marker.
_CELL = "\ufdd0"  # a table cell starts
_BREAK = "\ufdd1"  # a block starts or ends
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


class BadSelector(ValueError):
    """The ``select`` CSS selector cannot be parsed by lexbor, the engine that runs it."""


_EMPTY = LexborHTMLParser("")


def check_selector(css: str) -> None:
    """Raise ValueError with a readable message when ``css`` is not a valid CSS selector."""
    try:
        _EMPTY.css(css)
    except SelectolaxError:
        raise BadSelector(f"{css!r} is not a valid CSS selector{_why_bad(css)}") from None


def _why_bad(css: str) -> str:
    """Where the selector goes wrong, in soupsieve's words (lexbor only says it cannot parse
    it); empty when soupsieve would accept it (a construct lexbor does not support)."""
    import warnings

    import soupsieve  # only when a user typed a bad selector

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ":contains is deprecated" and the like
            soupsieve.compile(css)
    except soupsieve.SelectorSyntaxError as e:
        return ": " + str(e).splitlines()[0]
    return " here (the page parser does not support it)"


def compile_ignore(patterns: Iterable[str]) -> tuple[Rule, ...]:
    """The user's ignore regexes, on RE2 (linear time whatever the pattern or the page).

    Validated when the watch is created: raises :class:`~bot.text.userregex.BadPattern` (a
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
    ``encoding`` is the charset the server declared (it wins, as in a browser); without one a
    byte-order mark or ``<meta charset>`` decides, else UTF-8.
    Raises :class:`SelectorEmpty`, :class:`BadSelector` or :class:`NoText`.
    """
    lines = clean_lines(_raw_lines(_parse(html, encoding), select), ignore)
    if not lines:
        raise NoText("the selected region has no text (the page may need JavaScript)")
    return lines


def text_lines(text: str, *, ignore: Sequence[Rule] = ()) -> list[str]:
    """Lines of a plain-text or Markdown document (``text/plain`` pages, OTA versions)."""
    lines = clean_lines(text.splitlines(), ignore)
    if not lines:
        raise NoText("the document has no text")
    return lines


def _parse(html: str | bytes, encoding: str | None) -> LexborHTMLParser:
    # Scripting on, as in a browser that runs scripts: a <noscript> is one text node, dropped.
    if isinstance(html, str):
        return LexborHTMLParser(html, scripting=True)
    if encoding is not None and encoding != "utf-8":
        return LexborHTMLParser(html.decode(encoding, "replace"), scripting=True)
    return LexborHTMLParser(html, scripting=True, encoding=encoding is None)


def _region(tree: LexborHTMLParser, select: str | None) -> list[LexborNode]:
    if select:
        try:
            found = tree.css(select)
        except SelectolaxError:
            raise BadSelector(f"{select!r} is not a valid CSS selector{_why_bad(select)}") from None
        if not found:
            raise SelectorEmpty(f"the selector {select!r} matches nothing on the page")
        return _outermost(found)
    for query in ("main", "[role=main]"):
        candidate = tree.css_first(query)
        if candidate is not None:
            return [candidate]
    articles = tree.css("article")
    if len(articles) == 1:
        return articles
    root = tree.body or tree.root  # the HTML5 tree always has a <body>
    if root is None:
        raise NoText("the page is empty")
    return [root]


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """Drop matches nested in another match (and repeats), so no text is read twice."""
    chosen = {n.mem_id for n in nodes}
    out: list[LexborNode] = []
    seen: set[int] = set()
    for node in nodes:
        if node.mem_id in seen:
            continue
        seen.add(node.mem_id)
        parent = node.parent
        while parent is not None and parent.mem_id not in chosen:
            parent = parent.parent
        if parent is None:
            out.append(node)
    return out


# Elements that may be dropped, each verified by _dropped (CSS cannot say "aria-hidden is
# 'true' in any case" or run the style regex).
_DROP_QUERY = ",".join(
    [
        *sorted(_DROP | _CHROME),
        "[role=navigation]",
        "[role=contentinfo]",
        "[hidden]",
        "[aria-hidden]",
        "[type=hidden]",
        "[style*=display i]",
        "[style*=visibility i]",
    ]
)
_MARK_QUERY = ",".join(sorted(_BLOCK | _CELLS | {"br"}))


def _dropped(node: LexborNode) -> bool:
    if node.tag in _DROP or node.tag in _CHROME:
        return True
    attrs = node.attributes
    if attrs.get("role") in _CHROME_ROLES or "hidden" in attrs:
        return True
    if (attrs.get("aria-hidden") or "").lower() == "true" or attrs.get("type") == "hidden":
        return True
    style = attrs.get("style")
    return style is not None and bool(_HIDDEN_STYLE.search(style))


def _raw_lines(tree: LexborHTMLParser, select: str | None) -> list[str]:
    """The region's text with its block, line-break and cell structure, as raw lines.

    What is never read is detached from the tree (not destroyed: a match nested in a detached
    one stays valid); blocks, ``<br>`` and cells get marker text nodes; then one ``text()``
    per region root gathers every text node (comments are not text nodes).
    """
    parts: list[str] = []
    for root in _region(tree, select):
        own = root.mem_id
        for node in root.css(_DROP_QUERY):
            if node.mem_id != own and _dropped(node):
                node.remove()
        for node in root.css(_MARK_QUERY):
            if node.mem_id == own:
                continue
            tag = node.tag
            if tag in _CELLS:
                node.insert_before(_CELL)
            elif tag == "br":
                node.insert_before(_BREAK)
            else:
                node.insert_before(_BREAK)
                node.insert_after(_BREAK)
        parts.append(_BREAK)
        tag = root.tag or ""
        if tag == "br":
            parts.append(_BREAK)
            continue
        block = tag in _BLOCK
        parts.append(_CELL if tag in _CELLS else _BREAK if block else "")
        parts.append(_PRIVATE_USE.sub("", root.text(deep=True)))
        parts.append(_BREAK if block else "")
    lines = []
    for line in "".join(parts).split(_BREAK):
        cells = [" ".join(c.split()) for c in line.split(_CELL)]
        lines.append(" | ".join(c for c in cells if c))
    return lines
