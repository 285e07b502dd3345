"""CPU-heavy work (parsing pages and feeds) in worker threads, a bounded number at once.

The event loop acks Slack commands within 3 s and answers ``/healthz``; a 5 MB body parsed
on it would stall both (design §6 invariant 10). In a worker thread the loop keeps running
(the parsers are Python code, which hands the GIL back every few milliseconds), and the
semaphore bounds how many such parses hold their memory (~150 MB for a 5 MB feed) at once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# One semaphore per event loop: asyncio primitives belong to the loop that first waits on them.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def run_heavy(limit: int, fn: Callable[..., T], /, *args: object) -> T:
    """``fn(*args)`` in a worker thread once one of ``limit`` slots (per loop) is free."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(limit)
    async with slots:
        return await asyncio.to_thread(fn, *args)
