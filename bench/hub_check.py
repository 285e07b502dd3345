"""How long does `policybot check` take over N Hub targets, and how much memory does it need?

Runs the real CLI as a subprocess (so start-up, migrations and the real huggingface_hub client
are all counted) against the fake Hub on 127.0.0.1, three times:

1. first check: every target takes its baseline;
2. second check: nothing changed;
3. third check: 2% of the repos changed licence, so alerts are rendered and delivered to the
   console (stdout is discarded).

Wall time and peak RSS come from /usr/bin/time (GNU time). Usage:

    python bench/hub_check.py --targets 1000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.hub import FakeHub, populate_bench, serve_in_thread  # noqa: E402


def measure(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run ``policybot ARGS``; return wall seconds, peak RSS in MiB and its stderr tail."""
    cmd = ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "bot", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    timing = next(line for line in reversed(lines) if line.startswith("TIME "))
    _, _, rss_kib = timing.split()
    if proc.returncode != 0:
        raise SystemExit(f"policybot {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    summary = next((line for line in lines if line.startswith("checked ")), "")
    return wall, int(rss_kib) // 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8, help="POLICYBOT_HUB_CONCURRENCY")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(FakeHub()) as hub:
        populate_bench(hub, opts.targets)
        watchlist = Path(tmp) / "watches.toml"
        watchlist.write_text(
            "".join(
                f'[[watch]]\ntarget = "hf:bench-org/model-{i:05d}"\n\n' for i in range(opts.targets)
            )
        )
        env = {
            **os.environ,
            "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "HF_ENDPOINT": hub.url,
            "POLICYBOT_HUB_CONCURRENCY": str(opts.concurrency),
            "POLICYBOT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "import", str(watchlist)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        rows = []
        for label in ("baseline", "no change", "2% changed"):
            if label == "2% changed":
                for i in range(0, opts.targets, 50):
                    hub.set_repo(f"bench-org/model-{i:05d}", license="agpl-3.0")
            before = hub.count("/api/models/")
            wall, rss, summary = measure(["check"], env)
            rows.append((label, wall, rss, hub.count("/api/models/") - before, summary))

    print(
        f"policybot check over {opts.targets} Hub targets (fake Hub on 127.0.0.1, "
        f"hub concurrency {opts.concurrency}, SQLite)"
    )
    print(f"{'cycle':<12} {'wall s':>7} {'peak MiB':>9} {'requests':>9}  summary")
    for label, wall, rss, requests, summary in rows:
        print(f"{label:<12} {wall:>7.2f} {rss:>9} {requests:>9}  {summary}")


if __name__ == "__main__":
    main()
