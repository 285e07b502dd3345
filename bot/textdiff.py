"""Readable diffs of normalised text, and how loud a text change is. Pure.

Two versions are the same when their text is the same once every whitespace character is
removed (``compare_key``): list-marker spacing, spaces between links, re-wrapped paragraphs
and line breaks moved between blocks are what real pages and their extractions change without
changing a word (see ``corpus/pages``). Everything else is a change, shown as removed (``-``)
and added (``+``) lines with one line of context (``  ``); in a pair of short changed lines
the changed words are marked ``[-old-]`` / ``{+new+}`` (git's word-diff style, readable in any
chat), and in long lines (a paragraph of terms) only a window around the changed words is
shown.

Severity follows what a reader of a pricing or terms page must not miss: a changed line that
carries a money amount, a percentage or a plan word (free, seat, per month, per year, limit …)
makes the change a ``warning``; any other text change is a ``notice``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.model import Severity
from bot.pagetext import normalise_line

SHORT_LINE = 160  # characters: up to this, both lines are shown whole with words marked
LONG_WINDOW = 12  # words of context around a change inside a long line
MAX_ALONE = 300  # characters of a wholly added or removed line that are shown
MAX_CONTEXT = 120  # characters of an unchanged context line that are shown

_MONEY = re.compile(
    r"[$€£¥₹]\s?\d|\d(?:[\d.,]*)\s?(?:[$€£¥₹]|usd|eur|gbp|dollars?|euros?)\b"
    r"|\b(?:usd|eur|gbp|chf)\s?\d",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\d\s?%|\bper\s?cent\b|\bpercent\b", re.IGNORECASE)
_PLAN = re.compile(
    r"\bfree\b|\bseats?\b|\bper\s+(?:month|year|user|seat|mo|yr)\b|/\s?(?:mo|month|yr|year)\b"
    r"|\bmonthly\b|\byearly\b|\bannual(?:ly)?\b|\b(?:un)?limit(?:s|ed)?\b|\bquotas?\b",
    re.IGNORECASE,
)
_VERSIONISH = re.compile(r"\bv?\d+(?:[.,]\d+)*(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?\b")


def compare_key(line: str) -> str:
    """What decides whether two lines say the same thing: the text without any whitespace."""
    return "".join(line.split())


def same_text(
    old: Sequence[str], new: Sequence[str], key: Callable[[str], str] = compare_key
) -> bool:
    """True when the two versions differ only by whitespace and where lines break."""
    return "".join(key(x) for x in old) == "".join(key(x) for x in new)


def version_blind_key(line: str) -> str:
    """``compare_key`` with version numbers and years masked.

    For licence files that restate "Terraform 1.7.0-dev" or "Copyright 2023" at every release:
    bumping them is not a change of the licence text.
    """
    return compare_key(_VERSIONISH.sub("#", line))


def paragraphs(text: str) -> list[str]:
    """A plain-text document (a LICENSE file) as normalised paragraphs.

    Paragraphs, not lines, so that re-wrapping a paragraph at another width is no change.
    """
    out: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            current.append(line)
        elif current:
            joined = normalise_line(" ".join(current))
            if joined:
                out.append(joined)
            current = []
    return out


@dataclass(frozen=True, slots=True)
class TextDiff:
    """What changed between two versions of a text, ready to show."""

    lines: tuple[str, ...]  # the readable diff (``-``, ``+``, ``  `` context)
    changed: int  # lines replaced by another version of themselves
    added: int
    removed: int
    touched: tuple[str, ...]  # every removed or added line, whole (for severity)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def diff_lines(
    old: Sequence[str],
    new: Sequence[str],
    *,
    key: Callable[[str], str] = compare_key,
    context: int = 1,
) -> TextDiff:
    """A readable diff of two line lists (already normalised), comparing by ``key``."""
    old_keys, new_keys = [key(x) for x in old], [key(x) for x in new]
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    out: list[str] = []
    touched: list[str] = []
    changed = added = removed = 0
    for g, group in enumerate(matcher.get_grouped_opcodes(context)):
        if g:
            out.append("  …")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(f"  {_clip(line, MAX_CONTEXT)}" for line in new[j1:j2])
                continue
            olds, news = list(old[i1:i2]), list(new[j1:j2])
            touched.extend(olds + news)
            pairs, lone_old, lone_new = _pair(olds, news)
            changed += len(pairs)
            removed += len(lone_old)
            added += len(lone_new)
            for kind, a, b in _ordered(olds, news, pairs):
                if kind == "pair":
                    out.extend(_marked(a, b))
                elif kind == "-":
                    out.append(f"- {_clip(a)}")
                else:
                    out.append(f"+ {_clip(b)}")
    return TextDiff(tuple(out), changed, added, removed, tuple(touched))


def severity_of(diff: TextDiff) -> Severity:
    """``warning`` when a changed line has money, a percentage or a plan word; else notice."""
    return Severity.WARNING if flags_of(diff) else Severity.NOTICE


def flags_of(diff: TextDiff) -> list[str]:
    """Which kinds of pricing language the changed lines carry, for the alert's summary."""
    found = []
    for label, pattern in (("prices", _MONEY), ("percentages", _PERCENT), ("plan terms", _PLAN)):
        if any(pattern.search(line) for line in diff.touched):
            found.append(label)
    return found


