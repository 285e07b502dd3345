"""Store calls from async code run in worker threads, never on the event loop.

One event loop acks slash commands (Slack's 3 s deadline), answers ``/healthz`` and runs the
checks; a store call waits on the database (a SQLite writer in another process holds the lock
for seconds, a PostgreSQL row lock, a slow network), and on the loop thread that wait froze
everything else. :func:`call` moves the wait to a small dedicated pool, so it never competes
with the Hub client's threads in the default executor.

This is safe with SQLite's single-writer rule because every store method is one short
transaction on its own pooled connection (``check_same_thread=False``; a connection is used by
one thread at a time), writers queue on SQLite's busy timeout (see :mod:`bot.store.engine`),
and the claims are single ``UPDATE … RETURNING`` statements, so two threads never both take
the same work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

# A few threads: enough that a slow write never queues the reads behind it, few enough to stay
# under the engine's connection pool (5 + 10 overflow).
_WORKERS = 4
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="store")
        return _pool


async def call(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in a store worker thread; the loop keeps serving meanwhile."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), functools.partial(fn, *args, **kwargs))


async def keep_renewed(
    lease_seconds: float,
    held: Callable[[], Collection[int]],
    renew: Callable[[list[int]], object],
    what: str,
) -> None:
    """Renew the leases of the work ``held()`` names every third of the lease, until
    cancelled, so slow work (a slow upstream, a channel paced at one post a second) is never
    taken by another process meanwhile. A renewal that fails is logged and retried at the next
    turn; a lease that ran out is not revived (``renew`` decides), so the work's fenced write
    records nothing."""
    every = lease_seconds / 3
    while True:
        await asyncio.sleep(every)
        ids = sorted(held())
        if not ids:
            continue
        try:
            await call(renew, ids)
        except Exception as e:  # the next renewal, or the fenced write, decides
            log.warning("could not renew %s leases (%s); retrying", what, type(e).__name__)
