"""Pricing facts in numbers, and severity that rises only when a price, quota or plan changed.
Pure functions, no servers; the real terms pages come from ../shared/corpus/pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.model import Severity
from bot.text.diff import diff_lines, pricing_points, severity_of, summarise
from bot.text.html_text import text_lines
from bot.text.pricing import Kind, figures, parse_number, points_of
from tests.conftest import corpus_path
from tests.test_page_noise import OTA_SERIES


@pytest.mark.parametrize(
    "line, kind, value, currency, unit",
    [
        ("Team | $12/user/month", Kind.PRICE, "12", "$", "per user / month"),
        ("Pro costs 12,50 € per seat per month", Kind.PRICE, "12.50", "€", "per seat / month"),
        ("USD 12 a year", Kind.PRICE, "12", "$", "per year"),
        ("12 EUR monthly", Kind.PRICE, "12", "€", "per month"),
        ("£9 per editor per month", Kind.PRICE, "9", "£", "per editor / month"),
        ("¥1,200 / month", Kind.PRICE, "1200", "¥", "per month"),
        ("from $1.5k a month", Kind.PRICE, "1500", "$", "per month"),
        ("$0.002 per 1K tokens", Kind.PRICE, "0.002", "$", "per 1k tokens"),
        ("Annual billing saves 20%", Kind.PERCENTAGE, "20", "", ""),
        ("Free: up to 3 projects", Kind.QUOTA, "3", "", "project"),
        ("1,000 API calls per month", Kind.QUOTA, "1000", "", "api call per month"),
        ("3,000 CI minutes", Kind.QUOTA, "3000", "", "ci minute"),
        ("10 GB of storage", Kind.QUOTA, "10", "", "GB"),
    ],
)
def test_figures_in_common_notations(
    line: str, kind: Kind, value: str, currency: str, unit: str
) -> None:
    (figure,) = figures(line)
    assert (figure.kind, figure.value, figure.currency, figure.unit) == (
        kind,
        Decimal(value),
        currency,
        unit,
    )


@pytest.mark.parametrize(
    "line",
    ["Effective June 19, 2023.", "within 30 days", "Section 3 applies", "royalty-free", "D.8"],
)
def test_numbers_without_currency_percent_or_unit_are_not_figures(line: str) -> None:
    assert figures(line) == []


def test_number_notations() -> None:
    assert parse_number("1,000") == Decimal(1000)
    assert parse_number("12,50") == Decimal("12.50")
    assert parse_number("1.234,56") == Decimal("1234.56")
    assert parse_number("1,234.56") == Decimal("1234.56")
    assert parse_number("0.002") == Decimal("0.002")


def test_changes_are_told_in_numbers() -> None:
    points = points_of(
        pairs=[
            ("Team | $12 per user per month | SSO", "Team | $15 per user per month | SSO"),
            ("Free: up to 3 projects", "Free: up to 1 project"),
            ("Pro costs 20 € a month", "Pro costs 18 € a month"),
            ("Annual billing saves 20% on every paid plan.", "Annual billing saves 15% on it."),
        ],
        removed=["Business | $40 per seat per month | audit log", "Cancel any time."],
        added=["Enterprise | $99 per seat per month | SAML", "Cancel any time."],
    )
    assert [str(p) for p in points] == [
        "Team: $12 → $15 per user / month (+25 %)",
        "Free: up to 3 projects → up to 1 project",
        "Pro: 20 € → 18 € per month (−10 %)",
        "Annual billing saves: 20% → 15%",
        "Business: plan removed (was $40 per seat / month)",
        "Enterprise: plan added ($99 per seat / month)",
    ]


def test_a_moved_line_is_no_change_and_boilerplate_raises_nothing() -> None:
    row = "Pro | $20 per seat per month"
    assert points_of([], [row], [row]) == []
    boilerplate = [
        ("We grant you a limited license to use the Service.", "We grant a limited right."),
        ("INCLUDING BUT NOT LIMITED TO ERROR FREE", "INCLUDING, NOT LIMITED TO, FREE OF VIRUSES"),
        ("a royalty-free licence", "a royalty-free, worldwide licence"),
        (
            "less than 700 million monthly active users in the preceding month",
            "if fewer than 700 million monthly active users in the preceding month",
        ),
    ]
    assert points_of(boilerplate, [], []) == []


def test_a_line_whose_figures_and_plans_only_moved_within_it_changes_nothing() -> None:
    old = "Team | $12 per user per month | up to 10 projects | 20% off | Pro plan, Team plan"
    new = "Team | up to 10 projects | 20% off | $12 per user per month | Team plan, Pro plan"
    assert points_of([(old, new)], [], []) == []


def test_a_figure_or_plan_said_twice_in_a_line_is_counted_twice() -> None:
    twice = "Pro: $10 a month, or $10 a month billed yearly"
    once = "Pro: $10 a month, or $8 a month billed yearly"
    plans = ("Pro plan, Pro plan and Team plan", "Pro plan and Team plan")
    points = points_of([(twice, once), plans], [], [])
    assert [str(p) for p in points] == [
        "Pro: $10 → $8 per month (−20 %)",
        "no longer mentions the pro plan",
    ]


def test_unlimited_quotas_need_no_digit_and_a_renamed_plan_is_one_change() -> None:
    points = points_of(
        [("Unlimited seats on the Pro plan", "Unlimited projects on the Team plan")], [], []
    )
    assert [str(p) for p in points] == [
        "Unlimited seats → Unlimited projects",
        "pro plan → team plan",
    ]


def test_a_changed_figure_in_a_long_terms_line_is_a_warning_naming_it() -> None:
    old = ["Liability is capped at the greater of the fees paid or ONE HUNDRED DOLLARS ($100)."]
    new = ["Liability is capped at the greater of the fees paid or FIFTY DOLLARS ($50)."]
    diff = diff_lines(old, new)
    assert severity_of(diff) is Severity.WARNING
    assert [str(p) for p in pricing_points(diff)] == ["…paid or FIFTY DOLLARS: $100 → $50 (−50 %)"]
    assert summarise(diff) == "1 line changed · price changed"


# What raised each real terms change to a warning before (all boilerplate): none is a price.
RAISED_BEFORE = {
    ("huggingface", "v2-meaningful"): "limited",
    ("github", "v3-meaningful"): "monthly",
    ("reddit", "v4-meaningful"): "LIMITED, FREE",
    ("chatgpt", "v3"): "free, limit",
}


def test_real_terms_changes_are_notices_not_pricing_warnings() -> None:
    seen = []
    for site, versions in OTA_SERIES.items():
        prev: list[str] | None = None
        for name, meaningful in versions:
            lines = text_lines(corpus_path("pages", site, name).read_text(encoding="utf-8"))
            if prev is not None and meaningful:
                diff = diff_lines(prev, lines)
                seen.append((site, name.split(".")[-2]))
                assert pricing_points(diff) == [], (site, name)
                assert severity_of(diff) is Severity.NOTICE, (site, name, summarise(diff))
                assert "changed ·" not in summarise(diff) and "mentions" not in summarise(diff)
            prev = lines
    assert len(seen) == 6 and set(RAISED_BEFORE) <= set(seen)
