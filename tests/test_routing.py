"""The pure parts of digests and quiet hours: when an alert goes out, and what a digest says.

Times are checked in the channel's own zone, across Europe/Rome's 2026 daylight-saving
changes (29 March: 02:00 → 03:00; 25 October: 03:00 → 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.digest import HeldItem, assemble
from bot.alerts.timing import (
    ChannelPrefs,
    QuietHours,
    decide,
    next_digest_at,
    parse_window,
    parse_zone,
    quiet_until,
)
from bot.commands import grammar as cmds
from bot.domain.errors import UsageError
from bot.domain.model import Alert, Severity

ROME = ZoneInfo("Europe/Rome")
AT_NINE_ROME = ChannelPrefs(digest_at=time(9, 0), digest_tz="Europe/Rome", digest_weekday=0)
NIGHT_ROME = QuietHours(time(22, 0), time(8, 0), "Europe/Rome")


def rome(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


@pytest.mark.parametrize(
    ("first_day", "utc_hours"),
    [
        # 27–28 March: CET (UTC+1) → 08:00 UTC; 29–31 March: CEST (UTC+2) → 07:00 UTC.
        (datetime(2026, 3, 27, tzinfo=UTC), [8, 8, 7, 7, 7]),
        # 23–24 October: CEST → 07:00 UTC; 25–27 October: CET → 08:00 UTC.
        (datetime(2026, 10, 23, tzinfo=UTC), [7, 7, 8, 8, 8]),
    ],
)
def test_daily_digest_is_at_nine_local_once_a_day_across_dst(
    first_day: datetime, utc_hours: list[int]
) -> None:
    """Walk a clock in 10-minute steps over four days (and so past five digest times): the
    next digest time moves exactly once per local day, and is always 09:00 in Rome."""
    now = first_day
    seen: list[datetime] = []
    while now < first_day + timedelta(days=4):
        due = next_digest_at(now, AT_NINE_ROME, "daily")
        assert due > now
        assert due.astimezone(ROME).time() == time(9, 0)
        if not seen or seen[-1] != due:
            seen.append(due)
        now += timedelta(minutes=10)
    assert [d.hour for d in seen] == utc_hours
    assert len({d.astimezone(ROME).date() for d in seen}) == len(seen), "one per local day"


def test_next_digest_just_before_and_at_the_time() -> None:
    assert next_digest_at(rome(2026, 3, 29, 8, 59), AT_NINE_ROME, "daily") == rome(2026, 3, 29, 9)
    assert next_digest_at(rome(2026, 3, 29, 9, 0), AT_NINE_ROME, "daily") == rome(2026, 3, 30, 9)


def test_a_digest_time_skipped_by_spring_forward_still_fires_that_day() -> None:
    prefs = ChannelPrefs(digest_at=time(2, 30), digest_tz="Europe/Rome")
    due = next_digest_at(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), prefs, "daily")
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, the first instant after
    assert due.astimezone(ROME).date().isoformat() == "2026-03-29"


def test_weekly_digest_goes_on_the_channel_weekday() -> None:
    prefs = ChannelPrefs(digest_at=time(9, 0), digest_tz="Europe/Rome", digest_weekday=0)
    wednesday = rome(2026, 10, 21, 12)
    assert next_digest_at(wednesday, prefs, "weekly") == rome(2026, 10, 26, 9)  # after DST end
    monday_after = rome(2026, 10, 26, 9, 1)
    assert next_digest_at(monday_after, prefs, "weekly") == rome(2026, 11, 2, 9)


@pytest.mark.parametrize(
    ("local", "end"),
    [
        ((2026, 1, 5, 21, 59), None),
        ((2026, 1, 5, 22, 0), (2026, 1, 6, 8, 0)),
        ((2026, 1, 5, 23, 30), (2026, 1, 6, 8, 0)),  # before midnight: ends tomorrow
        ((2026, 1, 6, 0, 10), (2026, 1, 6, 8, 0)),  # after midnight: ends today
        ((2026, 1, 6, 7, 59), (2026, 1, 6, 8, 0)),
        ((2026, 1, 6, 8, 0), None),
        ((2026, 1, 6, 12, 0), None),
        ((2026, 3, 28, 23, 0), (2026, 3, 29, 8, 0)),  # the night the clocks go forward
    ],
)
def test_quiet_hours_window_crossing_midnight(
    local: tuple[int, ...], end: tuple[int, ...] | None
) -> None:
    assert quiet_until(rome(*local), NIGHT_ROME) == (rome(*end) if end else None)


def test_quiet_hours_the_night_clocks_go_forward_are_one_hour_shorter() -> None:
    start, end = rome(2026, 3, 28, 22, 0), quiet_until(rome(2026, 3, 28, 22, 0), NIGHT_ROME)
    assert end is not None and end - start == timedelta(hours=9)


def test_daytime_quiet_window() -> None:
    lunch = QuietHours(time(12, 0), time(14, 0), "UTC")
    assert quiet_until(datetime(2026, 1, 5, 13, tzinfo=UTC), lunch) == datetime(
        2026, 1, 5, 14, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 1, 5, 15, tzinfo=UTC), lunch) is None


def test_critical_bypasses_digest_and_quiet_hours_unless_digest_all() -> None:
    night = rome(2026, 1, 5, 23, 0)
    quiet = ChannelPrefs(digest_tz="Europe/Rome", quiet=NIGHT_ROME)
    daily = {"digest": "daily"}
    assert decide(Severity.CRITICAL, {}, quiet, night).status == "pending"
    assert decide(Severity.CRITICAL, daily, quiet, night).status == "pending"
    held = decide(Severity.CRITICAL, {**daily, "digest_all": True}, quiet, night)
    assert (held.status, held.due) == ("digest", rome(2026, 1, 6, 9, 0))
    warning = decide(Severity.WARNING, {}, quiet, night)
    assert (warning.status, warning.due) == ("quiet", rome(2026, 1, 6, 8, 0))
    assert decide(Severity.WARNING, daily, quiet, night).status == "digest"
    day = rome(2026, 1, 5, 12, 0)
    assert decide(Severity.INFO, {}, quiet, day).status == "pending"


def _alert(target: str, title: str, severity: Severity) -> Alert:
    return Alert(title, severity, target, "Hugging Face model", (f"{title} line",))


def test_digest_groups_by_target_with_counts_in_first_seen_order() -> None:
    t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    items = [
        HeldItem(_alert("hf:acme/b", "Access changed — acme/b", Severity.WARNING), t, "digest"),
        HeldItem(
            _alert("hf:acme/a", "Licence changed — acme/a", Severity.NOTICE),
            t + timedelta(hours=2),
            "digest",
        ),
        HeldItem(
            _alert("hf:acme/b", "Access changed — acme/b", Severity.NOTICE),
            t + timedelta(hours=1),
            "digest",
        ),
    ]
    digest = assemble(items, t + timedelta(days=1))
    assert digest.title == "Digest: 3 changes on 2 targets"
    assert digest.severity is Severity.WARNING and not digest.threaded
    heads = [line for line in digest.lines if not line.startswith("  ")]
    assert heads == [
        "hf:acme/b — 2 changes (worst: warning)",
        "hf:acme/a — 1 change (worst: notice)",
    ]
    assert digest.lines[1].startswith("  • 2026-01-05 09:00 UTC · warning · Access changed")
    assert digest.lines[2].startswith("  • 2026-01-05 10:00 UTC · notice · Access changed")
    with pytest.raises(ValueError):
        assemble([], t)


def test_digest_survives_json_round_trip_as_the_outbox_stores_it() -> None:
    t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    digest = assemble([HeldItem(_alert("hf:a/b", "x", Severity.INFO), t, "quiet")], t)
    assert Alert.from_json(digest.to_json()) == digest
    assert digest.title == "While quiet hours lasted: 1 change on 1 target"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("watch hf:a/b --digest hourly", "--digest must be daily, weekly or off"),
        ("watch hf:a/b --at 09:00", "--at goes with --digest daily"),
        ("watch hf:a/b --digest daily --at 25:00", "'25:00' is not a time of day"),
        ("watch hf:a/b --digest daily --tz Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("watch hf:a/b --digest-all=yes --digest daily", "--digest-all takes no value"),
        ("quiet 22:00", "is not a window"),
        ("quiet 08:00-08:00", "empty window"),
        ("quiet 22:00-08:00 Europe/Nowhere", "unknown time zone"),
        ("digest 9am", "'9am' is not a time of day"),
        ("digest 09:00 UTC someday", "'someday' is not a weekday"),
    ],
)
def test_bad_digest_and_quiet_input_is_named(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        cmds.parse(text)
    assert message in str(e.value)


def test_grammar_reads_digest_options_and_channel_settings() -> None:
    watch = cmds.parse("watch hf:a/b --digest Weekly --digest-all --at 9:00 --tz Europe/Rome")
    assert watch == cmds.Watch(
        ("hf:a/b",), digest="weekly", digest_all=True, at="09:00", tz="Europe/Rome"
    )
    assert cmds.parse("digest 09:00 Europe/Rome fri") == cmds.Digest("09:00", "Europe/Rome", "fri")
    assert cmds.parse("quiet 22:00-08:00 Europe/Rome") == cmds.Quiet("22:00-08:00", "Europe/Rome")
    assert cmds.parse("quiet off") == cmds.Quiet("off")
    assert cmds.parse("quiet") == cmds.Quiet()
    assert parse_window("22:00-8:00") == (time(22, 0), time(8, 0))
    assert parse_zone(" UTC ") == "UTC"
