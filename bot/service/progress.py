"""Progress of long CLI work (checking, importing many targets): a bar on a terminal,
nothing at all when output goes to a file or a pipe, where only the summary line belongs.

The work reports ``(done, total)`` through a plain callable, so the core never imports a
terminal library; the CLI decides whether that callable draws.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Report = Callable[[int, int], None]


def silent(done: int, total: int) -> None:
    """The report of work nobody watches."""


@contextmanager
def bar(label: str, *, enabled: bool | None = None) -> Iterator[Report]:
    """A ``rich`` progress bar on stderr while the block runs, when a person watches (stdout
    and stderr are terminals; ``enabled`` overrides); cleared afterwards so the summary line
    stands alone."""
    if enabled is None:
        enabled = sys.stdout.isatty() and sys.stderr.isatty()
    if not enabled:
        yield silent
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield report
