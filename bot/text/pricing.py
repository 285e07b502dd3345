"""Prices, percentages, quotas and plans in changed lines, told in numbers. Pure.

A reader of a pricing page wants "Team: $12 → $15 per seat / month (+25 %)", not a warning
because the terms say "royalty-free" somewhere. So the figures of each changed line are read on
both sides and compared: money in any common notation ($12, 12 €, 12,50 €, USD 12, 12 EUR,
¥1,200, $1.5k), percentages, quotas (a number with a countable unit: "up to 3 projects",
"1,000 API calls per month", "10 GB", "unlimited seats"), each with its period ("per seat per
month", "/user/mo", "a year"); and plan names ("Pro plan", "free tier", a pricing-table row
headed "Enterprise"). A figure only one side has is added or removed; one that merely moved to
another line is neither. A number without a currency, percent sign or countable unit (a date,
a section number, "30 days") is not a figure.

Deterministic (the same lines give the same points, in reading order) and linear: tokens come
from one scan with a linear pattern, and the scanner looks only a few tokens ahead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache

from bot.i18n import msg

MAX_POINTS = 12  # points listed in one alert; the diff below has the rest


class Kind(StrEnum):
    PRICE = "price"
    PERCENTAGE = "percentage"
    QUOTA = "quota"
    PLAN = "plan"


# One scan of a line into tokens. Python's engine, because RE2's Python binding costs more per
# match than the whole scan (10,000 changed lines: 4 s on RE2, well under 1 s here), and this
# pattern is linear on it: every alternative is a single character class run, each repeated
# group starts with a separator the group before cannot match, and a number run is scanned
# once from its first digit (the match ends at its last digit and takes every digit in it).
_TOKEN = re.compile(
    r"(\d[\d,.]*\d|\d)"  # 1 a number
    r"|(US\$|CA\$|A\$|[$€£¥₹])"  # 2 a currency sign
    r"|(%)"  # 3
    r"|(/)"  # 4
    r"|([^\W\d_][^\W_]*(?:[-+'’][^\W\d_][^\W_]*)*\+*)"  # 5 a word ("Plus", "pay-as-you-go", "Pro+")
    r"|(\|)"  # 6 a table cell boundary
    r"|([:;,.()\[\]!?])"  # 7 punctuation that ends a phrase
)
_NUM, _CUR, _PCT, _SLASH, _WORD, _CELL, _PUNCT = range(1, 8)

_SIGNS = {"US$": "$", "CA$": "CA$", "A$": "A$", "$": "$", "€": "€", "£": "£", "¥": "¥", "₹": "₹"}
_CODES = {
    "usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "chf": "CHF", "cad": "CA$",
    "aud": "A$", "cny": "CN¥", "rmb": "CN¥", "sek": "SEK", "nok": "NOK", "dkk": "DKK",
    "pln": "PLN", "brl": "R$", "krw": "₩", "sgd": "S$", "hkd": "HK$", "nzd": "NZ$",
}  # fmt: skip
_CURRENCY_WORDS = {"dollar": "$", "dollars": "$", "euro": "€", "euros": "€", "yen": "¥"}
_CURRENCY_AFTER = frozenset(_CODES) | frozenset(_CURRENCY_WORDS)  # "12 EUR", "100 dollars"
_STARTS = frozenset(_CODES) | {"unlimited"}  # words a figure can start with ("USD 12")
_MAGNITUDES = {
    "k": Decimal(1000), "m": Decimal(10**6), "b": Decimal(10**9), "bn": Decimal(10**9),
    "thousand": Decimal(1000), "million": Decimal(10**6), "billion": Decimal(10**9),
}  # fmt: skip
_SHORT_MAGNITUDES = frozenset({"k", "m", "b", "bn"})  # only glued to the number: "$1.5k"
# What a price is per: normalised names, in the order they are said.
_PER = {
    "user": "user", "users": "user", "seat": "seat", "seats": "seat", "member": "member",
    "members": "member", "editor": "editor", "editors": "editor", "month": "month",
    "months": "month", "mo": "month", "mth": "month", "year": "year", "years": "year",
    "yr": "year", "yrs": "year", "annum": "year", "week": "week", "day": "day", "hour": "hour",
    "hours": "hour", "hr": "hour", "h": "hour", "minute": "minute", "min": "minute",
    "second": "second", "sec": "second", "token": "token", "tokens": "token",
    "request": "request", "requests": "request", "call": "call", "calls": "call",
    "image": "image", "images": "image", "query": "query", "queries": "query", "gb": "GB",
    "tb": "TB", "mb": "MB", "credit": "credit", "credits": "credit", "message": "message",
    "messages": "message", "character": "character", "characters": "character",
    "agent": "agent", "agents": "agent", "gpu": "GPU", "instance": "instance",
}  # fmt: skip
_PER_WORDS = frozenset({"per", "a", "an", "each", "every"})
_PERIOD_ADVERBS = {"monthly": "month", "yearly": "year", "annually": "year", "daily": "day"}
# Countable things a plan gives a number of (singular form).
_QUOTA_UNITS = {
    "project": "project", "projects": "project", "repo": "repository", "repos": "repository",
    "repository": "repository", "repositories": "repository", "user": "user", "users": "user",
    "seat": "seat", "seats": "seat", "member": "member", "members": "member",
    "collaborator": "collaborator", "collaborators": "collaborator", "request": "request",
    "requests": "request", "call": "call", "calls": "call", "token": "token",
    "tokens": "token", "credit": "credit", "credits": "credit", "message": "message",
    "messages": "message", "query": "query", "queries": "query", "build": "build",
    "builds": "build", "deployment": "deployment", "deployments": "deployment",
    "site": "site", "sites": "site", "app": "app", "apps": "app", "workspace": "workspace",
    "workspaces": "workspace", "model": "model", "models": "model", "space": "space",
    "spaces": "space", "dataset": "dataset", "datasets": "dataset", "gb": "GB", "tb": "TB",
    "mb": "MB", "gib": "GiB", "tib": "TiB", "image": "image", "images": "image",
    "seconds": "second", "minutes": "minute", "hours": "hour", "agent": "agent",
    "agents": "agent", "editor": "editor", "editors": "editor", "page": "page",
    "pages": "page", "event": "event", "events": "event", "run": "run", "runs": "run",
}  # fmt: skip
# Time units are quotas only when metered ("3,000 CI minutes", "20 GPU hours"), never "30 days".
_TIME_UNITS = frozenset({"second", "minute", "hour"})
_METERED = frozenset({"ci", "build", "compute", "gpu", "cpu", "runner", "actions", "action"})
_FILLER = frozenset(
    {"of", "the", "a", "an", "and", "or", "to", "in", "for", "by", "with", "on", "at", "per",
     "our", "your", "their", "its", "is", "are", "than", "from", "that", "this", "these"}
)  # fmt: skip
_QUALIFIERS = (
    ("up", "to"), ("starting", "at"), ("at", "most"), ("at", "least"), ("less", "than"),
    ("more", "than"), ("from",), ("only",), ("max",), ("maximum",), ("min",), ("minimum",),
    ("over",), ("under",), ("just",),
)  # fmt: skip
_QUALIFIER_ENDS = frozenset(words[-1] for words in _QUALIFIERS)
PLAN_NAMES = frozenset(
    {"free", "hobby", "starter", "basic", "personal", "individual", "plus", "pro", "pro+",
     "premium", "team", "teams", "business", "enterprise", "growth", "scale", "standard",
     "developer", "startup", "essentials", "professional", "ultimate", "max", "education"}
)  # fmt: skip
_PLAN_NOUNS = frozenset({"plan", "plans", "tier", "tiers", "edition", "subscription"})
# Cheap tests that let a line skip tokenising: a figure has a digit (or is "unlimited"), a
# "Pro plan" has a plan noun. A token's casefold is a part of its line's casefold (casefold
# maps each character on its own), so a line failing them has no such token.
_DIGIT = re.compile(r"\d")  # what the number token starts with
_PLAN_NOUN = re.compile("|".join(sorted(_PLAN_NOUNS)))


@dataclass(frozen=True, slots=True)
class Figure:
    """One price, percentage or quota as a line states it."""

    kind: Kind
    value: Decimal | None  # None: "unlimited"
    currency: str  # "$", "€" … for prices; "" otherwise
    unit: str  # "per seat / month", "API call per month"; "" when none is said
    text: str  # as the page says it, qualifier included ("up to 3 projects", "$12")
    start: int  # where it starts in the line (for its label)

    @property
    def slot(self) -> tuple[Kind, str, str]:
        """Which figure of the other version this one is a new value of."""
        return self.kind, self.currency, self.unit

    @property
    def same(self) -> tuple[Kind, str, str, Decimal | None]:
        return self.kind, self.currency, self.unit, self.value


@dataclass(frozen=True, slots=True)
class Point:
    """One thing a reader of a pricing page must know, in numbers."""

    kind: Kind
    label: str  # "Team", "Free", "Annual billing saves"; "" when the line gives none
    text: str  # "$12 → $15 per seat / month (+25 %)", "removed (was $40 per seat / month)"

    def __str__(self) -> str:
        return f"{self.label}: {self.text}" if self.label else self.text

    @property
    def said(self) -> str:
        """The point as a message: its label (upstream) and our words around the figures."""
        return msg("{label}: {text}", label=self.label, text=self.text) if self.label else self.text


class _Tok:
    """One token of a line; never changed once made (the cache below shares it). A plain
    class with slots, not a frozen dataclass: a line's reading makes one per word, and the
    dataclass's __init__ (an object.__setattr__ per field, then __post_init__) was most of
    the reading of a line not seen before."""

    __slots__ = ("end", "kind", "low", "start", "text")

    def __init__(self, kind: int, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end
        self.low = text.casefold()


@lru_cache(maxsize=4096)
def _tokens(line: str) -> tuple[_Tok, ...]:
    """The line's tokens; cached, as one line is read for figures, plans and its label."""
    return tuple(
        [_Tok(m.lastindex or 0, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(line)]
    )


def parse_number(text: str) -> Decimal | None:
    """ "1,000" → 1000, "12,50" → 12.5, "1.234,56" → 1234.56, "0.002" → 0.002.

    The last separator is the decimal point when both kinds appear; a lone separator followed
    by exactly three digits groups thousands (unless the number starts "0"), otherwise it is
    the decimal point.
    """
    if "," in text and "." in text:
        cut = max(text.rfind(","), text.rfind("."))
        whole, frac = text[:cut], text[cut + 1 :]
        digits = whole.replace(",", "").replace(".", "") + "." + frac
    else:
        sep = "," if "," in text else "."
        parts = text.split(sep)
        if len(parts) == 1:
            digits = text
        elif len(parts) > 2 or (len(parts[1]) == 3 and parts[0] != "0"):
            digits = "".join(parts)
        else:
            digits = parts[0] + "." + parts[1]
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def figures(line: str) -> list[Figure]:
    """Every price, percentage and quota in ``line``, in order."""
    if _DIGIT.search(line) is None and "unlimited" not in line.casefold():
        return []  # no number and no "unlimited": most lines of terms, left untokenised
    toks = _tokens(line)
    out: list[Figure] = []
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        # Only a number, a currency sign or code, or "unlimited" starts a figure: the other
        # tokens (most of a line) are not handed to the figure readers at all.
        if tok.kind == _NUM or tok.kind == _CUR or (tok.kind == _WORD and tok.low in _STARTS):
            found = _figure_at(line, toks, i)
            if found is not None:
                figure, i = found
                out.append(figure)
                continue
        i += 1
    return out


def _figure_at(line: str, toks: Sequence[_Tok], i: int) -> tuple[Figure, int] | None:
    tok = toks[i]
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if (tok.kind == _CUR or (tok.kind == _WORD and tok.low in _CODES)) and nxt and nxt.kind == _NUM:
        currency = _SIGNS.get(tok.text) or _CODES[tok.low]
        value, j = _magnitude(toks, i + 1)
        return _price(line, toks, i, j, value, currency)
    if tok.kind == _NUM:
        value, j = _magnitude(toks, i)
        after = toks[j] if j < len(toks) else None
        if after is not None and (
            after.kind == _CUR or (after.kind == _WORD and after.low in _CURRENCY_AFTER)
        ):
            currency = _SIGNS.get(after.text) or _CODES.get(after.low) or _CURRENCY_WORDS[after.low]
            return _price(line, toks, i, j + 1, value, currency)
        if after is not None and (after.kind == _PCT or after.low == "percent"):
            start = _qualified(toks, i)
            text = line[toks[start].start : after.end]
            return Figure(Kind.PERCENTAGE, value, "", "", text, toks[start].start), j + 1
        return _quota(line, toks, i, j, value)
    if tok.kind == _WORD and tok.low == "unlimited":
        return _quota(line, toks, i, i + 1, None)
    return None


def _magnitude(toks: Sequence[_Tok], i: int) -> tuple[Decimal | None, int]:
    """The number at ``i`` with a "k"/"million" after it; and the index after both."""
    value = parse_number(toks[i].text)
    j = i + 1
    if j < len(toks) and toks[j].kind == _WORD and toks[j].low in _MAGNITUDES:
        glued = toks[j].start == toks[i].end
        if glued or toks[j].low not in _SHORT_MAGNITUDES:
            value = value * _MAGNITUDES[toks[j].low] if value is not None else None
            j += 1
    return value, j


def _price(
    line: str, toks: Sequence[_Tok], i: int, j: int, value: Decimal | None, currency: str
) -> tuple[Figure, int]:
    start = _qualified(toks, i)
    text = line[toks[start].start : toks[j - 1].end]
    unit, j = _per(toks, j)
    return Figure(Kind.PRICE, value, currency, unit, text, toks[start].start), j


def _per(toks: Sequence[_Tok], j: int) -> tuple[str, int]:
    """ "per seat per month", "/user/mo", "a year", "monthly", "per 1M tokens" → the unit."""
    units: list[str] = []
    while j < len(toks) and len(units) < 3:
        tok = toks[j]
        if tok.kind == _WORD and tok.low in _PERIOD_ADVERBS:
            units.append(_PERIOD_ADVERBS[tok.low])
            j += 1
            continue
        if not (tok.kind == _SLASH or (tok.kind == _WORD and tok.low in _PER_WORDS)):
            break
        k = j + 1
        amount = ""
        if k < len(toks) and toks[k].kind == _NUM:  # "per 1M tokens", "per 1,000 requests"
            number, k2 = _magnitude(toks, k)
            amount = f"{_plain(number)} " if number is not None else ""
            k = k2
        if k < len(toks) and toks[k].kind == _WORD and toks[k].low in _PER:
            units.append(amount + _PER[toks[k].low] + ("s" if amount else ""))
            j = k + 1
            continue
        break
    return ("per " + " / ".join(units) if units else ""), j


def _quota(
    line: str, toks: Sequence[_Tok], i: int, j: int, value: Decimal | None
) -> tuple[Figure, int] | None:
    """A number (or "unlimited") and, at most two words on, a countable unit."""
    words: list[str] = []
    k = j
    while k < len(toks) and toks[k].kind == _WORD and len(words) < 3:
        low = toks[k].low
        if low in _QUOTA_UNITS:
            unit = _QUOTA_UNITS[low]
            if unit in _TIME_UNITS and not (set(words) & _METERED):
                return None
            phrase = " ".join([*words, unit])
            per, end = _per(toks, k + 1)
            start = _qualified(toks, i)
            text = line[toks[start].start : toks[end - 1].end]
            full = f"{phrase} {per}".strip()
            return Figure(Kind.QUOTA, value, "", full, text, toks[start].start), end
        if low in _FILLER or low in _MAGNITUDES:
            return None
        words.append(low)
        k += 1
    return None


def _qualified(toks: Sequence[_Tok], i: int) -> int:
    """Index of the first token of "up to", "from", "starting at" … just before ``i``."""
    before = toks[i - 1] if i > 0 else None
    if before is None or before.kind != _WORD or before.low not in _QUALIFIER_ENDS:
        return i  # most figures: no qualifier ends just before (16 % of a page's diff time)
    for words in _QUALIFIERS:
        n = len(words)
        if i >= n and all(
            toks[i - n + m].kind == _WORD and toks[i - n + m].low == w for m, w in enumerate(words)
        ):
            return i - n
    return i


def _plain(value: Decimal) -> str:
    """A number as a reader writes it: 1000000 → "1M", 1500 → "1.5k", 12.50 → "12.5"."""
    for size, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(1000), "k")):
        if value >= size and (value / size) == (value / size).quantize(Decimal("0.1")):
            return f"{_trim(value / size)}{suffix}"
    return _trim(value)


