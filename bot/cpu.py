"""CPU-heavy work (parsing pages and feeds) off the event loop: the one place that decides
where it runs — a worker process, or a worker thread — and how many run at once.

The event loop acks Slack commands within 3 s and answers ``/healthz``; a 5 MB body parsed
on it would stall both (design §6 invariant 10). A worker thread keeps the loop running only
while the parser hands the GIL back: feedparser's expat callbacks on a 100,000-entry feed
still stole a 155 ms tick (issue 11's loop-lag bench). A worker process shares no GIL, and on
a multi-core machine it also runs beside the loop instead of taking turns with it (issue 14:
first sight of 10,000 pages). So:

* a function marked :func:`process_safe` (top-level, picklable arguments and result, pure)
  runs in a process pool when the caller's ``processes`` setting is above 0. A worker imports
  the module of every job it runs, so jobs live in pure modules (``bot.text``, ``bot.detect``),
  listed in :data:`PRELOAD`; the sources that send them mark them (``process_safe(job)``);
* anything else, or with ``processes=0``, runs in a thread (``asyncio.to_thread``).

The pool is started on the first such call (commands that never parse never start it), in a
thread of its own: the fork server's start and the forks block for 0.1-0.4 s, which the event
loop must not wait out (invariant 10); its callers await the start. It comes from the
``forkserver`` context where there is one (``spawn`` elsewhere: never ``fork`` from a process
running threads and an event loop), preloading only the parsing modules. Workers that die (a
parse killed by the OOM killer) break the pool: the call fails with
:class:`HeavyWorkFailed` and the next call starts a fresh pool. A per-loop semaphore of
``limit`` slots bounds how many bodies are parsed at once in threads (~150 MB for a 5 MB feed);
a worker process parses one at a time, with the next few queued for it (their bytes only), so
the pool takes up to ``QUEUED_PER_WORKER`` jobs per worker when that is more than ``limit``.
"""

from __future__ import annotations

import multiprocessing
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported where used: a worker runs _trampoline, and needs no event loop
    import asyncio

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# Modules a worker imports once, in the fork server, before any job: the pure modules that hold
# the jobs (and the parsers they import), and this one (its _trampoline runs every job). Never
# the sources: they bring aiohttp, pydantic and the settings, ~0.3 s the first parse waited for.
PRELOAD = ["bot.cpu", "bot.text.page_views", "bot.detect.page", "bot.text.feed_entries"]

# One semaphore per event loop: asyncio primitives belong to the loop that first waits on them.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_pool_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
QUEUED_PER_WORKER = 4  # jobs handed to each worker process at once: the one it runs, 3 queued
_process_safe: set[Callable[..., Any]] = set()
_starting: Future[ProcessPoolExecutor] | None = None  # the pool, running or being started
_pool_lock = threading.Lock()


class HeavyWorkFailed(RuntimeError):
    """The worker process running the job died (killed, out of memory) before it answered."""


def process_safe(fn: F) -> F:
    """Mark ``fn`` as fit for a worker process: a top-level function of picklable arguments
    whose result is picklable and which touches no state of the calling process. Its module
    should import no I/O library (a worker imports it) and be in :data:`PRELOAD`."""
    _process_safe.add(fn)
    return fn


