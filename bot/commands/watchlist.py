"""Declarative watch lists (TOML), so a team can keep its watches in git.

    [[watch]]
    target = "hf:meta-llama/Llama-2-7b-hf"   # or "preset:huggingface"
    to = ["console"]            # optional; POLICYBOT_DEFAULT_CHANNEL otherwise
    min_severity = "notice"     # optional
    select = "main article"     # page: targets only
    ignore = ["^Last updated"]  # page: targets only
    keywords = ["pricing"]      # feed: targets only
    muted_until = 2026-02-01T09:00:00Z   # optional

The whole file is validated before anything is applied: an invalid entry is reported with the
file, the line of its ``[[watch]]`` header and the reason, and nothing is half-applied.
:func:`dumps` writes the same format back (``policybot export``), so export → import
round-trips and a second import changes nothing.

Reading uses the standard library's ``tomllib``; writing uses ``tomli-w`` (the same
author's writer: the standard library cannot write TOML, and hand-escaping strings is how
round trips break).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from bot.commands.validation import option_problems
from bot.domain.errors import UsageError
from bot.domain.model import Severity
from bot.domain.refs import parse_channel

_KEYS = {
    "target",
    "to",
    "min_severity",
    "select",
    "ignore",
    "keywords",
    "muted_until",
    "digest",
    "digest_all",
}
_CADENCES = ("daily", "weekly")
# A `[[watch]]` header on its own line: where each entry starts, for error messages
# (tomllib reports positions only for syntax errors).
_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*watch[ \t]*\]\][ \t]*(?:#.*)?$", re.MULTILINE)
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True, slots=True)
class WatchEntry:
    target: str
    channels: tuple[str, ...]
    min_severity: Severity
    select: str | None
    ignore: tuple[str, ...]
    keywords: tuple[str, ...]
    muted_until: datetime | None = None  # None: leave any mute as it is
    digest: str | None = None  # "daily" | "weekly": collect non-critical alerts
    digest_all: bool = False  # critical ones too
    where: str = ""  # "watches.toml:12" for error messages; "" when not from a file


@dataclass(frozen=True, slots=True)
class Loaded:
    """A watch list read in full: the entries that parsed, and every problem found, each
    naming its file, line and entry. An entry whose only problems are in its options (a bad
    channel, a bad regex) still carries its target, so the target can be checked too and
    the user sees every problem of the file at once."""

    entries: list[WatchEntry]
    problems: list[str]

    def valid(self) -> list[WatchEntry]:
        """The entries, or a UsageError listing every problem."""
        if self.problems:
            raise UsageError("invalid watch list:\n" + "\n".join(self.problems))
        return self.entries


def read(path: Path, default_channel: str) -> Loaded:
    """Read and validate a watch list file; a file that cannot be read or is not TOML at all
    is a UsageError, entry problems are collected in ``problems``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise UsageError(f"{path}: cannot read the watch list: {why}") from None
    return reads(text, str(path), default_channel)


def load(path: Path, default_channel: str) -> list[WatchEntry]:
    return read(path, default_channel).valid()


def loads(text: str, where: str, default_channel: str) -> list[WatchEntry]:
    """Parse and validate a watch list's text; errors name ``where`` and the line."""
    return reads(text, where, default_channel).valid()


