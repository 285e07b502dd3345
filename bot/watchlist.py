"""Declarative watch lists (TOML), so a team can keep its watches in git.

    [[watch]]
    target = "hf:meta-llama/Llama-2-7b-hf"
    to = ["console"]            # optional; POLICYBOT_DEFAULT_CHANNEL otherwise
    min_severity = "notice"     # optional

The whole file is validated before anything is applied: an invalid entry is reported with the
file, the entry number and the reason, and nothing is half-applied.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from bot.model import Severity
from bot.refs import parse_channel

_KEYS = {"target", "to", "min_severity", "select", "ignore", "keywords"}


@dataclass(frozen=True, slots=True)
class WatchEntry:
    target: str
    channels: tuple[str, ...]
    min_severity: Severity
    select: str | None
    ignore: tuple[str, ...]
    keywords: tuple[str, ...]


def load(path: Path, default_channel: str) -> list[WatchEntry]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{path}: cannot read the watch list: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: not valid TOML: {e}") from None
    return parse(data, str(path), default_channel)


def parse(data: dict[str, Any], where: str, default_channel: str) -> list[WatchEntry]:
    entries = data.get("watch", [])
    unknown_top = set(data) - {"watch"}
    problems = [f"{where}: unknown top-level key {k!r}" for k in sorted(unknown_top)]
    if not isinstance(entries, list):
        raise UsageError(f"{where}: 'watch' must be an array of tables ([[watch]])")
    out: list[WatchEntry] = []
    for number, entry in enumerate(entries, start=1):
        label = f"{where}: [[watch]] #{number}"
        try:
            out.append(_entry(entry, default_channel))
        except (UsageError, ValueError, TypeError) as e:
            problems.append(f"{label}: {e}")
    if problems:
        raise UsageError("invalid watch list:\n" + "\n".join(problems))
    return out


def _entry(entry: Any, default_channel: str) -> WatchEntry:
    if not isinstance(entry, dict):
        raise TypeError("each entry must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ValueError(
            f"unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
        )
    target = entry.get("target")
    if not isinstance(target, str) or not target.strip():
        raise ValueError("'target' is required and must be a string")
    to = entry.get("to", [default_channel])
    channels = (to,) if isinstance(to, str) else tuple(to)
    for channel in channels:
        parse_channel(str(channel))
    return WatchEntry(
        target=target.strip(),
        channels=tuple(str(c) for c in channels),
        min_severity=Severity.parse(str(entry.get("min_severity", "info"))),
        select=entry.get("select"),
        ignore=tuple(entry.get("ignore", ())),
        keywords=tuple(entry.get("keywords", ())),
    )
