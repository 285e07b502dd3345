"""Is an edit of a licence text material? Pure; shared by every source that keeps a licence
file's text (GitHub's LICENSE, a Hub repo's own licence file).

A licence is read whole: a Business Source License whose Change Date moves, a threshold of
monthly active users, a percentage or a duration is what a user agreed to, so any changed
word or number is reported. Only two edits are said to be nothing, because projects make
them at every release or every new year and they change no term: a copyright year
("2010-2019" → "2010") and a release version string ("Terraform 1.7.0-dev" →
"1.7.0-alpha20231025"). Layout (re-wrapping, line endings, typographic quotes) is no edit.
Two more are edits but not of the terms, so they are told quietly (info): the copyright
holder's name in a copyright line (Vagrant's "Mitchell Hashimoto" → "HashiCorp, Inc.") and
a title line at the top of the file ("The MIT License"). A BUSL "Licensor:" line is a term.

The comparison is word by word over the whole text, not by paragraph: BUSL's parameters block
is one paragraph holding the version string, the Licensor and the Change Date together.

Snapshots taken before these rules (``RULES_KEY`` absent or older) were compared with every
number masked; the first comparison against one uses those old rules once (like with like), so
an upgrade never raises an alert of its own. From then on both sides carry ``RULES_VERSION``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.domain.model import Change, ChangeKind, Severity
from bot.i18n import joined, msg
from bot.text.diff import compare_key, diff_lines, paragraphs, summarise

RULES_VERSION: Final = 2
RULES_KEY: Final = (
    "licence_text_rules"  # the facts key recording which rules a snapshot was taken by
)

MAX_TOKENS = 60_000  # words per side of a changed region classified word by word
MAX_FIGURES = 3  # changed figures named in an alert's summary
_FIGURE_CHARS = 60

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_COPYRIGHT = re.compile(r"(?i)\bcopyright\b|\(c\)|©")
# A release version: three or more numeric parts ("1.6.0"), or two with a pre-release tag
# ("2.1-rc1"), optionally "v"-prefixed, with trailing punctuation. Two bare parts ("2.0")
# stay material: "Change License: MPL 2.0" names a licence version, not a release.
_VERSION = re.compile(
    r"^v?\d+\.\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.]+)?[.,;:)]*$|^v?\d+\.\d+[-+][0-9A-Za-z.]+[.,;:)]*$"
)
_YEAR = re.compile(
    r"^\(?(?:19|20)\d{2}(?:\s*[-–,]\s*(?:(?:19|20)\d{2}|present))*[.,;:)]*$", re.IGNORECASE
)
_HOLDER_NOISE = re.compile(
    r"(?i)\bcopyright\b|\(c\)|©|\ball rights reserved\.?"
    r"|\b(?:19|20)\d{2}(?:\s*[-–,]\s*(?:(?:19|20)\d{2}|present))*"
)
_TITLE_WORDS = 8
_TOP_LINES = 3  # a title line is among the first non-empty lines

# The comparison before RULES_VERSION 2: every number masked (kept only to compare an old
# snapshot like with like, once).
_LEGACY_NUMBERS = re.compile(r"\bv?\d+(?:[.,]\d+)*(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?\b")


class Materiality(StrEnum):
    SAME = "same"  # no word changed (layout only)
    NOISE = "noise"  # only copyright years and release version strings
    COSMETIC = "cosmetic"  # a copyright holder or a title line, no term
    MATERIAL = "material"


@dataclass(frozen=True, slots=True)
class TextVerdict:
    """How much an edit of a licence text matters, with what a reader needs to see first."""

    materiality: Materiality
    holders: tuple[str, str] | None = None  # copyright holder before → after, when it changed
    title: str | None = None  # a title line added or removed
    figures: tuple[str, ...] = ()  # "2027-08-10 → 2031-08-10": material edits with numbers


@dataclass(frozen=True, slots=True)
class _Token:
    key: str  # the word as compared (typographic quotes folded)
    word: str
    line: int  # index among the text's non-empty lines
    copyright: bool  # at or after a copyright mark on its line
    whole_line: tuple[int, int]  # (first, last) token index of its line, for title lines


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    line_no = 0
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        words = raw.split()
        if not words:
            continue
        mark = _COPYRIGHT.search(raw)
        marked_from = len(raw[: mark.start()].split()) if mark else len(words)
        first = len(out)
        for n, word in enumerate(words):
            out.append(
                _Token(
                    key=word.translate(_QUOTES),
                    word=word,
                    line=line_no,
                    copyright=n >= marked_from,
                    whole_line=(first, first + len(words) - 1),
                )
            )
        line_no += 1
    return out


def compare(old: str, new: str) -> TextVerdict:
    """Classify the edit from ``old`` to ``new`` (two versions of one licence file)."""
    a, b = _tokens(old), _tokens(new)
    ka, kb = [t.key for t in a], [t.key for t in b]
    if ka == kb:
        return TextVerdict(Materiality.SAME)
    head = 0
    limit = min(len(ka), len(kb))
    while head < limit and ka[head] == kb[head]:
        head += 1
    tail = 0
    while tail < limit - head and ka[-1 - tail] == kb[-1 - tail]:
        tail += 1
    mid_a, mid_b = ka[head : len(ka) - tail], kb[head : len(kb) - tail]
    if len(mid_a) > MAX_TOKENS or len(mid_b) > MAX_TOKENS:
        return TextVerdict(Materiality.MATERIAL)  # a rewrite this large is never a year bump
    ops = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False).get_opcodes()
    kinds: list[Materiality] = []
    holders: list[tuple[list[_Token], list[_Token]]] = []
    title: str | None = None
    figures: list[str] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        olds, news = a[head + i1 : head + i2], b[head + j1 : head + j2]
        kind = _hunk(olds, news, a, b, head + i1, head + j1)
        kinds.append(kind)
        if kind is Materiality.COSMETIC:
            side = olds or news
            if all(t.copyright for t in side) and not _is_title(side, a if olds else b):
                holders.append((olds, news))
            else:
                title = " ".join(t.word for t in side)
        elif kind is Materiality.MATERIAL and any(
            any(c.isdigit() for c in t.word) for t in olds + news
        ):
            figures.append(_figure(olds, news))
    if not kinds:
        return TextVerdict(Materiality.SAME)
    worst = max(kinds, key=list(Materiality).index)
    return TextVerdict(
        worst,
        holders=_holders(holders, a, b) if holders else None,
        title=title,
        figures=tuple(figures[:MAX_FIGURES]),
    )


def _hunk(
    olds: Sequence[_Token],
    news: Sequence[_Token],
    a: Sequence[_Token],
    b: Sequence[_Token],
    at_a: int,
    at_b: int,
) -> Materiality:
    """One changed run of words: noise, a holder/title edit, or a term."""
    words = [t.word for t in (*olds, *news)]
    if words and all(_VERSION.match(w) for w in words):
        return Materiality.NOISE
    in_copyright = _copyright_context(olds, a, at_a) and _copyright_context(news, b, at_b)
    if in_copyright and all(_YEAR.match(w) for w in words):
        return Materiality.NOISE
    if in_copyright and not any(_VERSION.match(w) for w in words):
        return Materiality.COSMETIC
    if (not olds and _is_title(news, b)) or (not news and _is_title(olds, a)):
        return Materiality.COSMETIC
    return Materiality.MATERIAL


def _copyright_context(side: Sequence[_Token], tokens: Sequence[_Token], at: int) -> bool:
    """The run lies in a copyright statement; an empty run (an insertion) is judged by the
    word before it on the same side."""
    if side:
        return all(t.copyright for t in side)
    return at > 0 and tokens[at - 1].copyright


def _is_title(side: Sequence[_Token], tokens: Sequence[_Token]) -> bool:
    """Whole short line(s) near the top naming a licence: "The MIT License"."""
    if not side or side[0].line >= _TOP_LINES or len(side) > _TITLE_WORDS:
        return False
    first, last = side[0].whole_line[0], side[-1].whole_line[1]
    whole = tokens[first] is side[0] and tokens[last] is side[-1] and last - first + 1 == len(side)
    text = " ".join(t.word for t in side).casefold()
    return whole and ("license" in text or "licence" in text)


def _holders(
    runs: Sequence[tuple[Sequence[_Token], Sequence[_Token]]],
    a: Sequence[_Token],
    b: Sequence[_Token],
) -> tuple[str, str]:
    """The copyright lines' holders (marks and years removed), before and after."""

    def holder(tokens: Sequence[_Token], lines: set[int]) -> str:
        text = " ".join(t.word for t in tokens if t.line in lines and t.copyright)
        return " ".join(_HOLDER_NOISE.sub(" ", text).split()).strip(" ,;") or "(none)"

    old_lines = {t.line for olds, _ in runs for t in olds}
    new_lines = {t.line for _, news in runs for t in news}
    # An insertion or removal on one side only: that line's counterpart holds the same place.
    old_lines = old_lines or {t.line for t in a if t.copyright}
    new_lines = new_lines or {t.line for t in b if t.copyright}
    return holder(a, old_lines), holder(b, new_lines)