def summarise(diff: TextDiff, *, flags: bool = True) -> str:
    """ "2 lines changed, 1 line added · mentions prices, plan terms"."""
    parts = []
    for count, word in (
        (diff.changed, "changed"),
        (diff.added, "added"),
        (diff.removed, "removed"),
    ):
        if count:
            parts.append(f"{count} line{'s' if count != 1 else ''} {word}")
    text = ", ".join(parts) or "no change"
    found = flags_of(diff) if flags else []
    return f"{text} · mentions {', '.join(found)}" if found else text


def _pair(olds: list[str], news: list[str]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Match replaced lines with their new versions (similar enough), in order."""
    pairs: list[tuple[int, int]] = []
    j0 = 0
    for i, a in enumerate(olds):
        for j in range(j0, len(news)):
            if _similar(a, news[j]):
                pairs.append((i, j))
                j0 = j + 1
                break
    paired_old = {i for i, _ in pairs}
    paired_new = {j for _, j in pairs}
    lone_old = [i for i in range(len(olds)) if i not in paired_old]
    lone_new = [j for j in range(len(news)) if j not in paired_new]
    return pairs, lone_old, lone_new


def _similar(a: str, b: str) -> bool:
    """Two versions of one line? By characters for short lines, by words for long ones."""
    if len(a) <= SHORT_LINE and len(b) <= SHORT_LINE:
        return difflib.SequenceMatcher(None, a, b).ratio() >= 0.6
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio() >= 0.5


def _ordered(
    olds: list[str], news: list[str], pairs: list[tuple[int, int]]
) -> list[tuple[str, str, str]]:
    """Removed lines, then each pair where it stands, then added lines, in reading order."""
    out: list[tuple[str, str, str]] = []
    i = j = 0
    for pi, pj in [*pairs, (len(olds), len(news))]:
        out.extend(("-", olds[k], "") for k in range(i, pi))
        out.extend(("+", "", news[k]) for k in range(j, pj))
        if pi < len(olds) and pj < len(news):
            out.append(("pair", olds[pi], news[pj]))
        i, j = pi + 1, pj + 1
    return out


def _marked(old: str, new: str) -> list[str]:
    """``- … [-old words-] …`` and ``+ … {+new words+} …``; long lines cut to a window."""
    a, b = old.split(), new.split()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    left: list[str] = []
    right: list[str] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            left.extend(a[i1:i2])
            right.extend(b[j1:j2])
            continue
        if i2 > i1:
            left.append(_EDIT_MARK + "[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            right.append(_EDIT_MARK + "{+" + " ".join(b[j1:j2]) + "+}")
    if len(old) <= SHORT_LINE and len(new) <= SHORT_LINE:
        return [f"- {_join(left)}", f"+ {_join(right)}"]
    return [f"- {_window(left)}", f"+ {_window(right)}"]


_EDIT_MARK = "\x00"


def _join(words: list[str]) -> str:
    return " ".join(w.removeprefix(_EDIT_MARK) for w in words)


def _window(words: list[str]) -> str:
    """Only the words around the marked edits, with "…" where text was left out."""
    keep: set[int] = set()
    for n, word in enumerate(words):
        if word.startswith(_EDIT_MARK):
            keep.update(range(max(0, n - LONG_WINDOW), min(len(words), n + LONG_WINDOW + 1)))
    out: list[str] = []
    last = -1
    for n in sorted(keep):
        if n != last + 1:
            out.append("…")
        out.append(words[n].removeprefix(_EDIT_MARK))
        last = n
    if last != len(words) - 1:
        out.append("…")
    return " ".join(out)


def _clip(line: str, limit: int = MAX_ALONE) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"
