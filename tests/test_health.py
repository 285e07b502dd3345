"""The watch's health as a pure state machine (bot.detect.health): every transition, and what
a channel reads when one of them owes it a message.

Rules as shipped: "Watch failing" after 3 failures in a row, a target that existed is gone only
on the second "not there" in a row.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts.compose import alert_for
from bot.detect.health import (
    Answered,
    Failed,
    Health,
    Outcome,
    Rules,
    Step,
    Vanished,
    Verdict,
    step,
    view_health,
)
from bot.domain.model import Change

RULES = Rules(failures_to_alert=3, gone_confirmations=2)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EARLIER = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

TIMEOUT = Failed("timeout", "the Hub did not answer within 30 s")
HTTP_503 = Failed("http-503", "the Hub answered HTTP 503")
SLOW_DOWN = Failed("rate-limited", "the Hub asks us to slow down (HTTP 429)")
GONE = "the repo is not there (HTTP 404)"


def said(change: Change | None) -> str | None:
    """What the channel reads: the alert's title and its lines, as the console prints them."""
    if change is None:
        return None
    alert = alert_for("hf:acme/model", "Hugging Face model", [change], actions=False)
    return " | ".join([alert.title, *alert.lines])


def told(s: Step) -> str | None:
    assert s.failing is None or s.recovered is None, "one health message per check at most"
    return said(s.failing or s.recovered)


HEALTHY = Health(last_checked_at=EARLIER)
TWO_FAILED = Health(failures=2, reason="timeout", last_checked_at=EARLIER)
ANNOUNCED = Health(failures=3, reason="http-503", alerted=True, last_checked_at=EARLIER)
SLOWED = Health(failures=3, reason="rate-limited", last_checked_at=EARLIER)
ONCE_GONE = Health(failures=0, reason="unconfirmed-gone", gone_streak=1, last_checked_at=EARLIER)
ANNOUNCED_THEN_GONE_ONCE = Health(
    failures=3, reason="unconfirmed-gone", alerted=True, gone_streak=1, last_checked_at=EARLIER
)

