"""Licence identifiers → what they mean: ScanCode LicenseDB key, category, direction of a change.

A licence alert is only useful if it says what changed for the reader ("Apache-2.0 (permissive)
→ hfoil-1.0 (source-available): more restrictive"), so every id the Hub or GitHub can report is
put in one of a few ranked categories. The categories come from the ScanCode LicenseDB index
that license-expression ships (read once, lazily); the ids the index does not know are decided
in `bot.licences.tables` with a reason each. Pure: no network, no I/O but that one file.

Lookup order matters (platform-facts 1.7): our Hub table, then SPDX ids, then ScanCode keys,
because the Hub's `bsl-1.0` is Boost while ScanCode's key `bsl-1.0` is the Business Source
License. ScanCode files CC-BY-NC-* under "Source-available"; we call them non-commercial,
which tells a user the thing they need to know: commercial use is now restricted.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

from bot.i18n import joined, msg
from bot.licences.tables import HUB_ALIASES, HUB_DECIDED, TITLE_PATTERNS


class Category(StrEnum):
    PUBLIC_DOMAIN = "public domain"
    PERMISSIVE = "permissive"
    WEAK_COPYLEFT = "weak copyleft"
    COPYLEFT = "copyleft"
    FREE_RESTRICTED = "free-restricted"
    PROPRIETARY_FREE = "proprietary-free"
    SOURCE_AVAILABLE = "source-available"
    NON_COMMERCIAL = "non-commercial"
    COMMERCIAL = "commercial"
    UNKNOWN = "unknown"


# How much a licence restricts its user; None = cannot be ranked.
RANK: dict[Category, int | None] = {
    Category.PUBLIC_DOMAIN: 0,
    Category.PERMISSIVE: 1,
    Category.WEAK_COPYLEFT: 2,
    Category.COPYLEFT: 3,
    Category.FREE_RESTRICTED: 4,
    Category.PROPRIETARY_FREE: 4,
    Category.SOURCE_AVAILABLE: 4,
    Category.NON_COMMERCIAL: 4,
    Category.COMMERCIAL: 5,
    Category.UNKNOWN: None,
}

# ScanCode category → ours. Patent License, CLA and Unstated License say nothing about what a
# user may do with the work, so they (and anything new) fall to UNKNOWN.
_SCANCODE_CATEGORIES: dict[str, Category] = {
    "Public Domain": Category.PUBLIC_DOMAIN,
    "Permissive": Category.PERMISSIVE,
    "Copyleft Limited": Category.WEAK_COPYLEFT,
    "Copyleft": Category.COPYLEFT,
    "Free Restricted": Category.FREE_RESTRICTED,
    "Proprietary Free": Category.PROPRIETARY_FREE,
    "Source-available": Category.SOURCE_AVAILABLE,
    "Commercial": Category.COMMERCIAL,
}
# The index says Source-available for every cc-by-nc-*; "non-commercial" is the useful truth.
_NON_COMMERCIAL_KEY_PREFIXES = ("cc-by-nc-",)
# Ids that mean "no statement" (Hub `unknown`, GitHub `NOASSERTION`), compared case-folded.
_NO_STATEMENT = frozenset({"", "unknown", "noassertion", "none"})
_SCANCODE_REF = "licenseref-scancode-"


def category_text(category: Category) -> str:
    """A category as the reader's language says it ("permissive", "permissiva")."""
    return _CATEGORY_TEXT[category]


def direction_text(way: Direction) -> str:
    """A direction as the reader's language says it ("more restrictive")."""
    return _DIRECTION_TEXT[way]


class Direction(StrEnum):
    MORE_RESTRICTIVE = "more restrictive"
    LESS_RESTRICTIVE = "less restrictive"
    LATERAL = "lateral"
    UNKNOWN = "unknown"


_CATEGORY_TEXT = {
    Category.PUBLIC_DOMAIN: msg("public domain"),
    Category.PERMISSIVE: msg("permissive"),
    Category.WEAK_COPYLEFT: msg("weak copyleft"),
    Category.COPYLEFT: msg("copyleft"),
    Category.FREE_RESTRICTED: msg("free-restricted"),
    Category.PROPRIETARY_FREE: msg("proprietary-free"),
    Category.SOURCE_AVAILABLE: msg("source-available"),
    Category.NON_COMMERCIAL: msg("non-commercial"),
    Category.COMMERCIAL: msg("commercial"),
    Category.UNKNOWN: msg("unknown"),
}
_DIRECTION_TEXT = {
    Direction.MORE_RESTRICTIVE: msg("more restrictive"),
    Direction.LESS_RESTRICTIVE: msg("less restrictive"),
    Direction.LATERAL: msg("lateral"),
    Direction.UNKNOWN: msg("unknown"),
}


