"""Held alerts → ONE neutral digest :class:`~bot.domain.model.Alert`, grouped by target. Pure.

A digest is read in one glance: its title says how many changes on how many targets, then one
line per target with its count and the worst severity, then that target's headlines (newest
last). The per-alert detail (excerpts, links, buttons) stays in history/diff; a digest that
repeated it all would be the wall of text digests exist to avoid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.compose import severity_text
from bot.domain.model import Alert
from bot.i18n import joined, msg, nmsg

MAX_LINES_PER_TARGET = 5  # more than that reads as "… and N more"
_BULLET = "  • "


@dataclass(frozen=True, slots=True)
class HeldItem:
    """One alert that waited: when it was detected, and what it said."""

    alert: Alert
    held_at: datetime
    reason: str  # "digest" | "quiet"


def digest_title(items: Sequence[HeldItem]) -> str:
    targets = len({i.alert.target for i in items})
    kind = (
        msg("Digest")
        if any(i.reason == "digest" for i in items)
        else msg("While quiet hours lasted")
    )
    return msg(
        "{kind}: {changes} on {targets}",
        kind=kind,
        changes=nmsg("{n} change", "{n} changes", len(items)),
        targets=nmsg("{n} target", "{n} targets", targets),
    )


def assemble(items: Sequence[HeldItem], now: datetime) -> Alert:
    """One alert for all ``items`` (at least one), grouped by target in first-seen order."""
    if not items:
        raise ValueError("a digest needs at least one item")
    ordered = sorted(items, key=lambda i: i.held_at)
    groups: dict[str, list[HeldItem]] = {}
    for item in ordered:
        groups.setdefault(item.alert.target, []).append(item)
    lines: list[str] = []
    for target, group in groups.items():
        worst = max((i.alert.severity for i in group), key=lambda s: s.rank)
        lines.append(
            msg(
                "{target} — {changes} (worst: {severity})",
                target=target,
                changes=nmsg("{n} change", "{n} changes", len(group)),
                severity=severity_text(worst),
            )
        )
        for item in group[:MAX_LINES_PER_TARGET]:
            summary = item.alert.lines[0] if item.alert.lines else item.alert.title
            said = msg(
                "{at} UTC · {severity} · {title}: {summary}",
                at=item.held_at,
                severity=severity_text(item.alert.severity),
                title=item.alert.title,
                summary=summary,
            )
            lines.append(joined("", [_BULLET, said]))
        if len(group) > MAX_LINES_PER_TARGET:
            more = msg("… and {n} more (see history)", n=len(group) - MAX_LINES_PER_TARGET)
            lines.append(joined("", [_BULLET, more]))
    return Alert(
        title=digest_title(ordered),
        severity=max((i.alert.severity for i in ordered), key=lambda s: s.rank),
        target="digest",
        source_label=msg("policybot digest"),
        lines=tuple(lines),
        detected_at=now,
        threaded=False,  # about several targets: it answers no single thread
    )


__all__ = ["HeldItem", "assemble", "digest_title"]
