"""Readable diffs of normalised text, and how loud a text change is. Pure.

Two versions are the same when their text is the same once every whitespace character is
removed (``compare_key``): list-marker spacing, spaces between links, re-wrapped paragraphs
and line breaks moved between blocks are what real pages and their extractions change without
changing a word (see ``corpus/pages``). Everything else is a change, shown as removed (``-``)
and added (``+``) lines with one line of context (``  ``); in a pair of short changed lines
the changed words are marked ``[-old-]`` / ``{+new+}`` (git's word-diff style, readable in any
chat), and in long lines (a paragraph of terms) only a window around the changed words is
shown.

Severity follows what a reader of a pricing or terms page must not miss: a change whose
*changed part* is a price, a percentage, a quota or a plan (:mod:`bot.text.pricing`: "$20 → $25 per
seat / month", "Team: plan removed") is a ``warning``; any other text change is a ``notice``,
however many "limited licence", "royalty-free" or "monthly active users" its lines mention.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.domain.model import Severity
from bot.i18n import joined, msg, nmsg
from bot.text.html_text import normalise_line
from bot.text.pricing import Kind, Point, kinds_of, points_of

SHORT_LINE = 160  # characters: up to this, both lines are shown whole with words marked
LONG_WINDOW = 12  # words of context around a change inside a long line
MAX_ALONE = 300  # characters of a wholly added or removed line that are shown
MAX_CONTEXT = 120  # characters of an unchanged context line that are shown
# Bounds that keep a diff's cost linear-ish whatever the page serves (design §6.10).
MAX_DIFF_LINES = 1000  # lines per side of a changed region diffed line by line (setting)
TOO_LARGE_SHOWN = 20  # removed and added lines listed when a region is too large
PAIR_WINDOW = 8  # new lines tried as the new version of one old line
MAX_WORD_CELLS = 250_000  # words(old) × words(new) of one changed line diffed word by word

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
    touched: tuple[str, ...]  # every removed or added line, whole
    pairs: tuple[tuple[str, str], ...] = ()  # (old, new) versions of one line
    gone: tuple[str, ...] = ()  # lines only the old version has
    came: tuple[str, ...] = ()  # lines only the new version has

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
    max_lines: int = MAX_DIFF_LINES,
) -> TextDiff:
    """A readable diff of two line lists (already normalised), comparing by ``key``.

    Bounded whatever the input (design §6 invariant 10): the common head and tail are cut off
    in linear time, and only a changed region of at most ``max_lines`` lines on each side is
    diffed line by line (difflib is quadratic or worse). A larger one is told by counts of
    the lines only one side has, with the first few of them (:func:`_too_large`).
    """
    old_keys, new_keys = [key(x) for x in old], [key(x) for x in new]
    head, tail = _common_ends(old_keys, new_keys)
    n_old, n_new = len(old) - head - tail, len(new) - head - tail
    if n_old > max_lines or n_new > max_lines:
        return _too_large(old, new, old_keys, new_keys, head, tail, max_lines)
    middle = difflib.SequenceMatcher(
        None, old_keys[head : head + n_old], new_keys[head : head + n_new], autojunk=False
    ).get_opcodes()
    opcodes = _framed(middle, head, len(old), len(new), tail)
    out: list[str] = []
    touched: list[str] = []
    paired: list[tuple[str, str]] = []
    gone: list[str] = []
    came: list[str] = []
    changed = added = removed = 0
    for g, group in enumerate(_grouped(opcodes, context)):
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
            paired.extend((olds[i], news[j]) for i, j in pairs)
            gone.extend(olds[i] for i in lone_old)
            came.extend(news[j] for j in lone_new)
            for kind, a, b in _ordered(olds, news, pairs):
                if kind == "pair":
                    out.extend(_marked(a, b))
                elif kind == "-":
                    out.append(f"- {_clip(a)}")
                else:
                    out.append(f"+ {_clip(b)}")
    return TextDiff(
        tuple(out), changed, added, removed, tuple(touched), tuple(paired), tuple(gone), tuple(came)
    )


_Opcode = tuple[str, int, int, int, int]


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def unified(
    old: Sequence[str],
    new: Sequence[str],
    labels: tuple[str, str],
    *,
    context: int = 1,
    max_lines: int = MAX_DIFF_LINES,
) -> list[str]:
    """A unified diff of two versions (the ``diff`` command), bounded like :func:`diff_lines`:
    the common ends are cut in linear time and only the changed region, with its context, is
    given to difflib; a region over ``max_lines`` lines is told by :func:`diff_lines`'s
    counts instead."""
    head, tail = _common_ends(old, new)
    if len(old) - head - tail > max_lines or len(new) - head - tail > max_lines:
        return [f"--- {labels[0]}", f"+++ {labels[1]}", *diff_lines(old, new).lines]
    start = max(0, head - context)
    a, b = (
        old[start : len(old) - max(0, tail - context)],
        new[start : len(new) - max(0, tail - context)],
    )

    def shifted(line: str) -> str:  # hunk positions in the whole texts, not the slices
        m = _HUNK.match(line)
        if m is None or not start:
            return line
        a1, b1 = int(m[1]) + start, int(m[3]) + start
        return f"@@ -{a1}{m[2] or ''} +{b1}{m[4] or ''} @@{line[m.end() :]}"

    return [
        shifted(line)
        for line in difflib.unified_diff(a, b, labels[0], labels[1], lineterm="", n=context)
    ]


def _common_ends(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many items ``a`` and ``b`` share at the start and (not overlapping) at the end."""
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def _framed(
    middle: Sequence[_Opcode], head: int, len_a: int, len_b: int, tail: int
) -> list[_Opcode]:
    """Opcodes of the middle region, shifted by ``head`` and framed by the equal ends."""
    ops: list[_Opcode] = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    ops.extend((t, i1 + head, i2 + head, j1 + head, j2 + head) for t, i1, i2, j1, j2 in middle)
    if tail:
        ops.append(("equal", len_a - tail, len_a, len_b - tail, len_b))
    return [op for op in ops if op[1] != op[2] or op[3] != op[4]]


