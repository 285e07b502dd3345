"""Heavy work leaves the bot's process (issue 14): page and feed bodies are parsed in worker
processes, errors come back as raised (with their fields), a worker that dies fails its one
job and the next job gets a fresh pool, and nothing unmarked or with ``processes=0`` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tomllib
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bot import cpu
from bot.domain.errors import FailureReason, SourceError
from tests import cpu_jobs
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.web import FakeWeb


async def test_marked_work_runs_in_another_process_and_unmarked_in_this_one() -> None:
    assert await cpu.run_heavy(2, cpu_jobs.whose_pid, None, processes=2) != os.getpid()
    assert cpu.pool_started()
    assert await cpu.run_heavy(2, cpu_jobs.not_marked, processes=2) == os.getpid()
    assert await cpu.run_heavy(2, cpu_jobs.whose_pid, None, processes=0) == os.getpid()


async def test_the_event_loop_never_waits_for_the_workers_to_start() -> None:
    """Starting the pool (the fork server with its imports, then a fork per worker) blocks for
    0.1-0.4 s: it happens in a thread of its own, never on the event loop's thread (invariant
    10), and the first job awaits it. Seen with the interpreter's profiling hooks on every
    thread: where each worker process is started."""
    cpu.shutdown()
    starts: list[str] = []
    start_code = BaseProcess.start.__code__

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is start_code:
            starts.append(threading.current_thread().name)

    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        assert await cpu.run_heavy(2, cpu_jobs.whose_pid, None, processes=2) != os.getpid()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    assert len(starts) == 2, starts  # one per worker
    assert threading.current_thread().name not in starts, starts


async def test_an_error_in_the_worker_keeps_its_class_and_reason() -> None:
    with pytest.raises(SourceError, match="refused in the worker") as err:
        await cpu.run_heavy(2, cpu_jobs.refuse, FailureReason.SELECTOR_EMPTY, processes=2)
    assert err.value.reason == "selector-empty"


async def test_a_dead_worker_fails_its_job_and_the_next_job_gets_a_new_pool() -> None:
    with pytest.raises(cpu.HeavyWorkFailed, match="died"):
        await cpu.run_heavy(2, cpu_jobs.die, None, processes=2)
    assert await cpu.run_heavy(2, cpu_jobs.whose_pid, None, processes=2) != os.getpid()


async def test_a_page_check_extracts_every_view_in_a_worker_process(
    clock: Clock, tmp_path: Path, web: FakeWeb
) -> None:
    cpu.shutdown()
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", parse_processes=2), clock)
    try:
        page = "<main><p id=a>Pro $20</p><p id=b>Team $40 · updated 3 minutes ago</p></main>"
        web.set_page("/p", page)
        assert "Baseline:" in await bot.run(f"watch page:{web.url}/p --select '#a'")
        assert cpu.pool_started(), "the body went to a worker process"
        assert "Baseline:" in await bot.run(f"watch page:{web.url}/p --select '#b'")
        web.set_page("/p", page.replace("$40", "$45").replace("3 minutes", "4 minutes"))
        bot.clock.advance(hours=2)
        sent, text = await bot.cycle()
        assert sent == 1 and "{+$45+}" in text and "minutes" not in text, text
        web.set_page("/p", "<main><p id=c>gone</p></main>")
        bot.clock.advance(hours=2)
        await bot.cycle()
        target = bot.store.get_target(f"page:{web.url}/p")
        assert target is not None and target.last_error_reason == "selector-empty"
    finally:
        await bot.close()


# What a worker process must never import: the bot's I/O, settings and chat libraries (the
# first parse of a cycle waited ~0.3 s for them, issue 14), nor the sources that bring them,
# nor an event loop it never runs.
HEAVY = (
    "aiohttp",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "typer",
    "slack_sdk",
    "discord",
    "asyncio",
)
HEAVY_OF_OURS = ("bot.config", "bot.net", "bot.sources")


async def test_a_worker_imports_the_parsers_and_nothing_of_the_bots_io() -> None:
    """Asked of a fresh worker: what its fork server preloaded, then what it holds once every
    job marked process_safe has reached it (a function arrives by reference: unpickling it
    imports its module, as it does when that job runs)."""
    import bot.sources  # noqa: F401  (its sources mark their jobs, as in the bot)

    jobs = tuple(cpu._process_safe)  # every job the bot may send, and this file's own
    assert {"extract_views", "extract_and_detect", "detect_each", "parse_body"} <= {
        job.__name__ for job in jobs
    }
    cpu.shutdown()  # a new pool: workers that ran no other test's jobs
    preloaded = await cpu.run_heavy(2, cpu_jobs.loaded_modules, processes=1)
    assert set(cpu.PRELOAD) <= set(preloaded), "the fork server imported every preload module"
    after_jobs = await cpu.run_heavy(2, cpu_jobs.loaded_modules, *jobs, processes=1)
    for modules in (preloaded, after_jobs):
        heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY_OF_OURS)]
        assert heavy == [], f"a worker imported {heavy[:10]}"
    assert set(after_jobs) - set(preloaded) == set(), "every job's module was preloaded"


# The console script pip writes for an entry point, with the call under its guard replaced by a
# question to a worker (which imports this script again, as __mp_main__, before its first job).
CONSOLE_SCRIPT = """import sys
from {module} import {function}
if __name__ == "__main__":
    import asyncio, json
    import bot.sources
    from bot import cpu
    from tests import cpu_jobs
    jobs = tuple(cpu._process_safe)
    print(json.dumps(asyncio.run(cpu.run_heavy(1, cpu_jobs.loaded_modules, *jobs, processes=1))))
    cpu.shutdown()
"""


def test_a_worker_of_the_policybot_command_imports_nothing_of_the_bots_io(tmp_path: Path) -> None:
    """multiprocessing's forkserver makes a worker import its parent's main module again: for
    ``policybot``, the console script of pyproject's entry point. Its module must be as light
    as the preload, or every worker imports the whole bot after the fork."""
    root = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    module, function = pyproject["project"]["scripts"]["policybot"].split(":")
    script = tmp_path / "policybot"
    script.write_text(CONSOLE_SCRIPT.format(module=module, function=function))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY_OF_OURS)]
    assert heavy == [], f"a worker of `policybot` imported {heavy[:10]}"