async def run_heavy(limit: int, fn: Callable[..., T], /, *args: object, processes: int = 0) -> T:
    """``fn(*args)`` off the loop once a slot (per loop) is free: in the process pool (of
    ``processes`` workers, ``QUEUED_PER_WORKER`` slots each or ``limit`` if more) when ``fn``
    is :func:`process_safe` and ``processes`` > 0, else in a worker thread (``limit`` slots).
    Exceptions reach the caller as raised."""
    import asyncio  # loaded already (the caller awaits); at the top, 34 ms of every worker

    loop = asyncio.get_running_loop()
    to_pool = processes > 0 and fn in _process_safe
    table = _pool_slots if to_pool else _slots
    slots = table.get(loop)
    if slots is None:
        # A worker process parses one body at a time whatever ``limit`` says; a few more
        # queued for it (their bytes only) mean it never idles while its last answer
        # travels back and the loop gets round to sending the next.
        size = max(limit, QUEUED_PER_WORKER * processes) if to_pool else limit
        slots = table[loop] = asyncio.Semaphore(size)
    async with slots:
        if to_pool:
            started = _start_pool(processes)
            try:  # once started, the pool is read without a hop through the loop
                pool = started.result() if started.done() else await asyncio.wrap_future(started)
                ok, value = await loop.run_in_executor(pool, _trampoline, fn, args)
            except BrokenProcessPool:
                _drop_started(started)
                raise HeavyWorkFailed(
                    f"the worker process running {fn.__name__} died before it answered"
                ) from None
            if ok:
                return value  # type: ignore[no-any-return]
            raise _rebuild(value)
        return await asyncio.to_thread(fn, *args)


def _start_pool(processes: int) -> Future[ProcessPoolExecutor]:
    """The pool of ``processes`` workers, started in a thread of its own unless it is started
    (or starting) already; every caller gets the same future until the pool breaks. Starting
    blocks (the fork server imports the parsers, then forks each worker): done by the first
    job's ``submit`` on the event loop's thread, it stalled the loop once per pool."""
    global _starting
    with _pool_lock:
        if _starting is None:
            _starting = Future()
            threading.Thread(
                target=_start, args=(_starting, processes), name="cpu-start", daemon=True
            ).start()
        return _starting


def pool_started() -> bool:
    """Whether this process has started its worker processes (tests and benches ask)."""
    return _starting is not None


def shutdown() -> None:
    """Stop the worker processes (they are also stopped at interpreter exit)."""
    global _starting
    with _pool_lock:
        started, _starting = _starting, None
    if started is None:
        return
    try:
        pool = started.result()
    except BaseException:  # it never started: nothing to stop
        return
    pool.shutdown(wait=True, cancel_futures=True)


def _start(started: Future[ProcessPoolExecutor], processes: int) -> None:
    """Runs in its own thread: the pool, with every worker forked and answering."""
    global _starting
    pool: ProcessPoolExecutor | None = None
    try:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)  # not __main__: the CLI's imports stay out
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=ctx)
        # Each job submitted while no worker is idle forks one more, up to ``processes``.
        for ready in [pool.submit(_ready) for _ in range(processes)]:
            ready.result()
    except BaseException as e:  # a later call tries again
        with _pool_lock:
            if _starting is started:
                _starting = None
        if pool is not None:
            _end(pool)
        started.set_exception(e)
        return
    started.set_result(pool)


def _ready() -> None:
    """A worker's first job: it answers, so it runs."""


def _drop_started(started: Future[ProcessPoolExecutor]) -> None:
    """Forget a pool that broke (its next caller starts a fresh one) and end its workers."""
    global _starting
    with _pool_lock:
        if _starting is started:
            _starting = None
    if started.done() and started.exception() is None:  # else its start ended it
        _end(started.result())


def _end(pool: ProcessPoolExecutor) -> None:
    """Stop a broken pool without waiting. On Python 3.11 its manager thread joins the
    surviving workers, which wait forever on a queue nobody feeds (the interpreter then hangs
    at exit): they are terminated first."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _trampoline(fn: Callable[..., Any], args: tuple[object, ...]) -> tuple[bool, Any]:
    """Runs in the worker. Exceptions travel as (class, args, attributes): pickling one
    directly would call ``cls(*args)`` and lose keyword-only fields such as
    ``SourceError.reason``."""
    try:
        return True, fn(*args)
    except Exception as e:  # every failure goes back to the caller
        return False, (type(e), e.args, dict(vars(e)))


_Raised = tuple[type[BaseException], tuple[object, ...], dict[str, Any]]


def _rebuild(state: _Raised) -> BaseException:
    cls, args, attrs = state
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(attrs)
    return exc