@dataclass(frozen=True, slots=True)
class Licence:
    """One licence as a source reported it. `raw` is kept verbatim, whatever else is known.

    `key` is a ScanCode LicenseDB key (for a dual-licence text from `identify_text`, a ScanCode
    expression such as "rsalv2 OR mongodb-sspl-1.0"); `spdx` is an id on the SPDX list (never a
    LicenseRef); `name` is the Hub's `license_name` when the id was `other`.
    """

    raw: str
    label: str
    key: str | None
    spdx: str | None
    category: Category
    name: str | None = None

    @property
    def rank(self) -> int | None:
        return RANK[self.category]

    def describe(self) -> str:
        if self.category is Category.UNKNOWN and self.label.casefold() in _NO_STATEMENT:
            return msg("unknown")
        if self.category is Category.UNKNOWN and self.name:  # its own terms, under a name
            custom = self.label.casefold().startswith("custom licence")
            return self.label if custom else msg("{licence} (custom)", licence=self.label)
        return msg(
            "{licence} ({category})", licence=self.label, category=category_text(self.category)
        )


@dataclass(frozen=True, slots=True)
class LicenceSet:
    """What a repo declares: usually one licence, datasets may list several, empty = none.

    Several licences are read conservatively: the set is as restrictive as its most
    restrictive member, and a member we cannot rank makes the whole set unrankable.
    """

    licences: tuple[Licence, ...] = ()

    @property
    def most_restrictive(self) -> Licence | None:
        if not self.licences or any(lic.rank is None for lic in self.licences):
            return None
        return max(self.licences, key=lambda lic: lic.rank or 0)

    @property
    def category(self) -> Category:
        worst = self.most_restrictive
        return Category.UNKNOWN if worst is None else worst.category

    @property
    def rank(self) -> int | None:
        return RANK[self.category]

    @property
    def label(self) -> str:
        return " + ".join(lic.label for lic in self.licences) or msg("none declared")

    def describe(self) -> str:
        if not self.licences:
            return msg("none declared")
        return joined(" + ", [lic.describe() for lic in self.licences])


@dataclass(frozen=True, slots=True)
class LicenseDbEntry:
    key: str
    category: str  # ScanCode's own category name, e.g. "Copyleft Limited"
    spdx: str | None  # spdx_license_key as the index has it (may be a LicenseRef)
    other_spdx: tuple[str, ...]
    deprecated: bool


@dataclass(frozen=True, slots=True)
class _Index:
    by_key: Mapping[str, LicenseDbEntry]
    by_spdx: Mapping[str, LicenseDbEntry]  # case-folded SPDX id or LicenseRef → entry


@cache
def _index() -> _Index:
    resource = files("license_expression") / "data" / "scancode-licensedb-index.json"
    rows = json.loads(resource.read_text(encoding="utf-8"))
    by_key: dict[str, LicenseDbEntry] = {}
    by_spdx: dict[str, LicenseDbEntry] = {}
    for row in rows:
        entry = LicenseDbEntry(
            key=row["license_key"],
            category=row.get("category") or "",
            spdx=row.get("spdx_license_key") or None,
            other_spdx=tuple(row.get("other_spdx_license_keys") or ()),
            deprecated=bool(row.get("is_deprecated")),
        )
        by_key[entry.key] = entry
        for alias in entry.other_spdx:
            by_spdx.setdefault(alias.casefold(), entry)
    for entry in by_key.values():  # a primary SPDX id beats anyone's secondary alias
        if entry.spdx:
            by_spdx[entry.spdx.casefold()] = entry
    return _Index(by_key=by_key, by_spdx=by_spdx)


def licensedb() -> Mapping[str, LicenseDbEntry]:
    """The ScanCode LicenseDB index shipped with license-expression, by key."""
    return _index().by_key


def _from_entry(raw: str, entry: LicenseDbEntry) -> Licence:
    spdx = entry.spdx if entry.spdx and not entry.spdx.lower().startswith("licenseref-") else None
    category = _SCANCODE_CATEGORIES.get(entry.category, Category.UNKNOWN)
    if entry.key.startswith(_NON_COMMERCIAL_KEY_PREFIXES):
        category = Category.NON_COMMERCIAL
    return Licence(raw, display_label(entry.key, spdx), entry.key, spdx, category)


