"""policybot against urlwatch 2.29 and against the bare-HTTP floor, side by side, in one run.

Everything runs on this machine against ``bench/upstream.py`` (its own process, 127.0.0.1):

1. ``policybot check`` over N page targets (the console script pip writes for the checkout's
   entry point, :func:`policybot_command`), SQLite in a temp
   dir, watches imported with ``policybot import`` from a generated TOML with
   ``select = "main"``); one warm-up cycle takes the baselines and ETags, then the measured
   cycle is the no-change one (every request conditional, every answer a 304);
2. urlwatch 2.29 on the same pages (``url`` + ``css: main`` + ``html2text``), installed by
   this script into its own venv under ``~/.cache/policybot-bench`` (never a project
   dependency; skipped with a message when it cannot be installed); cache warmed by one run,
   then the no-change run is measured (each no-change cycle three times; the median);
3. the floor: a bare aiohttp loop doing N conditional GETs, concurrency 20 (its loop time and
   its whole process);
4. peak memory of a cycle over 10,000 of 100,000 targets in the store (see ``--big``);
5. slash-command ack latency during a cycle over 2,000 page targets (``bench/slack_ack.py``).

Whole processes are measured with GNU time (wall, user+sys CPU, peak RSS). policybot runs with
``POLICYBOT_HTTP_PER_HOST`` = 20 (the default 4 is a politeness limit per remote host; every
page here is on one host) unless ``--per-host`` says otherwise.

Usage::

    python bench/compare_urlwatch.py                 # everything
    python bench/compare_urlwatch.py --sizes 500 --skip-big --skip-slack
    python bench/compare_urlwatch.py --sizes 2000 --skip-read --skip-big --skip-slack \
        --skip-urlwatch --before /tmp/before     # no-change cycle, before and after side by side

Both checkouts are byte-compiled first (``compile_checkout``; ``--no-compile`` measures them as
they are).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "policybot-bench"
URLWATCH_VENV = CACHE / "urlwatch-venv"
GNU_TIME = "/usr/bin/time"


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mib: float
    note: str = ""

    def cells(self) -> str:
        return f"{self.wall:>7.2f} {self.cpu:>7.2f} {self.rss_mib:>8.0f}"


def timed(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[Run, str, str]:
    """Run ``cmd`` under GNU time; its wall, user+sys CPU and peak RSS, and its output."""
    marker = "BENCHTIME"
    full = [GNU_TIME, "-f", f"{marker} %e %U %S %M", *cmd]
    proc = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    lines = proc.stderr.splitlines()
    stats = next((ln for ln in reversed(lines) if ln.startswith(marker)), None)
    if proc.returncode != 0 or stats is None:
        raise SystemExit(
            f"{' '.join(cmd[:4])} … failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    _, wall, user, sys_, rss = stats.split()
    stderr = "\n".join(ln for ln in lines if not ln.startswith(marker))
    return Run(float(wall), float(user) + float(sys_), int(rss) / 1024), proc.stdout, stderr


REPEAT = 3  # measured runs of each no-change cycle; the median (by wall time) is reported


def median_run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[Run, str, str]:
    """``REPEAT`` runs of a cycle that changes nothing; the one with the median wall time
    (other work on a shared machine makes single wall times noisy)."""
    runs = sorted((timed(cmd, env, cwd) for _ in range(REPEAT)), key=lambda r: r[0].wall)
    run, out, err = runs[len(runs) // 2]
    run.note = "wall of the runs: " + " / ".join(f"{r[0].wall:.2f}" for r in runs)
    return run, out, err


# -- the upstream -----------------------------------------------------------------------------


class UpstreamProcess:
    def __init__(self, pages: int, feeds: int = 0, hub: int = 0) -> None:
        self.args = ["--pages", str(pages), "--feeds", str(feeds), "--hub", str(hub)]
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, object] = {}

    def __enter__(self) -> UpstreamProcess:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "upstream.py"), *self.args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"upstream did not start: {line!r}")
        self.info = json.loads(line[6:])
        return self

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def upstream_stats(base: str) -> dict[str, int]:
    """Answers the upstream gave so far, by status (``{"200": …, "304": …}``)."""
    with urllib.request.urlopen(f"{base}/stats", timeout=10) as resp:
        return {k: int(v) for k, v in json.loads(resp.read()).items()}


def answered(base: str, before: dict[str, int]) -> str:
    after = upstream_stats(base)
    got = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    return f"upstream answered {got.get('304', 0)}x 304, {got.get('200', 0)}x 200"


def page_url(base: str, n: int) -> str:
    return f"{base}/p/{n:05d}"


# -- policybot --------------------------------------------------------------------------------


def policybot_env(tmp: Path, per_host: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "POLICYBOT_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "POLICYBOT_ALLOW_PRIVATE_URLS": "true",
        "POLICYBOT_HTTP_PER_HOST": str(per_host),
        "POLICYBOT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **(extra or {}),
    }


_TIMED_CHECK = """
import asyncio, time
from bot.cli import build_service
from bot.config import load_settings

