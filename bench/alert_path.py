"""CPU per alert on its way from detection to a reader (issue 14, the messages of issue 16).

    python -m bench.alert_path [--alerts 2000] [--runs 5]

Every alert of an all-changed cycle is composed (``alert_for``), queued in the outbox as JSON
(``Alert.to_json`` + ``json.dumps``), read back at delivery (``json.loads`` +
``Alert.from_json``), said in its channel's language (``localized``) and written by the
console adapter (``render_text``). This times each step over ``--alerts`` alerts: mostly
pricing-page alerts as the 2,000-page bench cycle makes them (six prices up, one per page,
each with its own page and detection time), plus one of each other common kind (licence,
gated, licence text, feed entry, health) every 10 alerts. Delivery is timed in English and in
Italian. Prints CPU µs per alert (``time.process_time``, the best of ``--runs`` runs) per step.

Only public functions that predate this bench are used, so it runs unchanged against an older
checkout (``PYTHONPATH=/tmp/before python -m bench.alert_path``) for side-by-side numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from adapters.console import render_text
from bot.alerts.compose import alert_for, health_change
from bot.alerts.localize import localized
from bot.config import load_settings
from bot.detect.feed import FeedInfo, entry_alert
from bot.detect.history import History
from bot.detect.repo import detect_repo
from bot.domain.facts import PageView, RepoFacts
from bot.domain.model import Alert, Change, Severity, TargetRef
from bot.sources.hub import HubSource
from bot.sources.page import PageSource
from bot.text.feed_entries import Entry
from bot.text.page_views import pack

T0 = datetime(2026, 11, 26, 11, 49, 7, 123456, tzinfo=UTC)


def _plans(n: int, version: int) -> list[str]:
    price = 20 + (n % 7) + (version - 1) * 5  # as bench/upstream.py's pricing pages
    rows = [
        f"Plan {p} ${price * (p + 1)}/month {(p + 1) * 1000} requests per day, fair use applies"
        for p in range(6)
    ]
    terms = [
        f"Clause {c}: usage of the service {n} is subject to section {c} of the terms; "
        "limits may change with 30 days notice."
        for c in range(12)
    ]
    return [f"Pricing for product {n:05d}", "Plans", *rows, *terms]


def _repo(**facts: Any) -> RepoFacts:
    base = {"exists": True, "private": False, "gated": False, "disabled": False}
    return cast(RepoFacts, {**base, **facts})


async def _page_changes(kinds: int) -> tuple[list[list[Change]], str, PageSource]:
    """The changes of ``kinds`` distinct pricing pages (their prices differ by ``n % 7``)."""
    page = PageSource(load_settings(database_url="sqlite://", allow_private_urls=True))
    history = History(earlier=None, prev_since=None, now=None)
    out = []
    for n in range(kinds):
        old = cast(PageView, {**pack(_plans(n, 1)), "title": f"Pricing {n:05d}"})
        new = cast(PageView, {**pack(_plans(n, 2)), "title": f"Pricing {n:05d}"})
        out.append(page.detect(old, new, history))
    return out, page.label(TargetRef("page", "http://127.0.0.1/p/0")), page


def _others() -> list[Callable[[int, datetime], Alert]]:
    hub = HubSource("https://huggingface.co", None, 5.0, 1)
    label = hub.label(TargetRef("hf", "acme/model"))
    lic = detect_repo(
        _repo(licence={"ids": ["apache-2.0"], "name": None}),
        _repo(licence={"ids": ["cc-by-nc-4.0"], "name": None}),
    )
    gated = detect_repo(_repo(gated="auto"), _repo(gated="manual"))
    failing = [health_change(True, "http", "HTTP 500", 3, T0)]
    info = FeedInfo("feed:https://blog.example/feed", "https://blog.example/feed", "Acme Blog")

    def feed(i: int, at: datetime) -> Alert:
        link = f"https://blog.example/{i}"
        entry = Entry(f"e{i}", f"Acme updates its terms ({i})", link, None, "")
        return entry_alert(info, entry, ["terms"], Severity.NOTICE, at)

    return [
        lambda i, at: alert_for(f"hf:acme/m{i}", label, lic, detected_at=at),
        lambda i, at: alert_for(f"hf:acme/m{i}", label, gated, detected_at=at),
        lambda i, at: alert_for(f"hf:acme/m{i}", label, failing, detected_at=at),
        feed,
    ]


def _best(runs: int, step: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(runs):
        c0 = time.process_time()
        out = step()
        best = min(best, time.process_time() - c0)
    return best, out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n = args.alerts

    pages, page_label, page = await _page_changes(7)
    others = _others()

    def compose() -> list[Alert]:
        out = []
        for i in range(n):
            at = T0 + timedelta(seconds=i * 0.37)
            if i % 10 == 9:
                out.append(others[(i // 10) % len(others)](i, at))
            else:
                target = f"page:http://127.0.0.1/p/{i:05d}"
                out.append(alert_for(target, page_label, pages[i % 7], detected_at=at))
        return out

    steps: list[tuple[str, float]] = []
    cpu, alerts = _best(args.runs, compose)
    steps.append(("compose (alert_for)", cpu))
    cpu, data = _best(args.runs, lambda: [a.to_json() for a in alerts])
    steps.append(("Alert.to_json", cpu))
    cpu, rows = _best(args.runs, lambda: [json.dumps(d) for d in data])
    steps.append(("json.dumps (outbox row)", cpu))
    cpu, loaded = _best(args.runs, lambda: [json.loads(r) for r in rows])
    steps.append(("json.loads", cpu))
    cpu, back = _best(args.runs, lambda: [Alert.from_json(d) for d in loaded])
    steps.append(("Alert.from_json", cpu))
    for lang in ("en", "it"):

        def say(lang: str = lang) -> list[Alert]:
            return [localized(a, lang) for a in back]

        cpu, said = _best(args.runs, say)
        steps.append((f"localized {lang}", cpu))

        def write(said: list[Alert] = said) -> list[str]:
            return [render_text(a) for a in said]

        cpu, _ = _best(args.runs, write)
        steps.append((f"console render_text {lang}", cpu))
    await page.aclose()

    print(f"{n} alerts (9 in 10 pricing pages), CPU µs per alert, best of {args.runs} runs")
    for name, cpu in steps:
        print(f"  {name:<28} {cpu / n * 1e6:8.1f}")
    queue = sum(c for s, c in steps[:3])
    deliver_en = sum(c for s, c in steps[3:5]) + steps[5][1] + steps[6][1]
    deliver_it = sum(c for s, c in steps[3:5]) + steps[7][1] + steps[8][1]
    print(f"  {'compose + queue':<28} {queue / n * 1e6:8.1f}")
    print(f"  {'read back + deliver, en':<28} {deliver_en / n * 1e6:8.1f}")
    print(f"  {'read back + deliver, it':<28} {deliver_it / n * 1e6:8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
