"""Changes → one neutral :class:`~bot.domain.model.Alert` per check of one target. Pure, no markup.

Adapters turn the Alert into Block Kit, an embed or plain text and apply their own size
limits; here the excerpt is only capped at a neutral product size, and the order
(title > lines > fields > excerpt) says what to cut first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.domain.model import Action, Alert, Change, ChangeKind, Link, Severity
from bot.i18n import joined, msg, nmsg

EXCERPT_MAX_LINES = 30

_HEADLINES = {
    ChangeKind.LICENCE: msg("Licence changed"),
    ChangeKind.ACCESS: msg("Access changed"),
    ChangeKind.CONTENT: msg("Content changed"),
    ChangeKind.ENTRY: msg("New entry"),
    ChangeKind.HEALTH: msg("Watch health"),
}
_FIELD_NAMES = {
    ChangeKind.LICENCE: msg("Licence"),
    ChangeKind.ACCESS: msg("Access"),
    ChangeKind.CONTENT: msg("Content"),
}
# What changed, as the headline of several kinds at once says it ("Licence and access changed")
_LEADING = {**_FIELD_NAMES, ChangeKind.ENTRY: msg("Entry")}
_FOLLOWING = {
    ChangeKind.LICENCE: msg("licence"),
    ChangeKind.ACCESS: msg("access"),
    ChangeKind.CONTENT: msg("content"),
    ChangeKind.ENTRY: msg("entry"),
}


_SEVERITY_TEXT = {
    Severity.INFO: msg("info"),
    Severity.NOTICE: msg("notice"),
    Severity.WARNING: msg("warning"),
    Severity.CRITICAL: msg("critical"),
}


def severity_text(severity: Severity) -> str:
    """A severity as the reader's language says it ("critical", "critico")."""
    return _SEVERITY_TEXT[severity]


def top_severity(changes: Sequence[Change]) -> Severity:
    return max((c.severity for c in changes), key=lambda s: s.rank, default=Severity.INFO)


def alert_for(
    target: str,
    source_label: str,
    changes: Sequence[Change],
    *,
    links: Sequence[Link] = (),
    detected_at: datetime | None = None,
    actions: bool = True,
) -> Alert:
    """One alert for all changes found in one check of one target."""
    if not changes:
        raise ValueError("an alert needs at least one change")
    ordered = sorted(changes, key=lambda c: -c.severity.rank)
    headline = _headline(ordered)
    lines: list[str] = []
    fields: list[tuple[str, str]] = []
    for change in ordered:
        if change.kind is ChangeKind.HEALTH:  # the headline says failing/recovered
            lines.append(change.detail or change.summary)
            continue
        lines.append(change.summary)
        lines.extend(change.points)  # the numbers, above the raw diff (the excerpt)
        if change.detail and change.kind is not ChangeKind.CONTENT:
            lines.append(change.detail)
        name = _FIELD_NAMES.get(change.kind)
        if name and change.before is not None and change.after is not None:
            fields.append(
                (name, msg("{before} → {after}", before=change.before, after=change.after))
            )
    excerpt = next((c.detail for c in ordered if c.kind is ChangeKind.CONTENT and c.detail), None)
    all_links = list(links) + [lk for c in ordered for lk in c.links]
    return Alert(
        title=msg("{headline} — {target}", headline=headline, target=_named(target, ordered)),
        severity=top_severity(ordered),
        target=target,
        source_label=source_label,
        lines=tuple(lines),
        fields=tuple(fields),
        excerpt=cap_lines(excerpt, EXCERPT_MAX_LINES) if excerpt else None,
        links=tuple(_dedupe(all_links)),
        actions=default_actions(target) if actions else (),
        detected_at=detected_at,
    )


def _headline(ordered: Sequence[Change]) -> str:
    """ "Licence changed", "Licence reverted", "Licence and access changed", "Watch failing"."""
    main = ordered[0]
    if main.kind is ChangeKind.HEALTH:
        return msg("Watch recovered") if main.after == "ok" else msg("Watch failing")
    # Info-level companions (e.g. the text diff that comes with a licence change) do not
    # change what the alert is about.
    relevant = [c for c in ordered if c.severity.rank > Severity.INFO.rank] or list(ordered)
    kinds = list(dict.fromkeys(c.kind for c in relevant if c.kind is not ChangeKind.HEALTH))
    if ChangeKind.LICENCE in kinds:  # the licence leads when it is among the changes
        kinds.remove(ChangeKind.LICENCE)
        kinds.insert(0, ChangeKind.LICENCE)
        lic = next(c for c in relevant if c.kind is ChangeKind.LICENCE)
        if len(kinds) == 1 and lic.detail and "reverted" in lic.detail:
            return msg("Licence reverted")
    if kinds == [ChangeKind.ACCESS] and all(is_move(c) for c in relevant):
        return msg("Moved")
    if len(kinds) == 1:
        return _HEADLINES[kinds[0]]
    return msg(
        "{first} and {others} changed",
        first=_LEADING[kinds[0]],
        others=joined(", ", [_FOLLOWING[k] for k in kinds[1:]]),
    )


