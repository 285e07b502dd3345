"""A watch's health: when a channel hears "Watch failing" and "Watch recovered". Pure.

The checker stores a target's health on its row and calls :func:`step` once per check with what
the check saw; the step says what to store next, what kind of record the check is, and which
health message (if any) the target's channels are owed. No clock, no store, no logging here.

The states a target can be in (the columns of its row: ``failures``, ``last_error_reason``,
``gone_streak``, ``health_alerted``):

* **healthy**: no failure since the last good check.
* **failing, not announced**: failures in a row, fewer than ``failures_to_alert``, or only
  rate-limited ones (being asked to slow down is the upstream working as designed).
* **failing, announced** (the watch is blind and its channels know): the channels were told
  once, "Watch failing", when the count reached ``failures_to_alert``; more failures say
  nothing more.
* **gone, unconfirmed**: the upstream said "not there" for a target that existed; it is asked
  again soon, and only the ``gone_confirmations``-th answer in a row is believed (a Hub
  hiccup must not announce a deletion).
* Confirmed gone is not a health state: it is a version of the target (``exists: False``)
  that detection compares like any other; answering "not there" again is a good check.

Any good check returns to healthy, and one that follows an announced failure owes the
channels "Watch recovered". A view of a page (its own select/ignore) goes blind on its own
(:func:`view_health`): its channels hear at once when its selector starts matching nothing,
and again when it sees text again, while the other views go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from bot.alerts.compose import health_change
from bot.domain.errors import FailureReason
from bot.domain.model import Change

NOT_FOUND = FailureReason.NOT_FOUND
UNCONFIRMED_GONE = FailureReason.UNCONFIRMED_GONE


@dataclass(frozen=True, slots=True)
class Health:
    """A target's health as its row stores it."""

    failures: int = 0  # checks in a row that failed (an unconfirmed "gone" does not count)
    reason: str | None = None  # why the last one failed (``last_error_reason``)
    alerted: bool = False  # its channels were told "Watch failing" (``health_alerted``)
    gone_streak: int = 0  # "not there" answers in a row for a target that existed
    last_checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds (``POLICYBOT_HEALTH_AFTER_FAILURES``, ``POLICYBOT_GONE_CONFIRMATIONS``)."""

    failures_to_alert: int
    gone_confirmations: int


@dataclass(frozen=True, slots=True)
class Answered:
    """The upstream answered and the answer is trusted: a 304, the same bytes, a new version."""


@dataclass(frozen=True, slots=True)
class Failed:
    """No trustworthy answer: ``reason`` is the machine tag, ``message`` the sentence."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Vanished:
    """The upstream says the target is not there (deleted, or private to us).

    ``known_as``: what the latest snapshot says: ``None`` when there is no snapshot yet (a
    target never seen is a failure, not a deletion), ``"present"`` or ``"gone"``.
    """

    message: str
    known_as: Literal["present", "gone"] | None


Outcome = Answered | Failed | Vanished


class Verdict(StrEnum):
    """What kind of record the check is."""

    OK = "ok"  # a good check: record it (a snapshot when there is a new version)
    STILL_GONE = "still-gone"  # a good check of a target known to be gone: nothing new
    GONE = "gone"  # confirmed: record the target as gone (``exists: False``) and compare
    UNCONFIRMED = "unconfirmed"  # "not there", once more: ask again soon before saying so
    FAILED = "failed"  # a failure: record it and back off


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one check for the watch's health."""

    after: Health  # what to store
    verdict: Verdict
    # "Watch failing": sent, and kept in the target's change history.
    failing: Change | None = None
    # "Watch recovered": sent only (the history already has what failed).
    recovered: Change | None = None


def step(before: Health, outcome: Outcome, rules: Rules, now: datetime) -> Step:
    """The health after a check that saw ``outcome``; ``now`` is when it was checked."""
    if isinstance(outcome, Failed):
        return _failed(before, outcome, rules, now)
    if isinstance(outcome, Vanished):
        if outcome.known_as is None:  # never seen: nothing to compare the answer with
            return _failed(before, Failed(NOT_FOUND, outcome.message), rules, now)
        if outcome.known_as == "gone":
            return _good(before, Verdict.STILL_GONE, now)
        streak = before.gone_streak + 1
        if streak < rules.gone_confirmations:
            unconfirmed = replace(
                before, reason=UNCONFIRMED_GONE, gone_streak=streak, last_checked_at=now
            )
            return Step(unconfirmed, Verdict.UNCONFIRMED)
        return _good(before, Verdict.GONE, now)
    return _good(before, Verdict.OK, now)


def _good(before: Health, verdict: Verdict, now: datetime) -> Step:
    recovered = None
    if before.alerted:
        reason = before.reason or "failing"
        recovered = health_change(False, reason, "", before.failures, None)
    return Step(Health(last_checked_at=now), verdict, recovered=recovered)


def _failed(before: Health, outcome: Failed, rules: Rules, now: datetime) -> Step:
    failures = before.failures + 1
    failing = None
    counts = outcome.reason != FailureReason.RATE_LIMITED
    if counts and failures >= rules.failures_to_alert and not before.alerted:
        # "since" the last good check, when that is what the previous check was
        since = before.last_checked_at if before.failures == 0 else None
        failing = health_change(True, outcome.reason, outcome.message, failures, since)
    after = Health(
        failures=failures,
        reason=outcome.reason,
        alerted=before.alerted or failing is not None,
        gone_streak=0,
        last_checked_at=now,
    )
    return Step(after, Verdict.FAILED, failing=failing)


def view_health(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Change | None:
    """The health message one view of a page owes its channels: "failing" when it starts to
    see nothing (its ``error`` entry appears), "recovered" when it sees text again. ``old``
    is the view in the previous version (None: the view is new)."""
    old_error = old.get("error") if old is not None else None
    error = new.get("error")
    if error and not old_error:
        return health_change(True, error["reason"], error["message"], 1, None)
    if old_error and not error:
        return health_change(False, old_error["reason"], "", 1, None)
    return None


__all__ = [
    "Answered",
    "Failed",
    "Health",
    "Outcome",
    "Rules",
    "Step",
    "Vanished",
    "Verdict",
    "step",
    "view_health",
]
