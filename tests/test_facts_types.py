"""Typed facts and enums keep today's stored shapes (issue 13, "While you are in these files").

Reasons and statuses are stored (``targets.last_error_reason``) and shown to users, and facts
are stored as JSON whose digest decides whether a target changed: the typed versions must
serialise to exactly what was stored before they existed.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.domain.errors import FailureReason, SourceError, http_reason
from bot.domain.model import CheckStatus, facts_digest
from bot.sources import History, build_sources
from bot.sources.base import ViewSource
from tests.facts_samples import SAMPLES

# Every reason string a SourceError carried before the enum (grep ``reason=`` at ae8a3d5).
TODAY_REASONS = {
    "timeout",
    "network",
    "dns",
    "refused",
    "redirects",
    "too-large",
    "unsafe-url",
    "malformed",
    "rate-limited",
    "not-found",
    "unconfirmed-gone",
    "gated-refused",
    "bot-block",
    "not-a-page",
    "selector-empty",
    "no-text",
    "bad-selector",
    "bad-ignore",
    "unparsable",
}


def test_failure_reasons_are_exactly_todays_strings() -> None:
    assert {r.value for r in FailureReason} == TODAY_REASONS
    assert FailureReason.RATE_LIMITED == "rate-limited"  # type: ignore[comparison-overlap]
    assert f"{FailureReason.NOT_FOUND}" == "not-found"
    assert json.dumps({"reason": FailureReason.SELECTOR_EMPTY}) == '{"reason": "selector-empty"}'
    assert http_reason(503) == "http-503"


def test_check_statuses_are_exactly_todays_strings() -> None:
    assert [s.value for s in CheckStatus] == [
        "baseline",
        "unchanged",
        "not-modified",
        "changed",
        "failed",
        "unconfirmed",
        "lost",
    ]
    assert CheckStatus.NOT_MODIFIED == "not-modified"  # type: ignore[comparison-overlap]


def test_a_source_error_reason_survives_pickling() -> None:
    """Errors cross process boundaries (bot.cpu) with their attributes."""
    err = SourceError("no text", reason=FailureReason.NO_TEXT)
    back = pickle.loads(pickle.dumps(vars(err)))
    assert back["reason"] == "no-text"
    assert back["reason"] is FailureReason.NO_TEXT


# --- stored facts keep their JSON and digest -------------------------------------------------

GOLDEN = json.loads((Path(__file__).parent / "data" / "facts_golden.json").read_text())


def _canonical(facts: object) -> str:
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sources() -> dict[str, Any]:
    return build_sources(Settings())


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_todays_facts_reserialise_to_the_same_json_and_digest(kind: str) -> None:
    """The facts each source builds now are, byte for byte, what it stored before its facts
    were typed: same canonical JSON, same digest, so no target looks changed after upgrade."""
    stored = GOLDEN[kind]
    built = SAMPLES[kind]()
    assert _canonical(built) == _canonical(stored["facts"])
    assert facts_digest(built) == stored["digest"]
    # A stored row loaded back (JSON → the typed facts) serialises to the same digest.
    assert facts_digest(json.loads(_canonical(stored["facts"]))) == stored["digest"]


@pytest.mark.parametrize("kind", sorted(SAMPLES))
async def test_stored_facts_load_and_read_through_each_source(kind: str) -> None:
    """A row stored before the typing is read by the typed code: described, listed, and
    compared with itself without any change."""
    sources = _sources()
    try:
        source = sources[kind]
        facts = json.loads(_canonical(GOLDEN[kind]["facts"]))
        if isinstance(source, ViewSource):
            views = [source.view_facts(facts, key) for key in facts["views"]]
            readable = [v for v in views if v is not None and "error" not in v]
            assert len(readable) == 2
        else:
            readable = [facts]
        for one in readable:
            assert source.describe(one)
            assert source.lines(one)
            assert source.detect(one, json.loads(_canonical(one)), History()) == []
    finally:
        for source in sources.values():
            await source.aclose()