@cache
def _hub_ids() -> dict[str, str]:
    """ScanCode key → the Hub's id for it (llama-3.1-license-2024 → llama3.1)."""
    return {key: hub for hub, key in HUB_ALIASES.items()}


def display_label(key: str, spdx: str | None) -> str:
    """The one naming scheme for every licence shown: its SPDX id where it has one, else the
    Hub's id (llama3.1, gemma, bigscience-openrail-m, as in `HUB_DECIDED`), else its ScanCode
    LicenseDB key. So Llama 3 and Llama 3.1 read "llama3" and "llama3.1", not "llama3" beside
    "llama-3.1-license-2024"."""
    return spdx or _hub_ids().get(key) or key


def _lookup(identifier: str) -> LicenseDbEntry | None:
    index, folded = _index(), identifier.strip().casefold()
    if folded in HUB_ALIASES:
        return index.by_key[HUB_ALIASES[folded]]
    if folded in index.by_spdx:  # SPDX before keys: the bsl-1.0 trap
        return index.by_spdx[folded]
    if folded in index.by_key:
        return index.by_key[folded]
    if folded.startswith(_SCANCODE_REF):
        return index.by_key.get(folded.removeprefix(_SCANCODE_REF))
    return None


def classify_id(identifier: str, *, name: str | None = None) -> Licence:
    """One licence id from the Hub, SPDX (GitHub) or ScanCode → a `Licence`; never raises."""
    folded = identifier.strip().casefold()
    if folded == "other":
        name = (name or "").strip() or None
        named = _classify_name(name) if name else None
        if named is None:
            return Licence(identifier, name or identifier, None, None, Category.UNKNOWN, name)
        return dataclasses.replace(named, raw=identifier, name=name)
    if folded in _NO_STATEMENT:
        return Licence(identifier, identifier.strip() or "unknown", None, None, Category.UNKNOWN)
    if folded in HUB_DECIDED:
        return Licence(identifier, identifier.strip(), None, None, Category(HUB_DECIDED[folded]))
    entry = _lookup(identifier)
    if entry is None:
        return Licence(identifier, identifier.strip(), None, None, Category.UNKNOWN)
    return _from_entry(identifier, entry)


def _classify_name(name: str) -> Licence | None:
    """A Hub `license_name` ("llama3", "hfoil-1.0", "Llama 3 Community License") or None."""
    if name.strip().casefold() != "other":
        by_id = classify_id(name)
        if by_id.category is not Category.UNKNOWN:
            return by_id
    ids = _title_ids([_normalise(name)])
    return classify_id(ids[0][1]) if ids else None


def classify_hub(
    license: str | list[str] | None,
    license_name: str | None = None,
    tags: Sequence[str] = (),
) -> LicenceSet:
    """A Hub repo's `cardData.license` (+ `license_name`), else its `license:<id>` tags."""
    if isinstance(license, str):
        ids = [license]
    elif license:
        ids = [str(item) for item in license]
    else:
        ids = [tag.removeprefix("license:") for tag in tags if tag.startswith("license:")]
    ids = [i for i in ids if i.strip()]
    if not ids and license_name and license_name.strip():
        ids = ["other"]  # a name without an id: the Hub's way of saying "other"
    return LicenceSet(_unique(classify_id(i, name=license_name) for i in ids))


def _unique(licences: Iterable[Licence]) -> tuple[Licence, ...]:
    seen: dict[tuple[str | None, str, Category], Licence] = {}
    for lic in licences:
        seen.setdefault((lic.key, lic.label, lic.category), lic)
    return tuple(seen.values())


def direction(before: LicenceSet, after: LicenceSet) -> Direction:
    """How `after` compares with `before` for someone using the work.

    "None declared" is read as the law reads it: no licence, all rights reserved (like a
    commercial licence, rank 5). So dropping a licence is MORE_RESTRICTIVE and declaring one
    where there was none is LESS_RESTRICTIVE (LATERAL against a commercial licence). Anything
    involving a licence we cannot rank is UNKNOWN.
    """
    if not before.licences and not after.licences:
        return Direction.LATERAL
    old = RANK[Category.COMMERCIAL] if not before.licences else before.rank
    new = RANK[Category.COMMERCIAL] if not after.licences else after.rank
    if old is None or new is None:
        return Direction.UNKNOWN
    if new > old:
        return Direction.MORE_RESTRICTIVE
    return Direction.LESS_RESTRICTIVE if new < old else Direction.LATERAL


