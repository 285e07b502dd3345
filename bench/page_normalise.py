"""Time to normalise and diff a 1 MB page (issue 5).

    python -m bench.page_normalise [--runs 5]

Builds a 1 MB terms-and-pricing page (text-heavy: 1,700 paragraphs, 60 pricing tables, inline
scripts and styles, nav and footer), a second version with five real changes, and times:
parse + select + normalise of each version (``html_lines``) and the diff (``diff_lines``),
plus the same for the real 400 KB Next.js page in ``../shared/corpus/pages/chatgpt`` when it is
there. Prints the median and the worst of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bot.text.diff import diff_lines, same_text, summarise
from bot.text.html_text import html_lines

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages" / "chatgpt"
WORDS = [
    *[
        "service",
        "terms",
        "account",
        "content",
        "provider",
        "licence",
        "user",
        "data",
        "fee",
        "plan",
        "seat",
        "month",
    ],
    *[
        "agreement",
        "party",
        "notice",
        "law",
        "right",
        "use",
        "access",
        "limit",
        "warranty",
        "liability",
    ],
]


def build_page(target_bytes: int = 1_000_000, seed: int = 1) -> str:
    rng = random.Random(seed)
    parts = [
        "<!DOCTYPE html><html><head><title>Terms</title><style>",
        "body{font:14px sans-serif}" * 200,
        "</style></head><body><nav>",
        "".join(f'<a href="/p{i}">Link {i}</a>' for i in range(200)),
        "</nav><main>",
    ]
    size = sum(map(len, parts))
    n = 0
    while size < target_bytes:
        n += 1
        if n % 30 == 0:
            rows = "".join(
                f"<tr><th>Plan {k}</th><td>${rng.randint(5, 99)} per seat per month</td>"
                f"<td>{rng.randint(1, 50)} projects</td></tr>"
                for k in range(6)
            )
            chunk = f"<h2>Pricing {n}</h2><table>{rows}</table>"
        elif n % 47 == 0:
            chunk = f'<script nonce="{rng.random()}">window.__s={{"n":{n}}}</script>'
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))
            chunk = f"<p class='para' data-n='{n}'>{n}. {text}.</p>\n"
        parts.append(chunk)
        size += len(chunk)
    parts.append("</main><footer>© 2026</footer></body></html>")
    return "".join(parts)


def changed(page: str) -> str:
    """Five real edits spread over the page."""
    out = page
    for marker, new in (
        ("<h2>Pricing 30</h2>", "<h2>Pricing 30 (new)</h2>"),
        ("<p class='para' data-n='200'>200.", "<p class='para' data-n='200'>200. Added clause."),
        ("<p class='para' data-n='901'>901.", "<p class='para' data-n='901'>Nine hundred and one."),
        ("<p class='para' data-n='1400'>1400.", "<p class='para' data-n='1400'>1400 (amended)."),
    ):
        out = out.replace(marker, new, 1)
    return out.replace("per seat per month", "per seat per year", 1)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples)


def report(label: str, old_html: str | bytes, new_html: str | bytes, runs: int) -> None:
    old_lines, new_lines = html_lines(old_html), html_lines(new_html)
    diff = diff_lines(old_lines, new_lines)
    normalise = timed(lambda: html_lines(new_html), runs)
    compare = timed(
        lambda: same_text(old_lines, new_lines) or diff_lines(old_lines, new_lines), runs
    )
    both = timed(lambda: diff_lines(html_lines(old_html), html_lines(new_html)), runs)
    size = len(new_html) / 1e6
    print(f"{label}: {size:.2f} MB, {len(new_lines)} lines; diff: {summarise(diff)}")
    for name, (median, worst) in (
        ("normalise one version", normalise),
        ("diff two versions", compare),
        ("normalise both + diff", both),
    ):
        print(f"  {name:<24}median {median * 1000:7.1f} ms  max {worst * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    page = build_page()
    report("synthetic terms+pricing page", page, changed(page), args.runs)
    snapshots = sorted(CORPUS.glob("raw-html.*.html")) if CORPUS.is_dir() else []
    if len(snapshots) == 2:
        old, new = (p.read_bytes() for p in snapshots)
        report("real ChatGPT EU terms (Next.js)", old, new, args.runs)


if __name__ == "__main__":
    main()