def _grouped(opcodes: list[_Opcode], n: int) -> list[list[_Opcode]]:
    """difflib's ``get_grouped_opcodes`` over opcodes computed elsewhere: change hunks with
    ``n`` lines of context."""
    if not opcodes or all(op[0] == "equal" for op in opcodes):
        return []
    codes = list(opcodes)
    if codes[0][0] == "equal":
        t, i1, i2, j1, j2 = codes[0]
        codes[0] = t, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        t, i1, i2, j1, j2 = codes[-1]
        codes[-1] = t, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    groups: list[list[_Opcode]] = []
    group: list[_Opcode] = []
    for t, i1, i2, j1, j2 in codes:
        if t == "equal" and i2 - i1 > n * 2:
            group.append((t, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((t, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _too_large(
    old: Sequence[str],
    new: Sequence[str],
    old_keys: Sequence[str],
    new_keys: Sequence[str],
    head: int,
    tail: int,
    max_lines: int,
) -> TextDiff:
    """A changed region too large to diff line by line, told in linear time: the lines only
    the old version has (removed) and only the new one has (added), counted as multisets, so
    lines that merely moved count as neither."""
    old_mid = range(head, len(old) - tail)
    new_mid = range(head, len(new) - tail)
    left = Counter(old_keys[i] for i in old_mid)
    right = Counter(new_keys[j] for j in new_mid)
    gone, came = left - right, right - left
    removed_at = _taking(old_mid, old_keys, gone)
    added_at = _taking(new_mid, new_keys, came)
    total = len(removed_at) + len(added_at)
    out = [
        f"  (too large to show line by line: {total} line{'s' if total != 1 else ''} changed "
        f"in a region of {len(old_mid)} → {len(new_mid)} lines, more than {max_lines})"
    ]
    out.extend(f"- {_clip(old[i])}" for i in removed_at[:TOO_LARGE_SHOWN])
    if len(removed_at) > TOO_LARGE_SHOWN:
        out.append(f"  … and {len(removed_at) - TOO_LARGE_SHOWN} more removed")
    out.extend(f"+ {_clip(new[j])}" for j in added_at[:TOO_LARGE_SHOWN])
    if len(added_at) > TOO_LARGE_SHOWN:
        out.append(f"  … and {len(added_at) - TOO_LARGE_SHOWN} more added")
    lost = tuple(old[i] for i in removed_at)
    won = tuple(new[j] for j in added_at)
    return TextDiff(tuple(out), 0, len(added_at), len(removed_at), lost + won, (), lost, won)


def _taking(positions: range, keys: Sequence[str], wanted: Counter[str]) -> list[int]:
    """The positions whose key ``wanted`` still counts (each use takes one), in order."""
    left = Counter(wanted)
    out = []
    for i in positions:
        if left[keys[i]] > 0:
            left[keys[i]] -= 1
            out.append(i)
    return out


def pricing_points(diff: TextDiff) -> list[Point]:
    """What the changed parts of the lines change in prices, percentages, quotas and plans."""
    return points_of(diff.pairs, diff.gone, diff.came)


def severity_of(diff: TextDiff, points: Sequence[Point] | None = None) -> Severity:
    """``warning`` when what changed is a price, a percentage, a quota or a plan; else notice."""
    found = pricing_points(diff) if points is None else points
    return Severity.WARNING if found else Severity.NOTICE


_KIND_TEXT = {
    Kind.PRICE: msg("price"),
    Kind.PERCENTAGE: msg("percentage"),
    Kind.QUOTA: msg("quota"),
    Kind.PLAN: msg("plan"),
}


def flags_of(diff: TextDiff, points: Sequence[Point] | None = None) -> list[str]:
    """Which kinds of pricing fact changed ("price", "quota" …), for the alert's summary."""
    found = pricing_points(diff) if points is None else points
    return [_KIND_TEXT[kind] for kind in kinds_of(found)]


def summarise(diff: TextDiff, *, flags: bool = True, points: Sequence[Point] | None = None) -> str:
    """ "2 lines changed, 1 line added · price and quota changed"."""
    parts = []
    if diff.changed:
        parts.append(nmsg("{n} line changed", "{n} lines changed", diff.changed))
    if diff.added:
        parts.append(nmsg("{n} line added", "{n} lines added", diff.added))
    if diff.removed:
        parts.append(nmsg("{n} line removed", "{n} lines removed", diff.removed))
    text = joined(", ", parts) if parts else msg("no change")
    found = flags_of(diff, points) if flags else []
    if not found:
        return text
    said = (
        found[0]
        if len(found) == 1
        else msg("{some} and {last}", some=joined(", ", found[:-1]), last=found[-1])
    )
    return msg("{counts} · {what} changed", counts=text, what=said)


def _pair(olds: list[str], news: list[str]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Match replaced lines with their new versions (similar enough), in order."""
    pairs: list[tuple[int, int]] = []
    j0 = 0
    for i, a in enumerate(olds):
        for j in range(j0, min(len(news), j0 + PAIR_WINDOW)):  # bounded: n × window
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
        return _similar_chars(a, b)
    wa, wb = a.split(), b.split()
    same = sum(i2 - i1 for tag, i1, i2, _j1, _j2 in _word_opcodes(wa, wb) if tag == "equal")
    return 2 * same / max(1, len(wa) + len(wb)) >= 0.5


def _similar_chars(a: str, b: str) -> bool:
    """difflib's ``ratio() >= 0.6`` of two short lines, decided from bounds when they settle it.

    ``ratio`` is 2·M / (len a + len b), M the characters in difflib's matching blocks. Its
    first block is a longest common substring (no junk: autojunk needs 200 characters), so M
    is at least the longer of the common prefix and suffix: a line with one price changed is
    similar without running the matcher (most of a changed pricing page's detection). And
    M is at most the shorter line (``real_quick_ratio``). Only lines between the bounds are
    matched; the answer is difflib's in every case."""
    total = len(a) + len(b)
    if not total:
        return True  # difflib: two empty sequences match completely
    if 2.0 * min(len(a), len(b)) / total < 0.6:
        return False
    head, tail = _common_ends(a, b)
    if 2.0 * max(head, tail) / total >= 0.6:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


def _word_opcodes(a: Sequence[str], b: Sequence[str]) -> list[_Opcode]:
    """Word-level opcodes of two versions of one line, bounded like :func:`diff_lines`: the
    common ends are cut off, and a middle larger than ``MAX_WORD_CELLS`` is one replacement."""
    head, tail = _common_ends(a, b)
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if len(mid_a) * len(mid_b) <= MAX_WORD_CELLS:
        middle = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False).get_opcodes()
    else:
        middle = [("replace", 0, len(mid_a), 0, len(mid_b))]
    return _framed(middle, head, len(a), len(b), tail)


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
    ops = _word_opcodes(a, b)
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
    # A long line that only gained (or only lost) words: its other side would be a bare "…".
    out = []
    if any(w.startswith(_EDIT_MARK) for w in left):
        out.append(f"- {_window(left)}")
    if any(w.startswith(_EDIT_MARK) for w in right):
        out.append(f"+ {_window(right)}")
    return out


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