_RESTRICTED_USE = {
    Category.NON_COMMERCIAL: msg("commercial use now restricted"),
    Category.SOURCE_AVAILABLE: msg("commercial use now restricted"),
    Category.PROPRIETARY_FREE: msg("commercial use now restricted"),
    Category.FREE_RESTRICTED: msg("new restrictions on how it may be used"),
    Category.COMMERCIAL: msg("now under a commercial licence"),
}


def known_after(before: LicenceSet, after: LicenceSet) -> Category | None:
    """The category a repo moved to from a licence we cannot rank (a custom or unknown one),
    or None when that is not the case. Such a change is ranked by what is known: the new
    licence's category ("yi-license (custom) → Apache-2.0 (permissive)": now permissive)."""
    if not before.licences or before.rank is not None or after.rank is None:
        return None
    if not after.licences:
        return None  # dropping a licence is decided by `direction` (all rights reserved)
    return after.category


# Ranked from a licence we cannot rank: only a floor this low is good news whatever came before.
OPEN_CATEGORIES = frozenset({Category.PUBLIC_DOMAIN, Category.PERMISSIVE})
_NOW = {
    Category.WEAK_COPYLEFT: msg("copyleft obligations apply"),
    Category.COPYLEFT: msg("copyleft obligations apply"),
    Category.FREE_RESTRICTED: msg("restrictions on how it may be used"),
    Category.PROPRIETARY_FREE: msg("use restrictions apply"),
    Category.SOURCE_AVAILABLE: msg("commercial use restricted"),
    Category.NON_COMMERCIAL: msg("commercial use restricted"),
    Category.COMMERCIAL: msg("under a commercial licence"),
}


def consequence(before: LicenceSet, after: LicenceSet) -> str | None:
    """The one plain-English implication of a licence change, or None when nothing is clear."""
    if before.licences and not after.licences:
        return msg("licence removed: default copyright applies (all rights reserved)")
    if after.licences and not before.licences:
        return msg("a licence is now declared")
    known = known_after(before, after)
    if known is not None:  # the summary says "now <category>"; this, what that implies
        return _NOW.get(known)
    old, new = before.rank, after.rank
    if old is None or new is None or old == new:
        return None
    if new >= 4 and old <= 3:
        return _RESTRICTED_USE[after.category]
    if new in (2, 3) and old <= 1:
        return msg("copyleft obligations added")
    if new == 3 and old == 2:
        return msg("stronger copyleft obligations")
    if new <= 1 and old >= 2:
        return msg("now public domain") if new == 0 else msg("now permissive")
    if new in (2, 3) and old >= 4:
        return msg("use restrictions lifted; copyleft obligations apply")
    return None


# --- naming a licence from its text (GitHub's NOASSERTION case) ------------------------------

