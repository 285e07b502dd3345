"""Evidence pages as view models and HTML. Pure: data in, strings out, no I/O.

Every upstream byte reaches the HTML through Jinja2's autoescaping or :func:`markupsafe.escape`
(the word-level diff builds its ``<del>``/``<ins>`` marks around escaped words), so a page or
feed that serves ``<script>`` shows it as text. Diffs stay bounded (design invariant 10): the
common head and tail are cut in linear time and a changed region larger than ``max_lines``
lines falls back to :func:`bot.text.diff.diff_lines`' own bounded summary.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import jinja2
from markupsafe import Markup, escape

from bot.alerts.compose import display_name
from bot.domain.model import Link
from bot.evidence.links import Grant, Signer
from bot.evidence.queries import ChangeRecord
from bot.net import safe_link
from bot.text.diff import MAX_DIFF_LINES, MAX_WORD_CELLS, _common_ends, compare_key, diff_lines

CONTEXT = 3  # unchanged lines shown around each changed region
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the side-by-side diff; ``old``/``new`` are escaped HTML."""

    kind: str  # "same" | "change" | "remove" | "add" | "gap"
    old_no: int | None = None
    new_no: int | None = None
    old: Markup = Markup("")
    new: Markup = Markup("")


@dataclass(frozen=True, slots=True)
class DiffView:
    rows: tuple[Row, ...] = ()
    changed: int = 0
    added: int = 0
    removed: int = 0
    # Set when the changed region is too large to lay out line by line: the bounded summary.
    summary: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.rows and not self.summary


def word_diff(old: str, new: str) -> tuple[Markup, Markup]:
    """Two changed lines with their changed words marked (``<del>`` / ``<ins>``)."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    if len(a) * len(b) > MAX_WORD_CELLS:  # too costly to align word by word: whole lines
        return Markup("<del>%s</del>") % old, Markup("<ins>%s</ins>") % new
    left: list[str] = []
    right: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        olds, news = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if tag == "equal":
            left.append(olds)
            right.append(news)
            continue
        if i2 > i1:
            left.append(f"<del>{olds}</del>")
        if j2 > j1:
            right.append(f"<ins>{news}</ins>")
    return Markup("".join(left)), Markup("".join(right))


def diff_view(old: Sequence[str], new: Sequence[str], max_lines: int = MAX_DIFF_LINES) -> DiffView:
    """Side by side rows of what changed, with ``CONTEXT`` lines around each region."""
    old_keys, new_keys = [compare_key(x) for x in old], [compare_key(x) for x in new]
    head, tail = _common_ends(old_keys, new_keys)
    n_old, n_new = len(old) - head - tail, len(new) - head - tail
    if n_old > max_lines or n_new > max_lines:
        bounded = diff_lines(old, new, max_lines=max_lines)
        return DiffView(
            changed=bounded.changed,
            added=bounded.added,
            removed=bounded.removed,
            summary=bounded.lines,
        )
    matcher = difflib.SequenceMatcher(
        None, old_keys[head : head + n_old], new_keys[head : head + n_new], autojunk=False
    )
    ops = [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    if all(op[0] == "equal" for op in ops):
        return DiffView()
    framed = [("equal", 0, head, 0, head)] if head else []
    framed += ops
    if tail:
        framed.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    rows: list[Row] = []
    changed = added = removed = 0

    def same(i: int, j: int) -> Row:
        return Row("same", i + 1, j + 1, escape(old[i]), escape(new[j]))

    for index, (tag, i1, i2, j1, j2) in enumerate(framed):
        if tag == "equal":
            n = i2 - i1
            after = 0 if index == 0 else min(CONTEXT, n)  # context after the previous change
            before = 0 if index == len(framed) - 1 else min(CONTEXT, n - after)
            rows.extend(same(i1 + k, j1 + k) for k in range(after))
            if n > after + before:
                rows.append(Row("gap"))
            rows.extend(same(i1 + k, j1 + k) for k in range(n - before, n))
            continue
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            left, right = word_diff(old[i1 + k], new[j1 + k])
            rows.append(Row("change", i1 + k + 1, j1 + k + 1, left, right))
        rows.extend(Row("remove", i + 1, None, escape(old[i])) for i in range(i1 + pairs, i2))
        rows.extend(Row("add", None, j + 1, new=escape(new[j])) for j in range(j1 + pairs, j2))
        changed += pairs
        removed += i2 - i1 - pairs
        added += j2 - j1 - pairs
    return DiffView(tuple(rows), changed, added, removed)


# -- view models -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    heading: str
    taken_at: datetime | None
    identified: str  # what was identified in it (licence, state), one line
    text: str  # the whole version, as readable lines
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a timeline: a check that found changes."""

    at: datetime
    kind: str
    severity: str
    summary: str
    url: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class ChangePage:
    title: str
    target: str
    target_name: str
    source_label: str
    severity: str
    detected_at: datetime
    check: str  # which check found it
    changes: tuple[ChangeRecord, ...]
    before: Version | None
    after: Version | None
    diff: DiffView
    target_url: str
    previous_url: str | None
    next_url: str | None
    expires: datetime


