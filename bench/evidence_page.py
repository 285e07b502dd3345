"""Server time of an evidence change page for a 1 MB page: the diff and the HTML (what runs
after the store reads). Target: under 100 ms.

    .venv/bin/python -m bench.evidence_page
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

from bot.evidence import pages
from bot.evidence.queries import ChangeRecord


def main() -> None:
    rng = random.Random(17)
    words = ["licence", "price", "seat", "month", "$20", "terms", "use", "model", "data", "the"]
    old = [" ".join(rng.choice(words) for _ in range(14)) for _ in range(12_000)]  # ~1 MB
    new = list(old)
    for i in rng.sample(range(len(new)), 40):
        new[i] = new[i].replace("the", "a", 1) + " $25"
    now = datetime.now(UTC)
    record = ChangeRecord(1, 1, 2, now, "content", "warning", "Page text changed", None, None,
                          None, None)  # fmt: skip
    size = len("\n".join(old).encode())
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        diff = pages.diff_view(old, new)
        version = pages.Version("Before", now, "", "\n".join(old))
        html = pages.render_change(
            pages.ChangePage(
                "t",
                "page:x",
                "x",
                "web page",
                "warning",
                now,
                "check",
                (record,),
                version,
                pages.Version("After", now, "", "\n".join(new)),
                diff,
                "/t",
                None,
                None,
                now,
            )
        )
        runs.append(time.perf_counter() - start)
    print(f"page of {size / 1e6:.2f} MB, 40 changed lines: best {min(runs) * 1000:.0f} ms, "
          f"median {sorted(runs)[2] * 1000:.0f} ms, html {len(html) / 1e6:.2f} MB")  # fmt: skip

    whole = [line + " x" for line in old]  # every line changed: the bounded fallback
    start = time.perf_counter()
    pages.diff_view(old, whole)
    print(f"every line changed: {(time.perf_counter() - start) * 1000:.0f} ms (bounded summary)")


if __name__ == "__main__":
    main()
