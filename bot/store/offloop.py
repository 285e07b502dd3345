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
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

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