@dataclass(frozen=True, slots=True)
class TargetPage:
    title: str
    target: str
    target_name: str
    source_label: str
    watching_since: datetime
    last_checked_at: datetime | None
    failing: str | None
    timeline: tuple[Entry, ...]
    expires: datetime
    links: tuple[Link, ...] = field(default_factory=tuple)


def checks_of(records: Sequence[ChangeRecord]) -> list[list[ChangeRecord]]:
    """Changes grouped by the check that found them (same target, same time), oldest first."""
    groups: dict[datetime, list[ChangeRecord]] = {}
    for r in records:
        groups.setdefault(r.detected_at, []).append(r)
    return [groups[k] for k in sorted(groups)]


def headline(group: Sequence[ChangeRecord]) -> ChangeRecord:
    order = {"critical": 3, "warning": 2, "notice": 1, "info": 0}
    return max(group, key=lambda r: (order.get(r.severity, 0), -r.id))


def timeline(
    signer: Signer, grant: Grant, records: Sequence[ChangeRecord], current: int | None = None
) -> list[Entry]:
    """Every check with changes, newest first, each linking to its change page with the
    same channel and expiry as the link that opened this page."""
    out: list[Entry] = []
    for group in reversed(checks_of(records)):
        top = headline(group)
        url = signer.path_for(Grant("c", group[0].id, grant.channel_tag, grant.expires))
        ids = {r.id for r in group}
        out.append(Entry(top.detected_at, top.kind, top.severity, top.summary, url, current in ids))
    return out


def version(
    heading: str,
    taken_at: datetime | None,
    facts: Mapping[str, object] | None,
    lines: Callable[[Mapping[str, object]], list[str]],
    describe: Callable[[Mapping[str, object]], str],
    links: Sequence[Link],
) -> Version | None:
    if facts is None:
        return None
    try:
        identified = describe(facts)
    except Exception:  # an old snapshot's shape a source no longer reads: show the text only
        identified = ""
    safe = tuple(Link(lk.label, u) for lk in links if (u := safe_link(lk.url)))
    return Version(heading, taken_at, identified, "\n".join(lines(facts)), safe)


def name_of(ref: str, facts: Mapping[str, object] | None = None) -> str:
    """What a reader calls the target: a page by its own ``<title>`` when the version shown
    has one (a reader knows "Pricing — Acme", not a long URL), else the reference."""
    title = facts.get("title") if facts else None
    if isinstance(title, str) and title.strip():
        return " ".join(title.split())[:120]
    return display_name(ref)


# -- HTML ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.evidence", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "never"
    return env


def render_change(page: ChangePage) -> str:
    return environment().get_template("change.html").render(page=page)


def render_target(page: TargetPage) -> str:
    return environment().get_template("target.html").render(page=page)


def render_not_found() -> str:
    return environment().get_template("not_found.html").render()
