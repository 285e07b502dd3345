"""When an alert goes out: now, in the channel's next digest, or when its quiet hours end. Pure.

Who hears about a change is :func:`bot.alerts.audience.audience` (mutes, minimum
severity); this module decides *when*, from the subscription's digest mode and the channel's
settings. Everything takes ``now`` as an argument so the clock stays injectable, and every
local time is computed with :mod:`zoneinfo`, so a digest at 09:00 Europe/Rome stays at 09:00
local across daylight-saving changes.

Why the digest time is per channel and the cadence per subscription: a team reads a channel at
one time of day ("the issue: at a time and timezone per channel"), but may want a noisy feed
weekly and a licence watch daily in that same channel. The weekly digest goes out on the
channel's digest weekday at the same time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.model import Severity
from bot.i18n import msg

Cadence = Literal["daily", "weekly"]
CADENCES: tuple[Cadence, ...] = ("daily", "weekly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = (
    msg("Mon"),
    msg("Tue"),
    msg("Wed"),
    msg("Thu"),
    msg("Fri"),
    msg("Sat"),
    msg("Sun"),
)

# Delivery statuses of held alerts; the outbox sends only "pending".
HELD_DIGEST = "digest"
HELD_QUIET = "quiet"
HELD = (HELD_DIGEST, HELD_QUIET)

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window in which non-critical alerts wait; ``start > end`` crosses midnight."""

    start: time
    end: time
    tz: str

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.tz}"


@dataclass(frozen=True, slots=True)
class ChannelPrefs:
    """A channel's delivery settings (the defaults: digests at 09:00 UTC on Mondays)."""

    digest_at: time = time(9, 0)
    digest_tz: str = "UTC"
    digest_weekday: int = 0  # Monday
    quiet: QuietHours | None = None

    def describe(self) -> str:
        """A message (:mod:`bot.i18n`): a reply says it in the asker's language."""
        quiet = msg("quiet hours {window}", window=str(self.quiet)) if self.quiet else None
        return msg(
            "digests at {time} {tz} (weekly ones on {weekday}); {quiet}",
            time=f"{self.digest_at:%H:%M}",
            tz=self.digest_tz,
            weekday=WEEKDAY_NAMES[self.digest_weekday],
            quiet=quiet or msg("no quiet hours"),
        )


@dataclass(frozen=True, slots=True)
class Timing:
    """The routing decision for one alert in one channel."""

    status: str  # "pending" (now) | HELD_DIGEST | HELD_QUIET
    due: datetime  # when it may go out (UTC)


def parse_clock(text: str) -> time:
    """``09:00`` or ``9:00`` → a time; anything else is a ValueError naming the format."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(
            msg("{given} is not a time of day: use HH:MM, e.g. 09:00", given=repr(text))
        )
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(text: str) -> str:
    """An IANA time zone name such as ``Europe/Rome`` (checked against the tz database)."""
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            msg(
                "unknown time zone {given}: use an IANA name such as Europe/Rome or UTC",
                given=repr(text),
            )
        ) from None
    return name


def parse_window(text: str) -> tuple[time, time]:
    """``22:00-08:00`` → (start, end); an empty window is refused."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(
            msg("{given} is not a window: use HH:MM-HH:MM, e.g. 22:00-08:00", given=repr(text))
        )
    window = parse_clock(start), parse_clock(end)
    if window[0] == window[1]:
        raise ValueError(
            msg("{given} is an empty window: start and end must differ", given=repr(text))
        )
    return window


def parse_weekday(text: str) -> int:
    day = text.strip().lower()[:3]
    if day not in WEEKDAYS:
        raise ValueError(
            msg(
                "{given} is not a weekday: use one of {days}",
                given=repr(text),
                days=", ".join(WEEKDAYS),
            )
        )
    return WEEKDAYS.index(day)


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local ``day`` ``at`` in ``tz``.

    A local time skipped by a spring-forward change (02:30 on the last Sunday of March in
    Rome) maps to the instant one hour later; a repeated one (autumn) to its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_digest_at(now: datetime, prefs: ChannelPrefs, cadence: Cadence) -> datetime:
    """The first digest time of ``cadence`` strictly after ``now``, in UTC."""
    tz = ZoneInfo(prefs.digest_tz)
    day = now.astimezone(tz).date()
    for offset in range(8 if cadence == "weekly" else 2):
        candidate_day = day + timedelta(days=offset)
        if cadence == "weekly" and candidate_day.weekday() != prefs.digest_weekday:
            continue
        candidate = _at(candidate_day, prefs.digest_at, tz)
        if candidate > now:  # both aware: compared as instants
            return candidate
    # Only reachable for a weekly digest whose slot today already passed.
    return _at(day + timedelta(days=7), prefs.digest_at, tz)


def quiet_until(now: datetime, quiet: QuietHours | None) -> datetime | None:
    """The end (UTC) of the quiet window ``now`` falls in, or None when not quiet."""
    if quiet is None:
        return None
    tz = ZoneInfo(quiet.tz)
    local = now.astimezone(tz)
    today, clock = local.date(), local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
        end_day = today
    elif clock >= quiet.start:  # the evening part of a window that crosses midnight
        inside, end_day = True, today + timedelta(days=1)
    else:
        inside, end_day = clock < quiet.end, today
    if not inside:
        return None
    end = _at(end_day, quiet.end, tz)
    return end if end > now else None


def decide(
    severity: Severity,
    sub_options: Mapping[str, Any],
    prefs: ChannelPrefs,
    now: datetime,
) -> Timing:
    """When one alert of ``severity`` goes to one subscription's channel.

    Critical alerts go out at once (through quiet hours and digests) unless the subscription
    asked for ``digest_all``; a digest subscription collects everything else for its next
    digest; otherwise quiet hours hold the alert until the window ends.
    """
    cadence = sub_options.get("digest")
    urgent = severity is Severity.CRITICAL
    if cadence in CADENCES and (not urgent or sub_options.get("digest_all")):
        return Timing(HELD_DIGEST, next_digest_at(now, prefs, cadence))
    if urgent:
        return Timing("pending", now)
    end = quiet_until(now, prefs.quiet)
    if end is not None:
        return Timing(HELD_QUIET, end)
    return Timing("pending", now)


__all__ = [
    "CADENCES",
    "HELD",
    "HELD_DIGEST",
    "HELD_QUIET",
    "Cadence",
    "ChannelPrefs",
    "QuietHours",
    "Timing",
    "decide",
    "next_digest_at",
    "parse_clock",
    "parse_weekday",
    "parse_window",
    "parse_zone",
    "quiet_until",
]
