"""Platform presets: ``watch preset:huggingface`` → a curated, versioned set of watch entries.

The sets live in ``bot/commands/presets.toml`` (package data) so they are reviewed like code and
each source carries the reason it is there. Expansion is pure: a preset name becomes
:class:`~bot.commands.watchlist.WatchEntry` values, which the service applies through the same
validate-everything-then-apply path as a watch list (nothing is half-applied). A preset is
not a stored target kind: once applied, its sources are ordinary watches.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from bot.commands.watchlist import WatchEntry
from bot.domain.errors import InvalidTarget
from bot.domain.model import Severity
from bot.i18n import msg, nmsg

_ENTRY_KEYS = {"target", "why", "select", "ignore", "keywords"}


@dataclass(frozen=True, slots=True)
class PresetSource:
    target: str
    why: str
    select: str | None = None
    ignore: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    version: int
    title: str
    sources: tuple[PresetSource, ...]


def parse_catalogue(data: Mapping[str, Any]) -> dict[str, Preset]:
    """Presets from the parsed data file; raises ValueError naming the bad entry."""
    out: dict[str, Preset] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"preset {name!r} must be a table")
        version, title, entries = table.get("version"), table.get("title"), table.get("watch")
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"preset {name!r} needs a version (a positive integer)")
        if not isinstance(title, str) or not isinstance(entries, list) or not entries:
            raise ValueError(f"preset {name!r} needs a title and [[{name}.watch]] entries")
        sources = []
        for number, entry in enumerate(entries, start=1):
            unknown = set(entry) - _ENTRY_KEYS
            if unknown or not entry.get("target") or not entry.get("why"):
                raise ValueError(
                    f"preset {name!r} entry #{number}: needs target and why"
                    + (f"; unknown key {sorted(unknown)[0]!r}" if unknown else "")
                )
            sources.append(
                PresetSource(
                    target=entry["target"],
                    why=entry["why"],
                    select=entry.get("select"),
                    ignore=tuple(entry.get("ignore", ())),
                    keywords=tuple(entry.get("keywords", ())),
                )
            )
        out[name] = Preset(name, version, title, tuple(sources))
    return out


@cache
def catalogue() -> dict[str, Preset]:
    """The presets shipped with this version of policybot."""
    text = resources.files("bot.commands").joinpath("presets.toml").read_text(encoding="utf-8")
    return parse_catalogue(tomllib.loads(text))


def find(name: str, presets: Mapping[str, Preset]) -> Preset:
    preset = presets.get(name.strip().lower())
    if preset is None:
        close = difflib.get_close_matches(name.lower(), list(presets), n=1, cutoff=0.7)
        hint = f" (did you mean preset:{close[0]}?)" if close else ""
        raise InvalidTarget(
            f"no preset {name!r}{hint}; presets: "
            + ", ".join(f"preset:{n}" for n in sorted(presets))
        )
    return preset


def expand(
    preset: Preset, channels: Sequence[str], min_severity: Severity = Severity.INFO
) -> list[WatchEntry]:
    """The watch entries that subscribe ``channels`` to every source of ``preset``."""
    where = f"preset:{preset.name} v{preset.version}"
    return [
        WatchEntry(
            target=source.target,
            channels=tuple(channels),
            min_severity=min_severity,
            select=source.select,
            ignore=source.ignore,
            keywords=source.keywords,
            where=f"{where} {source.target}",
        )
        for source in preset.sources
    ]


def describe(presets: Mapping[str, Preset], *, verbose: bool = False) -> list[str]:
    """Lines for ``policybot presets`` and the chat ``presets`` command."""
    lines: list[str] = []
    for name in sorted(presets):
        preset = presets[name]
        said = nmsg(
            "preset:{name} (v{version}, {n} source) · {title}",
            "preset:{name} (v{version}, {n} sources) · {title}",
            len(preset.sources),
            name=name,
            version=str(preset.version),
            title=preset.title,  # the preset's own words (presets.toml), as written
        )
        lines.append(said)
        if verbose:
            for source in preset.sources:
                extra = ""
                if source.select:
                    extra += f" [select {source.select!r}]"
                if source.keywords:
                    extra += f" [keywords {', '.join(source.keywords)}]"
                lines.append(f"  {source.target}{extra}")
                lines.append(msg("    why: {why}", why=source.why))
    return lines