CASES: list[tuple[str, Health, Outcome, Verdict, Health, str | None]] = [
    # (what happens, before, this check, verdict, after, what the channels read)
    ("a good check of a healthy watch says nothing", HEALTHY, Answered(), Verdict.OK,
     Health(last_checked_at=NOW), None),
    ("a first failure is counted, not announced", HEALTHY, TIMEOUT, Verdict.FAILED,
     Health(1, "timeout", False, 0, NOW), None),
    ("the third failure in a row announces the watch failing", TWO_FAILED, HTTP_503,
     Verdict.FAILED, Health(3, "http-503", True, 0, NOW),
     "Watch failing — acme/model | the Hub answered HTTP 503 (3 checks in a row)"),
    ("more failures after the announcement say nothing more", ANNOUNCED, TIMEOUT,
     Verdict.FAILED, Health(4, "timeout", True, 0, NOW), None),
    ("a good check after the announcement says recovered", ANNOUNCED, Answered(), Verdict.OK,
     Health(last_checked_at=NOW),
     "Watch recovered — acme/model | checks succeed again after 3 failures"),
    ("a good check after unannounced failures says nothing", TWO_FAILED, Answered(),
     Verdict.OK, Health(last_checked_at=NOW), None),
    ("being asked to slow down is counted but never announced", TWO_FAILED, SLOW_DOWN,
     Verdict.FAILED, Health(3, "rate-limited", False, 0, NOW), None),
    ("a real failure after slowing down announces, with the whole count", SLOWED, TIMEOUT,
     Verdict.FAILED, Health(4, "timeout", True, 0, NOW),
     "Watch failing — acme/model | the Hub did not answer within 30 s (4 checks in a row)"),
    ("not there, for a target never seen, is a failure", HEALTHY, Vanished(GONE, None),
     Verdict.FAILED, Health(1, "not-found", False, 0, NOW), None),
    ("not there, once, for a target that existed, is asked again", HEALTHY,
     Vanished(GONE, "present"), Verdict.UNCONFIRMED,
     Health(0, "unconfirmed-gone", False, 1, NOW), None),
    ("not there twice in a row is believed: gone", ONCE_GONE, Vanished(GONE, "present"),
     Verdict.GONE, Health(last_checked_at=NOW), None),
    ("an unconfirmed gone keeps the count and the announcement", ANNOUNCED,
     Vanished(GONE, "present"), Verdict.UNCONFIRMED,
     Health(3, "unconfirmed-gone", True, 1, NOW), None),
    ("a confirmed gone after an announced failure is a recovery too", ANNOUNCED_THEN_GONE_ONCE,
     Vanished(GONE, "present"), Verdict.GONE, Health(last_checked_at=NOW),
     "Watch recovered — acme/model | checks succeed again after 3 failures"),
    ("a failure between two not-there answers starts the confirmation over", ONCE_GONE, TIMEOUT,
     Verdict.FAILED, Health(1, "timeout", False, 0, NOW), None),
    ("an answer between two not-there answers starts the confirmation over", ONCE_GONE,
     Answered(), Verdict.OK, Health(last_checked_at=NOW), None),
    ("not there again, for a target known to be gone, is a good check", HEALTHY,
     Vanished(GONE, "gone"), Verdict.STILL_GONE, Health(last_checked_at=NOW), None),
    ("still gone after an announced failure says recovered", ANNOUNCED, Vanished(GONE, "gone"),
     Verdict.STILL_GONE, Health(last_checked_at=NOW),
     "Watch recovered — acme/model | checks succeed again after 3 failures"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "outcome", "verdict", "after", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_one_check(
    before: Health, outcome: Outcome, verdict: Verdict, after: Health, text: str | None
) -> None:
    s = step(before, outcome, RULES, NOW)
    assert (s.verdict, s.after, told(s)) == (verdict, after, text)


def test_a_failure_announced_at_once_says_since_when() -> None:
    """With failures_to_alert=1 the first failure is announced, and the last good check is
    when the watch went blind."""
    s = step(HEALTHY, HTTP_503, Rules(1, 2), NOW)
    assert told(s) == (
        "Watch failing — acme/model | the Hub answered HTTP 503 "
        "(1 check in a row since 2026-01-05 08:00 UTC)"
    )
    again = step(s.after, HTTP_503, Rules(1, 2), NOW)
    assert told(again) is None


def test_gone_at_once_when_one_confirmation_is_enough() -> None:
    s = step(HEALTHY, Vanished(GONE, "present"), Rules(3, 1), NOW)
    assert (s.verdict, s.after.gone_streak) == (Verdict.GONE, 0)


def test_a_week_of_checks_tells_the_channel_twice() -> None:
    """A walk: the upstream breaks for five checks, comes back, breaks once more. The channel
    reads "failing" once (at the third) and "recovered" once, and nothing for the lone
    failure at the end."""
    outcomes: list[Outcome] = [
        Answered(),
        HTTP_503,
        TIMEOUT,
        HTTP_503,
        HTTP_503,
        SLOW_DOWN,
        Answered(),
        Answered(),
        TIMEOUT,
        Answered(),
    ]
    health, read = HEALTHY, []
    for outcome in outcomes:
        s = step(health, outcome, RULES, NOW)
        health = s.after
        read.append(told(s))
    failing = "Watch failing — acme/model | the Hub answered HTTP 503 (3 checks in a row)"
    recovered = "Watch recovered — acme/model | checks succeed again after 5 failures"
    assert read == [None, None, None, failing, None, None, recovered, None, None, None]


SELECTOR_EMPTY = {"reason": "selector-empty", "message": "the selector '#plans' matches nothing"}
TEXT = {"text_z": "eJwLycgsBgAEtAHq", "lines": 1}


@pytest.mark.parametrize(
    ("old", "new", "text"),
    [
        (None, TEXT, None),
        (None, {"error": SELECTOR_EMPTY}, "Watch failing — acme/model | the selector '#plans'"),
        (TEXT, {**TEXT, "error": SELECTOR_EMPTY}, "Watch failing — acme/model | the selector"),
        ({**TEXT, "error": SELECTOR_EMPTY}, {**TEXT, "error": SELECTOR_EMPTY}, None),
        ({**TEXT, "error": SELECTOR_EMPTY}, TEXT, "Watch recovered — acme/model | checks succeed"),
        (TEXT, TEXT, None),
    ],
    ids=[
        "a new view that sees text is a silent baseline",
        "a new view whose selector matches nothing is blind at once",
        "a view that stops seeing anything is blind at once",
        "a view still blind says nothing more",
        "a view that sees text again says recovered",
        "a view that sees text says nothing",
    ],
)
def test_one_view_of_a_page(
    old: dict[str, object] | None, new: dict[str, object], text: str | None
) -> None:
    read = said(view_health(old, new))
    if text is None:
        assert read is None
    else:
        assert read is not None and read.startswith(text)