_TITLES = tuple((re.compile(r"(?:the\s+)?" + pattern), ident) for pattern, ident in TITLE_PATTERNS)
_LEADER = re.compile(r"^(?:[\s#*>=_~|-]+|\(?\d+(?:\.\d+)*[.)]\s+|part \d+[.:]\s*)*")
_QUOTES = str.maketrans(
    {c: None for c in "\"'`\u2018\u2019\u201c\u201d"} | {"\u2013": "-", "\u2014": "-"}
)
_TITLE_MAX = 80
_SPDX_LINE = re.compile(r"spdx-license-identifier:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)


def _normalise(line: str) -> str:
    text = " ".join(line.casefold().translate(_QUOTES).split())
    return _LEADER.sub("", text)


def first_heading(text: str) -> str | None:
    """The first line of a licence text that has letters in it, trimmed to 120 characters."""
    for line in text.splitlines():
        heading = " ".join(line.strip(" \t#*=_-").split())
        if any(c.isalpha() for c in heading):
            return heading if len(heading) <= 120 else heading[:119] + "…"
    return None


def _title_ids(lines: Sequence[str]) -> list[tuple[int, str]]:
    """(line index, identifier) of every short line that starts with a known licence title.

    Short (at most `_TITLE_MAX` characters) so that a wrapped sentence which happens to start
    with "the Redis Source Available License v2 (RSALv2) or ..." is not taken for a title.
    """
    found: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if len(line) > _TITLE_MAX:
            continue
        window = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        for pattern, ident in _TITLES:
            if pattern.match(window):
                found.append((i, ident))
                break
    return found


# askalono (pyaskalono) names texts of the SPDX licence list. Its score is the Sørensen–Dice
# similarity of the text's word bigrams with the licence's; a BUSL-1.1 file scores only 0.6-0.73
# because its parameters block is the licensor's own, while a custom text (the Yi licence)
# scores 0.15 and a sentence that mentions a licence under 0.1. Above this, the name is kept.
MATCH_THRESHOLD = 0.5
# A whole second licence text is present when the score is this high (Redis: SSPL at 0.90).
WHOLE_TEXT_SCORE = 0.8
_MATCH_MAX_CHARS = 200_000  # longer texts are matched on their start (GPL-3.0 is 35 kB)
_CHOICE = re.compile(r"\b(?:or|either|choice|choose|at your option)\b")


@dataclass(frozen=True, slots=True)
class Match:
    """What the SPDX matcher said about a text: an SPDX id and its similarity score."""

    spdx: str
    score: float


@functools.lru_cache(maxsize=256)
def match_spdx(text: str) -> Match | None:
    """askalono's best SPDX licence for ``text``, or None when it is not installed.

    Cached by text: askalono reloads its embedded store on every call (~0.15 s of CPU), and
    the same licence text is named several times per check (before, after, describe).
    """
    try:
        import askalono
    except ImportError:  # pragma: no cover - a hard dependency; rules still name custom texts
        return None
    found = askalono.identify(text[:_MATCH_MAX_CHARS])
    return Match(str(found.name), float(found.score))


def identify_text(text: str) -> Licence | None:
    """Name the licence in a LICENSE file's text, or None for a text we do not recognise.

    In order: an `SPDX-License-Identifier:` line naming one licence; else the first line that
    is the title of a licence no matcher knows (`TITLE_PATTERNS`: HFOIL, RSALv2, Llama, Gemma,
    the RAIL licences…) — and when the text before that title offers a choice of licences
    whose whole texts follow (Redis: "RSALv2 or SSPLv1"), the result is their OR, ranked by the
    least restrictive member, since the user may pick either; else the SPDX matcher (askalono)
    when its score reaches `MATCH_THRESHOLD`. `raw` is the text's first heading.
    """
    heading = first_heading(text) or ""
    spdx_ids = _SPDX_LINE.findall(text)
    if len(spdx_ids) == 1:
        tagged = classify_id(spdx_ids[0])
        if tagged.category is not Category.UNKNOWN:
            return dataclasses.replace(tagged, raw=heading)
    lines = [n for n in (_normalise(line) for line in text.splitlines()) if n]
    titled = _title_ids(lines)
    matched = match_spdx(text)
    if titled:
        first_line, first_id = titled[0]
        preamble = " ".join(lines[:first_line])
        ids = [first_id]
        for _, ident in titled[1:]:
            mentioned = any(p.search(preamble) for p, i in _TITLES if i == ident)
            if ident not in ids and mentioned:
                ids.append(ident)
        choices = [classify_id(i) for i in ids]
        if matched is not None and matched.score >= WHOLE_TEXT_SCORE and _CHOICE.search(preamble):
            other = classify_id(matched.spdx)
            if other.category is not Category.UNKNOWN and other.key not in {c.key for c in choices}:
                choices.append(other)
        return _either(heading, choices)
    if matched is not None and matched.score >= MATCH_THRESHOLD:
        named = classify_id(matched.spdx)
        if named.category is not Category.UNKNOWN:
            return dataclasses.replace(named, raw=heading)
    return None


def name_text(text: str, path: str | None = None) -> Licence:
    """The licence a licence file's text states: identified, else a custom licence named by
    its first heading (or the file's path), category unknown."""
    named = identify_text(text)
    if named is not None:
        return named
    heading = first_heading(text) or path or "LICENSE"
    named_as = msg("custom licence “{heading}”", heading=heading)
    return Licence(heading, named_as, None, None, Category.UNKNOWN, heading)


def _either(raw: str, choices: list[Licence]) -> Licence:
    """One licence, or a dual licence "A OR B" (the licensee chooses: least restrictive rank)."""
    if len(choices) == 1:
        return dataclasses.replace(choices[0], raw=raw)
    ranked = [c for c in choices if c.rank is not None]
    best = min(ranked, key=lambda c: c.rank or 0) if len(ranked) == len(choices) else None
    spdx = [c.spdx for c in choices]
    return Licence(
        raw=raw,
        label=" OR ".join(c.label for c in choices),
        key=" OR ".join(c.key or c.label for c in choices),
        spdx=" OR ".join(s for s in spdx if s) if all(spdx) else None,
        category=best.category if best else Category.UNKNOWN,
    )
