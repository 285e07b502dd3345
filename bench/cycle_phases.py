"""Where an all-changed ``policybot check`` spends its time, by phase: start-up imports, the
checks, and the flush of the alerts they queued (wall and main-process CPU of each).

The same setup as ``compare_urlwatch.py``'s read cycles (N pricing pages, ``select =
"#pricing"``, SQLite): a first-sight cycle, every page's price bumped, then one ``policybot
check`` whose two phases are timed from inside the process. The checks run as one batch
(``Checker.check_ids`` over every target) rather than the CLI's progress-bar groups. Worker
processes' CPU is not in the "CPU" figures: compare with the whole process's in
``compare_urlwatch.py``.

Usage::

    python bench/cycle_phases.py --pages 2000 [--runs 2] [--before /tmp/before]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compare_urlwatch import ROOT, PolicybotSide, UpstreamProcess, bump_all

# Runs inside the measured process: the CLI as users run it, with its two phases timed.
_TIMED_CHECK = r"""
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
import bot.cli as cli
from bot.service.executor import Service
t1, c1 = time.perf_counter(), time.process_time()

async def timed(self, refs=(), progress=None):
    ids = self.store.watched_target_ids()
    a, ca = time.perf_counter(), time.process_time()
    result = await self.checker.check_ids(ids)
    b, cb = time.perf_counter(), time.process_time()
    sent = await self.dispatcher.flush()
    c, cc = time.perf_counter(), time.process_time()
    print(
        f"PHASES import {t1 - t0:.2f} s ({c1 - c0:.2f} CPU); checks {b - a:.2f} s "
        f"({cb - ca:.2f} CPU); flush {c - b:.2f} s ({cc - cb:.2f} CPU)",
        file=sys.stderr,
    )
    return result, sent

Service.check_and_deliver = timed
sys.argv = ["policybot", "check"]
cli.main()
"""


def phases(root: Path, pages: int) -> str:
    """One first sight, one bump, one timed all-changed check of ``root``'s policybot."""
    with tempfile.TemporaryDirectory() as tmp, UpstreamProcess(pages) as up:
        side = PolicybotSide(root, Path(tmp), up.url, pages, 20)
        first, _summary = side.cycle()
        bump_all(up.url)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _TIMED_CHECK],
            env=side.env,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        line = next(x for x in proc.stderr.splitlines() if x.startswith("PHASES"))
        return (
            f"first sight {first.wall:.2f} s ({first.cpu:.2f} CPU); all changed {wall:.2f} s: "
            + line.removeprefix("PHASES ")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--before", type=Path, help="another checkout, measured alternately")
    opts = parser.parse_args()
    sides = [("now", ROOT)] + ([("before", opts.before.resolve())] if opts.before else [])
    for run in range(opts.runs):
        for name, root in sides:
            load = os.getloadavg()[0]
            print(f"run {run + 1} {name} (load {load:.1f}): {phases(root, opts.pages)}")


if __name__ == "__main__":
    main()
