"""Decide what changed between two snapshots of a repository (Hub or GitHub). Pure.

Facts shape shared by repository sources: :class:`bot.domain.facts.RepoFacts` (a Hub repo's
:class:`~bot.domain.facts.HubFacts` and a GitHub repo's :class:`~bot.domain.facts.GithubFacts`
extend it).

Keys a source cannot know (e.g. the licence of a repo that answers 404) are simply absent from
the merged facts of that check, and a comparison needs the key on both sides: a missing fact
is never read as a change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from bot.domain.facts import RepoFacts
from bot.domain.model import Change, ChangeKind, Severity
from bot.i18n import joined, msg, nmsg
from bot.licences.classify import (
    OPEN_CATEGORIES,
    Direction,
    LicenceSet,
    category_text,
    classify_hub,
    consequence,
    direction,
    direction_text,
    known_after,
)

R = TypeVar("R", bound=RepoFacts)  # the facts of one kind of repo (GitHub's read the text too)

_LICENCE_SEVERITY = {
    Direction.MORE_RESTRICTIVE: Severity.CRITICAL,
    Direction.UNKNOWN: Severity.WARNING,
    Direction.LESS_RESTRICTIVE: Severity.NOTICE,
    Direction.LATERAL: Severity.NOTICE,
}


def licence_set(facts: RepoFacts) -> LicenceSet:
    lic = facts.get("licence")
    if not lic:
        return classify_hub([], None)
    return classify_hub(list(lic.get("ids") or []), lic.get("name"))


def access_state(facts: RepoFacts) -> str:
    """One word-ish label for who can reach the repo: ordered from open to closed."""
    if not facts.get("exists", True):
        return _ACCESS_STATES["unreachable"]
    if facts.get("disabled"):
        return _ACCESS_STATES["disabled"]
    if facts.get("private"):
        return _ACCESS_STATES["private"]
    gated = facts.get("gated")
    if gated in ("manual", "auto"):
        return _ACCESS_STATES[f"gated ({gated})"]
    if facts.get("archived"):
        return _ACCESS_STATES["archived"]
    return _ACCESS_STATES["public"]


# The states, each reading as its English name (compared and stored as such) and translated
# where a reader sees it.
_ACCESS_STATES = {
    "unreachable": msg("unreachable"),
    "disabled": msg("disabled"),
    "private": msg("private"),
    "gated (manual)": msg("gated (manual)"),
    "gated (auto)": msg("gated (auto)"),
    "archived": msg("archived"),
    "public": msg("public"),
}
_ACCESS_MEANING = {
    "unreachable": msg("deleted, or made private (not found twice in a row)"),
    "disabled": msg("disabled by the platform: files can no longer be downloaded"),
    "private": msg("now private: only members can see it"),
    "gated (manual)": msg("now gated: downloads need a request approved by the authors"),
    "gated (auto)": msg("now gated: downloads need accepting the authors' terms"),
    "archived": msg("archived: read-only, no further updates"),
}
_GATE_MODES = {"manual": msg("manual"), "auto": msg("auto")}
_ACCESS_SEVERITY = {
    "unreachable": Severity.CRITICAL,
    "disabled": Severity.CRITICAL,
    "private": Severity.WARNING,
    "gated (manual)": Severity.WARNING,
    "gated (auto)": Severity.WARNING,
    "archived": Severity.NOTICE,
}


def detect_repo(
    prev: R,
    new: R,
    *,
    earlier: R | None = None,
    prev_since: datetime | None = None,
    now: datetime | None = None,
    licences: Callable[[R], LicenceSet] = licence_set,
) -> list[Change]:
    """Changes from ``prev`` to ``new``.

    ``earlier`` is the snapshot ``prev`` replaced and ``prev_since`` when ``prev`` was taken:
    with them, a licence that flips back is reported as a reversal ("reverted after 255 days").
    ``licences`` reads the licence out of facts (GitHub names custom licences from the text).
    """
    found: list[Change] = []
    found.extend(_licence_change(prev, new, earlier, prev_since, now, licences))
    found.extend(_access_change(prev, new))
    if prev.get("id") and new.get("id") and prev["id"] != new["id"]:
        found.append(
            Change(
                ChangeKind.ACCESS,
                Severity.NOTICE,
                msg("moved: {old} is now {new}", old=prev["id"], new=new["id"]),
                before=prev["id"],
                after=new["id"],
            )
        )
    return found


def _licence_change(
    prev: R,
    new: R,
    earlier: R | None,
    prev_since: datetime | None,
    now: datetime | None,
    licences: Callable[[R], LicenceSet] = licence_set,
) -> list[Change]:
    if "licence" not in prev or "licence" not in new:
        return []
    before, after = licences(prev), licences(new)
    if _identity(before) == _identity(after):
        return []
    way = direction(before, after)
    severity = _LICENCE_SEVERITY[way]
    said = direction_text(way)
    known = known_after(before, after)
    if known is not None:  # from a custom/unknown licence: ranked by what is known now
        severity = Severity.NOTICE if known in OPEN_CATEGORIES else Severity.WARNING
        said = msg("now {category}", category=category_text(known))
    summary = msg(
        "{before} → {after} · {direction}",
        before=before.describe(),
        after=after.describe(),
        direction=said,
    )
    meaning = consequence(before, after)
    detail_lines: list[str] = [meaning] if meaning else []
    if (
        earlier is not None
        and "licence" in earlier
        and _identity(licences(earlier)) == _identity(after)
    ):
        if prev_since is not None and now is not None:
            days = max(0, (now - prev_since).days)
            detail_lines.append(nmsg("reverted after {n} day", "reverted after {n} days", days))
        else:
            detail_lines.append(msg("reverted to the earlier licence"))
    return [
        Change(
            ChangeKind.LICENCE,
            severity,
            summary,
            before=before.describe(),
            after=after.describe(),
            detail=joined("; ", detail_lines) if detail_lines else None,
        )
    ]


def _identity(licences: LicenceSet) -> tuple[tuple[str, str], ...]:
    """What makes two licence declarations the same: the resolved key or the verbatim id."""
    return tuple(
        sorted((lic.key or lic.raw.lower(), lic.label.lower()) for lic in licences.licences)
    )


def _access_change(prev: RepoFacts, new: RepoFacts) -> list[Change]:
    before, after = access_state(prev), access_state(new)
    if before == after:
        return []
    if after == "public":
        closed = before in ("unreachable", "disabled", "private")
        meaning = msg("restored: reachable again") if closed else msg("no longer gated")
        severity = Severity.NOTICE
    else:
        meaning = _ACCESS_MEANING[after]
        severity = _ACCESS_SEVERITY[after]
        if before.startswith("gated") and after.startswith("gated"):
            severity = Severity.NOTICE
            mode = _GATE_MODES[after.removeprefix("gated ").strip("()")]
            meaning = msg("gating changed to {mode} approval", mode=mode)
        elif after == "archived" and before in ("unreachable", "disabled", "private"):
            meaning = msg("restored: reachable again (archived)")
    return [
        Change(
            ChangeKind.ACCESS,
            severity,
            msg("{before} → {after}: {meaning}", before=before, after=after, meaning=meaning),
            before=before,
            after=after,
        )
    ]