async def main():
    service = build_service(load_settings())
    try:
        began = time.perf_counter()
        await service.check_and_deliver([])
        print(time.perf_counter() - began)
    finally:
        await service.aclose()

asyncio.run(main())
"""


def policybot_command(root: Path, tmp: Path) -> list[str]:
    """``policybot`` as users run it: the console script pip writes for ``root``'s entry point
    (pyproject). Not ``python -m bot.cli``: the worker processes import the main module again
    (multiprocessing's forkserver), so what it imports is paid once per worker."""
    module, function = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"
    ]["scripts"]["policybot"].split(":")
    script = tmp / "policybot"
    script.write_text(
        f"import sys\nfrom {module} import {function}\n"
        f"if __name__ == '__main__':\n    sys.exit({function}())\n"
    )
    return [sys.executable, str(script)]


def bench_policybot(
    base: str, n: int, per_host: int, root: Path = ROOT
) -> tuple[Run, Run, str, float]:
    """Warm-up (baseline) cycle and the measured no-change cycle of ``policybot check``
    (``root``: the checkout measured)."""
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        watchlist = tmp / "watches.toml"
        watchlist.write_text(
            "".join(
                f'[[watch]]\ntarget = "page:{page_url(base, i)}"\nselect = "main"\n\n'
                for i in range(n)
            )
        )
        env = policybot_env(tmp, per_host, {"PYTHONPATH": str(root)})
        cli = policybot_command(root, tmp)
        subprocess.run(
            [*cli, "import", str(watchlist)], env=env, cwd=root, check=True, capture_output=True
        )
        warm, _, _ = timed([*cli, "check"], env, cwd=root)
        before = upstream_stats(base)
        measured, _, err = median_run([*cli, "check"], env, cwd=root)
        note = f"{answered(base, before)} in {REPEAT} runs; {_summary(err)}"
        # The same cycle timed inside one process (what a `policybot run` replica does every
        # tick, start-up excluded): the figure to set beside the floor's loop.
        inner = sorted(
            float(timed([sys.executable, "-c", _TIMED_CHECK], env, cwd=root)[1].strip())
            for _ in range(3)
        )
        return warm, measured, note, inner[1]


