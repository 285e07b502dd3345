"""Typed facts and enums keep today's stored shapes (issue 13, "While you are in these files").

Reasons and statuses are stored (``targets.last_error_reason``) and shown to users, and facts
are stored as JSON whose digest decides whether a target changed: the typed versions must
serialise to exactly what was stored before they existed.
"""

from __future__ import annotations

import json
import pickle

from bot.errors import FailureReason, SourceError, http_reason
from bot.model import CheckStatus

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
    assert FailureReason.RATE_LIMITED == "rate-limited"
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
    assert CheckStatus.NOT_MODIFIED == "not-modified"


def test_a_source_error_reason_survives_pickling() -> None:
    """Errors cross process boundaries (bot.offload) with their attributes."""
    err = SourceError("no text", reason=FailureReason.NO_TEXT)
    back = pickle.loads(pickle.dumps(vars(err)))
    assert back["reason"] == "no-text"
    assert back["reason"] is FailureReason.NO_TEXT
