"""Two versions of a page view → the change they mean: the diff of their lines, with the
prices and quotas it moved. Pure.

The worker pool's page jobs (:func:`extract_and_detect`, :func:`detect_each`) live here, in a
pure module, because a worker process imports the module of each job it runs:
:mod:`bot.sources.page` would bring the HTTP client, the settings and every other source with
it (issue 14). :mod:`bot.sources.page` marks them fit for a worker process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.facts import PageFacts, PageView
from bot.domain.model import Change, ChangeKind
from bot.i18n import msg
from bot.text.diff import diff_lines, pricing_points, same_text, severity_of, summarise
from bot.text.page_views import extract_views, unpack
from bot.text.pricing import MAX_POINTS


def extract_and_detect(
    body: bytes,
    content_type: str,
    url: str,
    views: Mapping[str, Mapping[str, Any]],
    before: Mapping[str, PageView],
    max_lines: int,
) -> tuple[PageFacts, dict[str, list[Change]]]:
    """Runs in a worker process (or thread): :func:`~bot.text.page_views.extract_views`, then
    each view that has a version in ``before`` compared with it (:func:`detect_view`), in one
    job. A view that failed on its own (an ``error`` entry, no text) compares as no change, as
    it does once the checker carried its last good text."""
    facts = extract_views(body, content_type, url, views)
    extracted = facts.get("views") or {}
    detected: dict[str, list[Change]] = {}
    for key, old in before.items():
        new = extracted.get(key)
        if new is not None:
            detected[key] = [] if same_version(old, new) else detect_view(old, new, max_lines)
    return facts, detected


def detect_each(
    pairs: Mapping[str, tuple[PageView, PageView]], max_lines: int
) -> dict[str, list[Change]]:
    """Runs in a worker process (or thread): :func:`detect_view` for every view of one
    check, sent there together (one round trip per changed page)."""
    return {key: detect_view(old, new, max_lines) for key, (old, new) in pairs.items()}


def detect_view(prev: PageView, new: PageView, max_lines: int) -> list[Change]:
    """What changed between two versions of one view (pure): the diff of their lines, with
    the prices and quotas it moved."""
    if not prev.get("text_z") or not new.get("text_z"):
        return []  # a version without text (another format) is a new baseline, not a change
    if prev.get("ignore") != new.get("ignore"):
        # Extracted under other ignore semantics (before ignore rules dropped whole lines):
        # the lines they now drop would read as removed. A new baseline, silently.
        return []
    old_lines, new_lines = unpack(prev), unpack(new)
    if same_text(old_lines, new_lines):
        return []  # only whitespace or line breaks moved: a new version, not a change
    diff = diff_lines(old_lines, new_lines, max_lines=max_lines)
    if diff.empty:
        return []
    points = pricing_points(diff)
    shown = [p.said for p in points[:MAX_POINTS]]
    if len(points) > MAX_POINTS:
        shown.append(msg("… and {n} more in the diff below", n=len(points) - MAX_POINTS))
    title = new.get("title")
    return [
        Change(
            ChangeKind.CONTENT,
            severity_of(diff, points),
            msg("Page text changed: {what}", what=summarise(diff, points=points)),
            detail=diff.text,
            subject=title if isinstance(title, str) and title else None,
            points=tuple(shown),
        )
    ]


def detected_part(view: PageView) -> PageView:
    """What :func:`detect_view` (and :func:`same_version`) read of a version: all of it
    that goes to the worker."""
    part: PageView = {}
    if "sha256" in view:
        part["sha256"] = view["sha256"]
    if "text_z" in view:
        part["text_z"] = view["text_z"]
    if "ignore" in view:
        part["ignore"] = view["ignore"]
    if "title" in view:
        part["title"] = view["title"]
    return part


def same_version(old: PageView, new: PageView) -> bool:
    """Both versions hold text, extracted the same way, with the same sha256: no change
    (what :func:`detect_view` would answer after decompressing both)."""
    digest = old.get("sha256")
    return (
        bool(old.get("text_z"))
        and bool(new.get("text_z"))
        and old.get("ignore") == new.get("ignore")
        and isinstance(digest, str)
        and bool(digest)
        and digest == new.get("sha256")
    )
