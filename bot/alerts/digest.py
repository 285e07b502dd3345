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

from bot.domain.model import Alert

MAX_LINES_PER_TARGET = 5  # more than that reads as "… and N more"


@dataclass(frozen=True, slots=True)
class HeldItem:
    """One alert that waited: when it was detected, and what it said."""

    alert: Alert
    held_at: datetime
    reason: str  # "digest" | "quiet"


def digest_title(items: Sequence[HeldItem]) -> str:
    targets = len({i.alert.target for i in items})
    kind = "Digest" if any(i.reason == "digest" for i in items) else "While quiet hours lasted"
    n = len(items)
    return (
        f"{kind}: {n} change{'s' if n != 1 else ''} on {targets} "
        f"target{'s' if targets != 1 else ''}"
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
        count = f"{len(group)} change{'s' if len(group) != 1 else ''}"
        lines.append(f"{target} — {count} (worst: {worst.value})")
        for item in group[:MAX_LINES_PER_TARGET]:
            summary = item.alert.lines[0] if item.alert.lines else item.alert.title
            lines.append(
                f"  • {item.held_at:%Y-%m-%d %H:%M} UTC · {item.alert.severity.value} · "
                f"{item.alert.title}: {summary}"
            )
        if len(group) > MAX_LINES_PER_TARGET:
            lines.append(f"  • … and {len(group) - MAX_LINES_PER_TARGET} more (see history)")
    return Alert(
        title=digest_title(ordered),
        severity=max((i.alert.severity for i in ordered), key=lambda s: s.rank),
        target="digest",
        source_label="policybot digest",
        lines=tuple(lines),
        detected_at=now,
        threaded=False,  # about several targets: it answers no single thread
    )


__all__ = ["HeldItem", "assemble", "digest_title"]
