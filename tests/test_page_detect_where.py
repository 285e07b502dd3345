"""Where a changed page's diff runs (issue 14): in a worker process when ``parse_processes``
> 0, so its CPU never takes the GIL from the bot's event loop; in a worker thread of the
bot's process with ``parse_processes=0`` (never on the event loop itself). Either way in the
job that extracts the page's views: one round trip per changed page.

Observed with the interpreter's own profiling hooks (``sys.setprofile`` for this thread,
``threading.setprofile`` for every thread started after it), which see each call of the
page diff (:func:`bot.detect.page.detect_view`) made in this process, and in which thread.
Nothing of ours is replaced.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from bot import cpu
from bot.detect.page import detect_each, detect_view, extract_and_detect
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.web import FakeWeb

PAGE = "<main><p id=a>Pro $20 per month</p><p id=b>Team $40 per seat</p></main>"


@contextmanager
def diffs_here() -> Iterator[list[tuple[str, str]]]:
    """(function, thread name) of each call, in this process meanwhile, of the page diff
    (``detect_view``) and of the jobs that run it (``extract_and_detect``: extraction and
    diff in one job; ``detect_each``: the diff alone)."""
    seen: list[tuple[str, str]] = []
    watched = {f.__code__: f.__name__ for f in (detect_view, extract_and_detect, detect_each)}

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in watched:
            seen.append((watched[frame.f_code], threading.current_thread().name))

    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(None)
        threading.setprofile(None)


async def a_price_change(bot: Bot, web: FakeWeb) -> list[str]:
    """Two views of one page watched (by two channels), then both their prices changed:
    what the check found, one line per view."""
    web.set_page("/p", PAGE)
    assert "Baseline:" in await bot.run(f"watch page:{web.url}/p --select '#a'")
    watched = await bot.run(f"watch page:{web.url}/p --select '#b' --to slack:C0AAAAAAA")
    assert "Baseline:" in watched, watched
    web.set_page("/p", PAGE.replace("$20", "$25").replace("$40", "$45"))
    bot.clock.advance(hours=2)
    [outcome] = (await bot.service.checker.check_due()).outcomes
    return sorted(str(point) for change in outcome.changes for point in change.points)


FOUND = ["Pro: $20 → $25 per month (+25 %)", "Team: $40 → $45 per seat (+12 %)"]


async def price_change_with(
    processes: int, clock: Clock, tmp_path: Path, web: FakeWeb
) -> tuple[list[str], list[tuple[str, str]]]:
    """The price points a bot with ``processes`` workers found, and where it diffed."""
    cpu.shutdown()
    with diffs_here() as seen:
        bot = Bot(
            make_settings(f"sqlite:///{tmp_path / 'bot.db'}", parse_processes=processes), clock
        )
        try:
            found = await a_price_change(bot, web)
        finally:
            await bot.close()
    return found, list(seen)


async def test_with_processes_a_page_is_diffed_in_a_worker_process(
    clock: Clock, tmp_path: Path, web: FakeWeb
) -> None:
    found, seen = await price_change_with(2, clock, tmp_path, web)
    assert found == FOUND, found
    assert cpu.pool_started()
    assert seen == [], f"diffed in this process, in {seen}"


async def test_without_processes_a_page_is_diffed_in_a_thread_off_the_loop(
    clock: Clock, tmp_path: Path, web: FakeWeb
) -> None:
    found, seen = await price_change_with(0, clock, tmp_path, web)
    assert found == FOUND, found
    assert not cpu.pool_started()
    # Every job ran in a worker thread, never on the loop's (the main) thread.
    assert threading.main_thread().name not in {thread for _f, thread in seen}, seen
    # One job per check (each watch's first check, then the changed page), and the changed
    # page's two views diffed in the job that extracted them: no second job for the diff.
    assert [f for f, _t in seen] == [
        "extract_and_detect",  # the first watch: a baseline
        "extract_and_detect",  # the second watch: the first view's text unchanged, no diff
        "extract_and_detect",  # the changed page: both views extracted, then diffed
        "detect_view",
        "detect_view",
    ], seen
