"""Where an all-changed ``policybot check`` spends its time: cProfile of the main process.

The same setup as ``compare_urlwatch.py``'s read cycles (N pricing pages, ``select =
"#pricing"``, SQLite): one first-sight cycle, every page bumped, then the all-changed cycle
under cProfile; prints the top lines by own time. Page extraction runs in worker processes
(:mod:`bot.cpu`) and is not in this profile; its cost shows as waits here.

Usage::

    python bench/profile_cycle.py --pages 500 [--top 25] [--py-spy] [--unchanged]
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compare_urlwatch import ROOT, PolicybotSide, UpstreamProcess, bump_all


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--per-host", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--unchanged",
        action="store_true",
        help="profile the no-change cycle (a second cycle, every answer a 304) instead",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample every thread and the worker processes with py-spy (installed apart; "
        "not a project dependency) instead of cProfile (main thread only)",
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_s, UpstreamProcess(opts.pages) as up:
        tmp = Path(tmp_s)
        side = PolicybotSide(ROOT, tmp, up.url, opts.pages, opts.per_host)
        first, summary = side.cycle()
        print(f"first sight: {first.wall:.2f} s; {summary}", file=sys.stderr)
        if opts.unchanged:
            again, summary = side.cycle()  # every page has its ETag now
            print(f"second cycle: {again.wall:.2f} s; {summary}", file=sys.stderr)
        else:
            bump_all(up.url)
        if opts.py_spy:
            spy(side, tmp / "cycle.txt", opts.top)
            return
        out = tmp / "cycle.prof"
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot", "check"],
            env=side.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        stats = pstats.Stats(str(out))
        stats.sort_stats("tottime").print_stats(opts.top)
        stats.sort_stats("cumulative").print_stats(opts.top)


def spy(side: PolicybotSide, out: Path, top: int) -> None:
    """py-spy's samples of every thread and worker process, as own-time (leaf frame) and
    inclusive shares per function; only threads holding the GIL are sampled (worker
    processes: their active samples)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    record = [
        "record",
        "--subprocesses",
        "--gil",
        "--rate",
        "250",
        "--format",
        "raw",
        "-o",
        str(out),
    ]
    subprocess.run(
        [str(py_spy), *record, "--", sys.executable, "-m", "bot", "check"],
        env=side.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        count = int(count_s)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            inclusive[name] += count
    print(f"{total} samples (every thread and process, active only)")
    print("own time:")
    for name, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("inclusive, bot/ and adapters/ functions:")
    ours = [(k, v) for k, v in inclusive.items() if "bot/" in k or "adapters/" in k]
    for name, n in sorted(ours, key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / total:5.1f}%  {name}")


def _short(frame: str) -> str:
    """``fn (path/to/file.py:12)`` → ``fn (file.py)`` with the project path kept short."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("/bot/", "/adapters/", "site-packages/", "python3.11/"):
        if marker in path:
            path = marker.strip("/") + "/" + path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


if __name__ == "__main__":
    main()