def _figure(olds: Sequence[_Token], news: Sequence[_Token]) -> str:
    """ "2027-08-10 → 2031-08-10", "added “Terraform 1.6.0.”", "removed “…”"."""

    def side(tokens: Sequence[_Token]) -> str:
        text = " ".join(t.word for t in tokens)
        return text if len(text) <= _FIGURE_CHARS else text[: _FIGURE_CHARS - 1] + "…"

    if not olds:
        return f"added “{side(news)}”"
    if not news:
        return f"removed “{side(olds)}”"
    return f"{side(olds)} → {side(news)}"


def legacy_same(old: str, new: str) -> bool:
    """The comparison of rules version 1: the same once every number is masked."""

    def key(text: str) -> str:
        return "".join(compare_key(_LEGACY_NUMBERS.sub("#", p)) for p in paragraphs(text))

    return key(old) == key(new)


def _display_key(line: str) -> str:
    return compare_key(line.translate(_QUOTES))


def text_change(
    old: str,
    new: str,
    *,
    old_rules: object,
    still: str,
    relicensed: bool,
    where: str = "",
) -> Change | None:
    """The change to report for a licence file edited from ``old`` to ``new``, or None.

    ``still`` describes the licence both versions are under; ``relicensed`` means a licence
    change is reported in the same alert, so the text diff is only its evidence (info).
    ``old_rules`` is the previous snapshot's ``RULES_KEY``: an older snapshot is compared once
    with the old rules. ``where`` names the file when it matters (" (file A → B)").
    """
    if old_rules != RULES_VERSION and legacy_same(old, new):
        return None
    verdict = compare(old, new)
    if verdict.materiality in (Materiality.SAME, Materiality.NOISE):
        return None
    diff = diff_lines(paragraphs(old), paragraphs(new), key=_display_key)
    counts = summarise(diff, flags=False)
    if relicensed:
        return Change(
            ChangeKind.CONTENT,
            Severity.INFO,
            msg("Licence text{where}: {counts}", where=where, counts=counts),
            detail=diff.text,
        )
    if verdict.materiality is Materiality.COSMETIC:
        what: list[str] = []
        if verdict.holders:
            old, new = verdict.holders
            what.append(msg("copyright holder {old} → {new}", old=old, new=new))
        if verdict.title:
            what.append(msg("title line “{title}” edited", title=verdict.title))
        return Change(
            ChangeKind.CONTENT,
            Severity.INFO,
            msg(
                "Licence text edited, still {licence}{where}: {what}",
                licence=still,
                where=where,
                what=joined("; ", what) if what else counts,
            ),
            detail=diff.text,
        )
    figures = f" · {'; '.join(verdict.figures)}" if verdict.figures else ""  # upstream numbers
    return Change(
        ChangeKind.CONTENT,
        Severity.NOTICE,
        msg(
            "Licence text changed, still {licence}{where}: {counts}{figures}",
            licence=still,
            where=where,
            counts=counts,
            figures=figures,
        ),
        detail=diff.text,
    )
