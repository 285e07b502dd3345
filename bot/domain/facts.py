"""The facts each source stores, as TypedDicts: exactly the JSON of ``snapshots.facts``.

TypedDicts rather than classes with ``to_json``/``from_json`` because the stored JSON *is* the
value: a row loads with ``json.loads`` and serialises back to the same bytes, so facts digests
(which decide whether a target changed) cannot move, no migration is needed, and mypy still
checks every key a source reads or writes. Keys a snapshot may lack (older rows, partial
checks, a ``Gone`` target's ``{"exists": false}``) are ``NotRequired``; code reads them with
``.get`` as before.

Standard library only: detection, rendering, sources and the store all import it.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# --- repositories (Hub and GitHub; one repo inside an org's facts) ----------------------------


class LicenceFacts(TypedDict):
    """The declared licence: the platform's ids (SPDX or the Hub's ``other``) and name."""

    ids: list[str]
    name: str | None
    path: NotRequired[str | None]  # GitHub: where the licence file is


class RepoFacts(TypedDict, total=False):
    """What :mod:`bot.detect.repo` compares for any repository (licence, access, identity)."""

    exists: bool
    id: str
    licence: LicenceFacts
    gated: Literal["auto", "manual", False]  # Hub only
    private: bool
    disabled: bool
    archived: bool  # GitHub only
    partial: bool  # this check could not read everything (a disabled repo, a reused file)
    licence_text_rules: (
        int  # bot.licences.full_text.RULES_KEY: the rules a snapshot's text was judged by
    )


class LicenceFile(TypedDict):
    """A Hub repo's own licence file, read at the repo's commit (``text`` empty unless ok)."""

    path: str | None
    status: Literal["ok", "gated", "too-large", "missing"]
    text: str


class HubFacts(RepoFacts, total=False):
    licence_file: LicenceFile


class GithubFacts(RepoFacts, total=False):
    licence_text: str


# --- organisations ---------------------------------------------------------------------------


class OrgFacts(TypedDict, total=False):
    """An org's public repos: key → that repo's facts (Hub keys are ``kind:id``)."""

    exists: bool
    owner: str
    partial: bool
    repos: dict[str, RepoFacts]


# --- feeds -----------------------------------------------------------------------------------


class EntryFacts(TypedDict):
    """One feed entry as stored (:meth:`bot.text.feed_entries.Entry.to_json`)."""

    key: str
    title: str
    link: str | None
    published: str | None
    summary: str


class FeedFacts(TypedDict, total=False):
    title: str
    link: str | None
    total: int
    entries: list[EntryFacts]
    seen: list[
        str
    ]  # digests of every entry id seen, newest first (bot.text.feed_entries.seen_digest)
    read: int  # only when the body listed more entries than were parsed
    exists: bool
    partial: bool


# --- pages -----------------------------------------------------------------------------------


class ViewError(TypedDict):
    reason: str  # a bot.domain.errors.FailureReason value
    message: str


class PageView(TypedDict, total=False):
    """One view's version of a page: its text lines, zlib-compressed; or why it failed (then
    the last good text is carried alongside the error)."""

    text_z: str
    lines: int
    sha256: str
    title: str
    ignore: str  # bot.text.page_views.IGNORE_DROPS_LINES when ignore rules dropped whole lines
    error: ViewError


class PageFacts(TypedDict, total=False):
    views: dict[str, PageView]  # view key (canonical JSON of select/ignore) → its version
    exists: bool
    partial: bool