def reads(text: str, where: str, default_channel: str) -> Loaded:
    """:func:`loads`, collecting entry problems instead of raising them."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        position = _TOML_POSITION.search(message)
        if position:
            message = _TOML_POSITION.sub("", message)
            raise UsageError(
                f"{where}:{position.group(1)}: not valid TOML: {message} "
                f"(column {position.group(2)})"
            ) from None
        raise UsageError(f"{where}: not valid TOML: {message}") from None
    lines = [text.count("\n", 0, m.start()) + 1 for m in _HEADER.finditer(text)]
    return collect(data, where, default_channel, header_lines=lines)


def parse(
    data: dict[str, Any],
    where: str,
    default_channel: str,
    header_lines: Sequence[int] = (),
) -> list[WatchEntry]:
    """Validate parsed TOML. ``header_lines`` are the lines of the ``[[watch]]`` headers in
    order; when they do not match the entries one to one (inline tables), entries are named
    by number only."""
    return collect(data, where, default_channel, header_lines).valid()


def collect(
    data: dict[str, Any],
    where: str,
    default_channel: str,
    header_lines: Sequence[int] = (),
) -> Loaded:
    """:func:`parse`, collecting every problem of every entry."""
    entries = data.get("watch", [])
    unknown_top = set(data) - {"watch"}
    problems = [f"{where}: unknown top-level key {k!r}" for k in sorted(unknown_top)]
    if not isinstance(entries, list):
        raise UsageError(f"{where}: 'watch' must be an array of tables ([[watch]])")
    use_lines = len(header_lines) == len(entries)
    out: list[WatchEntry] = []
    for number, entry in enumerate(entries, start=1):
        place = f"{where}:{header_lines[number - 1]}" if use_lines else where
        label = f"{place}: [[watch]] #{number}"
        found: list[str] = []
        parsed = _entry(entry, default_channel, label, found)
        problems.extend(f"{label}: {p}" for p in found)
        if parsed is not None:
            out.append(parsed)
    return Loaded(out, problems)


def _strings(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"'{key}' must be a string or a list of strings")
    return tuple(v for v in value if v.strip())


def _entry(entry: Any, default_channel: str, label: str, problems: list[str]) -> WatchEntry | None:
    """One entry, every problem of it appended to ``problems``. Returns the entry (with what
    could be read) whenever its target is a string, so the target is checked as well."""
    if not isinstance(entry, dict):
        problems.append("each entry must be a table")
        return None

    def attempt(check: Any, default: Any = None) -> Any:
        try:
            return check()
        except (UsageError, ValueError, TypeError) as e:
            problems.append(str(e))
            return default

    unknown = set(entry) - _KEYS
    if unknown:
        problems.append(f"unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_KEYS))})")
    target = entry.get("target")
    if not isinstance(target, str) or not target.strip():
        problems.append("'target' is required and must be a string")
        target = None
    channels: tuple[str, ...] = attempt(
        lambda: _strings(entry, "to") if "to" in entry else (default_channel,), ()
    )
    if "to" in entry and not channels and isinstance(entry.get("to"), (str, list)):
        problems.append("'to' names no channel")
    good_channels = tuple(
        c for c in (attempt(lambda c=c: str(parse_channel(c))) for c in channels) if c
    )
    select = entry.get("select")
    if select is not None and not isinstance(select, str):
        problems.append("'select' must be a string (a CSS selector)")
        select = None
    ignore: tuple[str, ...] = attempt(lambda: _strings(entry, "ignore"), ())
    # the check's own regex and CSS engines judge them (bot.commands.validation), all at once
    problems.extend(option_problems(select=select, ignore=ignore, prefix=""))
    muted = entry.get("muted_until")
    if muted is not None and (not isinstance(muted, datetime) or muted.tzinfo is None):
        problems.append("'muted_until' must be a date-time with a zone, e.g. 2026-02-01T09:00Z")
        muted = None
    severity = entry.get("min_severity", "info")
    level = Severity.INFO
    if not isinstance(severity, str):
        problems.append("'min_severity' must be a string")
    else:
        level = attempt(lambda: Severity.parse(severity), Severity.INFO)
    digest = entry.get("digest")
    if digest is not None and digest not in _CADENCES:
        problems.append(f"'digest' must be daily or weekly (got {digest!r})")
        digest = None
    digest_all = entry.get("digest_all", False)
    if not isinstance(digest_all, bool) or (digest_all and entry.get("digest") is None):
        problems.append("'digest_all' is true or false, and needs 'digest'")
        digest_all = False
    keywords: tuple[str, ...] = attempt(lambda: _strings(entry, "keywords"), ())
    if target is None:
        return None
    return WatchEntry(
        target=target.strip(),
        channels=good_channels,
        min_severity=level,
        select=select,
        ignore=ignore,
        keywords=keywords,
        muted_until=muted,
        digest=digest,
        digest_all=digest_all,
        where=label,
    )


def dumps(entries: Sequence[WatchEntry], header: Sequence[str] = ()) -> str:
    """A watch list that :func:`loads` reads back into the same entries."""
    tables: list[dict[str, Any]] = []
    for e in entries:
        table: dict[str, Any] = {
            "target": e.target,
            "to": list(e.channels),
            "min_severity": e.min_severity.value,
        }
        if e.select:
            table["select"] = e.select
        if e.ignore:
            table["ignore"] = list(e.ignore)
        if e.keywords:
            table["keywords"] = list(e.keywords)
        if e.muted_until is not None:
            table["muted_until"] = e.muted_until
        if e.digest:
            table["digest"] = e.digest
        if e.digest_all:
            table["digest_all"] = True
        tables.append(table)
    comments = "".join(f"# {line}\n" for line in header)
    body = tomli_w.dumps({"watch": tables}) if tables else ""
    return comments + ("\n" if comments and body else "") + body