def is_move(change: Change) -> bool:
    """A repository renamed or transferred (``bot.detect.repo``): it moved, access did
    not change."""
    return change.kind is ChangeKind.ACCESS and change.summary.startswith("moved:")


def _named(target: str, changes: Sequence[Change]) -> str:
    """The target as its reader knows it: a page by its title and site, else the ref."""
    subject = next((c.subject for c in changes if c.subject), None)
    if subject is None:
        return display_name(target)
    kind, _, locator = target.partition(":")
    host = urlsplit(locator).hostname if kind == "page" else None
    return f"{subject} · {host.removeprefix('www.')}" if host else subject


# The buttons' labels: the same three messages on every alert, made once.
_ACTION_LABELS = (
    ("unwatch", msg("Unwatch")),
    ("mute", msg("Mute 7 days")),
    ("diff", msg("Show diff")),
)


def default_actions(target: str) -> tuple[Action, ...]:
    return tuple(Action(kind, label, target) for kind, label in _ACTION_LABELS)


def display_name(target: str) -> str:
    """``hf:datasets/org/x`` → ``org/x (dataset)``; other refs are shown as they are."""
    kind, _, locator = target.partition(":")
    if kind == "hf":
        head, _, rest = locator.partition("/")
        if head == "datasets" and rest:
            return msg("{name} (dataset)", name=rest)
        if head == "spaces" and rest:
            return msg("{name} (space)", name=rest)
        return locator
    if kind == "github":
        return locator
    return target


_KIND_SUFFIX = re.compile(r" \((dataset|space)\)$")


def title_and_source(alert: Alert) -> tuple[str, str]:
    """The title and source label for a one-line heading ``title (label)``, saying the repo
    type once: ``Licence changed — org/x (Hugging Face dataset)``, not
    ``… org/x (dataset) (Hugging Face dataset)``."""
    kind = _KIND_SUFFIX.search(alert.title)
    if kind and kind.group(1) in alert.source_label.split():  # "dataset Hugging Face" too
        return alert.title[: kind.start()], alert.source_label
    return alert.title, alert.source_label


def cap_lines(text: str, max_lines: int) -> str:
    """Cut at a line boundary and say how much was left out (the note is a message: the
    kept lines are upstream text, the note is said in the reader's language)."""
    lines = text.splitlines()
    if len(lines) <= max_lines:
        return text
    kept = lines[:max_lines]
    return joined("\n", ["\n".join(kept), more_lines_note(len(lines) - max_lines)])


def more_lines_note(count: int) -> str:
    """The last line of a cut excerpt: ``… 12 more lines``."""
    return nmsg("… {n} more line", "… {n} more lines", count)


def _dedupe(links: Sequence[Link]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


def describe_repo_facts(facts: Mapping[str, Any], licence_text: str) -> str:
    """The one-line state shown after ``watch``: licence, gated, private, disabled (a message,
    said in the asker's language; its English is also a diff's lines, split on " · ")."""
    if not facts.get("exists", True):
        return msg("not reachable (deleted or private)")
    gated = facts.get("gated")
    parts = [
        msg("licence: {licence}", licence=licence_text),
        msg("gated: {gated}", gated=gated if gated in ("auto", "manual") else msg("no")),
        msg("private: {answer}", answer=yes_no(facts.get("private"))),
        msg("disabled: {answer}", answer=yes_no(facts.get("disabled"))),
    ]
    if "archived" in facts:
        parts.append(msg("archived: {answer}", answer=yes_no(facts.get("archived"))))
    return joined(" · ", parts)


def yes_no(value: object) -> str:
    return msg("yes") if value else msg("no")


def health_change(
    failing: bool, reason: str, message: str, failures: int, since: datetime | None
) -> Change:
    """The one alert a channel gets when a watch starts failing, and the one when it recovers."""
    if failing:
        line = (
            nmsg(
                "{message} ({n} check in a row since {since} UTC)",
                "{message} ({n} checks in a row since {since} UTC)",
                failures,
                message=message,
                since=since,
            )
            if since
            else nmsg(
                "{message} ({n} check in a row)",
                "{message} ({n} checks in a row)",
                failures,
                message=message,
            )
        )
        return Change(
            ChangeKind.HEALTH,
            Severity.WARNING,
            msg("Watch failing: {line}", line=line),
            before="ok",
            after=reason,
            detail=line,
        )
    line = nmsg(
        "checks succeed again after {n} failure",
        "checks succeed again after {n} failures",
        failures,
    )
    return Change(
        ChangeKind.HEALTH,
        Severity.INFO,
        msg("Watch recovered: {line}", line=line),
        before=reason,
        after="ok",
        detail=line,
    )
