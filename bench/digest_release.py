"""What releasing due digests costs: N held alerts over C channels → one digest per channel.

    python -m bench.digest_release --held 10000 --channels 100

Also times the idle case (nothing due), which the outbox flush pays every few seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.model import Alert, Severity, TargetRef
from bot.store import NewDelivery, Store
from bot.store.held import release_due

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        ids = [
            store.ensure_target(TargetRef("hf", f"acme/m{n}"), T0)[0].id
            for n in range(args.targets)
        ]
        for n in range(args.held):
            tid = ids[n % len(ids)]
            alert = Alert(
                f"Access changed — acme/m{n}", Severity.WARNING, f"hf:acme/m{n}", "m", ("x",)
            )
            d = NewDelivery(
                f"slack:C{n % args.channels}", alert.to_json(), status="digest", due=DUE
            )
            store.queue_deliveries(tid, T0, [d])
        started = time.perf_counter()
        for _ in range(100):
            release_due(store, T0)
        idle = (time.perf_counter() - started) / 100
        started = time.perf_counter()
        queued = release_due(store, DUE)
        busy = time.perf_counter() - started
        print(
            f"{args.held} held alerts over {args.channels} channels ({store.engine.dialect.name})"
        )
        print(f"  nothing due (every flush)   {idle * 1000:8.2f} ms")
        print(f"  release all, {queued} digests  {busy * 1000:8.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