def compile_checkout(root: Path) -> None:
    """Byte-compile a checkout's modules, as ``pip install`` does for an installed policybot.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (this machine's shells set it) an uncompiled
    checkout compiles its ~90 modules from source in every process, about 0.2 s of CPU that
    no installed policybot pays, while the floor process and urlwatch load their libraries
    compiled. Stale files are harmless: Python checks each against its source."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "bot", "adapters"],
        cwd=root,
        check=True,
        capture_output=True,
    )


# -- urlwatch ---------------------------------------------------------------------------------


def urlwatch_python() -> Path | None:
    """urlwatch 2.29 in its own venv (created on first use); None, with a message, if that fails."""
    python = URLWATCH_VENV / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import urlwatch, lxml, cssselect, html2text; print(urlwatch.__version__)",
    ]
    if python.exists():
        ok = subprocess.run(probe, capture_output=True, text=True)
        if ok.returncode == 0 and ok.stdout.strip() == "2.29":
            return python
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"installing urlwatch 2.29 into {URLWATCH_VENV} …", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(URLWATCH_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "urlwatch==2.29",
                "lxml",
                "cssselect",
                "html2text",
            ],
            check=True,
        )
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"urlwatch could not be installed ({e}); skipping its column", file=sys.stderr)
        return None
    return python


def bench_urlwatch(python: Path, base: str, n: int) -> tuple[Run, Run, str]:
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        jobs = "---\n".join(
            f"name: page {i:05d}\nurl: {page_url(base, i)}\nfilter:\n  - css: main\n  - html2text\n"
            for i in range(n)
        )
        (tmp / "urls.yaml").write_text(jobs)
        (tmp / "hooks.py").write_text("")
        env = {
            **os.environ,
            "HOME": str(tmp),
            "XDG_CONFIG_HOME": str(tmp),
            "XDG_CACHE_HOME": str(tmp),
        }
        cmd = [
            str(python.parent / "urlwatch"),
            "--urls",
            str(tmp / "urls.yaml"),
            "--config",
            str(tmp / "urlwatch.yaml"),
            "--hooks",
            str(tmp / "hooks.py"),
            "--cache",
            str(tmp / "cache.db"),
        ]
        warm, _, _ = timed(cmd, env, cwd=tmp)
        before = upstream_stats(base)
        measured, out, _err = median_run(cmd, env, cwd=tmp)
        last = (out.strip().splitlines() or [""])[-1]
        return warm, measured, f"{answered(base, before)} in {REPEAT} runs; {last}"


# -- first sight and every page changed -------------------------------------------------------


def bump_all(base: str) -> None:
    req = urllib.request.Request(f"{base}/bump-all", method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        resp.read()


class PolicybotSide:
    """One policybot checkout (this one, or ``--before``'s) with its own database."""

    def __init__(self, root: Path, tmp: Path, base: str, n: int, per_host: int) -> None:
        self.root, self.tmp = root, tmp
        self.env = policybot_env(tmp, per_host, {"PYTHONPATH": str(root)})
        self.cli = policybot_command(root, tmp)
        watchlist = tmp / "watches.toml"
        watchlist.write_text(
            "".join(
                f'[[watch]]\ntarget = "page:{page_url(base, i)}"\nselect = "#pricing"\n\n'
                for i in range(n)
            )
        )
        subprocess.run(
            [*self.cli, "import", str(watchlist)],
            env=self.env,
            cwd=root,
            check=True,
            capture_output=True,
        )

    def cycle(self) -> tuple[Run, str]:
        run, out, err = timed([*self.cli, "check"], self.env, cwd=self.root)
        alerts = out.count("Content changed")
        return run, f"{_summary(err)}; {alerts} alerts printed"


class UrlwatchSide:
    def __init__(self, python: Path, tmp: Path, base: str, n: int) -> None:
        self.tmp = tmp
        jobs = "---\n".join(
            f"name: page {i:05d}\nurl: {page_url(base, i)}\nfilter:\n  - css: '#pricing'\n"
            f"  - html2text\n"
            for i in range(n)
        )
        (tmp / "urls.yaml").write_text(jobs)
        (tmp / "hooks.py").write_text("")
        self.env = {
            **os.environ,
            "HOME": str(tmp),
            "XDG_CONFIG_HOME": str(tmp),
            "XDG_CACHE_HOME": str(tmp),
        }
        self.cmd = [
            str(python.parent / "urlwatch"),
            *("--urls", str(tmp / "urls.yaml"), "--config", str(tmp / "urlwatch.yaml")),
            *("--hooks", str(tmp / "hooks.py"), "--cache", str(tmp / "cache.db")),
        ]

    def cycle(self) -> tuple[Run, str]:
        run, out, _ = timed(self.cmd, self.env, cwd=self.tmp)
        last = (out.strip().splitlines() or [""])[-1]
        return run, last[:120]


def bench_read_cycles(
    n: int, per_host: int, python: Path | None, before: Path | None
) -> list[tuple[str, str, Run, str]]:
    """First sight of ``n`` pages (fresh state, every page fetched, parsed and stored), then
    the cycle where every page's price changed (the upstream bumps them all): policybot,
    policybot at ``before`` and urlwatch each do both, on the same upstream, one after the
    other. Rows: (cycle, who, run, note)."""
    rows: list[tuple[str, str, Run, str]] = []
    with tempfile.TemporaryDirectory() as tmp_s, UpstreamProcess(n) as up:
        tmp = Path(tmp_s)
        sides: list[tuple[str, PolicybotSide | UrlwatchSide]] = []
        (tmp / "pb").mkdir()
        sides.append(("policybot", PolicybotSide(ROOT, tmp / "pb", up.url, n, per_host)))
        if before is not None:
            (tmp / "before").mkdir()
            side = PolicybotSide(before, tmp / "before", up.url, n, per_host)
            sides.append(("policybot before", side))
        if python is not None:
            (tmp / "uw").mkdir()
            sides.append(("urlwatch 2.29", UrlwatchSide(python, tmp / "uw", up.url, n)))
        for cycle in ("first sight", "all changed"):
            if cycle == "all changed":
                bump_all(up.url)
            for who, one in sides:
                run, note = one.cycle()
                rows.append((cycle, who, run, note))
    return rows


# -- the floor --------------------------------------------------------------------------------


async def _floor(base: str, n: int, concurrency: int, etags: dict[str, str]) -> dict[str, float]:
    """N GETs, ``concurrency`` at a time, on one session; conditional when ``etags`` has them."""
    import aiohttp

    urls = [page_url(base, i) for i in range(n)]
    sem = asyncio.Semaphore(concurrency)
    statuses: list[int] = []
    async with aiohttp.ClientSession() as session:

        async def get(url: str) -> None:
            headers = {"If-None-Match": etags[url]} if url in etags else {}
            async with sem, session.get(url, headers=headers) as resp:
                await resp.read()
                etags[url] = resp.headers.get("ETag", "")
                statuses.append(resp.status)

        start = time.perf_counter()
        await asyncio.gather(*(get(u) for u in urls))
        loop_s = time.perf_counter() - start
    return {"loop_s": loop_s, "not_modified": statuses.count(304)}


def floor_worker(base: str, n: int, etag_file: str) -> None:
    """One process: read the ETags an earlier pass saved, do N conditional GETs, print JSON."""
    path = Path(etag_file)
    etags = json.loads(path.read_text()) if path.exists() else {}
    got = asyncio.run(_floor(base, n, 20, etags))
    path.write_text(json.dumps(etags))
    print(json.dumps(got))


def bench_floor(base: str, n: int) -> tuple[Run, float, int]:
    """The warm-up pass (unconditional GETs, saves the ETags) is not measured."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--floor-worker",
            base,
            str(n),
            f"{tmp}/etags.json",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        timed(cmd, env)
        run, out, _ = median_run(cmd, env)
    got = json.loads(out.strip().splitlines()[-1])
    return run, float(got["loop_s"]), int(got["not_modified"])


# -- 100,000 targets in the store, a cycle over 10,000 ----------------------------------------

_CYCLE = """
import asyncio, sys
from datetime import UTC, datetime
from bot.cli import build_service
from bot.config import load_settings

async def main():
    service = build_service(load_settings())
    try:
        result = await service.check_due()
        sent = await service.flush_deliveries()
        print(result.summary(), f"; {sent.sent} delivered", file=sys.stderr)
    finally:
        await service.aclose()

asyncio.run(main())
"""


def fill_store(db: Path, base: str, total: int, due: int) -> None:
    """``total`` page targets watched in the console, the first ``due`` of them due now."""
    import sqlalchemy as sa

    from bot.store import Store
    from bot.store.tables import subscriptions, targets

    t0 = datetime.now(UTC)
    store = Store.open(f"sqlite:///{db}")
    rows = [
        {
            "ref": f"page:{base}/p/{i:05d}" if i < due else f"page:{base}/other/{i:06d}",
            "kind": "page",
            "options": {},
            "created_at": t0,
            "next_check_at": t0 - timedelta(seconds=1) if i < due else t0 + timedelta(days=1),
            "failures": 0,
            "gone_streak": 0,
            "health_alerted": False,
        }
        for i in range(total)
    ]
    with store.engine.begin() as c:
        c.execute(targets.insert(), rows)
        ids = [r[0] for r in c.execute(sa.select(targets.c.id))]
        c.execute(
            subscriptions.insert(),
            [
                {
                    "target_id": i,
                    "channel": "console",
                    "created_at": t0,
                    "created_by": "bench",
                    "min_severity": "info",
                    "options": {"select": "main"},  # the subscription's view (migration 0003)
                }
                for i in ids
            ],
        )
    store.close()


def bench_big(total: int, due: int, per_host: int, root: Path = ROOT) -> tuple[Run, Run, str, str]:
    """Two scheduler ticks (``check_due`` + ``flush``, what ``policybot run`` does every
    tick) in a fresh process each: the baseline of the ``due`` pages, then their no-change
    cycle; the other targets are scheduled a day ahead. ``root``: the checkout measured."""
    from bot.store import Store
    from bot.store.tables import targets

    with tempfile.TemporaryDirectory() as tmp_s, UpstreamProcess(due) as up:
        tmp = Path(tmp_s)
        started = time.perf_counter()
        fill_store(tmp / "bench.db", up.url, total, due)
        print(f"  filled {total} targets in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        env = policybot_env(tmp, per_host, {"PYTHONPATH": str(root)})
        cmd = [sys.executable, "-c", _CYCLE]
        first, _, err1 = timed(cmd, env, cwd=root)
        # Make the checked ones (rescheduled about an hour ahead) due again.
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        now = datetime.now(UTC)
        with store.engine.begin() as c:
            c.execute(
                targets.update()
                .where(targets.c.next_check_at < now + timedelta(hours=3))
                .values(next_check_at=now - timedelta(seconds=1))
            )
        store.close()
        second, _, err2 = timed(cmd, env, cwd=root)
        return first, second, _summary(err1), _summary(err2)


def _summary(err: str) -> str:
    return next((ln for ln in err.splitlines() if ln.startswith("checked ")), err[-300:])


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--floor-worker":
        floor_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--per-host", type=int, default=20, help="POLICYBOT_HTTP_PER_HOST")
    parser.add_argument("--skip-urlwatch", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-slack", action="store_true")
    parser.add_argument("--skip-nochange", action="store_true", help="only the read cycles")
    parser.add_argument("--skip-read", action="store_true", help="no first-sight/changed cycles")
    parser.add_argument(
        "--before",
        type=Path,
        help="another policybot checkout (e.g. `git archive <commit>` unpacked) measured "
        "beside this one in the first-sight and all-changed cycles",
    )
    parser.add_argument(
        "--big", type=int, nargs=2, default=[100_000, 10_000], metavar=("TOTAL", "CYCLE")
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="measure the checkouts as they are, without byte-compiling them first (see "
        "compile_checkout: with PYTHONDONTWRITEBYTECODE set every process compiles them)",
    )
    opts = parser.parse_args()
    if not Path(GNU_TIME).exists():
        raise SystemExit("GNU time (/usr/bin/time) is needed to measure whole processes")
    python = None if opts.skip_urlwatch else urlwatch_python()

    checkouts = [ROOT] + ([opts.before] if opts.before else [])
    if not opts.no_compile:
        for root in checkouts:
            compile_checkout(root)
    print(
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"policybot POLICYBOT_HTTP_PER_HOST={opts.per_host}, SQLite; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + ("; checkouts as they are" if opts.no_compile else "; checkouts byte-compiled")
    )
    header = f"{'':<34} {'wall s':>7} {'CPU s':>7} {'peak MiB':>8}"
    if not opts.skip_read:
        for n in opts.sizes:
            print(f"\n== {n} pricing pages (select #pricing): first sight, then all changed ==")
            print(header)
            rows = bench_read_cycles(n, opts.per_host, python, opts.before)
            for cycle, who, run, note in rows:
                print(f"{cycle + ', ' + who:<34} {run.cells()}   {note}")
            for cycle in ("first sight", "all changed"):
                walls = {who: run.wall for c, who, run, _ in rows if c == cycle}
                ratios = [
                    f"{who} / urlwatch: {wall / walls['urlwatch 2.29']:.2f}x"
                    for who, wall in walls.items()
                    if who != "urlwatch 2.29" and "urlwatch 2.29" in walls
                ]
                if ratios:
                    print(f"{cycle}: " + "; ".join(ratios))
    with UpstreamProcess(max(opts.sizes)) as up:
        for n in [] if opts.skip_nochange else opts.sizes:
            print(f"\n== {n} pages, no-change cycle (warm-up cycle first) ==")
            print(header)
            warm, pb, summary, inner = bench_policybot(up.url, n, opts.per_host)
            print(f"{'policybot check (warm-up)':<34} {warm.cells()}")
            print(f"{'policybot check':<34} {pb.cells()}   {summary}; {pb.note}")
            print(f"{'policybot, the cycle alone':<34} {inner:>7.2f}   (in-process, median of 3)")
            if opts.before:
                _, old_pb, old_summary, old_inner = bench_policybot(
                    up.url, n, opts.per_host, opts.before
                )
                print(f"{'policybot before':<34} {old_pb.cells()}   {old_summary}; {old_pb.note}")
                print(f"{'policybot before, the cycle alone':<34} {old_inner:>7.2f}")
            if python is not None:
                uw_warm, uw, note = bench_urlwatch(python, up.url, n)
                print(f"{'urlwatch 2.29 (warm-up)':<34} {uw_warm.cells()}")
                print(f"{'urlwatch 2.29':<34} {uw.cells()}   {note}; {uw.note}")
            floor, loop_s, n304 = bench_floor(up.url, n)
            print(
                f"{'bare aiohttp, whole process':<34} {floor.cells()}   "
                f"{n304}/{n} were 304; {floor.note}"
            )
            print(f"{'bare aiohttp, the loop alone':<34} {loop_s:>7.2f}")
            line = (
                f"policybot cycle / floor loop: {inner / loop_s:.1f}x; "
                f"policybot / floor loop: {pb.wall / loop_s:.1f}x; "
                f"policybot / floor process: {pb.wall / floor.wall:.1f}x"
            )
            if python is not None:
                line += f"; urlwatch / policybot: {uw.wall / pb.wall:.1f}x"
            if opts.before:
                line += (
                    f"; before / floor process: {old_pb.wall / floor.wall:.1f}x "
                    f"(CPU: after {pb.cpu / floor.cpu:.1f}x, before {old_pb.cpu / floor.cpu:.1f}x)"
                )
            print(line)
    if not opts.skip_big:
        total, due = opts.big
        print(f"\n== {total} targets in the store, a cycle over {due} pages (scheduler tick) ==")
        print(header)
        sides = [("", ROOT)] + ([("before: ", opts.before)] if opts.before else [])
        for who, root in sides:
            first, second, s1, s2 = bench_big(total, due, opts.per_host, root)
            print(f"{who + 'baseline cycle':<34} {first.cells()}   {s1}")
            print(f"{who + 'no-change cycle':<34} {second.cells()}   {s2}")
    if not opts.skip_slack:
        print("\n== /policy ack latency during a 2,000-page cycle (bench/slack_ack.py) ==")
        with UpstreamProcess(2000) as up:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "slack_ack.py"),
                    "--targets",
                    "2000",
                    "--commands",
                    "200",
                    "--pages",
                    up.url,
                    "--per-host",
                    str(opts.per_host),
                    "--load-spacing",
                    "0.01",
                    "--during-only",
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                check=True,
            )


if __name__ == "__main__":
    main()