def _trim(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plans(line: str) -> list[str]:
    """Plan names a line mentions: "Pro plan", "free tier", or a table row headed by a plan."""
    found: list[str] = []
    toks = _tokens(line) if _PLAN_NOUN.search(line.casefold()) else ()
    for n in range(len(toks) - 1):  # a plan name and a plan noun just after it
        tok = toks[n]
        if tok.low in PLAN_NAMES and tok.kind == _WORD:
            nxt = toks[n + 1]
            if nxt.kind == _WORD and nxt.low in _PLAN_NOUNS:
                found.append(f"{tok.low} {nxt.low.rstrip('s')}")
    head = row_head(line)
    if (
        head is not None
        and head.casefold() in PLAN_NAMES
        and head.casefold() + " plan" not in found
    ):
        found.insert(0, f"{head.casefold()} plan")
    return found


def row_head(line: str) -> str | None:
    """The first cell of a table row ("Team | $40 …" → "Team"), or None for other lines."""
    if " | " not in line:
        return None
    head = line.split(" | ", 1)[0].strip()
    return head if 0 < len(head) <= 40 else None


def label_of(line: str, figure: Figure | None) -> str:
    """What a figure is the price of: the row's plan, the line's leading plan name, the text
    before a colon, else the few words just before the figure."""
    head = row_head(line)
    if head is not None and (figure is None or figure.start > len(head)):
        return head
    toks = _tokens(line)
    if toks and toks[0].kind == _WORD and toks[0].low in PLAN_NAMES:
        return toks[0].text
    before = line[: figure.start] if figure is not None else line
    name, colon, _ = before.partition(":")
    if colon and 0 < len(name.strip()) <= 40:
        return name.strip()
    words = [t.text for t in _tokens(before) if t.kind in (_WORD, _NUM)]
    if not words:
        return ""
    shown = " ".join(words[-4:])
    return shown if len(words) <= 4 else "…" + shown


def _delta(old: Figure, new: Figure) -> str:
    if old.kind is not Kind.PRICE or old.currency != new.currency:
        return ""
    if old.value is None or new.value is None or old.value == 0:
        return ""
    pct = (new.value - old.value) / old.value * 100
    rounded = pct.quantize(Decimal("1")) if abs(pct) >= 10 else pct.quantize(Decimal("0.1"))
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    return f" ({sign}{_trim(abs(rounded))} %)"


def _changed(old: Figure, new: Figure) -> str:
    if old.kind is Kind.PRICE and old.unit == new.unit:
        unit = f" {new.unit}" if new.unit else ""
        return f"{old.text} → {new.text}{unit}{_delta(old, new)}"
    return f"{_shown(old)} → {_shown(new)}{_delta(old, new)}"


def _shown(figure: Figure) -> str:
    if figure.kind is Kind.PRICE and figure.unit:
        return f"{figure.text} {figure.unit}"
    return figure.text


_Same = tuple[Kind, str, str, Decimal | None]  # Figure.same


@dataclass(frozen=True, slots=True)
class _Line:
    """A line as read once in one :func:`points_of` call, which looks at most lines more than
    once (figures, then plans; a lone line's figures against the other side, then its own)."""

    text: str
    figures: tuple[Figure, ...]
    same: tuple[_Same, ...]  # each figure's ``same``: two lines with equal ones differ in none
    plans: tuple[str, ...]


class _Lines(dict[str, _Line]):
    """The lines of one :func:`points_of` call, each read on first use. Per call, not per
    process: a worker sees each page's lines once, so a longer memory would only hold them."""

    def __missing__(self, text: str) -> _Line:
        found = tuple(figures(text))
        line = _Line(text, found, tuple(f.same for f in found), tuple(plans(text)))
        self[text] = line
        return line


def _line_points(old: _Line, new: _Line) -> list[Point]:
    """What changed in figures and plan names between two versions of one line."""
    points: list[Point] = []
    if old.same != new.same:  # else every figure has its equal on the other side, in order
        gone, came = _unmatched(old, new)
        paired, gone, came = _pair_slots(gone, came)
        for a, b in paired:
            points.append(Point(b.kind, label_of(new.text, b), _changed(a, b)))
        points.extend(Point(f.kind, label_of(old.text, f), _removed(f)) for f in gone)
        points.extend(Point(f.kind, label_of(new.text, f), _new(f)) for f in came)
    if old.plans != new.plans:  # else neither mentions a plan more often than the other
        lost = _more(old.plans, new.plans)
        won = _more(new.plans, old.plans)
        if len(lost) == 1 and len(won) == 1:
            points.append(Point(Kind.PLAN, "", f"{lost[0]} → {won[0]}"))
        else:
            points.extend(Point(Kind.PLAN, "", _no_longer_mentions(p)) for p in lost)
            points.extend(Point(Kind.PLAN, "", _now_mentions(p)) for p in won)
    return points


def _unmatched(old: _Line, new: _Line) -> tuple[list[Figure], list[Figure]]:
    """Figures each side has that the other does not (same kind, unit and value), in order:
    of a value one side has n more times, its first n there. One plain dict of counts for
    both sides: this runs for every changed line, and six Counters a line cost more."""
    extra: dict[_Same, int] = {}  # > 0: the old line has more; < 0: the new one
    for key in old.same:
        extra[key] = extra.get(key, 0) + 1
    for key in new.same:
        extra[key] = extra.get(key, 0) - 1
    gone: list[Figure] = []
    for f, key in zip(old.figures, old.same, strict=True):
        if extra[key] > 0:
            extra[key] -= 1
            gone.append(f)
    came: list[Figure] = []
    for f, key in zip(new.figures, new.same, strict=True):
        if extra[key] < 0:
            extra[key] += 1
            came.append(f)
    return gone, came


def _more(these: Sequence[str], those: Sequence[str]) -> list[str]:
    """Each plan ``these`` mentions more often than ``those``, once, in order of first mention
    (what ``Counter(these) - Counter(those)`` lists)."""
    count: dict[str, int] = {}
    for plan in these:
        count[plan] = count.get(plan, 0) + 1
    for plan in those:
        if plan in count:
            count[plan] -= 1
    return [plan for plan, n in count.items() if n > 0]


def _pair_slots(
    gone: list[Figure], came: list[Figure]
) -> tuple[list[tuple[Figure, Figure]], list[Figure], list[Figure]]:
    """Old and new values of the same slot (kind, currency, unit), else of the same kind."""
    pairs: list[tuple[Figure, Figure]] = []
    for key in (lambda f: f.slot, lambda f: (f.kind,)):
        rest: list[Figure] = []
        for a in gone:
            match = next((b for b in came if key(b) == key(a)), None)
            if match is None:
                rest.append(a)
            else:
                pairs.append((a, match))
                came = [b for b in came if b is not match]
        gone = rest
    pairs.sort(key=lambda p: p[1].start)
    return pairs, gone, came


def points_of(
    pairs: Sequence[tuple[str, str]], removed: Sequence[str], added: Sequence[str]
) -> list[Point]:
    """Everything the changed lines of a diff change in prices, quotas and plans.

    ``pairs`` are (old, new) versions of one line; ``removed``/``added`` lines only one side
    has. A removed line that comes back elsewhere (moved) is no change; a removed and an added
    line with the same label are one line rewritten (a table row re-rendered).
    """
    points: list[Point] = []
    lines = _Lines()
    for old, new in pairs:
        points.extend(_line_points(lines[old], lines[new]))
    if not removed and not added:
        return points  # most changed pages: every changed line has its other version
    both = Counter(" ".join(x.split()) for x in removed) & Counter(
        " ".join(x.split()) for x in added
    )
    gone_lines = _without(removed, both)
    came_lines = _without(added, both)
    by_label_old = {_row_key(x): x for x in gone_lines if _row_key(x)}
    by_label_new = {_row_key(x): x for x in came_lines if _row_key(x)}
    rewritten = [k for k in by_label_old if k in by_label_new]
    for key in rewritten:
        points.extend(_line_points(lines[by_label_old[key]], lines[by_label_new[key]]))
    gone_lines = [x for x in gone_lines if _row_key(x) not in rewritten]
    came_lines = [x for x in came_lines if _row_key(x) not in rewritten]
    gone = [lines[x] for x in gone_lines]
    came = [lines[x] for x in came_lines]
    left = Counter(k for x in gone for k in x.same) - Counter(k for x in came for k in x.same)
    right = Counter(k for x in came for k in x.same) - Counter(k for x in gone for k in x.same)
    lost = Counter(p for x in gone for p in x.plans)
    won = Counter(p for x in came for p in x.plans)
    points.extend(_lone(gone, left, lost - won, removed=True))
    points.extend(_lone(came, right, won - lost, removed=False))
    return points


def _without(lines: Sequence[str], drop: Counter[str]) -> list[str]:
    left = Counter(drop)
    out = []
    for line in lines:
        key = " ".join(line.split())
        if left[key] > 0:
            left[key] -= 1
        else:
            out.append(line)
    return out


def _row_key(line: str) -> str:
    """A table row's plan (its first cell) when that is a plan name; else ""."""
    head = row_head(line)
    return head.casefold() if head is not None and head.casefold() in PLAN_NAMES else ""


def _lone(
    lines: Sequence[_Line],
    wanted: Counter[_Same],
    mentions: Counter[str],
    *,
    removed: bool,
) -> list[Point]:
    """Points of lines only one side has: their figures (and plan mentions) that no line of
    the other side has; a pricing-table row headed by a plan is the plan itself."""
    points: list[Point] = []
    left = Counter(wanted)
    named = Counter(mentions)
    for line in lines:
        own = []
        for f, key in zip(line.figures, line.same, strict=True):
            if left[key] > 0:
                left[key] -= 1
                own.append(f)
        head = row_head(line.text)
        if head is not None and head.casefold() in PLAN_NAMES:
            shown = ", ".join(_shown(f) for f in own)
            text: str
            if removed:
                text = msg("plan removed (was {was})", was=shown) if shown else msg("plan removed")
            else:
                text = msg("plan added ({now})", now=shown) if shown else msg("plan added")
            points.append(Point(Kind.PLAN, head, text))
            continue
        for f in own:
            text = _removed(f) if removed else _new(f)
            points.append(Point(f.kind, label_of(line.text, f), text))
        for plan in line.plans:
            if named[plan] > 0:
                named[plan] -= 1
                said = _no_longer_mentions(plan) if removed else _now_mentions(plan)
                points.append(Point(Kind.PLAN, "", said))
    return points


def kinds_of(points: Sequence[Point]) -> list[Kind]:
    """The kinds of change, in a fixed order, for the alert's one-line summary."""
    present = {p.kind for p in points}
    return [k for k in Kind if k in present]


def _removed(figure: Figure) -> str:
    return msg("{figure} (removed)", figure=_shown(figure))


def _new(figure: Figure) -> str:
    return msg("{figure} (new)", figure=_shown(figure))


def _no_longer_mentions(plan: str) -> str:
    return msg("no longer mentions the {plan}", plan=plan)


def _now_mentions(plan: str) -> str:
    return msg("now mentions the {plan}", plan=plan)
