"""How long the first parse of a process waits for its worker pool (issue 14): the fork
server's start and preload (``bot.cpu.PRELOAD``), the fork of the workers and one small page
job, timed from the first ``run_heavy`` call to its result, in a fresh process each run.
Also the preload's own import time (``python -X importtime``, the sum of its top-level
imports) in a fresh interpreter.

Each checkout (this one, and ``--before``'s) is measured in turn, alternating, ``--runs``
times; the medians are printed side by side (the machine's load drifts: never compare
numbers from separate runs).

Usage::

    python bench/worker_start.py [--runs 5] [--processes 2] [--before /tmp/before] \
        [--as-console-script]
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh process of the measured checkout. The page job is looked up on
# bot.sources.page, where the PageSource that sends it finds it in every version.
_FIRST_JOB = r"""
import sys, time

BODY = b"<html><main><h1>Pricing</h1><p>Pro $20 per month</p></main></html>"

async def main(processes):
    import bot.sources.page as page
    from bot import cpu
    t0 = time.perf_counter()
    await cpu.run_heavy(2, page.extract_views, BODY, "text/html", "https://a.test/", {"{}": {}},
                        processes=processes)
    t1 = time.perf_counter()
    await cpu.run_heavy(2, page.extract_views, BODY, "text/html", "https://a.test/", {"{}": {}},
                        processes=processes)
    t2 = time.perf_counter()
    print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f}")

if __name__ == "__main__":  # a worker imports the main module again (as __mp_main__)
    import asyncio
    import bot.sources.page  # loaded before the clock starts, as in the bot
    from bot import cpu
    asyncio.run(main(int(sys.argv[1])))
    cpu.shutdown()
"""


def console_script(root: Path, where: Path) -> Path:
    """The same, as the main script pip writes for ``root``'s ``policybot`` entry point: it
    imports the entry point's module first, and each worker imports the script again (as
    ``__mp_main__``) before its first job."""
    scripts = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    module, function = scripts["scripts"]["policybot"].split(":")
    script = where / f"policybot_{abs(hash(str(root)))}.py"
    script.write_text(f"from {module} import {function}\n" + _FIRST_JOB)
    return script


def preload_of(root: Path) -> list[str]:
    """``PRELOAD`` as ``root``'s bot/cpu.py says it (read, not imported: importing bot.cpu
    would count in the measured imports)."""
    tree = ast.parse((root / "bot" / "cpu.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "PRELOAD":
            return list(ast.literal_eval(node.value))
    raise SystemExit(f"no PRELOAD in {root}/bot/cpu.py")


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def import_ms(root: Path) -> float:
    """Milliseconds of the preload's imports, as ``-X importtime`` counts them."""
    code = "import " + ", ".join(preload_of(root))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if name.strip() == "site":  # the interpreter's own start-up ends here
            total = 0
        elif not name.startswith("  "):  # a top-level import of the -c line
            total += int(cumulative)
    return total / 1000


def first_job_ms(root: Path, processes: int, script: Path | None) -> tuple[float, float]:
    """(first job, second job) in milliseconds, in a fresh process of ``root``: ``python -c``
    (no main module for the workers to import), or the main ``script``."""
    source = ["-c", _FIRST_JOB] if script is None else [str(script)]
    proc = subprocess.run(
        [sys.executable, *source, str(processes)],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        check=True,
    )
    first, second = proc.stdout.split()
    return float(first), float(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--before", type=Path)
    parser.add_argument(
        "--as-console-script",
        action="store_true",
        help="run from the main script pip writes for the `policybot` entry point",
    )
    opts = parser.parse_args()
    sides = [("after", ROOT)] + ([("before", opts.before)] if opts.before else [])
    tmp = Path(tempfile.mkdtemp())
    scripts = {
        root: console_script(root, tmp) if opts.as_console_script else None for _, root in sides
    }
    for _, root in sides:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "bot"], cwd=root, check=True)
    got: dict[str, dict[str, list[float]]] = {
        name: {"import": [], "first": [], "second": []} for name, _ in sides
    }
    for _ in range(opts.runs):
        for name, root in sides:
            got[name]["import"].append(import_ms(root))
            first, second = first_job_ms(root, opts.processes, scripts[root])
            got[name]["first"].append(first)
            got[name]["second"].append(second)
    how = "from the policybot console script" if opts.as_console_script else "python -c"
    print(f"load average {os.getloadavg()[0]:.2f}; medians of {opts.runs} runs, alternating; {how}")
    for name, root in sides:
        row = {k: statistics.median(v) for k, v in got[name].items()}
        print(
            f"{name:<7} preload imports {row['import']:6.1f} ms · first job {row['first']:6.1f} ms"
            f" · second job {row['second']:5.1f} ms   ({', '.join(preload_of(root))})"
        )
        print(f"        first job runs: {', '.join(f'{x:.0f}' for x in got[name]['first'])}")


if __name__ == "__main__":
    main()
