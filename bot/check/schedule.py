"""When to check a target next. Pure: time and randomness are passed in.

Jitter spreads thousands of targets over the interval instead of firing them together
(design invariant 5); failing targets back off exponentially and honour Retry-After.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def next_check_after_success(
    now: datetime, interval: float, jitter: float, rng: random.Random | None = None
) -> datetime:
    spread = (rng or random).uniform(0, jitter) if jitter > 0 else 0.0
    return now + timedelta(seconds=interval + spread)


def next_check_after_failure(
    now: datetime,
    failures: int,
    *,
    base: float,
    max_backoff: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Back off ``base * 2**(failures-1)`` up to ``max_backoff``, never sooner than the
    upstream's Retry-After, with 10% jitter."""
    delay = min(base * 2 ** max(0, failures - 1), max_backoff)
    if retry_after is not None:
        delay = max(delay, retry_after)
    delay *= 1 + (rng or random).uniform(0, 0.1)
    return now + timedelta(seconds=delay)


def delivery_backoff(attempts: int, retry_after: float | None = None, cap: float = 900.0) -> float:
    """Seconds before retrying a delivery: Retry-After when given, else 2, 4, 8 ... capped."""
    if retry_after is not None:
        return max(0.0, retry_after)
    return float(min(cap, 2 ** max(1, attempts)))
